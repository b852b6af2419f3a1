"""Start one candidate process (tree), timestamp its output, watch it, and clean up after it.

The candidate runs in its own session (process group), with stdout and stderr merged into one
pipe. A reader thread stamps every line with the harness clock as it arrives and writes it to
the per-seed log, prefixed with the Unix time (``1776143501.933 <line>``, the prefix the
challenge's newer logs use), keeping a SHA-256 of every byte it wrote: the log lives in the
harness's folder, which the sandbox mounts read-only for the candidate, and the digest goes
into the report. The audit shim's events come over an inherited descriptor (a
``SOCK_SEQPACKET`` socket pair: one message per event, atomic across processes) that a
second thread reads live and copies to the harness's own trace file; nothing the candidate
can rewrite afterwards. The main thread samples the resident memory of the process tree and
enforces the hard timeout by killing the whole group. Afterwards every process left behind
is reported and killed: by the sandbox's init in its pid namespace (it sends the list over
the trace channel), and here by the run's token in the environment (no pid namespace).
"""

from __future__ import annotations

import hashlib
import json
import os
import selectors
import signal
import socket
import subprocess
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

TOKEN_VAR = "GOLF_CHECK_RUN_TOKEN"
_SAMPLE_S = 0.2
_GRACE_S = 5.0  # between SIGTERM and SIGKILL
KEEP_LINES = 2000  # lines kept in memory; a chatty candidate cannot exhaust it
_MAX_LINE = 1 << 20  # a longer line is read (and numbered) in 1 MiB pieces
MAX_LOG_BYTES = 1 << 30  # output kept in the log; past it, output is drained and counted
TRACE_FD_VAR = "GOLF_CHECK_TRACE_FD"
TRACE_SOCKET_VAR = "GOLF_CHECK_TRACE_SOCKET"
_MAX_EVENT = 1 << 20  # bytes per trace message; the shim sends far smaller ones
MAX_EVENTS = 2_000_000  # events kept; past that they are counted, not stored


@dataclass
class LogLine:
    t: float  # time.monotonic() when the harness read it
    text: str


@dataclass
class LaunchResult:
    command: list[str]
    returncode: int | None
    started: float  # monotonic
    ended: float  # monotonic, when the main process exited (or was killed)
    timed_out: bool
    lines: list[LogLine]  # the last KEEP_LINES lines (the whole output is in the log file)
    peak_rss_bytes: int
    wall_offset: float  # time.time() - time.monotonic(), to read file mtimes on our clock
    survivors: list[str] = field(default_factory=list)  # "pid cmdline" of leftover processes
    start_error: str | None = None
    line_times: array = field(default_factory=lambda: array("d"))  # every line's arrival
    log_sha256: str | None = None  # of the log file exactly as the harness wrote it
    log_bytes: int = 0
    trace_events: list[dict] | None = None  # None: no trace channel was opened
    trace_dropped: int = 0  # events past MAX_EVENTS
    trace_malformed: int = 0  # messages that were not a JSON object with a time
    log_dropped_bytes: int = 0  # output past max_log_bytes: read, counted, not kept
    memory_killed: bool = False  # the process tree's resident memory passed max_rss_bytes

    def time_of_line(self, number: int) -> float | None:
        """Harness time of line ``number`` (1-based, as in the log file)."""
        return self.line_times[number - 1] if 1 <= number <= len(self.line_times) else None

    @property
    def wall_s(self) -> float:
        return self.ended - self.started


