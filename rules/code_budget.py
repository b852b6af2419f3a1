"""BUDGET, static part: settings and code layout that break the time or size budgets
(README; rules.md R-TRAIN-600 and R-CODE-COUNTED)."""

from __future__ import annotations

import ast
import re

from golf_check.harness.rulebook import detector, rule
from golf_check.harness.static.common import LineNode

WALLCLOCK_DEFAULT = rule(
    "BUDGET.wallclock-default",
    "BUDGET",
    "The default training wall-clock cap must be at most 600 seconds",
    """
Record runs must train within 10 minutes on 8xH100 SXM. The baseline enforces this with
`MAX_WALLCLOCK_SECONDS` (default 600); a default above 600, or a cap switched off by
default (0 means "no cap" in the baseline), lets the submitted configuration train longer
than allowed.

A script under `records/track_non_record_16mb/`, or whose submission.json declares the
non-record track, is not held to the 600 s limit: there the default is only noted (info).

Example:
    max_wallclock_seconds = float(os.environ.get("MAX_WALLCLOCK_SECONDS", 900))
""",
    [
        "https://github.com/openai/parameter-golf/blob/main/README.md",
        "https://github.com/openai/parameter-golf/pull/543",
    ],
)

UNCOUNTED_CODE = rule(
    "BUDGET.uncounted-code",
    "BUDGET",
    "Code the run needs outside train_gpt.py counts toward the 16,000,000-byte cap",
    """
Every byte of code needed to train and evaluate counts toward the artifact cap and should
live in train_gpt.py. Sibling modules, `exec(open("x.py").read())`, C++/CUDA sources compiled
at run time (`torch.utils.cpp_extension`, g++/nvcc via subprocess) are easy to leave out of the
logged code size. golf-check verify adds their bytes; this check points them out.

Example:
    from ngram_tilt import NgramTiltState        # ngram_tilt.py ships beside the script
    subprocess.run(["g++", "-O3", "ngram/fused_expert_kernel.cpp", "-o", "k.so"])
""",
    [
        "https://github.com/openai/parameter-golf/pull/1412",
        "https://github.com/openai/parameter-golf/pull/1420",
        "https://github.com/openai/parameter-golf/pull/1514",
    ],
    severity="warning",
)

_WALLCLOCK_VARS = ("MAX_WALLCLOCK_SECONDS", "MAX_WALLCLOCK", "TRAIN_SECONDS", "WALLCLOCK_SECONDS")


@detector(WALLCLOCK_DEFAULT, level="static")
def wallclock_default(model):
    """A ``MAX_WALLCLOCK_SECONDS`` default above 600 (error) or at most 0, no cap (warning); on
    the non-record track, where there is no training limit, the same is info.

    Confidence: high.

    Cannot see: a cap enforced another way.
    """
    non_record = model.env.track == "non-record"
    for var in _WALLCLOCK_VARS:
        default, line = model.env.setting(var)
        if line is None:
            continue
        try:
            seconds = float(default)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        where = model.env.where_set(var)  # set by the run configuration, not the default
        said = (
            f"is {seconds:g} s as the record ran ({where})"
            if where
            else f"defaults to {seconds:g} s"
        )
        if non_record:  # the non-record track has no 600 s training limit
            if seconds > 600 or seconds <= 0:
                yield model.finding(
                    WALLCLOCK_DEFAULT,
                    LineNode(line),
                    f"{var} {said}; allowed on the non-record track "
                    f"({model.env.track_source}), which has no 600 s training limit",
                    severity="info",
                )
            continue
        if seconds > 600:
            yield model.finding(
                WALLCLOCK_DEFAULT,
                LineNode(line),
                f"{var} {said}, above the 600 s training budget",
                fix=f"default {var} to 600 (or less, leaving room for calibration)",
            )
        elif seconds <= 0:
            yield model.finding(
                WALLCLOCK_DEFAULT,
                LineNode(line),
                f"{var} {said}, which disables the training time cap",
                severity="warning",
                confidence="medium",
                fix=f"default {var} to 600",
            )


@detector(UNCOUNTED_CODE, level="static")
def uncounted_code(model):
    """Helper files the run needs (from ``needed_code_files``): sibling imports,
    ``exec(open(...))``, C++/CUDA sources compiled at run time; computed paths it cannot resolve
    (low confidence); ``load_inline`` (info).

    Confidence: high.

    Cannot see: files fetched at run time.
    """
    from golf_check.harness.errors import InputError
    from golf_check.harness.static.codefiles import needed_code_files

    path = model.script.path
    if path.is_file():
        try:
            needed = needed_code_files(path, model.script, recursive=False)
        except InputError:
            needed = None
        if needed is not None:
            import os

            direct = _direct_references(model, path, needed.helpers)
            for helper, node in direct:
                yield model.finding(
                    UNCOUNTED_CODE,
                    node,
                    f"the run needs {os.path.relpath(helper, path.parent)} "
                    f"({helper.stat().st_size:,} bytes); it counts toward the artifact",
                    confidence="high",
                    fix="inline it into train_gpt.py, or make sure the logged code size "
                    "includes it",
                )
            for what in needed.unresolved:
                file, _, rest = what.partition(":")
                line, _, text = rest.partition(": ")
                if file != path.name:
                    continue
                yield model.finding(
                    UNCOUNTED_CODE,
                    LineNode(int(line) if line.isdigit() else None),
                    f"loads code from a path golf-check cannot resolve ({text})",
                    confidence="low",
                    fix="use a literal path inside the submission folder",
                )
    for site in model.call_sites:
        if site.callee == "load_inline":
            yield model.finding(
                UNCOUNTED_CODE,
                site.node,
                "compiles an inline C++/CUDA extension; its source strings count as code",
                severity="info",
                confidence="high",
                fix="keep the source in train_gpt.py (it is counted there)",
            )


