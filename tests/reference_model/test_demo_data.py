"""The offline demo dataset: deterministic, disjoint, lossless, cached, and careful with folders."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sentencepiece as spm

from golf_check.harness import demo_data
from golf_check.harness.demo_data import ensure_demo_data, split_documents, stdlib_documents
from golf_check.harness.errors import InputError
from golf_check.harness.shards import ByteLUT, load_split


def test_layout_and_sizes(demo):
    assert sorted(p.name for p in demo.data_dir.glob("fineweb_val_*.bin")) == [
        "fineweb_val_000000.bin"
    ]
    assert len(list(demo.data_dir.glob("fineweb_train_*.bin"))) >= 2  # multi-shard path
    val, train = load_split(demo.data_dir, "val"), load_split(demo.data_dir, "train")
    assert (val.size, train.size) == (demo.val_tokens, demo.train_tokens)
    assert 15_000 < val.size < 40_000 and train.size > 15 * val.size
    sp = spm.SentencePieceProcessor(model_file=str(demo.tokenizer_path))
    assert sp.get_piece_size() == 1024 and sp.bos_id() == 1
    assert val[0] == 1 and (val == 1).sum() > 100  # BOS before every document


def test_rebuild_is_byte_identical(demo, tmp_path):
    again = ensure_demo_data(tmp_path / "again")
    first = json.loads((demo.root / "manifest.json").read_text())["sha256"]
    second = json.loads((again.root / "manifest.json").read_text())["sha256"]
    assert first == second


def test_splits_are_disjoint_and_the_tokenizer_lossless(demo):
    train_docs, val_docs = split_documents(stdlib_documents())
    assert not set(train_docs) & set(val_docs)
    sp = spm.SentencePieceProcessor(model_file=str(demo.tokenizer_path))
    sample = val_docs[:100]
    assert all(sp.decode(sp.encode(doc)) == doc for doc in sample)
    # Byte accounting on the shards equals the UTF-8 size of the validation documents.
    lut = ByteLUT.from_model(sp)
    val = load_split(demo.data_dir, "val")
    assert int(lut.stream_bytes(val).sum()) == sum(len(d.encode("utf-8")) for d in val_docs)


def test_cached_copy_is_reused_and_a_damaged_one_rebuilt(demo, monkeypatch):
    built = []
    original = demo_data._build
    monkeypatch.setattr(demo_data, "_build", lambda root: built.append(root) or original(root))
    assert ensure_demo_data(demo.root) == demo and built == []
    shard = demo.data_dir / "fineweb_val_000000.bin"
    shard.write_bytes(shard.read_bytes()[:-2])
    repaired = ensure_demo_data(demo.root)
    assert len(built) == 1 and np.array_equal(
        load_split(repaired.data_dir, "val")[:5], load_split(demo.data_dir, "val")[:5]
    )
    assert shard.stat().st_size == 1024 + 2 * demo.val_tokens


def test_cache_location_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GOLF_CHECK_CACHE", str(tmp_path))
    assert demo_data.default_cache_dir().parent == tmp_path
    assert demo_data.default_cache_dir().name.startswith("demo-3.")


def test_refuses_to_replace_a_foreign_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(demo_data, "_build", lambda root: pytest.fail("must not build"))
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("precious")
    with pytest.raises(InputError, match="not a golf-check demo dataset"):
        ensure_demo_data(folder)
    assert (folder / "notes.txt").read_text() == "precious"
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="not a directory"):
        ensure_demo_data(tmp_path / "file")
    (tmp_path / "link").symlink_to(folder)
    with pytest.raises(InputError, match="not a directory"):
        ensure_demo_data(tmp_path / "link")