def launch(
    command: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    log_path: Path,
    timeout_s: float,
    token: str,
    trace_path: Path | None = None,
    on_line: Callable[[float, str], None] | None = None,
    on_event: Callable[[dict], None] | None = None,
    max_log_bytes: int = MAX_LOG_BYTES,
    max_rss_bytes: int | None = None,
) -> LaunchResult:
    """Run ``command``; with ``trace_path``, open the trace channel (its descriptor number
    goes to the candidate in GOLF_CHECK_TRACE_FD) and copy every event there. ``on_line``
    and ``on_event`` see each line and event as it arrives (the progress display), from the
    reader threads; they must return quickly and never raise. At most ``max_log_bytes`` of
    output go into the log; the rest is drained and counted. With ``max_rss_bytes``, the
    whole tree is killed once its resident memory, sampled every 0.2 s, passes it: a cap on
    the run, where RLIMIT_DATA caps each process."""
    env = dict(env, **{TOKEN_VAR: token})
    lines: deque[LogLine] = deque(maxlen=KEEP_LINES)
    times = array("d")
    wall_offset = time.time() - time.monotonic()
    channel = ours = listener = None
    pass_fds: tuple[int, ...] = ()
    if trace_path is not None:
        ours, channel = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env[TRACE_FD_VAR] = str(channel.fileno())
        pass_fds = (channel.fileno(),)
        listener = _listen(trace_path.with_suffix(".sock"))
        if listener is not None:
            env[TRACE_SOCKET_VAR] = listener.getsockname()
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=pass_fds,
        )
    except OSError as exc:
        for sock in (ours, channel, listener):
            if sock is not None:
                sock.close()
        return LaunchResult(
            command, None, started, started, False, [], 0, wall_offset, [], f"cannot start: {exc}"
        )
    if channel is not None:
        channel.close()  # the candidate holds the only other end: EOF once it is all gone
    log = open(log_path, "wb")
    output = {"max": max_log_bytes, "written": 0, "dropped": 0}
    digest = hashlib.sha256()
    reader = threading.Thread(
        target=_read_lines,
        args=(proc, lines, times, log, wall_offset, digest, on_line, output),
    )
    reader.start()
    events: list[dict] = []
    counts = {"dropped": 0, "malformed": 0}
    tracer = None
    stop = threading.Event()
    if ours is not None and trace_path is not None:
        tracer = threading.Thread(
            target=_read_trace,
            args=(ours, listener, trace_path, events, counts, stop, on_event),
        )
        tracer.start()

    peak = 0
    timed_out = memory_killed = False
    deadline = started + timeout_s
    while proc.poll() is None:
        rss = _tree_rss(proc.pid, token)
        peak = max(peak, rss)
        if max_rss_bytes is not None and max_rss_bytes >= 0 and rss > max_rss_bytes:
            memory_killed = True
            _kill_group(proc)
            break
        if time.monotonic() > deadline:
            timed_out = True
            _kill_group(proc)
            break
        time.sleep(_SAMPLE_S)
    ended = time.monotonic()
    try:
        proc.wait(timeout=_GRACE_S + 5)
    except subprocess.TimeoutExpired:
        _signal_group(proc.pid, signal.SIGKILL)
        proc.wait()
    # after a timeout (or the memory cap) the whole group was killed on purpose: only a
    # process that left the group is a survivor, not a group member still dying under load
    survivors = _sweep(token, proc.pid, skip_group=timed_out or memory_killed)
    _signal_group(proc.pid, signal.SIGKILL)  # anything left in the group
    reader.join(timeout=10)
    log.close()
    if tracer is not None and ours is not None:
        stop.set()  # every process of the run is gone: read what is left, then stop
        tracer.join(timeout=15)
        ours.close()
        if listener is not None:
            listener.close()
            trace_path.with_suffix(".sock").unlink(missing_ok=True)
        for event in events:
            if event.get("ev") == "survivors" and isinstance(event.get("processes"), list):
                survivors += [str(p)[:240] for p in event["processes"]]
            elif event.get("ev") == "main_signal" and event.get("pid") == 1:
                signum = event.get("signal")
                if isinstance(signum, int) and proc.returncode == 128 + signum:
                    proc.returncode = -signum  # as if the sandbox's init were not there
    result = LaunchResult(
        command,
        proc.returncode,
        started,
        ended,
        timed_out,
        list(lines),
        peak,
        wall_offset,
        survivors,
        line_times=times,
        log_sha256=digest.hexdigest(),
        log_bytes=log_path.stat().st_size if log_path.is_file() else 0,
        log_dropped_bytes=output["dropped"],
        memory_killed=memory_killed,
    )
    if tracer is not None:
        result.trace_events = events
        result.trace_dropped, result.trace_malformed = counts["dropped"], counts["malformed"]
    return result


def _read_lines(
    proc: subprocess.Popen,
    lines: deque,
    times: array,
    log,
    wall_offset: float,
    digest,
    on_line,
    output: dict,
) -> None:
    assert proc.stdout is not None
    for raw in iter(lambda: proc.stdout.readline(_MAX_LINE), b""):
        if output["written"] >= output["max"]:
            # drained so the candidate never blocks on a full pipe, but not kept: endless
            # output cannot fill the disk or the harness's memory (line times included)
            output["dropped"] += len(raw)
            continue
        t = time.monotonic()
        text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        lines.append(LogLine(t, text))
        times.append(t)
        data = f"{t + wall_offset:.3f} {text}\n".encode("utf-8", errors="replace")
        digest.update(data)
        log.write(data)
        log.flush()
        output["written"] += len(data)
        if on_line is not None:
            on_line(t, text)
    proc.stdout.close()


