"""How the candidate is fenced off: bubblewrap namespaces, a read-only world, resource limits.

The sandbox is bubblewrap (``bwrap``): Debian-packaged, the tool Flatpak is built on, a small
C program reviewed for exactly this job, and setuid-free wherever unprivileged user
namespaces are allowed. It gives the candidate new user, pid, network (loopback only), mount,
IPC and UTS namespaces, uid 1000 without capabilities and with ``no_new_privs``, no further
user namespaces, and a view of the file system that is read-only except for the run's three
writable folders and size-capped tmpfs scratch space (``/tmp``, ``/var/tmp``, ``/dev/shm``).
GPU device nodes are passed through when present. ``sandbox_entry.py`` runs inside as pid 1:
it sets the resource limits, starts the candidate, and reports and kills whatever outlives it.

Where bubblewrap is missing or cannot create its namespaces, an untrusted script is refused
(``golf-check run`` exits 2) unless the user passes ``--no-sandbox``; the bundled reference,
which golf-check ships and trusts, then runs without namespaces, under the audit hooks and the
same resource limits, and the report says so.
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ENTRY = Path(__file__).with_name("sandbox_entry.py")
CANDIDATE_UID = 1000  # the candidate's uid inside its user namespace: not root there
GIB = 1 << 30
RLIMITS = ("data", "fsize", "nproc", "nofile", "core")  # what sandbox_entry sets
# Scratch space the candidate gets as fresh tmpfs mounts, capped by ``--tmp-limit`` each.
SCRATCH = ("/tmp", "/var/tmp", "/dev/shm")
# Host folders hidden behind an empty tmpfs: /run holds the host's service sockets (docker,
# dbus), which a read-only mount does not stop a process from connecting to.
HIDDEN = ("/run",)
# Global kernel knobs under /proc, bound read-only over the sandbox's own /proc.
PROC_READONLY = ("sys", "sysrq-trigger", "irq", "bus", "pressure")
# GPU device nodes (NVIDIA and the DRM render nodes) passed through when they exist.
GPU_DEVICES = ("/dev/nvidia*", "/dev/nvidia-caps", "/dev/dri")


class SandboxUnavailable(Exception):
    """bubblewrap is missing or cannot build its namespaces on this machine."""


@dataclass
class Sandbox:
    prefix: list[str]  # put before the candidate's command line
    network: str  # "namespace" | "audit-hook"
    files: str  # how the user's files are protected
    block_in_process: bool  # the shim must refuse network calls itself
    notes: list[str] = field(default_factory=list)  # each one is a weaker guarantee
    limits: dict[str, int] = field(default_factory=dict)  # what sandbox_entry applies
    caveats: list[str] = field(default_factory=list)  # said in the report, not findings

    @property
    def pid_namespace(self) -> bool:
        """Whether the candidate has its own pid namespace, so nothing outlives it."""
        return self.network == "namespace"

    def describe(self) -> str:
        text = f"network: {self.network}; user files: {self.files}"
        shown = [_limit_text(k, v) for k, v in self.limits.items() if k in _LIMIT_NAMES]
        shown = [s for s in shown if s]
        if shown:
            text += "; limits: " + ", ".join(shown)
        return "; ".join([text, *self.caveats])


_LIMIT_NAMES = {
    "rss": "memory/run",
    "data": "memory/process",
    "nproc": "tasks",
    "fsize": "file",
    "tmp": "tmpfs",
}


def _limit_text(name: str, value: int | None) -> str:
    if value is None or value < 0:
        return ""
    if name == "nproc":
        return f"{value} {_LIMIT_NAMES[name]}"
    return f"{_LIMIT_NAMES[name]} {value / GIB:.3g} GiB"


@functools.lru_cache(maxsize=4)
def bwrap_features(bwrap: str) -> frozenset[str]:
    """Options of this bubblewrap that not every packaged version has: ``--size`` (0.7) and
    ``--disable-userns`` (0.8); Ubuntu 22.04 ships 0.6."""
    try:
        text = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    return frozenset(o for o in ("--size", "--disable-userns") if o in text.stdout + text.stderr)


def _bwrap_base(bwrap: str) -> list[str]:
    """The namespace and privilege part of the bwrap command line, before any mount."""
    nested = ["--disable-userns"] if "--disable-userns" in bwrap_features(bwrap) else []
    return [
        bwrap,
        "--unshare-all",  # user, ipc, pid, net, uts, cgroup: the net one has only loopback
        "--unshare-user",  # also as root: the candidate must not hold host root's capabilities
        "--uid",
        str(CANDIDATE_UID),
        "--gid",
        str(CANDIDATE_UID),
        *nested,  # no nested user namespace, so no capabilities anywhere
        "--cap-drop",
        "ALL",
        "--die-with-parent",  # killed with the harness
        "--new-session",  # no TIOCSTI into the harness's terminal
        "--as-pid-1",  # sandbox_entry is the namespace's init and sweeps what is left
    ]


@functools.lru_cache(maxsize=1)
def bwrap_status() -> tuple[str | None, str]:
    """The bwrap program if it can build the sandbox here (probed once), else None and why."""
    if not sys.platform.startswith("linux"):
        return None, f"bubblewrap needs Linux namespaces (platform {sys.platform})"
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return None, "bubblewrap (bwrap) is not installed"
    probe = [*_bwrap_base(bwrap), "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev"]
    probe += ["--", sys.executable, "-S", str(ENTRY), "--", "true"]
    try:
        done = subprocess.run(probe, capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"bubblewrap failed: {exc}"
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip().splitlines()
        return None, f"bubblewrap cannot create its namespaces here: {err[-1] if err else '?'}"
    return bwrap, ""


def default_limits() -> dict[str, int]:
    """Limits for the candidate: private memory per process (RLIMIT_DATA: CUDA's address
    space reservations are not counted, so GPUs keep working) at 80% of this machine's RAM,
    8 GiB per written file, 16384 tasks (processes and threads) of the candidate's uid in its
    user namespace, 8 GiB (at most 1/8 of RAM) per tmpfs scratch mount, no core dumps; and
    90% of RAM resident for the whole process tree, which the launcher enforces by sampling
    (no cgroup here).
    ``--memory-limit``, ``--run-memory-limit``, ``--file-limit``, ``--process-limit`` and
    ``--tmp-limit`` change them."""
    limits = {"fsize": 8 * GIB, "core": 0, "nproc": 16384, "tmp": 8 * GIB}
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        limits["data"] = int(ram * 0.8)
        limits["rss"] = int(ram * 0.9)
        limits["tmp"] = min(limits["tmp"], ram // 8)  # tmpfs pages are RAM: three of them
    except (ValueError, OSError, AttributeError):
        pass
    return limits


def limit_args(limits: dict[str, int] | None) -> list[str]:
    """sandbox_entry's options for the rlimits among ``limits`` (a negative value: none)."""
    args: list[str] = []
    for name, value in (limits or {}).items():
        if name in RLIMITS and value is not None and value >= 0:
            args += ["--limit", f"{name}={int(value)}"]
    return args


