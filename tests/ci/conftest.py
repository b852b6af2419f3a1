"""Throw-away git repositories shaped like the challenge repository, and pull requests on them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RECORDS = FIXTURES / "records"
SCRIPTS = Path(__file__).resolve().parent / "scripts"
TRACK = "records/track_10min_16mb"
MERGED = "2026-04-09_A2_Muon097_3Seed"  # a record already on main in every test repository

_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


class ChallengeRepo:
    """A challenge-like repository with a ``main`` branch; ``fork()`` starts a pull request."""

    TRACK = TRACK
    MERGED = MERGED

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.write("README.md", "# Parameter Golf\n")
        self.write("train_gpt.py", "# baseline\n")
        self.write("data/cached_challenge_fineweb.py", "# download script\n")
        self.copy_record(MERGED, f"{TRACK}/{MERGED}")
        self.write(f"{TRACK}/{MERGED}/README.md", "# merged record\n")
        self.write(f"{TRACK}/{MERGED}/train_gpt.py", legal_script())
        self.commit("base")

    def git(self, *args: str, input: bytes | None = None) -> str:
        proc = subprocess.run(
            ["git", *args],
            cwd=self.root,
            env={**os.environ, **_ENV},
            input=input,
            capture_output=True,
            check=True,
        )
        return proc.stdout.decode()

    def write(self, rel: str, content: str | bytes) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode()
        path.write_bytes(content)
        return path

    def symlink(self, rel: str, target: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(target)

    def copy_record(self, fixture: str, rel: str) -> None:
        shutil.copytree(RECORDS / fixture, self.root / rel, dirs_exist_ok=True)

    def commit(self, message: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--no-verify", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def fork(self, branch: str = "fork") -> None:
        self.git("checkout", "-q", "-b", branch)

    def submission(
        self,
        name: str = "2026-05-01_Test",
        fixture: str = "2026-04-06_SP8192_QK5_LegalTTT_1.0828",
        script: str | None = None,
    ) -> str:
        """Add a complete record folder (fixture logs + README + script); return its path."""
        folder = f"{TRACK}/{name}"
        self.copy_record(fixture, folder)
        self.write(f"{folder}/README.md", "# Test submission\n\nTrained with train_gpt.py.\n")
        self.write(f"{folder}/train_gpt.py", script if script is not None else legal_script())
        return folder

    legal_script = staticmethod(lambda: legal_script())
    illegal_script = staticmethod(lambda: illegal_script())


def legal_script() -> str:
    return (SCRIPTS / "legal_train_gpt.py").read_text()


def illegal_script() -> str:
    return (SCRIPTS / "pretrain_on_val_train_gpt.py").read_text()


@pytest.fixture
def challenge(tmp_path: Path) -> ChallengeRepo:
    return ChallengeRepo(tmp_path / "parameter-golf")
