"""The log parser on every real log format, and on the traps rules.md section 8 lists."""

from __future__ import annotations

import pytest

from golf_check.harness.evidence.logparse import MAX_LINE_BYTES, parse_log

from .conftest import RECORDS

# (folder, log, seed, headline kind, val_bpb, train_time_ms, cap-relevant bytes, val_tokens)
EXPECTED = [
    ("2026-03-18_LongContextSeq2048", "train_seed1338.log", 1338,
     "final_int8_zlib_roundtrip_exact", 1.20617460, 600043, 15861239, 62021632),
    ("2026-03-19_MixedQuant_Int6Int8_SlidingWindow", "train.log", 1337,
     "final_sliding_window_eval_exact", 1.16301431, 600044, 15353490, 62021632),
    ("2026-03-19_Seq2048_FP16Emb_TunedLR", "train_seed3.log", 3,
     "final_sliding_window_exact", 1.15861696, 600036, 15519859, 62021632),
    ("2026-03-19_SlidingWindowEval", "train.log", 1337,
     "final_int8_zlib_roundtrip_exact", 1.19250007, 600028, 15874829, 62021632),
    ("2026-03-20_10L_Int5MLP_MuonWD04_SWA50", "train_seed2024.log", 2024,
     "final_int8_zlib_roundtrip_exact", 1.14260369, 600034, 15684876, 62021632),
    ("2026-03-20_11L_XSA4_EMA_Int6_MLP3x_WD04_1.1271", "train_seed2025.log", 2025,
     "final_int6_sliding_window_exact", 1.12835808, 600043, 15649516, 62021632),
    ("2026-03-22_11L_EMA_GPTQ-lite_warmdown3500_QAT015_1.1233", "train_seed42.log", 42,
     "final_int6_sliding_window_exact", 1.12360306, 600059, 15540675, 62021632),
    ("2026-03-29_Loader_FullGPTQ_XSA11_BigramHash2816", "train_seed2025.log", 2025,
     "final_int6_sliding_window_exact", 1.11212378, 586065, 15983626, 62021632),
    ("2026-04-01_Vocab4096_MLPMult4_WD085", "train_seed2025.log", 2025,
     "final_int6_sliding_window", 1.09816278, 590022, 15927782, 45508608),
    ("2026-04-05_SP8192_GPTQ-Embeddings_SDClip_Loop45x2", "train_seed1234.log", 1234,
     "quantized_sliding_window", 1.08462640, 588024, 15983318, 40540160),
    ("2026-04-06_SP8192_QK5_LegalTTT_1.0828", "train_seed0.log", 0,
     "legal_ttt_exact", 1.08209788, 588035, 15991018, 40540160),
    ("2026-04-09_A2_Muon097_3Seed", "train_seed42.log", 42,
     "legal_ttt_exact", 1.07996676, 588045, 15992995, 40540160),
    ("2026-04-13_VarLenAttn_PhasingTTT2000", "logs/train1.txt", 1,
     "quantized_ttt_phased", 1.07300174, 587073, 15995985, 40540160),
    ("2026-04-16_SmearGate_AttentionOutputGate_ScoreFirstTTT", "train_seed1337.log", 1337,
     "quantized_ttt_lora", 1.07057187, 587083, 15939048, 40540160),
    ("2026-04-22_SP8192_CaseOps_GatedAttn_QuantGate_Loop45_PhasedTTT_MLPClip12",
     "train_seed777.log", 777, "quantized_ttt_phased", 1.06466993, 596066, 15971178, 47851520),
    ("2026-04-29_SmearGateBOSFix_3Seed_1.06141", "train_seed314_rerun_gptq8s.log", 314,
     "quantized_ttt_phased", 1.06090748, 592045, 15951777, 47851520),
]  # fmt: skip


