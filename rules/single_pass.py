"""C4, single pass: each token contributes exactly one score, in one left-to-right pass
(issue #1017 C4; the 2026-03-27 ruling on issue #677; PR #991)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from golf_check.harness.evidence.levels import ledger_finding, positions_finding, seed_finding
from golf_check.harness.evidence.model import EvidenceSet
from golf_check.harness.evidence.passes import rescored_pass
from golf_check.harness.report import Finding
from golf_check.harness.rulebook import detector, rule
from golf_check.harness.static.common import LineNode, is_pass_result

RESCORE = rule(
    "C4.rescore",
    "C4",
    "No second scoring pass over tokens the model has already adapted on",
    """
Scoring the validation tokens, adapting (TTT, cache updates, a fitted temperature), and then
scoring the same tokens again with the adapted state reports a score for tokens that have
already been used for the update. Two-pass, double-pass and "full rescore" evaluation were
banned as training on the eval set.

Example:
    s0 = eval_val(model, val_tokens)          # first pass
    ttt_adapt(model, val_tokens)              # update on the scored tokens
    s1 = eval_val(model, val_tokens)          # reported second pass
""",
    [
        "https://github.com/openai/parameter-golf/issues/677",
        "https://github.com/openai/parameter-golf/pull/991",
        "https://github.com/openai/parameter-golf/pull/846",
        "https://github.com/openai/parameter-golf/issues/1017",
    ],
)

BEST_OF_PASSES = rule(
    "C4.best-of-passes",
    "C4",
    "No choosing the best among several scoring passes",
    """
Reporting the minimum (or otherwise the best) of several evaluation passes picks the result
with hindsight on the validation tokens: the reported number is no longer one pass in which
each token is scored once.

Example:
    bpb_a = eval_val_sliding(model, val_tokens, temperature=1.0)
    bpb_b = eval_val_sliding(model, val_tokens, temperature=0.95)
    val_bpb = min(bpb_a, bpb_b)
