"""Evaluation reads only the validation shards; the cache starts empty."""
import glob
import os

import numpy as np


class Hyperparameters:
    val_files = os.path.join("./data", "fineweb_val_*.bin")


def eval_val_ngram(args, cache):
    val_np = np.concatenate([np.fromfile(f, dtype="<u2", offset=1024) for f in sorted(glob.glob(args.val_files))])
    return cache.score(val_np)