@pytest.mark.parametrize("folder, name, seed, kind, bpb, train_ms, size, tokens", EXPECTED)
def test_every_format_yields_the_claimed_headline(
    folder, name, seed, kind, bpb, train_ms, size, tokens
):  # noqa: E501
    log = parse_log(RECORDS / folder / name)
    head = log.headline()
    assert (log.seed, head.kind, head.val_bpb) == (seed, kind, bpb)
    assert log.train_time_ms == train_ms
    assert log.artifact_bytes == size
    assert log.val_tokens == tokens
    assert log.incomplete_reason() is None


def test_decoy_score_line_in_echoed_source_is_skipped():
    # The placeholder block holds `# decoy: legal_ttt_exact ... val_bpb:0.12345678` and an
    # f-string with a score line; neither may become a score.
    log = parse_log(RECORDS / "2026-03-19_MixedQuant_Int6Int8_SlidingWindow" / "train.log")
    assert log.source_echo_lines >= 15  # the block is echoed three times in this log
    assert all(s.val_bpb != 0.12345678 for s in log.scores)
    assert "legal_ttt_exact" not in log.kinds()


def test_source_echo_after_a_source_code_header_is_skipped():
    path = RECORDS / "2026-04-29_SmearGateBOSFix_3Seed_1.06141" / "train_seed42_rerun_gptq8s.log"
    log = parse_log(path)
    assert log.source_echo_lines == 5
    assert [s.kind for s in log.scores if s.val_bpb < 0.5] == []


def test_timestamp_prefix_and_spaced_separators():
    log = parse_log(RECORDS / "2026-04-13_VarLenAttn_PhasingTTT2000" / "logs" / "train0.txt")
    assert log.seed == 0 and log.seed_source == "log"
    assert log.total_eval_time_s == 500.1
    assert log.gptq_reserve_s == 13.0 and log.gptq_hessian_s == 12.7
    assert log.code_bytes == 28599 and log.code_bytes_uncompressed == 139831
    assert log.hyperparameters["max_wallclock_seconds"] == "600.0"


def test_diagnostic_lines_are_never_the_headline():
    log = parse_log(
        RECORDS / "2026-04-16_SmearGate_AttentionOutputGate_ScoreFirstTTT" / "train_seed0.log"
    )
    kinds = log.kinds()
    assert "diagnostic quantized" in kinds and "diagnostic pre-quantization post-ema" in kinds
    assert log.headline().kind == "quantized_ttt_lora"


def test_alias_line_repeating_the_sliding_score_is_recognised():
    path = RECORDS / "2026-03-22_11L_EMA_GPTQ-lite_warmdown3500_QAT015_1.1233" / "train_seed42.log"
    log = parse_log(path)
    alias = log.alias_of_headline()
    assert alias is not None and alias.kind == "final_int8_zlib_roundtrip_exact"
    assert log.headline().kind == "final_int6_sliding_window_exact"
    assert log.headline().line < alias.line


def test_equals_separator_line_is_parsed_but_the_final_line_wins():
    log = parse_log(RECORDS / "2026-04-06_SP8192_QK5_LegalTTT_1.0828" / "train_seed42.log")
    done = log.headline("ttt_sliding:done")
    assert done.val_loss == 2.797884 and done.eval_time_s == 289.8
    assert log.headline().kind == "legal_ttt_exact"
    # ttt_sliding:done summarises the legal_ttt stage: it is not a second stage.
    assert log.eval_stages_s() == pytest.approx(7.770 + 83.569 + 289.945)


def test_untagged_total_is_raw_and_not_the_cap_figure():
    log = parse_log(RECORDS / "2026-03-18_LongContextSeq2048" / "train.log")
    assert log.raw_total_bytes == 67272699
    assert log.artifact_bytes == 15867270 and log.artifact_tag == "int8+zlib"


def test_seed_comes_from_the_log_before_the_file_name(tmp_path):
    text = (RECORDS / "2026-03-18_LongContextSeq2048" / "train_seed1338.log").read_text()
    misnamed = tmp_path / "train_seed7.log"
    misnamed.write_text(text)
    log = parse_log(misnamed)
    assert (log.seed, log.seed_source) == (1338, "log")


