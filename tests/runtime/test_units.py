"""Fast tests of the pieces of `golf-check run` that need no candidate run."""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from harness.errors import InputError
from harness.runtime import launcher, sandbox, target
from harness.runtime.canary import CanaryResult, canary_stream
from harness.runtime.flip import _compare
from harness.runtime.shim import golf_check_shim as shim
from harness.runtime.trace import Trace, read_trace, replay_coverage
from harness.runtime.valindex import build_index

# ----------------------------------------------------------------------------- shim mapping


@pytest.fixture
def tracer(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    stream = rng.integers(0, 1000, size=5000).astype(np.uint16)
    stream[3000:3200] = stream[1000:1200]  # a duplicated passage, as real text has
    index = build_index(stream, tmp_path / "index")
    trace_dir = tmp_path / "trace"
    trace_dir.mkdir()
    monkeypatch.setenv("GOLF_CHECK_VALINDEX", str(index))
    t = shim._Tracer(str(trace_dir) + os.sep)
    yield t, stream
    t.fh.close()


def test_rows_of_the_stream_map_to_their_positions(tracer):
    t, stream = tracer
    rows = torch.from_numpy(np.stack([stream[10:74], stream[400:464]]).astype(np.int64))
    assert t._map([rows]) == [10, 74, 400, 464]


def test_rows_not_in_the_stream_do_not_map(tracer):
    t, stream = tracer
    row = stream[10:74].astype(np.int64).copy()
    row[40] = (row[40] + 1) % 1000  # one token differs: the first K-gram still matches
    assert t._map([torch.from_numpy(row[None])]) == []


def test_duplicated_text_maps_to_the_occurrence_near_the_last_row(tracer):
    t, stream = tracer
    t._map([torch.from_numpy(stream[2900:2964].astype(np.int64)[None])])
    dup = torch.from_numpy(stream[3050:3114].astype(np.int64)[None])  # also at 1050
    assert t._map([dup]) == [3050, 3114]


def test_network_attempts_but_not_the_rendezvous(tracer, monkeypatch):
    t, _ = tracer
    monkeypatch.setenv("MASTER_PORT", "29500")
    t.audit("socket.getaddrinfo", ("localhost", 29500, 0, 0, 0))  # resolving: harmless
    t.audit("socket.connect", (None, ("127.0.0.1", 29500)))  # torch.distributed's store
    t.audit("socket.connect", (None, "/tmp/some.sock"))  # a Unix socket
    t.audit("socket.connect", (None, ("127.0.0.1", 9)))  # a local service
    t.audit("socket.connect", (None, ("10.255.255.1", 80)))  # the outside world
    t.block_net = True
    with pytest.raises(PermissionError):
        t.audit("socket.getaddrinfo", ("example.org", 443, 0, 0, 0))
    t.fh.flush()
    events = [
        json.loads(x) for x in next(Path(t.directory).glob("trace.*")).read_text().splitlines()
    ]
    net = [(e["host"], e["port"], e.get("loopback", False)) for e in events if e["ev"] == "net"]
    assert net == [("127.0.0.1", 9, True), ("10.255.255.1", 80, False), ("example.org", 443, False)]


# ----------------------------------------------------------------------------- replay


def ev(kind, t, **kw):
    return {"ev": kind, "t": float(t), **kw}


def fwd(t, rows, grad=False, ntensors=1):
    flat = [x for r in rows for x in r]
    return ev("fwd", t, rows=flat, grad=grad, ntensors=ntensors)


def score_first(t0, chunks, train_first=False, rescore=False):
    """Events of chunked score-first TTT over [lo, hi) chunks, windows of 64."""
    out, t = [], t0
    for lo, hi in chunks:
        if train_first:
            out += [fwd(t, [(lo, hi)], grad=True, ntensors=2), ev("step", t + 0.1)]
            t += 1
        windows = [(s, s + 25) for s in range(lo - 1, hi - 1, 25)]  # each predicts up to s + 25
        out.append(fwd(t, windows))
        out += [
            fwd(t + 0.2, [(lo - 1, hi - 1)], grad=True),
            ev("backward", t + 0.3),
            ev("step", t + 0.4),
        ]
        if rescore:
            out.append(fwd(t + 0.5, windows))
        t += 1
    return out


CHUNKS = [(1, 101), (101, 201), (201, 301)]


def test_score_first_ttt_is_clean():
    cov = replay_coverage(Trace(score_first(10, CHUNKS), 1), 400, t_artifact=5.0)
    assert (cov.unscored_updates, cov.rescored_positions, cov.trained_before_artifact) == (0, 0, 0)
    assert cov.updates_in_eval == 3 and cov.adapted_positions == 300


def test_training_before_scoring_is_an_unscored_update():
    cov = replay_coverage(Trace(score_first(10, CHUNKS, train_first=True), 1), 400, 5.0)
    assert cov.unscored_updates > 0 and cov.unscored_update_positions[0] == 1


def test_scoring_again_after_adapting_is_a_rescore():
    cov = replay_coverage(Trace(score_first(10, CHUNKS, rescore=True), 1), 400, 5.0)
    # windows ending inside the chunk just adapted on (3 per chunk); each chunk's last
    # window ends on its last target, which the inputs-only training rows did not include
    assert cov.rescored_positions == 9 and cov.unscored_updates == 0


def test_reset_to_the_artifact_starts_a_new_episode():
    events = score_first(10, CHUNKS) + [ev("reset", 20)] + score_first(30, CHUNKS)
    cov = replay_coverage(Trace(events, 1), 400, 5.0)
    assert cov.episodes == 2 and cov.rescored_positions == 0
    without_reset = score_first(10, CHUNKS) + score_first(30, CHUNKS)
    assert replay_coverage(Trace(without_reset, 1), 400, 5.0).rescored_positions > 0


def test_gradient_steps_on_validation_before_the_artifact():
    events = [fwd(1, [(0, 64), (64, 128)], grad=True, ntensors=2), ev("step", 1.5)]
    cov = replay_coverage(Trace(events, 1), 400, t_artifact=5.0)
    assert cov.trained_before_artifact == 128
    logging_only = [fwd(1, [(0, 64)], grad=False)]
    assert replay_coverage(Trace(logging_only, 1), 400, 5.0).trained_before_artifact == 0


def test_read_trace_merges_processes_and_skips_a_torn_line(tmp_path):
    (tmp_path / "trace.1.jsonl").write_text(json.dumps(ev("step", 2)) + "\n" + '{"ev": "st')
    (tmp_path / "trace.2.jsonl").write_text(json.dumps(ev("step", 1)) + "\n")
    trace = read_trace(tmp_path)
    assert [e["t"] for e in trace.events] == [1.0, 2.0] and trace.torn_lines == 1


# ----------------------------------------------------------------------------- canary, flip


def test_canary_tokens_are_uniform_over_the_keyed_subset():
    allowed = np.arange(3, 200)
    tokens = canary_stream(20_000, 200, allowed, bos=1, k=4, seed=7)
    assert tokens[0] == 1
    successors: dict[int, set[int]] = {}
    for a, b in zip(tokens[:-1], tokens[1:], strict=True):
        successors.setdefault(int(a), set()).add(int(b))
    assert all(len(s) <= 4 for s in successors.values())
    counts = np.bincount(tokens[1:][tokens[:-1] == tokens[1]], minlength=200)
    seen = counts[counts > 0]
    assert seen.size == 4 and seen.min() > 0.15 * seen.sum()  # roughly uniform
    assert not np.array_equal(tokens, canary_stream(20_000, 200, allowed, 1, 4, seed=8))


def test_canary_bound_is_ville():
    ok = CanaryResult(
        True, n_tokens=1001, k=4, alpha=1e-3, scored=1000, val_loss=math.log(4) - 0.005
    )
    assert ok.bound_nats == pytest.approx(1000 * math.log(4) - math.log(1000))
    assert not ok.violated  # 5 nats under the ideal: within ln(1/alpha) = 6.9
    cheat = CanaryResult(True, n_tokens=1001, k=4, alpha=1e-3, scored=1000, val_loss=1.0)
    assert cheat.violated and "VIOLATED" in cheat.summary()


def test_flip_comparison_reports_moved_positions():
    base = np.full((10, 5), np.nan, dtype=np.float32)
    base[1:] = -np.log(5)
    same = _compare(base, base.copy(), t=6)
    assert same["max_diff"] == 0 and same["compared"] == 6
    moved = base.copy()
    moved[3, 0] += 0.5
    moved[8, 0] += 0.5  # after t: allowed to change
    out = _compare(base, moved, t=6)
    assert out["first_positions"] == [3] and out["positions_changed"] == 1


# ----------------------------------------------------------------------------- launcher


def test_launcher_stamps_lines_and_kills_the_group_on_timeout(tmp_path):
    code = "import time,subprocess,sys\nprint('a', flush=True)\ntime.sleep(0.5)\nprint('b', flush=True)\n"
    code += (
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\ntime.sleep(60)\n"
    )
    t0 = time.monotonic()
    res = launcher.launch(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=dict(os.environ),
        log_path=tmp_path / "log",
        timeout_s=2.0,
        token="t" * 16,
    )
    assert res.timed_out and res.returncode is not None and res.returncode < 0
    assert [line.text for line in res.lines] == ["a", "b"]
    assert 0.4 < res.lines[1].t - res.lines[0].t < 2.0
    assert time.monotonic() - t0 < 15
    stamped = (tmp_path / "log").read_text().splitlines()
    assert stamped[0].split(" ", 1)[1] == "a" and float(stamped[0].split()[0]) > 1e9
    assert res.survivors == []  # the child died with its group


def test_launcher_keeps_a_bounded_tail_of_a_flood_but_times_every_line(tmp_path):
    code = "import sys\nfor i in range(5000): print(i)\nsys.stdout.buffer.write(b'\\xff\\xfe bad\\n')\n"
    res = launcher.launch(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=dict(os.environ),
        log_path=tmp_path / "log",
        timeout_s=30,
        token="f" * 16,
    )
    assert len(res.line_times) == 5001 and len(res.lines) == launcher.KEEP_LINES
    assert res.lines[-1].text == "\ufffd\ufffd bad"  # not UTF-8: replaced, not a crash
    assert res.time_of_line(5001) == res.lines[-1].t and res.time_of_line(0) is None
    assert len((tmp_path / "log").read_text().splitlines()) == 5001


def test_launcher_reports_a_program_that_cannot_start(tmp_path):
    res = launcher.launch(
        [str(tmp_path / "missing")],
        cwd=tmp_path,
        env={},
        log_path=tmp_path / "l",
        timeout_s=5,
        token="x",
    )
    assert res.start_error and res.returncode is None


# ----------------------------------------------------------------------------- targets, sandbox


def test_targets(tmp_path):
    script = tmp_path / "train_gpt.py"
    script.write_text("print(1)\n")
    assert target.resolve(str(script)).run_args == [str(script.resolve())]
    assert target.resolve(str(tmp_path)).script == script.resolve()
    ref = target.resolve(None)
    assert ref.is_reference and ref.run_args == ["-m", "reference_model"] and ref.is_package
    for bad in (str(tmp_path / "nope.py"), str(tmp_path / "x.txt"), "no_such_module_xyz"):
        if bad.endswith(".txt"):
            Path(bad).write_text("x")
        with pytest.raises(InputError):
            target.resolve(bad)
    assert target.resolve(str(script)).command(4)[1:4] == [
        "-m",
        "torch.distributed.run",
        "--standalone",
    ]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="namespaces are Linux-only")
