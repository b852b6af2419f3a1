"""The shard format and the byte accounting, against the challenge's real 8192 tokenizer."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from golf_check.harness import shards
from golf_check.harness.errors import InputError
from golf_check.harness.shards import (
    ByteLUT,
    bits_per_byte,
    load_sentencepiece,
    load_split,
    read_shard,
    write_shard,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tokenizers"
SP8192 = FIXTURES / "fineweb_8192_bpe.model"


def test_write_read_roundtrip(tmp_path):
    tokens = np.array([1, 0, 65535, 42, 7], dtype=np.uint16)
    path = tmp_path / "fineweb_val_000000.bin"
    write_shard(path, tokens)
    assert path.stat().st_size == 1024 + 2 * tokens.size
    header = np.fromfile(path, dtype="<i4", count=3)
    assert header.tolist() == [20240520, 1, 5]
    assert read_shard(path).tolist() == tokens.tolist()


def test_large_shards_are_memory_mapped(tmp_path, monkeypatch):
    monkeypatch.setattr(shards, "MMAP_THRESHOLD", 1)
    path = tmp_path / "fineweb_train_000000.bin"
    write_shard(path, np.arange(1000))
    out = read_shard(path)
    assert isinstance(out, np.memmap)
    assert out[999] == 999


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda b: b[:100], "shorter than the 1024-byte header"),
        (lambda b: b"", "shorter than the 1024-byte header"),
        (lambda b: b"\x00" * 4 + b[4:], "magic 0"),
        (lambda b: b[:4] + (2).to_bytes(4, "little") + b[8:], "unsupported shard version 2"),
        (lambda b: b[:-2], "corrupt shard: header says 10 tokens"),
        (lambda b: b + b"\x00", "corrupt shard"),
    ],
)
def test_bad_shards_are_one_clear_error(tmp_path, mutate, message):
    path = tmp_path / "fineweb_val_000000.bin"
    write_shard(path, np.arange(10))
    path.write_bytes(mutate(path.read_bytes()))
    with pytest.raises(InputError) as err:
        read_shard(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_missing_shard_and_empty_split(tmp_path):
    with pytest.raises(InputError, match="cannot read shard"):
        read_shard(tmp_path / "nope.bin")
    with pytest.raises(InputError, match="no fineweb_val_"):
        load_split(tmp_path, "val")
    with pytest.raises(InputError, match="does not exist"):
        load_split(tmp_path / "missing", "val")


def test_load_split_concatenates_in_name_order(tmp_path):
    write_shard(tmp_path / "fineweb_train_000001.bin", [3, 4])
    write_shard(tmp_path / "fineweb_train_000000.bin", [1, 2])
    write_shard(tmp_path / "fineweb_val_000000.bin", [9])
    assert load_split(tmp_path, "train").tolist() == [1, 2, 3, 4]
    assert load_split(tmp_path, "val").tolist() == [9]


@pytest.fixture(scope="module")
def sp8192():
    return load_sentencepiece(SP8192)


@pytest.mark.parametrize(
    "text",
    [
        "Hello world, this is a test.",
        "  leading spaces and   runs of spaces",
        "Ünïcödé façade — naïve 日本語 ☃ emoji 🎉",
        "numbers 12345 and symbols #@$%^&*()",
        "line one\nline two\ttabbed",
    ],
)
def test_byte_counts_match_decoded_utf8(sp8192, text):
    lut = ByteLUT.from_model(sp8192)
    assert lut.vocab_size == 8192
    # A document as in the shards: BOS, then its tokens. BOS adds no bytes and the first
    # piece's "▁" is not counted after it (the decoder drops it too).
    ids = np.array([sp8192.bos_id()] + sp8192.encode(text))
    decoded = sp8192.decode(ids[1:].tolist())
    assert int(lut.stream_bytes(ids).sum()) == len(decoded.encode("utf-8"))


def test_two_documents_in_one_stream(sp8192):
    lut = ByteLUT.from_model(sp8192)
    a, b = "first document text", "second one, with ☃"
    ids = np.array([1] + sp8192.encode(a) + [1] + sp8192.encode(b))
    expected = len(sp8192.decode(sp8192.encode(a)).encode()) + len(
        sp8192.decode(sp8192.encode(b)).encode()
    )
    assert int(lut.stream_bytes(ids).sum()) == expected


def test_piece_classes(sp8192):
    lut = ByteLUT.from_model(sp8192)
    bos = sp8192.bos_id()
    assert lut.is_boundary[bos] and lut.base_bytes[bos] == 0
    byte_ids = [i for i in range(sp8192.get_piece_size()) if sp8192.is_byte(i)]
    assert byte_ids and all(lut.base_bytes[i] == 1 for i in byte_ids)
    hello = sp8192.piece_to_id("\u2581the")
    assert lut.has_leading_space[hello] and lut.base_bytes[hello] == 3
    # "▁the" after a boundary is 3 bytes, after a normal token 4.
    assert lut.count_bytes([bos, hello], [hello, hello]).tolist() == [3, 4]


def test_out_of_vocabulary_token_is_input_error(sp8192):
    lut = ByteLUT.from_model(sp8192)
    with pytest.raises(InputError, match="outside the 8192-piece vocabulary"):
        lut.count_bytes([1], [9000])


def test_bad_tokenizer_file(tmp_path):
    bad = tmp_path / "bad.model"
    bad.write_bytes(b"\xff\xfenot a model")
    with pytest.raises(InputError, match="not a SentencePiece model"):
        load_sentencepiece(bad)
    with pytest.raises(InputError, match="not found"):
        load_sentencepiece(tmp_path / "missing.model")


def test_bits_per_byte():
    assert bits_per_byte(math.log(2) * 10, 5) == pytest.approx(2.0)
    with pytest.raises(ValueError):
        bits_per_byte(1.0, 0)
