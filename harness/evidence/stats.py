"""Means, standard deviations and the two significance policies (rules.md R-SIGNIFICANCE).

* ``readme`` (the challenge README since launch): beat the baseline by at least 0.005 nats
  of ``val_loss`` with p < 0.01. Tested one-sided, Welch's t-test of
  H0: mean(new) >= mean(baseline) - 0.005 against H1: mean(new) < mean(baseline) - 0.005.
* ``leaderboard`` (PR #1902, 2026-04-29): a chronological frontier; a row is added if a
  one-sided Welch t-test of ``val_bpb`` against the previous frontier gives p < 0.25.

With a bare number as baseline there are no baseline seeds, so the test is a one-sample
t-test of the new seeds against that number; the report says so.
"""

from __future__ import annotations

import math
import statistics
import warnings
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from golf_check.harness.evidence.model import EvidenceSet

README_MARGIN_NATS = 0.005
README_ALPHA = 0.01
LEADERBOARD_ALPHA = 0.25
POLICIES = ("readme", "leaderboard")


CLAIM_TOLERANCE = 5e-5  # submission.json values are often rounded (rules.md 6.1)


def claim_tolerance(decimals: int) -> float:
    """How far a claimed figure printed with ``decimals`` decimals may be from the evidence:
    half a unit of its last digit, at least 5e-5, and at most 5e-4 (a claim written with
    fewer than three decimals is not a rounding of an 8-decimal mean)."""
    return max(CLAIM_TOLERANCE, min(0.5 * 10.0**-decimals, 5e-4)) + 1e-12


def claim_vs_printed_tolerance(claim_decimals: int, printed_decimals: int) -> float:
    """How far a claim may be from a figure a log printed (or a mean of such figures): the
    claim's own tolerance, or half a unit of the printed figure's last digit if coarser."""
    return max(claim_tolerance(claim_decimals), 0.5 * 10.0**-printed_decimals + 1e-12)


def last_digit_slack(decimals: int) -> float:
    """One unit of a figure's last printed digit, for figures precise enough (4+ decimals)
    that a slip there is rounding; coarser claims get no such leeway."""
    return 10.0**-decimals if decimals >= 4 else 0.0


def mean(values: list[float]) -> float | None:
    if not values:
        return None
    try:
        return statistics.fmean(values)
    except OverflowError:  # absurd printed figures: no meaningful mean
        return float("nan")


def std(values: list[float]) -> float | None:
    """Sample standard deviation (n - 1), as the records report it."""
    if len(values) < 2:
        return None
    try:
        return statistics.stdev(values)
    except (OverflowError, ValueError):
        return float("nan")


def pstd(values: list[float]) -> float | None:
    if not values:
        return None
    try:
        return statistics.pstdev(values)
    except (OverflowError, ValueError):
        return float("nan")


@dataclass
class SignificanceResult:
    policy: str  # readme | leaderboard
    test: str  # "one-sided Welch t-test" | "one-sided one-sample t-test"
    metric: str  # val_loss | val_bpb
    hypothesis: str
    alpha: float
    margin: float  # required improvement in the metric's units (0 for leaderboard)
    n_new: int
    n_base: int | None
    mean_new: float | None
    mean_base: float | None
    std_new: float | None
    std_base: float | None
    # the test's figures and verdict: None until it runs (and when it cannot be run)
    t: float | None = None
    df: float | None = None
    p: float | None = None
    passed: bool | None = None
    gates: bool = False
    reason: str = ""

    def to_json(self) -> dict:
        return {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in asdict(self).items()
        }


