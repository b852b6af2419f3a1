"""Every claimed seed stays visible, each with the score line chosen and why; logs of other
versions of a script are another configuration, not more seeds of the claim."""

from __future__ import annotations

import json

import pytest

from golf_check.harness.evidence.verifier import verify_path

from .conftest import edit, findings_of

LOOP45 = "2026-04-05_SP8192_GPTQ-Embeddings_SDClip_Loop45x2"  # seed_results, 5 seeds
LOADER = "2026-03-29_Loader_FullGPTQ_XSA11_BigramHash2816"  # a mean claim only, 3 seeds
BROKEN_PASS = "ttt_diagnostic_eval val_loss:3.45000000 val_bpb:1.33600000 eval_time:201000ms\n"


def _rows(report, title_start="Per-seed"):
    table = next(t for t in report.tables if t.title.startswith(title_start))
    return table.rows


def _append(path, text):
    path.write_text(path.read_text() + text)


def test_a_later_broken_pass_does_not_replace_the_claimed_line(record):
    folder = record(LOOP45)
    before = verify_path(folder)
    _append(folder / "train_seed42.log", BROKEN_PASS)
    report = verify_path(folder)
    assert report.verdict == before.verdict
    assert not findings_of(report, "EVIDENCE.claim-mismatch", "error")
    row = next(r for r in _rows(report) if r["seed"] == "42")
    assert row["line"] == "L193" and row["why"] == "claimed line"
    assert "quantized_sliding_window" in row["reason"] and "1.336" in row["reason"]
    assert len(_rows(report)) == 5


def test_the_claimed_line_must_be_on_the_eval_path_of_the_other_seeds(record):
    # Seed 42 claims its "quantized" line while every other seed claims its sliding-window
    # line: "quantized" is not the record's eval path, so the log's last line stays.
    folder = record(LOOP45)
    _append(folder / "train_seed42.log", BROKEN_PASS)
    sub = folder / "submission.json"
    doc = json.loads(sub.read_text())
    doc["seed_results"]["42"]["val_bpb"] = 1.10344992  # seed 42's "quantized" line
    sub.write_text(json.dumps(doc))
    report = verify_path(folder)
    row = next(r for r in _rows(report) if r["seed"] == "42")
    assert row["why"] == "last line" and row["val_bpb"] == "1.336000"


def test_claims_of_one_earlier_kind_in_every_seed_name_the_eval_path(record):
    folder = record(LOOP45)
    for log in folder.glob("train_seed*.log"):
        _append(log, BROKEN_PASS)
    report = verify_path(folder)
    assert {r["why"] for r in _rows(report)} == {"claimed line"}
    assert not findings_of(report, "EVIDENCE.claim-mismatch", "error")


def test_a_mean_claim_names_the_eval_path_when_a_later_pass_follows(record):
    folder = record(LOADER)
    for log in folder.glob("*.log"):
        _append(log, BROKEN_PASS)
    report = verify_path(folder)
    assert not findings_of(report, "EVIDENCE.claim-mismatch", "error")
    assert {r["why"] for r in _rows(report)} == {"claimed mean"}


def test_a_claimed_seed_without_a_log_keeps_its_row(record):
    folder = record(LOOP45)
    (folder / "train_seed2025.log").unlink()
    rows = _rows(verify_path(folder))
    row = next(r for r in rows if r["seed"] == "2025")
    assert row["log"] == "no log found" and row["check"] == "⚠️ no log"


def test_a_claim_off_in_its_last_digit_is_not_an_error(record):
    folder = record(LOOP45)  # five seeds average 1.08562480
    sub = folder / "submission.json"
    doc = json.loads(sub.read_text())
    doc["val_bpb"] = 1.0855  # one unit of the fourth decimal below 1.0856
    sub.write_text(json.dumps(doc))
    report = verify_path(folder)
    assert not findings_of(report, "EVIDENCE.claim-mismatch", "error")
    [info] = [f for f in findings_of(report, "EVIDENCE.claim-mismatch") if "val_bpb" in f.message]
    assert info.severity == "info" and "last printed digit" in info.message
    doc["val_bpb"] = 1.0853  # three units better than the evidence: a real mismatch
    sub.write_text(json.dumps(doc))
    assert findings_of(verify_path(folder), "EVIDENCE.claim-mismatch", "error")


