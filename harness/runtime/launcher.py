"""Start one candidate process (tree), timestamp its output, watch it, and clean up after it.

The candidate runs in its own session (process group), with stdout and stderr merged into one
pipe. A reader thread stamps every line with the harness clock as it arrives and writes it to
the per-seed log, prefixed with the Unix time (``1776143501.933 <line>``, the prefix the
challenge's newer logs use). The main thread samples the resident memory of the process tree
and enforces the hard timeout by killing the whole group. Afterwards every process still
carrying this run's token in its environment (a daemon that left the group) is reported and
killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from array import array
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

TOKEN_VAR = "GOLF_CHECK_RUN_TOKEN"
_SAMPLE_S = 0.2
_GRACE_S = 5.0  # between SIGTERM and SIGKILL
KEEP_LINES = 2000  # lines kept in memory; a chatty candidate cannot exhaust it
_MAX_LINE = 1 << 20  # a longer line is read (and numbered) in 1 MiB pieces


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
) -> LaunchResult:
    env = dict(env, **{TOKEN_VAR: token})
    lines: deque[LogLine] = deque(maxlen=KEEP_LINES)
    times = array("d")
    wall_offset = time.time() - time.monotonic()
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
        )
    except OSError as exc:
        return LaunchResult(
            command, None, started, started, False, [], 0, wall_offset, [], f"cannot start: {exc}"
        )
    log = open(log_path, "w", encoding="utf-8")
    reader = threading.Thread(target=_read_lines, args=(proc, lines, times, log, wall_offset))
    reader.start()

    peak = 0
    timed_out = False
    deadline = started + timeout_s
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid, token))
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
    survivors = _sweep(token, proc.pid)
    _signal_group(proc.pid, signal.SIGKILL)  # anything left in the group
    reader.join(timeout=10)
    log.close()
    return LaunchResult(
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
    )


def _read_lines(
    proc: subprocess.Popen, lines: deque, times: array, log, wall_offset: float
) -> None:
    assert proc.stdout is not None
    for raw in iter(lambda: proc.stdout.readline(_MAX_LINE), b""):
        t = time.monotonic()
        text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        lines.append(LogLine(t, text))
        times.append(t)
        log.write(f"{t + wall_offset:.3f} {text}\n")
        log.flush()
    proc.stdout.close()


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


def _ppid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    # the command name may contain spaces and parentheses: fields follow the last ")"
    fields = stat[stat.rfind(b")") + 2 :].split()
    return int(fields[1]) if len(fields) > 1 else None


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


def _sweep(token: str, root: int) -> list[str]:
    """Kill and describe every process of this run still alive after its main process."""
    found = []
    me = os.getpid()
    for pid in _pids():
        if pid in (me, root) or not _has_token(pid, token):
            continue
        found.append(f"{pid} {_cmdline(pid)[:200]}")
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return found