def test_seed_from_file_name_only_when_the_log_is_silent():
    log = parse_log(RECORDS / "2026-04-01_Vocab4096_MLPMult4_WD085" / "train_seed1337.log")
    assert (log.seed, log.seed_source) == (1337, "filename")


def test_non_utf8_bytes_and_overlong_lines_do_not_stop_the_parser(tmp_path):
    raw = (RECORDS / "2026-03-19_SlidingWindowEval" / "train.log").read_bytes()
    lines = raw.split(b"\n")
    lines.insert(20, b"\xff\xfe garbage \x80\x81")
    lines.insert(21, b"x" * (3 * MAX_LINE_BYTES) + b" val_loss:0.1 val_bpb:0.1")
    path = tmp_path / "train.log"
    path.write_bytes(b"\n".join(lines))
    log = parse_log(path)
    assert log.non_utf8
    assert log.headline().val_bpb == 1.19250007
    assert all(s.val_bpb != 0.1 for s in log.scores)


@pytest.mark.parametrize(
    "log, cut_at, headline, reason",
    [
        (
            "2026-04-22_SP8192_CaseOps_GatedAttn_QuantGate_Loop45_PhasedTTT_MLPClip12/train_seed1.log",
            "quantized_ttt_phased",
            None,
            "only diagnostic",
        ),
        (
            "2026-03-20_11L_XSA4_EMA_Int6_MLP3x_WD04_1.1271/train_seed42.log",
            "final_int6_sliding_window_exact",
            "final_int6_sliding_window",
            "no _exact twin",
        ),
        (
            "2026-04-06_SP8192_QK5_LegalTTT_1.0828/train_seed0.log",
            "ttt_sliding:done",
            "quantized_sliding_window",
            "continued after its last score line",
        ),
    ],
    ids=["cut-during-evaluation", "missing-exact-twin", "progress-after-the-last-score"],
)
def test_a_log_cut_short_is_incomplete(tmp_path, log, cut_at, headline, reason):
    text = (RECORDS / log).read_text()
    path = tmp_path / "train.log"
    path.write_text(text[: text.index(cut_at)])
    parsed = parse_log(path)
    assert (parsed.headline().kind if parsed.headline() else None) == headline
    assert reason in parsed.incomplete_reason()


def test_hyperparameter_dump_and_old_header_config():
    new = parse_log(RECORDS / "2026-04-09_A2_Muon097_3Seed" / "train_seed0.log").config()
    assert new["muon_momentum"] == "0.97" and "seed" not in new and "run_id" not in new
    old = parse_log(RECORDS / "2026-03-18_LongContextSeq2048" / "train.log").config()
    assert old["train_seq_len"] == "2048" and old["model_params"] == "17059912"


def test_torchrun_rank_prefixes_are_stripped(tmp_path):
    text = (
        RECORDS / "2026-04-05_SP8192_GPTQ-Embeddings_SDClip_Loop45x2" / "train_seed42.log"
    ).read_text()
    path = tmp_path / "train.log"
    path.write_text("".join(f"[rank0]:{line}" for line in text.splitlines(keepends=True)))
    log = parse_log(path)
    assert (log.seed, log.headline().val_bpb, log.artifact_bytes) == (42, 1.08664424, 15988983)


def test_the_ternary_budget_line_is_the_cap_figure(tmp_path):
    path = tmp_path / "ternary_log_7.txt"
    path.write_text(
        "artifact:15.92MB ternary:64880640(14245920B) fp:2513744(2537376B) code:70853\n"
        "budget:15995705/16000000 (16.00/16.00MB) FITS\n"
        "final_sliding val_loss:2.9877 val_bpb:1.1568 (stride=16, T=0.90) eval_time:428712ms\n"
    )
    log = parse_log(path)
    assert (log.artifact_bytes, log.artifact_line, log.artifact_tag) == (15_995_705, 2, "budget")
    path.write_text("budget:16186500/16000000 (16.19/16.00MB) OVER\n" + path.read_text())
    assert parse_log(path).artifact_bytes == 15_995_705  # the last size line counts
