"""`golf-check verify` end to end: output formats, and one clear line for bad input."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from golf_check.harness.evidence.model import CONTRACT_KEYS
from golf_check.harness.report import validate_report_json

from .conftest import RECORDS, run_verify

CASEOPS = "2026-04-22_SP8192_CaseOps_GatedAttn_QuantGate_Loop45_PhasedTTT_MLPClip12"


def test_json_contract(capsys):
    code, out, _ = run_verify(capsys, RECORDS / CASEOPS, "--format", "json")
    doc = json.loads(out)
    validate_report_json(doc)
    assert code == 0 and doc["command"] == "verify" and doc["verdict"] == "warn"
    assert doc["claimed_val_bpb"] == 1.06453
    assert doc["mean_val_bpb"] == pytest.approx(1.06452632, abs=1e-8)
    assert len(doc["seeds"]) == 5
    values = np.array([s["val_bpb"] for s in doc["seeds"]])
    assert doc["std_val_bpb"] == pytest.approx(values.std(ddof=1), rel=1e-12)
    for seed in doc["seeds"]:
        assert set(CONTRACT_KEYS) <= set(seed)
    assert {f["rule"] for f in doc["findings"]} == {"PACKAGE.required-files"}


def test_markdown_for_a_pull_request_comment(capsys):
    code, out, _ = run_verify(capsys, RECORDS / CASEOPS, "--format", "markdown")
    assert out.startswith("## ⚠️ golf-check verify: **WARN**")
    assert "<summary>Per-seed evidence (recomputed from the logs)</summary>" in out
    row = "| 314 | train\\_seed314.log | L829 | last line = claim | 1.063568 | 1.063568 |"
    assert row in out


def test_text_table_and_strict(capsys, tmp_path):
    code, out, _ = run_verify(capsys, RECORDS / CASEOPS, "--strict", "-o", tmp_path / "r.txt")
    text = (tmp_path / "r.txt").read_text()
    assert code == 1 and out == ""
    assert "mean val_bpb: 1.06452632" in text and "✅ pass" in text


def test_headline_override(capsys):
    folder = RECORDS / "2026-04-06_SP8192_QK5_LegalTTT_1.0828"
    _, out, _ = run_verify(
        capsys, folder, "--headline", "quantized_sliding_window", "--format", "json"
    )
    doc = json.loads(out)
    assert doc["headline_kind"] == "quantized_sliding_window"
    assert doc["mean_val_bpb"] == pytest.approx(1.08485681, abs=1e-8)  # pre-TTT mean
    assert any(f["rule"] == "EVIDENCE.claim-mismatch" for f in doc["findings"])


def test_single_log(capsys):
    code, out, _ = run_verify(capsys, RECORDS / CASEOPS / "train_seed1.log", "--format", "json")
    doc = json.loads(out)
    assert doc["seeds"][0]["seed"] == 1 and doc["seeds"][0]["val_bpb"] == 1.06509678


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda d: None, "no run log found"),
        (lambda d: (d / "train.log").write_text("hello\nworld\n"), "no run log found"),
        (lambda d: (d / "train.log").write_bytes(b"\xff\xfe\x00\x80" * 1000), "no run log found"),
    ],
    ids=["empty-folder", "no-score-lines", "binary-garbage"],
)
def test_nothing_to_verify_is_one_line_exit_2(capsys, tmp_path, setup, message):
    setup(tmp_path)
    code, out, err = run_verify(capsys, tmp_path)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("golf-check: error: ") and message in err


def test_log_that_never_reached_a_score(capsys, tmp_path):
    text = (RECORDS / CASEOPS / "train_seed1.log").read_text()
    (tmp_path / "train_seed1.log").write_text(text[: text.index("stopping_early")])
    code, _, err = run_verify(capsys, tmp_path)
    assert code == 2 and "no log has a final score line" in err and "no final score" in err


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"val_bpb": 1.06,', "malformed JSON at line 1"),
        ("[1, 2, 3]", "top level is a JSON list, expected an object"),
        ("", "empty file"),
        (b"\xff\xfe{}", "not UTF-8"),
        ('{"val_bpb": NaN}', "NaN is not a JSON number"),
        ('{"val_bpb": Infinity}', "Infinity is not a JSON number"),
        ('{"val_bpb": 1e400}', "1e400 overflows a 64-bit float"),
        ('{"bytes_total": ' + "9" * 5000 + "}", "digits is not a plausible value"),
    ],
    ids=["malformed", "non-object", "empty", "non-utf8", "nan", "infinity", "overflow", "huge"],
)
def test_bad_submission_json_is_an_input_error(capsys, record, content, message):
    folder = record(CASEOPS)
    target = folder / "submission.json"
    target.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, out, _ = run_verify(capsys, folder, "--format", "json")
    doc = json.loads(out)
    assert code == 2 and any(message in e for e in doc["errors"])
    assert len(doc["seeds"]) == 5  # the logs are still verified


def test_symlink_outside_the_folder_is_refused(capsys, record, tmp_path):
    folder = record(CASEOPS)
    secret = tmp_path / "outside.log"
    secret.write_text((RECORDS / CASEOPS / "train_seed1.log").read_text())
    os.symlink(secret, folder / "train_seed99.log")
    code, out, _ = run_verify(capsys, folder, "--format", "json")
    doc = json.loads(out)
    assert code == 2
    assert any("refusing a symlink" in e and "train_seed99.log" in e for e in doc["errors"])
    assert "train_seed99.log" not in {s["log"] for s in doc["seeds"]}
    assert secret.exists()  # never modified or deleted


def test_non_utf8_bytes_inside_a_log_are_noted(capsys, record):
    folder = record(CASEOPS)
    log = folder / "train_seed1.log"
    raw = log.read_bytes()
    log.write_bytes(raw.replace(b"ema:applying EMA weights", b"ema:applying \xff\xfe weights"))
    code, out, _ = run_verify(capsys, folder, "--format", "json")
    doc = json.loads(out)
    assert code == 0 and any("non-UTF-8" in n for n in doc["notes"])


def test_missing_path_and_bad_options(capsys, tmp_path):
    code, _, err = run_verify(capsys, tmp_path / "nope")
    assert code == 2 and "no such file or directory" in err
    code, _, err = run_verify(capsys, RECORDS / CASEOPS, "--baseline", "not-a-number-or-path")
    assert code == 2 and "--baseline" in err
    code, _, err = run_verify(capsys, RECORDS / CASEOPS, "--policy", "lenient")
    assert code == 2 and "lenient" in err
    other = tmp_path / "other.json"
    other.write_text('{"command": "check", "files": []}')
    code, _, err = run_verify(capsys, other)
    assert code == 2 and "not a golf-check run report" in err


def test_directory_symlink_outside_the_folder_is_refused(capsys, record, tmp_path):
    folder = record(CASEOPS)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "train_seed5.log").write_text((RECORDS / CASEOPS / "train_seed1.log").read_text())
    os.symlink(outside, folder / "logs")
    code, out, _ = run_verify(capsys, folder, "--format", "json")
    doc = json.loads(out)
    assert code == 2 and any("logs: refusing a symlink" in e for e in doc["errors"])
    assert len(doc["seeds"]) == 5


@pytest.mark.parametrize(
    "claims, message",
    [
        ('{"val_bpb": 1e999, "val_loss": NaN, "seeds": [1]}', "1e999 overflows a 64-bit float"),
        ('{"val_bpb": ' + "9" * 400 + "}", "digits is not a plausible value"),
    ],
    ids=["inf-and-nan", "huge-int"],
)
def test_absurd_submission_numbers_are_input_errors(capsys, record, claims, message):
    folder = record(CASEOPS)
    (folder / "submission.json").write_text(claims)
    code, out, _ = run_verify(capsys, folder, "--format", "json")
    doc = json.loads(out)
    assert code == 2 and any(message in e for e in doc["errors"])
    assert doc["claimed_val_bpb"] is None and len(doc["seeds"]) == 5  # logs still verified


def test_odd_seed_keys_do_not_crash(capsys, record):
    folder = record(CASEOPS)
    claims = '{"seeds": [1, "two", null], "seed_results": {"x": 1, "42": {"val_bpb": "1.0"}}}'
    (folder / "submission.json").write_text(claims)
    code, out, _ = run_verify(capsys, folder, "--format", "json")
    doc = json.loads(out)
    assert code in (0, 1) and doc["claimed_val_bpb"] is None and len(doc["seeds"]) == 5


def test_fifo_is_refused_without_blocking(capsys, tmp_path):
    fifo = tmp_path / "train.log"
    os.mkfifo(fifo)
    code, _, err = run_verify(capsys, fifo)
    assert code == 2 and "not a regular file" in err
    (tmp_path / "real").mkdir()
    os.mkfifo(tmp_path / "real" / "train_seed1.log")  # skipped inside a folder too
    code, _, err = run_verify(capsys, tmp_path / "real")
    assert code == 2 and "no run log found" in err
