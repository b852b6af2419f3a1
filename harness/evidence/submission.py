"""submission.json: load it safely, check it against the schema leniently, read its claims.

Real files vary a lot (rules.md section 7: 55 files, 39 key sets). Missing keys are
warnings with the exact fix; wrong types are errors; known anomalies (the bpb stored under
``val_loss``, ``mean_val_bpb`` instead of ``val_bpb``, per-seed results under ``seeds``)
are read correctly and reported.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from golf_check.harness import strictjson
from golf_check.harness.evidence.model import Claims

MAX_SUBMISSION_BYTES = 4 * 1024 * 1024
# A val_loss below this is a bpb figure: real per-token losses are about 1.8 nats or more.
BPB_LIKE_MAX = 1.6


def find_submission_file(folder: Path) -> Path | None:
    """submission.json, else the one ``submission*.json`` a record named otherwise (a merged
    record ships ``submission_ternary.json``); None when there is none or several."""
    exact = folder / "submission.json"
    if exact.exists() or exact.is_symlink():
        return exact
    variants = sorted(p for p in folder.glob("submission*.json") if p.is_file())
    return variants[0] if len(variants) == 1 else None


def submission_schema() -> dict[str, Any]:
    text = (
        resources.files("golf_check.harness").joinpath("schemas/submission.schema.json").read_text()
    )
    return json.loads(text)


def load_submission(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """Return (document, None) or (None, one-line reason it cannot be used)."""
    try:
        size = path.stat().st_size
        if size > MAX_SUBMISSION_BYTES:
            return None, f"{path.name}: {size:,} bytes, larger than any real submission.json"
        raw = path.read_bytes()
    except OSError as exc:
        return None, f"{path.name}: cannot read: {exc.strerror}"
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, f"{path.name}: not UTF-8 (byte {exc.start})"
    if not text.strip():
        return None, f"{path.name}: empty file"
    try:
        doc = strictjson.loads(text)
    except strictjson.JSONNumberError as exc:
        return None, f"{path.name}: {exc}"
    except json.JSONDecodeError as exc:
        return (
            None,
            f"{path.name}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
        )
    except RecursionError:
        return None, f"{path.name}: JSON nested too deeply"
    if not isinstance(doc, dict):
        return None, f"{path.name}: top level is a JSON {type(doc).__name__}, expected an object"
    return doc, None


@dataclass
class SchemaProblem:
    severity: str  # warning (missing key) | error (wrong type or value)
    key: str  # JSON path, e.g. "seed_results.42.val_bpb"
    message: str
    missing: tuple[str, ...] = ()  # keys of which one should be added


def schema_problems(doc: dict[str, Any]) -> list[SchemaProblem]:
    import jsonschema

    validator = jsonschema.Draft202012Validator(submission_schema())
    problems: list[SchemaProblem] = []
    for err in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.path))):
        where = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        if err.validator == "required":
            missing = [k for k in err.validator_value if k not in err.instance]
            for key in missing:
                problems.append(SchemaProblem("warning", key, f"missing key {key!r}", (key,)))
        elif err.validator == "anyOf" and all("required" in s for s in err.validator_value):
            options = tuple(k for s in err.validator_value for k in s["required"])
            problems.append(
                SchemaProblem(
                    "warning", options[0], f"missing one of {', '.join(options)}", options
                )
            )
        else:
            value = json.dumps(err.instance)[:60]
            problems.append(
                SchemaProblem("error", where, f"{where} = {value}: {_short(err.message)}")
            )
    return problems


def _short(message: str) -> str:
    return message if len(message) <= 120 else message[:117] + "..."


def _decimals(value: float) -> int:
    text = repr(float(value))
    if "e" in text or "." not in text:
        return 8
    return len(text.split(".")[1])


def plausible_number(value: Any) -> float | None:
    """A JSON number that can be a figure (finite, not a bool, of a sane size), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float is no plausible figure
        return None
    # Beyond 1e15 no figure (bpb, seconds, bytes, tokens) is plausible; it would overflow sums.
    return number if math.isfinite(number) and abs(number) < 1e15 else None


def _seed_key(key: Any) -> int | None:
    try:
        return int(str(key).strip())
    except ValueError:
        return None


def read_claims(doc: dict[str, Any]) -> Claims:
    """The figures the submission claims, wherever the historical files put them."""
    claims = Claims()
    bpb = plausible_number(doc.get("val_bpb"))
    if bpb is not None:
        claims.val_bpb, claims.val_bpb_key = bpb, "val_bpb"
    else:
        for key in ("mean_val_bpb", "mean_bpb"):
            if plausible_number(doc.get(key)) is not None:
                claims.val_bpb, claims.val_bpb_key = plausible_number(doc[key]), key
                break
    loss = plausible_number(doc.get("val_loss"))
    if loss is not None:
        if claims.val_bpb is None and loss < BPB_LIKE_MAX:
            claims.val_bpb, claims.val_bpb_key = loss, "val_loss"  # the bpb under val_loss
        else:
            claims.val_loss = loss
    if claims.val_loss is None:
        for key in ("mean_val_loss", "mean_val_loss_nats"):
            if plausible_number(doc.get(key)) is not None:
                claims.val_loss = plausible_number(doc[key])
                break
    if claims.val_bpb is not None:
        claims.val_bpb_decimals = _decimals(claims.val_bpb)
    if claims.val_loss is not None:
        claims.val_loss_decimals = _decimals(claims.val_loss)
    for key in ("val_bpb_std", "std_bpb", "std_val_bpb"):
        if plausible_number(doc.get(key)) is not None:
            claims.val_bpb_std, claims.val_bpb_std_key = plausible_number(doc[key]), key
            claims.val_bpb_std_decimals = _decimals(claims.val_bpb_std)
            break
    for key in ("bytes_total", "artifact_bytes_max", "artifact_bytes"):
        value = doc.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            claims.bytes_total = value
            break

    per_seed: dict[int, dict[str, Any]] = {}
    for key in ("seed_results", "seeds"):
        block = doc.get(key)
        if isinstance(block, dict):
            for seed_key, figures in block.items():
                seed = _seed_key(seed_key)
                if seed is not None and isinstance(figures, dict):
                    per_seed.setdefault(seed, _seed_figures(figures))
        elif isinstance(block, list):
            claims.seeds = [s for s in block if isinstance(s, int) and not isinstance(s, bool)]
    claims.per_seed = per_seed
    if not claims.seeds:
        claims.seeds = sorted(per_seed)
    return claims


def _seed_figures(figures: dict[str, Any]) -> dict[str, Any]:
    """Normalise one seed's claimed figures to the units ``SeedEvidence`` uses."""
    out: dict[str, Any] = {}
    for key in ("val_bpb", "val_loss"):
        if plausible_number(figures.get(key)) is not None:
            out[key] = plausible_number(figures[key])
    for key in ("artifact_bytes", "bytes_total"):
        if plausible_number(figures.get(key)) is not None:
            out["artifact_bytes"] = int(figures[key])
            break
    for stem in ("train_time", "eval_time"):
        if plausible_number(figures.get(f"{stem}_s")) is not None:
            out[f"{stem}_s"] = plausible_number(figures[f"{stem}_s"])
        elif plausible_number(figures.get(f"{stem}_ms")) is not None:
            out[f"{stem}_s"] = plausible_number(figures[f"{stem}_ms"]) / 1000.0
    return out
