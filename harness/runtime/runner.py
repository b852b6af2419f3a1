"""Run every seed, then the run-wide audits, and build the report."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NamedTuple

from golf_check.harness.report import Report
from golf_check.harness.runtime import measure
from golf_check.harness.runtime.canary import run_canary
from golf_check.harness.runtime.flip import run_flip_test
from golf_check.harness.runtime.report import build_reports, write_report
from golf_check.harness.runtime.session import RunOptions, SeedAudit, Stream, load_stream, run_seed


class RunWideAudit(NamedTuple):
    """An audit run once, on the first seed that produced an artifact."""

    name: str  # in RunOptions.audits, and the SeedAudit field that keeps its result
    label: str  # in the progress lines and notes
    doing: str  # what the progress line says while it runs
    fact: str  # the report fact that summarises its result
    run: Callable[[RunOptions, SeedAudit, Stream], Any]


RUN_WIDE_AUDITS = (
    RunWideAudit(
        "flip", "flip test", "re-evaluating with changed tokens", "flip test (C1)", run_flip_test
    ),
    RunWideAudit(
        "canary", "canary", "evaluating on a secret synthetic stream", "canary (C1/C2)", run_canary
    ),
)


def execute(
    opts: RunOptions, progress: Callable[[str], None] = lambda _: None, strict: bool = False
) -> Report:
    started = time.monotonic()
    opts.out_dir.mkdir(parents=True, exist_ok=True)
    stream = load_stream(opts)
    audits: list[SeedAudit] = []
    for seed in opts.seeds:
        progress(f"seed {seed}: running {opts.target.label}")
        audit = run_seed(opts, seed, stream)
        progress(f"seed {seed}: {audit.failure or 'done'} ({audit.launch.wall_s:.1f} s)")
        audits.append(audit)

    notes: list[str] = []
    first_ok = next((a for a in audits if a.failure is None), None)
    for run_wide in RUN_WIDE_AUDITS:
        if run_wide.name not in opts.audits:
            continue
        if first_ok is None:
            notes.append(f"{run_wide.label} skipped: no seed produced an artifact")
        else:
            progress(f"{run_wide.label}: {run_wide.doing}")
            setattr(first_ok, run_wide.name, run_wide.run(opts, first_ok, stream))

    gpu = measure.gpu_name()
    hardware = gpu or f"CPU only ({measure.cpu_count()} cores)"
    if gpu is None or "H100" not in gpu or "8x" not in gpu:
        hardware += "; not 8xH100 SXM, so times are not the challenge's"
    box = audits[0].sandbox if audits else None
    facts = [
        ("hardware", hardware),
        ("sandbox", box.describe() if box else "–"),
        ("audits", ", ".join(opts.audits) or "none"),
        (
            "budgets",
            f"train {opts.train_budget_s:g} s ({opts.timing_gate} timing), "
            f"eval {opts.eval_budget_s:g} s, hard timeout {opts.seed_timeout_s:g} s per seed",
        ),
    ]
    for audit in audits:
        for run_wide in RUN_WIDE_AUDITS:
            result = getattr(audit, run_wide.name)
            if result is not None:
                facts.append((run_wide.fact, result.summary()))
    report = build_reports(opts, audits, facts, notes, strict=strict)
    report.facts.append(("wall time", f"{time.monotonic() - started:.1f} s"))
    write_report(report, opts.out_dir / "report.json")
    return report