def _earlier_script_log(folder):
    """A train_v0.txt beside the claimed seeds: seed 42's log as an earlier version of the
    script would print it (another code size, another score)."""
    log = folder / "train_v0.txt"
    log.write_text((folder / "train_seed42.log").read_text())
    edit(log, "Code size: 96398 bytes", "Code size: 91200 bytes")
    edit(log, "val_bpb:1.11271417", "val_bpb:1.13000000", count=2)
    return log


def test_logs_of_another_script_version_are_another_configuration(record):
    # A train_v0.txt of an earlier script (other code size, other settings, other score)
    # beside the claimed three seeds is listed apart, not averaged or judged with them.
    folder = record(LOADER)
    _earlier_script_log(folder)
    report = verify_path(folder)
    assert [r["log"] for r in _rows(report, "Other runs")] == ["train_v0.txt"]
    assert "other configuration (train_v0.txt): code 91,200 bytes (claimed group: 96,398)" in (
        report.notes
    )
    assert not findings_of(report, "EVIDENCE.same-config")
    assert not findings_of(report, "EVIDENCE.claim-mismatch", "error")
    assert report.exit_code == verify_path(folder).exit_code == 0


def test_budget_findings_of_other_runs_do_not_fail_the_record(record):
    folder = record(LOADER)
    old = _earlier_script_log(folder)
    text = old.read_text()
    stop = next(line for line in text.splitlines() if line.startswith("stopping_early"))
    edit(old, stop, stop.replace("train_time:586200ms", "train_time:986200ms"))
    report = verify_path(folder)
    over = findings_of(report, "BUDGET.train-time")
    assert over and all(f.severity == "warning" for f in over)
    assert all(f.message.startswith("not in the claim:") for f in over)


def test_seed_from_a_log_named_after_its_number(tmp_path):
    from golf_check.harness.evidence.logparse import parse_log

    line = "final_sliding val_loss:2.9877 val_bpb:1.1568 eval_time:428712ms\n"
    for name, seed in (("ternary_log_1337.txt", 1337), ("run-42.log", 42), ("train_v0.txt", None)):
        (tmp_path / name).write_text(line)
        log = parse_log(tmp_path / name)
        assert log.seed == seed and log.seed_source == ("filename" if seed else None)


def test_the_figure_the_claim_stands_for_is_named(record):
    early = verify_path(record("2026-03-22_11L_EMA_GPTQ-lite_warmdown3500_QAT015_1.1233"))
    assert early.data["headline_val_bpb"] == early.data["claimed_val_bpb"] == 1.12278022
    assert early.data["headline_basis"].startswith("one run's score: seed 1337 (train.log)")
    assert early.data["mean_val_bpb"] != early.data["headline_val_bpb"]
    later = verify_path(record(LOOP45))
    assert later.data["headline_basis"] == "the mean of 5 seed(s)"
    assert later.data["headline_val_bpb"] == later.data["mean_val_bpb"]


def test_the_readme_run_command_must_be_what_the_logs_ran(record):
    folder = record(LOOP45)
    command = "NUM_LAYERS=11 MATRIX_LR={lr} SEED=42 torchrun --nproc_per_node=8 train_gpt.py\n"
    readme = folder / "README.md"
    readme.write_text("# Run\n\n```bash\n" + command.format(lr="0.02") + "```\n")
    assert not _readme_findings(verify_path(folder))
    readme.write_text("# Run\n\n```bash\n" + command.format(lr="0.03") + "```\n")
    [finding] = _readme_findings(verify_path(folder))
    assert finding.severity == "warning" and finding.file == "README.md" and finding.line == 4
    assert "MATRIX_LR=0.03" in finding.message and "matrix_lr = 0.02" in finding.message


