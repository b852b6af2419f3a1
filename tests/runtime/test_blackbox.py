"""`golf-check run` on a small real submission script (tests/runtime/candidates/tiny_lm.py)
and its misbehaving twins: the trace, the sandbox and the launcher catch each of them."""

from __future__ import annotations

import hashlib

import pytest

from golf_check.harness.runtime.report import evidence_findings, seed_findings
from golf_check.harness.runtime.session import load_stream, run_seed

from .conftest import SANDBOX, TINY_LM, tiny_lm_options


def _digest(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def audited(small_data, tmp_path, modes: str, **kw):
    opts = tiny_lm_options(small_data, tmp_path, modes, train_budget_s=60, eval_budget_s=60, **kw)
    audit = run_seed(
        opts,
        1,
        load_stream(opts),
        env_extra={
            "CANDIDATE_MODE": modes,
            "OUTSIDE_TARGET": str(small_data.data_dir / "evil"),
        },
    )
    findings = seed_findings(audit) + evidence_findings([audit])
    return audit, findings


def errors(findings) -> set[str]:
    return {f.rule for f in findings if f.severity == "error"}


def warnings(findings) -> set[str]:
    return {f.rule for f in findings if f.severity == "warning"}


def test_legal_script_is_clean(small_data, tmp_path):
    audit, findings = audited(small_data, tmp_path, "legal")
    fallback = set() if SANDBOX else {"EVIDENCE.sandbox-fallback"}
    unmeasured = {"EVIDENCE.bpb-recomputed"}  # no ledger: the score is what it printed
    assert audit.failure is None and errors(findings) == set()
    assert warnings(findings) == fallback | unmeasured
    assert audit.headline.kind == "final_ttt"
    assert audit.artifact.path.name == "final_model.ptz"
    assert audit.artifact_bytes == audit.artifact.model_bytes + TINY_LM.stat().st_size
    assert audit.code.files == [TINY_LM.resolve()]
    t = audit.timing
    assert 0 < t.train_convention_s < t.train_strict_s and 0 < t.eval_s < 60
    assert audit.coverage.nograd_positions == 2048  # the whole 2,048-token split, position 0 too
    assert audit.coverage.updates_in_eval > 0 and audit.coverage.unscored_updates == 0


@pytest.mark.slow
def test_data_misbehaviours_are_each_reported_and_user_files_survive(small_data, tmp_path):
    keep = small_data.data_dir / "evil.keep"
    keep.write_text("the user's file")
    before = _digest(small_data.data_dir)
    modes = "network,train-read-at-eval,write-outside,pretrain-on-val,daemon,claim-fast"
    audit, findings = audited(small_data, tmp_path, modes)
    assert audit.failure is None
    assert {
        "DATA.network",
        "DATA.train-data-at-eval",
        "DATA.val-in-training",
        "DATA.write-outside-run",
        "EVIDENCE.process-left-running",
    } <= errors(findings)
    assert "EVIDENCE.log-mismatch" in warnings(findings)  # claimed 10 ms, trained for 7 s
    assert _digest(small_data.data_dir) == before  # nothing written, nothing deleted
    assert audit.launch.survivors and "tiny_lm" in audit.launch.survivors[0]
    keep.unlink()


def test_training_before_scoring_is_caught_by_the_trace(small_data, tmp_path):
    _, findings = audited(small_data, tmp_path, "train-before-score")
    assert "C3.update-before-score" in errors(findings)


def test_rescoring_after_adapting_is_caught_by_the_trace(small_data, tmp_path):
    _, findings = audited(small_data, tmp_path, "rescore")
    assert "C4.rescore" in errors(findings)
    assert "C3.update-before-score" not in errors(findings)


@pytest.mark.parametrize(
    "mode, expected, timeout_s",
    [
        ("crash", "exited with status 1", 120),
        ("no-score", "printed no final score line", 120),
        pytest.param("hang", "killed after the 8 s timeout", 8, marks=pytest.mark.slow),
    ],
)
def test_a_failing_seed_says_what_happened(small_data, tmp_path, mode, expected, timeout_s):
    audit, findings = audited(small_data, tmp_path, mode, timeout_s=timeout_s)
    assert audit.failure == expected
    failed = [f for f in findings if f.rule == "EVIDENCE.seed-failed"]
    assert failed and expected in failed[0].message
