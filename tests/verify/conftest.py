"""Helpers for verify tests: copies of real record folders that tests may edit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from golf_check.harness.cli import main
from golf_check.harness.evidence.verifier import verify_path

RECORDS = Path(__file__).resolve().parents[1] / "fixtures" / "records"
ALL_RECORDS = sorted(p.name for p in RECORDS.iterdir() if p.is_dir())


@pytest.fixture
def record(tmp_path):
    """``record(name)`` copies a real record folder into tmp and returns the copy."""

    def copy(name: str) -> Path:
        dest = tmp_path / name
        shutil.copytree(RECORDS / name, dest)
        return dest

    return copy


def run_verify(capsys, *args) -> tuple[int, str, str]:
    """``golf-check verify ARGS`` in process: the exit code, stdout and stderr (never a
    traceback: bad input is one clear line)."""
    with pytest.raises(SystemExit) as exc:
        main(["verify", *map(str, args)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return exc.value.code, out, err


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace ``old`` by ``new`` in a log; fail loudly if the text is not there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def findings_of(report, rule_id: str, severity: str | None = None):
    return [
        f
        for f in report.all_findings()
        if f.rule == rule_id and (severity is None or f.severity == severity)
    ]


def finding_after_edit(folder: Path, rule_id: str, severity: str, log: str, old: str, new: str):
    """The one ``rule_id`` finding of ``severity`` in ``folder``, a copy of a real record, once
    ``old`` is replaced by ``new`` in its ``log``; the unedited copy (the legal twin) has no
    ``rule_id`` finding at all."""
    assert not findings_of(verify_path(folder), rule_id)
    edit(folder / log, old, new)
    [finding] = findings_of(verify_path(folder), rule_id, severity)
    return finding
