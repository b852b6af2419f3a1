"""Gate a submission pull request: PACKAGE rules on the diff, then check and verify.

``gate_pull_request`` is the whole of ``golf-check ci``: it reads the pull request from git,
runs the ``package``-level detectors on it, writes each new record folder into a temporary
directory, runs the static checker on the folder's scripts and verify on the folder (neither
executes submitted code), and folds everything into one ``Report`` whose paths are relative
to the repository root, so SARIF locations and comment links point at the committed files.
"""

from __future__ import annotations

import importlib
import os
import tempfile
from typing import Any

from golf_check.harness.ci.materialize import materialize
from golf_check.harness.ci.pull_request import (
    DEFAULT_MAX_FILE_BYTES,
    PullRequest,
    RecordFolder,
    load_pull_request,
)
from golf_check.harness.errors import InputError
from golf_check.harness.report import FileResult, Finding, Report, Table
from golf_check.harness.rulebook import load_all


def gate_pull_request(
    repo: str = ".",
    base: str | None = None,
    head: str | None = None,
    *,
    strict: bool = False,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> Report:
    """One report, command "ci", for the pull request ``base...head`` of the repository."""
    pr = load_pull_request(repo, base, head, max_file_bytes=max_file_bytes)
    report = Report(
        command="ci", target=f"{pr.base_ref}...{pr.head_ref} ({pr.head[:12]})", strict=strict
    )
    report.facts.append(("base", f"{pr.base_ref} (merge-base {pr.base[:12]})"))
    report.facts.append(("head", f"{pr.head_ref} ({pr.head[:12]})"))
    report.facts.append(("paths changed", str(len(pr.changes))))
    for folder in pr.new_folders:
        report.facts.append(("record folder", folder.path))

    report.findings.extend(package_findings(pr, report.notes))
    for folder in pr.new_folders:
        _audit_folder(folder, report)
    _locate_every_finding(report, pr)
    # Errors first in the comment; the sort is stable, so each part keeps its own order.
    report.findings.sort(key=lambda f: _SEVERITY_ORDER[f.severity])
    report.data["pull_request"] = {
        "base_ref": pr.base_ref,
        "head_ref": pr.head_ref,
        "base": pr.base,
        "head": pr.head,
        "record_folders": [f.path for f in pr.new_folders],
        "changes": [{"path": c.path, "status": c.label, "mode": c.new_mode} for c in pr.changes],
    }
    return report


_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def _locate_every_finding(report: Report, pr: PullRequest) -> None:
    """A file and a line for every finding: GitHub code scanning rejects a whole SARIF upload
    when one result has no location. A finding about the pull request as a whole points at
    the new folder's submission.json (else the first changed path), line 1."""
    if pr.new_folders:
        home = f"{pr.new_folders[0].path}/submission.json"
    elif pr.changes:
        home = pr.changes[0].path
    else:
        home = "README.md"
    for finding in report.all_findings():
        if not finding.file:
            finding.file = home
        if not finding.line:
            finding.line = 1


def package_findings(pr: PullRequest, notes: list[str] | None = None) -> list[Finding]:
    """Run every ``package``-level detector (rules/pull_request.py) on the pull request."""
    return load_all().run("package", pr, notes=notes)


def folder_table(folder: RecordFolder) -> Table:
    """The folder's committed files: what each is, its size, and a log's seed."""
    rows = []
    code = set(folder.code_files())  # once: a folder may hold many files
    for entry in sorted(folder.entries, key=lambda e: folder.rel(e)):
        rel = folder.rel(entry)
        if entry.kind != "file":
            kind = entry.kind
        elif folder.is_log(entry):
            kind = "log"
        elif entry in code:
            kind = "code"
        else:
            kind = "data"
        rows.append(
            {
                "file": rel,
                "kind": kind,
                "bytes": entry.size,
                "seed": folder.log_seed(entry) if kind == "log" else None,
            }
        )
    return Table(
        title=f"Files in {folder.path}",
        columns=[("file", "file"), ("kind", "kind"), ("bytes", "bytes"), ("seed", "seed")],
        rows=rows,
    )


# --------------------------------------------------------------------------- check + verify


def _audit_folder(folder: RecordFolder, report: Report) -> None:
    if folder.submission_error:
        report.notes.append(folder.submission_error)
    with tempfile.TemporaryDirectory(prefix="golf-check-ci-") as tmp:
        local = os.path.join(tmp, folder.path.rsplit("/", 1)[-1])
        os.mkdir(local, 0o700)
        try:
            written, skipped = materialize(folder, local)
        except OSError as exc:
            report.errors.append(f"{folder.path}: cannot prepare the folder for checking: {exc}")
            return
        report.notes.extend(skipped)
        mapper = _PathMapper(local, folder.path)

        # With train_gpt.py present the checker takes the folder and follows the script's own
        # imports to its helpers; without it, every committed .py file is checked.
        scripts = sorted(rel for rel in written if rel.endswith(".py"))
        if "train_gpt.py" in written:
            _run_check(report, mapper, [local])
        elif scripts:
            _run_check(report, mapper, [os.path.join(local, rel) for rel in scripts])
        _run_verify(report, mapper, local, folder.path)
    report.tables.append(folder_table(folder))  # after verify's per-seed table


def _run_part(
    report: Report, mapper: _PathMapper, part: str, what: str, *args: Any, **kw: Any
) -> Report | None:
    """What ``part`` (``module.function``: the static checker, verify) returns for ``args``,
    or None when it cannot run. It is imported here so that an installation without it still
    reports; its input errors and crashes become errors of ``report``."""
    module, _, name = part.rpartition(".")
    try:
        run = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        report.errors.append(
            f"{what} ({part}) is not available in this installation; "
            "the gate cannot pass without it"
        )
        return None
    try:
        return run(*args, **kw)
    except InputError as exc:
        report.errors.append(mapper.text(str(exc)))
    except Exception as exc:  # a crash in one part must still leave a report to post
        report.errors.append(_crash(what, exc, mapper))
    return None


def _run_check(report: Report, mapper: _PathMapper, paths: list[str]) -> None:
    # Judged as the record ran, and on the track its repository path names.
    sub = _run_part(
        report,
        mapper,
        "golf_check.harness.static.checker.check_paths",
        "the static checker",
        paths,
        strict=report.strict,
        repo_path=mapper.repo_path,
    )
    if sub is None:
        return
    for fr in sub.files:
        report.files.append(mapper.file_result(fr))
    report.findings.extend(mapper.finding(f) for f in sub.findings)
    _carry(report, sub, mapper)


def _run_verify(report: Report, mapper: _PathMapper, local: str, repo_path: str) -> None:
    verify = "golf_check.harness.evidence.verifier.verify_path"
    sub = _run_part(report, mapper, verify, "verify", local, strict=report.strict)
    if sub is None:
        return
    found = [mapper.finding(f) for f in sub.findings]
    for fr in sub.files:  # verify's per-file results are findings of the folder here
        found.extend(mapper.finding(f) for f in fr.findings)
        if fr.error:
            report.errors.append(f"{mapper.path(fr.path)}: {mapper.text(fr.error)}")
    report.findings.extend(_new_submission_policy(found, report.findings))
    _carry(report, sub, mapper)
    if sub.data:
        report.data.setdefault("verify", {})[repo_path] = mapper.value(sub.data)


def _new_submission_policy(found: list[Finding], pr_findings: list[Finding]) -> list[Finding]:
    """Verify judges any folder, historical ones included, leniently; a new submission is
    held to each rule's own policy for "ci" (``Rule.superseded_in``, ``in_new_submission``)."""
    rules = load_all().rules
    reported = {(f.rule, f.file) for f in pr_findings}
    kept: list[Finding] = []
    for f in found:
        policy = rules[f.rule]
        if (policy.superseded_by("ci"), f.file) in reported:
            continue  # the pull-request rule already says it, more strictly
        if policy.in_new_submission is not None:
            f = policy.in_new_submission(f)
        kept.append(f)
    return kept


def _crash(what: str, exc: Exception, mapper: _PathMapper) -> str:
    return mapper.text(f"internal error in {what}: {type(exc).__name__}: {exc} (please report it)")


def _carry(report: Report, sub: Report, mapper: _PathMapper) -> None:
    report.errors.extend(mapper.text(e) for e in sub.errors)
    report.facts.extend((label, mapper.text(str(value))) for label, value in sub.facts)
    report.notes.extend(mapper.text(n) for n in sub.notes)
    for table in sub.tables:
        report.tables.append(
            Table(mapper.text(table.title), list(table.columns), mapper.value(table.rows))
        )


class _PathMapper:
    """Rewrites the temporary directory's paths as repository paths (records/<track>/<name>)."""

    def __init__(self, local: str, repo_path: str) -> None:
        self.local = local
        self.real_local = os.path.realpath(local)
        self.repo_path = repo_path

    def text(self, text: str) -> str:
        for prefix in (self.local, self.real_local):
            text = text.replace(prefix, self.repo_path)
        return text

    def path(self, path: str) -> str:
        mapped = self.text(path)
        if mapped.startswith(self.repo_path) or os.path.isabs(mapped):
            return mapped
        return f"{self.repo_path}/{mapped.removeprefix('./')}" if mapped else self.repo_path

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v) for v in value]
        return value

    def finding(self, f: Finding) -> Finding:
        return Finding(
            rule=f.rule,
            condition=f.condition,
            severity=f.severity,
            confidence=f.confidence,
            message=self.text(f.message),
            file=self.path(f.file) if f.file else None,
            line=f.line,
            evidence=self.text(f.evidence) if f.evidence else None,
            fix=self.text(f.fix) if f.fix else None,
            level=f.level,
            suppressed=f.suppressed,
            suppression_reason=f.suppression_reason,
        )

    def file_result(self, fr: FileResult) -> FileResult:
        return FileResult(
            path=self.path(fr.path),
            findings=[self.finding(f) for f in fr.findings],
            error=self.text(fr.error) if fr.error else None,
            notes=[self.text(n) for n in fr.notes],
        )
