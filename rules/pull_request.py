"""PACKAGE rules for a submission pull request: what its diff may touch and commit.

These read the pull request's git tree (``harness.ci.pull_request.PullRequest``): which paths
the diff touches, their git modes and sizes, and the new record folder's committed files.
The folder's content checks (submission.json schema, required files, budgets and claims) are
``golf-check verify``'s; ``golf-check ci`` runs verify on the folder, so they are not repeated
here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from golf_check.harness.challenge import ARTIFACT_CAP_BYTES
from golf_check.harness.ci.git import MODE_GITLINK
from golf_check.harness.ci.paths import path_problem, symlink_escapes
from golf_check.harness.ci.pull_request import (
    DECLARED_BINARIES_KEY,
    RECORDS_DIR,
    TRACKS,
    PullRequest,
)
from golf_check.harness.report import Finding
from golf_check.harness.rulebook import Rule, detector, rule

SUBMISSION_PROCESS = "https://github.com/openai/parameter-golf#submission-process"
_LISTED = 10  # paths named in a message before "and N more"

SCOPE = rule(
    "PACKAGE.pr-scope",
    "PACKAGE",
    "A submission pull request adds exactly one new record folder and touches nothing else",
    """
A submission is one new folder under records/track_10min_16mb/ (or
records/track_non_record_16mb/). Reviewers merge the folder as a unit; changes elsewhere in
the repository (the baseline script, the data scripts, another track, the README) are not part
of a submission and need their own pull request. Maintainers asked for diffs "trimmed to the
single intended submission folder" before reviewing.

Example: a pull request that adds records/track_10min_16mb/2026-05-01_MyRun/ and also edits
data/cached_challenge_fineweb.py is out of scope.
""",
    ("https://github.com/openai/parameter-golf/pull/1796", SUBMISSION_PROCESS),
)

MODIFIES_RECORD = rule(
    "PACKAGE.pr-modifies-record",
    "PACKAGE",
    "A submission pull request does not modify or delete an existing record folder",
    """
Merged record folders are the evidence behind the leaderboard: their logs, scripts and
submission.json must stay as they were reviewed. A new submission adds its own folder; a
correction to an existing record is a maintainer's decision in a separate pull request.

Example: a pull request that rewrites records/track_10min_16mb/2026-04-09_A2_Muon097_3Seed/
submission.json while adding a new folder.
""",
    ("https://github.com/openai/parameter-golf/pull/1806", SUBMISSION_PROCESS),
)

LOGS_PER_SEED = rule(
    "PACKAGE.pr-logs-per-seed",
    "PACKAGE",
    "Every seed the submission claims has a training log in the folder",
    """
A score is a mean over seeds, and each seed's result must be backed by the log the script
produced. A log's seed is read from its `seed:` line (the file name is only a fallback, since
names like logs/train0.txt do not say it). A folder with no log at all backs no score.

Example: submission.json lists "seeds": [42, 1337, 2025] but the folder holds only
train_seed42.log and train_seed1337.log.
""",
    (SUBMISSION_PROCESS, "https://github.com/openai/parameter-golf/pull/1902"),
)

FILE_SIZE = rule(
    "PACKAGE.pr-file-size",
    "PACKAGE",
    "No committed file is larger than the size bound",
    """
Logs are tens of kilobytes and scripts a few hundred at most. A file of megabytes is almost
always a model artifact, a dataset or a cache committed by accident, and anything above the
16,000,000-byte artifact cap cannot be part of a valid submission at all. The bound is
`--max-file-bytes` (default 2,000,000); a binary declared in submission.json's
`committed_binaries` may reach the artifact cap.

Example: records/.../final_model.int6.ptz of 16,512,000 bytes committed with the logs.
""",
    ("https://github.com/openai/parameter-golf/pull/1835", SUBMISSION_PROCESS),
)

SYMLINK = rule(
    "PACKAGE.pr-symlink",
    "PACKAGE",
    "A submission commits no symbolic links",
    """
A symlink (git mode 120000) makes a file's content depend on what lies outside the folder on
the machine that checks it out: `train_gpt.py -> ../../../train_gpt.py` or a log pointing at
/etc/passwd. Reviewers and tools would read something other than what was submitted. The gate
reads modes from git, not from the file system, so a symlink is caught even on a checkout
that does not create symlinks.

