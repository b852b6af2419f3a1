"""Cost of `golf-check check` relative to `ast.parse` on the same real scripts.

Run: .venv/bin/python bench/bench_parse_ratio.py [FOLDER_OR_FILE ...] [--repeats 9]
                                                [--profile 25] [--worst 5]

Every ``.py`` file under the given folders (default: ``../shared/corpus/scripts`` beside the
project) is timed two ways, interleaved in one run so both see the same machine load:

* parse: ``ast.parse`` of the script's (unwrapped) source, already in memory;
* parse, collector paused: the same with the cyclic garbage collector paused, as the checker
  pauses it for its whole check (the collector's scans cost parsing about a fifth);
* check: ``check_file`` on the path, the full check (read, unwrap, parse, program model, every
  static detector, suppressions), as ``golf-check check FILE`` does it.

Each repeat visits the scripts in a fresh shuffled order and rotates which of the three
goes first. Figures are per-script medians over the repeats, in wall and CPU time; the total
ratio is the sum of check medians over the sum of parse medians, and the per-script ratios
are given as a distribution with the slowest scripts named. A script ``ast.parse`` rejects
on this interpreter (newer syntax) is left out of both sums; its check time is listed.

``--phases`` times the check's phases directly (load, program model, each static detector;
medians of the repeats, summed over the scripts, no profiler overhead). ``--profile N`` runs
one pass of the checks under cProfile and prints the N functions with the most own time, and
own time summed per module.
"""

from __future__ import annotations

import argparse
import ast
import cProfile
import gc
import os
import pstats
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from golf_check.harness.errors import InputError  # noqa: E402
from golf_check.harness.rulebook import load_all  # noqa: E402
from golf_check.harness.static.checker import check_file  # noqa: E402
from golf_check.harness.static.loader import load_script  # noqa: E402
from golf_check.harness.static.model import ProgramModel  # noqa: E402

DEFAULT_FOLDER = ROOT.parent / "shared" / "corpus" / "scripts"
KINDS = ("parse", "parse_nogc", "check")


