"""A second-pass switch given as a fraction of the tokens, off by default ("0.0")."""
import os

import numpy as np

SECOND_PASS_FRAC = float(os.environ.get("SECOND_PASS_FRAC", "0.0"))


def eval_ngram(val_np, probs_fn):
    nll = np.zeros(len(val_np))
    for pos in range(1, len(val_np)):
        nll[pos] = -np.log(probs_fn(val_np[:pos])[val_np[pos]])
    return nll.sum(), SECOND_PASS_FRAC
