"""Progress on standard error: `run`'s per-seed display (live on a terminal, plain lines
elsewhere, nothing with -q) and the progress bar of `check` and `verify` on many inputs.

Terminals are real pseudo-terminals (``pty.openpty``) and every command is a real
subprocess; the report on standard output must stay intact whatever is shown on stderr."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import golf_cli
import pytest

from golf_check.harness import progress
from golf_check.harness.progress import LIVE, OFF, PLAIN, RunMonitor, choose_mode

ROOT = Path(__file__).resolve().parents[1]
TINY_LM = ROOT / "tests" / "runtime" / "candidates" / "tiny_lm.py"
RECORDS = ROOT / "tests" / "fixtures" / "records"
ESC = "\x1b"

# A candidate without torch, so a run takes about a second: it prints training steps, writes
# its artifact, reads it back to evaluate, and prints a score line.
QUICK_CANDIDATE = """\
import time
for step in range(1, 4):
    print(f"step:{step}/3 train_loss:2.5 train_time:{step * 10}ms step_avg:10.00ms")
    time.sleep(0.05)
print("stopping_early: wallclock_cap train_time:30ms step:3/3")
with open("final_model.ptz", "wb") as fh:
    fh.write(b"x" * 1000)
with open("final_model.ptz", "rb") as fh:
    fh.read()
print("final_int8_zlib_roundtrip_exact val_loss:2.00000000 val_bpb:1.23456789 eval_time:5ms")
"""


def _env(**extra: str) -> dict[str, str]:
    """The environment of an interactive terminal: no CI, no colour preferences."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CI", "NO_COLOR", "FORCE_COLOR", "COLUMNS", progress.DELAY_VAR)
    }
    env["TERM"] = "xterm-256color"
    env.update(extra)
    return env


def golf_check(args, *, tty: bool, env=None, timeout=600):
    """Run golf-check with stdout on a pipe and stderr on a pipe or a pseudo-terminal of
    100 columns; returns (returncode, stdout, stderr)."""
    env = env if env is not None else _env()
    if not tty:
        done = golf_cli.golf_check(*args, env=env, timeout=timeout)
        return done.returncode, done.stdout, done.stderr
    command = [sys.executable, "-m", "golf_check.harness", *map(str, args)]
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    proc = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, env=env
    )
    os.close(slave)
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO once the last writer has closed the terminal
                break
            if not data:
                break
            chunks.append(data)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        stdout, _ = proc.communicate(timeout=timeout)
    finally:
        reader.join(timeout=30)
        os.close(master)
    return proc.returncode, stdout.decode(), b"".join(chunks).decode("utf-8", "replace")


@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    """The offline demo corpus cut down (as tests/runtime's fixture): a quick real dataset."""
    from golf_check.harness.demo_data import ensure_demo_data
    from golf_check.harness.shards import load_split, shard_name, write_shard

    root = tmp_path_factory.mktemp("data")
    demo = ensure_demo_data(cache_dir=root / "demo")
    data_dir = root / "small"
    data_dir.mkdir()
    write_shard(data_dir / shard_name("val", 0), load_split(demo.data_dir, "val")[:2048])
    write_shard(data_dir / shard_name("train", 0), load_split(demo.data_dir, "train")[:100_000])
    return data_dir, demo.tokenizer_path


@pytest.fixture
def quick_candidate(tmp_path):
    folder = tmp_path / "candidate"
    folder.mkdir()
    script = folder / "train_gpt.py"
    script.write_text(QUICK_CANDIDATE)
    return script


def run_args(script, data, out, *extra):
    data_dir, tokenizer = data
    return [
        "run", script, "--seeds", "1", "--data", data_dir, "--tokenizer", tokenizer,
        "--audit", "trace", "--out", out, "--format", "json", *extra,
    ]  # fmt: skip


# --------------------------------------------------------------------------- run


def test_run_on_a_pipe_prints_its_folder_first_then_plain_phase_lines(
    tmp_path, small_data, quick_candidate
):
    out = tmp_path / "out"
    code, stdout, stderr = golf_check(run_args(quick_candidate, small_data, out), tty=False)
    assert code in (0, 1), stderr
    lines = stderr.splitlines()
    assert lines[0] == f"golf-check run: run folder {out.resolve()}"
    assert ESC not in stderr and "\r" not in stderr
    phases = [line.split(": ", 2)[2].split(",")[0] for line in lines if "seed 1: " in line]
    for phase in ("launching", "training", "evaluating", "done"):
        assert phase in phases, stderr
    assert phases.index("training") < phases.index("evaluating") < phases.index("done")
    done = next(line for line in lines if "seed 1: done, " in line)
    assert "step 3/3" in done and "val_bpb 1.2346" in done
    assert lines[-1] == f"golf-check run: report written to {out.resolve() / 'report.json'}"
    report = json.loads(stdout)  # the report alone, whatever went to stderr
    assert report["command"] == "run"


