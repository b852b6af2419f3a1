"""Fast tests of the pieces of `golf-check run` that need no candidate run."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from golf_check.harness.errors import InputError
from golf_check.harness.runtime import launcher, measure, sandbox, target
from golf_check.harness.runtime.flip import _compare
from golf_check.harness.runtime.shim import golf_check_shim as shim
from golf_check.harness.runtime.trace import (
    Trace,
    check_integrity,
    from_events,
    read_trace,
    replay_coverage,
)
from golf_check.harness.runtime.valindex import build_index

from .conftest import prints, run_in, texts

# ----------------------------------------------------------------------------- shim mapping


@pytest.fixture
def tracer(tmp_path, monkeypatch, open_tracer):
    rng = np.random.default_rng(0)
    stream = rng.integers(0, 1000, size=5000).astype(np.uint16)
    stream[3000:3200] = stream[1000:1200]  # a duplicated passage, as real text has
    index = build_index(stream, tmp_path / "index")
    monkeypatch.setenv("GOLF_CHECK_VALINDEX", str(index))
    return open_tracer(), stream


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
    events = t.received()
    net = [(e["host"], e["port"], e.get("loopback", False)) for e in events if e["ev"] == "net"]
    assert net == [("127.0.0.1", 9, True), ("10.255.255.1", 80, False), ("example.org", 443, False)]
    assert [(e["ev"], e["port"]) for e in events if e["ev"] == "rdv"] == [("rdv", 29500)]
    # torch's rendezvous stays out of the network events; a port the run bound itself does not
    assert from_events(events).of("net")[0]["port"] == 9
    t.audit("socket.bind", (None, ("127.0.0.1", 29500)))
    spoofed = from_events(events + t.received()).of("net")
    assert any(e["port"] == 29500 and e.get("spoofed_rendezvous") for e in spoofed)


@pytest.mark.parametrize(
    "argv, env, reason",
    [
        (["python3", "-I", "eval.py"], None, "python -I"),
        (["/usr/bin/python3.11", "-uS", "eval.py"], None, "python -S"),
        (["python", "-E", "-c", "pass"], None, "python -E"),
        (["env", "-i", "python3", "-I", "x.py"], None, "python -I"),
        (["python3", "eval.py"], {"PATH": "/usr/bin"}, "without golf-check's shim"),
        (["python3", "-c", "import sys; print(sys.argv)", "-I"], None, None),
        (["python3", "-W", "ignore", "eval.py"], None, None),
        (["nvidia-smi"], {}, None),
    ],
)
def test_a_python_child_without_the_shim_is_marked_before_it_starts(tracer, argv, env, reason):
    t, _ = tracer
    t.audit("subprocess.Popen", (argv[0], argv, None, env))
    (event,) = [e for e in t.received() if e["ev"] == "proc"]
    if reason is None:
        assert "unaudited" not in event
    else:
        assert reason in event["unaudited"]


def test_a_python_child_with_the_runs_environment_is_audited(tracer, monkeypatch):
    t, _ = tracer
    monkeypatch.setenv("GOLF_CHECK_TRACE_FD", "3")
    shim_dir = str(Path(shim.__file__).parent)
    env = {"GOLF_CHECK_TRACE_FD": "3", "PYTHONPATH": os.pathsep.join([shim_dir, "/x"])}
    t.audit("os.exec", (sys.executable, [sys.executable, "eval.py"], env))
    (event,) = [e for e in t.received() if e["ev"] == "proc"]
    assert event["python"] and "unaudited" not in event


def test_the_heartbeat_sees_a_replaced_emit_and_withheld_forwards(tracer):
    t, stream = tracer
    assert t.tampered() == []
    t.emit = lambda *a, **k: None
    t.valindex_dir = None
    assert t.tampered() == ["emit", "valindex"]


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


def test_read_trace_orders_events_and_skips_a_torn_line(tmp_path):
    lines = [json.dumps(ev("step", 2)), json.dumps(ev("step", 1)), '{"ev": "st']
    (tmp_path / "trace.jsonl").write_text("\n".join(lines))
    trace = read_trace(tmp_path / "trace.jsonl")
    assert [e["t"] for e in trace.events] == [1.0, 2.0] and trace.torn_lines == 1


def _honest(t_end=20.0, mapped=3):
    events = [ev("start", 0, pid=7, ppid=1)]
    events += [ev("beat", float(t), pid=7, mapped=min(mapped, t // 5)) for t in range(2, 20, 2)]
    events += [fwd(5.0 * (i + 1), [(0, 64)]) | {"pid": 7} for i in range(mapped)]
    events.append(ev("exit", t_end - 0.5, pid=7, mapped=mapped))
    return events


def _integrity(events, **kw):
    args = dict(started=0.0, ended=20.0, returncode=0, timed_out=False, scored=True)
    args.update(kw)
    return check_integrity(from_events(events), expect_forwards=True, **args).problems


def test_an_honest_trace_has_no_integrity_problem():
    assert _integrity(_honest()) == []


@pytest.mark.parametrize(
    "events, expected",
    [
        ([], "never reported"),
        ([e for e in _honest() if e["ev"] != "exit"], "without its exit event"),
        ([e for e in _honest(60.0) if e["ev"] != "exit"], "went silent"),
        ([e for e in _honest() if e["ev"] != "fwd"], "sent 0 of them"),
        (_honest() + [ev("beat", 19, pid=7, tampered=["emit"])], "hooks were replaced"),
        (
            _honest() + [ev("proc", 3, pid=7, python=True, argv=["python", "-I"], unaudited="x")],
            "without the audit shim",
        ),
    ],
)
def test_a_missing_silent_or_inconsistent_trace_is_an_error(events, expected):
    problems = _integrity(events, ended=60.0 if "silent" in expected else 20.0)
    assert any(sev == "error" and expected in msg for sev, msg in problems), problems


def test_score_lines_without_traced_forwards_are_a_warning_on_an_intact_trace():
    events = [e for e in _honest(mapped=0) if e["ev"] != "fwd"]
    assert _integrity(events) == [
        (
            "warning",
            "score lines were printed, but no traced forward pass covered a validation position",
        )
    ]


def test_a_python_child_that_never_reported_is_a_warning():
    events = _honest() + [ev("proc", 3, pid=7, python=True, argv=["python3", "eval.py"])]
    assert [sev for sev, _ in _integrity(events)] == ["warning"]
    child = ev("start", 3.5, pid=9, ppid=7)
    assert _integrity(events + [child]) == []
    through_a_shell = ev("start", 3.5, pid=11, ppid=10, argv=["eval.py"])
    assert _integrity(events + [through_a_shell]) == []


# ----------------------------------------------------------------------------- artifact


def opened(t, **kw):
    return {"ev": "open", "t": float(t), **kw}


def _age(*paths):
    """Files written 20 s ago: the trace's write events say when exactly."""
    for path in paths:
        os.utime(path, (time.time() - 20, time.time() - 20))


