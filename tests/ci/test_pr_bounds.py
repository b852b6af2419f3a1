"""A pull request too large to gate is refused whole, before its blobs are read or written out:
too many changed files, or too many bytes in its folder."""

from __future__ import annotations

import pytest

from golf_check.harness.ci import pull_request
from golf_check.harness.cli import main


def _ci(challenge, capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(["ci", "--repo", str(challenge.root), "--base", "main", "--format", "json"])
    return exc.value.code, capsys.readouterr().err


def test_too_many_changed_files_is_an_input_error(challenge, capsys, monkeypatch):
    challenge.fork()
    folder = challenge.submission()
    for i in range(12):
        challenge.write(f"{folder}/extra/{i}.txt", "x\n")
    challenge.commit()
    monkeypatch.setattr(pull_request, "MAX_CHANGED_FILES", 10)
    code, err = _ci(challenge, capsys)
    assert code == 2
    assert "golf-check gates at most 10" in err and err.count("\n") == 1


def test_a_folder_too_large_to_read_is_an_input_error(challenge, capsys, monkeypatch):
    challenge.fork()
    folder = challenge.submission()
    challenge.write(f"{folder}/notes.txt", "n" * 50_000)
    challenge.commit()
    monkeypatch.setattr(pull_request, "MAX_FOLDER_READ_BYTES", 40_000)
    code, err = _ci(challenge, capsys)
    assert code == 2
    assert "reads at most" in err and err.count("\n") == 1


def test_a_submission_within_the_bounds_is_gated(challenge, capsys):
    challenge.fork()
    challenge.submission()
    challenge.commit()
    code, err = _ci(challenge, capsys)
    assert code in (0, 1), err