def test_run_quiet_prints_nothing_on_stderr(tmp_path, small_data, quick_candidate):
    out = tmp_path / "out"
    code, stdout, stderr = golf_check(run_args(quick_candidate, small_data, out, "-q"), tty=True)
    assert code in (0, 1)
    assert stderr == ""
    assert json.loads(stdout)["command"] == "run"
    assert (out / "report.json").is_file()


def test_run_on_a_ci_terminal_gets_plain_lines(tmp_path, small_data, quick_candidate):
    out = tmp_path / "out"
    code, stdout, stderr = golf_check(
        run_args(quick_candidate, small_data, out), tty=True, env=_env(CI="true")
    )
    assert code in (0, 1)
    assert ESC not in stderr
    assert "golf-check run: seed 1: evaluating" in stderr
    json.loads(stdout)


def test_run_on_a_terminal_gets_the_live_display(tmp_path, small_data, quick_candidate):
    out = tmp_path / "out"
    code, stdout, stderr = golf_check(run_args(quick_candidate, small_data, out), tty=True)
    assert code in (0, 1)
    assert stderr.startswith(f"golf-check run: run folder {out.resolve()}")
    assert ESC + "[" in stderr  # cursor movement: the display redraws in place
    assert "seed 1" in stderr and "done" in stderr and "step 3/3" in stderr
    assert "golf-check run: seed 1: launching" not in stderr  # no plain lines here
    json.loads(stdout)


def test_run_live_display_without_colour_under_no_color(tmp_path, small_data, quick_candidate):
    out = tmp_path / "out"
    code, _, stderr = golf_check(
        run_args(quick_candidate, small_data, out), tty=True, env=_env(NO_COLOR="1")
    )
    assert code in (0, 1)
    assert ESC + "[2K" in stderr  # still live (lines are redrawn) ...
    assert ESC + "[1m" not in stderr and ESC + "[32m" not in stderr  # ... with no colour


@pytest.mark.slow
def test_run_of_a_torch_candidate_shows_trace_progress_live(tmp_path, small_data):
    """The real tiny model: optimizer steps and validation positions come from the trace."""
    out = tmp_path / "out"
    code, stdout, stderr = golf_check(run_args(TINY_LM, small_data, out), tty=True)
    assert code in (0, 1), stderr
    # Training lasts a few seconds: the optimizer steps the trace counts are shown while they
    # come, and the log's closing step line replaces them; a loaded machine may show only that.
    assert "optimizer step" in stderr or "step 20/20" in stderr
    assert "position " in stderr and "/2048" in stderr
    assert json.loads(stdout)["verdict"] in ("pass", "warn", "fail")


# --------------------------------------------------------------------------- check, verify


@pytest.fixture
def scripts(tmp_path):
    folder = tmp_path / "scripts"
    folder.mkdir()
    for i in range(6):
        (folder / f"s{i}.py").write_text(TINY_LM.read_text())
    return folder


def test_check_on_a_terminal_shows_progress_once_it_takes_a_while(scripts):
    code, stdout, stderr = golf_check(
        ["check", scripts, "--format", "json"], tty=True, env=_env(**{progress.DELAY_VAR: "0"})
    )
    assert code in (0, 1)
    assert "checking" in stderr and "/6" in stderr
    report = json.loads(stdout)
    assert len(report["files"]) == 6


def test_check_shows_no_progress_for_quick_work(scripts):
    code, stdout, stderr = golf_check(["check", scripts / "s0.py"], tty=True)
    assert code in (0, 1)
    assert stderr == ""
    assert "golf-check check" in stdout


@pytest.mark.parametrize("quiet", [False, True])
def test_check_progress_never_on_a_pipe_nor_with_quiet(scripts, quiet):
    env = _env(**{progress.DELAY_VAR: "0"})
    args = ["check", scripts, "--format", "json", *(["-q"] if quiet else [])]
    code, stdout, stderr = golf_check(args, tty=quiet, env=env)
    assert code in (0, 1)
    assert stderr == ""
    json.loads(stdout)


def test_verify_of_many_records_shows_progress_on_a_terminal():
    code, stdout, stderr = golf_check(
        ["verify", RECORDS, "--format", "json"], tty=True, env=_env(**{progress.DELAY_VAR: "0"})
    )
    assert code in (0, 1)
    assert "verifying" in stderr and "/16" in stderr
    json.loads(stdout)


