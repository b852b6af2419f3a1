"""What a submission pull request changes, read from git: the model the PACKAGE rules inspect.

A submission pull request should add exactly one new folder under ``records/<track>/``. This
module reads the diff between the merge-base of base and head and the head commit, sorts the
touched paths into the new record folder(s), existing record folders and everything else, and
loads the new folder's committed files (from git objects of the head commit, never from the
work tree). Rules in ``rules/pull_request.py`` turn this model into findings.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from golf_check.harness import strictjson
from golf_check.harness.ci.git import MODE_EXEC, MODE_FILE, Change, Repository, TreeEntry
from golf_check.harness.errors import InputError
from golf_check.harness.evidence.logparse import seed_in_name

RECORDS_DIR = "records"
TRACKS = ("track_10min_16mb", "track_non_record_16mb")

# Per-file bound for anything committed in a pull request. Logs are tens of kilobytes and
# scripts rarely pass 200 kB, so 2 MB leaves room for a tokenizer model yet stops a model
# artifact from being committed by accident. Declared binaries may reach the artifact cap.
DEFAULT_MAX_FILE_BYTES = 2_000_000
# A submission adds one folder of a few files (a script, its logs, a README, submission.json).
# Past these bounds a pull request is refused whole, before its blobs are read: each file is
# written out for `check` and `verify`, and every byte read is held in memory.
MAX_CHANGED_FILES = 2_000
MAX_FOLDER_READ_BYTES = 64 * 1024 * 1024

# submission.json key that declares binary files committed on purpose (see docs/ci.md).
DECLARED_BINARIES_KEY = "committed_binaries"

REQUIRED_FILES = ("README.md", "submission.json", "train_gpt.py")
CODE_SUFFIXES = (".py", ".cpp", ".cc", ".c", ".h", ".hpp", ".cu", ".cuh", ".sh", ".pyx", ".triton")

_TIMESTAMP = r"(?:\d{10}\.\d{3} )?"
_SEED_LINE = re.compile(rb"^" + _TIMESTAMP.encode() + rb"\s*seed\s*[:=]\s*(\d+)\s*$", re.M)


@dataclass
class RecordFolder:
    """A record folder as committed at the head of the pull request."""

    path: str  # repository-relative, e.g. records/track_10min_16mb/2026-05-01_Name
    track: str
    entries: list[TreeEntry]
    contents: dict[str, bytes] = field(default_factory=dict)  # rel path -> bytes (read ones)
    submission: dict | None = None
    submission_error: str | None = None

    def rel(self, entry: TreeEntry) -> str:
        return self.rel_of(entry.path)

    def rel_of(self, path: str) -> str:
        return path[len(self.path) + 1 :]

    def files(self) -> list[TreeEntry]:
        """Regular (non-symlink, non-submodule) files."""
        return [e for e in self.entries if e.mode in (MODE_FILE, MODE_EXEC)]

    def names(self) -> set[str]:
        return {self.rel(e) for e in self.entries}

    def is_log(self, entry: TreeEntry) -> bool:
        rel = self.rel(entry).lower()
        base = rel.rsplit("/", 1)[-1]
        if entry.mode not in (MODE_FILE, MODE_EXEC):
            return False
        if base.endswith(".log"):
            return True
        return base.endswith(".txt") and (
            rel.startswith("logs/") or base.startswith("train") or "log" in base
        )

    def logs(self) -> list[TreeEntry]:
        return [e for e in self.files() if self.is_log(e)]

    def log_seed(self, entry: TreeEntry) -> str | None:
        """The seed a log was produced with: its ``seed:`` line, else its file name."""
        content = self.contents.get(self.rel(entry))
        if content is not None:
            match = _SEED_LINE.search(content)
            if match:
                return str(int(match.group(1)))
        seed = seed_in_name(self.rel(entry).rsplit("/", 1)[-1])
        return None if seed is None else str(seed)

    def code_files(self) -> list[TreeEntry]:
        return [e for e in self.files() if self.rel(e).lower().endswith(CODE_SUFFIXES)]

    def claimed_seeds(self) -> list[str]:
        """Seeds submission.json claims results for (``seeds``, ``seed_results``, ``seed``)."""
        sub = self.submission or {}
        seeds: set[str] = set()
        for key in ("seeds", "seed_results"):
            value = sub.get(key)
            if isinstance(value, dict):
                seeds |= {str(k) for k in value}
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, dict) and "seed" in item:
                        item = item["seed"]
                    if isinstance(item, (int, str)) and not isinstance(item, bool):
                        seeds.add(str(item))
        single = sub.get("seed")
        if isinstance(single, (int, str)) and not isinstance(single, bool):
            seeds.add(str(single))
        normal = {str(int(s)) if s.strip().isdigit() else s for s in seeds}
        return sorted(normal, key=lambda s: (not s.isdigit(), int(s) if s.isdigit() else 0, s))

    def declared_binaries(self) -> dict[str, str]:
        """Folder-relative path -> reason, from submission.json's ``committed_binaries``."""
        value = (self.submission or {}).get(DECLARED_BINARIES_KEY)
        declared: dict[str, str] = {}
        if isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    declared[item] = ""
                elif isinstance(item, dict) and isinstance(item.get("path"), str):
                    declared[item["path"]] = str(item.get("reason") or "")
        elif isinstance(value, dict):
            declared = {str(k): str(v or "") for k, v in value.items()}
        return declared


