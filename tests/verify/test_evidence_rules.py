"""EVIDENCE rules: an illegal twin (an edited copy of a real record) and its legal twin."""

from __future__ import annotations

import json
import math

import pytest

from golf_check.harness.evidence.verifier import verify_path

from .conftest import RECORDS, edit, finding_after_edit, findings_of

CASEOPS = "2026-04-22_SP8192_CaseOps_GatedAttn_QuantGate_Loop45_PhasedTTT_MLPClip12"
SP8192 = "2026-04-05_SP8192_GPTQ-Embeddings_SDClip_Loop45x2"
A2 = "2026-04-09_A2_Muon097_3Seed"
LEGAL_TTT = "2026-04-06_SP8192_QK5_LegalTTT_1.0828"


def _set_json(path, **changes):
    doc = json.loads(path.read_text())
    doc.update(changes)
    path.write_text(json.dumps(doc))


def test_seed_count(record):
    folder = record(A2)
    assert not findings_of(verify_path(folder), "EVIDENCE.seed-count")
    (folder / "train_seed1234.log").unlink()
    report = verify_path(folder)
    messages = [f.message for f in findings_of(report, "EVIDENCE.seed-count", "warning")]
    assert any("2 distinct seed(s) (0, 42)" in m for m in messages)
    assert any("lists seed(s) 1234 but no log" in m for m in messages)


def test_same_seed_twice_counts_once(record):
    folder = record(A2)
    text = (folder / "train_seed42.log").read_text().replace("  seed: 42", "  seed: 0")
    (folder / "train_seed42.log").write_text(text)
    messages = [f.message for f in findings_of(verify_path(folder), "EVIDENCE.seed-count")]
    assert any("seed 0 appears in 2 different logs" in m for m in messages)


def test_same_config(record):
    finding = finding_after_edit(
        record(A2),
        "EVIDENCE.same-config",
        "error",
        "train_seed42.log",
        "  muon_momentum: 0.97",
        "  muon_momentum: 0.95",
    )
    assert "muon_momentum" in finding.message and "42=0.95" in finding.evidence


def test_different_final_line_per_seed_is_named(record):
    folder = record(LEGAL_TTT)
    text = (folder / "train_seed42.log").read_text()
    (folder / "train_seed42.log").write_text(text[: text.index("ttt_sliding:start")])
    report = verify_path(folder)
    assert any(
        "different final score lines" in f.message
        for f in findings_of(report, "EVIDENCE.same-config")
    )


def test_claim_better_than_the_evidence_fails(record):
    folder = record(SP8192)
    assert not findings_of(verify_path(folder), "EVIDENCE.claim-mismatch")
    _set_json(folder / "submission.json", val_bpb=1.0800)
    [finding] = findings_of(verify_path(folder), "EVIDENCE.claim-mismatch", "error")
    assert "1.08562480" in finding.message and "better than the evidence" in finding.message
    assert '"val_bpb": 1.08562480' in finding.fix


def test_per_seed_claim_must_match_its_log(record):
    folder = record(SP8192)
    doc = json.loads((folder / "submission.json").read_text())
    doc["seed_results"]["42"]["val_bpb"] = 1.08064
    (folder / "submission.json").write_text(json.dumps(doc))
    findings = findings_of(verify_path(folder), "EVIDENCE.claim-mismatch", "error")
    assert any("seed 42" in f.message and "1.08664424" in f.message for f in findings)


def test_std_mismatch(record):
    folder = record(SP8192)
    assert not findings_of(verify_path(folder), "EVIDENCE.std-mismatch")  # claims 0.0007
    _set_json(folder / "submission.json", val_bpb_std=0.0001)
    [finding] = findings_of(verify_path(folder), "EVIDENCE.std-mismatch", "warning")
    assert "0.000720" in finding.message


@pytest.mark.parametrize("name", [CASEOPS, SP8192, A2])
def test_bpb_byte_double_count_fails(record, name):
    folder = record(name)
    assert not findings_of(verify_path(folder), "EVIDENCE.bpb-bytes")
    log = sorted(folder.glob("train_seed*.log"))[0]
    report = verify_path(folder)
    seed = next(s for s in report.data["seeds"] if s["log"] == log.name)
    wrong = seed["val_bpb"] / 1.17  # bytes counted x1.17: the #1719 LUT double count
    edit(log, f"val_bpb:{seed['val_bpb']:.8f}", f"val_bpb:{wrong:.8f}")
    [finding] = findings_of(verify_path(folder), "EVIDENCE.bpb-bytes", "error")
    assert "x1.1700" in finding.message and "#1719" in finding.message


def test_partial_validation_split_fails(record):
    folder = record(CASEOPS)
    assert not findings_of(verify_path(folder), "EVIDENCE.full-val")
    edit(folder / "train_seed314.log", "val_tokens: 47851520", "val_tokens: 9662464")
    findings = findings_of(verify_path(folder), "EVIDENCE.full-val", "error")
    assert any("9,662,464" in f.message and "caseops-sp8192" in f.message for f in findings)


