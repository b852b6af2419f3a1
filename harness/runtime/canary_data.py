"""The data folder every run sees, so that the canary's cannot be told from the real one.

Every run of the candidate (each seed, and the canary) gets ``DATA_PATH`` =
``<out>/data/<name of the real data folder>``: the validation shards copied as regular files
(their mode and modification time kept), every other entry (the training shards) linked to
the real one. Before the canary run golf-check writes the canary's validation shards into
that same folder, under the same names, with the same header, the same token counts, mode
and modification time; afterwards it puts the real copies back. The path, the file names, the
headers and the sizes are the same in both runs; only the tokens differ.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from harness.shards import read_shard, split_paths, write_shard


def served_dir(data_dir: Path, out_dir: Path) -> Path:
    return (out_dir / "data" / Path(data_dir).resolve().name).resolve()


def serve(data_dir: Path, out_dir: Path) -> Path:
    """The run's data folder (built on first use): validation shards copied, the rest linked."""
    dest = served_dir(data_dir, out_dir)
    if dest.is_dir():
        return dest
    partial = dest.with_name(dest.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    val = {p.name for p in split_paths(data_dir, "val")}
    for entry in sorted(Path(data_dir).iterdir()):
        if entry.name in val:
            shutil.copy2(entry, partial / entry.name)  # copy2: mode and times too
        else:
            (partial / entry.name).symlink_to(entry.resolve())
    partial.rename(dest)
    return dest


def shard_sizes(data_dir: Path) -> list[tuple[str, int]]:
    """Name and token count of each validation shard, in order."""
    return [(p.name, int(read_shard(p).size)) for p in split_paths(data_dir, "val")]


@contextmanager
def canary_in_place(data_dir: Path, out_dir: Path, tokens: np.ndarray) -> Iterator[Path]:
    """Put ``tokens`` (as long as the real split) in the served folder's validation shards,
    cut at the real shards' boundaries; restore the real copies on exit."""
    dest = serve(data_dir, out_dir)
    real = split_paths(data_dir, "val")
    sizes = shard_sizes(data_dir)
    if sum(n for _, n in sizes) != tokens.size:
        raise ValueError("the canary must be exactly as long as the real validation split")
    try:
        offset = 0
        for path, (name, count) in zip(real, sizes, strict=True):
            target = dest / name
            write_shard(target, tokens[offset : offset + count])
            stat = path.stat()
            os.chmod(target, stat.st_mode & 0o7777)
            os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
            offset += count
        yield dest
    finally:
        for path in real:
            shutil.copy2(path, dest / path.name)