def plan(
    readonly: list[Path],
    writable: list[Path],
    enabled: bool = True,
    harness_owned: list[Path] | None = None,
    limits: dict[str, int] | None = None,
    trusted: bool = False,
) -> Sandbox:
    """The sandbox for one run. ``readonly`` folders are the user's (data, script, the folder
    golf-check was started from), ``harness_owned`` ones (the run's output folder) are the
    harness's, and ``writable`` ones (the candidate's working folders, inside them) are the
    only places outside scratch space the candidate may write. ``limits`` are by name (data,
    fsize, nproc, nofile, core, tmp). Without bubblewrap, an untrusted run raises
    ``SandboxUnavailable``; a ``trusted`` one (the bundled reference) runs without namespaces."""
    limits = dict(limits or {})
    # sandbox_entry with the rlimits: the whole prefix without bubblewrap, its tail with it
    entry = [sys.executable, "-S", str(ENTRY), *limit_args(limits), "--"]
    if not enabled:
        note = "sandbox disabled (--no-sandbox): network and file protection by audit hooks only"
        return Sandbox(entry, "audit-hook", "audit-hook", True, [note], limits)
    bwrap, reason = bwrap_status()
    if bwrap is None:
        if not trusted:
            raise SandboxUnavailable(reason)
        note = (
            f"no sandbox ({reason}): the bundled reference ran under audit hooks only, which "
            "refuse network calls and writes to protected paths from Python"
        )
        return Sandbox(entry, "audit-hook", "audit-hook", True, [note], limits)
    features = bwrap_features(bwrap)
    if "--size" not in features:
        limits.pop("tmp", None)
    mounts = mount_args(readonly, writable, harness_owned or [], limits)
    prefix = [*_bwrap_base(bwrap), *mounts, "--", *entry]
    files = "bubblewrap, all read-only but the working folders and capped tmpfs scratch"
    caveats = []
    if os.geteuid() == 0 and limits.get("nproc", -1) >= 0:
        # The kernel exempts processes whose real uid is host root from RLIMIT_NPROC, user
        # namespace or not; bwrap maps the candidate's uid 1000 onto golf-check's own uid.
        caveats.append("task limit not applied: golf-check runs as root (run as a user)")
    if "--size" not in features:
        caveats.append("scratch tmpfs not size-capped (bubblewrap before 0.7)")
    if "--disable-userns" not in features:
        # the mounts stay locked read-only in a nested namespace; it is one door less
        caveats.append("nested user namespaces allowed (bubblewrap before 0.8)")
    return Sandbox(prefix, "namespace", files, False, [], limits, caveats)


