"""Errors that end a command with one clear line and exit code 2."""

from __future__ import annotations


class InputError(Exception):
    """Input golf-check cannot read or use: a missing file, malformed JSON, a bad shard header.

    The message is shown to the user as one line, so it should name the file and say what is
    wrong with it (and, where there is one, what to do).
    """


class UsageError(InputError):
    """A command-line combination that makes no sense (unknown rule id, bad seed list)."""


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