def _readme_findings(report):
    return [f for f in findings_of(report, "EVIDENCE.same-config") if "README" in f.message]


def test_a_log_named_for_another_seed_is_named(record):
    folder = record(LOOP45)
    (folder / "train_seed42.log").rename(folder / "train_seed7.log")
    [finding] = [
        f for f in findings_of(verify_path(folder), "EVIDENCE.seed-count") if "named" in f.message
    ]
    assert "train_seed7.log is named for seed 7 but the run printed seed 42" in finding.message


def test_a_seed_with_a_diagnostic_ttt_pass_after_its_score_stays_in_the_mean(record):
    # Seed 42 alone ran a diagnostic TTT pass (its own setting, its progress lines, a broken
    # final_int6_ttt line) after the sliding-window score the record claims.
    folder = record(LOOP45)
    for log in folder.glob("train_seed*.log"):
        enabled = "True" if log.name == "train_seed42.log" else "False"
        edit(log, "  tie_embeddings: True\n", f"  tie_embeddings: True\n  ttt_enabled: {enabled}\n")
    _append(
        folder / "train_seed42.log",
        "ttt_sliding:start chunks=1238 chunk_tokens=32768 stride=64 ttt_lr=0.005 ttt_epochs=3\n"
        "ttp: b1/782 bl:2.3 bb:1.04 rl:2.30 rb:1.04\n"
        "final_int6_ttt val_loss:3.45000000 val_bpb:1.33600000 eval_time:301000ms\n",
    )
    report = verify_path(folder)
    assert report.exit_code == 0
    row = next(r for r in _rows(report) if r["seed"] == "42")
    assert row["val_bpb"] == "1.086644" and row["check"] != "❌ incomplete"
    assert report.data["mean_val_bpb"] == pytest.approx(1.085624802, abs=1e-9)
    [config] = findings_of(report, "EVIDENCE.same-config")
    assert config.severity == "warning" and "ttt_enabled" in config.message


def test_the_group_of_the_claimed_seeds_is_judged_when_no_figure_matches(record):
    # The claim matches no group's figures (a stale claim) but lists seeds 1337 and 42: the
    # group holding exactly those seeds is judged; seed 2025 and a train_v0.txt, both of an
    # older script, are listed apart instead of being averaged in.
    folder = record(LOADER)
    old = folder / "train_v0.txt"
    old.write_text((folder / "train_seed42.log").read_text().replace("seed:42", "seed:7"))
    for log in (old, folder / "train_seed2025.log"):
        edit(log, "Code size: 96398 bytes", "Code size: 91200 bytes")
    sub = folder / "submission.json"
    doc = json.loads(sub.read_text())
    doc.update(val_bpb=1.2, seeds=[1337, 42])
    sub.write_text(json.dumps(doc))
    report = verify_path(folder)
    assert sorted(r["log"] for r in _rows(report, "Other runs")) == [
        "train_seed2025.log",
        "train_v0.txt",
    ]
    assert sorted(s["seed"] for s in report.data["seeds"]) == [42, 1337]


def test_a_claim_over_seeds_without_logs_names_the_gap(record):
    folder = record(LOOP45)
    for seed in (1234, 1337, 2025):
        (folder / f"train_seed{seed}.log").unlink()
    sub = folder / "submission.json"
    doc = json.loads(sub.read_text())
    doc["val_bpb"] = 1.0800
    sub.write_text(json.dumps(doc))
    errors = findings_of(verify_path(folder), "EVIDENCE.claim-mismatch", "error")
    [finding] = [f for f in errors if f.message.startswith("submission.json val_bpb")]
    assert "lists seed(s) 1, 42, 1234, 1337, 2025 and only 1, 42 has a log" in finding.message