def test_truncated_log_fails(record):
    folder = record(CASEOPS)
    assert not findings_of(verify_path(folder), "EVIDENCE.incomplete-log")
    log = folder / "train_seed2025.log"
    lines = log.read_text().splitlines(keepends=True)
    log.write_text("".join(lines[:600]))  # cut during phased TTT
    report = verify_path(folder)
    [finding] = findings_of(report, "EVIDENCE.incomplete-log", "error")
    assert finding.file == "train_seed2025.log" and report.exit_code == 1
    row = next(r for r in report.tables[0].rows if r["log"] == "train_seed2025.log")
    assert row["check"] == "❌ incomplete"


def test_significance_against_a_record_folder(record):

    new = record(A2)
    report = verify_path(new, baseline=str(RECORDS / LEGAL_TTT), policy="leaderboard")
    readme, board = report.data["significance"]
    assert board["gates"] and not readme["gates"]
    assert board["test"] == "one-sided Welch t-test" and board["metric"] == "val_bpb"
    assert board["p"] < 0.25 and board["passed"]
    # 2.78932 vs 2.79697 nats: 0.0077 nats better, but n=3 vs 3 is not p < 0.01.
    assert readme["metric"] == "val_loss" and readme["margin"] == 0.005
    assert not findings_of(report, "EVIDENCE.significance")
    strict = verify_path(new, baseline=str(RECORDS / LEGAL_TTT), policy="readme")
    [finding] = findings_of(strict, "EVIDENCE.significance", "error")
    assert "readme policy" in finding.message and "p=" in finding.message


def test_significance_against_a_number_is_a_one_sample_test(record):
    report = verify_path(RECORDS / A2, baseline="1.0810", policy="leaderboard")
    board = next(r for r in report.data["significance"] if r["policy"] == "leaderboard")
    assert board["test"].startswith("one-sided one-sample t-test")
    assert board["n_base"] is None and board["df"] == 2
    assert board["passed"]
    worse = verify_path(RECORDS / A2, baseline="1.0790", policy="leaderboard")
    [finding] = findings_of(worse, "EVIDENCE.significance", "error")
    assert "one-sample" in finding.message


def test_significance_needs_two_seeds(record):
    folder = record("2026-03-19_SlidingWindowEval")
    report = verify_path(folder, baseline="1.2244")
    [finding] = findings_of(report, "EVIDENCE.significance", "warning")
    assert "needs at least 2 seeds" in finding.message


def test_prelaunch_export_is_a_named_warning_not_a_byte_error(record):
    # The naive baseline ran on the pre-launch export: 63,779,840 tokens, 155,769,746 bytes.
    folder = record("2026-03-19_SlidingWindowEval")
    log = folder / "train.log"
    edit(log, "tokens:62021632", "tokens:63779840")
    loss = 2.01348383
    bpb = loss / math.log(2) * 63_779_840 / 155_769_746
    edit(log, "val_loss:2.01348383 val_bpb:1.19250007", f"val_loss:{loss:.8f} val_bpb:{bpb:.8f}")
    report = verify_path(folder)
    assert not findings_of(report, "EVIDENCE.bpb-bytes")
    [finding] = findings_of(report, "EVIDENCE.full-val", "warning")
    assert "pre-launch export" in finding.message


def test_unreported_ttt_diagnostic_is_not_the_headline(record):
    folder = record("2026-04-01_Vocab4096_MLPMult4_WD085")
    for log in folder.glob("*.log"):
        text = log.read_text()
        log.write_text(
            text + "\nfinal_int6_ttt val_loss:2.5101 val_bpb:1.0901 eval_time:700000ms\n"
        )
    report = verify_path(folder)
    assert report.data["headline_kind"] == "final_int6_sliding_window"
    assert not findings_of(report, "EVIDENCE.claim-mismatch")


def test_log_holding_several_runs_is_named(record):
    folder = record(A2)
    first = (folder / "train_seed0.log").read_text()
    log = folder / "train_seed42.log"
    log.write_text(first + "\n" + log.read_text())
    findings = findings_of(verify_path(folder), "EVIDENCE.seed-count", "warning")
    assert any("holds 2 training runs" in f.message for f in findings)


@pytest.mark.parametrize("value", ["nan", "inf", "1e308"])
def test_final_score_without_a_usable_number_is_incomplete(record, value):
    folder = record(SP8192)
    edit(
        folder / "train_seed1.log",
        "quantized_sliding_window val_loss:2.80405024 val_bpb:1.08553523",
        f"quantized_sliding_window val_loss:{value} val_bpb:{value}",
    )
    report = verify_path(folder)
    [finding] = findings_of(report, "EVIDENCE.incomplete-log", "error")
    assert "no usable number" in finding.message and finding.file == "train_seed1.log"
    assert len(report.data["seeds"]) == 5 and report.data["mean_val_bpb"] is not None
