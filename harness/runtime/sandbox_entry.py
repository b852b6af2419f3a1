"""First program inside the candidate's namespaces: set them up, then exec the candidate.

Run as ``python -S sandbox_entry.py [--ro DIR]... [--rw DIR]... -- COMMAND...`` under
``unshare --net --mount`` (or ``unshare -r -n -m`` without root). Standard library only, and
``-S`` keeps the audit shim out of this short-lived process.

* brings the loopback interface up (torchrun's rendezvous needs 127.0.0.1); the new network
  namespace has no other interface, so nothing else is reachable;
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


def main(argv):
    ro, rw = [], []
    while argv and argv[0] != "--":
        flag, value, argv = argv[0], argv[1], argv[2:]
        (ro if flag == "--ro" else rw).append(value)
    command = argv[1:]
    loopback_up()
    libc = ctypes.CDLL(None, use_errno=True)
    _mount(libc, None, "/", MS_REC | MS_PRIVATE)  # our mounts must not leak to the host
    for path in ro:
        bind(libc, path, readonly=True)
    for path in rw:
        bind(libc, path, readonly=False)
    os.execvp(command[0], command)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except OSError as exc:
        print(f"golf-check sandbox: {exc}", file=sys.stderr)
        sys.exit(125)
