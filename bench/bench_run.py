"""Benchmarks of `golf-check run`: audit-shim overhead, ledger overhead, canary power.

    .venv/bin/python bench/bench_run.py [--repeats 5] [--preset micro] [--out DIR]

1. Shim overhead on evaluation: the reference model evaluates one trained artifact
   (EVAL_ONLY=1, the whole demo validation split) with and without the audit shim (trace
   with the validation index), runs alternating so both see the same machine load; the
   figures are the sum of the four passes' own ``eval_time`` (evaluation only) and the
   process wall time, medians.
2. Ledger overhead: the same, with GOLF_CHECK_LEDGER on (distributions sampled 1/32) or off.
3. Canary power: the artifact evaluated on canary streams of several lengths, clean and with
   each fault injection that changes scores; which ones fall under the Ville bound (the table
   of ``golf_check.harness.runtime.canary_power``, run on this benchmark's artifact).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from golf_check.harness.demo_data import ensure_demo_data  # noqa: E402
from golf_check.harness.runtime import canary_power, launcher  # noqa: E402
from golf_check.harness.runtime.session import SHIM_DIR, RunOptions, load_stream  # noqa: E402
from golf_check.harness.runtime.target import resolve  # noqa: E402

_EVAL_MS = re.compile(r"^quantized\S* val_loss:\S+ val_bpb:\S+ eval_time:(\d+)ms")


def run_reference(env: dict[str, str], cwd: Path, tag: str) -> tuple[float, float]:
    full = dict(os.environ, **env)
    res = launcher.launch(
        [sys.executable, "-m", "golf_check.reference_model"],
        cwd=cwd,
        env=full,
        log_path=cwd / f"{tag}.log",
        timeout_s=1800,
        token=tag,
    )
    if res.returncode != 0:
        tail = "\n".join(line.text for line in res.lines[-5:])
        raise SystemExit(f"reference run {tag} failed:\n{tail}")
    # the evaluation passes' own millisecond timers (total_eval_time has 0.1 s resolution)
    evals = [float(m.group(1)) for line in res.lines if (m := _EVAL_MS.match(line.text))]
    return sum(evals) / 1000.0, res.wall_s


def overhead(name: str, base_env: dict, on_env: dict, repeats: int, cwd: Path) -> dict:
    off, on = [], []
    rng = random.Random(0)
    for i in range(repeats):  # pairs in random order: drifting load hits both sides alike
        for side in rng.sample(("off", "on"), 2):
            if side == "off":
                off.append(run_reference(base_env, cwd, f"{name}-off-{i}"))
            else:
                on.append(run_reference(dict(base_env, **on_env), cwd, f"{name}-on-{i}"))
    med = {
        "eval_off": statistics.median(e for e, _ in off),
        "eval_on": statistics.median(e for e, _ in on),
        "wall_off": statistics.median(w for _, w in off),
        "wall_on": statistics.median(w for _, w in on),
    }
    med["eval_ratio"] = med["eval_on"] / med["eval_off"]
    med["wall_ratio"] = med["wall_on"] / med["wall_off"]
    return med


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--preset", default="micro")
    parser.add_argument("--canary-lengths", default="1024,4096")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--parts", default="shim,ledger,canary", help="which benchmarks to run")
    parser.add_argument(
        "--injections", default=",".join(canary_power.INJECTIONS), help="canary rows ('' = clean)"
    )
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-run-"))
    out.mkdir(parents=True, exist_ok=True)
    demo = ensure_demo_data()
    paths = {"DATA_PATH": str(demo.data_dir), "TOKENIZER_PATH": str(demo.tokenizer_path)}

    print(f"# bench_run: preset {args.preset}, {args.repeats} repeats, {time.strftime('%Y-%m-%d')}")
    artifact = out / "final_model.int8.ptz"
    if not artifact.is_file():  # an --out folder of an earlier run keeps its artifact
        train_env = dict(paths, PRESET=args.preset, SEED="1337", RUN_ID="train")
        run_reference(train_env, out, "train")
    eval_env = dict(
        paths, PRESET=args.preset, EVAL_ONLY="1", LOAD_ARTIFACT=str(artifact), VAL_TOKEN_LIMIT="0"
    )

    opts = RunOptions(
        target=resolve(None),
        seeds=[1337],
        data_dir=demo.data_dir,
        tokenizer=demo.tokenizer_path,
        out_dir=out / "audit",
        env={"PRESET": args.preset},
        audits=("ledger",),
    )
    opts.out_dir.mkdir(exist_ok=True)
    stream = load_stream(opts)
    trace_dir = out / "trace"
    trace_dir.mkdir(exist_ok=True)
    shim_env = {
        "PYTHONPATH": str(SHIM_DIR),
        "GOLF_CHECK_TRACE_DIR": str(trace_dir),
        "GOLF_CHECK_VALINDEX": str(stream.index_dir),
        "GOLF_CHECK_DATA_DIR": str(demo.data_dir),
    }
    parts = set(args.parts.split(","))
    if "shim" in parts:
        report_overhead("shim", overhead("shim", eval_env, shim_env, args.repeats, out))
        shim_self_cost(trace_dir)
    if "ledger" in parts:
        ledger_env = {"GOLF_CHECK_LEDGER": str(out / "ledger")}
        report_overhead("ledger", overhead("ledger", eval_env, ledger_env, args.repeats, out))
    if "canary" in parts:
        # the same artifact (out/final_model.int8.ptz), which canary_power reuses
        canary_power.main(
            ["--lengths", args.canary_lengths, "--preset", args.preset, "--out", str(out)]
            + ["--injections", args.injections]
        )
    print(f"\nartifacts and logs: {out}")


def report_overhead(name: str, m: dict) -> None:
    print(
        f"{name:6} eval {m['eval_off']:.2f} s -> {m['eval_on']:.2f} s (x{m['eval_ratio']:.3f}); "
        f"wall {m['wall_off']:.2f} -> {m['wall_on']:.2f} s (x{m['wall_ratio']:.3f})"
    )


def shim_self_cost(trace_dir: Path) -> None:
    """The shim's own clock: time inside its forward hook, per evaluation-only run."""
    import json

    costs = []
    for path in sorted(trace_dir.glob("trace.*.jsonl")):
        for line in path.read_text().splitlines():
            event = json.loads(line)
            if event.get("ev") == "exit" and "forward_hook_s" in event:
                costs.append(event["forward_hook_s"])
    if costs:
        print(f"shim   forward-hook time per run: median {statistics.median(costs):.3f} s")


if __name__ == "__main__":
    main()
