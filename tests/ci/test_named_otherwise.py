"""A record whose script or submission file is named otherwise (a merged record ships
train_gpt_cuda_ternary.py and submission_ternary.json) is read and warned about; a folder
that lacks the file altogether fails the gate."""

from __future__ import annotations

from golf_check.harness.ci.gate import gate_pull_request


def _required(report):
    return [f for f in report.all_findings() if f.rule == "PACKAGE.required-files"]


def test_files_named_otherwise_are_read_and_warned(challenge):
    challenge.fork()
    folder = challenge.root / challenge.submission()
    (folder / "train_gpt.py").rename(folder / "train_gpt_cuda_ternary.py")
    (folder / "submission.json").rename(folder / "submission_ternary.json")
    challenge.commit()
    report = gate_pull_request(str(challenge.root), "main", "HEAD")
    found = _required(report)
    assert len(found) == 2 and {f.severity for f in found} == {"warning"}
    assert any("submission_ternary.json is read in its place" in f.message for f in found)
    assert report.data["verify"][f"{challenge.TRACK}/2026-05-01_Test"]["claimed_val_bpb"]


def test_a_missing_submission_file_fails_the_gate(challenge):
    challenge.fork()
    folder = challenge.root / challenge.submission()
    (folder / "submission.json").unlink()
    challenge.commit()
    report = gate_pull_request(str(challenge.root), "main", "HEAD")
    [missing] = [f for f in _required(report) if f.severity == "error"]
    assert "no submission.json" in missing.message and report.exit_code == 1
