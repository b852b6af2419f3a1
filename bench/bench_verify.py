"""Benchmark `golf-check verify`: speed on a folder of 5 logs of 5 MB each, memory on 1 GB.

Run: .venv/bin/python bench/bench_verify.py [--repeats 7] [--big-gb 1.0] [--lines-mb 200]

* folder: a real record (the 2026-04-22 CaseOps record) whose 5 logs are padded to 5 MB
  each with realistic per-step training lines and phased-TTT progress lines, so the parser
  sees the line mix of a long real log. Target: median < 1 s for the whole `verify_path`.
* big log: a sparse file with a --big-gb GiB hole (NUL bytes, no newline: one overlong
  line) and a real log appended, and a generated --lines-mb MB log of ordinary lines
  (steps, progress, a score line every 100 lines). Each is parsed in a child process whose
  peak resident memory is reported beside a child that parses a 33 KB log: it stays flat.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from golf_check.harness.evidence.logparse import parse_log  # noqa: E402
from golf_check.harness.evidence.verifier import verify_path  # noqa: E402

RECORD = (
    ROOT
    / "tests/fixtures/records"
    / "2026-04-22_SP8192_CaseOps_GatedAttn_QuantGate_Loop45_PhasedTTT_MLPClip12"
)
TARGET_BYTES = 5 * 1024 * 1024


def padded_folder(dest: Path) -> Path:
    """Copy the record and pad each log to 5 MB with step and TTT progress lines."""
    shutil.copytree(RECORD, dest)
    for log in sorted(dest.glob("*.log")):
        lines = log.read_text().splitlines(keepends=True)
        cut = next(i for i, line in enumerate(lines) if line.startswith("stopping_early"))
        pad = []
        size = sum(len(x) for x in lines)
        step = 0
        while size < TARGET_BYTES:
            step += 1
            a = f"{step}/20000 train_loss: 2.{step % 9973:04d} train_time: 9.1m tok/s: 6511181\n"
            b = f"ttp: b{step % 782}/782 bl:2.3 bb:1.04 rl:2.30 rb:1.04 dl:412-414 gd:1\n"
            pad += [a, b]
            size += len(a) + len(b)
        log.write_text("".join(lines[:cut] + pad + lines[cut:]))
    return dest


def time_folder(folder: Path, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        report = verify_path(folder)
        times.append(time.perf_counter() - t0)
        assert len(report.data["seeds"]) == 5 and report.exit_code == 0, report.errors
    return times


def big_log(path: Path, gib: float) -> None:
    with open(path, "wb") as fh:
        fh.truncate(int(gib * 1024**3))  # a sparse hole: no disk, no write time
        fh.seek(0, os.SEEK_END)
        fh.write((RECORD / "train_seed1.log").read_bytes())


def generated_log(path: Path, megabytes: float) -> None:
    """Many ordinary lines: a real header, then steps, progress and score lines, then a tail."""
    lines = (RECORD / "train_seed1.log").read_text().splitlines(keepends=True)
    cut = next(i for i, line in enumerate(lines) if line.startswith("stopping_early"))
    block = "".join(
        f"{i}/20000 train_loss: 2.{i:04d} train_time: 9.1m tok/s: 6511181\n"
        f"ttp: b{i % 782}/782 bl:2.3 bb:1.04 rl:2.30 rb:1.04 dl:412-414 gd:1\n"
        + (
            f"diagnostic quantized val_loss:2.3{i:05d} val_bpb:1.07{i:04d} eval_time:9ms\n"
            if i % 50 == 0
            else ""
        )
        for i in range(1000)
    ).encode()
    with open(path, "wb") as fh:
        fh.write("".join(lines[:cut]).encode())
        for _ in range(int(megabytes * 1e6 / len(block)) + 1):
            fh.write(block)
        fh.write("".join(lines[cut:]).encode())


def child_parse(path: str) -> None:
    t0 = time.perf_counter()
    log = parse_log(path)
    elapsed = time.perf_counter() - t0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{elapsed:.3f} {peak_kib} {log.headline().val_bpb}")


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child_parse(sys.argv[2])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--big-gb", type=float, default=1.0)
    ap.add_argument("--lines-mb", type=float, default=200.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = padded_folder(Path(tmp) / "record")
        sizes = [p.stat().st_size for p in folder.glob("*.log")]
        times = time_folder(folder, args.repeats)
        mb = sum(sizes) / 1e6
        med = statistics.median(times)
        print(f"folder: {len(sizes)} logs, {mb:.1f} MB total")
        print(
            f"verify_path: median {med:.3f} s over {args.repeats} runs "
            f"(min {min(times):.3f}, max {max(times):.3f}); {mb / med:.1f} MB/s"
        )

        big = Path(tmp) / "train_big.log"
        big_log(big, args.big_gb)
        many = Path(tmp) / "train_many.log"
        generated_log(many, args.lines_mb)
        small = _child(RECORD / "train_seed1.log")
        print(f"baseline: a 33 KB log parses with peak RSS {small[1] / 1024:.0f} MiB")
        for label, path in (("sparse", big), ("generated", many)):
            elapsed, peak, headline = _child(path)
            size = path.stat().st_size
            print(
                f"{label} log: {size / 1e6:,.0f} MB parsed in {elapsed:.2f} s "
                f"({size / 1e6 / elapsed:.0f} MB/s), peak RSS {peak / 1024:.0f} MiB; "
                f"headline {headline}"
            )


def _child(path: Path) -> tuple[float, int, str]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), int(out[1]), out[2]


if __name__ == "__main__":
    main()
