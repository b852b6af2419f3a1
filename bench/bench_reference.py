"""Benchmark the reference model: training and evaluation speed, ledger overhead, Hedge memory.

Run: .venv/bin/python bench/bench_reference.py [--repeats 5] [--val-tokens 8192]

Figures are medians of repeated runs; the ledger variants run interleaved in the same loop
(off, sampled, every position) so machine noise hits them alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import replace

import numpy as np
import torch

from golf_check.harness import ledger
from golf_check.harness.demo_data import ensure_demo_data
from golf_check.harness.shards import ByteLUT, load_split
from golf_check.reference_model.config import PRESETS, Config
from golf_check.reference_model.data import TrainBatches, ValData
from golf_check.reference_model.evaluate import Dist, Evaluator
from golf_check.reference_model.hedge import NgramExperts, SparseCounts
from golf_check.reference_model.model import GPT
from golf_check.reference_model.optim import build_optimizers
from golf_check.reference_model.quantize import dequantize_state, quantize_state


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_training(cfg: Config, demo, repeats: int) -> float:
    model = GPT(cfg)
    opts = build_optimizers(model, cfg)
    batches = TrainBatches(cfg, demo.data_dir, 0, 1, torch.device("cpu"))

    def step():
        x, y = batches.next()
        model(x, y).backward()
        for opt in opts:
            opt.step()
        model.zero_grad(set_to_none=True)

    step()  # warm-up
    return cfg.train_batch_tokens / median_time(step, repeats * 4)


def with_ledger(mode: str | None, fn):
    """Run ``fn`` with the ledger off (None) or sampling at ``mode`` ('1/32', '1')."""
    with tempfile.TemporaryDirectory() as tmp:
        for k in (ledger.ENV_DIR, ledger.ENV_SAMPLE):
            os.environ.pop(k, None)
        if mode is not None:
            os.environ[ledger.ENV_DIR] = tmp
            os.environ[ledger.ENV_SAMPLE] = str(eval(mode))  # "1/32" -> 0.03125
        ledger._reset_for_tests()
        t0 = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - t0
        ledger._reset_for_tests()
    for k in (ledger.ENV_DIR, ledger.ENV_SAMPLE):
        os.environ.pop(k, None)
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--val-tokens", type=int, default=8192)
    args = ap.parse_args()
    torch.set_num_threads(1)  # as the reference model runs on CPU
    demo = ensure_demo_data()
    cfg = replace(Config(**PRESETS["tiny"]), preset="tiny")
    print(f"# reference model benchmark, tiny preset, torch threads 1, {time.strftime('%Y-%m-%d')}")

    print(f"training: {bench_training(cfg, demo, args.repeats):,.0f} tokens/s")

    torch.manual_seed(0)
    state = dequantize_state(quantize_state(GPT(cfg), cfg))
    lut = ByteLUT.from_model(str(demo.tokenizer_path))
    tokens = np.asarray(load_split(demo.data_dir, "val"))[: args.val_tokens]
    token_bytes = np.zeros(tokens.size, dtype=np.int64)
    token_bytes[1:] = lut.stream_bytes(tokens)
    val = ValData(tokens, token_bytes, lut)
    ev = Evaluator(cfg, val, state, torch.device("cpu"), Dist(), lambda _m: None)
    for name in ("quantized_sliding_window", "quantized_ttt", "quantized_ttt_hedge"):
        seconds = median_time(lambda n=name: ev.run_pass(n), args.repeats)
        print(f"eval {name}: {(val.n - 1) / seconds:,.0f} tokens/s")

    # End to end: the same pass with the ledger off, sampling, checking everything. On a
    # shared machine the noise of these medians is a few percent, so the time spent inside the
    # ledger's own calls is also measured directly, within the same runs.
    modes = {"off": None, "sampled 1/32": "1/32", "every position": "1"}
    inside = install_ledger_timer()
    for name in ("quantized_sliding_window", "quantized_ttt_hedge"):
        times: dict[str, list[float]] = {m: [] for m in modes}
        shares: dict[str, list[float]] = {m: [] for m in modes}
        for _ in range(args.repeats):
            for label, mode in modes.items():
                inside[0] = 0.0
                elapsed = with_ledger(mode, lambda n=name: ev.run_pass(n))
                times[label].append(elapsed)
                shares[label].append(inside[0] / (elapsed - inside[0]))
        base = statistics.median(times["off"])
        for label in ("sampled 1/32", "every position"):
            ratio = statistics.median(times[label]) / base - 1
            share = statistics.median(shares[label])
            print(
                f"ledger overhead on {name}, {label}: {share * 100:.2f}% measured inside the ledger "
                f"(end to end {ratio * 100:+.1f}%)"
            )

    vocab, buckets = 1024, 65536
    dense_bytes = buckets * vocab * 4
    for n in (val.n, 1_000_000):
        # Real demo text first; random tokens beyond it (the worst case: every cell new).
        text = demo_tokens(demo)[:n]
        filler = np.random.default_rng(0).integers(0, vocab, n - text.size)
        stream = np.concatenate([text, filler])
        experts = NgramExperts(vocab, buckets, cfg.hedge_prior, counts=SparseCounts)
        for lo in range(1, n, 65536):
            experts.update(stream, lo, min(n, lo + 65536))
        print(
            f"hedge trigram table after {n:,} tokens: {experts.trigram.nbytes / 2**20:.2f} MiB sparse "
            f"vs {dense_bytes / 2**20:.0f} MiB dense float32 ({dense_bytes / experts.trigram.nbytes:,.0f}x smaller)"
        )


def install_ledger_timer() -> list[float]:
    """Accumulate the time spent in the recorder's methods into the returned cell."""
    cell = [0.0]
    for method in ("begin", "scored", "adapting", "_flush_dump"):
        original = getattr(ledger._Recorder, method)

        def timed(self, *a, _original=original, **k):
            t0 = time.perf_counter()
            try:
                return _original(self, *a, **k)
            finally:
                cell[0] += time.perf_counter() - t0

        setattr(ledger._Recorder, method, timed)
    return cell


def demo_tokens(demo) -> np.ndarray:
    return np.asarray(load_split(demo.data_dir, "train")).astype(np.int64)


if __name__ == "__main__":
    main()
