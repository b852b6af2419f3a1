"""First program inside the candidate's namespaces: set them up, then exec the candidate.

Run as ``python -S sandbox_entry.py [--ro DIR]... [--rw DIR]... -- COMMAND...`` under
``unshare --net --mount`` (or ``unshare -r -n -m`` without root). Standard library only, and
``-S`` keeps the audit shim out of this short-lived process.

* brings the loopback interface up (torchrun's rendezvous needs 127.0.0.1); the new network
  namespace has no other interface, so nothing else is reachable;
* with --all-ro, remounts every mount point read-only (the user's whole tree: home, other
  projects), except /proc, /sys, /dev and the --rw directories;
* bind-mounts each --ro directory read-only, then each --rw directory (usually inside an --ro
  one) writable again. The mounts live only in this mount namespace.
"""

import ctypes
import fcntl
import os
import socket
import struct
import sys

SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
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


def _mount(libc, source, target, flags):
    src = source.encode() if source else None
    if libc.mount(src, target.encode(), None, flags, None) != 0:
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


def main(argv):
    ro, rw, all_ro = [], [], False
    while argv and argv[0] != "--":
        if argv[0] == "--all-ro":
            all_ro, argv = True, argv[1:]
            continue
        flag, value, argv = argv[0], argv[1], argv[2:]
        (ro if flag == "--ro" else rw).append(value)
    command = argv[1:]
    loopback_up()
    libc = ctypes.CDLL(None, use_errno=True)
    _mount(libc, None, "/", MS_REC | MS_PRIVATE)  # our mounts must not leak to the host
    if all_ro:
        everything_readonly(libc, keep=rw)
    for path in ro:
        bind(libc, path, readonly=True)
    for path in rw:
        bind(libc, path, readonly=False)
    # The working directory was entered before these mounts; entering it again by name puts
    # it (and every relative path) on the new mounts, not on the writable ones underneath.
    os.chdir(os.getcwd())
    os.execvp(command[0], command)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except OSError as exc:
        print(f"golf-check sandbox: {exc}", file=sys.stderr)
        sys.exit(125)