def _listen(path: Path) -> socket.socket | None:
    """A listening socket in the harness's folder for Python processes that lost the inherited
    descriptor (a multiprocessing spawn child); None where the path is too long."""
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sock.bind(str(path))
        sock.listen(64)
        return sock
    except OSError:
        return None


def _read_trace(
    ours: socket.socket,
    listener: socket.socket | None,
    path: Path,
    events: list,
    counts: dict,
    stop: threading.Event,
    on_event: Callable[[dict], None] | None = None,
) -> None:
    """Every message on the trace channel (the inherited descriptor or a connection to the
    listening socket) is one event; keep them in arrival order until ``stop`` and silence."""
    chooser = selectors.DefaultSelector()
    chooser.register(ours, selectors.EVENT_READ)
    if listener is not None:
        chooser.register(listener, selectors.EVENT_READ)
    open_streams = {ours}
    with open(path, "wb") as out:
        while True:
            ready = chooser.select(timeout=0.2)
            if not ready and stop.is_set():
                break
            for key, _ in ready:
                sock = key.fileobj
                if sock is listener:
                    try:
                        conn, _ = listener.accept()
                    except OSError:
                        continue
                    chooser.register(conn, selectors.EVENT_READ)
                    open_streams.add(conn)
                    continue
                try:
                    data = sock.recv(_MAX_EVENT)
                except OSError:
                    data = b""
                if not data:
                    chooser.unregister(sock)
                    open_streams.discard(sock)
                    if sock is not ours:
                        sock.close()
                    continue
                event = _keep(data, out, events, counts)
                if event is not None and on_event is not None:
                    on_event(event)
    for sock in open_streams - {ours}:
        sock.close()
    chooser.close()


def _keep(data: bytes, out, events: list, counts: dict) -> dict | None:
    """Keep one message as an event; the event, or None when it was malformed."""
    try:
        event = json.loads(data)
    except (ValueError, RecursionError):
        counts["malformed"] += 1
        return None
    if not isinstance(event, dict) or not isinstance(event.get("t"), (int, float)):
        counts["malformed"] += 1
        return None
    event["t"] = float(event["t"])
    if len(events) >= MAX_EVENTS:
        counts["dropped"] += 1
        return event
    events.append(event)
    out.write(data.rstrip(b"\n") + b"\n")
    return event


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_group(proc: subprocess.Popen) -> None:
    _signal_group(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=_GRACE_S)
    except subprocess.TimeoutExpired:
        _signal_group(proc.pid, signal.SIGKILL)


# --------------------------------------------------------------------------- /proc


def _pids() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []


def _stat_field(pid: int, index: int) -> int | None:
    """A numeric field of ``/proc/<pid>/stat`` after the command name (1: parent pid,
    2: process group), or None when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    # the command name may contain spaces and parentheses: fields follow the last ")"
    fields = stat[stat.rfind(b")") + 2 :].split()
    return int(fields[index]) if len(fields) > index else None


def _ppid(pid: int) -> int | None:
    return _stat_field(pid, 1)


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _has_token(pid: int, token: str) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            return f"{TOKEN_VAR}={token}".encode() in fh.read().split(b"\0")
    except OSError:
        return False


def _tree_rss(root: int, token: str) -> int:
    """Resident memory of ``root`` and all its descendants (Linux; 0 elsewhere)."""
    pids = _pids()
    children: dict[int, list[int]] = {}
    for pid in pids:
        parent = _ppid(pid)
        if parent is not None:
            children.setdefault(parent, []).append(pid)
    total, stack, seen = 0, [root], set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += _rss_bytes(pid)
        stack.extend(children.get(pid, ()))
    return total


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return "?"


def _pgid(pid: int) -> int | None:
    return _stat_field(pid, 2)


def _pid_namespace(pid: int | str) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def _sweep(token: str, root: int, skip_group: bool = False) -> list[str]:
    """Kill and describe every process of this run still alive after its main process.
    With ``skip_group`` (the run was killed on purpose), members of the run's group and of
    the sandbox's pid namespace, which the kernel is still tearing down, are killed and not
    described: the sandbox's own init reports what outlived a main process that ended."""
    found = []
    me = os.getpid()
    ours = _pid_namespace("self")
    for pid in _pids():
        if pid in (me, root) or not _has_token(pid, token):
            continue
        if skip_group and _pgid(pid) == root:
            _signal_group(root, signal.SIGKILL)
            continue
        # in the sandbox's pid namespace after a deliberate kill: killed, not described
        torn_down = skip_group and _pid_namespace(pid) not in (ours, None)
        if not torn_down:
            found.append(f"{pid} {_cmdline(pid)[:200]}")
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return found
