"""Benchmark `golf-check ci` on a pull request adding a 5-log record folder.

Builds a throw-away challenge-like git repository (a merged record on main, a fork branch
adding the real 5-seed record 2026-04-22_..._PhasedTTT_MLPClip12 with a README and a small
train_gpt.py), then times the gate, medians of repeated runs:

* cold: `golf-check ci` as a fresh process (imports included), what a CI job pays;
* warm: `gate_pull_request` in this process (git reads, PACKAGE rules, check, verify).

Target: the cold gate under 3 s on 2 cores.

    .venv/bin/python bench/bench_ci.py [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from git_repo import git

ROOT = Path(__file__).resolve().parents[1]
RECORDS = ROOT / "tests" / "fixtures" / "records"
SCRIPT = ROOT / "tests" / "ci" / "scripts" / "legal_train_gpt.py"
RECORD = "2026-04-22_SP8192_CaseOps_GatedAttn_QuantGate_Loop45_PhasedTTT_MLPClip12"
MERGED = "2026-04-09_A2_Muon097_3Seed"
TRACK = "records/track_10min_16mb"
TARGET_S = 3.0


def build_repo(root: Path) -> Path:
    repo = root / "parameter-golf"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("# Parameter Golf\n")
    shutil.copytree(RECORDS / MERGED, repo / TRACK / MERGED)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "checkout", "-q", "-b", "fork")
    folder = repo / TRACK / f"2026-05-01_{RECORD.split('_', 1)[1]}"
    shutil.copytree(RECORDS / RECORD, folder)
    (folder / "README.md").write_text("# Bench submission\n")
    shutil.copy(SCRIPT, folder / "train_gpt.py")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "submission")
    logs = sorted(p.name for p in folder.glob("*.log"))
    assert len(logs) == 5, logs
    return repo


def time_cold(repo: Path, repeats: int) -> tuple[list[float], int]:
    times, code = [], 0
    cmd = [sys.executable, "-m", "golf_check.harness", "ci", "--repo", str(repo), "--base", "main"]
    for _ in range(repeats):
        start = time.perf_counter()
        proc = subprocess.run(cmd + ["--format", "json"], capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
        code = proc.returncode
    return times, code


def time_warm(repo: Path, repeats: int) -> list[float]:
    from golf_check.harness.ci.gate import gate_pull_request

    gate_pull_request(str(repo), "main", "HEAD")  # first call pays the imports
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        gate_pull_request(str(repo), "main", "HEAD")
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ci-") as tmp:
        repo = build_repo(Path(tmp))
        cold, code = time_cold(repo, args.repeats)
        warm = time_warm(repo, args.repeats)
    cold_med, warm_med = statistics.median(cold), statistics.median(warm)
    print(f"pull request: 1 new folder, 5 logs ({RECORD}), {os.cpu_count()} CPUs")
    print(f"{'measure':<34}{'median s':>10}{'min s':>9}{'max s':>9}")
    for label, xs in (("cold `golf-check ci` (process)", cold), ("warm gate_pull_request()", warm)):
        print(f"{label:<34}{statistics.median(xs):>10.3f}{min(xs):>9.3f}{max(xs):>9.3f}")
    print(f"imports and start-up (cold - warm): {cold_med - warm_med:.3f} s")
    print(f"gate exit code: {code}")
    verdict = "met" if cold_med < TARGET_S else "MISSED"
    print(f"target: cold median < {TARGET_S:.1f} s: {verdict}")


if __name__ == "__main__":
    main()
