"""Measure the canary's power: which injected violations of the reference model it catches.

    .venv/bin/python -m golf_check.harness.runtime.canary_power [--lengths 1024,4096,16384]
        [--preset micro] [--out DIR] [--injections ,rescore,...]

Trains the reference model once (or reuses ``--out``'s artifact), then re-evaluates it
(``EVAL_ONLY``) on a fresh canary split per cell, clean and with each fault injection that
changes scores, through ``run_canary`` exactly as ``golf-check run`` does (served folder,
ledger on). Each cell: caught or not, then the per-token loss the ledger reported against
the per-token ideal code length, and the loss the script printed. The keys are fixed per
length, so a rerun draws the same splits.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from golf_check.harness.runtime import launcher
from golf_check.harness.runtime.canary import run_canary
from golf_check.harness.runtime.session import RunOptions, load_stream
from golf_check.harness.runtime.target import resolve

INJECTIONS = ("", "train-before-score", "rescore", "entropy-expert", "target-in-key", "slot")


def _train(out: Path, data_dir: Path, tokenizer: Path, preset: str) -> Path:
    artifact = out / "final_model.int8.ptz"
    if artifact.is_file():
        return artifact
    env = {
        "DATA_PATH": str(data_dir),
        "TOKENIZER_PATH": str(tokenizer),
        "PRESET": preset,
        "SEED": "1337",
        "RUN_ID": "train",
    }
    res = launcher.launch(
        [sys.executable, "-m", "golf_check.reference_model"],
        cwd=out,
        env=dict(os.environ, **env),
        log_path=out / "train.log",
        timeout_s=1800,
        token="canary-power",
    )
    if res.returncode != 0 or not artifact.is_file():
        raise SystemExit(f"training the reference failed: see {out / 'train.log'}")
    return artifact


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", default="1024,4096,16384")
    parser.add_argument("--preset", default="micro")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--injections", default=",".join(INJECTIONS), help="'' = clean")
    parser.add_argument("--no-sandbox", action="store_true")
    args = parser.parse_args(argv)
    from golf_check.harness.demo_data import ensure_demo_data

    demo = ensure_demo_data()
    out = (args.out or Path(tempfile.mkdtemp(prefix="canary-power-"))).resolve()
    out.mkdir(parents=True, exist_ok=True)
    artifact = _train(out, demo.data_dir, demo.tokenizer_path, args.preset)
    lengths = [int(x) for x in args.lengths.split(",")]
    print(f"# canary power, preset {args.preset}, alpha 1e-3, {time.strftime('%Y-%m-%d')}")
    print("| injection | " + " | ".join(f"N = {n:,}" for n in lengths) + " |")
    print("|---|" + "---|" * len(lengths))
    audit = SimpleNamespace(seed=1337, artifact=SimpleNamespace(path=artifact))
    for inject in args.injections.split(","):
        cells = []
        for n in lengths:
            env = {"PRESET": args.preset}
            if inject:
                env["GOLF_INJECT"] = inject
            opts = RunOptions(
                target=resolve(None),
                seeds=[1337],
                data_dir=demo.data_dir,
                tokenizer=demo.tokenizer_path,
                out_dir=out / f"{inject or 'clean'}-{n}",
                env=env,
                audits=("trace", "ledger"),
                canary_tokens=n,
                sandbox=not args.no_sandbox,
            )
            opts.out_dir.mkdir(exist_ok=True)
            result = run_canary(opts, audit, load_stream(opts), key_seed=20261201 + n)
            cells.append(_cell(result))
        print(f"| {inject or '(clean)'} | " + " | ".join(cells) + " |", flush=True)
    print(f"\nruns: {out}")


def _cell(result) -> str:
    if result.observed_nats is None or result.ideal_nats is None or not result.scored:
        return f"– ({result.reason})"
    mark = "**caught**" if result.violated else "no"
    per = result.observed_nats / result.scored
    ideal = result.ideal_nats / result.scored
    printed = "" if result.val_loss is None else f", printed {result.val_loss:.3f}"
    return f"{mark} ({per:.3f} vs {ideal:.3f}{printed})"


if __name__ == "__main__":
    main()
