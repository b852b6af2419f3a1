"""Run the reference submission end to end, like a challenge ``train_gpt.py``.

train (wall-clock capped) -> quantize (calibrated on training tokens) -> write the artifact
into the current directory -> reload it with ``weights_only=True`` -> evaluate the round-tripped
weights four ways -> print the score lines, the last one being the headline.

Validation shards are first opened after the artifact is written (unless VAL_LOSS_EVERY asks
for periodic validation), so a file-access trace shows no validation read during training.
"""

from __future__ import annotations

import io
import os
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from golf_check.harness import ledger
from golf_check.harness.errors import InputError
from golf_check.harness.shards import bits_per_byte, load_split
from golf_check.reference_model import inject
from golf_check.reference_model.config import Config, hyperparameter_lines, load_config
from golf_check.reference_model.data import (
    TrainBatches,
    load_tokenizer_lut,
    load_val,
    resolve_paths,
)
from golf_check.reference_model.evaluate import PASSES, Dist, Evaluator
from golf_check.reference_model.model import GPT, count_parameters
from golf_check.reference_model.quantize import (
    dequantize_state,
    input_second_moments,
    quantize_state,
    read_artifact,
    serialize,
    write_artifact,
)
from golf_check.reference_model.train import train

PACKAGE_DIR = Path(__file__).resolve().parent


def code_files() -> list[Path]:
    """The code a run needs: every Python file of this package (the ledger API is opt-in
    instrumentation provided by golf-check, like a library, and is not counted)."""
    return sorted(PACKAGE_DIR.glob("*.py"))


def code_bytes() -> int:
    return sum(p.stat().st_size for p in code_files())


class Logger:
    def __init__(self, run_id: str, rank: int) -> None:
        self.rank = rank
        self.fh = None
        if rank == 0:
            Path("logs").mkdir(exist_ok=True)
            self.fh = open(Path("logs") / f"{run_id}.txt", "w", encoding="utf-8")

    def __call__(self, msg: str) -> None:
        if self.rank != 0:
            return
        print(msg, flush=True)
        self.fh.write(msg + "\n")
        self.fh.flush()


def setup_distributed() -> tuple[Dist, torch.device]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world > 1:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
    if torch.cuda.is_available():
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    else:
        device = torch.device("cpu")
    return Dist(rank, world), device


def set_threads(cfg: Config, device: torch.device) -> None:
    if device.type == "cpu" and cfg.cpu_threads > 0:
        torch.set_num_threads(cfg.cpu_threads)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def build_artifact(cfg: Config, data_dir: Path, lut, dist: Dist, device, log) -> dict:
    """Train, quantize and write the artifact; returns the round-tripped (reloaded) weights."""
    model = GPT(cfg).to(device)
    log(f"model_params:{count_parameters(model)}")
    batches = TrainBatches(cfg, data_dir, dist.rank, dist.world, device)
    log(f"train_tokens: {batches.tokens.size} world_size:{dist.world}")
    ddp_model = model
    if dist.world > 1:
        ddp_model = torch.nn.parallel.DistributedDataParallel(model)
    quick_val = None
    if cfg.val_loss_every:  # the baseline's diagnostic: reads validation during training
        quick_val = periodic_validation(cfg, model, load_val(cfg, data_dir, lut), device)
    train(cfg, model, batches, ddp_model, log, quick_val)

    t0 = time.perf_counter()
    if cfg.golf_inject == "val-calibration":
        calib = _val_calibration_tokens(cfg, data_dir, device)
    else:
        calib = batches.sample(cfg.calib_tokens)
    model.eval()
    packed = quantize_state(model, cfg, input_second_moments(model, calib))
    seconds = time.perf_counter() - t0
    log(f"quantization: calibrated clipping on {calib.numel()} tokens in {seconds:.1f}s")
    raw = io.BytesIO()
    torch.save(model.state_dict(), raw)
    blob = serialize(packed, cfg.zstd_level)
    if cfg.golf_inject == "oversize":
        blob = inject.pad_oversize(blob, code_bytes())
    if dist.rank == 0:
        write_artifact(Path(cfg.artifact_name), blob)
    dist.barrier()
    # Sizes as measured on disk, not as computed in memory.
    size, code = Path(cfg.artifact_name).stat().st_size, code_bytes()
    tag = f"int{cfg.matrix_bits}+zstd"
    log(f"Serialized model: {raw.tell()} bytes")
    log(f"Serialized model {tag}: {size} bytes")
    log(f"Code size: {code} bytes")
    log(f"Total submission size {tag}: {size + code} bytes")
    return dequantize_state(read_artifact(cfg.artifact_name))


