"""Significance tests against an independent computation; submission.json schema and claims."""

from __future__ import annotations

import json
import math

import pytest
from scipy import stats as sps

from golf_check.harness.evidence import stats
from golf_check.harness.evidence.submission import load_submission, read_claims, schema_problems
from golf_check.harness.evidence.verifier import verify_path

from .conftest import ALL_RECORDS, RECORDS, findings_of

NEW = [2.78790132, 2.78966630, 2.79039264]  # A2 record val_loss per seed
BASE = [2.79517119, 2.79788378, 2.79785185]  # legal-TTT record val_loss per seed


def _welch_by_hand(a, b, shift):
    b = [x - shift for x in b]
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    va = sum((x - ma) ** 2 for x in a) / (len(a) - 1) / len(a)
    vb = sum((x - mb) ** 2 for x in b) / (len(b) - 1) / len(b)
    t = (ma - mb) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return t, df, sps.t.cdf(t, df)


def test_readme_policy_is_a_shifted_one_sided_welch_test():
    r = stats.significance("readme", NEW, [], base_loss=BASE, base_bpb=[])
    t, df, p = _welch_by_hand(NEW, BASE, 0.005)
    assert (r.t, r.df, r.p) == (pytest.approx(t), pytest.approx(df), pytest.approx(p))
    assert r.metric == "val_loss" and r.margin == 0.005 and r.alpha == 0.01
    assert r.passed == bool(p < 0.01)


def test_leaderboard_policy_is_plain_welch_at_p_025():
    new, base = [1.0793, 1.0800, 1.0802], [1.0821, 1.0831, 1.0831]
    r = stats.significance("leaderboard", [], new, base_loss=[], base_bpb=base)
    t, df, p = _welch_by_hand(new, base, 0.0)
    assert r.p == pytest.approx(p) and r.df == pytest.approx(df) and r.passed


def test_numeric_baseline_uses_a_one_sample_test():
    bpb = [1.07928348, 1.07996676, 1.08024795]
    r = stats.significance("readme", [], bpb, base_value_bpb=1.0850, bpb_per_nat=0.3871)
    expected = sps.ttest_1samp(bpb, 1.0850 - 0.005 * 0.3871, alternative="less")
    assert r.p == pytest.approx(expected.pvalue) and r.df == 2 and r.n_base is None
    assert "one-sample" in r.test


def test_zero_variance_is_reported_not_crashed():
    r = stats.significance("leaderboard", [], [1.0, 1.0], base_loss=[], base_bpb=[1.1, 1.1])
    assert r.t is None and r.p == 0.0 and r.passed is True  # t is -inf: certain
    same = stats.significance("leaderboard", [], [1.1, 1.1], base_loss=[], base_bpb=[1.1, 1.1])
    assert same.p is None and same.passed is False and "undefined" in same.reason


@pytest.mark.parametrize("name", ALL_RECORDS)
def test_real_submission_files_load_and_have_no_type_errors(name):
    doc, problem = load_submission(RECORDS / name / "submission.json")
    assert problem is None
    assert [p for p in schema_problems(doc) if p.severity == "error"] == []
    claims = read_claims(doc)
    assert claims.val_bpb is not None


def test_per_seed_claims_in_every_historical_shape():
    a2, _ = load_submission(RECORDS / "2026-04-09_A2_Muon097_3Seed" / "submission.json")
    claims = read_claims(a2)  # "seeds": {"0": {...}} with bytes_total and train_time_ms
    assert claims.per_seed[0]["artifact_bytes"] == 15993346
    assert claims.per_seed[0]["train_time_s"] == 588.052
    assert claims.val_bpb_std_key == "std_bpb"
    caseops, _ = load_submission(
        RECORDS
        / "2026-04-22_SP8192_CaseOps_GatedAttn_QuantGate_Loop45_PhasedTTT_MLPClip12"
        / "submission.json"
    )
    claims = read_claims(caseops)  # "seeds": [..] plus "seed_results": {..}
    assert claims.seeds == [314, 2025, 777, 1, 1337]
    assert claims.per_seed[777]["eval_time_s"] == 394.6


def test_schema_missing_keys_are_warnings_with_the_exact_fix(record):
    folder = record("2026-04-05_SP8192_GPTQ-Embeddings_SDClip_Loop45x2")
    doc = json.loads((folder / "submission.json").read_text())
    del doc["github_id"], doc["val_loss"]
    (folder / "submission.json").write_text(json.dumps(doc))
    report = verify_path(folder)
    fixes = {f.fix for f in findings_of(report, "PACKAGE.submission-json", "warning")}
    assert 'add "github_id": "<your GitHub handle>"' in fixes
    mean_loss = sum(s["val_loss"] for s in report.data["seeds"]) / 5
    assert f'add "val_loss": {mean_loss:.8f}' in fixes


def test_schema_wrong_types_are_errors(record):
    folder = record("2026-04-05_SP8192_GPTQ-Embeddings_SDClip_Loop45x2")
    doc = json.loads((folder / "submission.json").read_text())
    doc["val_bpb"] = "1.08563"
    doc["seed_results"]["42"]["artifact_bytes"] = "15988983"
    (folder / "submission.json").write_text(json.dumps(doc))
    report = verify_path(folder)
    errors = findings_of(report, "PACKAGE.submission-json", "error")
    assert {e.message.split(" = ")[0] for e in errors} == {
        "submission.json: val_bpb",
        "submission.json: seed_results.42.artifact_bytes",
    }
    assert report.exit_code == 1


def test_required_files(record):
    folder = record("2026-04-05_SP8192_GPTQ-Embeddings_SDClip_Loop45x2")
    missing = {f.file for f in findings_of(verify_path(folder), "PACKAGE.required-files")}
    assert missing == {"README.md", "train_gpt.py"}
    (folder / "README.md").write_text("# SP8192 record\n")
    (folder / "train_gpt.py").write_text("print('train')\n")
    assert not findings_of(verify_path(folder), "PACKAGE.required-files")


def test_complete_submission_json_has_no_package_finding(record):
    folder = record("2026-04-05_SP8192_GPTQ-Embeddings_SDClip_Loop45x2")
    assert not findings_of(verify_path(folder), "PACKAGE.submission-json")
    doc = json.loads((folder / "submission.json").read_text())
    assert {"name", "author", "github_id", "date", "val_bpb", "val_loss"} <= set(doc)
