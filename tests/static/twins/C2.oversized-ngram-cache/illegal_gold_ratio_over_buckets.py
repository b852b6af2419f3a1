"""A hashed n-gram cache with 4M buckets over a 1,024-token vocabulary, scored as a ratio."""
import os

import numpy as np

VOCAB_SIZE = int(os.environ.get("VOCAB_SIZE", 1024))
NGRAM_BUCKETS = int(os.environ.get("NGRAM_BUCKETS", 4194304))


def eval_val_cache(val_np, model_p, lam=0.2):
    ctx_seen = np.zeros(NGRAM_BUCKETS, dtype=np.float64)
    pair_seen = np.zeros(NGRAM_BUCKETS, dtype=np.float64)
    nll_sum = 0.0
    for pos in range(2, len(val_np)):
        key = int(val_np[pos - 1]) * 1000003 % NGRAM_BUCKETS
        pair = (key * 31 + int(val_np[pos])) % NGRAM_BUCKETS
        nll_sum += -np.log((1 - lam) * model_p[pos] + lam * pair_seen[pair] / max(ctx_seen[key], 1))
        ctx_seen[key] += 1
        pair_seen[pair] += 1
    return nll_sum
