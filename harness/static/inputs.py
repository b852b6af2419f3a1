"""What ``golf-check check`` accepts as input: Python scripts, folders, or ``-`` (standard input).

Anything else given by name is refused with one line (exit 2) instead of being parsed: a
``submission.json`` happens to parse as a Python expression, and a report that says PASS for
it would be a lie. A script on standard input is written to a private temporary folder, checked
there, and reported under ``--stdin-filename`` (default ``-``), as editors and hooks expect.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from golf_check.harness.errors import InputError
from golf_check.harness.report import Report

PYTHON_SUFFIXES = (".py",)
MAX_STDIN_BYTES = 64 * 1024 * 1024  # far above any submission (the cap is 16,000,000 bytes)


def prepare_inputs(
    paths: tuple[Path, ...], stdin_filename: str | None
) -> tuple[tuple[Path, ...], Callable[[Report], None]]:
    """The paths to check (``-`` replaced by a temporary file) and a function that puts the
    names the user gave back into the report. Refuses non-Python files given by name."""
    shown = stdin_filename or "-"
    if stdin_filename is not None and not _is_python_name(stdin_filename):
        raise InputError(f"--stdin-filename {stdin_filename}: not a Python script (.py)")
    for path in paths:
        if str(path) != "-" and path.is_file() and not _is_python_name(path.name):
            raise InputError(
                f"{path}: not a Python script; `golf-check check` reads .py files and folders "
                "(a record folder's submission.json and logs are read by `golf-check verify`)"
            )
    if sum(str(p) == "-" for p in paths) > 1:
        raise InputError("- (standard input) given more than once")
    if not any(str(p) == "-" for p in paths):
        return paths, lambda report: None

    data = sys.stdin.buffer.read(MAX_STDIN_BYTES + 1)
    if len(data) > MAX_STDIN_BYTES:
        raise InputError(f"standard input: more than {MAX_STDIN_BYTES:,} bytes")
    folder = tempfile.mkdtemp(prefix="golf-check-stdin-")
    _remove_at_exit(folder)
    script = Path(folder) / (Path(stdin_filename).name if stdin_filename else "stdin.py")
    script.write_bytes(data)
    replaced = tuple(script if str(p) == "-" else p for p in paths)

    def relabel(report: Report) -> None:
        _relabel(report, str(script), shown)
        if stdin_filename is None:
            report.notes.append("read from standard input; helper modules beside it were not read")

    return replaced, relabel


def _is_python_name(name: str) -> bool:
    return name.endswith(PYTHON_SUFFIXES)


def _remove_at_exit(folder: str) -> None:
    import click

    ctx = click.get_current_context(silent=True)
    cleanup = lambda: shutil.rmtree(folder, ignore_errors=True)  # noqa: E731
    if ctx is not None:
        ctx.call_on_close(cleanup)  # runs even when emit() exits
    else:
        import atexit

        atexit.register(cleanup)


def _relabel(report: Report, old: str, new: str) -> None:
    def swap(text: str | None) -> str | None:
        return text.replace(old, new) if isinstance(text, str) else text

    report.target = swap(report.target) or ""
    report.errors = [swap(e) or "" for e in report.errors]
    report.notes = [swap(n) or "" for n in report.notes]
    for finding in report.findings:
        finding.file = swap(finding.file)
        finding.message = swap(finding.message) or ""
    for fr in report.files:
        fr.path = swap(fr.path) or ""
        fr.error = swap(fr.error)
        fr.notes = [swap(n) or "" for n in fr.notes]
        for finding in fr.findings:
            finding.file = swap(finding.file)
            finding.message = swap(finding.message) or ""
    for table in report.tables:
        for row in table.rows:
            for key, value in list(row.items()):
                if isinstance(value, str):
                    row[key] = swap(value)
