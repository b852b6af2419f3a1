"""Shared fixtures: a small real dataset (demo shards, real SentencePiece tokenizer), the
shim's tracer on a socket pair, and short programs run through the launcher."""

from __future__ import annotations

import json
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from golf_check.harness.runtime import launcher
from golf_check.harness.runtime.sandbox import Sandbox, bwrap_status
from golf_check.harness.runtime.session import RunOptions
from golf_check.harness.runtime.shim import golf_check_shim as shim
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


@pytest.fixture
def open_tracer():
    """Opens the shim's tracer on one end of a socket pair, as a traced process has it;
    ``received()`` on the tracer returns the events it sent since the last call. The tracer
    reads its settings from the environment, so set that first."""
    pairs = []

    def open_one() -> shim._Tracer:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pairs.append((ours, theirs))
        tracer = shim._Tracer(theirs.fileno())
        tracer.received = lambda: _drain(ours)
        return tracer

    yield open_one
    for ours, theirs in pairs:
        ours.close()
        theirs.close()


def _drain(sock: socket.socket) -> list[dict]:
    sock.setblocking(False)
    out = []
    while True:
        try:
            out.append(json.loads(sock.recv(1 << 20)))
        except BlockingIOError:
            return out


def run_in(
    box: Sandbox | None,
    code: str,
    cwd: Path,
    log: Path,
    *,
    site: bool = False,
    env: dict[str, str] | None = None,
    timeout_s: float = 60,
    trace: bool = False,
    **launch_options,
) -> launcher.LaunchResult:
    """Run ``python -c code`` through the launcher, in ``box`` (None: no sandbox), with the
    test's environment (or ``env``) and a token of its own. Without ``site`` the interpreter
    skips site-packages (-S); with ``trace`` the trace channel is open."""
    prefix = box.prefix if box is not None else []
    return launcher.launch(
        [*prefix, sys.executable, *([] if site else ["-S"]), "-c", code],
        cwd=cwd,
        env=dict(os.environ) if env is None else env,
        log_path=log,
        timeout_s=timeout_s,
        token=os.urandom(8).hex(),
        trace_path=log.with_name("trace.jsonl") if trace else None,
        **launch_options,
    )


def texts(res: launcher.LaunchResult) -> list[str]:
    """The lines the program printed (the last ``launcher.KEEP_LINES`` of them)."""
    return [line.text for line in res.lines]


def prints(box: Sandbox | None, code: str, cwd: Path, log: Path, **options) -> list[str]:
    """The lines ``python -c code`` prints, run as ``run_in`` runs it."""
    return texts(run_in(box, code, cwd, log, **options))
