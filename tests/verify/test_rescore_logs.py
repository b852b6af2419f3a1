"""C4 and C3 read from the eval's story in a log: a rescore after adaptation, whole epochs over
the split before scoring, several scoring passes. Each illegal twin has a legal twin that
differs only in the lines that make it illegal (formats of rules.md section 6)."""

from __future__ import annotations

import math

from golf_check.harness.evidence.verifier import verify_path

from .conftest import findings_of

TOKENS = 62_021_632  # sp1024 canonical validation tokens
BYTES = 151_080_000


def score(kind: str, loss: float, decimals: int = 8, sep: str = ":", tail: str = "") -> str:
    """A score line whose numbers imply the canonical byte count (EVIDENCE.bpb-bytes holds)."""
    bpb = loss / math.log(2) * TOKENS / BYTES
    return f"{kind} val_loss{sep}{loss:.{decimals}f} val_bpb{sep}{bpb:.{decimals}f}{tail}\n"


def write_log(tmp_path, eval_lines: list[str], name: str = "train_seed42.log"):
    head = (
        "val_bpb:enabled tokenizer_kind=sentencepiece "
        "tokenizer_path=./data/tokenizers/fineweb_1024_bpe.model\n"
        f"val_loader:shards pattern=./data/fineweb_val_*.bin tokens:{TOKENS}\n"
        "seed:42\n"
        "step:1000/20000 val_loss:2.1000 val_bpb:1.2437 train_time:300000ms step_avg:300.00ms\n"
        "stopping_early: wallclock_cap train_time:590000ms step:1967/20000\n"
        "Serialized model int6+lzma: 15000000 bytes\n"
        "Total submission size int6+lzma: 15050000 bytes\n"
    )
    base = score("final_int6_sliding_window", 2.0, 4, tail=" stride:64 eval_time:90000ms")
    base += score("final_int6_sliding_window_exact", 2.0)
    path = tmp_path / name
    path.write_text(head + base + "".join(eval_lines))
    return path


# A score-first TTT pass: its ":done" line carries the pass's own result (#991 before T0.98).
TTT_PASS = [
    "ttt:start chunks=60 chunk_tokens=1048576 stride=64 lr=0.0001 epochs=1\n",
    score("ttt:done", 1.95, 6, sep="=", tail=" elapsed=240.0s"),
    score("final_ttt_T1.0", 1.95, 4, tail=" stride:64 eval_time:240500ms"),
    score("final_ttt_T1.0_exact", 1.95),
]
RESCORE = [
    score("final_ttt_T0.98", 1.94, 4, tail=" eval_time:82117ms"),
    score("final_ttt_T0.98_exact", 1.94),
]


def test_temperature_rescore_after_ttt_fails_for_c4(tmp_path):
    report = verify_path(write_log(tmp_path, TTT_PASS + RESCORE))
    [finding] = findings_of(report, "C4.rescore", "error")
    assert "final_ttt_T0.98_exact" in finding.message and "(L11)" in finding.message
    assert "had already scored every token" in finding.message
    assert "L11: ttt:done" in finding.evidence and "L13: final_ttt_T1.0_exact" in finding.evidence
    assert "L14: final_ttt_T0.98 " in finding.evidence
    assert finding.line == 15 and report.exit_code == 1


def test_the_ttt_pass_reported_as_it_ran_passes(tmp_path):
    report = verify_path(write_log(tmp_path, TTT_PASS))
    assert not findings_of(report, "C4.rescore")
    assert report.exit_code == 0


def test_score_first_ttt_summary_and_exact_line_are_one_pass(tmp_path):
    lines = [
        score("ttt_sliding:done", 1.95, 6, sep="=", tail=" elapsed=300.2s"),
        score("legal_ttt", 1.95, 4, tail=" eval_time:300400ms"),
        score("legal_ttt_exact", 1.95),
    ]
    assert not findings_of(verify_path(write_log(tmp_path, lines)), "C4.rescore")


EPOCHS = [f"ttt_epoch:{k}/3 avg_loss:{1.9 - k / 100:.4f}\n" for k in (1, 2, 3)]