def _launch_stub(tmp_path, ended):
    return launcher.LaunchResult([], 0, 0.0, ended, False, [], 0, time.time() - time.monotonic())


def test_the_artifact_is_what_evaluation_reads_back_not_the_newest_file(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    real, decoy, raw = work / "model.ptz", work / "zz_decoy.ptz", work / "raw.pt"
    real.write_bytes(b"r" * 5000)
    raw.write_bytes(b"w" * 9000)
    decoy.write_bytes(b"d" * 100)
    _age(real, raw, decoy)
    now = time.monotonic()
    events = [
        ev("save", now - 9, path=str(raw.resolve())),
        opened(now - 8.5, path=str(raw.resolve()), w=False, kind="run"),  # quantized from
        opened(now - 8, path=str(real.resolve()), w=True),
        opened(now - 7, path=str(decoy.resolve()), w=True),
        opened(now - 5, path=str(real.resolve()), w=False, kind="run"),
    ]
    launch = _launch_stub(tmp_path, now)
    art = measure.find_artifact(work, from_events(events), launch, None)
    assert art.path == real and art.files == [real] and art.model_bytes == 5000
    # without a read-back in the trace: the largest of the best class, never the newest
    art = measure.find_artifact(work, from_events([]), launch, None)
    assert art.path == real and "largest" in art.basis


def test_every_file_evaluation_reads_back_counts(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    weights, extra = work / "w.ptz", work / "tables.bin"
    weights.write_bytes(b"w" * 3000)
    extra.write_bytes(b"e" * 700)
    _age(weights, extra)
    now = time.monotonic()
    events = [
        opened(now - 9, path=str(extra.resolve()), w=True),
        opened(now - 8, path=str(weights.resolve()), w=True),
        opened(now - 5, path=str(weights.resolve()), w=False, kind="run"),
        opened(now - 4, path=str(extra.resolve()), w=False, kind="run"),
    ]
    art = measure.find_artifact(work, from_events(events), _launch_stub(tmp_path, now), None)
    assert sorted(p.name for p in art.files) == ["tables.bin", "w.ptz"]
    assert art.model_bytes == 3700


def test_side_files_are_read_from_the_scripts_folder(tmp_path):
    (tmp_path / "weights.dat").write_bytes(b"x" * 1234)
    events = [opened(1, path=str((tmp_path / "weights.dat").resolve()), kind="side")]
    side = measure.side_files(from_events(events), tmp_path)
    assert side.total_bytes == 1234 and [p.name for p in side.files] == ["weights.dat"]


# ----------------------------------------------------------------------------- flip (canary: test_canary.py)


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
    res = run_in(None, code, tmp_path, tmp_path / "log", site=True, timeout_s=2.0)
    assert res.timed_out and res.returncode is not None and res.returncode < 0
    assert texts(res) == ["a", "b"]
    assert 0.4 < res.lines[1].t - res.lines[0].t < 2.0
    assert time.monotonic() - t0 < 15
    stamped = (tmp_path / "log").read_text().splitlines()
    assert stamped[0].split(" ", 1)[1] == "a" and float(stamped[0].split()[0]) > 1e9
    assert res.survivors == []  # the child died with its group


def test_launcher_keeps_a_bounded_tail_of_a_flood_but_times_every_line(tmp_path):
    code = "import sys\nfor i in range(5000): print(i)\nsys.stdout.buffer.write(b'\\xff\\xfe bad\\n')\n"
    res = run_in(None, code, tmp_path, tmp_path / "log", site=True, timeout_s=30)
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


def _plan(*args, **kw):
    """The sandbox, or where bubblewrap cannot run, the run without namespaces that golf-check
    allows only the bundled reference: the tests below that need namespaces then skip."""
    return sandbox.plan(*args, trusted=True, **kw)


def test_targets(tmp_path):
    script = tmp_path / "train_gpt.py"
    script.write_text("print(1)\n")
    assert target.resolve(str(script)).run_args == [str(script.resolve())]
    assert target.resolve(str(tmp_path)).script == script.resolve()
    ref = target.resolve(None)
    assert (
        ref.is_reference and ref.run_args == ["-m", "golf_check.reference_model"] and ref.is_package
    )
    # named as a module, with or without "-m ", it is still the bundled reference
    for name in ("golf_check.reference_model", "-m golf_check.reference_model"):
        assert target.resolve(name).is_reference, name
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
    box = _plan([protected], [inner])
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
    assert prints(box, probe, inner, tmp_path / "log", site=True, timeout_s=30) == [
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


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="namespaces are Linux-only")
def test_the_sandboxed_candidate_has_no_privileges_and_cannot_reach_the_evidence(tmp_path):
    out = tmp_path / "out"
    work = out / "seed1" / "work"
    work.mkdir(parents=True)
    box = _plan([], [work], harness_owned=[out], limits={"fsize": 1 << 20})
    if box.network != "namespace":
        pytest.skip(f"no namespaces here: {box.notes}")
    probe = (
        "import os, subprocess\n"
        "status = open('/proc/self/status').read()\n"
        "print('uid', os.getuid(), 'caps', status.split('CapEff:')[1].split()[0])\n"
        "print('no_new_privs', status.split('NoNewPrivs:')[1].split()[0])\n"
        "for path in ('../evidence.log', 'ok.txt'):\n"
        "    try: open(path, 'w').write('x'); print(path, 'writable')\n"
        "    except OSError: print(path, 'read-only')\n"
        "import ctypes\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "try: fd = os.open(f'/proc/{os.getppid()}/ns/mnt', os.O_RDONLY)\n"
        "except OSError: fd = -1\n"
        "print('setns', 'refused' if fd < 0 or libc.setns(fd, 0) != 0 else 'done')\n"
        "r = subprocess.run(['mount', '-o', 'remount,bind,rw', OUT], capture_output=True)\n"
        "print('remount', 'refused' if r.returncode else 'done')\n"
        "try: open('big', 'wb').write(b'x' * (2 << 20)); print('big file written')\n"
        "except OSError: print('big file refused')\n"
    ).replace("OUT", repr(str(out)))
    assert prints(box, probe, work, out / "log", site=True, timeout_s=30) == [
        "uid 1000 caps 0000000000000000",
        "no_new_privs 1",
        "../evidence.log read-only",
        "ok.txt writable",
        "setns refused",
        "remount refused",
        "big file refused",
    ]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="namespaces are Linux-only")
def test_a_detached_daemon_is_reported_over_the_channel_and_dies_with_the_run(tmp_path):
    box = _plan([], [tmp_path], harness_owned=[])
    if not box.pid_namespace:
        pytest.skip(f"no pid namespace here: {box.notes}")
    marker = tmp_path / "marker"
    daemon = f"import time; time.sleep(2); open({str(marker)!r}, 'w')"
    code = (
        "import os, sys\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        f"    os.execve(sys.executable, [sys.executable, '-c', {daemon!r}], {{}})\n"
        "print('main done')\n"
    )
    res = run_in(box, code, tmp_path, tmp_path / "log", timeout_s=30, trace=True)
    assert res.returncode == 0 and texts(res) == ["main done"]
    assert len(res.survivors) == 1 and "time.sleep(2)" in res.survivors[0]
    time.sleep(3)
    assert not marker.exists()


def test_the_trace_channel_carries_every_process_and_the_log_is_hashed(tmp_path):
    import hashlib

    shim_dir = str(Path(shim.__file__).parent)
    code = (
        "import subprocess, sys\n"
        "print('parent')\n"
        "subprocess.run([sys.executable, '-c', 'print(\"child\")'], check=True)\n"
    )
    env = dict(os.environ, PYTHONPATH=shim_dir)
    res = run_in(None, code, tmp_path, tmp_path / "log", site=True, env=env, trace=True)
    starts = [e for e in res.trace_events if e["ev"] == "start"]
    exits = [e for e in res.trace_events if e["ev"] == "exit"]
    assert len(starts) == 2 and len(exits) == 2  # the child got the channel passed on
    assert starts[1]["ppid"] == starts[0]["pid"]
    assert len(read_trace(tmp_path / "trace.jsonl").events) == len(res.trace_events)
    assert res.log_sha256 == hashlib.sha256((tmp_path / "log").read_bytes()).hexdigest()


# ----------------------------------------------------------------------------- verify


def test_verify_checks_the_digests_a_run_report_quotes(tmp_path):
    import hashlib

    from golf_check.harness.evidence.runreport import read_run_report

    log = tmp_path / "seed1" / "train_seed1.log"
    log.parent.mkdir()
    log.write_text("1.0 final_ttt val_loss:2.00000000 val_bpb:1.50000000\n")
    digest = hashlib.sha256(log.read_bytes()).hexdigest()
    doc = {
        "command": "run",
        "seeds": [
            {
                "seed": 1,
                "log": "seed1/train_seed1.log",
                "evidence": {"log": {"path": "seed1/train_seed1.log", "sha256": digest}},
            }
        ],
    }
    assert read_run_report(tmp_path / "report.json", doc).errors == []
    log.write_text("1.0 final_ttt val_loss:1.00000000 val_bpb:0.75000000\n")
    (error,) = read_run_report(tmp_path / "report.json", doc).errors
    assert "seed1/train_seed1.log: changed since golf-check run wrote it" in error


def test_side_files_are_the_submissions_own_not_its_environment(tmp_path, monkeypatch, open_tracer):
    folder = tmp_path / "submission"
    monkeypatch.setenv("GOLF_CHECK_SCRIPT_DIR", str(folder))
    monkeypatch.setenv("GOLF_CHECK_DATA_DIR", str(folder / "data"))
    monkeypatch.setenv("GOLF_CHECK_OUT_DIR", str(folder / "golf-check-runs" / "1"))
    t = open_tracer()
    reads = {
        "weights.dat": True,
        "tables/bigram.npy": True,
        "helper.py": False,  # code, counted as code
        ".venv/lib/python3.11/site-packages/torch/version.json": False,
        "__pycache__/helper.cpython-311.pyc": False,
        "data/fineweb_val_000000.bin": False,
        "golf-check-runs/1/canary/final_model.ptz": False,
    }
    for rel in reads:
        t.audit("open", (str(folder / rel), "rb", 0))
    side = {e["path"] for e in t.received() if e.get("kind") == "side"}
    assert side == {str(folder / rel) for rel, counted in reads.items() if counted}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="namespaces are Linux-only")