def _val_calibration_tokens(cfg, data_dir, device) -> torch.Tensor:
    """The injected violation: calibration windows cut from the VALIDATION split."""
    val = np.asarray(load_split(data_dir, "val"))
    if cfg.val_token_limit:
        val = val[: cfg.val_token_limit]
    n = min(val.size - 1, cfg.calib_tokens)
    rows = max(1, n // cfg.train_seq_len)
    used = rows * cfg.train_seq_len
    ledger.adapting(0, used)  # honest: these tokens shape the artifact before any is scored
    window = torch.from_numpy(val[:used].astype(np.int64)).view(rows, cfg.train_seq_len)
    return window.to(device)


def periodic_validation(cfg: Config, model: GPT, val, device):
    """(val_loss, val_bpb) of the model being trained, on non-overlapping windows."""
    L = cfg.eval_seq_len
    n = (val.n - 1) // L * L
    x = torch.from_numpy(val.tokens[:n].astype(np.int64)).view(-1, L).to(device)
    y = torch.from_numpy(val.tokens[1 : n + 1].astype(np.int64)).view(-1, L).to(device)

    @torch.inference_mode()
    def run() -> tuple[float, float]:
        model.eval()
        nats = sum(
            float(model(x[i : i + 16], y[i : i + 16])) * y[i : i + 16].numel()
            for i in range(0, x.size(0), 16)
        )
        model.train()
        return nats / n, bits_per_byte(nats, val.bytes_between(1, n + 1))

    return run


def run(cfg: Config) -> int:
    dist, device = setup_distributed()
    set_threads(cfg, device)
    log = Logger(cfg.run_id, dist.rank)
    inject.check_name(cfg.golf_inject)
    seed_everything(cfg.seed)
    data_dir, tokenizer_path = resolve_paths(cfg)
    cfg = _with_paths(cfg, data_dir, tokenizer_path)
    lut = load_tokenizer_lut(cfg, tokenizer_path)
    log(f"seed:{cfg.seed}")
    for line in hyperparameter_lines(cfg):
        log(line)
    log(f"val_bpb:enabled tokenizer_kind=sentencepiece tokenizer_path={tokenizer_path}")
    if cfg.golf_inject:
        log(f"inject: {cfg.golf_inject} ({inject.INJECTIONS[cfg.golf_inject]})")

    if cfg.eval_only:
        state = dequantize_state(read_artifact(cfg.load_artifact))
        log(
            f"eval_only: loaded {cfg.load_artifact} ({Path(cfg.load_artifact).stat().st_size} bytes)"
        )
        _check_vocab(cfg, state, cfg.load_artifact)
    else:
        state = build_artifact(cfg, data_dir, lut, dist, device, log)

    t_eval = time.perf_counter()
    val = load_val(cfg, data_dir, lut)
    log(f"val_tokens: {val.n}")
    evaluator = Evaluator(cfg, val, state, device, dist, log)
    for name in PASSES:
        log(evaluator.run_pass(name).line())
    ledger.finish()
    log(f"total_eval_time:{time.perf_counter() - t_eval:.1f}s")
    dist.barrier()  # every rank's ledger file is complete
    if ledger.listening() and dist.rank == 0:
        if dist.world > 1:
            verdict = ledger.check_dir(os.environ[ledger.ENV_DIR])
        else:
            verdict = ledger.verdict()
        log(verdict.summary_line())
    if dist.world > 1:
        torch.distributed.destroy_process_group()
    return 0


def _check_vocab(cfg: Config, state: dict, where: str) -> None:
    rows = state["embed.weight"].shape[0]
    if rows != cfg.vocab_size:
        raise InputError(
            f"{where}: artifact has a {rows}-token vocabulary, the tokenizer {cfg.vocab_size}"
        )
    expected = GPT(cfg).state_dict()
    if set(expected) != set(state) or any(expected[k].shape != state[k].shape for k in expected):
        raise InputError(f"{where}: artifact does not match the {cfg.preset} preset's architecture")


def _with_paths(cfg: Config, data_dir: Path, tokenizer_path: Path) -> Config:
    return replace(cfg, data_path=str(data_dir), tokenizer_path=str(tokenizer_path))


def main(argv: list[str] | None = None) -> int:
    try:
        cfg = load_config(argv)
        return run(cfg)
    except InputError as exc:
        print(f"reference_model: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("reference_model: interrupted", file=sys.stderr)
        return 130
