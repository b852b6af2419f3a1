"""A run report built to exhaust memory is refused before it is read as seeds."""

from __future__ import annotations

import json
import subprocess

from golf_cli import golf_check

from golf_check.harness.evidence import runreport


def _verify(path) -> subprocess.CompletedProcess:
    return golf_check("verify", path, "--format", "json")


def test_a_report_with_too_many_seeds_is_one_input_error(tmp_path):
    path = tmp_path / "report.json"
    seeds = [{}] * (runreport.MAX_REPORT_SEEDS + 1)
    path.write_text(json.dumps({"command": "run", "seeds": seeds}))
    done = _verify(path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert f"at most {runreport.MAX_REPORT_SEEDS}" in done.stderr


def test_an_oversized_report_is_refused_unread(tmp_path):
    path = tmp_path / "report.json"
    with open(path, "w") as fh:  # valid JSON of empty objects: 30 times its size once parsed
        fh.write('{"command": "run", "seeds": [{}]' + ', "pad": [' + "{}," * 3_000_000 + "{}]}")
    assert path.stat().st_size > runreport.MAX_REPORT_BYTES
    done = _verify(path)
    assert done.returncode == 2 and "too large for a report" in done.stderr, done.stderr
