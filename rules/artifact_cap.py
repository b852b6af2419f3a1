"""The artifact cap: code bytes plus compressed model bytes <= 16,000,000 (decimal) per seed.

Two independent readings: the cap-relevant size line of every log, and, when the folder
ships ``train_gpt.py`` (and a model file), the total recomputed from the files themselves:
the shipped script as-is (compressed wrappers included) plus every helper it loads from the
folder (``harness.static.codefiles.needed_code_files``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from harness.errors import InputError
from harness.evidence.model import EvidenceSet
from harness.report import Finding
from harness.rulebook import detector, rule

ARTIFACT_CAP_BYTES = 16_000_000
# Compressed model files a record folder may ship (never the raw fp32 final_model.pt).
MODEL_PATTERNS = ("*.ptz", "*.int6.pt", "*.int8.pt", "*.int8.ptz", "*.int6.ptz", "*.lrz")

ARTIFACT_CAP = rule(
    "BUDGET.artifact-cap",
    "BUDGET",
    "Code bytes plus compressed model bytes must not exceed 16,000,000 bytes for any seed",
    """
The cap is decimal 16,000,000 bytes (not 16 MiB) and applies to every seed's artifact:
the shipped code (train_gpt.py as committed, including LZMA/base85 self-extracting
wrappers, plus any helper module or kernel source it loads) and the compressed model.
golf-check reads the last tagged `Total submission size <quant>+<codec>: N bytes` line of
each log (the untagged `Total submission size: N` line of baseline-style scripts is the raw
fp32 state_dict plus code, not the cap figure) and, when the folder ships train_gpt.py, also
recomputes the code bytes from the files; when a model file is shipped too, the whole total.

Example:
    Total submission size quantized+brotli: 16071321 bytes    # 71,321 bytes over: fails
""",
    (
        "https://github.com/openai/parameter-golf/blob/main/README.md",
        "https://github.com/openai/parameter-golf/pull/1835",
        "https://github.com/openai/parameter-golf/pull/1399",
        "https://github.com/openai/parameter-golf/pull/1412",
    ),
)


@detector(ARTIFACT_CAP, level="log")
def artifact_over_cap(ev: EvidenceSet) -> Iterator[Finding]:
    level = "log"
    for seed in ev.seeds:
        level = "runtime" if seed.source == "measured" else "log"
        if seed.artifact_bytes is None:
            if not seed.complete:
                continue
            raw = (
                f"; the untagged total {seed.raw_total_bytes:,} is the raw fp total, "
                "not the cap figure"
                if seed.raw_total_bytes
                else ""
            )
            yield Finding.of(
                ARTIFACT_CAP,
                f"{seed.label}: no cap-relevant size line{raw}",
                severity="warning",
                confidence="medium",
                file=seed.log,
                level=level,
                fix="log `Total submission size <quant>+<codec>: N bytes` after serializing",
            )
            continue
        if seed.artifact_bytes > ARTIFACT_CAP_BYTES:
            yield Finding.of(
                ARTIFACT_CAP,
                f"{seed.label}: artifact is {seed.artifact_bytes:,} bytes, "
                f"{seed.artifact_bytes - ARTIFACT_CAP_BYTES:,} over the 16,000,000-byte cap",
                file=seed.log,
                line=seed.artifact_line,
                evidence=f"Total submission size {seed.artifact_tag or ''}: "
                f"{seed.artifact_bytes} bytes",
                level=level,
                fix="shrink the model or pack the code (16,000,000 is decimal, not 16 MiB)",
            )
    yield from _recomputed_from_files(ev)


def recompute_code(folder: Path) -> tuple[int, list[Path], list[str]] | None:
    """(code bytes, files counted, unresolved references) for ``folder/train_gpt.py``."""
    script = folder / "train_gpt.py"
    if not script.is_file():
        return None
    try:
        from harness.static.codefiles import needed_code_files

        needed = needed_code_files(script)
        return needed.total_bytes(), list(needed.files), list(needed.unresolved)
    except InputError as exc:  # the script cannot be parsed: count its bytes alone
        return script.stat().st_size, [script], [f"train_gpt.py: {exc}"]


def shipped_model(folder: Path) -> Path | None:
    found = sorted({p for pattern in MODEL_PATTERNS for p in folder.glob(pattern) if p.is_file()})
    return found[0] if found else None


def _recomputed_from_files(ev: EvidenceSet) -> Iterator[Finding]:
    if ev.folder is None:
        return
    code = ev._cache.get("recomputed_code")
    if code is None:
        code = recompute_code(ev.folder)
        ev._cache["recomputed_code"] = code
    if code is None:
        return
    code_bytes, files, unresolved = code
    model = shipped_model(ev.folder)
    names = ", ".join(p.name for p in files)
    if model is not None:
        total = code_bytes + model.stat().st_size
        if total > ARTIFACT_CAP_BYTES:
            yield Finding.of(
                ARTIFACT_CAP,
                f"recomputed from the files: {total:,} bytes ({names}: {code_bytes:,}; "
                f"{model.name}: {model.stat().st_size:,}), "
                f"{total - ARTIFACT_CAP_BYTES:,} over the cap",
                file=model.name,
                evidence=f"code {code_bytes} + model {model.stat().st_size}",
                fix="shrink the model or the code; every shipped code file counts",
            )
        return
    for seed in ev.seeds:
        if seed.model_bytes is None or seed.code_bytes is None:
            continue
        if code_bytes <= seed.code_bytes:
            continue
        total = seed.model_bytes + code_bytes
        over = total > ARTIFACT_CAP_BYTES
        yield Finding.of(
            ARTIFACT_CAP,
            f"{seed.label}: the log counts {seed.code_bytes:,} code bytes but the folder's "
            f"code ({names}) is {code_bytes:,} bytes; with the logged model "
            f"{seed.model_bytes:,} bytes the artifact is {total:,} bytes"
            + (f", {total - ARTIFACT_CAP_BYTES:,} over the cap" if over else ""),
            severity="error" if over else "warning",
            file=seed.log,
            evidence=f"logged code {seed.code_bytes}; shipped code {code_bytes}",
            fix="count every code file the run needs (or fold the helpers into train_gpt.py)",
        )
    for ref in unresolved[:5]:
        yield Finding.of(
            ARTIFACT_CAP,
            f"code the run may need could not be counted: {ref}",
            severity="info",
            confidence="medium",
            file="train_gpt.py",
        )
