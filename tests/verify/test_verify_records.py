"""verify on the 16 real merged records: the claimed headline, and only named anomalies."""

from __future__ import annotations

import pytest

from golf_check.harness.evidence import stats
from golf_check.harness.evidence.verifier import verify_path

from .conftest import ALL_RECORDS, RECORDS

# Records whose submission.json val_bpb is not the mean of their seeds: it is one seed's
# score (the README says "Submitted: seed 1337 (best)" or similar). Value: (seed, mean).
BEST_SEED_CLAIMS = {
    "2026-03-18_LongContextSeq2048": (1337, 1.20636623),
    "2026-03-19_Seq2048_FP16Emb_TunedLR": (3, 1.15980643),
    "2026-03-20_11L_XSA4_EMA_Int6_MLP3x_WD04_1.1271": (1337, 1.12801921),
    "2026-03-22_11L_EMA_GPTQ-lite_warmdown3500_QAT015_1.1233": (1337, 1.12331641),
}
# The real anomalies each merged record carries besides missing package files (the fixture
# copies have no README.md or train_gpt.py) and missing submission.json keys.
NAMED_ANOMALIES = {
    "2026-03-18_LongContextSeq2048": {"EVIDENCE.claim-mismatch"},
    "2026-03-19_MixedQuant_Int6Int8_SlidingWindow": {"EVIDENCE.seed-count"},
    "2026-03-19_Seq2048_FP16Emb_TunedLR": {"EVIDENCE.claim-mismatch"},
    "2026-03-19_SlidingWindowEval": {"EVIDENCE.seed-count"},
    "2026-03-20_11L_XSA4_EMA_Int6_MLP3x_WD04_1.1271": {"EVIDENCE.claim-mismatch"},
    "2026-03-22_11L_EMA_GPTQ-lite_warmdown3500_QAT015_1.1233": {"EVIDENCE.claim-mismatch"},
    # Loop + GPTQ Hessians 588.05 s + 12.8 s: 0.8 s past 600 s under the #1868 reading.
    "2026-04-09_A2_Muon097_3Seed": {"BUDGET.gptq-in-train"},
    # seed_results.1337.artifact_bytes 15,910,554 vs the log's 15,939,048.
    "2026-04-16_SmearGate_AttentionOutputGate_ScoreFirstTTT": {"EVIDENCE.claim-mismatch"},
    # The original runs spill the Hessians past 600 s (hence the rerun in the folder), and
    # seed 42 trained on 39 shards where the reproductions used 80.
    "2026-04-29_SmearGateBOSFix_3Seed_1.06141": {"BUDGET.gptq-in-train", "EVIDENCE.same-config"},
}
PACKAGE_NOISE = {"PACKAGE.required-files", "PACKAGE.submission-json"}


@pytest.fixture(scope="module")
def reports():
    return {name: verify_path(RECORDS / name) for name in ALL_RECORDS}


@pytest.mark.parametrize("name", ALL_RECORDS)
def test_mean_of_headlines_is_the_claim(reports, name):
    report = reports[name]
    claimed = report.data["claimed_val_bpb"]
    seeds = report.data["seeds"]
    recomputed = stats.mean([s["val_bpb"] for s in seeds])
    assert report.data["mean_val_bpb"] == pytest.approx(recomputed, abs=1e-12)
    if name in BEST_SEED_CLAIMS:
        best_seed, mean = BEST_SEED_CLAIMS[name]
        assert recomputed == pytest.approx(mean, abs=5e-9)
        best = next(s for s in seeds if s["seed"] == best_seed)
        assert claimed == best["val_bpb"]
        assert any(
            f.rule == "EVIDENCE.claim-mismatch" and "not the" in f.message for f in report.findings
        )
    else:
        decimals = len(repr(claimed).split(".")[1])
        assert abs(recomputed - claimed) <= max(5e-5, 0.5 * 10**-decimals) + 1e-12


@pytest.mark.parametrize("name", ALL_RECORDS)
def test_merged_records_pass_or_carry_only_named_warnings(reports, name):
    report = reports[name]
    assert report.exit_code == 0, [f.message for f in report.all_findings()]
    assert not [f for f in report.all_findings() if f.severity == "error"]
    warned = {f.rule for f in report.all_findings() if f.severity == "warning"}
    assert warned - PACKAGE_NOISE == NAMED_ANOMALIES.get(name, set())


def test_val_bpb_under_val_loss_is_read_and_named(reports):
    report = reports["2026-03-20_10L_Int5MLP_MuonWD04_SWA50"]
    assert report.data["claimed_val_bpb"] == 1.14276
    named = [f for f in report.findings if f.rule == "PACKAGE.submission-json"]
    assert any("stored under 'val_loss'" in f.message for f in named)


def test_compliance_rerun_folder_judges_the_claimed_runs(reports):
    report = reports["2026-04-29_SmearGateBOSFix_3Seed_1.06141"]
    judged = {s["log"] for s in report.data["seeds"]}
    others = {s["log"] for s in report.data["other_runs"]}
    assert judged == {
        "train_seed42_pr1851_original.log",
        "train_seed314_original.log",
        "train_seed1234_original.log",
    }
    assert others == {f"train_seed{s}_rerun_gptq8s.log" for s in (42, 314, 1234)}
    spills = [f for f in report.findings if f.rule == "BUDGET.gptq-in-train"]
    assert len(spills) == 3 and all("_original" in f.file for f in spills)


def test_duplicate_logs_count_once(reports):
    report = reports["2026-03-22_11L_EMA_GPTQ-lite_warmdown3500_QAT015_1.1233"]
    assert sorted(s["seed"] for s in report.data["seeds"]) == [42, 1337, 2024]
    assert any("byte-identical copy" in f.message for f in report.findings)


def test_eval_time_uses_the_eval_timer_or_the_stage_sum(reports):
    phased = reports["2026-04-13_VarLenAttn_PhasingTTT2000"].data["seeds"]
    assert sorted(s["eval_time_s"] for s in phased) == [500.1, 504.9, 515.3]
    a2 = {s["seed"]: s["eval_time_s"] for s in reports["2026-04-09_A2_Muon097_3Seed"].data["seeds"]}
    # roundtrip 8.714 + sliding 91.781 + n-gram precompute 33.0 + TTT 341.841
    assert a2[0] == pytest.approx(475.336)
