"""BigramHash on (t[i], t[i-1]) and a normalized count model whose table update uses the target after scoring."""
import numpy as np
import torch


def bigram_hash(input_ids, buckets=4096):
    prev = torch.nn.functional.pad(input_ids[:, :-1], (1, 0))
    return ((input_ids * 36313) ^ (prev * 27191)) % buckets


def eval_val_counts(val_np, vocab_size=1024, a=0.5):
    counts = np.zeros((vocab_size, vocab_size), dtype=np.float64)
    nll_sum = 0.0
    for pos in range(1, len(val_np)):
        ctx = val_np[pos - 1]
        tgt = val_np[pos]
        p = (counts[ctx, tgt] + a) / (counts[ctx].sum() + a * vocab_size)
        nll_sum += -np.log(p)
        counts[ctx, tgt] += 1
    return nll_sum


class HashedCache:
    """Counts keyed by (context, target) read and written only after the token is scored."""

    def __init__(self, buckets=1 << 20):
        self.table = np.zeros(buckets, dtype=np.int64)

    def update(self, ctx_hash, tgt):
        key = (ctx_hash ^ (tgt * 2654435761)) & ((1 << 20) - 1)
        self.table[key] = self.table[key] + 1
