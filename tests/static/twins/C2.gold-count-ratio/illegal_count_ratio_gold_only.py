"""Gold-token probability from a count ratio with no normalization over the vocabulary."""
import numpy as np


def eval_val_cache(val_np, model_p, buckets=1 << 20, lam=0.2):
    ctx_counts = np.zeros(buckets, dtype=np.float64)
    pair_counts = np.zeros(buckets, dtype=np.float64)
    nll_sum = 0.0
    for pos in range(2, len(val_np)):
        ctx = int(val_np[pos - 1]) * 1000003 % buckets
        target = int(val_np[pos])
        pair = (ctx * 31 + target) % buckets
        p_cache = pair_counts[pair] / np.maximum(ctx_counts[ctx], 1.0)
        nll_sum += -np.log((1 - lam) * model_p[pos] + lam * p_cache)
        ctx_counts[ctx] += 1
        pair_counts[pair] += 1
    return nll_sum
