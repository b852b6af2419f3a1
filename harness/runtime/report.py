"""Turn seed audits into findings and into the standard ``Report`` (per seed and multi-seed).

Findings come from three places, all in ``rules/``:
* the runtime, ledger and canary detectors, each called with one ``SeedAudit``;
* the budget and evidence rules of ``harness.evidence.checks.check_seeds``, fed the figures
  golf-check measured (``SeedEvidence(source="measured")``) with what the log printed beside
  them. The time budgets are gated here on the harness clock with the configured budgets
  (``rules/time_budget.py``), so the fixed-600 s log reading of the same rules is dropped.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from golf_check.harness.digest import file_sha256
from golf_check.harness.evidence.checks import check_seeds
from golf_check.harness.evidence.model import CONTRACT_KEYS, MeasuredSplit, SeedEvidence
from golf_check.harness.report import Finding, Report, Table, validate_report_json, verdict_of
from golf_check.harness.rulebook import load_all
from golf_check.harness.runtime.session import RunOptions, SeedAudit

# Score kinds of the reference model, in the order of its ablation.
ABLATION = (
    ("base", "quantized"),
    ("sliding window", "quantized_sliding_window"),
    ("+ TTT", "quantized_ttt"),
    ("+ Hedge", "quantized_ttt_hedge"),
)

# Two narrow tables rather than one that folds in a terminal.
SCORE_COLUMNS = [
    ("seed", "seed"),
    ("status", "status"),
    ("headline", "score line"),
    ("val_bpb", "val_bpb"),
    ("val_bpb_ledger", "val_bpb (ledger)"),
    ("val_tokens", "val tokens"),
    ("verdict", "verdict"),
]
MEASURED_COLUMNS = [
    ("seed", "seed"),
    ("train_strict_s", "train s"),
    ("train_convention_s", "loop s"),
    ("train_printed_s", "log: loop s"),
    ("eval_s", "eval s"),
    ("eval_printed_s", "log: eval s"),
    ("artifact_bytes", "artifact bytes"),
    ("artifact_printed", "log: bytes"),
    ("peak_rss_mib", "RSS MiB"),
]


def seed_findings(audit: SeedAudit) -> list[Finding]:
    registry = load_all()
    findings: list[Finding] = []
    levels = ["runtime"]
    if audit.ledger is not None or audit.flip is not None:
        levels.append("ledger")
    if audit.canary is not None:
        levels.append("canary")
    for level in levels:
        findings.extend(registry.run(level, audit, notes=audit.notes))
    return findings


def seed_evidence(audit: SeedAudit) -> SeedEvidence:
    head = audit.headline
    printed = {}
    if audit.runlog is not None:
        from_log = SeedEvidence.from_log(audit.runlog, display_path=audit.log_rel)
        printed = {k: getattr(from_log, k) for k in CONTRACT_KEYS if k not in ("seed", "log")}
        # the log's training loop is compared with the trace's loop (rules/evidence_claims.py)
        printed.pop("train_time_s", None)
    return SeedEvidence(
        seed=audit.seed,
        log=audit.log_rel,
        val_bpb=head.val_bpb if head else None,
        val_loss=head.val_loss if head else None,
        train_time_s=audit.gating_train_s,
        eval_time_s=audit.timing.eval_s,
        artifact_bytes=audit.artifact_bytes,
        val_tokens=audit.val_tokens,
        complete=audit.failure is None,
        hyperparameters=audit.runlog.config() if audit.runlog else {},
        headline_kind=head.kind if head else None,
        source="measured",
        seed_source="report",
        headline_line=head.line if head else None,
        loss_decimals=head.loss_decimals if head else 8,
        bpb_decimals=head.bpb_decimals if head else 8,
        eval_time_basis="measured by the harness",
        incomplete_reason=audit.failure,
        printed=printed,
    )


def measured_split(audits: list[SeedAudit]) -> MeasuredSplit | None:
    """The split golf-check loaded, when it is not a canonical export (the demo data): token
    and byte counts are then checked against golf-check's own counts, not the tables."""
    if not audits or audits[0].stream_is_canonical:
        return None
    stream = audits[0].stream
    target_bytes = int(stream.token_bytes[1:].sum()) if stream.token_bytes is not None else None
    return MeasuredSplit(tokens=int(stream.tokens.size), target_bytes=target_bytes)


