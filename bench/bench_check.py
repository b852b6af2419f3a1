"""Benchmark `golf-check check`: speed on a 100 KB script, memory on a folder of 50 scripts.

Run: .venv/bin/python bench/bench_check.py [--repeats 15] [--scripts 50]

* input: the project's own legal record twins (tests/static/twins/legal_record*.py), with
  every function and class renamed per copy and replicated until the script is >= 100 KB,
  so the checker sees a long script with many functions, loops, TTT paths and env switches
  (real merged records are 50-130 KB). Half of the copies carry an illegal pre-quant TTT
  pass, so the detectors that fire do their full work.
* speed: median wall time of `check_file` (read, parse, model, every static detector,
  suppressions) after one warm-up run; target < 100 ms. The self-extracting (LZMA2+base85)
  form of the same script is timed beside it.
* memory: a child process runs `check_paths` over a folder of --scripts such scripts and
  reports its tracemalloc peak and its peak resident set size (which includes the
  interpreter and imported libraries); target < 200 MB.
"""

from __future__ import annotations

import argparse
import ast
import base64
import json
import lzma
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from golf_check.harness.static.checker import check_file  # noqa: E402

TWINS = ROOT / "tests" / "static" / "twins"
SOURCES = [
    TWINS / "legal_record.py",
    TWINS / "legal_record_phased.py",
    TWINS / "C3.prequant-ttt" / "illegal_in_record.py",
]
TARGET = 100 * 1024


def big_script(target: int = TARGET) -> str:
    """Concatenate renamed copies of the twins until the text is at least ``target`` bytes."""
    parts = ["import math\nimport os\nimport time\n\nimport torch\nimport torch.nn as nn\n"]
    size, copy = 0, 0
    while size < target:
        src = SOURCES[copy % len(SOURCES)].read_text()
        body = src.split('"""', 2)[2]  # drop the module docstring
        names = re.findall(r"^(?:def|class)\s+(\w+)", body, flags=re.M)
        for name in sorted(set(names), key=len, reverse=True):
            body = re.sub(rf"\b{name}\b", f"{name}_{copy}", body)
        body = body.replace('if __name__ == "__main__":', f"if __name__ == 'copy{copy}':")
        parts.append(body)
        size += len(body)
        copy += 1
    return "\n".join(parts)


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def wrapped(source: str) -> str:
    payload = lzma.compress(
        source.encode(), format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2, "preset": 9}]
    )
    return (
        "import lzma as L,base64 as B\n"
        f'exec(L.decompress(B.b85decode("{base64.b85encode(payload).decode()}"),'
        'format=L.FORMAT_RAW,filters=[{"id":L.FILTER_LZMA2}]))\n'
    )


def median_ms(path: Path, repeats: int) -> tuple[float, float, int]:
    """Median wall and CPU milliseconds of ``check_file`` (CPU time is what the checker
    itself spends; wall time also counts waiting for a core on a busy machine)."""
    result = check_file(path)  # warm-up: imports and rule registration
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        result = check_file(path)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall) * 1000, statistics.median(cpu) * 1000, len(result.findings)


_CHILD = """
import json, resource, sys, tracemalloc
sys.path.insert(0, {root!r})
from golf_check.harness.static.checker import check_paths
tracemalloc.start()
report = check_paths([{folder!r}])
peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({{"files": len(report.files), "tracemalloc_peak_mb": peak / 2**20,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--scripts", type=int, default=50)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        plain = tmp / "train_gpt.py"
        plain.write_text(big_script())
        wrapper = tmp / "train_gpt_wrapped.py"
        wrapper.write_text(wrapped(plain.read_text()))
        plain_ms, plain_cpu, n_findings = median_ms(plain, args.repeats)
        wrapped_ms, wrapped_cpu, _ = median_ms(wrapper, args.repeats)
        parse_ms = statistics.median(
            _timed(lambda: ast.parse(plain.read_text())) for _ in range(args.repeats)
        )
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"script: {plain.stat().st_size:,} bytes, {plain.read_text().count(chr(10)):,} lines")
        print(
            f"check plain 100 KB script:   median {plain_ms:6.1f} ms wall, {plain_cpu:6.1f} ms CPU"
            f"  ({n_findings} findings)"
        )
        print(
            f"check LZMA2+base85 wrapper:  median {wrapped_ms:6.1f} ms wall, {wrapped_cpu:6.1f} ms"
            f" CPU  ({wrapper.stat().st_size:,} bytes shipped)"
        )
        print(f"  of which ast.parse alone:  median {parse_ms:6.1f} ms wall")
        folder = tmp / "many"
        folder.mkdir()
        text = plain.read_text()
        for i in range(args.scripts):
            (folder / f"train_gpt_{i:02d}.py").write_text(text)
        out = subprocess.run(
            [sys.executable, "-c", _CHILD.format(root=str(ROOT), folder=str(folder))],
            capture_output=True,
            text=True,
            check=True,
        )
        mem = json.loads(out.stdout)
        print(
            f"folder of {mem['files']} scripts: tracemalloc peak {mem['tracemalloc_peak_mb']:.1f} MB,"
            f" peak RSS {mem['peak_rss_mb']:.1f} MB"
        )


if __name__ == "__main__":
    main()
