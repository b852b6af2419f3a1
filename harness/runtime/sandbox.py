"""How the candidate is fenced off: no network, the user's files read-only.

On Linux the candidate runs in new network and mount namespaces (``unshare``; with ``-r``, a
user namespace, when golf-check is not root). ``sandbox_entry.py`` brings the loopback up,
remounts the whole file system read-only (the user's home and other projects included) and
makes only the run's folder and the temporary directories writable again; the protected
directories are also bound read-only explicitly, in case a mount could not be remounted. Where namespaces cannot be
created (macOS, containers without user namespaces), the run falls back to the audit shim:
it refuses non-loopback network calls and writes to the protected directories, which a
determined program could bypass; the report says so.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ENTRY = Path(__file__).with_name("sandbox_entry.py")


@dataclass
class Sandbox:
    prefix: list[str]  # put before the candidate's command line
    network: str  # "namespace" | "audit-hook"
    files: str  # how the user's files are protected
    block_in_process: bool  # the shim must refuse network calls itself
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return f"network: {self.network}; user files: {self.files}"


@functools.lru_cache(maxsize=1)
def _unshare_flags() -> tuple[list[str] | None, str]:
    """The unshare flags and entry options that work here (probed once, strongest first),
    or None and why not. The last word of the flags is the entry's privilege option."""
    if not sys.platform.startswith("linux"):
        return None, f"network namespaces are Linux-only (platform {sys.platform})"
    unshare = shutil.which("unshare")
    if unshare is None:
        return None, "the unshare program (util-linux) is not installed"
    pid = ["--pid", "--fork", "--kill-child"]
    candidates = [
        [unshare, "-r", "--net", "--mount", *pid, "--drop"],
        [unshare, "-r", "--net", "--mount", "--drop"],
    ]
    if os.geteuid() == 0:  # a container that allows namespaces to root but no user namespace
        candidates.append([unshare, "--net", "--mount", *pid, "--keep-privileges"])
    reason = "unshare failed"
    for flags in candidates:
        entry = ["--drop"] if flags[-1] == "--drop" else []
        probe = [sys.executable, "-S", str(ENTRY), "--net", *entry, "--", "true"]
        try:
            done = subprocess.run(flags[:-1] + probe, capture_output=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired) as exc:
            reason = f"unshare failed: {exc}"
            continue
        if done.returncode == 0:
            return flags, ""
        reason = (done.stderr.decode(errors="replace").strip() or "unshare failed").splitlines()[-1]
    return None, reason


GIB = 1 << 30


def default_limits() -> dict[str, int]:
    """Per-process limits for the candidate: private memory (RLIMIT_DATA: CUDA's address
    space reservations are not counted, so GPUs keep working) at 80% of this machine's RAM,
    8 GiB per written file, no core dumps. ``--memory-limit`` and ``--file-limit`` change
    them; RLIMIT_NPROC is not set: it counts every process of the user's uid on the machine,
    the harness's and the user's own included."""
    limits = {"fsize": 8 * GIB, "core": 0}
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        limits["data"] = int(ram * 0.8)
    except (ValueError, OSError, AttributeError):
        pass
    return limits


def limit_args(limits: dict[str, int] | None) -> list[str]:
    args: list[str] = []
    for name, value in (limits or {}).items():
        if value is not None and value >= 0:
            args += ["--limit", f"{name}={int(value)}"]
    return args


def plan(
    readonly: list[Path],
    writable: list[Path],
    enabled: bool = True,
    harness_owned: list[Path] | None = None,
    limits: dict[str, int] | None = None,
) -> Sandbox:
    """The sandbox for one run: ``readonly`` directories are protected, ``harness_owned``
    ones (the run's output folder) are read-only to the candidate even inside the temporary
    space, and ``writable`` ones (the candidate's working folders, inside them) stay
    writable. ``limits`` are resource limits by name (data, fsize, nofile, core)."""
    plain = [sys.executable, "-S", str(ENTRY), *limit_args(limits), "--"]
    if not enabled:
        return Sandbox(
            plain,
            "audit-hook",
            "audit-hook",
            True,
            ["sandbox disabled (--no-sandbox): network and file protection by audit hooks only"],
        )
    flags, reason = _unshare_flags()
    if flags is None:
        return Sandbox(
            plain,
            "audit-hook",
            "audit-hook",
            True,
            [
                f"no network namespace ({reason}): network calls and writes to protected paths "
                "are refused by audit hooks inside the candidate, which native code can bypass"
            ],
        )
    flags, privileges = flags[:-1], flags[-1]
    entry = ["--drop"] if privileges == "--drop" else []
    prefix = [*flags, sys.executable, "-S", str(ENTRY), "--net", *entry, "--all-ro"]
    prefix += limit_args(limits)
    for path in _outermost(readonly):
        prefix += ["--ro", str(path)]
    scratch = [Path(tempfile.gettempdir()), Path("/var/tmp")]
    # Mounts apply in order. Scratch first: a later bind of /tmp would cover a run folder
    # that lives inside it; then the harness's folder read-only, the working folders in it.
    for path in (p.resolve() for p in scratch if p.is_dir()):
        prefix += ["--rw", str(path)]
    for path in harness_owned or []:
        prefix += ["--ro", str(path.resolve())]
    for path in writable:
        prefix += ["--rw", str(path)]
    prefix.append("--")
    files = "whole file system read-only except the working folder and temporary space"
    notes = []
    if "--pid" not in flags:
        notes.append("no pid namespace: leftover processes are found by their environment")
    if not entry:
        notes.append(
            "no user namespace: the candidate keeps root's capabilities inside the sandbox "
            "and could undo it (remount, setns)"
        )
    return Sandbox(prefix, "namespace", files, False, notes)


def _outermost(paths: list[Path]) -> list[Path]:
    """Existing directories, without those already inside another one of the list."""
    resolved = sorted({p.resolve() for p in paths if p.is_dir()}, key=lambda p: len(p.parts))
    out: list[Path] = []
    for path in resolved:
        if not any(path == o or o in path.parents for o in out):
            out.append(path)
    return out
