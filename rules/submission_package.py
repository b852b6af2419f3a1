"""The record folder as a package: required files and a usable submission.json.

Detectors read an ``EvidenceSet``; they judge nothing when there is no folder (a run report).
"""

from __future__ import annotations

from collections.abc import Iterator

from golf_check.harness.evidence import stats as st
from golf_check.harness.evidence.model import EvidenceSet
from golf_check.harness.evidence.submission import schema_problems
from golf_check.harness.report import Finding
from golf_check.harness.rulebook import detector, rule

SUBMISSION_PROCESS = "https://github.com/openai/parameter-golf/blob/main/README.md"
REQUIRED_FILES = ("README.md", "submission.json", "train_gpt.py")


def _required_in_a_new_submission(finding: Finding) -> Finding:
    """A new submission must ship every required file: a missing one fails the gate; a file
    that is there under another name stays a warning."""
    if finding.severity == "warning" and (finding.evidence or "").startswith("missing:"):
        finding.severity = "error"
        finding.message += " (a new submission must include it)"
    return finding


REQUIRED = rule(
    "PACKAGE.required-files",
    "PACKAGE",
    "A record folder ships README.md, submission.json, train_gpt.py and the train logs",
    """
A record pull request adds one folder under `records/track_10min_16mb/` holding a README.md
that explains the submission, a submission.json with its metadata and score, the
train_gpt.py that produced the run (plus any helper it needs) and the train log of every
seed. Without train_gpt.py the artifact bytes cannot be recomputed and the run cannot be
reproduced. A missing file is a warning (`--strict` makes it fail).

Example: a folder with train_seed42.log and submission.json but no train_gpt.py.
""",
    (SUBMISSION_PROCESS, "https://github.com/openai/parameter-golf/pull/1796"),
    severity="warning",
    in_new_submission=_required_in_a_new_submission,
)

SUBMISSION_JSON = rule(
    "PACKAGE.submission-json",
    "PACKAGE",
    "submission.json carries name, author, github_id, date, val_bpb, val_loss, seeds, bytes",
    """
golf-check checks submission.json against its JSON Schema
(`harness/schemas/submission.schema.json`), leniently: the historical files use 39
different key sets, so a missing key is a warning with the exact line to add, and a value
of the wrong type is an error. Known anomalies are read correctly and named: the bpb stored
under `val_loss` (no `val_bpb`), `mean_val_bpb` instead of `val_bpb`.

Example: {"name": "...", "val_loss": 1.14276}   # the bpb is under val_loss
""",
    (SUBMISSION_PROCESS, "https://github.com/openai/parameter-golf/pull/1806"),
    severity="warning",
)


@detector(REQUIRED, level="log")
def missing_files(ev: EvidenceSet) -> Iterator[Finding]:
    """A record folder without train_gpt.py, submission.json or README.md (a file named
    otherwise is read in its place, with a warning)."""
    if ev.folder is None:
        return
    for name in REQUIRED_FILES:
        if (ev.folder / name).is_file():
            continue
        variant = _named_otherwise(ev.folder, name)
        if variant is not None:
            # A merged record may name its files otherwise (train_gpt_cuda_ternary.py,
            # submission_ternary.json): read it, and ask for the usual name.
            yield Finding.of(
                REQUIRED,
                f"the folder has no {name}, but {variant.name} is read in its place",
                severity="warning",
                file=variant.name,
                line=1,
                evidence=f"named otherwise: {variant.name}",
                level="log",
                fix=f"name it {name}",
            )
            continue
        why = {
            "train_gpt.py": "the code bytes cannot be recomputed and the run cannot be reproduced",
            "submission.json": "there is no claim to check",
            "README.md": "reviewers have no description of the submission",
        }[name]
        yield Finding.of(
            REQUIRED,
            f"the folder has no {name}: {why}",
            file=name,
            evidence=f"missing: {name}",
            level="log",
            fix=f"add {name} to the record folder",
        )


def _named_otherwise(folder, name: str):
    """The one file that plays ``name``'s part under another name, if there is exactly one."""
    if name == "submission.json":
        pattern = "submission*.json"
    elif name == "train_gpt.py":
        pattern = "train*.py"
    else:
        return None
    found = sorted(p for p in folder.glob(pattern) if p.is_file())
    return found[0] if len(found) == 1 else None


def _suggested_value(key: str, ev: EvidenceSet) -> str:
    scored = ev.scored
    if key == "val_bpb" and scored:
        return f"{st.mean([s.val_bpb for s in scored]):.8f}"
    if key == "val_loss" and scored and all(s.val_loss is not None for s in scored):
        return f"{st.mean([s.val_loss for s in scored]):.8f}"
    if key == "seeds":
        seeds = sorted({s.seed for s in scored if s.seed is not None})
        return "[" + ", ".join(str(s) for s in seeds) + "]" if seeds else "[42, 1337, 2025]"
    if key in ("bytes_total", "artifact_bytes", "artifact_bytes_max"):
        sizes = [s.artifact_bytes for s in scored if s.artifact_bytes is not None]
        return str(max(sizes)) if sizes else "<max artifact bytes over seeds>"
    if key == "date":
        return '"YYYY-MM-DD"'
    return {
        "name": '"<short name of the submission>"',
        "author": '"<your name>"',
        "github_id": '"<your GitHub handle>"',
    }.get(key, '"..."')


@detector(SUBMISSION_JSON, level="log")
def submission_json_problems(ev: EvidenceSet) -> Iterator[Finding]:
    """submission.json against its documented schema: missing keys, values of the wrong type, a
    score under another key."""
    doc = ev.submission
    if doc is None:
        return
    claims = ev.claimed
    anomalous_bpb = claims is not None and claims.val_bpb_key not in (None, "val_bpb")
    for problem in schema_problems(doc):
        if problem.severity == "warning":
            key = problem.missing[0]
            if anomalous_bpb and key in ("val_bpb", "val_loss"):
                continue  # reported once below, with what the file did instead
            yield Finding.of(
                SUBMISSION_JSON,
                f"submission.json: {problem.message}",
                file="submission.json",
                level="log",
                fix=f'add "{key}": {_suggested_value(key, ev)}',
            )
        else:
            yield Finding.of(
                SUBMISSION_JSON,
                f"submission.json: {problem.message}",
                severity="error",
                file="submission.json",
                level="log",
                fix="give the key a value of the type the schema documents",
            )
    if anomalous_bpb:
        key = claims.val_bpb_key
        message = (
            f"submission.json has no val_bpb; the bpb {claims.val_bpb} is stored under {key!r}"
        )
        fix = f'add "val_bpb": {claims.val_bpb}'
        if key == "val_loss":
            loss = _suggested_value("val_loss", ev)
            fix += f' and set "val_loss" to the loss in nats ({loss})'
        yield Finding.of(SUBMISSION_JSON, message, file="submission.json", level="log", fix=fix)
