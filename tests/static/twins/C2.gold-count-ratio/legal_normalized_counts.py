"""Dirichlet-smoothed bigram counts normalized over the whole vocabulary row."""
import numpy as np


def eval_val_cache(val_np, model_p, vocab_size=1024, a=0.5, lam=0.2):
    table_counts = np.zeros((vocab_size, vocab_size), dtype=np.float64)
    nll_sum = 0.0
    for pos in range(1, len(val_np)):
        ctx = int(val_np[pos - 1])
        target = int(val_np[pos])
        p_cache = (table_counts[ctx, target] + a) / (table_counts[ctx].sum() + a * vocab_size)
        nll_sum += -np.log((1 - lam) * model_p[pos] + lam * p_cache)
        table_counts[ctx, target] += 1
    return nll_sum
