"""The evidence the budget and claim rules read: one ``SeedEvidence`` per run.

A ``SeedEvidence`` does not care who measured it: ``verify`` builds it from a train log
(``source="log"``), ``golf-check run`` from what the harness itself measured
(``source="measured"``). Log-level detectors in ``rules/`` receive an ``EvidenceSet``: the
seeds being judged plus the submission's claims, the folder (when there is one) and the
significance baseline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from golf_check.harness.evidence.logparse import LOG_FACTS, RunLog, with_fact_fields

CONTRACT_KEYS = (
    "seed",
    "log",
    "val_bpb",
    "val_loss",
    "train_time_s",
    "eval_time_s",
    "artifact_bytes",
    "val_tokens",
    "complete",
)


@dataclass
@with_fact_fields(evidence_only=True)
class SeedEvidence:
    """One run's evidence. The simple log facts of ``LOG_FACTS`` marked ``evidence`` (model
    bytes, world size, GPTQ timers...) are fields added from the table and copied by
    ``from_log``; the contract figures above them are declared here."""

    seed: int | None
    log: str | None  # path of the log, relative to the folder or report when possible
    val_bpb: float | None
    val_loss: float | None
    train_time_s: float | None  # the training loop (stopping_early train_time)
    eval_time_s: float | None  # total_eval_time, or the sum of the eval stages
    artifact_bytes: int | None  # the cap-relevant total (code + compressed model)
    val_tokens: int | None
    complete: bool
    hyperparameters: dict[str, str] = field(default_factory=dict)
    headline_kind: str | None = None
    headline_reason: str | None = None  # why this line is the seed's score (shown per seed)
    claimed: dict[str, Any] = field(default_factory=dict)  # submission.json's per-seed figures
    source: str = "log"  # "log" (what the run printed) or "measured" (what golf-check measured)
    # Detail the rules use for their messages and tolerances.
    headline_line: int | None = None
    headline_eval_time_s: float | None = None
    loss_decimals: int = 8
    bpb_decimals: int = 8
    incomplete_reason: str | None = None
    seed_source: str | None = None  # "log", "filename", "report"
    train_time_line: int | None = None
    step_avg_ms: float | None = None
    gptq_reserve_s: float | None = None
    eval_time_basis: str | None = None  # how eval_time_s was obtained
    artifact_line: int | None = None
    artifact_tag: str | None = None
    code_bytes: int | None = None
    code_bytes_compressed: bool = False  # the log counted its code compressed
    code_line: int | None = None
    tokenizer_family: str | None = None
    runs_in_log: int = 1
    gpus: list[str] = field(default_factory=list)  # GPU names the log's nvidia-smi printed
    alias_line: int | None = None
    # The eval's story, for the log-level C3/C4 detectors (harness/evidence/passes.py).
    score_lines: list[Any] = field(default_factory=list)  # logparse.ScoreLine, in log order
    adaptation_ends: list[Any] = field(default_factory=list)  # logparse.AdaptationEnd
    scoring_passes: dict[int, int] = field(default_factory=dict)
    # For source="measured": what the run's own log printed, to cross-check the measurement.
    printed: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        seed = "?" if self.seed is None else str(self.seed)
        return f"seed {seed}" + (f" ({self.log})" if self.log else "")

    def to_json(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in CONTRACT_KEYS}
        out.update(
            headline_kind=self.headline_kind,
            source=self.source,
            seed_source=self.seed_source,
            tokenizer_family=self.tokenizer_family,
            headline_line=self.headline_line,
            headline_reason=self.headline_reason,
        )
        if self.claimed:
            out["claimed"] = self.claimed
        if self.incomplete_reason:
            out["incomplete_reason"] = self.incomplete_reason
        return out

    @classmethod
    def from_log(
        cls,
        log: RunLog,
        *,
        display_path: str | None = None,
        headline: str | None = None,
        tokenizer_family: str | None = None,
    ) -> SeedEvidence:
        head = log.headline(headline)
        alias = log.alias_of_headline() if headline is None else None
        reason = log.incomplete_reason(headline)
        if head is not None and not _plausible(head.val_loss, head.val_bpb):
            reason = f"the final score line holds no usable number: {head.text[:80]}"
            head = None
        if log.total_eval_time_s is not None:
            eval_s, basis = log.total_eval_time_s, "total_eval_time"
        else:
            eval_s, basis = log.eval_stages_s(), "sum of eval stages"
        notes = []
        if log.non_utf8:
            notes.append("the log holds bytes that are not UTF-8 (read with replacement)")
        return cls(
            seed=log.seed,
            log=display_path or log.path,
            val_bpb=head.val_bpb if head else None,
            val_loss=head.val_loss if head else None,
            train_time_s=None if log.train_time_ms is None else log.train_time_ms / 1000.0,
            eval_time_s=eval_s,
            artifact_bytes=log.artifact_bytes,
            complete=reason is None,
            hyperparameters=log.config(),
            headline_kind=head.kind if head else None,
            headline_reason=_why_headline(head, alias, headline),
            source="log",
            headline_line=head.line if head else None,
            headline_eval_time_s=head.eval_time_s if head else None,
            loss_decimals=head.loss_decimals if head else 8,
            bpb_decimals=head.bpb_decimals if head else 8,
            incomplete_reason=reason,
            seed_source=log.seed_source,
            train_time_line=log.train_time_line,
            step_avg_ms=log.step_avg_ms,
            gptq_reserve_s=log.gptq_reserve_s,
            eval_time_basis=basis if eval_s is not None else None,
            artifact_line=log.artifact_line,
            artifact_tag=log.artifact_tag,
            code_bytes=log.code_bytes,
            code_bytes_compressed=log.code_bytes_compressed,
            code_line=log.code_line,
            tokenizer_family=tokenizer_family,
            runs_in_log=max(log.training_runs, 1),
            gpus=list(log.gpus),
            alias_line=alias.line if alias else None,
            score_lines=list(log.scores),
            adaptation_ends=list(log.adaptation_ends),
            scoring_passes=dict(log.scoring_passes),
            notes=notes,
            **_copied_facts(log),
        )


def _copied_facts(log: RunLog) -> dict[str, Any]:
    """The table facts SeedEvidence carries, with their line numbers, as the log has them."""
    out: dict[str, Any] = {}
    for fact in LOG_FACTS:
        if fact.evidence:
            out[fact.name] = getattr(log, fact.name)
            if fact.line is not None:
                out[fact.line] = getattr(log, fact.line)
    return out


def _why_headline(head, alias, kind: str | None) -> str | None:
    if head is None:
        return None
    if kind is not None:
        return f"the last {kind} line (--headline)"
    if alias is not None:
        return f"the line behind the alias line L{alias.line} ({alias.kind}, same numbers)"
    return "the log's last final score line"


def _plausible(*values: float) -> bool:
    """Finite and of a sane size: a diverged run prints nan, a broken one 1e308."""
    return all(math.isfinite(v) and abs(v) < 1e6 for v in values)


@dataclass
class Claims:
    """What submission.json claims, read leniently (see ``submission.read_claims``)."""

    val_bpb: float | None = None
    val_bpb_key: str | None = None  # where it was found ("val_bpb", "val_loss", "mean_val_bpb")
    val_bpb_decimals: int = 8
    val_loss: float | None = None
    val_loss_decimals: int = 8
    val_bpb_std: float | None = None
    val_bpb_std_key: str | None = None
    val_bpb_std_decimals: int = 8
    per_seed: dict[int, dict[str, Any]] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=list)
    bytes_total: int | None = None


@dataclass
class Baseline:
    """What a new score is compared against for significance."""

    label: str
    val_loss: list[float] = field(default_factory=list)
    val_bpb: list[float] = field(default_factory=list)
    value_bpb: float | None = None  # a bare number: no per-seed values


@dataclass(frozen=True)
class MeasuredSplit:
    """A validation split golf-check loaded and counted itself (a run on non-canonical data).

    On the official export the canonical tables are the reference; on any other data (the
    demo split) these measured figures are: ``tokens`` in the stream, and ``target_bytes``,
    the bytes of every target position 1..tokens-1 by golf-check's own SentencePiece LUT.
    """

    tokens: int
    target_bytes: int | None = None
    name: str = "measured split"

    def to_json(self) -> dict[str, Any]:
        return {
            "canonical": False,
            "name": self.name,
            "val_tokens": self.tokens,
            "val_target_bytes": self.target_bytes,
        }


@dataclass
class EvidenceSet:
    """Everything a log-level detector may read. Detectors yield nothing they cannot judge."""

    seeds: list[SeedEvidence]
    claimed: Claims | None = None
    tokenizer_family: str | None = None
    folder: Path | None = None
    submission: dict[str, Any] | None = None
    submission_error: str | None = None
    baseline: Baseline | None = None
    policy: str = "readme"
    headline: str | None = None
    other_runs: list[SeedEvidence] = field(default_factory=list)
    duplicate_logs: list[tuple[str, str]] = field(default_factory=list)  # (copy, original)
    # Logs that look like train logs but have no final score (complete=False seeds are
    # judged here too; this lists the ones that could not become seeds at all).
    unscored_logs: list[str] = field(default_factory=list)
    split: MeasuredSplit | None = None  # set when the data is not a canonical export
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def scored(self) -> list[SeedEvidence]:
        return [s for s in self.seeds if s.val_bpb is not None]