def evidence_findings(audits: list[SeedAudit]) -> list[Finding]:
    out = []
    notes = audits[0].notes if audits else None
    seeds = [seed_evidence(a) for a in audits]
    rules = load_all().rules
    for f in check_seeds(seeds, split=measured_split(audits), notes=notes):
        policy = rules[f.rule]
        if policy.superseded_by("run") == "runtime":
            continue  # gated on the harness's own measurement instead
        f.severity = policy.severity_for("run") or f.severity
        out.append(f)
    return out


def seed_item(audit: SeedAudit, log: str) -> dict[str, Any]:
    """The per-seed entry of the JSON contract (``golf-check verify`` reads it back)."""
    head, t = audit.headline, audit.timing
    measured = {
        "train_time_s": audit.gating_train_s,
        "train_time_strict_s": t.train_strict_s,
        "train_time_convention_s": t.train_convention_s,
        "eval_time_s": t.eval_s,
        "artifact_bytes": audit.artifact_bytes,
        "model_bytes": audit.artifact.model_bytes if audit.artifact else None,
        "artifact_file": audit.artifact.path.name if audit.artifact else None,
        "artifact_files": [p.name for p in audit.artifact.files] if audit.artifact else [],
        "artifact_basis": audit.artifact.basis if audit.artifact else None,
        "side_bytes": audit.side.total_bytes,
        "side_files": [str(p) for p in audit.side.files],
        "code_bytes": audit.code.total_bytes,
        "code_files": [str(p) for p in audit.code.files],
        "optimizer_steps": t.steps,
        "peak_rss_bytes": audit.launch.peak_rss_bytes,
        "cuda_peak_bytes": audit.cuda_peak_bytes,
        "wall_s": audit.launch.wall_s,
        "val_bpb_ledger": audit.ledger_bpb.get(audit.ledger_pass_for(head.kind))
        if head and audit.ledger_bpb
        else None,
    }
    item: dict[str, Any] = {
        "seed": audit.seed,
        "log": log,
        "val_bpb": head.val_bpb if head else None,
        "val_loss": head.val_loss if head else None,
        "train_time_s": audit.gating_train_s,
        "eval_time_s": t.eval_s,
        "artifact_bytes": audit.artifact_bytes,
        "val_tokens": audit.val_tokens,
        "complete": audit.failure is None,
        "headline_kind": head.kind if head else None,
        "exit_code": audit.launch.returncode,
        "timed_out": audit.launch.timed_out,
        "failure": audit.failure,
        "measured": measured,
        "printed": {
            "train_time_s": audit.printed_train_s,
            "eval_time_s": audit.runlog.total_eval_time_s if audit.runlog else None,
            "artifact_bytes": audit.runlog.artifact_bytes if audit.runlog else None,
            "scores": {s.kind: s.val_bpb for s in audit.runlog.final_scores}
            if audit.runlog
            else {},
        },
        "sandbox": audit.sandbox.describe(),
        "hyperparameters": audit.runlog.config() if audit.runlog else {},
    }
    item["evidence"] = evidence_hashes(audit, log)
    if audit.coverage is not None:
        item["trace"] = audit.coverage.__dict__ | {"processes": audit.trace.processes}
    if audit.ledger is not None:
        item["ledger"] = audit.ledger.to_json() | {"val_bpb": audit.ledger_bpb}
    if audit.flip is not None:
        item["flip"] = audit.flip.to_json()
    if audit.canary is not None:
        item["canary"] = audit.canary.to_json()
    return item


def evidence_hashes(audit: SeedAudit, log: str) -> dict[str, Any]:
    """SHA-256 of the files the report quotes, as the harness wrote them (``golf-check
    verify`` recomputes them: a log edited after the run no longer matches)."""
    trace_file = audit.run_dir / "trace.jsonl"
    return {
        "log": {"path": log, "sha256": audit.launch.log_sha256, "bytes": audit.launch.log_bytes},
        "trace": {
            "path": log.rsplit("/", 1)[0] + "/trace.jsonl" if "/" in log else "trace.jsonl",
            "sha256": file_sha256(trace_file),
            "events": len(audit.trace.events),
        },
    }


