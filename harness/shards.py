"""The challenge's data format and its byte accounting.

Shards (``fineweb_train_NNNNNN.bin`` / ``fineweb_val_NNNNNN.bin``): a header of 256
little-endian int32 values (magic 20240520, version 1, token count, then zeros), followed by
the tokens as little-endian uint16.

Bytes per token come from the SentencePiece piece table, not from a ratio: control, unknown
and unused pieces are 0 bytes, byte-fallback pieces 1 byte, every other piece the UTF-8 length
of its text without the leading "▁", plus 1 byte for that "▁" unless the previous token is a
boundary (control/unknown/unused) token. ``val_bpb = (sum of nats / ln 2) / sum of bytes``.
See https://github.com/openai/parameter-golf/issues/1719 for what a double-counted "▁" does.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from golf_check.harness.errors import InputError

MAGIC = 20240520
VERSION = 1
HEADER_INTS = 256
HEADER_BYTES = HEADER_INTS * 4
TOKEN_DTYPE = np.dtype("<u2")
SPLITS = ("train", "val")
# Shards above this size are memory-mapped instead of read into memory.
MMAP_THRESHOLD = 64 * 1024 * 1024


def shard_name(split: str, index: int) -> str:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}")
    return f"fineweb_{split}_{index:06d}.bin"


def write_shard(path: str | os.PathLike, tokens: np.ndarray) -> None:
    """Write ``tokens`` (values 0..65535) as one shard; atomic (temp file, then rename)."""
    tokens = np.asarray(tokens)
    if tokens.ndim != 1:
        raise ValueError("tokens must be one-dimensional")
    if tokens.size and (tokens.min() < 0 or tokens.max() > 65535):
        raise ValueError("token ids must fit in uint16")
    header = np.zeros(HEADER_INTS, dtype="<i4")
    header[0], header[1], header[2] = MAGIC, VERSION, tokens.size
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(header.tobytes())
        fh.write(tokens.astype(TOKEN_DTYPE, copy=False).tobytes())
    os.replace(tmp, path)


def read_shard(path: str | os.PathLike) -> np.ndarray:
    """Read one shard's tokens as uint16, checking magic, version and the token count."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise InputError(f"{path}: not a regular file")
        with open(path, "rb") as fh:
            raw = fh.read(HEADER_BYTES)
    except OSError as exc:
        raise InputError(f"{path}: cannot read shard: {exc.strerror}") from None
    if len(raw) < HEADER_BYTES:
        raise InputError(
            f"{path}: not a shard: {size} bytes, shorter than the {HEADER_BYTES}-byte header"
        )
    header = np.frombuffer(raw, dtype="<i4")
    if header[0] != MAGIC:
        raise InputError(f"{path}: not a shard: magic {int(header[0])}, expected {MAGIC}")
    if header[1] != VERSION:
        raise InputError(f"{path}: unsupported shard version {int(header[1])}, expected {VERSION}")
    count = int(header[2])
    expected = HEADER_BYTES + 2 * count
    if count < 0 or size != expected:
        raise InputError(
            f"{path}: corrupt shard: header says {count} tokens ({expected} bytes), "
            f"file has {size} bytes"
        )
    if size >= MMAP_THRESHOLD:
        return np.memmap(path, dtype=TOKEN_DTYPE, mode="r", offset=HEADER_BYTES, shape=(count,))
    with open(path, "rb") as fh:
        fh.seek(HEADER_BYTES)
        tokens = np.frombuffer(fh.read(2 * count), dtype=TOKEN_DTYPE)
    if tokens.size != count:  # the file shrank while we read it
        raise InputError(f"{path}: truncated while reading")
    return tokens


def split_paths(data_dir: str | os.PathLike, split: str) -> list[Path]:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}")
    return sorted(Path(data_dir).glob(f"fineweb_{split}_*.bin"))


def load_split(data_dir: str | os.PathLike, split: str) -> np.ndarray:
    """All tokens of one split, shards concatenated in name order."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise InputError(f"{data_dir}: data directory does not exist")
    paths = split_paths(data_dir, split)
    if not paths:
        raise InputError(f"{data_dir}: no fineweb_{split}_*.bin shards")
    parts = [read_shard(p) for p in paths]
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


@dataclass(frozen=True)
class ByteLUT:
    """Per-token byte accounting tables of a SentencePiece model (index = token id)."""

    base_bytes: np.ndarray  # int16: bytes of the piece without its leading "▁"
    has_leading_space: np.ndarray  # bool: the piece starts with "▁"
    is_boundary: np.ndarray  # bool: control / unknown / unused piece (BOS, EOS, ...)

    @property
    def vocab_size(self) -> int:
        return int(self.base_bytes.size)

    @classmethod
    def from_model(cls, model) -> ByteLUT:
        """Build from a ``.model`` path or a loaded ``SentencePieceProcessor``."""
        sp = load_sentencepiece(model) if isinstance(model, (str, os.PathLike)) else model
        n = sp.get_piece_size()
        base = np.zeros(n, dtype=np.int16)
        space = np.zeros(n, dtype=bool)
        boundary = np.ones(n, dtype=bool)
        for i in range(n):
            if sp.is_control(i) or sp.is_unknown(i) or sp.is_unused(i):
                continue
            boundary[i] = False
            if sp.is_byte(i):
                base[i] = 1  # <0xNN> stands for exactly one byte of the text
                continue
            piece = sp.id_to_piece(i)
            if piece.startswith("\u2581"):
                space[i] = True
                piece = piece[1:]
            base[i] = len(piece.encode("utf-8"))
        return cls(base, space, boundary)

    def count_bytes(self, prev_tokens, tokens) -> np.ndarray:
        """Bytes of each target token given the token before it (same shapes)."""
        tokens = np.asarray(tokens, dtype=np.int64)
        prev_tokens = np.asarray(prev_tokens, dtype=np.int64)
        if tokens.size and (tokens.max() >= self.vocab_size or tokens.min() < 0):
            raise InputError(
                f"token id {int(tokens.max())} outside the {self.vocab_size}-piece vocabulary"
            )
        out = self.base_bytes[tokens].astype(np.int64)
        out += self.has_leading_space[tokens] & ~self.is_boundary[prev_tokens]
        return out

    def stream_bytes(self, tokens, start: int = 1, end: int | None = None) -> np.ndarray:
        """Bytes of targets ``tokens[start:end]`` of a token stream (position p predicts tokens[p])."""
        tokens = np.asarray(tokens)
        end = tokens.size if end is None else end
        if start < 1:
            raise ValueError("position 0 has no previous token and is never scored")
        return self.count_bytes(tokens[start - 1 : end - 1], tokens[start:end])


def load_sentencepiece(path: str | os.PathLike):
    """Load a SentencePiece model, turning its C++ errors into one clear line."""
    import sentencepiece as spm

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: tokenizer model not found")
    sp = spm.SentencePieceProcessor()
    try:
        ok = sp.Load(str(path))
    except (OSError, RuntimeError) as exc:
        raise InputError(f"{path}: not a SentencePiece model ({exc})") from None
    if not ok:
        raise InputError(f"{path}: not a SentencePiece model")
    return sp


def bits_per_byte(total_nats: float, total_bytes: float) -> float:
    """The challenge's score: bits per byte of the original UTF-8 text."""
    if total_bytes <= 0:
        raise ValueError("no bytes scored")
    return float(total_nats) / math.log(2.0) / float(total_bytes)
