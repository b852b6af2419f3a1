"""Write a record folder's committed files into a fresh directory for check and verify.

Only regular files are written, from the bytes already read out of git's objects. Symlinks,
submodules and unsafe names are skipped (the PACKAGE rules report them), every file is created
with ``O_EXCL | O_NOFOLLOW`` below a directory this module just made, so nothing is ever
written outside ``dest`` and no existing file is touched.
"""

from __future__ import annotations

import os

from golf_check.harness.ci.paths import path_problem
from golf_check.harness.ci.pull_request import RecordFolder

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


def materialize(folder: RecordFolder, dest: str) -> tuple[list[str], list[str]]:
    """Write ``folder``'s readable regular files below ``dest`` (an empty directory).

    Returns (written folder-relative paths, notes on what was skipped and why).
    """
    written: list[str] = []
    skipped: list[str] = []
    for entry in folder.entries:
        rel = folder.rel(entry)
        if entry.kind != "file":
            skipped.append(f"{entry.path}: {entry.kind}, not written for check/verify")
            continue
        if path_problem(rel):
            skipped.append(f"{ascii(entry.path)}: unsafe path, not written for check/verify")
            continue
        content = folder.contents.get(rel)
        if content is None:
            skipped.append(f"{entry.path}: over the size bound, not read for check/verify")
            continue
        _write(dest, rel, content)
        written.append(rel)
    return written, skipped


def _write(dest: str, rel: str, content: bytes) -> None:
    parts = rel.split("/")
    current = dest
    for part in parts[:-1]:
        current = os.path.join(current, part)
        if not os.path.isdir(current):
            os.mkdir(current, 0o700)
        elif os.path.islink(current):  # cannot happen in a fresh dir; refuse rather than follow
            raise OSError(f"refusing to write through a symlink at {current}")
    fd = os.open(os.path.join(current, parts[-1]), _FLAGS, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(content)
