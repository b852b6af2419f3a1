"""A log's timers against the harness's: one threshold for every log-mismatch detector."""

from __future__ import annotations

import pytest

from golf_check.harness.evidence.checks import check_seeds
from golf_check.harness.evidence.model import SeedEvidence
from golf_check.rules.evidence_claims import under_reports


@pytest.mark.parametrize(
    "printed, measured, short",
    [
        (94.9, 100.0, True),  # 5 s is the larger slack at 100 s
        (95.0, 100.0, False),
        (189.9, 200.0, True),  # 5% (10 s) is the larger slack at 200 s
        (190.0, 200.0, False),
        (250.0, 200.0, False),  # printing more than was measured is never under-reporting
    ],
)
def test_a_printed_time_under_reports_only_past_5_s_or_5_percent(printed, measured, short):
    assert under_reports(printed, measured) is short


def _measured_seed(printed_eval_s: float) -> SeedEvidence:
    return SeedEvidence(
        seed=1,
        log=None,
        val_bpb=1.0650,
        val_loss=2.3300,
        train_time_s=500.0,
        eval_time_s=100.0,
        artifact_bytes=15_990_000,
        val_tokens=None,
        complete=True,
        source="measured",
        printed={"eval_time_s": printed_eval_s},
    )


@pytest.mark.parametrize("printed, found", [(94.9, True), (95.0, False)])
def test_a_measured_seed_whose_log_under_reports_its_eval_time_is_a_mismatch(printed, found):
    findings = check_seeds([_measured_seed(printed)])
    findings = [f for f in findings if f.rule == "EVIDENCE.log-mismatch"]
    assert bool(findings) is found
    if found:
        assert findings[0].severity == "warning"
        assert "eval_time_s 94.9 s, the harness measured 100.0 s" in findings[0].message
