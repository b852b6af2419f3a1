"""C4 read from a run's log: the eval's story told by its score lines.

The rules themselves (C4.rescore, C4.best-of-passes) live in ``rules/single_pass.py`` with
their static detectors; these are their log-level detectors, for ``verify`` and ``ci`` on a
record folder. A log tells the order of events: an adaptation pass over the validation
tokens ends (``ttt:done ... elapsed=497.4s``, ``ttt: completed in 494473ms``, a
``ttt_sliding:done val_loss=... val_bpb=...`` line), then score lines follow. When the line
the record reports comes after that end and is not the adaptation pass's own result, the
tokens were scored again by a model that had already adapted on them: a rescore.
"""

from __future__ import annotations

from collections.abc import Iterator

from golf_check.harness.evidence.model import EvidenceSet, SeedEvidence
from golf_check.harness.report import Finding
from golf_check.harness.rulebook import detector
from golf_check.rules.score_first import PREQUANT_TTT, PRETRAIN_ON_VAL
from golf_check.rules.single_pass import BEST_OF_PASSES, RESCORE

# A score line whose eval time is at least this share of the adaptation pass's elapsed time
# summarises that same pass (score-first TTT prints its accumulated score after ":done").
SAME_PASS_TIME_SHARE = 0.8


@detector(RESCORE, PRETRAIN_ON_VAL, PREQUANT_TTT, level="log")
def rescored_after_adaptation(ev: EvidenceSet) -> Iterator[Finding]:
    """A log whose reported score line is a second full scoring pass, run after an adaptation
    pass over the validation tokens ended."""
    for seed in ev.seeds:
        if seed.source != "log" or seed.headline_line is None:
            continue
        head = next((s for s in seed.score_lines if s.line == seed.headline_line), None)
        ends = [a for a in seed.adaptation_ends if a.line < seed.headline_line]
        if head is None or not ends:
            continue
        end = ends[-1]
        if _same_pass(seed, end, head):
            continue
        own = _own_result_line(seed, end)
        epochs = f" after {end.epochs} epochs over the split" if end.epochs else ""
        took = f", {head.eval_time_s:.1f} s of its own" if head.eval_time_s else ""
        story = [end.line, *_pass_boundary(seed, end, own, head), head.line]
        texts = {s.line: s.text for s in seed.score_lines} | {end.line: end.text}
        story = [f"L{n}: {texts[n].strip()[:90]}" for n in sorted(set(story))]
        yield Finding.of(
            RESCORE,
            f"{seed.label}: the reported {head.kind} line (L{head.line}, val_bpb "
            f"{head.val_bpb}) is a second full scoring pass{took}, run after the adaptation "
            f"pass over the validation tokens ended{epochs} (L{end.line})"
            + (
                f"; that pass had already scored every token (L{own.line}, val_bpb {own.val_bpb})"
                if own is not None
                else ""
            ),
            file=seed.log,
            line=head.line,
            evidence=" | ".join(story),
            level="log",
            fix="report the score of the single pass that scores each token before adapting "
            "on it; a pass re-run after adaptation (a fitted temperature, a later epoch) "
            "scores tokens the model has already trained on",
        )
        if end.epochs and end.epochs > 1 and own is None:
            # Whole epochs over the split, then scoring: every token was trained on first.
            trained = PREQUANT_TTT if "quant" in end.name.lower() else PRETRAIN_ON_VAL
            yield Finding.of(
                trained,
                f"{seed.label}: the log trains {end.epochs} epochs of {end.name} over the "
                f"validation tokens (ended L{end.line}) before the pass that scores them "
                f"(L{head.line}): every token is scored by a model already trained on it",
                file=seed.log,
                line=end.line,
                evidence=" | ".join(story),
                level="log",
                fix="adapt only on tokens already scored (score-first, chunk by chunk)",
            )


def _same_pass(seed: SeedEvidence, end, head) -> bool:
    """Whether the headline is the adaptation pass's own result, not a later pass."""
    own = _own_result_line(seed, end)
    if own is not None:
        return _same_numbers(own, head)
    if end.epochs or "quant" in end.name.lower():
        return False
    if end.elapsed_s and head.eval_time_s:
        return head.eval_time_s >= SAME_PASS_TIME_SHARE * end.elapsed_s
    return head.eval_time_s is None


def _pass_boundary(seed: SeedEvidence, end, own, head) -> list[int]:
    """The lines where the adaptation pass's result ends and the second pass begins."""
    between = [s for s in seed.score_lines if end.line < s.line <= head.line]
    lines = []
    if own is not None:
        same = [s for s in between if _same_numbers(s, own)]
        if same:
            lines.append(same[-1].line)
        between = [s for s in between if not _same_numbers(s, own)]
    if between:
        lines.append(between[0].line)
    return lines


def _own_result_line(seed: SeedEvidence, end):
    """The adaptation pass's own figures: on its ":done" line, or the score line right
    after it when that line names the TTT pass or took the pass's elapsed time.

    After whole epochs over the split the next line must do both (a TTT-named line whose
    eval time, when printed, is the pass's): a short sliding pass after 30 epochs is a pass
    of its own. A fine-tune before quantization ends with a model, never a score.
    """
    if end.score is not None:
        return end.score
    if "quant" in end.name.lower():
        return None
    after = [s for s in seed.score_lines if s.line > end.line and not s.diagnostic]
    if not after:
        return None
    first = after[0]
    named = "ttt" in first.kind.lower()
    took = bool(end.elapsed_s and first.eval_time_s) and (
        first.eval_time_s >= SAME_PASS_TIME_SHARE * end.elapsed_s
    )
    if end.epochs:
        return first if named and (first.eval_time_s is None or took) else None
    return first if named or took else None


def _same_numbers(a, b) -> bool:
    """Equal within the coarser rounding of the two lines (a 6-decimal ":done" summary and
    its 8-decimal "_exact" line are one result)."""
    tol_bpb = 0.5 * 10.0 ** -min(a.bpb_decimals, b.bpb_decimals) + 1e-12
    tol_loss = 0.5 * 10.0 ** -min(a.loss_decimals, b.loss_decimals) + 1e-12
    return abs(a.val_bpb - b.val_bpb) <= tol_bpb and abs(a.val_loss - b.val_loss) <= tol_loss


@detector(BEST_OF_PASSES, level="log")
def several_scoring_passes(ev: EvidenceSet) -> Iterator[Finding]:
    """A log that scores the validation tokens in several passes before its reported line."""
    for seed in ev.seeds:
        if seed.source != "log" or seed.headline_line is None:
            continue
        passes = {k: v for k, v in seed.scoring_passes.items() if v < seed.headline_line}
        if len(passes) < 2:
            continue
        lines = ", ".join(f"pass {k} at L{v}" for k, v in sorted(passes.items()))
        yield Finding.of(
            BEST_OF_PASSES,
            f"{seed.label}: the log scores the validation tokens in {len(passes)} passes "
            f"({lines}) before its reported {seed.headline_kind} line (L{seed.headline_line}); "
            "a score combined from several passes (their best, their minimum per token) is "
            "not one pass that scores each token once",
            file=seed.log,
            line=min(passes.values()),
            evidence=lines,
            level="log",
            fix="report one left-to-right pass; drop the extra passes",
        )
