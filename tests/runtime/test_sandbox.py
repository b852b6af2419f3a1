"""The bubblewrap sandbox holds: no egress, no writes outside the run's folders, no way back
into the host's namespaces, nothing outliving the seed, limits that bite; and without
bubblewrap an untrusted script is refused."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from golf_check.harness.runtime import sandbox

from .conftest import TINY_LM, prints, run_in, texts

BWRAP, WHY_NOT = sandbox.bwrap_status()
needs_bwrap = pytest.mark.skipif(BWRAP is None, reason=f"no bubblewrap sandbox here: {WHY_NOT}")


@pytest.fixture
def box(tmp_path):
    """The sandbox of a run whose one writable folder is tmp_path."""
    return sandbox.plan([], [tmp_path])


@needs_bwrap
def test_only_loopback_is_reachable(box, tmp_path):
    code = (
        "import socket\n"
        "try: socket.create_connection(('1.1.1.1', 53), timeout=2); print('egress open')\n"
        "except OSError as e: print('egress refused')\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
        "c = socket.create_connection(s.getsockname(), timeout=2); print('loopback ok')\n"
        "rows = open('/proc/net/dev').readlines()[2:]\n"
        "print('ifaces', sorted(row.split(':')[0].strip() for row in rows))\n"
    )
    assert prints(box, code, tmp_path, tmp_path / "log") == [
        "egress refused",
        "loopback ok",
        "ifaces ['lo']",
    ]


@needs_bwrap
def test_writes_land_only_in_the_run_folders_and_scratch_is_private(tmp_path):
    user = tmp_path / "user"
    out = user / "out"
    work = out / "seed1" / "work"
    work.mkdir(parents=True)
    (out / "evidence.log").write_text("harness\n")
    box = sandbox.plan([user], [work], harness_owned=[out])
    home = Path.home()
    code = (
        "import os\n"
        "def w(p):\n"
        "    try: open(p, 'w').write('x'); return 'written'\n"
        "    except OSError: return 'refused'\n"
        f"for p in ({str(user / 'u')!r}, {str(out / 'evidence.log')!r},"
        f" {str(home / '.golf-probe')!r}, '/etc/golf-probe', '/usr/golf-probe', 'ok.txt'):\n"
        "    print(os.path.basename(p), w(p))\n"
        "print('tmp', w('/tmp/scratch'), w('/dev/shm/scratch'), w('/var/tmp/scratch'))\n"
        "print('run hidden', os.listdir('/run') == [])\n"
    )
    assert prints(box, code, work, tmp_path / "log") == [
        "u refused",
        "evidence.log refused",
        ".golf-probe refused",
        "golf-probe refused",
        "golf-probe refused",
        "ok.txt written",
        "tmp written written written",
        "run hidden True",
    ]
    assert (work / "ok.txt").exists() and (out / "evidence.log").read_text() == "harness\n"
    assert not (user / "u").exists() and not Path("/tmp/scratch").exists()
    assert not Path("/var/tmp/scratch").exists() and not (home / ".golf-probe").exists()


@needs_bwrap
def test_no_privileges_no_remount_no_way_back_into_the_host_namespaces(tmp_path):
    box = sandbox.plan([], [tmp_path], harness_owned=[])
    code = (
        "import ctypes, os, subprocess\n"
        "status = open('/proc/self/status').read()\n"
        "field = lambda k: status.split(k + ':')[1].split()[0]\n"
        "print('uid', os.getuid(), 'caps', field('CapEff'), field('CapBnd'),"
        " 'nnp', field('NoNewPrivs'))\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "joined = []\n"
        "for pid in [p for p in os.listdir('/proc') if p.isdigit()]:\n"
        "    for ns in ('net', 'mnt', 'user', 'pid', 'ipc', 'uts'):\n"
        "        try: fd = os.open(f'/proc/{pid}/ns/{ns}', os.O_RDONLY)\n"
        "        except OSError: continue\n"
        "        if libc.setns(fd, 0) == 0: joined.append(ns)\n"
        "print('setns joined', joined)\n"
        "r = subprocess.run(['mount', '-o', 'remount,rw', '/'], capture_output=True)\n"
        "print('remount', 'refused' if r.returncode else 'done')\n"
        "r = subprocess.run(['unshare', '-r', '-m', 'true'], capture_output=True)\n"
        "print('new user namespace', 'refused' if r.returncode else 'done')\n"
        "print('pid', os.getpid() > 1, 'host processes', len(os.listdir('/proc')) < 80)\n"
        "knobs = ['/proc/sys/kernel/core_pattern', '/proc/sys/vm/drop_caches',"
        " '/proc/pressure/memory', '/sys/kernel/mm/transparent_hugepage/enabled']\n"
        "opened = []\n"
        "for knob in knobs:\n"
        "    try: os.close(os.open(knob, os.O_WRONLY)); opened.append(knob)\n"
        "    except OSError: pass\n"
        "print('kernel settings writable', opened)\n"
    )
    assert prints(box, code, tmp_path, tmp_path / "log") == [
        "uid 1000 caps 0000000000000000 0000000000000000 nnp 1",
        # joining a namespace it already is in is allowed for none of them without
        # capabilities; the host's namespaces are not even visible in its /proc
        "setns joined []",
        "remount refused",
        "new user namespace refused",
        "pid True host processes True",
        # as root the candidate's host uid is 0, which /proc/sys checks instead of capabilities
        "kernel settings writable []",
    ]


@needs_bwrap
def test_a_daemon_dies_with_the_seed_even_when_the_seed_is_killed_on_timeout(tmp_path):
    box = sandbox.plan([], [tmp_path], harness_owned=[])
    marker = tmp_path / "marker"
    daemon = f"import time; time.sleep(4); open({str(marker)!r}, 'w')"
    code = (
        "import os, sys, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        f"    os.execve(sys.executable, [sys.executable, '-S', '-c', {daemon!r}], {{}})\n"
        "print('main sleeps', flush=True)\n"
        "time.sleep(60)\n"
    )
    res = run_in(box, code, tmp_path, tmp_path / "log", timeout_s=2, trace=True)
    assert res.timed_out and texts(res) == ["main sleeps"]
    assert res.survivors == []  # the namespace was torn down on purpose, not left running
    time.sleep(5)
    assert not marker.exists()
    mine = [p for p in os.listdir("/proc") if p.isdigit() and _cmd(p).find("time.sleep(4)") >= 0]
    assert mine == []


def _cmd(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


@needs_bwrap
def test_scratch_space_is_capped(tmp_path):
    box = sandbox.plan([], [tmp_path], limits={"tmp": 8 << 20})
    code = (
        "for where in ('/tmp', '/dev/shm'):\n"
        "    try:\n"
        "        open(where + '/big', 'wb').write(b'x' * (16 << 20)); print(where, 'filled')\n"
        "    except OSError as e: print(where, 'full', e.errno == 28)\n"
    )
    assert prints(box, code, tmp_path, tmp_path / "log") == ["/tmp full True", "/dev/shm full True"]


@needs_bwrap
def test_the_process_limit_is_set_in_the_sandbox(tmp_path):
    box = sandbox.plan([], [tmp_path], limits={"nproc": 321})
    code = "import resource; print(resource.getrlimit(resource.RLIMIT_NPROC))"
    assert prints(box, code, tmp_path, tmp_path / "log") == ["(321, 321)"]
    assert box.notes == []  # a run as root is not a sandbox fallback, only a caveat
    assert ("task limit not applied" in box.describe()) is (os.geteuid() == 0)
    assert "321 tasks" in box.describe()


FORK_BOMB = (
    "import os, time\n"
    "n = 0\n"
    "try:\n"
    "    for _ in range(200):\n"
    "        if os.fork() == 0: time.sleep(5); os._exit(0)\n"
    "        n += 1\n"
    "    print('forked', n)\n"
    "except OSError as e: print('refused after', n, e.errno)\n"
)


@needs_bwrap
def test_the_process_limit_stops_a_fork_bomb_of_an_ordinary_user():
    """RLIMIT_NPROC counts the tasks of the candidate's uid in its own user namespace (the
    kernel's per-namespace counts), not the host user's other processes. The kernel exempts a
    host-root real uid, so as root this runs the sandbox as nobody, with the system Python."""
    python = sys.executable
    prefix: list[str] = []
    if os.geteuid() == 0:
        python = "/usr/bin/python3"
        if not os.access(python, os.X_OK) or shutil.which("setpriv") is None:
            pytest.skip("as root this needs setpriv and /usr/bin/python3 to act as nobody")
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
    box = sandbox.plan([], [], limits={"nproc": 40})
    command = [python if part == sys.executable else part for part in box.prefix]
    done = subprocess.run(
        prefix + command + [python, "-S", "-c", FORK_BOMB],
        cwd="/",
        capture_output=True,
        text=True,
        timeout=60,
    )
    words = done.stdout.split()
    assert words[:2] == ["refused", "after"], done.stdout + done.stderr
    assert int(words[3]) == 11 and 30 <= int(words[2]) < 40  # EAGAIN, under the cap


@needs_bwrap
def test_the_memory_limit_bites_in_the_sandbox(tmp_path):
    box = sandbox.plan([], [tmp_path], limits={"data": 256 << 20})
    code = "b = bytearray(64 << 20); print('64 MiB ok', flush=True); c = bytearray(512 << 20)"
    res = run_in(box, code, tmp_path, tmp_path / "log")
    assert res.returncode == 1 and texts(res)[0] == "64 MiB ok" and texts(res)[-1] == "MemoryError"


@needs_bwrap
def test_the_trace_descriptor_and_the_pipes_pass_through_bwrap(box, tmp_path):
    code = (
        "import json, os, sys, time\n"
        "os.write(int(os.environ['GOLF_CHECK_TRACE_FD']),"
        " json.dumps({'ev': 'hello', 't': time.monotonic()}).encode())\n"
        "print('out'); print('err', file=sys.stderr)\n"
    )
    res = run_in(box, code, tmp_path, tmp_path / "log", trace=True)
    assert sorted(texts(res)) == ["err", "out"]
    assert [e["ev"] for e in res.trace_events] == ["hello"]


def test_gpu_device_nodes_are_passed_through_when_present(monkeypatch, tmp_path):
    fake = tmp_path / "nvidia0"
    fake.write_text("")
    monkeypatch.setattr(sandbox, "GPU_DEVICES", (str(tmp_path / "nvidia*"),))
    args = sandbox.mount_args([], [], [], {})
    i = args.index("--dev-bind")
    assert args[i : i + 3] == ["--dev-bind", str(fake), str(fake)]
    assert args.index("--dev") < i  # after bwrap's own /dev, or it would cover them


def test_without_bubblewrap_only_the_bundled_reference_runs(monkeypatch, tmp_path):
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    sandbox.bwrap_status.cache_clear()
    try:
        with pytest.raises(sandbox.SandboxUnavailable, match="not installed"):
            sandbox.plan([], [tmp_path])
        box = sandbox.plan([], [tmp_path], trusted=True)
        assert box.network == "audit-hook" and box.block_in_process
        assert "bundled reference" in box.notes[0]
        assert sandbox.plan([], [tmp_path], enabled=False).network == "audit-hook"
    finally:
        sandbox.bwrap_status.cache_clear()


def test_run_refuses_an_untrusted_script_without_bubblewrap(tmp_path):
    """A PATH without bwrap: one line on stderr, exit 2, nothing run."""
    env = dict(os.environ, PATH=str(tmp_path))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "golf_check.harness",
            "run",
            str(TINY_LM),
            "--out",
            str(tmp_path / "out"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parents[2],
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "install bubblewrap" in lines[0] and "--no-sandbox" in lines[0]
    assert not (tmp_path / "out").exists()


def test_output_past_the_cap_is_drained_and_counted_not_kept(tmp_path):
    code = "import sys\nfor i in range(2000): sys.stdout.write('x' * 99 + '\\n')\nprint('end')\n"
    res = run_in(None, code, tmp_path, tmp_path / "log", max_log_bytes=50_000)
    kept = (tmp_path / "log").stat().st_size
    assert res.returncode == 0 and 50_000 <= kept < 50_000 + 200
    assert res.log_dropped_bytes > 140_000 and res.lines[-1].text != "end"
    assert len(res.line_times) * 115 == kept  # "<unix time> " + 99 x + newline per line


def test_an_older_bubblewrap_loses_only_what_it_lacks(monkeypatch, tmp_path):
    """Ubuntu 22.04's bubblewrap 0.6 has neither --size nor --disable-userns: the sandbox is
    built without them and the report says what is missing."""
    monkeypatch.setattr(sandbox, "bwrap_status", lambda: ("/usr/bin/bwrap", ""))
    monkeypatch.setattr(sandbox, "bwrap_features", lambda bwrap: frozenset())
    box = sandbox.plan([], [tmp_path], limits={"tmp": 1 << 30})
    assert "--size" not in box.prefix and "--disable-userns" not in box.prefix
    assert "--tmpfs" in box.prefix and "--unshare-all" in box.prefix
    assert "not size-capped" in box.describe() and "nested user namespaces" in box.describe()
    monkeypatch.setattr(sandbox, "bwrap_features", lambda bwrap: frozenset({"--size"}))
    box = sandbox.plan([], [tmp_path], limits={"tmp": 1 << 30})
    assert box.prefix[box.prefix.index("--size") + 1] == str(1 << 30)


@needs_bwrap
def test_a_pth_file_cannot_be_planted_for_the_next_golf_check(box, tmp_path):
    """The attack of issue 11: a .pth in a writable virtual environment runs inside the next
    golf-check command. The interpreter's folders are read-only, and scratch dies with the
    seed."""
    import site

    targets = [*site.getsitepackages(), site.getusersitepackages(), "/tmp", "/var/tmp"]
    code = (
        "import os\n"
        f"for folder in {targets!r}:\n"
        "    try: open(os.path.join(folder, 'zz_golf_probe.pth'), 'w').write('import os\\n')\n"
        "    except OSError: print('refused', folder)\n"
        "    else: print('planted', folder)\n"
    )
    printed = prints(box, code, tmp_path, tmp_path / "log")
    outcome = dict(line.split(" ", 1)[::-1] for line in printed)
    assert all(outcome[t] == "refused" for t in targets[:-2]), outcome
    assert outcome["/tmp"] == outcome["/var/tmp"] == "planted"  # on the seed's own tmpfs
    assert not any(Path(t, "zz_golf_probe.pth").exists() for t in targets)


def _box_or_plain(tmp_path, limits):
    """The sandbox where bubblewrap runs, else the plain run the reference would get: the
    run-wide memory cap is the harness's own and holds in both."""
    return sandbox.plan([], [tmp_path], limits=limits, trusted=True)


def test_many_processes_each_under_the_process_cap_are_stopped_by_the_run_cap(tmp_path):
    """Four processes of 96 MiB each: every one is under the 256 MiB per-process cap, the run
    is over its 256 MiB run cap, and is killed within a few samples."""
    box = _box_or_plain(tmp_path, {"data": 256 << 20})
    code = (
        "import os, time\n"
        "for _ in range(3):\n"
        "    if os.fork() == 0: break\n"
        "block = bytearray(96 << 20)\n"
        "for i in range(0, len(block), 4096): block[i] = 1  # resident, not just reserved\n"
        "print('holding', flush=True)\n"
        "time.sleep(60)\n"
    )
    started = time.monotonic()
    res = run_in(box, code, tmp_path, tmp_path / "log", max_rss_bytes=256 << 20)
    assert res.memory_killed and not res.timed_out and res.returncode != 0
    assert res.peak_rss_bytes > 256 << 20 and time.monotonic() - started < 30
    assert res.survivors == []  # killed on purpose, with the group: not left running
