"""N-gram cache evaluation with a full rescore pass off by default (a warning, not a failure)."""
import os

import numpy as np

NGRAM_FULL_RESCORE = bool(int(os.environ.get("NGRAM_FULL_RESCORE", "0")))


def eval_ngram(val_np, probs_fn):
    nll = np.zeros(len(val_np))
    for pos in range(1, len(val_np)):
        nll[pos] = -np.log(probs_fn(val_np[:pos])[val_np[pos]])
    if NGRAM_FULL_RESCORE:
        for pos in range(1, len(val_np)):
            nll[pos] = -np.log(probs_fn(val_np)[val_np[pos]])
    return nll.sum()
