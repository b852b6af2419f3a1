"""Run every seed, then the run-wide audits, and build the report."""

from __future__ import annotations

import time
from collections.abc import Callable

from golf_check.harness.report import Report
from golf_check.harness.runtime import measure
from golf_check.harness.runtime.report import build_reports, write_report
from golf_check.harness.runtime.session import RunOptions, SeedAudit, load_stream, run_seed


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
    if "flip" in opts.audits:
        from golf_check.harness.runtime.flip import run_flip_test

        if first_ok is None:
            notes.append("flip test skipped: no seed produced an artifact")
        else:
            progress("flip test: re-evaluating with changed tokens")
            first_ok.flip = run_flip_test(opts, first_ok, stream)
    if "canary" in opts.audits:
        from golf_check.harness.runtime.canary import run_canary

        if first_ok is None:
            notes.append("canary skipped: no seed produced an artifact")
        else:
            progress("canary: evaluating on a secret synthetic stream")
            first_ok.canary = run_canary(opts, first_ok, stream)

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
        if audit.flip is not None:
            facts.append(("flip test (C1)", audit.flip.summary()))
        if audit.canary is not None:
            facts.append(("canary (C1/C2)", audit.canary.summary()))
    report = build_reports(opts, audits, facts, notes, strict=strict)
    report.facts.append(("wall time", f"{time.monotonic() - started:.1f} s"))
    write_report(report, opts.out_dir / "report.json")
    return report
