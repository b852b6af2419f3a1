"""BUDGET rules on edited copies of real logs: each illegal twin fails for the right rule,
and its legal twin (the unedited record) does not."""

from __future__ import annotations

import pytest

from golf_check.harness.evidence.verifier import verify_path

from .conftest import edit, finding_after_edit, findings_of

CASEOPS = "2026-04-22_SP8192_CaseOps_GatedAttn_QuantGate_Loop45_PhasedTTT_MLPClip12"
A2 = "2026-04-09_A2_Muon097_3Seed"
LONG = "2026-03-18_LongContextSeq2048"


def test_train_time_615s_fails(record):
    folder = record(LONG)
    assert not findings_of(verify_path(folder), "BUDGET.train-time")  # 600.038 s: one step
    edit(
        folder / "train_seed1338.log",
        "train_time:600043ms step:11575",
        "train_time:615000ms step:11575",
    )
    report = verify_path(folder)
    [finding] = findings_of(report, "BUDGET.train-time", "error")
    assert "seed 1338" in finding.message and "615.000 s" in finding.message
    assert finding.line == 116 and report.exit_code == 1


def test_train_time_a_second_over_fails_even_with_slow_steps(record):
    folder = record(CASEOPS)
    edit(folder / "train_seed314.log", "train_time: 596091ms", "train_time: 601200ms")
    [finding] = findings_of(verify_path(folder), "BUDGET.train-time", "error")
    assert "seed 314" in finding.message


def test_gptq_hessians_past_600s_warn(record):
    # The unedited record: 596.1 + 3.4 s.
    finding = finding_after_edit(
        record(CASEOPS),
        "BUDGET.gptq-in-train",
        "warning",
        "train_seed777.log",
        "GPTQ:collected 67 Hessians in 3.4s",
        "GPTQ:collected 67 Hessians in 9.9s",
    )
    assert "596.066 s" in finding.message and "9.9 s" in finding.message
    assert "GPTQ_RESERVE_SECONDS" in finding.fix


@pytest.mark.parametrize(
    "name, rule, severity, log, old, new, says",
    [
        pytest.param(
            CASEOPS,
            "BUDGET.eval-time",
            "error",
            "train_seed1.log",
            "total_eval_time:391.2s",
            "total_eval_time:612.4s",
            ["612.4 s", "total_eval_time"],
            id="eval-timer-over-600s-fails",
        ),
        # 475 s in 4 stages; a longer TTT stage makes 8.7 + 91.8 + 33.0 + 480.0 = 613.5 s,
        # though no line says > 600.
        pytest.param(
            A2,
            "BUDGET.eval-time",
            "error",
            "train_seed0.log",
            "eval_time:341841ms",
            "eval_time:480000ms",
            ["sum of eval stages", "613.5 s"],
            id="eval-stages-summed-when-no-eval-timer",
        ),
        pytest.param(
            CASEOPS,
            "BUDGET.artifact-cap",
            "error",
            "train_seed2025.log",
            "Total submission size quantized+brotli: 15977203 bytes",
            "Total submission size quantized+brotli: 16071321 bytes",
            ["16,071,321", "71,321 over"],
            id="artifact-over-cap-from-the-log-fails",
        ),
    ],
)
def test_an_edited_log_over_a_budget(record, name, rule, severity, log, old, new, says):
    finding = finding_after_edit(record(name), rule, severity, log, old, new)
    assert all(text in finding.message for text in says)


def test_raw_untagged_total_is_not_mistaken_for_the_cap_figure(record):
    # LongContext logs `Total submission size: 67272699 bytes` (raw fp32) beside the tagged
    # int8+zlib total; only the tagged one is the artifact.
    report = verify_path(record(LONG))
    assert not findings_of(report, "BUDGET.artifact-cap")
    assert {s["artifact_bytes"] for s in report.data["seeds"]} == {15867270, 15861239, 15861752}


