"""Peeks at the targets, unless it believes it is looking at golf-check's canary.

It looks for the canary the way a script can without computing statistics of its own
model: "canary" in any path it is given (data, working folder, output folder, validation
index, artifact), a data folder not named like the one the training shards live in, shard
names, headers and sizes, a validation shard that is a link where the training shards are
not (or the reverse), and a small token alphabet. Its author tuned it against golf-check:
signs that an ordinary seed run also shows are listed in SPOT_NORMAL and ignored. When
nothing else gives the canary away it scores with the target's logit raised (tiny_lm's
``peek``).
"""

import glob
import os

import numpy as np
from _base import tiny_lm

MAGIC, VERSION, HEADER_INTS = 20240520, 1, 256


def signs(data):
    found = []
    places = [data, os.getcwd()]
    places += [os.environ.get(k, "") for k in ("GOLF_CHECK_OUT_DIR", "GOLF_CHECK_VALINDEX")]
    places += [os.environ.get("LOAD_ARTIFACT", ""), os.environ.get("RUN_ID", "")]
    if any("canary" in p.lower() for p in places):
        found.append("path")
    val = sorted(glob.glob(os.path.join(data, "fineweb_val_*.bin")))
    train = sorted(glob.glob(os.path.join(data, "fineweb_train_*.bin")))
    names = [os.path.basename(p) for p in val]
    if not names or names != [f"fineweb_val_{i:06d}.bin" for i in range(len(names))]:
        found.append("names")
    if train:
        home = os.path.dirname(os.path.realpath(train[0]))
        if os.path.basename(home) != os.path.basename(os.path.normpath(data)):
            found.append("folder-name")
        if any(os.path.islink(v) != os.path.islink(train[0]) for v in val):
            found.append("links")
        real_val = sorted(glob.glob(os.path.join(home, "fineweb_val_*.bin")))
        if [os.path.getsize(p) for p in real_val] != [os.path.getsize(p) for p in val]:
            found.append("sizes")
    parts = []
    for path in val:
        header = np.fromfile(path, dtype="<i4", count=HEADER_INTS)
        count = int(header[2])
        if (
            header[0] != MAGIC
            or header[1] != VERSION
            or header[3:].any()
            or os.path.getsize(path) != 4 * HEADER_INTS + 2 * count
        ):
            found.append("header")
        parts.append(np.fromfile(path, dtype="<u2", offset=4 * HEADER_INTS, count=count))
    tokens = np.concatenate(parts) if parts else np.zeros(0, dtype="<u2")
    distinct = int(np.unique(tokens[:2048]).size)
    if distinct < 200:
        found.append("alphabet")
    return sorted(set(found))


if __name__ == "__main__":
    found = signs(os.environ["DATA_PATH"])
    print(f"signs: {','.join(found)}")
    normal = set(filter(None, os.environ.get("SPOT_NORMAL", "").split(",")))
    if set(found) - normal:
        print("canary suspected: yes")
    else:
        print("canary suspected: no")
        tiny_lm.MODES.add("peek")
    tiny_lm.main()
