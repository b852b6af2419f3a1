"""`golf-check ci`'s SARIF logs, both --sarif-file and --format sarif, are uploadable."""

from __future__ import annotations

import json

import pytest

from golf_check.harness.cli import main


def _ci(challenge, *args: str) -> int:
    with pytest.raises(SystemExit) as exc:
        main(["ci", "--repo", str(challenge.root), "--base", "main", *args])
    return exc.value.code


def test_ci_sarif_has_a_repository_location_on_every_result(
    challenge, tmp_path, monkeypatch, capsys, sarif_uploadable
):
    challenge.fork()
    folder = challenge.submission(script=challenge.illegal_script())
    challenge.write("README.md", "# touched\n")  # a finding about a file outside the folder
    challenge.commit()
    monkeypatch.chdir(tmp_path)  # the workflow runs golf-check outside the checkout
    side = tmp_path / "side.sarif"
    assert _ci(challenge, "--format", "sarif", "--sarif-file", str(side)) == 1
    printed = json.loads(capsys.readouterr().out)
    for log in (printed, json.loads(side.read_text())):
        uris = sarif_uploadable(log)
        assert f"{folder}/train_gpt.py" in uris and "README.md" in uris
        assert all(u == "README.md" or u.startswith(f"{folder}/") for u in uris), uris
    assert printed["runs"][0]["results"] == json.loads(side.read_text())["runs"][0]["results"]


def test_ci_sarif_when_nothing_could_be_gated(challenge, tmp_path, sarif_uploadable):
    challenge.fork()  # no commit on the fork: an empty diff
    side = tmp_path / "empty.sarif"
    assert _ci(challenge, "--sarif-file", str(side)) == 2
    log = json.loads(side.read_text())
    assert sarif_uploadable(log) == []
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is False