def test_sandbox_makes_protected_folders_read_only_and_cuts_the_network(tmp_path):
    protected = tmp_path / "user"
    inner = protected / "run"
    inner.mkdir(parents=True)
    box = sandbox.plan([protected], [inner])
    if box.network != "namespace":
        pytest.skip(f"no namespaces here: {box.notes}")
    probe = (
        "import socket,pathlib\n"
        f"p=pathlib.Path({str(protected)!r})\n"
        "try:\n (p/'x').write_text('x'); print('protected writable')\n"
        "except OSError: print('protected read-only')\n"
        "try:\n open('../z', 'w').write('z'); print('relative escape writable')\n"
        "except OSError: print('relative escape read-only')\n"
        "try:\n (pathlib.Path.home()/'.golf-check-probe').write_text('x'); print('home writable')\n"
        "except OSError: print('home read-only')\n"
        "(p/'run'/'y').write_text('y'); print('run writable')\n"
        "open('w.txt', 'w').write('w'); print('working directory writable')\n"
        "try:\n socket.create_connection(('10.255.255.1', 80), timeout=1); print('net open')\n"
        "except OSError: print('net closed')\n"
    )
    res = launcher.launch(
        box.prefix + [sys.executable, "-c", probe],
        cwd=inner,
        env=dict(os.environ),
        log_path=tmp_path / "log",
        timeout_s=30,
        token="s" * 16,
    )
    assert [line.text for line in res.lines] == [
        "protected read-only",
        "relative escape read-only",
        "home read-only",
        "run writable",
        "working directory writable",
        "net closed",
    ]
    assert not (protected / "x").exists() and not (protected / "z").exists()
    assert not (Path.home() / ".golf-check-probe").exists()


