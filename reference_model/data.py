"""Data: training batches, the validation stream and its byte accounting.

Everything goes through ``harness.shards``, so the reference model reads exactly the format
and counts exactly the bytes that golf-check checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from golf_check.harness.errors import InputError
from golf_check.harness.shards import ByteLUT, load_sentencepiece, load_split
from golf_check.reference_model.config import Config


@dataclass
class ValData:
    tokens: np.ndarray  # the validation stream (uint16); position p predicts tokens[p]
    token_bytes: np.ndarray  # bytes of the target at each position (index 0 unused: 0)
    lut: ByteLUT

    @property
    def n(self) -> int:
        return int(self.tokens.size)

    def bytes_between(self, start: int, end: int) -> int:
        return int(self.token_bytes[start:end].sum())


def resolve_paths(cfg: Config) -> tuple[Path, Path]:
    """DATA_PATH and TOKENIZER_PATH, defaulting to the offline demo data."""
    if cfg.data_path and cfg.tokenizer_path:
        return Path(cfg.data_path), Path(cfg.tokenizer_path)
    if cfg.data_path or cfg.tokenizer_path:
        raise InputError("set both DATA_PATH and TOKENIZER_PATH, or neither (for the demo data)")
    from golf_check.harness.demo_data import ensure_demo_data

    demo = ensure_demo_data()
    return demo.data_dir, demo.tokenizer_path


def load_tokenizer_lut(cfg: Config, tokenizer_path: Path) -> ByteLUT:
    sp = load_sentencepiece(tokenizer_path)
    if sp.get_piece_size() != cfg.vocab_size:
        raise InputError(
            f"{tokenizer_path}: tokenizer has {sp.get_piece_size()} pieces but the model's "
            f"vocabulary is {cfg.vocab_size} (set VOCAB_SIZE or use the matching tokenizer)"
        )
    return ByteLUT.from_model(sp)


def check_tokens(tokens: np.ndarray, vocab_size: int, where: str) -> None:
    if tokens.size and int(tokens.max()) >= vocab_size:
        raise InputError(
            f"{where}: token id {int(tokens.max())} does not fit the {vocab_size}-token vocabulary"
        )


def load_val(cfg: Config, data_dir: Path, lut: ByteLUT) -> ValData:
    tokens = np.asarray(load_split(data_dir, "val"))
    if cfg.val_token_limit:
        tokens = tokens[: cfg.val_token_limit]
    check_tokens(tokens, cfg.vocab_size, f"{data_dir}/fineweb_val_*.bin")
    if tokens.size - 1 < cfg.eval_seq_len:
        raise InputError(
            f"{data_dir}: validation split has {tokens.size} tokens, shorter than one "
            f"evaluation window of {cfg.eval_seq_len} + 1"
        )
    tokens = np.ascontiguousarray(tokens, dtype=np.uint16)
    token_bytes = np.zeros(tokens.size, dtype=np.int64)
    token_bytes[1:] = lut.stream_bytes(tokens)
    return ValData(tokens, token_bytes, lut)


class TrainBatches:
    """Random windows of the training stream; each rank draws its own, seeded by seed and rank."""

    def __init__(self, cfg: Config, data_dir: Path, rank: int, world: int, device) -> None:
        self.tokens = np.asarray(load_split(data_dir, "train"))
        check_tokens(self.tokens, cfg.vocab_size, f"{data_dir}/fineweb_train_*.bin")
        self.seq = cfg.train_seq_len
        if self.tokens.size <= self.seq + 1:
            raise InputError(f"{data_dir}: training split is shorter than one sequence")
        self.rows = max(1, cfg.train_batch_tokens // (self.seq * world))
        self.rng = np.random.default_rng([cfg.seed, rank])
        self.device = device

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        starts = self.rng.integers(0, self.tokens.size - self.seq - 1, size=self.rows)
        idx = starts[:, None] + np.arange(self.seq + 1)[None, :]
        window = torch.from_numpy(self.tokens[idx].astype(np.int64)).to(self.device)
        return window[:, :-1], window[:, 1:]

    def sample(self, n_tokens: int) -> torch.Tensor:
        """A fixed, seeded sample of training windows (quantization calibration)."""
        rng = np.random.default_rng([0xC0FFEE])
        rows = max(1, n_tokens // self.seq)
        starts = rng.integers(0, self.tokens.size - self.seq, size=rows)
        idx = starts[:, None] + np.arange(self.seq)[None, :]
        return torch.from_numpy(self.tokens[idx].astype(np.int64)).to(self.device)