Example: records/track_10min_16mb/2026-05-01_MyRun/train.log -> ../../../../../etc/hostname.
""",
    (SUBMISSION_PROCESS,),
)

PATH_ESCAPE = rule(
    "PACKAGE.pr-path-escape",
    "PACKAGE",
    "No committed path can escape the record folder",
    """
Paths with `..`, `.git`, absolute or backslash-separated components, control characters or
bytes that are not UTF-8 can make a tool write or read outside the folder it meant to, and a
submodule (git mode 160000) pulls in code from another repository that the folder does not
contain. Git refuses most of these, but a crafted tree can carry them; the gate never writes
such a path and reports it.

Example: a tree entry named `..` inside the record folder, or a submodule at
records/track_10min_16mb/2026-05-01_MyRun/kernels.
""",
    (SUBMISSION_PROCESS,),
)

CHECKPOINT = rule(
    "PACKAGE.pr-committed-checkpoint",
    "PACKAGE",
    "No model checkpoint or other binary file is committed unless declared",
    """
The evidence for a score is the script and the logs it wrote; the artifact is rebuilt by
running the script. A committed checkpoint (*.pt, *.ptz, *.bin, *.safetensors, compressed
blobs, or any file with binary content) is not evidence and can carry precomputed state. If a
binary is genuinely needed (a custom tokenizer model, say), declare it in submission.json:
`"committed_binaries": [{"path": "tokenizer.model", "reason": "custom tokenizer"}]`;
declared files are listed as info and may be up to the artifact cap.

Example: final_model.pt committed beside train_gpt.py, not named in committed_binaries.
""",
    ("https://github.com/openai/parameter-golf/issues/677", SUBMISSION_PROCESS),
)

HELPER_CODE = rule(
    "PACKAGE.pr-helper-code",
    "PACKAGE",
    "Code beside train_gpt.py is named in the gate's report",
    """
Every byte of code the run needs counts toward the 16,000,000-byte cap and should live in
train_gpt.py. The gate names every code file the folder ships besides train_gpt.py (helper
modules, kernels, scripts) with its size, so reviewers see it; whether the script needs it
and whether its bytes were counted is BUDGET.uncounted-code's job (check and verify), which
the gate runs on the same folder.

Example: ngram_tilt.py (8,624 bytes) committed beside a 19,387-byte train_gpt.py.
""",
    ("https://github.com/openai/parameter-golf/pull/1412", SUBMISSION_PROCESS),
    severity="info",
)


def _package_finding(rule: Rule, message: str, **fields: Any) -> Finding:
    """A finding on the pull request's git tree: every one here stands on package evidence."""
    return Finding.of(rule, message, level="package", **fields)


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:_LISTED])
    more = len(items) - _LISTED
    return shown + (f" and {more} more" if more > 0 else "")


# --------------------------------------------------------------------------- scope


@detector(SCOPE, level="package")
def check_scope(pr: PullRequest) -> Iterator[Finding]:
    """The pull request adds exactly one new record folder under a track and touches nothing
    outside it."""
    tracks = " or ".join(f"{RECORDS_DIR}/{t}/" for t in TRACKS)
    if not pr.new_folders:
        yield _package_finding(
            SCOPE,
            f"the pull request adds no new record folder under {tracks}",
            evidence="\n".join(f"{c.label}: {c.path}" for c in pr.changes[:50]),
            fix="put the submission in one new folder records/<track>/<date>_<name>/",
        )
    elif len(pr.new_folders) > 1:
        names = [f.path for f in pr.new_folders]
        yield _package_finding(
            SCOPE,
            f"the pull request adds {len(names)} record folders ({_listing(names)}); "
            "a submission is exactly one",
            evidence="\n".join(names),
            fix="open one pull request per submission",
        )
    if pr.outside:
        touched = [f"{c.path} ({c.label})" for c in pr.outside]
        target = pr.new_folders[0].path if len(pr.new_folders) == 1 else "the record folder"
        yield _package_finding(
            SCOPE,
            f"the pull request also touches {len(touched)} path(s) outside {target}: "
            f"{_listing(touched)}",
            file=pr.outside[0].path,
            evidence="\n".join(touched),
            fix="move these changes to a separate pull request, or into the record folder",
        )


@detector(MODIFIES_RECORD, level="package")
def check_existing_records(pr: PullRequest) -> Iterator[Finding]:
    """Changes to record folders that are already merged."""
    for folder, changes in sorted(pr.existing_touched.items()):
        touched = [f"{c.path} ({c.label})" for c in changes]
        yield _package_finding(
            MODIFIES_RECORD,
            f"the pull request changes the existing record folder {folder}: {_listing(touched)}",
            file=changes[0].path,
            evidence="\n".join(touched),
            fix="leave merged records as they are; add the submission as a new folder",
        )


