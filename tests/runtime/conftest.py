"""Shared fixtures: a small real dataset (demo shards, real SentencePiece tokenizer)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from golf_check.harness.runtime.sandbox import bwrap_status
from golf_check.harness.runtime.session import RunOptions
from golf_check.harness.runtime.target import resolve
from golf_check.harness.shards import load_split, shard_name, write_shard

CANDIDATES = Path(__file__).parent / "candidates"
TINY_LM = CANDIDATES / "tiny_lm.py"
# Without bubblewrap, `run` refuses untrusted scripts; the audit tests then run them with
# --no-sandbox (audit hooks only) and tests/runtime/test_sandbox.py is skipped.
SANDBOX = bwrap_status()[0] is not None
VAL_TOKENS = 2048  # the reference's micro preset evaluates up to 4096; the split is this long


@dataclass(frozen=True)
class SmallData:
    data_dir: Path
    tokenizer: Path


@pytest.fixture(scope="session")
def small_data(tmp_path_factory) -> SmallData:
    """The offline demo corpus, cut down: 2,048 validation and 100,000 training tokens."""
    from golf_check.harness.demo_data import ensure_demo_data

    root = tmp_path_factory.mktemp("data")
    demo = ensure_demo_data(cache_dir=root / "demo")
    data_dir = root / "small"
    data_dir.mkdir()
    write_shard(data_dir / shard_name("val", 0), load_split(demo.data_dir, "val")[:VAL_TOKENS])
    write_shard(data_dir / shard_name("train", 0), load_split(demo.data_dir, "train")[:100_000])
    return SmallData(data_dir, demo.tokenizer_path)


def tiny_lm_options(
    small_data: SmallData, tmp_path: Path, modes: str = "legal", script: Path = TINY_LM, **kw
) -> RunOptions:
    """One seed of the test candidate (or ``script``, built on it) on the small data, in
    ``tmp_path/out`` (made empty)."""
    kw.setdefault("sandbox", SANDBOX)
    kw.setdefault("audits", ("trace",))
    opts = RunOptions(
        target=resolve(str(script)),
        seeds=[1],
        data_dir=small_data.data_dir,
        tokenizer=small_data.tokenizer,
        out_dir=tmp_path / "out",
        env={"CANDIDATE_MODE": modes},
        **kw,
    )
    opts.out_dir.mkdir()
    return opts
