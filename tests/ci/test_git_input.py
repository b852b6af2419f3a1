"""Reading the pull request from git: refs, the three-dot diff, git objects over the work tree,
and bad input (one clear line, exit 2)."""

from __future__ import annotations

import os
import subprocess

import pytest
from golf_cli import golf_check

from golf_check.harness.ci.gate import package_findings
from golf_check.harness.ci.pull_request import load_pull_request
from golf_check.harness.errors import InputError


def golf(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return golf_check(*args, cwd=cwd, env={**os.environ, "NO_COLOR": "1"}, timeout=60)


def test_not_a_git_repository_is_one_line_exit_2(tmp_path):
    proc = golf("ci", "--repo", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"golf-check: error: {tmp_path}: not a git repository"
    assert "Traceback" not in proc.stderr + proc.stdout


def test_missing_directory_is_exit_2(tmp_path):
    with pytest.raises(InputError, match="not a directory"):
        load_pull_request(str(tmp_path / "nope"))


def test_unknown_ref_is_one_line_exit_2(challenge):
    challenge.fork()
    challenge.submission()
    challenge.commit()
    proc = golf("ci", "--repo", str(challenge.root), "--base", "no-such-branch")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert "no-such-branch: unknown git ref" in proc.stderr


def test_option_like_ref_is_refused(challenge):
    with pytest.raises(InputError, match="not a valid git ref"):
        load_pull_request(str(challenge.root), "--output=/tmp/x")


def test_empty_diff_is_exit_2_and_still_writes_the_comment(challenge, tmp_path):
    comment = tmp_path / "comment.md"
    proc = golf("ci", "--repo", str(challenge.root), "--comment-file", str(comment))
    assert proc.returncode == 2
    assert "empty diff" in proc.stderr
    text = comment.read_text()
    assert text.startswith("## ⛔ golf-check ci: **ERROR**")
    assert "empty diff" in text


def test_no_default_base_asks_for_one(challenge):
    challenge.git("branch", "-m", "main", "trunk")
    with pytest.raises(InputError, match="pass --base"):
        load_pull_request(str(challenge.root))


def test_default_base_prefers_origin_main(challenge):
    base = challenge.git("rev-parse", "HEAD").strip()
    challenge.git("update-ref", "refs/remotes/origin/main", base)
    challenge.git("checkout", "-q", "-b", "fork")
    challenge.write("README.md", "local main moves on\n")
    challenge.commit()
    challenge.git("branch", "-f", "main", "HEAD")  # local main now includes the README edit
    challenge.submission()
    challenge.commit()
    pr = load_pull_request(str(challenge.root))
    assert pr.base_ref == "origin/main" and pr.base == base
    assert [c.path for c in pr.outside] == ["README.md"]


def test_diff_is_three_dot_so_later_main_commits_do_not_count(challenge):
    challenge.fork()
    folder = challenge.submission()
    challenge.commit()
    challenge.git("checkout", "-q", "main")
    challenge.write("README.md", "# main moved on after the fork\n")
    challenge.commit()
    pr = load_pull_request(str(challenge.root), "main", "fork")
    assert pr.outside == []
    assert [f.path for f in pr.new_folders] == [folder]


def test_files_come_from_git_objects_not_the_work_tree(challenge):
    challenge.fork()
    folder = challenge.submission()
    challenge.commit()
    # Dirty the work tree: drop a checkpoint, replace a log by a symlink, delete the script.
    challenge.write(f"{folder}/final_model.pt", b"PK\x03\x04" + b"\0" * 64)
    (challenge.root / folder / "train_seed42.log").unlink()
    (challenge.root / folder / "train_seed42.log").symlink_to("/etc/hostname")
    (challenge.root / folder / "train_gpt.py").unlink()
    pr = load_pull_request(str(challenge.root), "main", "HEAD")
    assert [f for f in package_findings(pr) if f.severity != "info"] == []
    names = pr.new_folders[0].names()
    assert "train_gpt.py" in names and "final_model.pt" not in names
    assert b"seed: 42" in pr.new_folders[0].contents["train_seed42.log"]


def test_head_option_gates_that_commit(challenge):
    challenge.fork()
    challenge.submission()
    good = challenge.commit()
    challenge.write("README.md", "later change\n")
    challenge.commit()
    assert load_pull_request(str(challenge.root), "main", good).outside == []
    assert load_pull_request(str(challenge.root), "main", "HEAD").outside != []


def test_unrelated_histories_are_exit_2(challenge, tmp_path):
    challenge.git("checkout", "-q", "--orphan", "other")
    challenge.write("x.txt", "x\n")
    challenge.commit()
    with pytest.raises(InputError, match="share no history"):
        load_pull_request(str(challenge.root), "main", "other")
