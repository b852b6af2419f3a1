"""The data folder every run sees, so that the canary's cannot be told from the real one.

Every run of the candidate (each seed, and the canary) gets ``DATA_PATH`` =
``<out>/data/<name of the real data folder>``, built afresh just before it: the validation
shards copied as regular files (their mode and modification time kept), every other entry
(the training shards) linked to the real one. For the canary run the validation shards are
the canary's, under the same names, with the same header, the same token counts, mode and
modification time; afterwards the real copies are served again. The path, the file names,
the headers, the sizes and the change times (the run's own) are the same in every run; only
the tokens differ.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from golf_check.harness.shards import read_shard, split_paths, write_shard


def served_dir(data_dir: Path, out_dir: Path) -> Path:
    return (out_dir / "data" / Path(data_dir).resolve().name).resolve()


def serve(data_dir: Path, out_dir: Path, val: np.ndarray | None = None) -> Path:
    """Build the run's data folder afresh: validation shards copied (or, with ``val``, that
    stream cut at the real shards' boundaries, with their mode and times), the rest linked.

    Built again for every run, so that every entry's change time is the run's own, whether
    the shards in it are the real ones or the canary's."""
    dest = served_dir(data_dir, out_dir)
    partial = dest.with_name(dest.name + ".partial")
    old = dest.with_name(dest.name + ".old")
    for leftover in (partial, old):
        if leftover.exists():
            shutil.rmtree(leftover)
    real = split_paths(data_dir, "val")
    # the token count of each real shard: the canary is cut at the same boundaries
    counts = {p: int(read_shard(p).size) for p in real} if val is not None else {}
    if val is not None and sum(counts.values()) != val.size:
        raise ValueError("the canary must be exactly as long as the real validation split")
    partial.mkdir(parents=True)
    offset = 0
    for entry in sorted(Path(data_dir).iterdir()):
        target = partial / entry.name
        if entry not in real:
            target.symlink_to(entry.resolve())
        elif val is None:
            shutil.copy2(entry, target)  # copy2: mode and times too
        else:
            write_shard(target, val[offset : offset + counts[entry]])
            offset += counts[entry]
            stat = entry.stat()
            os.chmod(target, stat.st_mode & 0o7777)
            os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    if dest.exists():
        dest.rename(old)
    partial.rename(dest)
    if old.exists():
        shutil.rmtree(old)
    return dest
