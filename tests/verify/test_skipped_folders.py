"""Folders `verify` never searches, the same ones `check` never searches for scripts."""

from __future__ import annotations

import shutil

from golf_check.harness.evidence.verifier import record_folders_under

from .conftest import RECORDS

LONG = "2026-03-18_LongContextSeq2048"


def test_a_virtual_environment_or_cache_is_not_searched_for_records(tmp_path):
    for holder in ("track", "venv", "node_modules", ".tox"):
        shutil.copytree(RECORDS / LONG, tmp_path / holder / LONG)
    found = [p.relative_to(tmp_path).as_posix() for p in record_folders_under(tmp_path)]
    assert found == [f"track/{LONG}"]
