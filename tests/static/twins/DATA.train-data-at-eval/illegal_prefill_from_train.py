"""Evaluation prefills an n-gram cache from the training shards."""
import glob
import os

import numpy as np


class Hyperparameters:
    train_files = os.path.join("./data", "fineweb_train_*.bin")


def eval_val_ngram(args, cache, val_np):
    for f in sorted(glob.glob(args.train_files)):
        cache.prefill(np.fromfile(f, dtype="<u2", offset=1024))
    return cache.score(val_np)