def _finite(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(float(x)) else None


def welch_less(new: list[float], base: list[float], margin: float) -> tuple[float, float, float]:
    """One-sided Welch test of mean(new) < mean(base) - margin: (t, df, p)."""
    from scipy import stats as sps  # imported only when a test runs: it is slow to load

    shifted = [b - margin for b in base]
    with warnings.catch_warnings():  # identical values: scipy warns, we report "undefined"
        warnings.simplefilter("ignore", RuntimeWarning)
        res = sps.ttest_ind(new, shifted, equal_var=False, alternative="less")
    return float(res.statistic), float(res.df), float(res.pvalue)


def one_sample_less(new: list[float], value: float) -> tuple[float, float, float]:
    """One-sided one-sample t-test of mean(new) < value: (t, df, p)."""
    from scipy import stats as sps

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = sps.ttest_1samp(new, popmean=value, alternative="less")
    return float(res.statistic), float(res.df), float(res.pvalue)


def significance(
    policy: str,
    new_loss: list[float],
    new_bpb: list[float],
    base_loss: list[float] | None = None,
    base_bpb: list[float] | None = None,
    base_value_bpb: float | None = None,
    bpb_per_nat: float | None = None,
) -> SignificanceResult:
    """Run ``policy``'s test of the new seeds against a baseline.

    Give either per-seed baseline values (``base_loss``/``base_bpb``) or a bare number
    ``base_value_bpb``; for a number under the readme policy the 0.005-nat margin is
    converted to bpb with ``bpb_per_nat`` (val_bpb / val_loss of the new seeds).
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}")
    readme = policy == "readme"
    alpha = README_ALPHA if readme else LEADERBOARD_ALPHA
    numeric = base_value_bpb is not None
    if numeric:
        metric, new = "val_bpb", new_bpb
        margin = README_MARGIN_NATS * (bpb_per_nat or float("nan")) if readme else 0.0
        test = "one-sided one-sample t-test (baseline is a number, not seeds)"
        base: list[float] = []
        mean_base, std_base, n_base = base_value_bpb, None, None
    else:
        metric = "val_loss" if readme else "val_bpb"
        new = new_loss if readme else new_bpb
        base = list((base_loss if readme else base_bpb) or [])
        margin = README_MARGIN_NATS if readme else 0.0
        test = "one-sided Welch t-test"
        mean_base, std_base, n_base = mean(base), std(base), len(base)
    unit = "nats" if metric == "val_loss" else "bpb"
    hypothesis = (
        f"H1: mean {metric} < baseline - {margin:.5g} {unit}"
        if margin
        else f"H1: mean {metric} < baseline"
    )
    result = SignificanceResult(
        policy=policy,
        test=test,
        metric=metric,
        hypothesis=hypothesis,
        alpha=alpha,
        margin=margin,
        n_new=len(new),
        n_base=n_base,
        mean_new=mean(new),
        mean_base=mean_base,
        std_new=std(new),
        std_base=std_base,
    )
    if len(new) < 2:
        result.reason = f"needs at least 2 seeds, got {len(new)}"
        return result
    if not numeric and len(base) < 2:
        result.reason = f"needs at least 2 baseline seeds, got {len(base)}"
        return result
    if numeric and not math.isfinite(margin):
        result.reason = "cannot convert the 0.005-nat margin to bpb (no val_loss)"
        return result
    if numeric:
        t, df, p = one_sample_less(new, base_value_bpb - margin)
    else:
        t, df, p = welch_less(new, base, margin)
    result.t, result.df, result.p = _finite(t), _finite(df), _finite(p)
    if result.p is None:
        result.reason = "the test is undefined (zero variance on both sides)"
        improved = result.mean_new is not None and mean_base is not None
        result.passed = bool(improved and result.mean_new < mean_base - margin)
        return result
    result.passed = result.p < alpha and result.mean_new < (mean_base - margin)
    return result


def significance_results(ev: EvidenceSet) -> list[SignificanceResult]:
    """Both policies' tests of ``ev.seeds`` against ``ev.baseline`` (cached on ``ev``)."""
    if "significance" in ev._cache:
        return ev._cache["significance"]
    results: list[SignificanceResult] = []
    base = ev.baseline
    scored = [s for s in ev.scored if s.val_loss is not None]
    if base is not None and scored:
        loss = [s.val_loss for s in scored]
        bpb = [s.val_bpb for s in scored]
        ratio = mean([s.val_bpb / s.val_loss for s in scored if s.val_loss])
        for policy in POLICIES:
            result = significance(
                policy,
                loss,
                bpb,
                base_loss=base.val_loss or None,
                base_bpb=base.val_bpb or None,
                base_value_bpb=base.value_bpb,
                bpb_per_nat=ratio,
            )
            result.gates = policy == ev.policy
            results.append(result)
    ev._cache["significance"] = results
    return results
