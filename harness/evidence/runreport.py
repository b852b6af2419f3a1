"""Read a ``golf-check run`` JSON report back as seeds, cross-checked with its logs.

The report's per-seed figures are what the harness measured (``source="measured"``); the
logs they reference are re-parsed and what the run printed is kept beside them
(``SeedEvidence.printed``) so the EVIDENCE.log-mismatch rule can compare the two.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from golf_check.harness import strictjson
from golf_check.harness.digest import file_sha256
from golf_check.harness.errors import InputError
from golf_check.harness.evidence.logparse import parse_log
from golf_check.harness.evidence.model import CONTRACT_KEYS, Claims, MeasuredSplit, SeedEvidence
from golf_check.harness.evidence.submission import plausible_number

# A run report of three seeds is tens of KB. Parsed JSON costs up to 30 times its size in
# memory (a list of empty objects), so the bound keeps a hostile report well under 1 GiB.
MAX_REPORT_BYTES = 8 * 1024 * 1024
MAX_REPORT_SEEDS = 256
_NUMBER_KEYS = ("val_bpb", "val_loss", "train_time_s", "eval_time_s")
_INT_KEYS = ("artifact_bytes", "val_tokens")


@dataclass
class RunReport:
    path: Path
    seeds: list[SeedEvidence] = field(default_factory=list)
    claims: Claims | None = None
    split: MeasuredSplit | None = None  # the run's own data, when not a canonical export
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def load_json_document(path: Path) -> Any:
    """Parse a JSON file with the size and encoding checks verify applies everywhere."""
    try:
        size = path.stat().st_size
        if size > MAX_REPORT_BYTES:
            raise InputError(f"{path}: {size:,} bytes is too large for a report")
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return strictjson.loads(raw.decode("utf-8-sig"))
    except strictjson.JSONNumberError as exc:
        raise InputError(f"{path}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise InputError(f"{path}: JSON nested too deeply") from None


def is_run_report(doc: Any) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get("seeds"), list) and "command" in doc


def read_run_report(path: Path, doc: dict[str, Any], headline: str | None = None) -> RunReport:
    if doc.get("command") != "run":
        raise InputError(f"{path}: a golf-check {doc.get('command')!r} report, not a run report")
    if len(doc["seeds"]) > MAX_REPORT_SEEDS:
        raise InputError(
            f"{path}: {len(doc['seeds']):,} seeds; a run report holds at most {MAX_REPORT_SEEDS}"
        )
    out = RunReport(path=path)
    base = path.resolve().parent
    for index, item in enumerate(doc["seeds"]):
        if not isinstance(item, dict):
            out.errors.append(f"{path}: seeds[{index}] is not an object")
            continue
        figures = dict(item)
        if isinstance(item.get("measured"), dict):
            figures.update(item["measured"])  # the harness's own measurement wins
        seed_value = item.get("seed")
        seed = SeedEvidence(
            seed=seed_value if isinstance(seed_value, int) else None,
            log=item.get("log") if isinstance(item.get("log"), str) else None,
            val_bpb=plausible_number(figures.get("val_bpb")),
            val_loss=plausible_number(figures.get("val_loss")),
            train_time_s=plausible_number(figures.get("train_time_s")),
            eval_time_s=plausible_number(figures.get("eval_time_s")),
            artifact_bytes=_int(figures.get("artifact_bytes")),
            val_tokens=_int(figures.get("val_tokens")),
            complete=bool(figures.get("complete", False)),
            hyperparameters=_str_dict(item.get("hyperparameters")),
            headline_kind=item.get("headline_kind")
            if isinstance(item.get("headline_kind"), str)
            else None,
            source="measured",
            seed_source="report",
            eval_time_basis="measured by the harness",
        )
        _check_digests(out, item.get("evidence"), base)
        if seed.log:
            _attach_log(out, seed, base, headline)
        out.seeds.append(seed)
    out.split = _measured_split(doc.get("run"))
    claimed = plausible_number(doc.get("claimed_val_bpb"))
    if claimed is not None:
        out.claims = Claims(val_bpb=claimed, val_bpb_key="claimed_val_bpb")
    return out


def _check_digests(out: RunReport, evidence: Any, base: Path) -> None:
    """The run report's own integrity: each file it quotes (log, trace) must still hash to
    the SHA-256 the harness recorded when it wrote it (``golf-check run``)."""
    if not isinstance(evidence, dict):
        return
    for entry in evidence.values():
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            continue
        expected, rel = entry.get("sha256"), Path(entry["path"])
        target = (base / rel).resolve()
        if not isinstance(expected, str) or rel.is_absolute() or not target.is_relative_to(base):
            continue
        if not target.is_file():
            continue  # a missing log is reported where the log is read
        if file_sha256(target) != expected:
            out.errors.append(
                f"{entry['path']}: changed since golf-check run wrote it (SHA-256 differs "
                "from the report's)"
            )


def _measured_split(run: Any) -> MeasuredSplit | None:
    """The validation split the harness loaded, when the run was not on a canonical export."""
    dataset = run.get("dataset") if isinstance(run, dict) else None
    if not isinstance(dataset, dict) or dataset.get("canonical") is not False:
        return None
    tokens = _int(dataset.get("val_tokens"))
    if not tokens:
        return None
    name = dataset.get("name") if isinstance(dataset.get("name"), str) else "measured split"
    return MeasuredSplit(
        tokens=tokens, target_bytes=_int(dataset.get("val_target_bytes")), name=name
    )


def _int(value: Any) -> int | None:
    number = plausible_number(value)
    return int(number) if number is not None and number == int(number) else None


def _str_dict(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def _attach_log(out: RunReport, seed: SeedEvidence, base: Path, headline: str | None) -> None:
    rel = Path(seed.log)
    target = (base / rel).resolve()
    if rel.is_absolute() or not target.is_relative_to(base):
        out.errors.append(f"{seed.log}: refusing a log path outside the report's folder")
        return
    if not target.is_file():
        out.notes.append(f"{seed.label}: log {seed.log} not found; measured figures only")
        return
    log = parse_log(target)
    printed = SeedEvidence.from_log(log, display_path=seed.log, headline=headline)
    seed.printed = {k: getattr(printed, k) for k in CONTRACT_KEYS if k not in ("seed", "log")}
    # Context the measurement does not carry comes from the log, never a gating figure.
    if not seed.hyperparameters:
        seed.hyperparameters = printed.hyperparameters
    seed.headline_kind = seed.headline_kind or printed.headline_kind
    seed.headline_line = printed.headline_line
    seed.loss_decimals, seed.bpb_decimals = printed.loss_decimals, printed.bpb_decimals
    seed.step_avg_ms = printed.step_avg_ms
    seed.gptq_hessian_s, seed.gptq_generate_s = printed.gptq_hessian_s, printed.gptq_generate_s
    seed.gptq_reserve_s = printed.gptq_reserve_s
    if seed.seed is None and printed.seed is not None:
        seed.seed, seed.seed_source = printed.seed, "log"
    if not seed.complete and printed.incomplete_reason:
        seed.incomplete_reason = printed.incomplete_reason
    missing = [k for k in _NUMBER_KEYS + _INT_KEYS if getattr(seed, k) is None]
    if missing:
        out.notes.append(f"{seed.label}: not measured by the harness: {', '.join(missing)}")