""",
    [
        "https://github.com/openai/parameter-golf/issues/677",
        "https://github.com/openai/parameter-golf/issues/1017",
    ],
)

_RESCORE_SWITCH = re.compile(
    r"TWO_PASS|TWOPASS|RESCORE|DOUBLE_PASS|SECOND_PASS|FULL_RESCORE|PASS2", re.IGNORECASE
)


@detector(RESCORE, level="static")
def rescore_after_adaptation(model):
    """Score, adapt, score again in one function; a score-first TTT evaluation followed by
    another validation pass without reloading the state (warning); ``*TWO_PASS*`` /
    ``*RESCORE*`` / ``*SECOND_PASS*`` settings.

    Confidence: high/medium.

    Cannot see: a second pass hidden behind runtime data.
    """
    from golf_check.harness.static.adaptation import adaptations, hands_whole_split, resets_between

    for a in adaptations(model):
        if a.kind == "rescore":
            yield model.finding(
                RESCORE,
                a.scored_at,
                f"scores validation tokens again (line {a.scored_at.lineno}) after adapting on "
                f"them (backward at line {a.site.lineno}, in {a.where})",
                fix="report the first (pre-update) score of each token only",
                gate_nodes=a.chain + [a.scored_at],
            )
        elif a.kind == "rescore-maybe":
            yield model.finding(
                RESCORE,
                a.scored_at,
                f"validation is scored (line {a.scored_at.lineno}) after an update (backward "
                f"at line {a.site.lineno}, in {a.where}) on tokens scored earlier; if this "
                "pass covers the tokens the update used, it is a rescore",
                confidence="medium",
                severity="warning",
                fix="make sure every token is scored once, before any update that used it",
                gate_nodes=a.chain + [a.scored_at],
            )
    # A score-first TTT evaluation followed by another validation pass over the adapted model.
    ttt_funcs = {a.func.name for a in adaptations(model) if a.kind == "score-first" and a.func}
    for site in model.call_sites:
        if site.callee not in ttt_funcs:
            continue
        caller = site.caller
        body = caller.node if caller else model.tree
        for call in model.walk(body):
            if not (isinstance(call, ast.Call) and call.lineno > site.node.lineno):
                continue
            if model.function_of(call) is not caller or call.func is site.node.func:
                continue
            if not model.is_val_scoring_call(call) or call.func == site.node.func:
                continue
            if resets_between(model, caller, site.node.lineno, call.lineno):
                continue
            # The last pass over the whole split is the one a record reports: a rescore.
            # An earlier one, or one over a slice, may be a diagnostic: a warning.
            final = hands_whole_split(model, call) and not _scored_later(model, caller, call)
            yield model.finding(
                RESCORE,
                call,
                f"validation is scored again (line {call.lineno}) after test-time training "
                f"updated the model on it ({site.callee} at line {site.node.lineno})"
                + ("; this last pass over the whole split is the reported score" if final else ""),
                confidence="high" if final else "medium",
                severity="error" if final else "warning",
                fix="reload the artifact state before any further validation pass, or report "
                "only the score-first TTT score",
                gate_nodes=[call, site.node],
            )
            break
    yield from _switches(model)
    yield from _cache_built_before_scoring(model)


_COUNT_ADDERS = ("add.at", "index_add_", "scatter_add_", "index_put_")
_COUNT_CALLEES = frozenset(("at", "index_add_", "scatter_add_", "index_put_", "bincount"))


def _count_builds(model):
    """``(table name, node)`` for each place a table is incremented at keys computed from
    validation tokens: ``counts[a, b] += 1``, ``np.add.at(counts, keys, 1)``,
    ``counts.index_add_(0, keys, ones)``, ``counts = np.bincount(keys)``."""
    for node in model.of_type(ast.AugAssign):
        target = node.target
        if isinstance(node.op, ast.Add) and isinstance(target, ast.Subscript):
            base = target.value
            if isinstance(base, ast.Name) and model.is_val_reaching(target.slice):
                yield base.id, node
    for site in model.call_sites:
        if site.callee not in _COUNT_CALLEES:
            continue
        call = site.node
        name = model.unparse(call.func)
        if name.endswith(_COUNT_ADDERS):
            if name.endswith("add.at") and len(call.args) >= 2:
                table, keys = call.args[0], call.args[1]
            elif isinstance(call.func, ast.Attribute) and len(call.args) >= 2:
                table, keys = call.func.value, call.args[1]
            else:
                continue
            if isinstance(table, ast.Name) and model.is_val_reaching(keys):
                yield table.id, call
        elif site.callee == "bincount" and call.args and model.is_val_reaching(call.args[0]):
            parent = model.parents.get(call)
            if isinstance(parent, ast.Assign) and isinstance(parent.targets[0], ast.Name):
                yield parent.targets[0].id, call


def _cache_built_before_scoring(model):
    """A count table built over the validation tokens in a pass of its own (no scoring in
    any loop around the build), then read by a later scoring loop in the same function: every
    token is scored with counts that already include it (two-pass n-gram caches)."""
    reported: set[tuple[str, int]] = set()
    for table, build in _count_builds(model):
        func = model.function_of(build)
        build_loops = model.enclosing_loops(build)
        if any(model.scoring_sites(loop) for loop in build_loops):
            continue  # scored in the same pass, before or after: the causal-cache shape
        outer_build = build_loops[-1] if build_loops else model.statement_of(build)
        body = func.node if func else model.tree
        for site in model.scoring_sites(body):
            if model.function_of(site) is not func or site.lineno <= build.lineno:
                continue
            if model.contains(outer_build, site):
                continue
            loops = model.enclosing_loops(site)
            if not loops:
                continue
            scoring_loop = loops[-1]
            reads = any(
                isinstance(n, ast.Name) and n.id == table and isinstance(n.ctx, ast.Load)
                for n in model.walk(scoring_loop)
            )
            if not reads or (table, site.lineno) in reported:
                continue
            reported.add((table, site.lineno))
            yield model.finding(
                RESCORE,
                site,
                f"scores validation tokens (line {site.lineno}) with `{table}`, a count table "
                f"built over the validation tokens in an earlier pass (line {build.lineno}): "
                "each token is scored with counts that already include it",
                fix="update the table only after each token is scored (a causal cache), or "
                "build it from training data inside the artifact",
                gate_nodes=[site, build],
            )
            break


def _scored_later(model, caller, call: ast.Call) -> bool:
    """Another validation scoring call after ``call`` in the same function."""
    body = caller.node if caller else model.tree
    return any(
        isinstance(c, ast.Call)
        and c.lineno > call.lineno
        and model.function_of(c) is caller
        and model.is_val_scoring_call(c)
        for c in model.walk(body)
    )


def _switches(model):
    """Settings that turn on a second scoring pass (``NGRAM_TWO_PASS``, ``FULL_RESCORE``)."""
    reported: set[str] = set()
    for env_var, (default, line) in model.env.env_defaults.items():
        if not _RESCORE_SWITCH.search(env_var) or env_var in reported:
            continue
        reported.add(env_var)
        on = _truthy(default)
        node = LineNode(line)
        if on:
            yield model.finding(
                RESCORE,
                node,
                f"{env_var} defaults to {default!r}: a second (re)scoring pass over validation "
                "tokens is on by default",
                confidence="medium",
                fix=f"remove the {env_var} path; score each token once",
            )
        else:
            yield model.finding(
                RESCORE,
                node,
                f"{env_var} switches on a second (re)scoring pass over validation tokens "
                f"(off by default: {default!r})",
                confidence="medium",
                severity="warning",
                fix=f"remove the {env_var} path so it cannot be switched on for a record",
            )


def _truthy(value) -> bool:
    if isinstance(value, str):
        text = value.strip().lower()
        try:
            return float(text) != 0.0  # "0.0" (a fraction of tokens) is off
        except ValueError:
            return text not in ("", "false", "no", "off", "none")
    return bool(value)


@detector(BEST_OF_PASSES, level="static")
def best_of_passes(model):
    """``min`` / ``max`` / ``sorted(...)[0]`` over two or more results of validation scoring
    calls, or over a list filled with them.

    Confidence: high/medium.

    Cannot see: selection by sorting or thresholds.
    """
    for site in model.call_sites:
        call = site.node
        if site.callee not in ("min", "max", "minimum", "argmin"):
            continue
        args = list(call.args)
        if len(args) == 1 and isinstance(args[0], ast.List | ast.Tuple):
            args = list(args[0].elts)
        passes = [a for a in args if is_pass_result(model, a)]
        if len(passes) >= 2 or (len(args) == 1 and _is_pass_list(model, args[0])):
            yield model.finding(
                BEST_OF_PASSES,
                call,
                "selects the best of several validation scoring passes",
                confidence="high" if len(passes) >= 2 else "medium",
                fix="report the single pass that was decided before seeing any validation score",
            )


def _is_pass_list(model, expr) -> bool:
    """A list filled with ``.append(eval_val(...))`` in a loop."""
    if not isinstance(expr, ast.Name):
        return False
    scope = model.function_of(expr)
    body = scope.node if scope else model.tree
    for c in model.walk(body):
        if (
            isinstance(c, ast.Call)
            and isinstance(c.func, ast.Attribute)
            and c.func.attr == "append"
            and isinstance(c.func.value, ast.Name)
            and c.func.value.id == expr.id
            and c.args
            and is_pass_result(model, c.args[0])
        ):
            return True
    return False


# --------------------------------------------------------------------------- runtime, ledger
# `golf-check run` detectors: each receives one harness.runtime.session.SeedAudit.

SCORE_ONCE = rule(
    "C4.score-once",
    "C4",
    "Every validation position must be scored exactly once in a reported pass",
    """
