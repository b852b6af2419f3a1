"""Logs that would hold `verify` for minutes are input errors: one log past MAX_LOG_BYTES,
or the logs of one record past a total."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from golf_cli import golf_check

from golf_check.harness.errors import InputError
from golf_check.harness.evidence import logparse
from golf_check.harness.evidence.logparse import parse_log, read_budget

SCORE = "step:10/10 val_loss:2.0000 val_bpb:1.2000\nfinal_int8_zlib_roundtrip_exact val_loss:2.0 val_bpb:1.2\n"


def test_an_oversized_log_is_one_input_error_line(tmp_path):
    folder = tmp_path / "record"
    folder.mkdir()
    log = folder / "train_seed1.log"
    with open(log, "wb") as fh:  # sparse: no disk or time spent writing it
        fh.truncate(logparse.MAX_LOG_BYTES + 1)
    done = golf_check("verify", folder, "--format", "json")
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "larger than any log golf-check reads" in done.stderr


def test_logs_read_together_stay_within_their_budget(tmp_path):
    first, second = tmp_path / "a.log", tmp_path / "b.log"
    first.write_text(SCORE)
    second.write_text(SCORE)
    size = first.stat().st_size
    with read_budget(size + size // 2):
        assert parse_log(first).is_run_log
        with pytest.raises(InputError, match="in all"):
            parse_log(second)
    assert parse_log(second).is_run_log  # outside the block nothing is charged


def test_a_budget_is_per_block_not_per_process(tmp_path):
    log = tmp_path / "a.log"
    log.write_text(SCORE)
    for _ in range(3):
        with read_budget(os.path.getsize(log)):
            assert parse_log(log).is_run_log


def test_verify_charges_a_record_folders_logs_to_one_budget(monkeypatch, capsys):
    from golf_check.harness.cli import main

    record = Path(__file__).resolve().parents[1] / "fixtures/records/2026-03-19_SlidingWindowEval"
    logs = sorted(record.glob("*.log")) + sorted(record.glob("*.txt"))
    assert logs
    monkeypatch.setattr(logparse, "MAX_TOTAL_LOG_BYTES", max(p.stat().st_size for p in logs) - 1)
    with pytest.raises(SystemExit) as exc:
        main(["verify", str(record), "--format", "json"])
    assert exc.value.code == 2
    assert "in all" in capsys.readouterr().err
