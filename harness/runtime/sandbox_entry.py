"""First program inside the candidate's namespaces: set them up, then run the candidate.

Run as ``python -S sandbox_entry.py [--net] [--all-ro] [--ro DIR | --rw DIR]... [--limit
NAME=N]... -- COMMAND...`` under ``unshare -r --net --mount --pid --fork --kill-child`` (or
with no namespace at all, where it only applies the limits). Standard library only, and
``-S`` keeps the audit shim out of this process.

* with --net, brings the loopback interface up (torchrun's rendezvous needs 127.0.0.1); the
  new network namespace has no other interface, so nothing else is reachable;
* with --all-ro, remounts every mount point read-only (the user's whole tree: home, other
  projects), except /proc, /sys, /dev and the --rw directories;
* bind-mounts each --ro directory read-only and each --rw directory writable, in the order
  given: the harness's own folder (logs, trace, reports) is bound read-only over the
  temporary space, and the candidate's working folder writable again inside it;
* as pid 1 of a new pid namespace it stays as a small init: it mounts a fresh /proc, starts
  the candidate in a nested user and mount namespace (the read-only mounts become locked: a
  remount read-write is refused) with no capabilities and ``no_new_privs``, reaps orphans,
  and when the candidate's main process exits it reports and kills every process left,
  which the kernel would do anyway when pid 1 exits;
* ``--limit`` sets resource limits (data, fsize, nofile, core) before the candidate starts.
"""

import ctypes
import fcntl
import json
import os
import resource
import signal
import socket
import struct
import sys
import time

SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000
PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 4, 38
CANDIDATE_UID = 1000  # the candidate's uid in its own user namespace: not root there
LIMITS = {
    "data": resource.RLIMIT_DATA,
    "fsize": resource.RLIMIT_FSIZE,
    "nofile": resource.RLIMIT_NOFILE,
    "core": resource.RLIMIT_CORE,
}
# statvfs flag -> mount flag that must be kept when remounting (user namespaces lock them)
_KEEP = {
    2: MS_NOSUID,
    4: MS_NODEV,
    8: MS_NOEXEC,
    1024: MS_NOATIME,
    2048: MS_NODIRATIME,
    4096: MS_RELATIME,
}


def loopback_up():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sH14s", b"lo", 0, b"\0" * 14)
        flags = struct.unpack("16sH", fcntl.ioctl(s, SIOCGIFFLAGS, ifreq)[:18])[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | IFF_UP, b"\0" * 14))


def _mount(libc, source, target, flags, fstype=None):
    src = source.encode() if source else None
    kind = fstype.encode() if fstype else None
    if libc.mount(src, target.encode(), kind, flags, None) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {target}: {os.strerror(err)}")


def bind(libc, path, readonly):
    _mount(libc, path, path, MS_BIND | MS_REC)
    keep = 0
    vfs_flags = os.statvfs(path).f_flag
    for st_flag, ms_flag in _KEEP.items():
        if vfs_flags & st_flag:
            keep |= ms_flag
    _mount(libc, None, path, MS_BIND | MS_REMOUNT | keep | (MS_RDONLY if readonly else 0))


# Kernel file systems and scratch space stay as they are when the whole tree is read-only.
_SYSTEM = ("/proc", "/sys", "/dev")


def mount_points():
    points = []
    with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            path = line.split()[4]
            # mountinfo escapes space, tab, newline and backslash as octal
            for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
                path = path.replace(code, char)
            points.append(path)
    return points


def _under(path, roots):
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def everything_readonly(libc, keep):
    """Remount every mount point read-only, except kernel file systems and ``keep``."""
    for point in mount_points():
        if _under(point, _SYSTEM) or _under(point, keep):
            continue
        try:
            flags = MS_BIND | MS_REMOUNT | MS_RDONLY
            vfs_flags = os.statvfs(point).f_flag
            for st_flag, ms_flag in _KEEP.items():
                if vfs_flags & st_flag:
                    flags |= ms_flag
            _mount(libc, None, point, flags)
        except OSError:
            pass  # a mount we may not touch; the protected folders are bound below anyway


def set_limits(limits):
    for name, value in limits:
        kind = LIMITS[name]
        hard = resource.getrlimit(kind)[1]
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(kind, (value, value))


def drop_privileges(libc):
    """Enter a nested user and mount namespace as an ordinary uid: the mounts made above are
    locked there (no remount read-write, no setns back), and the exec that follows leaves the
    candidate without capabilities."""
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"nested user namespace: {os.strerror(err)}")
    for name, text in (
        ("uid_map", f"{CANDIDATE_UID} {uid} 1\n"),
        ("setgroups", "deny\n"),
        ("gid_map", f"{CANDIDATE_UID} {gid} 1\n"),
    ):
        with open(f"/proc/self/{name}", "w") as fh:
            fh.write(text)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "no_new_privs")


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


def run_as_init(libc, command, limits, drop):
    """pid 1 of the candidate's pid namespace: start it, reap, sweep what it left."""
    try:
        _mount(libc, "proc", "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "proc")
        own_proc = True
    except OSError:
        own_proc = False  # the host's /proc: no sweep by listing, the kernel still kills all
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # the candidate (same host uid) cannot ptrace us
    child = os.fork()
    if child == 0:
        try:
            os.setpgid(0, 0)
            if drop:
                drop_privileges(libc)
            set_limits(limits)
            os.execvp(command[0], command)
        except OSError as exc:
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
    left = [f"{pid} {_cmdline(pid)[:200]}" for pid in _others()] if own_proc else []
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
    mounts, all_ro, net, limits, drop = [], False, False, [], False
    while argv and argv[0] != "--":
        flag = argv[0]
        if flag in ("--all-ro", "--net", "--drop"):
            all_ro |= flag == "--all-ro"
            net |= flag == "--net"
            drop |= flag == "--drop"
            argv = argv[1:]
            continue
        value, argv = argv[1], argv[2:]
        if flag == "--limit":
            name, _, number = value.partition("=")
            limits.append((name, int(number)))
        else:
            mounts.append((value, flag == "--ro"))
    command = argv[1:]
    libc = ctypes.CDLL(None, use_errno=True)
    if net:
        loopback_up()
    if mounts or all_ro:
        _mount(libc, None, "/", MS_REC | MS_PRIVATE)  # our mounts must not leak to the host
    if all_ro:
        everything_readonly(libc, keep=[p for p, ro in mounts if not ro])
    for path, readonly in mounts:
        bind(libc, path, readonly)
    # The working directory was entered before these mounts; entering it again by name puts
    # it (and every relative path) on the new mounts, not on the writable ones underneath.
    os.chdir(os.getcwd())
    if os.getpid() == 1:
        return run_as_init(libc, command, limits, drop)
    if drop:
        drop_privileges(libc)
    set_limits(limits)
    os.execvp(command[0], command)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except OSError as exc:
        print(f"golf-check sandbox: {exc}", file=sys.stderr)
        sys.exit(125)
