"""Canonical validation-split figures per tokenizer family (rules.md R-FULL-VAL, R-BPB-BYTES).

Two invariants catch most accounting bugs without rerunning anything:

* the validation token count of a full-split evaluation is one of a few known numbers per
  tokenizer family (the baseline may truncate to a multiple of the sequence length);
* the implied byte count ``B = val_loss / ln 2 * val_tokens / val_bpb`` is the UTF-8 byte
  count of the 50,000 validation documents, about 151.08 M whatever the tokenizer. All
  accepted record logs agree within +-0.005 %. A byte-LUT double count gives about x1.17.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Relative tolerance of the implied-byte invariant (rules.md R-BPB-BYTES).
BYTES_REL_TOL = 1e-4


@dataclass(frozen=True)
class Family:
    name: str
    val_tokens: tuple[int, ...]  # full-split counts seen in accepted logs
    val_bytes: tuple[int, ...]  # implied byte counts seen in accepted logs
    note: str = ""
    legacy: bool = False  # accepted once, not a valid split for new records


FAMILIES: tuple[Family, ...] = (
    Family(
        "sp1024",
        (62_021_632, 62_013_440, 61_997_056),
        (151_080_363, 151_079_963),
        "62,021,632 at seq 1024; 62,013,440 at 2048; 61,997,056 at 4096",
    ),
    Family("sp4096", (45_508_608, 45_514_752), (151_074_053, 151_074_924)),
    Family("sp8192", (40_540_160,), (151_078_222,)),
    Family("caseops-sp8192", (47_851_520,), (151_074_499,), "with the validation byte sidecar"),
    Family("byte260", (151_130_112,), ()),
    Family(
        "sp1024-prelaunch",
        (63_779_840,),
        (155_769_746,),
        "the pre-launch export used by the naive baseline",
        legacy=True,
    ),
)
BY_NAME = {f.name: f for f in FAMILIES}

# Known byte-accounting bug fingerprints: ratio of implied to canonical bytes.
BUG_FINGERPRINTS: tuple[tuple[float, float, str], ...] = (
    (
        1.15,
        1.19,
        "x1.17: the leading-space byte counted twice (byte-LUT double count, issue #1719)",
    ),
    (1.085, 1.095, "x1.09: CaseOps transformed bytes counted instead of the original bytes"),
    (1.03, 1.05, "x1.04: byte-fallback pieces counted as 3 bytes instead of 1 (Scylla, PR #1271)"),
)


def family_from_hints(
    tokenizer_path: str | None,
    dataset: str | None,
    caseops: bool = False,
    vocab_size: str | None = None,
) -> str | None:
    """Guess the tokenizer family from the paths and flags a log prints."""
    text = " ".join(x for x in (tokenizer_path, dataset) if x).lower()
    if caseops or "caseops" in text:
        return "caseops-sp8192"
    for size in ("8192", "4096", "1024"):
        if f"sp{size}" in text or f"_{size}_" in text or vocab_size == size:
            return f"sp{size}"
    if "byte260" in text or "byte" in text.split("_"):
        return "byte260"
    return None


def family_from_tokens(val_tokens: int | None) -> str | None:
    for fam in FAMILIES:
        if val_tokens in fam.val_tokens:
            return fam.name
    return None


def implied_bytes(val_loss: float, val_bpb: float, val_tokens: int) -> float | None:
    """``val_loss / ln 2 * val_tokens / val_bpb``: the byte count the score was divided by."""
    if not (val_bpb > 0 and math.isfinite(val_loss) and math.isfinite(val_bpb)):
        return None
    return val_loss / math.log(2) * val_tokens / val_bpb


def canonical_bytes(family: str | None) -> tuple[int, ...]:
    if family and family in BY_NAME and BY_NAME[family].val_bytes:
        return BY_NAME[family].val_bytes
    return tuple(b for f in FAMILIES for b in f.val_bytes)


def nearest_canonical(value: float, family: str | None) -> tuple[int, float]:
    """The canonical byte count closest to ``value`` and the relative deviation from it."""
    best = min(canonical_bytes(family), key=lambda b: abs(value / b - 1))
    return best, value / best - 1


def fingerprint(ratio: float) -> str | None:
    for lo, hi, text in BUG_FINGERPRINTS:
        if lo <= ratio <= hi:
            return text
    return None


def rounding_tolerance(loss_decimals: int, bpb_decimals: int, val_loss: float, val_bpb: float):
    """Relative error in the implied bytes that printing with few decimals alone can cause."""
    err = 0.0
    if val_loss:
        err += 0.5 * 10.0**-loss_decimals / abs(val_loss)
    if val_bpb:
        err += 0.5 * 10.0**-bpb_decimals / abs(val_bpb)
    return err
