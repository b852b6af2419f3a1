"""First program inside the candidate's sandbox: set the limits, run the candidate, sweep.

Run as ``python -S sandbox_entry.py [--limit NAME=N]... -- COMMAND...``, as pid 1 of the pid
namespace bubblewrap builds (``bwrap ... --as-pid-1``), or with no namespace at all where the
run has no sandbox (then it only applies the limits and execs). Standard library only, and
``-S`` keeps the audit shim out of this process.

* ``--limit`` sets resource limits (data, fsize, nproc, nofile, core) for the candidate;
* as pid 1 it stays as a small init: it starts the candidate in its own process group, makes
  itself undumpable (the candidate has the same uid and must not ptrace it), reaps orphans,
  and when the candidate's main process exits it reports every process still alive over the
  trace channel and kills it, which the kernel would do anyway when pid 1 exits.
"""

import ctypes
import json
import os
import resource
import signal
import sys
import time

PR_SET_DUMPABLE = 4
LIMITS = {
    "data": resource.RLIMIT_DATA,
    "fsize": resource.RLIMIT_FSIZE,
    "nproc": resource.RLIMIT_NPROC,
    "nofile": resource.RLIMIT_NOFILE,
    "core": resource.RLIMIT_CORE,
}


def set_limits(limits):
    for name, value in limits:
        kind = LIMITS[name]
        hard = resource.getrlimit(kind)[1]
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(kind, (value, value))


def _report(message):
    """One event on the trace channel the harness reads (when it gave us one)."""
    fd = os.environ.get("GOLF_CHECK_TRACE_FD")
    if not fd:
        return
    message = dict(message, t=time.monotonic(), pid=os.getpid())
    try:
        os.write(int(fd), json.dumps(message).encode()[:60000])
    except (OSError, ValueError):
        pass


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return "?"


def _alive(pid):
    """Not a zombie (an exited child not yet reaped has nothing left to run)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] != b"Z"


def _others():
    try:
        pids = sorted(int(n) for n in os.listdir("/proc") if n.isdigit() and int(n) != 1)
    except OSError:
        return []
    return [pid for pid in pids if _alive(pid)]


def run_as_init(command, limits):
    """pid 1 of the candidate's pid namespace: start it, reap, sweep what it left."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # the candidate (same uid) cannot ptrace us
    except (OSError, AttributeError):
        pass
    child = os.fork()
    if child == 0:
        try:
            os.setpgid(0, 0)
            set_limits(limits)
            os.execvp(command[0], command)
        except (OSError, ValueError) as exc:
            print(f"golf-check sandbox: {exc}", file=sys.stderr)
        os._exit(125)

    def forward(signum, _frame):
        try:
            os.kill(child, signum)
        except ProcessLookupError:
            pass

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, forward)
    status = None
    while status is None:
        try:
            pid, code = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if pid == child:
            status = code
    left = [f"{pid} {_cmdline(pid)[:200]}" for pid in _others()]
    if left:
        _report({"ev": "survivors", "processes": left[:50], "count": len(left)})
    try:
        os.kill(-1, signal.SIGKILL)  # every other process of this pid namespace
    except OSError:
        pass
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            break
        except InterruptedError:
            continue
    if status is None:
        return 125
    if os.WIFSIGNALED(status):
        # pid 1 cannot die of a signal it sends itself: the harness reads the signal here
        _report({"ev": "main_signal", "signal": os.WTERMSIG(status)})
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def main(argv):
    limits = []
    while argv and argv[0] != "--":
        if argv[0] != "--limit" or len(argv) < 2:
            raise SystemExit(f"golf-check sandbox: unknown option {argv[0]!r}")
        name, _, number = argv[1].partition("=")
        limits.append((name, int(number)))
        argv = argv[2:]
    command = argv[1:]
    if not command:
        raise SystemExit("golf-check sandbox: no command")
    if os.getpid() == 1:
        return run_as_init(command, limits)
    set_limits(limits)
    os.execvp(command[0], command)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (OSError, ValueError) as exc:
        print(f"golf-check sandbox: {exc}", file=sys.stderr)
        sys.exit(125)
