"""Which optional extras a command needs: `run` and `data` want what the core install leaves
out, and refuse with one clear line when it is missing."""

from __future__ import annotations

from golf_check.harness.errors import InputError

# What `run` and `data` import that the core install leaves out (the `run` extra).
RUN_EXTRA_MODULES = ("torch", "sentencepiece")


def require_run_extra(command: str) -> None:
    """Refuse a command that needs torch and sentencepiece when they are not installed."""
    import importlib.util

    def absent(name: str) -> bool:
        try:
            return importlib.util.find_spec(name) is None
        except (ImportError, ValueError):  # a broken or blocked install counts as absent
            return True

    missing = [name for name in RUN_EXTRA_MODULES if absent(name)]
    if missing:
        raise InputError(
            f"golf-check {command} needs {' and '.join(missing)}, which the core install "
            "leaves out: pip install 'golf-check[run]'"
        )
