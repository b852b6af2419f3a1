"""JSON as the standard defines it: no NaN or Infinity, no number that overflows a float, no
integer of absurd length. Python's ``json`` accepts all three (``val_bpb: NaN`` would then
pass every comparison silently); golf-check refuses them with a clear message."""

from __future__ import annotations

import json
import math
from typing import Any

MAX_INT_DIGITS = 100  # seeds, byte counts and step counts have a few dozen digits at most


class JSONNumberError(ValueError):
    """A number golf-check will not read: NaN, Infinity, an overflowing float, a huge int."""


def _reject_constant(name: str) -> Any:
    raise JSONNumberError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONNumberError(f"{text[:40]} overflows a 64-bit float")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise JSONNumberError(f"an integer of {len(text):,} digits is not a plausible value")
    return int(text)


def loads(text: str) -> Any:
    """``json.loads`` that raises ``JSONNumberError`` on NaN, Infinity, overflow and huge
    integers (and ``json.JSONDecodeError`` on malformed text, as usual)."""
    return json.loads(
        text, parse_constant=_reject_constant, parse_float=_finite_float, parse_int=_bounded_int
    )
