"""Apply the budget, evidence and package rules to a list of seeds.

``check_seeds`` is the one entry point: ``verify`` calls it with seeds parsed from logs,
``golf-check run`` with seeds the harness measured. The checks themselves are the log-level
detectors registered in ``rules/`` (time_budget, artifact_cap, evidence_claims,
submission_package); every one of them takes an ``EvidenceSet``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from golf_check.harness.evidence.model import (
    Baseline,
    Claims,
    EvidenceSet,
    MeasuredSplit,
    SeedEvidence,
)
from golf_check.harness.report import Finding
from golf_check.harness.rulebook import load_all


def build_evidence(
    seeds: list[SeedEvidence],
    *,
    claimed: Claims | None = None,
    tokenizer_family: str | None = None,
    baseline: Baseline | None = None,
    policy: str = "readme",
    folder: Path | None = None,
    submission: dict[str, Any] | None = None,
    headline: str | None = None,
    other_runs: list[SeedEvidence] | None = None,
    duplicate_logs: list[tuple[str, str]] | None = None,
    unscored_logs: list[str] | None = None,
    split: MeasuredSplit | None = None,
) -> EvidenceSet:
    """Bundle seeds and context; per-seed claims from ``claimed`` are attached to the seeds.
    ``split``: the validation split golf-check measured, when it is not a canonical export
    (byte and token counts are then checked against it instead of the canonical tables)."""
    if claimed is not None:
        for seed in seeds:
            if not seed.claimed and seed.seed is not None:
                seed.claimed = dict(claimed.per_seed.get(seed.seed, {}))
    for seed in seeds:
        if seed.tokenizer_family is None:
            seed.tokenizer_family = tokenizer_family
    return EvidenceSet(
        seeds=seeds,
        claimed=claimed,
        tokenizer_family=tokenizer_family,
        folder=folder,
        submission=submission,
        baseline=baseline,
        policy=policy,
        headline=headline,
        other_runs=list(other_runs or []),
        duplicate_logs=list(duplicate_logs or []),
        unscored_logs=list(unscored_logs or []),
        split=split,
    )


def run_detectors(evidence: EvidenceSet, notes: list[str] | None = None) -> list[Finding]:
    """Every log-level detector of the catalogue, in registration order (a detector that
    fails is reported in ``notes`` and the others still run)."""
    return load_all().run("log", evidence, notes=notes)


def check_seeds(
    seeds: list[SeedEvidence], *, notes: list[str] | None = None, **context: Any
) -> list[Finding]:
    """Budget and evidence findings for ``seeds`` (train/eval time, artifact cap, seed count,
    same configuration, claim vs mean, std, byte accounting, full split, completeness,
    significance against ``baseline`` under ``policy``). ``context``: ``build_evidence``'s
    keyword arguments (``claimed``, ``baseline``, ``policy``, ``folder``, ``split``...)."""
    return run_detectors(build_evidence(seeds, **context), notes)
