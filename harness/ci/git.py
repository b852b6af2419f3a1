"""Read a repository through ``git`` subprocesses: refs, the diff, trees and blobs.

Everything is read from git's object database (the commits being compared), never from the
work tree, so a dirty checkout or a file swapped on disk after the commit cannot change the
verdict. No command here talks to a remote.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass

from golf_check.harness.errors import InputError

# git file modes (see gitformat-index): regular, executable, symlink, submodule.
MODE_FILE = "100644"
MODE_EXEC = "100755"
MODE_SYMLINK = "120000"
MODE_GITLINK = "160000"

# Default base: the first of these that exists; the diff starts at its merge-base with HEAD.
DEFAULT_BASES = ("origin/main", "main")


@dataclass(frozen=True)
class TreeEntry:
    """One path of a commit's tree (``git ls-tree -r -l``)."""

    path: str  # repository-relative, "/"-separated
    mode: str
    sha: str
    size: int | None  # None for submodules (no blob)

    @property
    def kind(self) -> str:
        if self.mode == MODE_SYMLINK:
            return "symlink"
        if self.mode == MODE_GITLINK:
            return "submodule"
        return "file"


@dataclass(frozen=True)
class Change:
    """One path the diff touches (``git diff-tree --raw``), renames split into delete + add."""

    path: str
    status: str  # A added, M modified, D deleted, T type changed
    old_mode: str
    new_mode: str
    new_sha: str  # all zeros when deleted

    @property
    def label(self) -> str:
        return {"A": "added", "M": "modified", "D": "deleted", "T": "type changed"}.get(
            self.status, "changed"
        )


def _decode(raw: bytes) -> str:
    # Odd bytes in a path become U+FFFD; the path-safety rule reports such names.
    return raw.decode("utf-8", errors="replace")


class Repository:
    """A local git repository, read-only."""

    def __init__(self, path: str) -> None:
        if not os.path.isdir(path):
            raise InputError(f"{path}: not a directory")
        self.path = path
        out = self._git("rev-parse", "--show-toplevel", what=f"{path}: not a git repository")
        self.root = _decode(out).strip()
        if self._git("rev-parse", "--is-bare-repository").strip() == b"true":
            raise InputError(f"{path}: is a bare repository; run golf-check ci in a checkout")

    # ------------------------------------------------------------------ plumbing

    def _git(self, *args: str, what: str | None = None, stdin: bytes | None = None) -> bytes:
        # Paths are literal (a folder named "a*" is not a glob); no prompts, no lock files.
        env = dict(
            os.environ,
            GIT_TERMINAL_PROMPT="0",
            GIT_LITERAL_PATHSPECS="1",
            GIT_OPTIONAL_LOCKS="0",
            LC_ALL="C",
        )
        try:
            proc = subprocess.run(
                ["git", "-C", self.path, *args],
                input=stdin,
                capture_output=True,
                env=env,
                check=False,
            )
        except FileNotFoundError:
            raise InputError("git is not installed or not on PATH") from None
        if proc.returncode != 0:
            detail = _decode(proc.stderr).strip().splitlines()
            reason = detail[-1] if detail else f"exit {proc.returncode}"
            raise InputError(what or f"git {args[0]} failed: {reason}")
        return proc.stdout

    # ------------------------------------------------------------------ refs

    def resolve(self, ref: str) -> str:
        """The commit id ``ref`` names, or an InputError naming the unknown ref."""
        if not ref or ref.startswith("-"):
            raise InputError(f"{ref!r}: not a valid git ref")
        out = self._git(
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            f"{ref}^{{commit}}",
            what=f"{ref}: unknown git ref (no such branch, tag or commit in {self.root})",
        )
        return _decode(out).strip()

    def merge_base(self, a: str, b: str) -> str:
        out = self._git(
            "merge-base",
            a,
            b,
            what=f"{a[:12]} and {b[:12]} share no history (no merge base; in a shallow clone, "
            "fetch the full history, e.g. actions/checkout with fetch-depth: 0)",
        )
        return _decode(out).strip()

    def default_base_ref(self) -> str:
        for candidate in DEFAULT_BASES:
            try:
                self.resolve(candidate)
            except InputError:
                continue
            return candidate
        raise InputError(
            f"{self.root}: neither origin/main nor main exists; pass --base REF "
            "(the branch the pull request targets)"
        )

    # ------------------------------------------------------------------ content

    def diff(self, base: str, head: str) -> list[Change]:
        """Paths that differ between the two commits' trees."""
        out = self._git("diff-tree", "-r", "-z", "--no-renames", "--no-ext-diff", base, head)
        fields = out.split(b"\0")
        changes: list[Change] = []
        i = 0
        while i + 1 < len(fields):
            meta = fields[i]
            if not meta.startswith(b":"):
                i += 1
                continue
            old_mode, new_mode, _old, new_sha, status = _decode(meta[1:]).split(" ")[:5]
            path = _decode(fields[i + 1])
            changes.append(Change(path, status[:1], old_mode, new_mode, new_sha))
            i += 2
        return changes

    def tree(self, commit: str, prefix: str) -> list[TreeEntry]:
        """Every path under the directory ``prefix`` of ``commit`` (recursive, with sizes)."""
        out = self._git("ls-tree", "-r", "-z", "-l", "--full-tree", commit, "--", prefix + "/")
        entries: list[TreeEntry] = []
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, _, raw_path = record.partition(b"\t")
            mode, _type, sha, size = _decode(meta).split()
            entries.append(
                TreeEntry(_decode(raw_path), mode, sha, None if size == "-" else int(size))
            )
        return entries

    def has_path(self, commit: str, path: str) -> bool:
        out = self._git("ls-tree", "-z", "--full-tree", commit, "--", path)
        return bool(out.strip(b"\0"))

    def _cat_file(self, mode: str, shas: list[str]) -> tuple[list[str], bytes]:
        """``git cat-file MODE`` on each object once, in first-seen order: the objects asked
        for and git's output (no git process at all when there are none)."""
        unique = list(dict.fromkeys(shas))
        if not unique:
            return [], b""
        return unique, self._git("cat-file", mode, stdin=("\n".join(unique) + "\n").encode())

    def blob_sizes(self, shas: list[str]) -> dict[str, int]:
        """Sizes of blobs without reading them (``git cat-file --batch-check``)."""
        unique, out = self._cat_file("--batch-check", shas)
        sizes: dict[str, int] = {}
        for sha, line in zip(unique, out.decode().splitlines(), strict=False):
            parts = line.split()
            if len(parts) == 3 and parts[1] == "blob":
                sizes[sha] = int(parts[2])
        return sizes

    def read_blobs(self, shas: list[str]) -> dict[str, bytes]:
        """Contents of many blobs in one ``git cat-file --batch`` process."""
        unique, out = self._cat_file("--batch", shas)
        blobs: dict[str, bytes] = {}
        pos = 0
        for sha in unique:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            if len(header) != 3 or header[1] != b"blob":
                raise InputError(f"git object {sha}: not a readable blob")
            size = int(header[2])
            blobs[sha] = out[end + 1 : end + 1 + size]
            pos = end + 1 + size + 1  # content is followed by a newline
        return blobs
