"""The artifact: per-row int6/int8 quantization, packed, compressed with zstd.

Block matrices are stored as 6-bit integers (four values in three bytes), the tied embedding as
8-bit integers, each row with its own fp16 scale; gains stay fp16. The clipping of each row is
chosen to minimize the quantization error weighted by the mean squared input of that column,
measured on TRAINING tokens (calibrating on validation tokens is illegal:
https://github.com/openai/parameter-golf/issues/677). The file is loaded back with
``torch.load(weights_only=True)`` and decompression is bounded, so a hostile file can neither
run code nor exhaust memory.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch
import zstandard
from torch import nn

from golf_check.harness.errors import InputError

CLIP_CANDIDATES = (1.0, 0.97, 0.94, 0.9, 0.85, 0.8, 0.75)
MAX_DECOMPRESSED = 1 << 30  # no real artifact comes close; a bomb stops here


def qmax(bits: int) -> int:
    return (1 << (bits - 1)) - 1  # 127 for int8, 31 for int6


def pack_int6(q: torch.Tensor) -> torch.Tensor:
    """Signed values in [-31, 31] -> bytes, four 6-bit values in three bytes."""
    u = (q.flatten().to(torch.int32) + 32).numpy().astype(np.uint32)
    u = np.concatenate([u, np.zeros((-u.size) % 4, np.uint32)]).reshape(-1, 4)
    word = u[:, 0] | (u[:, 1] << 6) | (u[:, 2] << 12) | (u[:, 3] << 18)
    out = np.stack([word & 0xFF, (word >> 8) & 0xFF, (word >> 16) & 0xFF], axis=1)
    return torch.from_numpy(out.astype(np.uint8).reshape(-1))


def unpack_int6(data: torch.Tensor, numel: int) -> torch.Tensor:
    b = data.numpy().astype(np.uint32).reshape(-1, 3)
    word = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
    u = np.stack([(word >> s) & 0x3F for s in (0, 6, 12, 18)], axis=1).reshape(-1)[:numel]
    return torch.from_numpy(u.astype(np.int32) - 32)


def quantize_rows(
    w: torch.Tensor, bits: int, col_weight: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-row symmetric quantization; per row, the clip ratio with the least weighted error."""
    w = w.detach().float().cpu()
    h = torch.ones(w.size(1)) if col_weight is None else col_weight.float().cpu().clamp_min(1e-8)
    amax = w.abs().amax(dim=1).clamp_min(1e-12)
    best_err = torch.full((w.size(0),), float("inf"))
    best_q = torch.zeros_like(w, dtype=torch.int32)
    best_scale = torch.zeros(w.size(0))
    for ratio in CLIP_CANDIDATES:
        scale = (amax * ratio / qmax(bits)).to(torch.float16).float()  # as stored
        q = torch.clamp(torch.round(w / scale[:, None]), -qmax(bits), qmax(bits))
        err = ((w - q * scale[:, None]).square() * h[None, :]).sum(dim=1)
        better = err < best_err
        best_err = torch.where(better, err, best_err)
        best_q[better] = q[better].to(torch.int32)
        best_scale[better] = scale[better]
    return best_q, best_scale.to(torch.float16)


@torch.no_grad()
def input_second_moments(
    model: nn.Module, tokens: torch.Tensor, batch: int = 16
) -> dict[str, torch.Tensor]:
    """Mean x^2 of each input column of every linear layer, over the calibration tokens."""
    sums: dict[str, torch.Tensor] = {}
    counts: dict[str, int] = {}
    hooks = []
    for name, mod in model.named_modules():
        if isinstance(mod, nn.Linear):

            def hook(_m, args, _out, name=name):
                x = args[0].detach().float().reshape(-1, args[0].size(-1))
                sums[name] = sums.get(name, 0) + x.square().sum(0)
                counts[name] = counts.get(name, 0) + x.size(0)

            hooks.append(mod.register_forward_hook(hook))
    try:
        for i in range(0, tokens.size(0), batch):
            model.logits(tokens[i : i + batch])
    finally:
        for h in hooks:
            h.remove()
    return {f"{k}.weight": (v / counts[k]).cpu() for k, v in sums.items()}


def quantize_state(model: nn.Module, cfg, moments: dict[str, torch.Tensor] | None = None) -> dict:
    moments = moments or {}
    packed: dict[str, dict] = {}
    for name, p in model.state_dict().items():
        t = p.detach().cpu()
        if t.ndim == 2:
            bits = cfg.embed_bits if name == "embed.weight" else cfg.matrix_bits
            q, scale = quantize_rows(t, bits, moments.get(name))
            data = pack_int6(q) if bits == 6 else q.to(torch.int8).flatten()
            packed[name] = {"bits": bits, "shape": list(t.shape), "q": data, "scale": scale}
        else:
            packed[name] = {"bits": 16, "shape": list(t.shape), "value": t.to(torch.float16)}
    return packed


def dequantize_state(packed: dict) -> dict[str, torch.Tensor]:
    out = {}
    for name, entry in packed.items():
        shape = tuple(int(s) for s in entry["shape"])
        if entry["bits"] == 16:
            out[name] = entry["value"].float().reshape(shape)
            continue
        numel = int(np.prod(shape))
        if entry["bits"] == 6:
            q = unpack_int6(entry["q"], numel)
        else:
            q = entry["q"].to(torch.int32)
        out[name] = (q.float().reshape(shape) * entry["scale"].float()[:, None]).contiguous()
    return out


def serialize(packed: dict, level: int) -> bytes:
    buf = io.BytesIO()
    torch.save(packed, buf)
    return zstandard.ZstdCompressor(level=level).compress(buf.getvalue())


def write_artifact(path: Path, blob: bytes) -> int:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(blob)
    tmp.replace(path)
    return path.stat().st_size


def read_artifact(path: str | Path) -> dict:
    """Load an artifact safely: bounded zstd decompression, then weights-only unpickling."""
    path = Path(path)
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read artifact: {exc.strerror}") from None
    if not blob:
        raise InputError(f"{path}: empty artifact")
    try:
        reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(blob))
        raw = reader.read(MAX_DECOMPRESSED + 1)
    except zstandard.ZstdError as exc:
        raise InputError(f"{path}: not a zstd-compressed artifact ({exc})") from None
    if len(raw) > MAX_DECOMPRESSED:
        raise InputError(f"{path}: decompresses to more than {MAX_DECOMPRESSED} bytes; refusing")
    try:
        packed = torch.load(io.BytesIO(raw), weights_only=True, map_location="cpu")
    except Exception as exc:  # any unpickling failure is bad input, never a traceback
        raise InputError(f"{path}: not a reference-model artifact ({type(exc).__name__})") from None
    if not isinstance(packed, dict) or "embed.weight" not in packed:
        raise InputError(f"{path}: not a reference-model artifact (no embedding)")
    return packed