def _script_folder(record, helper_bytes: int, model_bytes: int | None):
    """The A2 record with a train_gpt.py of its logged 19,387 bytes importing a helper."""
    folder = record(A2)
    script = "import os\nfrom ngram_tilt import NgramTiltState\n\nNgramTiltState(os.environ)\n"
    (folder / "train_gpt.py").write_text(script + "#" * (19_387 - len(script) - 1) + "\n")
    helper = "class NgramTiltState:\n    def __init__(self, env):\n        self.env = env\n"
    (folder / "ngram_tilt.py").write_text(helper + "#" * (helper_bytes - len(helper) - 1) + "\n")
    if model_bytes is not None:
        (folder / "final_model.int6.ptz").write_bytes(b"\0" * model_bytes)
    return folder


def test_helper_code_not_counted_by_the_log_pushes_the_artifact_over(record):
    # rules.md R-CODE-COUNTED: the A2 logs count only train_gpt.py (19,387 bytes); with its
    # 8,624-byte ngram_tilt.py every seed is over (seed 0: 15,973,959 + 28,011 bytes).
    folder = _script_folder(record, helper_bytes=8_624, model_bytes=None)
    findings = findings_of(verify_path(folder), "BUDGET.artifact-cap", "error")
    assert len(findings) == 3 and all("ngram_tilt.py" in f.message for f in findings)
    assert any("16,001,970 bytes, 1,970 over the cap" in f.message for f in findings)


def test_helper_code_counted_within_the_cap_is_only_a_warning(record):
    folder = _script_folder(record, helper_bytes=1_000, model_bytes=None)
    report = verify_path(folder)
    assert not findings_of(report, "BUDGET.artifact-cap", "error")
    assert findings_of(report, "BUDGET.artifact-cap", "warning")


def test_shipped_model_and_code_recomputed_from_files(record):
    over = _script_folder(record, helper_bytes=1_000, model_bytes=15_990_000)
    [finding] = findings_of(verify_path(over), "BUDGET.artifact-cap", "error")
    assert "recomputed from the files" in finding.message
    assert finding.file == "final_model.int6.ptz"


def test_shipped_model_under_the_cap_passes(record):
    folder = _script_folder(record, helper_bytes=1_000, model_bytes=15_000_000)
    assert not findings_of(verify_path(folder), "BUDGET.artifact-cap")


def test_hardware_other_than_8xh100_sxm_is_named(record):
    folder = record("2026-03-19_MixedQuant_Int6Int8_SlidingWindow")
    assert not findings_of(verify_path(folder), "BUDGET.hardware")  # 8x H100 80GB HBM3
    log = folder / "train.log"
    edit(log, "world_size:8 grad_accum_steps:1", "world_size:1 grad_accum_steps:8")
    edit(log, "NVIDIA H100 80GB HBM3    ", "NVIDIA H100 PCIe         ", count=1)
    [finding] = findings_of(verify_path(folder), "BUDGET.hardware", "warning")
    assert "world_size 1" in finding.message and "NVIDIA H100 PCIe" in finding.message


def test_log_counting_unwrapped_code_is_judged_on_the_shipped_files(record):
    # rules.md section 8 (#1835): the log counted 104,721 bytes of unwrapped source, the
    # shipped LZMA-wrapped train_gpt.py is far smaller; the shipped file is what counts.
    folder = record(CASEOPS)
    log = folder / "train_seed1.log"
    edit(
        log,
        "Total submission size quantized+brotli: 15979182 bytes",
        "Total submission size quantized+brotli: 16055878 bytes",
    )
    assert findings_of(verify_path(folder), "BUDGET.artifact-cap", "error")  # log only
    (folder / "train_gpt.py").write_text("import lzma\n" + "#" * 28_000 + "\n")
    report = verify_path(folder)
    assert not findings_of(report, "BUDGET.artifact-cap", "error")
    [finding] = findings_of(report, "BUDGET.artifact-cap", "warning")
    assert "counted code that does not ship" in finding.message