def test_a_bad_progress_delay_is_one_line_and_exit_2(scripts):
    code, stdout, stderr = golf_check(
        ["check", scripts], tty=False, env=_env(**{progress.DELAY_VAR: "soon"})
    )
    assert code == 2 and stdout == ""
    assert stderr.strip().splitlines() == [
        f"golf-check: error: {progress.DELAY_VAR}='soon': give a number of seconds, 0 or more"
    ]


# --------------------------------------------------------------------------- the parts


def test_choose_mode(monkeypatch):
    master, slave = pty.openpty()
    try:
        with os.fdopen(os.dup(slave), "w") as terminal, open(os.devnull, "w") as pipe:
            for var in ("CI", "TERM"):
                monkeypatch.delenv(var, raising=False)
            assert choose_mode(False, terminal) == LIVE
            assert choose_mode(False, pipe) == PLAIN
            assert choose_mode(True, terminal) == OFF
            monkeypatch.setenv("TERM", "dumb")
            assert choose_mode(False, terminal) == PLAIN
            monkeypatch.delenv("TERM")
            monkeypatch.setenv("CI", "true")
            assert choose_mode(False, terminal) == PLAIN
    finally:
        os.close(master)
        os.close(slave)


def test_phases_from_trace_events(tmp_path):
    monitor = RunMonitor(OFF)
    watch = monitor.watch(7, None, "out", tmp_path, 1000)
    work = str(tmp_path.resolve())
    assert (watch.label, watch.phase) == ("seed 7", "launching")
    watch.event({"ev": "open", "path": f"{work}/train.log", "w": True})  # a log: written...
    watch.event({"ev": "backward"})
    assert watch.phase == "training"
    for _ in range(3):
        watch.event({"ev": "step", "n": 1})
    assert "optimizer step 3" in watch.status()
    watch.event({"ev": "fwd", "grad": False, "rows": [0, 200]})  # validation during training
    assert watch.phase == "training"
    watch.event({"ev": "open", "path": f"{work}/model.ptz", "w": True})
    watch.event({"ev": "open", "path": f"{work}/model.ptz", "w": False, "kind": "run"})
    assert watch.phase == "evaluating"  # the artifact was read back
    watch.event({"ev": "fwd", "grad": False, "rows": [0, 300, 300, 640]})
    assert "position 640/1000" in watch.status()
    watch.finish(3, False, None)
    assert watch.phase == "failed" and "exited with status 3" in watch.status()


def test_an_evaluation_only_rerun_is_labelled_and_goes_straight_to_evaluating(tmp_path):
    monitor = RunMonitor(OFF)
    watch = monitor.watch(7, "run", "canary", tmp_path, 512)
    assert watch.label == "canary"
    watch.event({"ev": "fwd", "grad": False, "rows": [0, 100]})
    assert watch.phase == "evaluating"
    assert monitor.watch(7, "flip-one", "flip", tmp_path, 512).label == "flip test flip-one"


def test_hostile_output_never_breaks_or_reaches_the_display(tmp_path):
    monitor = RunMonitor(OFF)
    watch = monitor.watch(1, None, "out", tmp_path, 100)
    watch.line(0.0, "[bold red]step:99999999999999999999/3 \x1b[2J" + "x" * 2_000_000)
    watch.line(0.0, "step:5/3 val_loss:nan")  # a step past the total is not progress
    for event in ({"ev": "fwd", "rows": ["a", None, 3]}, {"ev": "open", "path": 5}, {"ev": 3}):
        watch.event(event)
    watch.event({"ev": "fwd", "rows": "not a list"})
    assert watch.step is None and watch.phase == "launching"
    assert ESC not in watch.status() and "[" not in watch.status()


def test_plain_mode_repeats_a_status_line_while_a_phase_lasts(tmp_path, capfd):
    with RunMonitor(PLAIN, interval_s=0.3) as monitor:
        watch = monitor.watch(1, None, "out", tmp_path, 100)
        watch.line(0.0, "step:1/10 train_loss:3.0")
        time.sleep(1.5)
        watch.finish(0, False, None)
    lines = capfd.readouterr().err.splitlines()
    training = [line for line in lines if line.startswith("golf-check run: seed 1: training")]
    assert len(training) >= 2  # the phase change, then at least one repeat
    assert lines[-1].startswith("golf-check run: seed 1: done, step 1/10")
    assert len(lines) <= 10  # throttled: not one per check of the clock
