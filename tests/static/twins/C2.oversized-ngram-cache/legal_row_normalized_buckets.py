"""A hashed context cache with 65,536 rows, each a count row over the whole vocabulary."""
import os

import numpy as np

VOCAB_SIZE = int(os.environ.get("VOCAB_SIZE", 1024))
NGRAM_BUCKETS = int(os.environ.get("NGRAM_BUCKETS", 65536))


def eval_val_cache(val_np, model_p, lam=0.2, alpha=0.5):
    counts = np.zeros((NGRAM_BUCKETS, VOCAB_SIZE), dtype=np.float64)
    nll_sum = 0.0
    for pos in range(2, len(val_np)):
        row = int(val_np[pos - 1]) * 1000003 % NGRAM_BUCKETS
        p_cache = (counts[row] + alpha) / (counts[row].sum() + alpha * VOCAB_SIZE)
        nll_sum += -np.log((1 - lam) * model_p[pos] + lam * p_cache[int(val_np[pos])])
        counts[row, int(val_np[pos])] += 1
    return nll_sum
