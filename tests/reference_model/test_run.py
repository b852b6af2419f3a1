"""``python -m golf_check.reference_model`` as a real subprocess: the log contract, every fault injection
caught where the ledger can see it, and bad input as one line with exit code 2."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from golf_check.harness.shards import write_shard

ROOT = Path(__file__).resolve().parents[2]
SCORE = re.compile(r"^(\w+) val_loss:(\d+\.\d{8}) val_bpb:(\d+\.\d{8}) eval_time:(\d+)ms$")


def run_model(cwd: Path, env: dict, timeout: int = 120) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("GOLF_CHECK_LEDGER")}
    full.update(PYTHONPATH=str(ROOT), PRESET="micro", **env)
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "golf_check.reference_model"],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def data_env(demo) -> dict:
    return {"DATA_PATH": str(demo.data_dir), "TOKENIZER_PATH": str(demo.tokenizer_path)}


def eval_only_env(demo, trained_dir: Path, inject: str = "") -> dict:
    """Evaluate again the artifact the run in ``trained_dir`` wrote (``EVAL_ONLY``), with the
    fault injection ``inject`` when one is named."""
    env = {
        **data_env(demo),
        "EVAL_ONLY": "1",
        "LOAD_ARTIFACT": str(trained_dir / "final_model.int8.ptz"),
    }
    return {**env, "GOLF_INJECT": inject} if inject else env


@pytest.fixture(scope="module")
def trained(demo, tmp_path_factory):
    """One micro run with the ledger on: its log, its folder and its artifact."""
    cwd = tmp_path_factory.mktemp("clean")
    proc = run_model(
        cwd,
        {
            **data_env(demo),
            "GOLF_CHECK_LEDGER": str(cwd / "ledger"),
            "ITERATIONS": "20",
            "RUN_ID": "clean",
        },
    )
    assert proc.returncode == 0, proc.stderr
    return cwd, proc.stdout


def test_log_contract(trained):
    cwd, out = trained
    lines = out.splitlines()
    assert lines[0] == "seed:1337"
    assert "preset: micro" in lines and any(x.startswith("val_tokens: ") for x in lines)
    assert any(re.match(r"^step:20/20 train_time:\d+ms step_avg:", x) for x in lines)
    assert (cwd / "logs" / "clean.txt").read_text() == out
    size = (cwd / "final_model.int8.ptz").stat().st_size
    code = int(re.search(r"^Code size: (\d+) bytes$", out, re.M).group(1))
    assert code == sum(p.stat().st_size for p in (ROOT / "reference_model").glob("*.py"))
    assert f"Total submission size int6+zstd: {size + code} bytes" in lines
    scores = [SCORE.match(x) for x in lines if SCORE.match(x)]
    assert [m.group(1) for m in scores] == [
        "quantized",
        "quantized_sliding_window",
        "quantized_ttt",
        "quantized_ttt_hedge",
    ]
    tail = lines[lines.index(scores[-1].group(0)) + 1 :]
    assert re.match(r"^total_eval_time:\d+\.\ds$", tail[0])
    assert tail[1].startswith("ledger: C2 ok C3 ok C4 ok (4 passes")


def test_eval_only_reproduces_the_scores(trained, demo):
    cwd, out = trained
    proc = run_model(cwd / "again", eval_only_env(demo, cwd))
    assert proc.returncode == 0, proc.stderr
    first = [SCORE.match(x).group(3) for x in out.splitlines() if SCORE.match(x)]
    again = [SCORE.match(x).group(3) for x in proc.stdout.splitlines() if SCORE.match(x)]
    assert first == again
    assert not (cwd / "again" / "final_model.int8.ptz").exists()  # eval-only writes no artifact


@pytest.mark.parametrize(
    "name, violated",
    [
        ("train-before-score", {"C3"}),
        ("rescore", {"C3", "C4"}),
        ("entropy-expert", {"C2"}),
        ("target-in-key", {"C2"}),
        ("slot", {"C3"}),
    ],
)
def test_eval_injections_are_caught_by_the_ledger(trained, demo, name, violated):
    cwd, _ = trained
    run_dir = cwd / name
    env = {**eval_only_env(demo, cwd, name), "GOLF_CHECK_LEDGER": str(run_dir / "ledger")}
    proc = run_model(run_dir, env)
    assert proc.returncode == 0, proc.stderr
    verdict = proc.stdout.splitlines()[-1]
    found = set(re.findall(r"(C\d) violated", verdict))
    assert found == violated, verdict


def test_injection_without_ledger_still_runs(trained, demo):
    cwd, _ = trained
    proc = run_model(cwd / "quiet", eval_only_env(demo, cwd, "rescore"))
    assert proc.returncode == 0 and "ledger:" not in proc.stdout
    assert not list((cwd / "quiet").glob("**/ledger.rank*.jsonl"))


def test_val_calibration_is_caught(demo, tmp_path):
    proc = run_model(
        tmp_path,
        {
            **data_env(demo),
            "ITERATIONS": "2",
            "GOLF_INJECT": "val-calibration",
            "GOLF_CHECK_LEDGER": str(tmp_path / "l"),
        },
    )
    assert proc.returncode == 0, proc.stderr
    assert "C3 violated" in proc.stdout.splitlines()[-1] and "(outside any pass)" in proc.stdout


def test_network_injection_attempts_and_does_not_hang(trained, demo):
    cwd, _ = trained
    proc = run_model(cwd / "net", eval_only_env(demo, cwd, "network"), timeout=60)
    assert proc.returncode == 0
    assert re.search(r"^network: connect 127\.0\.0\.1:9 failed: \w+", proc.stdout, re.M)


def test_oversize_injection_exceeds_the_cap(demo, tmp_path):
    proc = run_model(
        tmp_path,
        {**data_env(demo), "ITERATIONS": "2", "GOLF_INJECT": "oversize", "VAL_TOKEN_LIMIT": "600"},
    )
    assert proc.returncode == 0, proc.stderr
    size = (tmp_path / "final_model.int8.ptz").stat().st_size
    total = int(re.search(r"^Total submission size \S+: (\d+) bytes$", proc.stdout, re.M).group(1))
    assert total > 16_000_000 and size > 16_000_000 - 200_000
    assert "quantized_ttt_hedge val_loss:" in proc.stdout  # still loads and evaluates


@pytest.mark.slow
def test_over_time_injection_trains_past_the_cap_and_hides_it(demo, tmp_path):
    t0 = time.monotonic()
    proc = run_model(
        tmp_path,
        {
            **data_env(demo),
            "MAX_WALLCLOCK_SECONDS": "1",
            "GOLF_INJECT": "over-time",
            "VAL_TOKEN_LIMIT": "600",
        },
    )
    elapsed = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr
    claimed = int(
        re.search(r"^stopping_early: wallclock_cap train_time:(\d+)ms", proc.stdout, re.M).group(1)
    )
    assert claimed < 1000 and elapsed > 4.5  # trained ~4.5 s, says under 1 s


def write_data(folder: Path, val, train=None):
    folder.mkdir(parents=True, exist_ok=True)
    write_shard(folder / "fineweb_val_000000.bin", val)
    write_shard(
        folder / "fineweb_train_000000.bin", np.arange(5000) % 1000 if train is None else train
    )


@pytest.mark.parametrize(
    "case, message",
    [
        ("missing", "no fineweb_train_*.bin shards"),
        ("corrupt", "corrupt shard"),
        ("short", "shorter than one evaluation window"),
        ("vocab", "tokenizer has 8192 pieces but the model's vocabulary is 1024"),
        ("bad-token", "token id 5000 does not fit the 1024-token vocabulary"),
        ("artifact", "not a zstd-compressed artifact"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(demo, tmp_path, case, message):
    data = tmp_path / "data"
    env = {"DATA_PATH": str(data), "TOKENIZER_PATH": str(demo.tokenizer_path), "ITERATIONS": "1"}
    if case == "missing":
        data.mkdir()
    elif case == "corrupt":
        write_data(data, np.arange(1000) % 1000)
        shard = data / "fineweb_train_000000.bin"
        shard.write_bytes(shard.read_bytes()[:-10])
    elif case == "short":
        write_data(data, np.arange(100) % 1000)
    elif case == "vocab":
        write_data(data, np.arange(1000) % 1000)
        env["TOKENIZER_PATH"] = str(
            ROOT / "tests" / "fixtures" / "tokenizers" / "fineweb_8192_bpe.model"
        )
    elif case == "bad-token":
        write_data(data, np.arange(1000) % 1000, train=np.full(3000, 5000))
    elif case == "artifact":
        write_data(data, np.arange(1000) % 1000)
        (tmp_path / "junk.ptz").write_bytes(b"\x00junk")
        env.update(EVAL_ONLY="1", LOAD_ARTIFACT=str(tmp_path / "junk.ptz"))
    before = sorted(p.name for p in data.iterdir())
    proc = run_model(tmp_path / "run", env)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("reference_model: error: ")
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.name for p in data.iterdir()) == before  # the user's files are untouched


@pytest.mark.slow
def test_two_ranks_under_torchrun_keep_the_ledger_clean(demo, tmp_path):
    """DDP on CPU (gloo): ranks share windows and TTT rows; the merged ledger is clean."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOLF_CHECK_LEDGER")}
    env.update(
        PYTHONPATH=str(ROOT),
        PRESET="micro",
        ITERATIONS="5",
        GOLF_CHECK_LEDGER=str(tmp_path / "ledger"),
        **data_env(demo),
    )
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "golf_check.reference_model",
    ]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "world_size:2" in proc.stdout
    assert proc.stdout.splitlines()[-1].startswith("ledger: C2 ok C3 ok C4 ok (4 passes")
    assert sorted(p.name for p in (tmp_path / "ledger").glob("ledger.rank*.jsonl")) == [
        "ledger.rank0.jsonl",
        "ledger.rank1.jsonl",
    ]
