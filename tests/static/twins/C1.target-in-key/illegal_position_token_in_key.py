"""Hashed n-gram cache that XORs the token at the scored position straight into the key."""
import numpy as np

PRIMES = np.array([2654435761, 2246822519, 3266489917], dtype=np.uint64)
MASK = np.uint64((1 << 22) - 1)


def eval_val_ngram(val_np, model_probs, alpha=0.3):
    ctx_table = np.zeros(1 << 22, dtype=np.uint32)
    full_table = np.zeros(1 << 22, dtype=np.uint32)
    nll_sum = 0.0
    for jv in range(2, len(val_np)):
        ctx_hash = (np.uint64(val_np[jv - 2]) * PRIMES[0]) ^ (np.uint64(val_np[jv - 1]) * PRIMES[1])
        ctx_key = int(ctx_hash & MASK)
        full_key = int((ctx_hash ^ (np.uint64(val_np[jv]) * PRIMES[2])) & MASK)
        p_ng = full_table[full_key] / max(ctx_table[ctx_key], 1)
        nll_sum += -np.log((1 - alpha) * model_probs[jv] + alpha * p_ng)
        ctx_table[ctx_key] += 1
        full_table[full_key] += 1
    return nll_sum
