"""Two ranks on gloo score the Hedge pass exactly as one process does.

The real evaluator runs ``quantized_ttt_hedge`` over the same stream with the same model, once
in one process and once as two processes joined by torch.distributed (gloo, CPU). Each rank
scores its share of every chunk; the ledger dumps every position's full mixture row. The rows
of the two ranks together must equal the single process's bit for bit: the counts and Hedge
weights behind them were updated from the same tokens and statistics, in the same order.

TTT is off here (zero epochs): averaging gradients over two ranks is not bitwise a single
batch's gradient, and this test is about the experts and the mixer. Each forward holds one
window (``eval_batch=1``) so the neural rows do not depend on how windows are batched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from golf_check.harness import ledger

N_TOKENS = 1500


def worker(rank: int, world: int, init_file: str, out: str) -> None:
    import torch

    from golf_check.reference_model.config import PRESETS, Config
    from golf_check.reference_model.data import ValData
    from golf_check.reference_model.evaluate import Dist, Evaluator
    from golf_check.reference_model.model import GPT

    torch.set_num_threads(1)
    if world > 1:
        torch.distributed.init_process_group(
            "gloo", init_method=f"file://{init_file}", rank=rank, world_size=world
        )
    os.environ.update(
        {ledger.ENV_DIR: out, ledger.ENV_DUMP: str(N_TOKENS), ledger.ENV_SAMPLE: "0.1"}
    )
    os.environ["RANK"] = str(rank)
    cfg = Config(
        **{
            **PRESETS["micro"],
            "preset": "micro",
            "eval_seq_len": 64,
            "eval_stride": 16,
            "eval_batch": 1,
            "ttt_chunk_tokens": 300,
            "ttt_epochs": 0,
            "hedge_buckets": 512,
        }
    )
    torch.manual_seed(0)
    model = GPT(cfg)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    rng = np.random.default_rng(0)
    tokens = rng.zipf(1.3, N_TOKENS).clip(1, cfg.vocab_size - 1).astype(np.uint16)
    tokens[700:900] = tokens[100:300]  # a repeat for the n-gram experts
    val = ValData(tokens, np.ones(N_TOKENS, dtype=np.int64), None)
    dist = Dist(rank, world)
    ev = Evaluator(cfg, val, model.state_dict(), torch.device("cpu"), dist, lambda _m: None)
    ev.run_pass("quantized_ttt_hedge")
    ledger.finish()
    if world > 1:
        torch.distributed.destroy_process_group()


def run(world: int, tmp: Path) -> np.ndarray:
    """The full mixture rows of every position, each from the rank that scored it."""
    out, init = tmp / f"world{world}", tmp / f"init{world}"
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, str(r), str(world), str(init), str(out)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for r in range(world)
    ]
    for p in procs:
        output, _ = p.communicate(timeout=300)
        assert p.returncode == 0, output
    rows = np.full((N_TOKENS, 1024), np.nan, dtype=np.float32)
    for r in range(world):
        dump = np.load(out / f"dist.rank{r}.npy")
        mine = ~np.isnan(dump).all(1)
        assert np.isnan(rows[mine]).all()  # no position scored by two ranks
        rows[mine] = dump[mine]
    # The ranks' ledgers together: every position scored once, before any update used it.
    verdict = ledger.check_dir(out)
    assert verdict.status == {"C2": "ok", "C3": "ok", "C4": "ok"}, verdict.violations
    return rows


def test_two_gloo_ranks_give_the_single_process_rows(tmp_path):
    one, two = run(1, tmp_path), run(2, tmp_path)
    assert np.isnan(one[0]).all() and not np.isnan(one[1:]).any()
    assert np.array_equal(one, two, equal_nan=True)
    assert np.abs(np.exp(one[1:].astype(np.float64)).sum(1) - 1).max() < 1e-4


if __name__ == "__main__":
    rank, world, init_file, out = sys.argv[1:5]
    worker(int(rank), int(world), init_file, out)
