"""A real anomaly in a merged record stays a failure: the recomputations that spare legal
records (compressed code, claimed lines, other configurations) never hide an over-cap run."""

from __future__ import annotations

from golf_check.harness.evidence.verifier import verify_path

from .conftest import edit, findings_of

SLIDING = "2026-03-19_SlidingWindowEval"  # code 58,340 + model 15,816,489 = 15,874,829


def _over_the_cap(folder):
    log = folder / "train.log"
    edit(log, "int8+zlib: 15816489 bytes", "int8+zlib: 16128160 bytes")
    edit(
        log,
        "Total submission size int8+zlib: 15874829",
        "Total submission size int8+zlib: 16186500",
    )


def test_a_logged_artifact_over_the_cap_fails_with_its_numbers(record):
    folder = record(SLIDING)
    assert not findings_of(verify_path(folder), "BUDGET.artifact-cap", "error")
    _over_the_cap(folder)
    report = verify_path(folder)
    [finding] = findings_of(report, "BUDGET.artifact-cap", "error")
    assert "16,186,500 bytes, 186,500 over" in finding.message
    assert finding.file == "train.log" and finding.line == 130 and report.exit_code == 1


def test_the_shipped_script_the_log_counted_keeps_the_failure(record):
    folder = record(SLIDING)
    _over_the_cap(folder)
    (folder / "train_gpt.py").write_text("# the script as run\n" + "#" * 58_319 + "\n")
    assert (folder / "train_gpt.py").stat().st_size == 58_340
    [finding] = findings_of(verify_path(folder), "BUDGET.artifact-cap", "error")
    assert "16,186,500" in finding.message