def test_a_candidate_killed_by_a_signal_reads_as_killed_through_the_sandbox(tmp_path):
    box = _plan([], [tmp_path], harness_owned=[])
    code = "import os; os.kill(os.getpid(), 9)"
    res = run_in(box, code, tmp_path, tmp_path / "log", timeout_s=30, trace=True)
    assert res.returncode == -9


def test_code_files_come_from_the_shims_code_events(tmp_path):
    script, helper = tmp_path / "train_gpt.py", tmp_path / "helper.py"
    script.write_text("import helper\n")
    helper.write_text("X = 1\n")
    events = [ev("code", 1, files=[str(helper)]), ev("code", 1, files=["/elsewhere/x.py"])]
    code = measure.code_files(script, tmp_path, from_events(events))
    assert code.files == sorted([script.resolve(), helper.resolve()])
    assert code.total_bytes == len("import helper\n") + len("X = 1\n")


def test_a_spawned_child_that_lost_the_descriptor_reconnects_to_the_harness(tmp_path):
    script = tmp_path / "spawner.py"
    script.write_text(
        "import multiprocessing\n"
        "def work():\n"
        "    print('child', flush=True)\n"
        "if __name__ == '__main__':\n"
        "    p = multiprocessing.get_context('spawn').Process(target=work)\n"
        "    p.start(); p.join()\n"
    )
    env = dict(os.environ, PYTHONPATH=str(Path(shim.__file__).parent))
    res = launcher.launch(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        log_path=tmp_path / "log",
        timeout_s=60,
        token="m" * 16,
        trace_path=tmp_path / "trace.jsonl",
    )
    assert texts(res) == ["child"]  # no "no trace channel" warning
    starts = {e["pid"] for e in res.trace_events if e["ev"] == "start"}
    exits = {e["pid"] for e in res.trace_events if e["ev"] == "exit"}
    assert len(starts) >= 2 and starts == exits  # the child and spawn's resource tracker too
    assert not (tmp_path / "trace.sock").exists()


@pytest.mark.parametrize("enabled", [True, False])
def test_the_memory_limit_stops_a_runaway_candidate_with_or_without_the_sandbox(tmp_path, enabled):
    box = _plan([], [tmp_path], enabled=enabled, limits={"data": 256 << 20})
    code = "b = bytearray(64 << 20); print('64 MiB ok', flush=True); c = bytearray(512 << 20)"
    res = run_in(box, code, tmp_path, tmp_path / "log", timeout_s=30)
    printed = texts(res)
    assert res.returncode == 1 and printed[0] == "64 MiB ok" and printed[-1] == "MemoryError"


def test_a_mapping_error_turns_the_index_off_without_looking_like_tampering(tracer):
    t, _ = tracer
    t.valindex_dir = "/no/such/index"
    t.valindex_wanted = t.valindex_dir
    t._on_forward(torch, torch.nn.Identity(), (torch.arange(64)[None],), {})
    assert t.valindex_dir is None and t.tampered() == []
    assert [e["ev"] for e in t.received()] == ["shim_error"]