def mount_args(
    readonly: list[Path], writable: list[Path], harness_owned: list[Path], limits: dict[str, int]
) -> list[str]:
    """bwrap's mount options, in the order they apply (a later mount covers an earlier one)."""
    args = ["--ro-bind", "/", "/", "--proc", "/proc"]
    # Kernel settings read-only: run as root, the candidate's host uid is 0, and /proc/sys
    # files check that uid, not capabilities (core_pattern would run a program as host root).
    # bwrap covers some of these only where it finds them writable to itself.
    for sub in PROC_READONLY:
        args += ["--ro-bind-try", f"/proc/{sub}", f"/proc/{sub}"]
    args += ["--dev", "/dev"]
    for pattern in GPU_DEVICES:
        for node in sorted(glob.glob(pattern)):
            args += ["--dev-bind", node, node]
    size = limits.get("tmp", -1)
    masked = [*SCRATCH, *HIDDEN]
    tmpdir = str(Path(tempfile.gettempdir()).resolve())
    if tmpdir not in masked and tmpdir != "/":
        masked.append(tmpdir)  # TMPDIR elsewhere: the candidate's tempfile writes go there
    for path in masked:
        if os.path.isdir(path) and not os.path.islink(path):
            if path not in HIDDEN and size is not None and size >= 0:
                args += ["--size", str(int(size))]
            args += ["--tmpfs", path]
            if path not in HIDDEN:
                args += ["--chmod", "1777", path]
    # What the candidate must still see under a masked folder: the interpreter, golf-check
    # (its shim), the user's folders and what their links point to, at their own paths.
    under = [Path(p) for p in masked]
    needed = [*readonly, *_links_out_of(readonly), *_interpreter_paths()]
    for path in _outermost([p for p in needed if _inside(p, under)]):
        args += ["--ro-bind", str(path), str(path)]
    for path in _outermost(harness_owned):
        args += ["--ro-bind", str(path), str(path)]
    for path in writable:
        path = path.resolve()
        args += ["--bind", str(path), str(path)]
    return args


def _interpreter_paths() -> list[Path]:
    """Where this Python and golf-check live: the candidate runs the same interpreter."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(sys.executable)}
    paths.update(p for p in sys.path if p)
    paths.add(str(Path(__file__).resolve().parents[2]))
    return [Path(p).resolve() for p in paths]


def _links_out_of(folders: list[Path]) -> list[Path]:
    """Folders that symbolic links directly inside ``folders`` point into (a data folder whose
    training shards are links to the original ones)."""
    out = set()
    for folder in folders:
        try:
            entries = list(folder.iterdir()) if folder.is_dir() else []
        except OSError:
            continue
        for entry in entries[:10000]:
            if entry.is_symlink():
                out.add(entry.resolve().parent)
    return sorted(out)


def _inside(path: Path, roots: list[Path]) -> bool:
    path = path.resolve()
    return any(path == r or r in path.parents for r in roots)


def _outermost(paths: list[Path]) -> list[Path]:
    """Existing directories, without those already inside another one of the list."""
    resolved = sorted({p.resolve() for p in paths if p.is_dir()}, key=lambda p: len(p.parts))
    out: list[Path] = []
    for path in resolved:
        if not _inside(path, out):
            out.append(path)
    return out


def refusal(reason: str) -> str:
    """The one line ``golf-check run`` prints when it will not run an untrusted script."""
    return (
        f"{reason}; golf-check run needs it to sandbox an untrusted script: install bubblewrap "
        "(apt-get install bubblewrap) or pass --no-sandbox to run it under audit hooks only"
    )