def seed_row(audit: SeedAudit, verdict: str) -> dict[str, Any]:
    head, t = audit.headline, audit.timing
    ledger = (
        audit.ledger_bpb.get(audit.ledger_pass_for(head.kind))
        if head and audit.ledger_bpb
        else None
    )
    return {
        "seed": str(audit.seed),  # a label: 1337, not 1,337
        "status": "ok" if audit.failure is None else audit.failure,
        "headline": head.kind if head else None,
        "val_tokens": audit.val_tokens,
        "val_bpb": head.val_bpb if head else None,
        "val_bpb_ledger": ledger,
        "train_strict_s": _round(t.train_strict_s),
        "train_convention_s": _round(t.train_convention_s),
        "train_printed_s": _round(audit.printed_train_s),
        "eval_s": _round(t.eval_s),
        "eval_printed_s": _round(audit.runlog.total_eval_time_s if audit.runlog else None),
        "artifact_bytes": audit.artifact_bytes,
        "artifact_printed": audit.runlog.artifact_bytes if audit.runlog else None,
        "peak_rss_mib": audit.launch.peak_rss_bytes // (1 << 20),
        "verdict": verdict,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def build_reports(
    opts: RunOptions,
    audits: list[SeedAudit],
    facts: list[tuple[str, str]],
    notes: list[str],
    strict: bool = False,
) -> Report:
    """Write each seed's report into its folder and return the multi-seed report."""
    per_seed: dict[int, list[Finding]] = {}
    for audit in audits:
        per_seed[audit.seed] = seed_findings(audit)
    shared = evidence_findings(audits)
    for f in shared:  # per-seed evidence findings name the seed's log
        for audit in audits:
            if f.file == audit.log_rel:
                per_seed[audit.seed].append(f)
                break
        else:
            per_seed.setdefault(-1, []).append(f)

    rows, items = [], []
    for audit in audits:
        findings = per_seed[audit.seed]
        rows.append(seed_row(audit, verdict_of(findings)))
        items.append(seed_item(audit, audit.log_rel))
        _write_seed_report(opts, audit, findings)

    report = Report(command="run", target=opts.target.label, strict=strict)
    report.findings = [f for a in audits for f in per_seed[a.seed]] + per_seed.get(-1, [])
    report.tables.append(Table("Per-seed scores", SCORE_COLUMNS, rows))
    report.tables.append(
        Table("Measured by golf-check (log: what the run printed)", MEASURED_COLUMNS, rows)
    )
    report.facts = facts + summary_facts(audits)
    report.notes = notes + [n for a in audits for n in (f"seed {a.seed}: {x}" for x in a.notes)]
    report.data["seeds"] = items
    report.data["run"] = {
        "out_dir": str(opts.out_dir),
        "audits": list(opts.audits),
        "train_budget_s": opts.train_budget_s,
        "eval_budget_s": opts.eval_budget_s,
        "timing_gate": opts.timing_gate,
        "nproc": opts.nproc,
    }
    split = measured_split(audits)
    report.data["run"]["dataset"] = (
        split.to_json()
        if split
        else {
            "canonical": True,
            "val_tokens": int(audits[0].stream.tokens.size) if audits else None,
        }
    )
    return report


def summary_facts(audits: list[SeedAudit]) -> list[tuple[str, str]]:
    done = [a for a in audits if a.failure is None and a.headline]
    facts = []
    if done:
        bpbs = [a.headline.val_bpb for a in done]
        spread = f" ± {statistics.stdev(bpbs):.5f}" if len(bpbs) > 1 else ""
        facts.append(
            (f"val_bpb, mean of {len(done)} seed(s)", f"{statistics.fmean(bpbs):.5f}{spread}")
        )
    ablation = []
    for label, kind in ABLATION:
        values = [
            s.val_bpb for a in done if a.runlog for s in a.runlog.final_scores if s.kind == kind
        ]
        if values:
            ablation.append(f"{label} {statistics.fmean(values):.5f}")
    if ablation:
        facts.append(("ablation (mean val_bpb)", "; ".join(ablation)))
    return facts


def _write_seed_report(opts: RunOptions, audit: SeedAudit, findings: list[Finding]) -> None:
    report = Report(command="run", target=f"{opts.target.label} seed {audit.seed}")
    report.findings = list(findings)
    row = seed_row(audit, verdict_of(findings))
    report.tables.append(Table(f"Seed {audit.seed}", SCORE_COLUMNS, [row]))
    report.tables.append(Table("Measured by golf-check", MEASURED_COLUMNS, [row]))
    report.data["seeds"] = [seed_item(audit, audit.log_path.name)]
    doc = report.to_json()
    validate_report_json(doc)
    path = audit.run_dir / "report.json"
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")


def write_report(report: Report, path: Path) -> None:
    doc = json.loads(json.dumps(report.to_json(), default=str))
    validate_report_json(doc)
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
