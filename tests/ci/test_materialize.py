"""Writing the committed folder into a temp dir: regular files only, never outside it."""

from __future__ import annotations

import os

import pytest

from golf_check.harness.ci.materialize import materialize
from golf_check.harness.ci.paths import path_problem, symlink_escapes
from golf_check.harness.ci.pull_request import load_pull_request


def test_writes_exactly_the_committed_regular_files(challenge, tmp_path):
    challenge.fork()
    folder = challenge.submission()
    challenge.write(f"{folder}/logs/extra/train9.txt", "seed: 9\n")
    challenge.symlink(f"{folder}/link.log", "/etc/hostname")
    challenge.commit()
    (record,) = load_pull_request(str(challenge.root), "main", "HEAD").new_folders
    dest = tmp_path / "out"
    dest.mkdir()
    written, skipped = materialize(record, str(dest))
    on_disk = sorted(
        os.path.relpath(os.path.join(d, f), dest) for d, _, fs in os.walk(dest) for f in fs
    )
    assert on_disk == sorted(written)
    assert "logs/extra/train9.txt" in written and "train_gpt.py" in written
    assert not any(os.path.islink(dest / p) for p in written)
    assert skipped == [f"{folder}/link.log: symlink, not written for check/verify"]
    assert (dest / "train_gpt.py").read_bytes() == (
        challenge.root / folder / "train_gpt.py"
    ).read_bytes()


def test_never_overwrites_an_existing_file(challenge, tmp_path):
    challenge.fork()
    challenge.submission()
    challenge.commit()
    (record,) = load_pull_request(str(challenge.root), "main", "HEAD").new_folders
    (tmp_path / "README.md").write_text("mine")
    with pytest.raises(FileExistsError):
        materialize(record, str(tmp_path))
    assert (tmp_path / "README.md").read_text() == "mine"


def test_oversized_files_are_not_written(challenge, tmp_path):
    challenge.fork()
    folder = challenge.submission()
    challenge.write(f"{folder}/big.md", "x" * 50_000)
    challenge.commit()
    pr = load_pull_request(str(challenge.root), "main", "HEAD", max_file_bytes=40_000)
    written, skipped = materialize(pr.new_folders[0], str(tmp_path))
    assert "big.md" not in written
    assert skipped == [f"{folder}/big.md: over the size bound, not read for check/verify"]


@pytest.mark.parametrize(
    "path, problem",
    [
        ("records/a/../b", "can climb out"),
        ("/etc/passwd", "absolute path"),
        ("records\\a", "backslash"),
        ("records/.git/config", ".git"),
        ("records/a\x1b[31m", "control"),
        ("records/a\ufffdb", "not valid UTF-8"),
        ("records//a", "can climb out"),
    ],
)
def test_unsafe_paths(path, problem):
    assert problem in (path_problem(path) or "")


def test_safe_paths_with_spaces_are_fine():
    # Real record folders have spaces in their names.
    assert path_problem("records/track_10min_16mb/2026-03-19_int6_STE QAT_ MLP/README.md") is None


def test_symlink_escape_resolution():
    folder = "records/t/x"
    assert not symlink_escapes(f"{folder}/a.log", "logs/b.log", folder)
    assert not symlink_escapes(f"{folder}/logs/a.log", "../b.log", folder)
    assert symlink_escapes(f"{folder}/a.log", "../y/b.log", folder)
    assert symlink_escapes(f"{folder}/a.log", "/etc/passwd", folder)
