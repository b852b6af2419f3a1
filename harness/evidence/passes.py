"""A log's story of its evaluation passes: where an adaptation pass over the validation
tokens ended, which score line is that pass's own result, and which is a later pass.

A log tells the order of events: an adaptation pass over the validation tokens ends
(``ttt:done ... elapsed=497.4s``, ``ttt: completed in 494473ms``, a ``ttt_sliding:done
val_loss=... val_bpb=...`` line), then score lines follow. When the line the record reports
comes after that end and is not the adaptation pass's own result, the tokens were scored
again by a model that had already adapted on them: a rescore.

Read by the log-level detectors of C4.rescore (rules/single_pass.py) and of the C3 rules it
implies (rules/score_first.py); the score lines and adaptation ends are parsed by logparse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from golf_check.harness.evidence.model import SeedEvidence

# A score line whose eval time is at least this share of the adaptation pass's elapsed time
# summarises that same pass (score-first TTT prints its accumulated score after ":done").
SAME_PASS_TIME_SHARE = 0.8


@dataclass
class Rescore:
    """A reported score line (``head``) that is a second pass after an adaptation pass ended
    (``end``); ``own`` is that pass's own result line, if the log printed one; ``story`` the
    log lines that tell it."""

    head: Any  # logparse.ScoreLine
    end: Any  # logparse.AdaptationEnd
    own: Any  # logparse.ScoreLine | None
    story: list[str]


def rescored_pass(seed: SeedEvidence) -> Rescore | None:
    """The reported line of a log seed, when it comes after an adaptation pass over the
    validation tokens ended and is not that pass's own result."""
    if seed.source != "log" or seed.headline_line is None:
        return None
    head = next((s for s in seed.score_lines if s.line == seed.headline_line), None)
    ends = [a for a in seed.adaptation_ends if a.line < seed.headline_line]
    if head is None or not ends:
        return None
    end = ends[-1]
    own = own_result_line(seed, end)
    if same_pass(end, own, head):
        return None
    story = [end.line, *pass_boundary(seed, end, own, head), head.line]
    texts = {s.line: s.text for s in seed.score_lines} | {end.line: end.text}
    story = [f"L{n}: {texts[n].strip()[:90]}" for n in sorted(set(story))]
    return Rescore(head, end, own, story)


def same_pass(end, own, head) -> bool:
    """Whether the headline is the adaptation pass's own result (``own``, from
    ``own_result_line``), not a later pass."""
    if own is not None:
        return same_numbers(own, head)
    if end.epochs or "quant" in end.name.lower():
        return False
    if end.elapsed_s and head.eval_time_s:
        return head.eval_time_s >= SAME_PASS_TIME_SHARE * end.elapsed_s
    return head.eval_time_s is None


def pass_boundary(seed: SeedEvidence, end, own, head) -> list[int]:
    """The lines where the adaptation pass's result ends and the second pass begins."""
    between = [s for s in seed.score_lines if end.line < s.line <= head.line]
    lines = []
    if own is not None:
        same = [s for s in between if same_numbers(s, own)]
        if same:
            lines.append(same[-1].line)
        between = [s for s in between if not same_numbers(s, own)]
    if between:
        lines.append(between[0].line)
    return lines


def own_result_line(seed: SeedEvidence, end):
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


def same_numbers(a, b) -> bool:
    """Equal within the coarser rounding of the two lines (a 6-decimal ":done" summary and
    its 8-decimal "_exact" line are one result)."""
    tol_bpb = 0.5 * 10.0 ** -min(a.bpb_decimals, b.bpb_decimals) + 1e-12
    tol_loss = 0.5 * 10.0 ** -min(a.loss_decimals, b.loss_decimals) + 1e-12
    return abs(a.val_bpb - b.val_bpb) <= tol_bpb and abs(a.val_loss - b.val_loss) <= tol_loss
