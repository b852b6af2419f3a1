"""``golf-check run``: run a candidate under audit over several seeds and measure everything."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import NamedTuple

import click

from golf_check.harness.challenge import EVAL_BUDGET_S, TRAIN_BUDGET_S
from golf_check.harness.errors import UsageError
from golf_check.harness.extras import require_run_extra
from golf_check.harness.output import (
    emit,
    format_option,
    option,
    options,
    output_option,
    strict_option,
)
from golf_check.harness.runtime.sandbox import GIB, bwrap_status, default_limits, refusal
from golf_check.harness.runtime.session import AUDITS, RunOptions
from golf_check.harness.runtime.target import resolve


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise UsageError(
            f"--seeds {text!r}: give comma-separated integers, e.g. 1337,42,2025"
        ) from None
    if not seeds or len(set(seeds)) != len(seeds):
        raise UsageError(f"--seeds {text!r}: give at least one seed, each once")
    return seeds


def _env(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key or not key.replace("_", "").isalnum():
            raise UsageError(f"--env {pair!r}: expected KEY=VALUE")
        if key.startswith("GOLF_CHECK_"):
            raise UsageError(f"--env {key}: GOLF_CHECK_* variables belong to the audit")
        out[key] = value
    return out


def _audits(text: str) -> tuple[str, ...]:
    chosen = tuple(a.strip() for a in text.split(",") if a.strip())
    unknown = [a for a in chosen if a not in AUDITS]
    if unknown:
        raise UsageError(f"--audit: unknown {', '.join(unknown)} (choose from {', '.join(AUDITS)})")
    return chosen


# The types of the options that name a folder or a file.
FOLDER = click.Path(file_okay=False, path_type=Path)
FILE = click.Path(dir_okay=False, path_type=Path)


class SandboxLimit(NamedTuple):
    """A ``--*-limit`` option and the sandbox limit it sets (0 on the command line: none)."""

    flag: str
    key: str  # in sandbox.default_limits()
    help: str
    default: float | None = None  # None: the sandbox's default for this machine
    unit: int = GIB  # 1 for a count

    @property
    def param(self) -> str:
        """The keyword the command receives the value as (memory_limit for --memory-limit)."""
        return self.flag.removeprefix("--").replace("-", "_")

    def option(self):
        kind = click.IntRange(min=0) if self.unit == 1 else click.FloatRange(min=0)
        return option(self.flag, self.param, type=kind, default=self.default, help=self.help)


SANDBOX_LIMITS = (
    SandboxLimit(
        "--memory-limit",
        "data",
        "Private memory per candidate process in GiB (RLIMIT_DATA; default 80% of RAM; 0: none).",
    ),
    SandboxLimit(
        "--file-limit",
        "fsize",
        "Largest file a candidate process may write, in GiB (RLIMIT_FSIZE; 0: none).",
        default=8.0,
    ),
    SandboxLimit(
        "--process-limit",
        "nproc",
        "Processes and threads of the candidate (RLIMIT_NPROC in its user namespace; 0: none).",
        default=16384,
        unit=1,
    ),
    SandboxLimit(
        "--tmp-limit",
        "tmp",
        "Size of each tmpfs scratch mount (/tmp, /var/tmp, /dev/shm) in GiB "
        "(default 8, at most 1/8 of RAM; 0: none).",
    ),
    SandboxLimit(
        "--run-memory-limit",
        "rss",
        "Resident memory of all the candidate's processes together, in GiB; the run is "
        "killed past it (default 90% of RAM; 0: none).",
    ),
)


def _limits(given: dict[str, float | None]) -> dict[str, int]:
    """The sandbox's default limits, changed by the ``--*-limit`` options given (-1: none)."""
    limits = default_limits()
    for limit in SANDBOX_LIMITS:
        value = given[limit.param]
        if value is not None:
            limits[limit.key] = int(value * limit.unit) if value else -1
    return limits