# --------------------------------------------------------------------------- folder content


@detector(LOGS_PER_SEED, level="package")
def check_logs_per_seed(pr: PullRequest) -> Iterator[Finding]:
    """A new record folder without training logs, or seeds submission.json claims that no
    committed log was produced with."""
    for folder in pr.new_folders:
        logs = folder.logs()
        if not logs:
            yield _package_finding(
                LOGS_PER_SEED,
                f"{folder.path} holds no training log (*.log, or logs/*.txt)",
                file=folder.path,
                fix="commit the log train_gpt.py wrote for every seed you report",
            )
            continue
        seen = {folder.log_seed(e) for e in logs} - {None}
        missing = [s for s in folder.claimed_seeds() if s not in seen]
        if missing:
            yield _package_finding(
                LOGS_PER_SEED,
                f"submission.json claims seed(s) {', '.join(missing)} but no log in "
                f"{folder.path} was produced with them (logs cover seeds "
                f"{', '.join(sorted(seen, key=int)) or 'none found'})",
                file=f"{folder.path}/submission.json",
                evidence="\n".join(f"{folder.rel(e)}: seed {folder.log_seed(e)}" for e in logs),
                fix="add the missing logs, or drop the seeds you have no log for",
            )


@detector(FILE_SIZE, level="package")
def check_file_sizes(pr: PullRequest) -> Iterator[Finding]:
    """Committed files over the size bound (over the artifact cap for binaries declared in
    submission.json)."""
    for path, size in sorted(pr.sizes.items()):
        folder = pr.folder_of(path)
        declared = folder is not None and folder.rel_of(path) in folder.declared_binaries()
        bound = ARTIFACT_CAP_BYTES if declared else pr.max_file_bytes
        if size <= bound:
            continue
        what = "the 16,000,000-byte artifact cap" if declared else f"the {bound:,}-byte bound"
        yield _package_finding(
            FILE_SIZE,
            f"{path} is {size:,} bytes, over {what}",
            file=path,
            evidence=f"{size:,} bytes",
            fix="do not commit model artifacts or data; if the file is needed, declare it in "
            f"submission.json's {DECLARED_BINARIES_KEY} (up to the artifact cap)",
        )


@detector(SYMLINK, level="package")
def check_symlinks(pr: PullRequest) -> Iterator[Finding]:
    """Committed symbolic links, and whether their target resolves outside the record folder."""
    for path, raw_target in sorted(pr.symlink_targets.items()):
        target = raw_target.decode("utf-8", errors="replace")
        folder = pr.folder_of(path)
        scope = folder.path if folder else path.rsplit("/", 1)[0] if "/" in path else ""
        where = "outside the record folder" if folder else "outside the repository path"
        escapes = symlink_escapes(path, target, scope) if scope else True
        message = f"{path} is a symbolic link to {target!r}"
        if escapes:
            message += f", which resolves {where}"
        yield _package_finding(
            SYMLINK,
            message,
            file=path,
            evidence=f"git mode 120000 -> {target}",
            fix="commit the file itself, not a link to it",
        )


@detector(PATH_ESCAPE, level="package")
def check_paths(pr: PullRequest) -> Iterator[Finding]:
    """Paths that are not plain components inside the record folder, and git submodules."""
    for change in pr.changes:
        if change.status == "D":
            continue
        problem = path_problem(change.path)
        if problem:
            yield _package_finding(
                PATH_ESCAPE,
                f"{ascii(change.path)}: {problem}",
                file=change.path if "\ufffd" not in change.path else None,
                fix="rename the file to plain path components inside the record folder",
            )
        if change.new_mode == MODE_GITLINK:
            yield _package_finding(
                PATH_ESCAPE,
                f"{change.path} is a git submodule: its content lives in another repository "
                "and is not part of the submission",
                file=change.path,
                evidence=f"git mode 160000 -> commit {change.new_sha[:12]}",
                fix="commit the code the run needs into the folder (it counts toward the cap)",
            )


# --------------------------------------------------------------------------- binaries

CHECKPOINT_SUFFIXES = (
    ".pt", ".pth", ".ptz", ".bin", ".safetensors", ".ckpt", ".npz", ".npy", ".pkl",
    ".pickle", ".h5", ".onnx", ".gguf", ".zst", ".xz", ".lzma", ".br", ".lrz", ".gz",
    ".zip", ".tar", ".7z",
)  # fmt: skip