def scripts_under(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.py") if p.is_file()))
        else:
            sys.exit(f"bench_parse_ratio: {path}: no such file or folder")
    return found


def _timed(fn) -> tuple[float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def measure(scripts: dict[Path, str], repeats: int, seed: int = 0) -> dict[Path, dict]:
    """Per-script medians (seconds) of parse and check, wall and CPU, interleaved."""
    samples = {p: {f"{k}{c}": [] for k in KINDS for c in ("", "_cpu")} for p in scripts}
    order = list(scripts)
    rng = random.Random(seed)
    for repeat in range(repeats):
        rng.shuffle(order)
        for path in order:
            source = scripts[path]
            steps = [
                ("parse", lambda s=source, p=path: ast.parse(s, str(p))),
                ("parse_nogc", lambda s=source, p=path: _parse_gc_paused(s, str(p))),
                ("check", lambda p=path: check_file(p)),
            ]
            shift = repeat % len(steps)
            steps = steps[shift:] + steps[:shift]
            for name, fn in steps:
                wall, cpu = _timed(fn)
                samples[path][name].append(wall)
                samples[path][f"{name}_cpu"].append(cpu)
    return {p: {k: statistics.median(v) for k, v in s.items()} for p, s in samples.items()}


def _parse_gc_paused(source: str, name: str) -> None:
    gc.disable()
    try:
        ast.parse(source, name)
    finally:
        gc.enable()


def _quantiles(values: list[float]) -> str:
    values = sorted(values)
    q = statistics.quantiles(values, n=10, method="inclusive") if len(values) > 1 else values * 9
    return (
        f"min {values[0]:.2f}x, p10 {q[0]:.2f}x, median {statistics.median(values):.2f}x, "
        f"p90 {q[8]:.2f}x, max {values[-1]:.2f}x"
    )


def report(medians: dict[Path, dict], worst: int) -> None:
    for kind, suffix in (("wall", ""), ("CPU", "_cpu")):
        check = sum(m[f"check{suffix}"] for m in medians.values())
        print(f"{kind}: check {check * 1000:.1f} ms in all")
        for base, label in (("parse", "ast.parse"), ("parse_nogc", "ast.parse, gc paused")):
            parse = sum(m[f"{base}{suffix}"] for m in medians.values())
            ratios = [m[f"check{suffix}"] / m[f"{base}{suffix}"] for m in medians.values()]
            print(
                f"  vs {label:<21} {parse * 1000:8.1f} ms: ratio {check / parse:.2f}x"
                f"  (per script: {_quantiles(ratios)})"
            )
    print(f"slowest relative to their parse (wall, top {worst}):")
    ranked = sorted(medians.items(), key=lambda kv: kv[1]["check"] / kv[1]["parse"], reverse=True)
    for path, m in ranked[:worst]:
        print(
            f"  {m['check'] / m['parse']:5.2f}x  check {m['check'] * 1000:6.1f} ms, "
            f"parse {m['parse'] * 1000:5.1f} ms  {path.name}"
        )


def phases(sources: dict[Path, str], repeats: int, top: int = 20) -> None:
    """CPU time per phase of the check, summed over the scripts, beside ast.parse alone.

    CPU time, not wall: phases are short and a busy machine would blur them. ast.parse of
    the unwrapped source is timed in the same loop as the yardstick."""
    detectors = load_all().detectors_for("static")
    passes: dict[str, list[float]] = defaultdict(list)
    clock = time.process_time
    for _ in range(repeats):
        totals: dict[str, float] = defaultdict(float)
        for path, source in sources.items():
            t0 = clock()
            ast.parse(source, str(path))
            totals["yardstick"] += clock() - t0
            gc.disable()  # as the checker runs
            try:
                t0 = clock()
                script = load_script(path)
                t1 = clock()
                model = ProgramModel(script, str(path))
                t2 = clock()
                totals["load: read, unwrap, ast.parse"] += t1 - t0
                totals["program model"] += t2 - t1
                for det in detectors:
                    t0 = clock()
                    try:
                        list(det.func(model) or [])
                    except Exception:  # the check reports these; here only time counts
                        pass
                    totals[f"detector {det.name}"] += clock() - t0
            finally:
                # The collector's deferred scan runs at the first allocation after it resumes;
                # the check pays it too (checker._gc_paused), so it is a phase of its own here.
                t0 = clock()
                script = model = None  # freed now, as when check_file returns
                gc.enable()
                _ = [[]]
                totals["collector resuming after the check"] += clock() - t0
        for name, seconds in totals.items():
            passes[name].append(seconds)
    medians = {name: statistics.median(v) for name, v in passes.items()}
    parse = medians.pop("yardstick")
    total = sum(medians.values())
    detector_total = sum(v for k, v in medians.items() if k.startswith("detector "))
    print(
        f"\nphases, CPU (medians of {repeats} passes, summed over {len(sources)} scripts): "
        f"{total * 1000:.0f} ms = {total / parse:.2f}x ast.parse ({parse * 1000:.0f} ms, same "
        f"loop); {len(detectors)} detectors {detector_total * 1000:.0f} ms"
    )
    for name, seconds in sorted(medians.items(), key=lambda kv: kv[1], reverse=True)[:top]:
        print(
            f"  {seconds * 1000:7.1f} ms {100 * seconds / total:5.1f}% "
            f"{seconds / parse:5.2f}x parse  {name}"
        )


def profile(paths: list[Path], top: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for path in paths:
        check_file(path)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = sum(row[2] for row in stats.stats.values())
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)
    print(f"\ncProfile, one pass over {len(paths)} scripts: {total:.2f} s of own time in all")
    print(f"top {top} functions by own time:")
    print(f"  {'own s':>6} {'share':>6} {'cum s':>6} {'calls':>9}  function")
    for (file, line, name), (_, ncalls, tottime, cumtime, _) in rows[:top]:
        print(
            f"  {tottime:6.3f} {100 * tottime / total:5.1f}% {cumtime:6.3f} {ncalls:9d}  "
            f"{_where(file)}:{line} {name}"
        )
    per_module: dict[str, float] = {}
    for (file, _, _), row in stats.stats.items():
        per_module[_where(file)] = per_module.get(_where(file), 0.0) + row[2]
    print("own time per module (top 15):")
    for module, seconds in sorted(per_module.items(), key=lambda kv: kv[1], reverse=True)[:15]:
        print(f"  {seconds:6.3f} {100 * seconds / total:5.1f}%  {module}")


def _where(file: str) -> str:
    """Project files relative to the root; builtins and libraries by their base name."""
    try:
        return str(Path(file).resolve().relative_to(ROOT))
    except (ValueError, OSError):
        return file if file.startswith("~") else os.path.basename(file)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*", type=Path, default=[DEFAULT_FOLDER])
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--profile", type=int, default=0, metavar="N", help="top N hot spots")
    ap.add_argument("--worst", type=int, default=5)
    ap.add_argument("--phases", action="store_true", help="time each phase of the check")
    args = ap.parse_args()
    sources: dict[Path, str] = {}
    skipped: list[str] = []
    newer: dict[Path, str] = {}  # read by the checker's newer-grammar parser, not by ast.parse
    for path in scripts_under(args.paths):
        try:
            source = load_script(path).source
            ast.parse(source, str(path))
        except InputError as exc:
            why = str(exc).replace(str(path), "").lstrip(" :")
            skipped.append(f"{path.name}: the checker cannot read it: {why}")
            continue
        except SyntaxError as exc:
            newer[path] = f"ast.parse on Python {sys.version.split()[0]}: {exc.msg}"
            continue
        sources[path] = source
    if not sources:
        sys.exit("bench_parse_ratio: no script that ast.parse accepts")
    for path in sources:  # warm-up: imports, rule registration, caches
        check_file(path)
    medians = measure(sources, args.repeats)
    size = sum(len(s.encode()) for s in sources.values())
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"{len(sources)} scripts ({size / 1e6:.2f} MB of unwrapped source), "
        f"medians of {args.repeats} interleaved repeats, Python {sys.version.split()[0]}"
    )
    report(medians, args.worst)
    if newer:
        print(f"left out of the ratio, no ast.parse on this host to compare with ({len(newer)}):")
        for path, why in newer.items():
            check_file(path)
            ms = statistics.median(_timed(lambda p=path: check_file(p))[0] for _ in range(3))
            print(f"  check {ms * 1000:6.1f} ms  {path.name} ({why})")
    if skipped:
        print(f"left out ({len(skipped)}):")
        for line in skipped:
            print(f"  {line}")
    if args.phases:
        phases(sources, min(args.repeats, 5))
    if args.profile:
        profile(list(sources), args.profile)


if __name__ == "__main__":
    main()
