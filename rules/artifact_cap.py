"""The artifact cap: code bytes plus compressed model bytes <= 16,000,000 (decimal) per seed.

Two independent readings: the cap-relevant size line of every log, and, when the folder
ships ``train_gpt.py`` (and a model file), the total recomputed from the files themselves:
the shipped script as-is (compressed wrappers included) plus every helper it loads from the
folder (``harness.static.codefiles.needed_code_files``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from golf_check.harness.challenge import ARTIFACT_CAP_BYTES
from golf_check.harness.errors import InputError
from golf_check.harness.evidence.codesize import CodeCount, detect_convention
from golf_check.harness.evidence.codesize import recompute_code as recompute_code_as
from golf_check.harness.evidence.levels import seed_finding
from golf_check.harness.evidence.model import EvidenceSet
from golf_check.harness.report import Finding
from golf_check.harness.rulebook import detector, rule

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
    """Each seed's logged artifact size against the 16,000,000-byte cap, recomputed from the
    shipped model and counted code where the folder has them; a complete log without a size line
    is reported too."""
    code = _shipped_code(ev)
    model = shipped_model(ev.folder) if ev.folder is not None and code is not None else None
    if model is not None:
        yield from _whole_artifact_from_files(code, model)
    for seed in ev.seeds:
        if seed.artifact_bytes is None:
            if seed.complete:
                yield _no_size_line(seed)
            continue
        counted = _counted_code(ev, seed) if code is not None and model is None else None
        if counted is not None and seed.model_bytes is not None:
            recomputed = seed.model_bytes + counted.bytes
            if recomputed != seed.artifact_bytes:
                yield from _logged_vs_recomputed(seed, recomputed, counted)
                continue
        if seed.artifact_bytes > ARTIFACT_CAP_BYTES:
            yield _over_cap(seed, seed.artifact_bytes)
    if code is not None:
        for ref in code[2][:5]:
            yield Finding.of(
                ARTIFACT_CAP,
                f"code the run may need could not be counted: {ref}",
                severity="info",
                confidence="medium",
                file="train_gpt.py",
                line=1,
            )


def recompute_code(folder: Path) -> tuple[int, list[Path], list[str]] | None:
    """(code bytes, files counted, unresolved references) for ``folder/train_gpt.py``."""
    script = folder / "train_gpt.py"
    if not script.is_file():
        return None
    try:
        from golf_check.harness.static.codefiles import needed_code_files

        needed = needed_code_files(script)
        return needed.total_bytes(), list(needed.files), list(needed.unresolved)
    except InputError as exc:  # the script cannot be parsed: count its bytes alone
        return script.stat().st_size, [script], [f"train_gpt.py: {exc}"]


def _counted_code(ev: EvidenceSet, seed) -> CodeCount | None:
    """The folder's code counted the way this seed's log counted it (cached per convention)."""
    code = _shipped_code(ev)
    if code is None or ev.folder is None:
        return None
    key = f"counted_code:{seed.code_bytes_compressed}"
    if key not in ev._cache:
        script = ev.folder / "train_gpt.py"
        convention = detect_convention(script, seed.code_bytes_compressed)
        counted = recompute_code_as(script, convention, [p for p in code[1] if p != script])
        counted.unresolved = list(code[2])
        ev._cache[key] = counted
    return ev._cache[key]


def shipped_model(folder: Path) -> Path | None:
    found = sorted({p for pattern in MODEL_PATTERNS for p in folder.glob(pattern) if p.is_file()})
    return found[0] if found else None


def _shipped_code(ev: EvidenceSet):
    if ev.folder is None:
        return None
    if "recomputed_code" not in ev._cache:
        ev._cache["recomputed_code"] = recompute_code(ev.folder)
    return ev._cache["recomputed_code"]


def _no_size_line(seed) -> Finding:
    raw = (
        f"; the untagged total {seed.raw_total_bytes:,} is the raw fp total, not the cap figure"
        if seed.raw_total_bytes
        else ""
    )
    return seed_finding(
        ARTIFACT_CAP,
        seed,
        f"no cap-relevant size line{raw}",
        severity="warning",
        confidence="medium",
        fix="log `Total submission size <quant>+<codec>: N bytes` after serializing",
    )


def _whole_artifact_from_files(code, model: Path) -> Iterator[Finding]:
    code_bytes, files, _ = code
    total = code_bytes + model.stat().st_size
    if total > ARTIFACT_CAP_BYTES:
        names = ", ".join(p.name for p in files)
        yield Finding.of(
            ARTIFACT_CAP,
            f"recomputed from the files: {total:,} bytes ({names}: {code_bytes:,}; "
            f"{model.name}: {model.stat().st_size:,}), "
            f"{total - ARTIFACT_CAP_BYTES:,} over the cap",
            file=model.name,
            evidence=f"code {code_bytes} + model {model.stat().st_size}",
            fix="shrink the model or the code; every shipped code file counts",
        )


def _logged_vs_recomputed(seed, recomputed: int, counted: CodeCount) -> Iterator[Finding]:
    """The log's total against the logged model bytes plus the code counted the record's way.

    The shipped code is what counts (as committed, or compressed the way the record's log
    counted it, helpers raw), so the recomputed total gates when it is exact. A log that
    counted more code than ships (the unwrapped source, the #1835 dispute) gets a warning; one
    that counted less (helpers left out) is over the cap or warned about. When golf-check can
    only bound the figure (a minifier it does not run), the bound passes a record under the
    cap and is otherwise a warning: the log's own figure may be right.
    """
    names = ", ".join(p.name for p in counted.files)
    logged = seed.artifact_bytes
    logged_code = seed.code_bytes if seed.code_bytes is not None else logged - seed.model_bytes
    over = recomputed > ARTIFACT_CAP_BYTES
    figures = (
        f"the log counts {logged_code:,} code bytes, golf-check recomputes {counted.bytes:,} "
        f"for {names} ({counted.describe()}; {counted.raw_bytes:,} raw)"
    )
    evidence = (
        f"logged total {logged}; logged model {seed.model_bytes} + recomputed code "
        f"{counted.bytes} = {recomputed}"
    )
    with_model = f"{figures}; with the logged model {seed.model_bytes:,} bytes the"

    def against_log(message: str, severity: str, line: int | None, **fields) -> Finding:
        return seed_finding(
            ARTIFACT_CAP, seed, message, severity=severity, line=line, evidence=evidence, **fields
        )

    if not counted.exact:
        # A bound points at the code line the log printed, and is never certain.
        line = seed.code_line or seed.artifact_line
        if over and logged <= ARTIFACT_CAP_BYTES:
            yield against_log(
                f"{with_model} {counted.bound} is {recomputed:,} bytes, over the cap, while the "
                f"log's total is {logged:,}",
                "warning",
                line,
                confidence="medium",
                fix="ship the code in the form the log counted (e.g. the compressed wrapper)",
            )
        elif not over:
            yield against_log(
                f"{with_model} artifact is "
                f"{'at most' if counted.bound == 'upper bound' else 'about'} "
                f"{recomputed:,} bytes, under the cap",
                "info",
                line,
                confidence="medium",
            )
        if logged > ARTIFACT_CAP_BYTES:
            yield _over_cap(seed, logged)
        return
    if over or recomputed > logged:
        yield against_log(
            f"{with_model} artifact is {recomputed:,} bytes"
            + (f", {recomputed - ARTIFACT_CAP_BYTES:,} over the cap" if over else ""),
            "error" if over else "warning",
            seed.artifact_line,
            fix="count every code file the run needs (or fold the helpers into train_gpt.py)",
        )
    elif logged > ARTIFACT_CAP_BYTES:
        yield against_log(
            f"the log's total {logged:,} bytes is {logged - ARTIFACT_CAP_BYTES:,} over the cap, "
            f"but {figures}, and with the logged model {seed.model_bytes:,} bytes that is "
            f"{recomputed:,}: the log counted code that does not ship (unwrapped source?)",
            "warning",
            seed.artifact_line,
            fix="log the size of the code as committed so the log and the files agree",
        )


def _over_cap(seed, total: int) -> Finding:
    return seed_finding(
        ARTIFACT_CAP,
        seed,
        f"artifact is {total:,} bytes, {total - ARTIFACT_CAP_BYTES:,} over the 16,000,000-byte cap",
        line=seed.artifact_line,
        evidence=f"Total submission size {seed.artifact_tag or ''}: {total} bytes",
        fix="shrink the model or pack the code (16,000,000 is decimal, not 16 MiB)",
    )
