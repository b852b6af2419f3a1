"""Errors that end a command with one clear line and exit code 2."""

from __future__ import annotations


class InputError(Exception):
    """Input golf-check cannot read or use: a missing file, malformed JSON, a bad shard header.

    The message is shown to the user as one line, so it should name the file and say what is
    wrong with it (and, where there is one, what to do).
    """


class UsageError(InputError):
    """A command-line combination that makes no sense (unknown rule id, bad seed list)."""
