"""verify on a `golf-check run` report: measured figures gate, logs are cross-checked."""

from __future__ import annotations

import json
import math
import shutil

import pytest

from golf_check.harness.errors import InputError
from golf_check.harness.evidence.checks import check_seeds
from golf_check.harness.evidence.logparse import parse_log
from golf_check.harness.evidence.model import SeedEvidence
from golf_check.harness.evidence.verifier import verify_path

from .conftest import RECORDS, findings_of

CASEOPS = RECORDS / "2026-04-22_SP8192_CaseOps_GatedAttn_QuantGate_Loop45_PhasedTTT_MLPClip12"
SEEDS = (1, 314, 777)


def _report(tmp_path, overrides=None):
    """A run report over three real logs whose measured figures agree with them."""
    (tmp_path / "logs").mkdir()
    items = []
    for seed in SEEDS:
        shutil.copy(CASEOPS / f"train_seed{seed}.log", tmp_path / "logs" / f"seed{seed}.log")
        ev = SeedEvidence.from_log(parse_log(CASEOPS / f"train_seed{seed}.log"))
        item = {
            "seed": seed,
            "log": f"logs/seed{seed}.log",
            "val_bpb": ev.val_bpb,
            "val_loss": ev.val_loss,
            "train_time_s": ev.train_time_s,
            "eval_time_s": ev.eval_time_s,
            "artifact_bytes": ev.artifact_bytes,
            "val_tokens": ev.val_tokens,
            "complete": True,
            "extra_key_from_a_newer_harness": {"ignored": True},
        }
        item.update((overrides or {}).get(seed, {}))
        items.append(item)
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"command": "run", "verdict": "pass", "seeds": items}))
    return path


def test_consistent_run_report_passes(tmp_path):
    report = verify_path(_report(tmp_path))
    assert report.exit_code == 0, [f.message for f in report.findings]
    assert not findings_of(report, "EVIDENCE.log-mismatch")
    assert {s["source"] for s in report.data["seeds"]} == {"measured"}


def test_measured_artifact_differs_from_the_log(tmp_path):
    report = verify_path(_report(tmp_path, {314: {"artifact_bytes": 16_071_321}}))
    [mismatch] = findings_of(report, "EVIDENCE.log-mismatch", "error")
    assert "16,071,321" in mismatch.message and "15,979,114" in mismatch.message
    [cap] = findings_of(report, "BUDGET.artifact-cap", "error")
    assert cap.level == "runtime"  # the measured figure gates, not the log's


def test_measured_wallclock_over_the_cap_fails(tmp_path):
    report = verify_path(_report(tmp_path, {1: {"measured": {"train_time_s": 640.0}}}))
    [finding] = findings_of(report, "BUDGET.train-time", "error")
    assert "640.000 s" in finding.message and finding.level == "runtime"


def test_log_that_under_reports_its_eval_time(tmp_path):
    report = verify_path(_report(tmp_path, {777: {"eval_time_s": 520.0}}))
    [finding] = findings_of(report, "EVIDENCE.log-mismatch", "warning")
    assert "eval_time_s 394.6 s" in finding.message


def test_log_path_outside_the_report_folder_is_refused(tmp_path):
    path = _report(tmp_path, {1: {"log": "../../etc/passwd"}})
    report = verify_path(path)
    assert report.exit_code == 2
    assert any("outside the report's folder" in e for e in report.errors)


def test_report_without_seeds_list_is_an_input_error(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"command": "run", "seeds": "none"}))
    with pytest.raises(InputError, match="not a golf-check run report"):
        verify_path(path)


def test_check_seeds_is_usable_without_logs():
    seeds = [
        SeedEvidence(
            seed=s,
            log=None,
            val_bpb=1.0650 + s * 1e-5,
            val_loss=2.3300 + s * 2e-5,
            train_time_s=599.0,
            eval_time_s=610.0 if s == 2 else 400.0,
            artifact_bytes=15_990_000,
            val_tokens=47_851_520,
            complete=True,
            source="measured",
        )
        for s in (1, 2, 3)
    ]
    findings = check_seeds(seeds, tokenizer_family="caseops-sp8192")
    rules = sorted({(f.rule, f.severity) for f in findings})
    # val_loss / val_bpb of these made-up seeds imply the wrong byte count, and seed 2's
    # evaluation is over the cap: both found from measured figures alone.
    assert ("BUDGET.eval-time", "error") in rules
    assert ("EVIDENCE.bpb-bytes", "error") in rules
    assert all(f.level == "runtime" for f in findings if f.rule == "BUDGET.eval-time")


def _demo_run_report(tmp_path, *, bytes_factor=1.0, val_tokens=25_837):
    """A run on non-canonical data: the report names the split golf-check measured."""
    tokens, target_bytes = 25_837, 62_990
    items = []
    for seed, loss in ((1337, 3.566), (42, 3.592), (2025, 3.590)):
        bpb = loss / math.log(2) * tokens / (target_bytes * bytes_factor)
        items.append(
            {
                "seed": seed,
                "val_bpb": round(bpb, 8),
                "val_loss": loss,
                "train_time_s": 62.0,
                "eval_time_s": 14.0,
                "artifact_bytes": 551_000,
                "val_tokens": val_tokens,
                "complete": True,
            }
        )
    run = {
        "dataset": {
            "canonical": False,
            "name": "demo split",
            "val_tokens": tokens,
            "val_target_bytes": target_bytes,
        }
    }
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"command": "run", "verdict": "pass", "seeds": items, "run": run}))
    return path


def test_demo_data_run_is_checked_against_the_measured_split_not_the_tables(tmp_path):
    report = verify_path(_demo_run_report(tmp_path))
    assert not findings_of(report, "EVIDENCE.bpb-bytes")
    assert not findings_of(report, "EVIDENCE.full-val")
    assert report.exit_code == 0, [f.message for f in report.findings]
    assert any("non-canonical data" in n for n in report.notes)


def test_demo_data_byte_double_count_fails_against_the_measured_bytes(tmp_path):
    report = verify_path(_demo_run_report(tmp_path, bytes_factor=1.17))
    found = findings_of(report, "EVIDENCE.bpb-bytes", "error")
    assert len(found) == 3
    assert "62,990 golf-check counted on the demo split" in found[0].message
    assert "x1.1700" in found[0].message


def test_demo_data_partial_split_fails_against_the_measured_token_count(tmp_path):
    report = verify_path(_demo_run_report(tmp_path, val_tokens=20_000))
    found = findings_of(report, "EVIDENCE.full-val", "error")
    assert len(found) == 3
    assert "golf-check loaded has 25,837" in found[0].message
