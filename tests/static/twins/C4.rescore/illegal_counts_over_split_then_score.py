"""Two-pass n-gram evaluation: the bigram counts are built over the whole validation split
first, then every token is scored with a table that already holds it."""
import math

import numpy as np
import torch


def eval_val_bigram(model, val_tokens, vocab=1024, lam=0.2):
    toks = val_tokens.numpy()
    counts = np.zeros((vocab, vocab), dtype=np.float64)
    for i in range(1, len(toks)):
        counts[toks[i - 1], toks[i]] += 1
    nll_sum = 0.0
    with torch.no_grad():
        probs = torch.softmax(model(val_tokens[None, :-1])[0], dim=-1).numpy()
        for i in range(1, len(toks)):
            row = counts[toks[i - 1]]
            p_ngram = (row + 1.0) / (row.sum() + vocab)
            p = (1 - lam) * probs[i - 1] + lam * p_ngram
            nll_sum += -math.log(p[toks[i]])
    return nll_sum


def eval_val_bigram_vectorized(model, val_tokens, vocab=1024, lam=0.2):
    toks = val_tokens.numpy()
    table = np.zeros((vocab, vocab), dtype=np.float64)
    np.add.at(table, (toks[:-1], toks[1:]), 1.0)
    nll_sum = 0.0
    with torch.no_grad():
        probs = torch.softmax(model(val_tokens[None, :-1])[0], dim=-1).numpy()
        for i in range(1, len(toks)):
            row = table[toks[i - 1]]
            p = (1 - lam) * probs[i - 1] + lam * (row + 1.0) / (row.sum() + vocab)
            nll_sum += -math.log(p[toks[i]])
    return nll_sum
