"""Which evidence level a finding about one seed stands on."""

from __future__ import annotations


def seed_level(seed) -> str:
    """``runtime`` for a seed golf-check measured itself (``golf-check run``), ``log`` for
    one read from a record's logs."""
    return "runtime" if seed.source == "measured" else "log"