A reported score is one left-to-right pass in which each position 1..N-1 of the validation
stream contributes exactly one term. Positions never scored (a truncated or strided pass that
skips targets) or scored outside the stream make the average describe a different set of
tokens. The ledger counts how often each position was scored in each pass.

Example:
    for start in range(0, n - seq_len, seq_len):   # the tail after the last full window
        score(tokens[start : start + seq_len + 1]) # is never scored
""",
    ("https://github.com/openai/parameter-golf/issues/1017",),
)


@detector(RESCORE, level="runtime")
def rescored_after_adapting(audit):
    """Trace: no-grad windows ending on positions that were scored and then adapted on."""
    cov = audit.coverage
    # A rescoring pass re-scores what it adapted on; a handful of windows is within what
    # duplicated text in the stream can make the black-box mapping attribute wrongly.
    if cov is None or cov.rescored_positions < max(8, 0.01 * cov.adapted_positions):
        return
    yield positions_finding(
        RESCORE,
        audit,
        f"{cov.rescored_windows:,} no-grad windows after an update ended on positions that had "
        f"already been scored and then adapted on ({cov.rescored_positions:,} positions scored "
        "a second time)",
        cov.rescored_first,
        confidence="medium",  # a reset to the artifact that golf-check did not see looks alike
        fix="report the score from the single pass that scored each token before adapting on it",
    )


@detector(RESCORE, SCORE_ONCE, level="ledger")
def ledger_single_pass(audit):
    """Ledger: positions scored twice in a pass, or never (exact)."""
    for v in audit.ledger_violations("C4"):
        twice = "more than once" in v.message or "twice" in v.message
        yield ledger_finding(
            RESCORE if twice else SCORE_ONCE,
            audit,
            v,
            fix="score each position 1..N-1 exactly once per reported pass",
        )


# --------------------------------------------------------------------------- log
# `verify` and `ci` detectors: each receives the record folder's EvidenceSet; the
# story of its passes is read by harness.evidence.passes.


@detector(RESCORE, level="log")
def rescored_after_adaptation(ev: EvidenceSet) -> Iterator[Finding]:
    """A log whose reported score line is a second full scoring pass, run after an adaptation
    pass over the validation tokens ended."""
    for seed in ev.seeds:
        r = rescored_pass(seed)
        if r is None:
            continue
        head, end, own = r.head, r.end, r.own
        epochs = f" after {end.epochs} epochs over the split" if end.epochs else ""
        took = f", {head.eval_time_s:.1f} s of its own" if head.eval_time_s else ""
        yield seed_finding(
            RESCORE,
            seed,
            f"the reported {head.kind} line (L{head.line}, val_bpb {head.val_bpb}) is a second "
            f"full scoring pass{took}, run after the adaptation pass over the validation tokens "
            f"ended{epochs} (L{end.line})"
            + (
                f"; that pass had already scored every token (L{own.line}, val_bpb {own.val_bpb})"
                if own is not None
                else ""
            ),
            line=head.line,
            evidence=" | ".join(r.story),
            fix="report the score of the single pass that scores each token before adapting "
            "on it; a pass re-run after adaptation (a fitted temperature, a later epoch) "
            "scores tokens the model has already trained on",
        )


@detector(BEST_OF_PASSES, level="log")
def several_scoring_passes(ev: EvidenceSet) -> Iterator[Finding]:
    """A log that scores the validation tokens in several passes before its reported line."""
    for seed in ev.seeds:
        if seed.source != "log" or seed.headline_line is None:
            continue
        passes = {k: v for k, v in seed.scoring_passes.items() if v < seed.headline_line}
        if len(passes) < 2:
            continue
        lines = ", ".join(f"pass {k} at L{v}" for k, v in sorted(passes.items()))
        yield seed_finding(
            BEST_OF_PASSES,
            seed,
            f"the log scores the validation tokens in {len(passes)} passes ({lines}) before its "
            f"reported {seed.headline_kind} line (L{seed.headline_line}); a score combined from "
            "several passes (their best, their minimum per token) is not one pass that scores "
            "each token once",
            line=min(passes.values()),
            evidence=lines,
            fix="report one left-to-right pass; drop the extra passes",
        )
