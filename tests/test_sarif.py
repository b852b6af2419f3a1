"""Every SARIF log `check` and `verify` write is one GitHub code scanning accepts.

GitHub rejects a whole upload when one result has no location, and shows a result at the
right file only when its URI is relative to the repository root. ``ci``'s logs are tested in
tests/ci/test_ci_sarif.py, on a real pull request in a scratch repository.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from golf_check.harness.cli import main
from golf_check.harness.report import Finding, RenderOptions, Report, render

ROOT = Path(__file__).resolve().parents[1]
TWINS = ROOT / "tests" / "static" / "twins"
RECORDS = ROOT / "tests" / "fixtures" / "records"


def _run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return exc.value.code


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A checkout: a .git folder, a record folder with an illegal and a legal script."""
    root = tmp_path / "parameter-golf"
    (root / ".git").mkdir(parents=True)
    folder = root / "records" / "track_10min_16mb" / "2026-05-01_Twin"
    folder.mkdir(parents=True)
    shutil.copy(TWINS / "C3.pretrain-on-val" / "illegal_logged_epochs.py", folder / "train_gpt.py")
    shutil.copy(TWINS / "PACKAGE.unused-suppression" / "illegal_stale.py", folder / "helper.py")
    return root


def test_check_writes_paths_relative_to_the_git_top_level(
    repo, tmp_path, monkeypatch, sarif_uploadable
):
    folder = repo / "records" / "track_10min_16mb" / "2026-05-01_Twin"
    monkeypatch.chdir(folder)  # inside the repository, below its top level
    out = tmp_path / "check.sarif"
    code = _run(
        ["check", "train_gpt.py", str(folder / "helper.py"), "--format", "sarif", "-o", str(out)]
    )
    assert code == 1
    log = json.loads(out.read_text())
    uris = sarif_uploadable(log)
    prefix = "records/track_10min_16mb/2026-05-01_Twin/"
    assert f"{prefix}train_gpt.py" in uris and f"{prefix}helper.py" in uris
    assert set(uris) <= {f"{prefix}train_gpt.py", f"{prefix}helper.py"}
    base = log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base == repo.as_uri() + "/"


def test_check_repo_root_option_wins(repo, tmp_path, monkeypatch, sarif_uploadable):
    monkeypatch.chdir(repo)
    out = tmp_path / "check.sarif"
    records = repo / "records"
    target = "records/track_10min_16mb/2026-05-01_Twin/train_gpt.py"
    _run(["check", target, "--format", "sarif", "--repo-root", str(records), "-o", str(out)])
    uris = sarif_uploadable(json.loads(out.read_text()))
    assert uris and all(u == "track_10min_16mb/2026-05-01_Twin/train_gpt.py" for u in uris)


def test_check_sarif_for_unreadable_input_is_still_valid(tmp_path, monkeypatch, sarif_uploadable):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "missing.sarif"
    assert _run(["check", "no_such_script.py", "--format", "sarif", "-o", str(out)]) == 2
    log = json.loads(out.read_text())
    sarif_uploadable(log)
    (invocation,) = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False


@pytest.mark.parametrize(
    "record",
    [
        "2026-04-22_SP8192_CaseOps_GatedAttn_QuantGate_Loop45_PhasedTTT_MLPClip12",
        "2026-03-18_LongContextSeq2048",
    ],
)
def test_verify_results_all_have_a_repository_location(
    record, tmp_path, monkeypatch, sarif_uploadable
):
    monkeypatch.chdir(tmp_path)  # outside the repository: the root comes from the input
    out = tmp_path / "verify.sarif"
    _run(["verify", str(RECORDS / record), "--format", "sarif", "-o", str(out)])
    log = json.loads(out.read_text())
    uris = sarif_uploadable(log)
    assert log["runs"][0]["results"], "the fixture should give at least one finding"
    folder = f"tests/fixtures/records/{record}"
    assert all(u == folder or u.startswith(folder + "/") for u in uris), uris


def _fileless(rule: str = "EVIDENCE.seed-count") -> Finding:
    return Finding(
        rule=rule,
        condition=rule.split(".")[0],
        severity="error",
        confidence="high",
        message="three seeds claimed, two logs",
        level="log",
    )


def test_a_finding_without_a_file_points_at_the_input(repo, sarif_uploadable):
    folder = repo / "records" / "track_10min_16mb" / "2026-05-01_Twin"
    report = Report(command="verify", target=str(folder), findings=[_fileless()])
    log = json.loads(render(report, "sarif", options=RenderOptions(repo_root=str(repo))))
    assert sarif_uploadable(log) == ["records/track_10min_16mb/2026-05-01_Twin"]
    assert log["runs"][0]["results"][0]["properties"]["locationIsFallback"] is True


def test_a_pull_request_finding_without_a_file_points_at_its_record_folder(sarif_uploadable):
    report = Report(command="ci", target="main...HEAD", findings=[_fileless("PACKAGE.pr-scope")])
    report.data["pull_request"] = {"record_folders": ["records/track_10min_16mb/2026-05-01_X"]}
    log = json.loads(render(report, "sarif"))
    assert sarif_uploadable(log) == ["records/track_10min_16mb/2026-05-01_X/"]
    rule = log["runs"][0]["tool"]["driver"]["rules"][0]
    assert "golf-check rules PACKAGE.pr-scope" in rule["help"]["text"]
