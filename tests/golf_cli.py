"""The golf-check command line started as a user starts it, in a subprocess: the one way the
tests that judge exit codes, error lines and printed output run it."""

from __future__ import annotations

import subprocess
import sys


def golf_check(*args, cwd=None, env=None, timeout: float = 120) -> subprocess.CompletedProcess:
    """``golf-check ARGS...`` (arguments made strings), its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "golf_check.harness", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )
