"""`golf-check run` against hostile candidates: one small script per attack (in
``candidates/``, each built on the legal tiny_lm submission), each run under audit and
expected to FAIL with the finding that catches it."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from golf_check.harness.report import verdict_of
from golf_check.harness.runtime import sandbox
from golf_check.harness.runtime.report import evidence_findings, seed_findings
from golf_check.harness.runtime.session import load_stream, run_seed

from ..conftest import tiny_lm_options

HOSTILE = Path(__file__).parent / "candidates"
TINY_LM_DIR = Path(__file__).parent.parent / "candidates"

BWRAP, WHY_NOT = sandbox.bwrap_status()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(BWRAP is None, reason=f"no bubblewrap sandbox here: {WHY_NOT}"),
]


def attack(small_data, tmp_path, script: Path, modes: str = "legal", **env):
    opts = tiny_lm_options(
        small_data, tmp_path, modes, script, train_budget_s=60, eval_budget_s=60, timeout_s=120
    )
    audit = run_seed(opts, 1, load_stream(opts), env_extra={"CANDIDATE_MODE": modes, **env})
    findings = seed_findings(audit) + evidence_findings([audit])
    return audit, findings


def errors(findings) -> set[str]:
    return {f.rule for f in findings if f.severity == "error"}


def messages(findings, rule: str) -> str:
    return "\n".join(f.message for f in findings if f.rule == rule)


def test_rewriting_the_log_is_refused_and_reported(small_data, tmp_path):
    audit, findings = attack(small_data, tmp_path, HOSTILE / "rewrite_log.py")
    assert "rewrite the log: refused" in "\n".join(line.text for line in audit.launch.lines)
    assert audit.log_intact and audit.headline.val_bpb > 1.0  # the score the run printed
    assert "DATA.write-outside-run" in errors(findings)
    assert "golf-check's own" in messages(findings, "DATA.write-outside-run")
    assert verdict_of(findings) == "fail"


def test_emptying_the_trace_keeps_the_evidence_it_sent_live(small_data, tmp_path):
    audit, findings = attack(
        small_data, tmp_path, HOSTILE / "rewrite_trace.py", modes="train-before-score"
    )
    assert "C3.update-before-score" in errors(findings)  # from the events received live
    assert "DATA.write-outside-run" in errors(findings)
    assert (audit.run_dir / "trace.jsonl").stat().st_size > 0
    assert verdict_of(findings) == "fail"


def test_replacing_the_shims_emit_is_an_incomplete_trace(small_data, tmp_path):
    audit, findings = attack(small_data, tmp_path, HOSTILE / "silence_emit.py")
    assert audit.failure is None and audit.headline is not None
    found = messages(findings, "EVIDENCE.audit-integrity")
    assert "EVIDENCE.audit-integrity" in errors(findings)
    assert "emit" in found and "exit event" in found
    assert verdict_of(findings) == "fail"


def test_closing_the_trace_channel_is_an_incomplete_trace(small_data, tmp_path):
    audit, findings = attack(small_data, tmp_path, HOSTILE / "close_channel.py")
    assert audit.failure is None
    assert "EVIDENCE.audit-integrity" in errors(findings)
    assert "exit event" in messages(findings, "EVIDENCE.audit-integrity")


def test_a_python_child_without_the_shim_is_reported(small_data, tmp_path):
    audit, findings = attack(small_data, tmp_path, HOSTILE / "isolated_child.py")
    assert audit.failure is None and audit.headline is not None
    assert "EVIDENCE.audit-integrity" in errors(findings)
    assert "python -I" in messages(findings, "EVIDENCE.audit-integrity")
    assert verdict_of(findings) == "fail"


def test_a_detached_daemon_with_an_empty_environment_dies_with_the_run(small_data, tmp_path):
    marker = tmp_path / "daemon-was-here"
    audit, findings = attack(
        small_data, tmp_path, HOSTILE / "detached_daemon.py", DAEMON_MARKER=str(marker)
    )
    assert "EVIDENCE.process-left-running" in errors(findings)
    assert any("-c" in s for s in audit.launch.survivors)
    assert "an environment without golf-check's shim" in messages(
        findings, "EVIDENCE.audit-integrity"
    )
    time.sleep(4)  # the daemon would have written its marker after 3 s
    assert not marker.exists()
    assert verdict_of(findings) == "fail"


def test_a_rendezvous_port_the_run_opened_itself_is_a_network_finding(small_data, tmp_path):
    _, findings = attack(small_data, tmp_path, HOSTILE / "spoof_rendezvous.py")
    assert "DATA.network" in errors(findings)
    assert "127.0.0.1" in messages(findings, "DATA.network")


def test_a_decoy_artifact_does_not_hide_the_one_evaluation_reads(small_data, tmp_path):
    audit, findings = attack(small_data, tmp_path, HOSTILE / "decoy_artifact.py")
    assert audit.artifact.path.name == "final_model.ptz"
    assert [p.name for p in audit.artifact.files] == ["final_model.ptz"]
    assert audit.artifact_bytes > 17_000_000
    assert "BUDGET.artifact-cap" in errors(findings)
    assert verdict_of(findings) == "fail"


def test_weights_read_from_the_scripts_folder_count_toward_the_cap(small_data, tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    for name in ("side_weights.py", "_base.py"):
        shutil.copy(HOSTILE / name, folder / name)
    (folder / "pretrained_weights.dat").write_bytes(b"\1" * 17_000_000)
    audit, findings = attack(
        small_data, tmp_path, folder / "side_weights.py", TINY_LM_DIR=str(TINY_LM_DIR)
    )
    assert [p.name for p in audit.side.files] == ["pretrained_weights.dat"]
    assert audit.artifact_bytes > 17_000_000
    assert "BUDGET.artifact-cap" in errors(findings)
    assert verdict_of(findings) == "fail"