def _direct_references(model, script, helpers):
    """Pair each helper with the line in this script that pulls it in (or line 1)."""
    import ast

    out = []
    for helper in helpers:
        stem = helper.stem if helper.name != "__init__.py" else helper.parent.name
        node = None
        for n in model.nodes:
            if isinstance(n, ast.Import | ast.ImportFrom):
                mods = [a.name for a in n.names] + (
                    [n.module] if getattr(n, "module", None) else []
                )
                if any(
                    m and (m == stem or m.split(".")[0] == stem or m.endswith("." + stem))
                    for m in mods
                ):
                    node = n
                    break
            elif (
                isinstance(n, ast.Constant) and isinstance(n.value, str) and helper.name in n.value
            ):
                node = n
                break
        if node is not None:
            out.append((helper, node))
    return out


GPTQ_RESERVE = rule(
    "BUDGET.gptq-reserve",
    "BUDGET",
    "Calibration that reads training data needs time reserved inside the 600 s",
    """
GPTQ-style quantization collects Hessians from calibration batches. When those batches are
training data, the collection counts as training time and must finish inside the 600 s
budget. Records do this by stopping the training loop early by a reserve
(`GPTQ_RESERVE_SECONDS`, `gptq_reserve_ms`). Several submissions were ruled illegal because
their calibration ran after the full 600 s. A script that calibrates on training data with no
reserve anywhere in its settings is reported as a warning. The measured check is
`BUDGET.gptq-in-train` (`golf-check verify` / `run`).

Example:
    max_wallclock_ms = 1000.0 * args.max_wallclock_seconds          # no reserve
    hessians = collect_hessians(base_model, train_loader, n_batches=64)
""",
    [
        "https://github.com/openai/parameter-golf/pull/1868",
        "https://github.com/openai/parameter-golf/pull/634",
        "https://github.com/openai/parameter-golf/issues/677",
    ],
    severity="warning",
)

_CALIBRATION = re.compile(r"hessian|calib|gptq", re.IGNORECASE)
_EVALUATION = re.compile(r"eval|score", re.IGNORECASE)
_RESERVE = re.compile(r"reserve", re.IGNORECASE)
_TRAIN_DATA = re.compile(r"train_loader|train_files|train_tokens|train_stream|next_batch")


@detector(GPTQ_RESERVE, level="static")
def gptq_reserve(model):
    """A ``*hessian*`` / ``*calib*`` / ``*gptq*`` call fed with training data (``train_loader``,
    ``next_batch``, ``train_files``) in a script where no setting or name mentions a reserve; a
    warning (the measured check is ``BUDGET.gptq-in-train``).

    Confidence: medium.

    Cannot see: whether the reserve really covers the calibration time.
    """
    names = (
        getattr(n, "id", None) or getattr(n, "attr", "")
        for n in model.of_type(ast.Name, ast.Attribute)
    )
    if any(_RESERVE.search(name) for name in names) or any(
        _RESERVE.search(var) for var in model.env.env_defaults
    ):
        return
    for site in model.call_sites:
        if not _CALIBRATION.search(site.callee) or _EVALUATION.search(site.callee):
            continue
        args = [ast.unparse(a) for a in site.node.args] + [
            ast.unparse(k.value) for k in site.node.keywords
        ]
        reads_train = any(_TRAIN_DATA.search(a) for a in args)
        if not reads_train:
            for func in model.functions_named(site.callee):
                reads_train |= any(
                    isinstance(n, ast.Attribute | ast.Name)
                    and _TRAIN_DATA.search(getattr(n, "id", None) or getattr(n, "attr", ""))
                    for n in model.walk(func.node)
                )
        if reads_train:
            yield model.finding(
                GPTQ_RESERVE,
                site.node,
                f"{site.callee}(...) calibrates on training data, but no setting reserves "
                "training time for it (GPTQ_RESERVE_SECONDS-style)",
                confidence="medium",
                fix="stop the training loop early by a reserve that covers the calibration "
                "(e.g. GPTQ_RESERVE_SECONDS=8) so data access ends inside 600 s",
            )
            return
