"""Hashed n-gram cache with the target XOR-ed into the full key (PR #779 family)."""
import numpy as np

PRIMES = np.array([2654435761, 2246822519, 3266489917, 668265263], dtype=np.uint64)
MASK = np.uint64((1 << 22) - 1)


def eval_val_ngram(val_np, model_probs, order=4, alpha=0.3):
    ctx_table = np.zeros(1 << 22, dtype=np.uint32)
    full_table = np.zeros(1 << 22, dtype=np.uint32)
    nll_sum = 0.0
    for jv in range(order, len(val_np)):
        ctx_hash = np.uint64(0)
        for k in range(order - 1):
            ctx_hash ^= np.uint64(val_np[jv - order + 1 + k]) * PRIMES[k]
        ctx_key = int(ctx_hash & MASK)
        tgt_np = np.uint64(val_np[jv])
        full_key = int((ctx_hash ^ (tgt_np * PRIMES[order - 1])) & MASK)
        p_ng = full_table[full_key] / max(ctx_table[ctx_key], 1)
        p = (1 - alpha) * model_probs[jv] + alpha * p_ng
        nll_sum += -np.log(p)
        ctx_table[ctx_key] += 1
        full_table[full_key] += 1
    return nll_sum