def test_scoring_after_whole_epochs_over_the_split_fails_for_c4_and_c3(tmp_path):
    lines = [
        *EPOCHS,
        "ttt: completed in 300000ms\n",
        score("final_int6_sliding_window", 1.9, 4, tail=" stride:64 eval_time:91000ms"),
        score("final_int6_sliding_window_exact", 1.9),
    ]
    report = verify_path(write_log(tmp_path, lines))
    [rescore] = findings_of(report, "C4.rescore", "error")
    assert "after 3 epochs over the split" in rescore.message
    [trained] = findings_of(report, "C3.pretrain-on-val", "error")
    assert "3 epochs" in trained.message and trained.line == 13


def test_prequant_ttt_epochs_name_the_prequant_rule(tmp_path):
    lines = [
        *(f"prequant_ttt:epoch {k}/4 loss:2.7 time:{k * 17}.0s\n" for k in range(1, 5)),
        "prequant_ttt:done elapsed=68.0s\n",
        score("final_int6_sliding_window", 1.9, 8, tail=" stride:64 eval_time:79000ms"),
    ]
    report = verify_path(write_log(tmp_path, lines))
    assert findings_of(report, "C3.prequant-ttt", "error")
    assert findings_of(report, "C4.rescore", "error")


def test_ttt_summary_line_after_done_is_the_same_pass(tmp_path):
    # Score-first TTT that prints its accumulated score after a bare ":done" line: the
    # score line's eval time is the pass's elapsed time, so it is that pass's result.
    lines = [
        "ttt:done elapsed=240.0s\n",
        score("final_int8_ttt_lora", 1.95, 4, tail=" eval_time:240300ms"),
    ]
    assert not findings_of(verify_path(write_log(tmp_path, lines)), "C4.rescore")


def test_several_scoring_passes_fail_for_best_of_passes(tmp_path):
    passes = [
        "legal_ttt: 3 passes, 7752704 tokens/rank, lr=0.0005\n",
        *(
            f"  pass {k} [100/237] scored=3276800 avg_nll=1.96\n  pass {k}: done\n"
            for k in range(3)
        ),
        score("legal_ttt", 1.9, 4, tail=" eval_time:88649ms"),
    ]
    report = verify_path(write_log(tmp_path, passes))
    [finding] = findings_of(report, "C4.best-of-passes", "error")
    assert "3 passes" in finding.message and "pass 0 at L11" in finding.message


def test_one_scoring_pass_is_not_best_of_passes(tmp_path):
    passes = [
        "  pass 0 [100/237] scored=3276800 avg_nll=1.96\n",
        score("legal_ttt", 1.9, 4, tail=" eval_time:88649ms"),
    ]
    assert not findings_of(verify_path(write_log(tmp_path, passes)), "C4.best-of-passes")


def test_a_ttt_score_after_a_bare_done_line_is_that_pass_and_a_later_pass_is_not(tmp_path):
    ttt = ["ttt:done elapsed=240.0s\n", score("legal_ttt", 1.95, 4, tail=" eval_time:150000ms")]
    ttt.append(score("legal_ttt_exact", 1.95))
    assert not findings_of(verify_path(write_log(tmp_path, ttt)), "C4.rescore")
    rescored = [*ttt, score("final_ttt_T0.98_exact", 1.94)]
    [finding] = findings_of(verify_path(write_log(tmp_path, rescored)), "C4.rescore", "error")
    assert "L12: legal_ttt_exact" in finding.evidence


def test_score_first_ttt_with_epochs_per_chunk_is_one_pass(tmp_path):
    # Several epochs on each chunk after scoring it, then the pass's own TTT-named score
    # taking the pass's time: one pass, nothing to report.
    lines = [*EPOCHS, "ttt:done elapsed=300.0s\n"]
    lines.append(score("legal_ttt", 1.95, 4, tail=" eval_time:300200ms"))
    lines.append(score("legal_ttt_exact", 1.95))
    report = verify_path(write_log(tmp_path, lines))
    assert not findings_of(report, "C4.rescore") and not findings_of(report, "C3.pretrain-on-val")
