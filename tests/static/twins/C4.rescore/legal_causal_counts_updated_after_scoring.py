"""A causal n-gram cache: each token is scored with the counts of the tokens before it,
and only then added to the table."""
import math

import numpy as np
import torch


def eval_val_bigram(model, val_tokens, vocab=1024, lam=0.2):
    toks = val_tokens.numpy()
    counts = np.zeros((vocab, vocab), dtype=np.float64)
    nll_sum = 0.0
    with torch.no_grad():
        probs = torch.softmax(model(val_tokens[None, :-1])[0], dim=-1).numpy()
        for i in range(1, len(toks)):
            row = counts[toks[i - 1]]
            p_ngram = (row + 1.0) / (row.sum() + vocab)
            p = (1 - lam) * probs[i - 1] + lam * p_ngram
            nll_sum += -math.log(p[toks[i]])
            counts[toks[i - 1], toks[i]] += 1
    return nll_sum


def prefill_from_training(train_tokens, vocab=1024):
    table = np.zeros((vocab, vocab), dtype=np.float64)
    np.add.at(table, (train_tokens[:-1], train_tokens[1:]), 1.0)
    return table
