"""`verify` on several record folders, or a folder of record folders: each is judged on its
own, never pooled into one mean, and the exit code is the worst folder's."""

from __future__ import annotations

import json
import shutil

import pytest

from golf_check.harness.evidence.verifier import record_folders_under, verify_paths
from golf_check.harness.report import validate_report_json

from .conftest import RECORDS, edit, run_verify

LONG = "2026-03-18_LongContextSeq2048"
SEQ2048 = "2026-03-19_Seq2048_FP16Emb_TunedLR"
A2 = "2026-04-09_A2_Muon097_3Seed"


@pytest.fixture
def records(tmp_path):
    """A records/track_10min_16mb tree holding three copied record folders."""
    track = tmp_path / "records" / "track_10min_16mb"
    track.mkdir(parents=True)
    for name in (LONG, SEQ2048, A2):
        shutil.copytree(RECORDS / name, track / name)
    return tmp_path / "records"


def test_a_folder_of_records_is_verified_folder_by_folder(records):
    assert len(record_folders_under(records)) == 3
    report = verify_paths([records])
    summary = report.tables[0]
    assert [r["folder"].split("/")[-1] for r in summary.rows] == [LONG, SEQ2048, A2]
    assert all(r["verdict"] == "warn" for r in summary.rows)
    assert "mean_val_bpb" not in report.data  # no pooled mean over different records
    assert [f["folder"].split("/")[-1] for f in report.data["folders"]] == [LONG, SEQ2048, A2]
    assert report.exit_code == 0


def test_one_failing_record_fails_the_run_and_is_named(records):
    log = records / "track_10min_16mb" / LONG / "train_seed1338.log"
    edit(log, "train_time:600043ms step:11575", "train_time:615000ms step:11575")
    report = verify_paths([records])
    verdicts = {r["folder"].split("/")[-1]: r["verdict"] for r in report.tables[0].rows}
    assert verdicts == {LONG: "fail", SEQ2048: "warn", A2: "warn"}
    [over] = [f for f in report.all_findings() if f.rule == "BUDGET.train-time"]
    assert over.file == f"track_10min_16mb/{LONG}/train_seed1338.log"
    assert report.exit_code == 1


def test_several_paths_on_the_command_line(capsys):
    code, out, _ = run_verify(capsys, RECORDS / LONG, RECORDS / A2, "--format", "json")
    doc = json.loads(out)
    validate_report_json(doc)
    assert code == 0 and len(doc["folders"]) == 2
    assert {f["verdict"] for f in doc["folders"]} == {"warn"}


def test_a_single_record_folder_is_not_split(tmp_path):
    assert record_folders_under(RECORDS / A2) == []
    report = verify_paths([RECORDS / A2])
    assert report.data["mean_val_bpb"] is not None and "folders" not in report.data


def test_every_sarif_result_has_a_file_and_a_line(capsys, records):
    for target in (records, records / "track_10min_16mb" / SEQ2048):
        code, out, _ = run_verify(capsys, target, "--format", "sarif")
        results = json.loads(out)["runs"][0]["results"]
        assert results and code == 0
        for result in results:
            [location] = result["locations"]
            assert location["physicalLocation"]["artifactLocation"]["uri"]
            assert location["physicalLocation"]["region"]["startLine"] >= 1


def test_an_unreadable_folder_among_several_is_an_input_error(capsys, tmp_path):
    empty = tmp_path / "empty_record"
    empty.mkdir()
    (empty / "submission.json").write_text("{}")
    code, _, err = run_verify(capsys, RECORDS / A2, empty)
    assert code == 2 and "no run log found" in err


def test_a_record_with_its_logs_in_a_subfolder_is_one_record(tmp_path):
    record = tmp_path / "2026-05-01_logs_in_a_subfolder"
    shutil.copytree(RECORDS / A2, record / "logs")
    (record / "logs" / "submission.json").unlink()
    assert record_folders_under(record) == []
    assert len(verify_paths([record]).data["seeds"]) == 3


def test_a_log_among_several_paths_keeps_its_folder_in_finding_paths(tmp_path):
    log = tmp_path / "run" / "train.log"
    log.parent.mkdir()
    shutil.copy(RECORDS / LONG / "train.log", log)
    report = verify_paths([log, RECORDS / A2])
    mine = [f for f in report.all_findings() if f.file.endswith("train.log")]
    assert mine and all(f.file == f"{log.parent.as_posix()}/train.log" for f in mine)