@click.command("run")
@click.argument("script", required=False)
@option("--seeds", default="1337,42,2025", help="Comma-separated seeds.")
@option(
    "--nproc",
    type=click.IntRange(1, 64),
    default=1,
    help="Processes per node; more than 1 launches under torchrun --standalone.",
)
@option(
    "--data",
    "data_dir",
    type=FOLDER,
    help="Folder with fineweb_{train,val}_*.bin (default: the offline demo data).",
)
@option("--tokenizer", type=FILE, help="SentencePiece model of the data (needed with --data).")
@option(
    "--env",
    "env_pairs",
    multiple=True,
    metavar="K=V",
    help="Extra environment for the candidate (repeatable).",
)
@option(
    "--audit",
    "audit_spec",
    default=",".join(AUDITS),
    help="Audits to run: trace, ledger, flip, canary.",
)
@option(
    "--out", "out_dir", type=FOLDER, help="Output folder (default ./golf-check-runs/<timestamp>)."
)
@option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(min=1),
    help="Hard per-seed timeout in seconds (default: both budgets + 300).",
)
@option(
    "--train-budget",
    type=click.FloatRange(min=0.1),
    default=TRAIN_BUDGET_S,
    help="Training budget in seconds; MAX_WALLCLOCK_SECONDS is set to it.",
)
@option(
    "--eval-budget",
    type=click.FloatRange(min=0.1),
    default=EVAL_BUDGET_S,
    help="Evaluation budget in seconds (artifact written to final score line).",
)
@option(
    "--timing",
    "timing_gate",
    type=click.Choice(["strict", "convention"]),
    default="strict",
    help="Gate training on process start to artifact (strict) or on the training "
    "loop seen in the trace (convention).",
)
@option(
    "--artifact",
    "artifact_name",
    help="File name of the model artifact in the working folder (default: found).",
)
@click.option(
    "--no-sandbox",
    is_flag=True,
    help="Run without bubblewrap (audit hooks only); the report records it.",
)
@options(*(limit.option() for limit in SANDBOX_LIMITS))
@option(
    "--canary-tokens",
    type=click.IntRange(64),
    default=4096,
    help="Positions of the canary split the bundled reference evaluates (a script that "
    "is not the reference evaluates the whole served split).",
)
@option(
    "--flip-tokens",
    type=click.IntRange(64),
    default=1024,
    help="Validation prefix re-evaluated by the flip test.",
)
@format_option()
@output_option()
@strict_option()
def run(
    script,
    seeds,
    nproc,
    data_dir,
    tokenizer,
    env_pairs,
    audit_spec,
    out_dir,
    timeout_s,
    train_budget,
    eval_budget,
    timing_gate,
    artifact_name,
    no_sandbox,
    canary_tokens,
    flip_tokens,
    fmt,
    output,
    strict,
    **limits_given,
):
    """Run SCRIPT (a train_gpt.py, a folder, or a module; default: the bundled reference
    model, preset tiny, on the demo data) once per seed, sandboxed and traced, and report
    what it measurably did: times on golf-check's clock, artifact bytes from the files, the
    score, and the C1-C4 / data / budget evidence.

    \b
    Examples:
      golf-check run
      golf-check run records/my_run/train_gpt.py --seeds 1337,42,2025 --nproc 8 \\
          --data data/fineweb10B_sp8192 --tokenizer data/tokenizers/fineweb_8192_bpe.model
    """
    require_run_extra("run")
    from golf_check.harness.runtime.runner import execute

    if artifact_name is not None and (
        not artifact_name or "/" in artifact_name or artifact_name in (".", "..")
    ):
        raise UsageError(f"--artifact {artifact_name!r}: give a file name, not a path")
    target = resolve(script)
    env = _env(env_pairs)
    if target.is_reference and script is None:
        # The demo trains for the tiny preset's own minute, not for the whole budget.
        env.setdefault("MAX_WALLCLOCK_SECONDS", f"{min(60.0, train_budget):g}")
    if (data_dir is None) != (tokenizer is None):
        raise UsageError("give both --data and --tokenizer, or neither (for the demo data)")
    if not no_sandbox and not target.is_reference:
        bwrap, reason = bwrap_status()  # before the demo data is built for nothing
        if bwrap is None:
            raise UsageError(refusal(reason))
    if data_dir is None:
        from golf_check.harness.demo_data import ensure_demo_data

        demo = ensure_demo_data()
        data_dir, tokenizer = demo.data_dir, demo.tokenizer_path
    if not data_dir.is_dir():
        raise UsageError(f"--data {data_dir}: not a folder")
    if out_dir is None:
        out_dir = Path("golf-check-runs") / time.strftime("%Y%m%d-%H%M%S")
    if out_dir.exists() and any(out_dir.iterdir()):
        raise UsageError(f"--out {out_dir}: exists and is not empty; choose a new folder")
    opts = RunOptions(
        target=target,
        seeds=_seeds(seeds),
        data_dir=data_dir.resolve(),
        tokenizer=tokenizer.resolve() if tokenizer else None,
        out_dir=out_dir.resolve(),
        nproc=nproc,
        env=env,
        audits=_audits(audit_spec),
        timeout_s=timeout_s,
        train_budget_s=train_budget,
        eval_budget_s=eval_budget,
        artifact_name=artifact_name,
        sandbox=not no_sandbox,
        timing_gate=timing_gate,
        flip_tokens=flip_tokens,
        canary_tokens=canary_tokens,
        limits=_limits(limits_given),
    )
    monitor = _monitor(train_budget, eval_budget)
    opts.monitor = monitor if monitor.mode != "off" else None  # -q: no line is even parsed
    monitor.say(f"run folder {opts.out_dir}")  # first, so a long run can be followed there
    with monitor:
        monitor.plan(opts.seeds)
        report = execute(opts, progress=monitor.say, strict=strict)
    monitor.say(f"report written to {opts.out_dir / 'report.json'}")
    sys.stdout.flush()
    emit(report, fmt, output)


def _monitor(train_budget: float, eval_budget: float):
    """The progress display on standard error: live on a terminal, plain lines elsewhere,
    nothing with -q (see harness.progress)."""
    from golf_check.harness.progress import RunMonitor, stderr_display

    mode, color = stderr_display()
    return RunMonitor(mode, (train_budget, eval_budget), color=color)