def test_ranks_of_a_data_parallel_pass_share_one_episode():
    """Rank 1 resets after rank 0 already scored, and backs up before rank 0 scored its rows;
    the update happens at the steps, after both ranks scored: clean."""
    events = [
        ev("reset", 1, pid="a"),
        fwd(2, [(0, 64)]) | {"pid": "a"},
        ev("reset", 3, pid="b"),
        fwd(4, [(64, 128)]) | {"pid": "b"},
        fwd(5, [(0, 64)], grad=True) | {"pid": "b"},
        ev("backward", 6, pid="b"),
        fwd(7, [(64, 128)], grad=True) | {"pid": "a"},
        ev("backward", 8, pid="a"),
        ev("step", 9, pid="a"),
        ev("step", 9.1, pid="b"),
    ]
    cov = replay_coverage(Trace(events, 2), 400, t_artifact=None)
    assert cov.unscored_updates == 0 and cov.episodes == 1
    # rank b stepping on rows nobody has scored yet is an update before the score
    early = [
        ev("reset", 1, pid="a"),
        ev("reset", 1.1, pid="b"),
        fwd(2, [(0, 64)], grad=True) | {"pid": "b"},
        ev("backward", 3, pid="b"),
        ev("step", 3.5, pid="b"),
        fwd(4, [(0, 64)]) | {"pid": "a"},
    ]
    assert replay_coverage(Trace(early, 2), 400, t_artifact=None).unscored_updates == 64
