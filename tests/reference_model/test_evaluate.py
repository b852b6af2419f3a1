"""The evaluation passes: every position scored once, causal, and honest with the ledger."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from golf_check.harness import ledger
from golf_check.harness.shards import ByteLUT
from golf_check.reference_model.config import PRESETS, Config, load_config
from golf_check.reference_model.data import ValData
from golf_check.reference_model.evaluate import PASSES, Dist, Evaluator, make_blocks
from golf_check.reference_model.model import GPT, count_parameters
from golf_check.reference_model.quantize import dequantize_state, quantize_state

VAL_N = 700


def micro(**kw) -> Config:
    base = {
        **PRESETS["micro"],
        "preset": "micro",
        "eval_seq_len": 64,
        "eval_stride": 16,
        "ttt_chunk_tokens": 200,
        "eval_batch": 8,
    }
    return Config(**{**base, **kw})


@pytest.fixture(scope="module")
def lut(demo):
    return ByteLUT.from_model(str(demo.tokenizer_path))


def make_val(lut, tokens) -> ValData:
    token_bytes = np.zeros(tokens.size, dtype=np.int64)
    token_bytes[1:] = lut.stream_bytes(tokens)
    return ValData(tokens, token_bytes, lut)


@pytest.fixture(scope="module")
def state():
    torch.manual_seed(0)
    cfg = micro()
    model = GPT(cfg)
    with torch.no_grad():  # non-zero output projections, so every layer matters
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return dequantize_state(quantize_state(model, cfg))


def val_tokens(seed=0):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(3, 1024, VAL_N).astype(np.uint16)
    tokens[0] = 1
    tokens[400:500] = tokens[100:200]  # a repeat for the caches
    return tokens


def logs(_msg):
    pass


@pytest.mark.parametrize(
    "lo, hi, seq, stride", [(1, 700, 64, 16), (1, 65, 64, 16), (201, 401, 64, 64), (1, 30, 64, 7)]
)
def test_blocks_cover_each_position_once(lo, hi, seq, stride):
    blocks = make_blocks(lo, hi, seq, stride)
    covered = [p for b, e in blocks for p in range(b, e)]
    assert covered == list(range(lo, hi))
    assert all(e - b <= (seq if b == 1 else stride) for b, e in blocks)


def test_all_passes_clean_in_the_ledger(tmp_path, monkeypatch, lut, state):
    monkeypatch.setenv(ledger.ENV_DIR, str(tmp_path))
    monkeypatch.setenv(ledger.ENV_SAMPLE, "1")
    ledger._reset_for_tests()
    cfg = micro()
    ev = Evaluator(cfg, make_val(lut, val_tokens()), state, torch.device("cpu"), Dist(), logs)
    results = {name: ev.run_pass(name) for name in PASSES}
    verdict = ledger.verdict()
    assert verdict.status == {"C2": "ok", "C3": "ok", "C4": "ok"}, verdict.violations
    for p in verdict.passes:
        assert p.scored == VAL_N - 1 and p.distributions_checked == VAL_N - 1
        # What the log reports is what the ledger saw.
        assert p.nll_sum == pytest.approx(results[p.name].nll_sum, rel=1e-9)
    assert all(r.tokens == VAL_N - 1 for r in results.values())


def test_sliding_with_stride_of_a_window_is_the_plain_pass(lut, state):
    val = make_val(lut, val_tokens())
    plain = Evaluator(micro(), val, state, torch.device("cpu"), Dist(), logs).run_pass("quantized")
    cfg = micro(eval_stride=64)
    same = Evaluator(cfg, val, state, torch.device("cpu"), Dist(), logs).run_pass(
        "quantized_sliding_window"
    )
    assert same.nll_sum == pytest.approx(plain.nll_sum, rel=1e-6)


@pytest.mark.parametrize("name", PASSES)
def test_flip_test_passes_are_causal(tmp_path, monkeypatch, lut, state, name):
    """Change the token at position t: the distributions at positions <= t must not move."""
    t = 260
    dumps = []
    for variant in (0, 1):
        tokens = val_tokens()
        if variant:
            tokens[t] = (int(tokens[t]) + 17) % 1024
            tokens[t + 1 :] = val_tokens(seed=5)[t + 1 :]  # and every later token
        out = tmp_path / f"run{variant}"
        monkeypatch.setenv(ledger.ENV_DIR, str(out))
        monkeypatch.setenv(ledger.ENV_DUMP, str(t + 1))
        ledger._reset_for_tests()
        Evaluator(
            micro(), make_val(lut, tokens), state, torch.device("cpu"), Dist(), logs
        ).run_pass(name)
        ledger.finish()
        dumps.append(np.load(out / "dist.rank0.npy"))
    assert np.allclose(dumps[0][1:], dumps[1][1:], atol=1e-5, equal_nan=True)


def test_flip_test_catches_slot(tmp_path, monkeypatch, lut, state):
    t = 150
    dumps = []
    for variant in (0, 1):
        tokens = val_tokens()
        tokens[t] = (int(tokens[t]) + 17) % 1024 if variant else tokens[t]
        monkeypatch.setenv(ledger.ENV_DIR, str(tmp_path / f"s{variant}"))
        monkeypatch.setenv(ledger.ENV_DUMP, str(t + 1))
        ledger._reset_for_tests()
        cfg = micro(golf_inject="slot")
        Evaluator(cfg, make_val(lut, tokens), state, torch.device("cpu"), Dist(), logs).run_pass(
            "quantized_sliding_window"
        )
        ledger.finish()
        dumps.append(np.load(tmp_path / f"s{variant}" / "dist.rank0.npy"))
    assert not np.allclose(dumps[0][1:t], dumps[1][1:t], atol=1e-5)


def test_config_precedence_and_errors():
    cfg = load_config(["--seed", "7"], {"SEED": "3", "PRESET": "micro", "TTT_EPOCHS": "4"})
    assert (cfg.seed, cfg.preset, cfg.ttt_epochs, cfg.num_layers) == (7, "micro", 4, 2)
    assert cfg.run_id == "micro_seed7"
    assert load_config([], {"GOLF_INJECT": "rescore"}).golf_inject == "rescore"
    assert load_config(["--inject", "slot"], {}).golf_inject == "slot"
    from golf_check.harness.errors import InputError

    with pytest.raises(InputError, match="unknown preset"):
        load_config([], {"PRESET": "huge"})
    with pytest.raises(InputError, match="cannot read 'x' as int"):
        load_config([], {"SEED": "x"})
    with pytest.raises(InputError, match="EVAL_ONLY=1 needs LOAD_ARTIFACT"):
        load_config([], {"EVAL_ONLY": "1"})


def test_golf_preset_fits_the_challenge_budget():
    """Build the golf model without memory (meta device) and estimate its artifact."""
    cfg = replace(load_config([], {"PRESET": "golf"}))
    with torch.device("meta"):
        model = GPT(cfg)
    params = count_parameters(model)
    assert 15_000_000 < params < 25_000_000
    matrix = sum(
        p.numel() for n, p in model.named_parameters() if p.ndim == 2 and n != "embed.weight"
    )
    embed = model.embed.weight.numel()
    rows = sum(p.shape[0] for p in model.parameters() if p.ndim == 2)
    # int6 matrices, int8 embedding, fp16 row scales and gains; zstd only shrinks it further.
    estimate = matrix * 6 / 8 + embed + 2 * rows + 2 * (params - matrix - embed)
    assert estimate + 100_000 < 16_000_000
    assert cfg.train_batch_tokens % (cfg.train_seq_len * 8) == 0  # 8 ranks, whole rows
    assert cfg.max_wallclock_seconds == 600