# Leading bytes of serialized models and compressed streams.
CHECKPOINT_MAGIC = (
    (b"PK\x03\x04", "zip archive (torch.save format)"),
    (b"\x80\x02", "pickle stream"),
    (b"\x80\x04", "pickle stream"),
    (b"\x80\x05", "pickle stream"),
    (b"\x28\xb5\x2f\xfd", "zstd stream"),
    (b"\xfd7zXZ\x00", "xz stream"),
    (b"\x5d\x00\x00", "lzma stream"),
    (b"\x1f\x8b", "gzip stream"),
    (b"\x93NUMPY", "numpy array"),
    (b"GGUF", "GGUF model"),
)


def binary_kind(name: str, content: bytes | None) -> tuple[str, bool] | None:
    """(description, is_checkpoint) for a binary file, or None for text."""
    lowered = name.lower()
    for suffix in CHECKPOINT_SUFFIXES:
        if lowered.endswith(suffix):
            return f"model checkpoint or compressed blob ({suffix})", True
    if content is None:
        return None
    for magic, what in CHECKPOINT_MAGIC:
        if content.startswith(magic):
            return what, True
    if _is_safetensors(content):
        return "safetensors file", True
    if b"\x00" in content[:8192]:
        return "binary content (NUL bytes)", False
    return None


def _is_safetensors(content: bytes) -> bool:
    # 8-byte little-endian header length, then a JSON header.
    if len(content) < 10:
        return False
    header = int.from_bytes(content[:8], "little")
    return 0 < header < len(content) and content[8:10] == b'{"'


@detector(CHECKPOINT, level="package")
def check_binaries(pr: PullRequest) -> Iterator[Finding]:
    """Checkpoints and other binaries committed in a new record folder: an error for an
    undeclared checkpoint, a warning for other undeclared binaries, info when declared."""
    for folder in pr.new_folders:
        declared = folder.declared_binaries()
        for entry in folder.files():
            rel = folder.rel(entry)
            kind = binary_kind(rel, folder.contents.get(rel))
            if kind is None:
                continue
            what, is_checkpoint = kind
            if rel in declared:
                reason = declared[rel] or "no reason given"
                yield _package_finding(
                    CHECKPOINT,
                    f"{entry.path}: {what}, declared in {DECLARED_BINARIES_KEY} ({reason})",
                    file=entry.path,
                    severity="info",
                )
            else:
                yield _package_finding(
                    CHECKPOINT,
                    f"{entry.path}: {what} committed and not declared in submission.json",
                    file=entry.path,
                    severity="error" if is_checkpoint else "warning",
                    confidence="high" if is_checkpoint else "medium",
                    evidence=f"{entry.size:,} bytes" if entry.size is not None else None,
                    fix="remove it (logs and the script are the evidence), or declare it in "
                    f'submission.json: "{DECLARED_BINARIES_KEY}": '
                    f'[{{"path": "{rel}", "reason": "..."}}]',
                )
        for rel in sorted(set(declared) - folder.names()):
            yield _package_finding(
                CHECKPOINT,
                f"{folder.path}/submission.json declares {rel!r} in {DECLARED_BINARIES_KEY}, "
                "but the folder has no such file",
                file=f"{folder.path}/submission.json",
                severity="warning",
            )


# --------------------------------------------------------------------------- code


@detector(HELPER_CODE, level="package")
def check_helper_code(pr: PullRequest) -> Iterator[Finding]:
    """Code files shipped beside train_gpt.py, whose bytes count toward the artifact if the run
    needs them."""
    for folder in pr.new_folders:
        helpers = [e for e in folder.code_files() if folder.rel(e) != "train_gpt.py"]
        if not helpers:
            continue
        total = sum(e.size or 0 for e in folder.code_files())
        named = [f"{folder.rel(e)} ({e.size or 0:,} bytes)" for e in helpers]
        yield _package_finding(
            HELPER_CODE,
            f"{folder.path} ships code beside train_gpt.py: {_listing(named)}; "
            f"{total:,} bytes of code files in all, which count toward the artifact if the "
            "run needs them",
            file=f"{folder.path}/{folder.rel(helpers[0])}",
            evidence="\n".join(
                f"{folder.rel(e)}: {e.size or 0:,} bytes" for e in folder.code_files()
            ),
        )
