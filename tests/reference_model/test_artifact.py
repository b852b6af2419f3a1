"""The artifact: int6 packing, per-row quantization, safe and bounded loading."""

from __future__ import annotations

import io
import pickle

import pytest
import torch
import zstandard

from golf_check.harness.errors import InputError
from golf_check.reference_model import quantize
from golf_check.reference_model.config import PRESETS, Config
from golf_check.reference_model.model import GPT
from golf_check.reference_model.quantize import (
    dequantize_state,
    pack_int6,
    quantize_rows,
    quantize_state,
    read_artifact,
    serialize,
    unpack_int6,
)


def micro() -> Config:
    return Config(**{**PRESETS["micro"], "preset": "micro"})


def test_int6_pack_roundtrip_and_size():
    q = torch.randint(-31, 32, (1001,))
    packed = pack_int6(q)
    assert packed.numel() == 3 * 251  # four values in three bytes, padded to a multiple of 4
    assert torch.equal(unpack_int6(packed, q.numel()), q.to(torch.int32))


def test_quantize_rows_error_is_small_and_weighted():
    w = torch.randn(64, 32)
    q, scale = quantize_rows(w, 8)
    assert q.abs().max() <= 127
    assert ((q * scale.float()[:, None]) - w).abs().max() < w.abs().max() / 100
    # A heavy column weight makes the chosen clipping protect that column.
    heavy = torch.ones(32)
    heavy[0] = 1e4
    q6, s6 = quantize_rows(w, 6, heavy)
    plain6, ps6 = quantize_rows(w, 6)
    err_heavy = ((q6 * s6.float()[:, None]) - w)[:, 0].abs().mean()
    err_plain = ((plain6 * ps6.float()[:, None]) - w)[:, 0].abs().mean()
    assert err_heavy <= err_plain


def test_artifact_roundtrip(tmp_path):
    cfg = micro()
    model = GPT(cfg)
    path = tmp_path / "final_model.int8.ptz"
    path.write_bytes(serialize(quantize_state(model, cfg), 3))
    state = dequantize_state(read_artifact(path))
    for name, tensor in model.state_dict().items():
        assert state[name].shape == tensor.shape
        assert (state[name] - tensor).abs().max() <= tensor.abs().max() / 20 + 1e-3
    GPT(cfg).load_state_dict(state)  # loads into the architecture


def test_trailing_bytes_after_the_frame_are_ignored(tmp_path):
    cfg = micro()
    path = tmp_path / "a.ptz"
    path.write_bytes(serialize(quantize_state(GPT(cfg), cfg), 3) + b"\x00" * 1000)
    assert "embed.weight" in read_artifact(path)


@pytest.mark.parametrize(
    "blob, message",
    [
        (b"", "empty artifact"),
        (b"PK\x03\x04 not zstd", "not a zstd-compressed artifact"),
        (zstandard.ZstdCompressor().compress(b"plain text"), "not a reference-model artifact"),
    ],
)
def test_bad_artifacts(tmp_path, blob, message):
    path = tmp_path / "bad.ptz"
    path.write_bytes(blob)
    with pytest.raises(InputError, match=message):
        read_artifact(path)


def test_pickled_code_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    buf = io.BytesIO()
    pickle.dump({"embed.weight": Evil()}, buf, protocol=2)
    path = tmp_path / "evil.ptz"
    path.write_bytes(zstandard.ZstdCompressor().compress(buf.getvalue()))
    with pytest.raises(InputError, match="not a reference-model artifact"):
        read_artifact(path)


def test_decompression_bomb_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(quantize, "MAX_DECOMPRESSED", 1 << 20)
    path = tmp_path / "bomb.ptz"
    path.write_bytes(zstandard.ZstdCompressor(level=19).compress(b"\x00" * (8 << 20)))
    assert path.stat().st_size < 4096
    with pytest.raises(InputError, match="decompresses to more than"):
        read_artifact(path)


def test_missing_artifact(tmp_path):
    with pytest.raises(InputError, match="cannot read artifact"):
        read_artifact(tmp_path / "none.ptz")