@dataclass
class PullRequest:
    """The diff between ``base`` (the merge-base) and ``head``, sorted for the PACKAGE rules."""

    root: str
    base_ref: str
    head_ref: str
    base: str  # commit id of the merge-base
    head: str
    changes: list[Change]
    new_folders: list[RecordFolder]
    existing_touched: dict[str, list[Change]]  # existing record folder -> its changes
    outside: list[Change]  # changes not inside any record folder
    symlink_targets: dict[str, bytes]  # repo path of every symlink the PR adds -> its target
    sizes: dict[str, int]  # repo path -> bytes, for every regular file the PR adds or changes
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES

    def folder_of(self, path: str) -> RecordFolder | None:
        for folder in self.new_folders:
            if path.startswith(folder.path + "/"):
                return folder
        return None


def record_folder_of(path: str) -> tuple[str, str] | None:
    """(folder, track) when ``path`` lies inside ``records/<track>/<folder>/``."""
    parts = path.split("/")
    if len(parts) >= 4 and parts[0] == RECORDS_DIR and parts[1] in TRACKS:
        return "/".join(parts[:3]), parts[1]
    return None


def load_pull_request(
    repo_path: str,
    base: str | None = None,
    head: str | None = None,
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> PullRequest:
    """Read the pull request ``base...head`` (three dots: head's changes since it forked)."""
    repo = Repository(repo_path)
    head_ref = head or "HEAD"
    head_sha = repo.resolve(head_ref)
    base_ref = base or repo.default_base_ref()
    base_sha = repo.merge_base(repo.resolve(base_ref), head_sha)
    changes = repo.diff(base_sha, head_sha)
    if not changes:
        raise InputError(
            f"{base_ref}...{head_ref}: empty diff (head adds nothing since it forked from "
            f"{base_ref}); nothing to gate"
        )
    if len(changes) > MAX_CHANGED_FILES:
        raise InputError(
            f"{base_ref}...{head_ref}: changes {len(changes):,} files; golf-check gates at most "
            f"{MAX_CHANGED_FILES:,} (a submission adds one folder of a few files)"
        )

    folders: dict[str, str] = {}
    existing: dict[str, list[Change]] = {}
    outside: list[Change] = []
    folder_exists: dict[str, bool] = {}
    for change in changes:
        located = record_folder_of(change.path)
        if located is None:
            outside.append(change)
            continue
        folder, track = located
        if folder not in folder_exists:
            folder_exists[folder] = repo.has_path(base_sha, folder)
        if folder_exists[folder]:
            existing.setdefault(folder, []).append(change)
        else:
            folders[folder] = track

    added = [c for c in changes if c.status != "D"]
    symlinks = [c for c in added if c.new_mode == "120000"]
    targets = repo.read_blobs([c.new_sha for c in symlinks])
    regular = [c for c in added if c.new_mode in (MODE_FILE, MODE_EXEC)]
    sizes_by_sha = repo.blob_sizes([c.new_sha for c in regular])

    new_folders = [
        _load_folder(repo, head_sha, path, track, max_file_bytes)
        for path, track in sorted(folders.items())
    ]
    return PullRequest(
        root=repo.root,
        base_ref=base_ref,
        head_ref=head_ref,
        base=base_sha,
        head=head_sha,
        changes=changes,
        new_folders=new_folders,
        existing_touched=existing,
        outside=outside,
        symlink_targets={c.path: targets.get(c.new_sha, b"") for c in symlinks},
        sizes={c.path: sizes_by_sha[c.new_sha] for c in regular if c.new_sha in sizes_by_sha},
        max_file_bytes=max_file_bytes,
    )


def _load_folder(
    repo: Repository, head: str, path: str, track: str, max_file_bytes: int
) -> RecordFolder:
    folder = RecordFolder(path=path, track=track, entries=repo.tree(head, path))
    # Read only files within the bound: an oversized blob is reported by size, never loaded.
    readable = [e for e in folder.files() if (e.size or 0) <= max_file_bytes]
    total = sum(e.size or 0 for e in readable)
    if total > MAX_FOLDER_READ_BYTES:
        raise InputError(
            f"{path}: {len(readable):,} files of {total:,} bytes in all under the per-file "
            f"bound; golf-check reads at most {MAX_FOLDER_READ_BYTES >> 20} MiB of one folder"
        )
    blobs = repo.read_blobs([e.sha for e in readable])
    folder.contents = {folder.rel(e): blobs[e.sha] for e in readable}
    raw = folder.contents.get("submission.json")
    if raw is not None:
        try:
            doc = strictjson.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, strictjson.JSONNumberError) as exc:
            folder.submission_error = f"{path}/submission.json: not valid JSON ({exc})"
        else:
            if isinstance(doc, dict):
                folder.submission = doc
            else:
                folder.submission_error = f"{path}/submission.json: not a JSON object"
    return folder
