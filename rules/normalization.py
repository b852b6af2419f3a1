"""C2, normalization: before x_t is revealed the scorer commits to a full distribution over
the token vocabulary, non-negative and summing to 1 (issue #1017 C2; PR #886; issue #1872)."""

from __future__ import annotations

import ast
import re

from golf_check.harness.evidence.levels import ledger_finding
from golf_check.harness.rulebook import detector, rule
from golf_check.harness.static.model import callee_name
from golf_check.harness.static.patterns import (
    entropy_sites,
    flows_into,
    hashed_key,
    holds_entropy,
    list_elements,
    reads_target,
    realized_token,
)
from golf_check.harness.static.vocabulary import COUNT_TABLE

ENTROPY_EXPERT = rule(
    "C2.entropy-expert",
    "C2",
    "Every expert in a mixture must be a distribution scored at the target",
    """
An online mixer (Hedge, multiplicative weights, `logsumexp(log_w - nll)`) is a proper
distribution only if each expert's NLL is minus the log of a normalized probability of the
target. An "entropy expert" uses the model's entropy `-(p * log p).sum(-1)` as if it were an
NLL. That quantity does not depend on the target, and mixing it in creates probability mass
that does not exist. The same holds for any other per-position summary of the predicted
distribution used as an expert's loss (its maximum log-probability, say).

Example:
    entropy_nll = -(probs * log_probs).sum(-1)
    expert_nll = torch.stack([nn_nll, unigram_nll, bigram_nll, entropy_nll], dim=-1)
    mix_nll = -torch.logsumexp(log_w - expert_nll, dim=-1)
""",
    [
        "https://github.com/openai/parameter-golf/pull/967",
        "https://github.com/openai/parameter-golf/issues/677",
        "https://github.com/openai/parameter-golf/issues/1017",
    ],
)

GOLD_COUNT_RATIO = rule(
    "C2.gold-count-ratio",
    "C2",
    "A count-ratio probability for the gold token only is not a normalized distribution",
    """
Hashed n-gram caches score `p = full_table[hash(ctx, tgt)] / ctx_table[hash(ctx)]` for the
realized token only. Summed over every candidate token those ratios do not add up to 1 (PR
#886 measured about 277 over a 1024-token vocabulary), so the "probability" is not a
distribution, and hash collisions inflate it further. A count model is legal when it
normalizes over the whole vocabulary row, e.g. `(counts[ctx, tgt] + a) / (counts[ctx].sum() + a * V)`.

Example:
    p_ng = full_table[full_key] / np.maximum(ctx_table[ctx_key], 1)
""",
    [
        "https://github.com/openai/parameter-golf/pull/886",
        "https://github.com/openai/parameter-golf/pull/978",
        "https://github.com/openai/parameter-golf/pull/1147",
        "https://github.com/openai/parameter-golf/pull/779",
    ],
)

BYTE_MIXTURE = rule(
    "C2.byte-mixture",
    "C2",
    "Byte-level mixtures must still give a normalized distribution over tokens",
    """
Spreading a token's probability over its bytes as `p ** (1 / n_bytes)` and mixing it with a
byte-level model (PPM-D and similar) yields per-byte numbers that, multiplied back, do not
define token probabilities summing to 1 over the official vocabulary. Such rows were
excluded from the leaderboard under C2.

Example:
    p_byte = p_token ** (1.0 / n_bytes)
    p_mix = lam * p_byte + (1 - lam) * ppm.prob(next_byte)
""",
    [
        "https://github.com/openai/parameter-golf/issues/1872",
        "https://github.com/openai/parameter-golf/pull/1902",
        "https://github.com/openai/parameter-golf/pull/1905",
    ],
)

_BYTES = re.compile(r"byte|(^|_)nb($|_)|n_b|bpt", re.IGNORECASE)
_PPM = re.compile(r"ppm", re.IGNORECASE)
_STACKS = {"stack", "cat", "concatenate", "hstack", "column_stack", "dstack"}


@detector(ENTROPY_EXPERT, level="static")
def entropy_as_expert(model):
    """By what is computed: a per-position entropy (``(p * log p).sum(-1)`` with ``p`` a softmax
    / ``exp`` of a log-softmax, or the same tensor once through ``log``; ``entr(p).sum(-1)``;
    ``.entropy()``; or another per-position summary of the distribution: its max, logsumexp,
    mean) stacked, alone or inside a weighted column (``log_w[k] - H``), with expert losses read
    at the target, where the stack reaches a mixer (``logsumexp`` over the experts, a ``-=``
    weight update), through returns, callers and call arguments; or a helper returning
    ``exp(-H)`` added to the expert distributions.

    Confidence: high.

    Cannot see: entropies passed through object attributes.
    """
    if not entropy_sites(model):
        return
    for call in model.of_type(ast.Call):
        if callee_name(call) not in _STACKS or not call.args:
            continue
        elements = list_elements(model, call.args[0])
        if len(elements) < 2:
            continue
        free = [(e, site) for e in elements if (site := _entropy_in(model, e)) is not None]
        if not free:
            continue
        taken = {id(e) for e, _ in free}
        scored = [e for e in elements if id(e) not in taken and reads_target(model, e) is not None]
        if not scored:
            continue
        mixer = flows_into(model, call, _mixes)
        if mixer is None:
            continue
        entropy, site = free[0]
        where = model.statement_of(site) if model.indexed(site) else call
        yield model.finding(
            ENTROPY_EXPERT,
            where,
            f"`{ast.unparse(entropy)[:40]}` is computed from the predicted distribution alone "
            f"(`{ast.unparse(site)[:40]}`: it does not depend on the target) and is stacked at line "
            f"{call.lineno} with expert losses read at the target "
            f"(`{ast.unparse(scored[0])[:40]}`), then mixed at line {mixer.lineno} as if it "
            "were an expert's loss",
            fix="drop the entropy expert; use entropy only to gate weights of real experts",
            gate_nodes=[where, call],
        )
    yield from _entropy_helper_experts(model)


def _entropy_in(model, element: ast.AST) -> ast.Call | None:
    """The entropy an expert column is built from (``H``, ``-H``, ``log_w[4] - H``), when the
    column reads nothing at the target."""
    site = holds_entropy(model, element)
    if site is None:
        parts = model.walk(element) if model.indexed(element) else list(ast.walk(element))
        site = next(
            (
                found
                for n in parts
                if isinstance(n, ast.Name) and (found := holds_entropy(model, n)) is not None
            ),
            None,
        )
    if site is None or reads_target(model, element) is not None:
        return None
    return site


def _mixes(stmt: ast.stmt) -> bool:
    """A mixing statement: ``logsumexp`` over experts, or a multiplicative-weights update
    (``log_w -= eta * loss``)."""
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, ast.Sub):
        return True
    own = _header(stmt)
    return any(isinstance(n, ast.Call) and callee_name(n) == "logsumexp" for n in own)


def _header(stmt: ast.stmt) -> list[ast.AST]:
    """The nodes a statement itself evaluates (a compound statement's test or iterable, not
    its body)."""
    if isinstance(stmt, ast.If | ast.While):
        parts = [stmt.test]
    elif isinstance(stmt, ast.For | ast.AsyncFor):
        parts = [stmt.iter]
    elif isinstance(stmt, ast.With | ast.AsyncWith):
        parts = [i.context_expr for i in stmt.items]
    elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Try):
        parts = []
    else:
        parts = [stmt]
    return [n for p in parts for n in ast.walk(p)]


@detector(GOLD_COUNT_RATIO, level="static")
def gold_count_ratio(model):
    """``table[key_with_target] / table[ctx_key]`` (tables named like counts, or read by a
    hashed bucket key) with no ``.sum(...)`` over the vocabulary row in the denominator.

    Confidence: high.

    Cannot see: normalization done elsewhere and then ignored.
    """
    for node in model.of_type(ast.BinOp):
        if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)):
            continue
        num = _lookups(model, node.left)
        den = _lookups(model, node.right)
        if not num or not den:
            continue
        if not any(_keyed_by_target(model, s.slice) for s in num):
            continue
        if any(_keyed_by_target(model, s.slice) for s in den):
            continue
        den_text = " ".join(ast.unparse(e) for e in model.expand(node.right, depth=2))
        if "sum(" in den_text:
            continue  # normalized over the vocabulary row
        yield model.finding(
            GOLD_COUNT_RATIO,
            node,
            f"probability `{ast.unparse(node)[:70]}` is a count ratio for the target token "
            "only; it is not normalized over the vocabulary",
            fix="compute the distribution for every candidate token and normalize it (or "
            "prove the closed form equals that), as in a Dirichlet-smoothed count model",
        )


def _keyed_by_target(model, key: ast.AST) -> bool:
    """The key is, or is built from, the token being scored."""
    return any(model.is_scored_token(part) for part in model.expand(key, depth=3)) or (
        realized_token(model, key, depth=3)
    )


def _lookups(model, expr: ast.AST) -> list[ast.Subscript]:
    """Table reads in ``expr`` or in the definitions of the names it uses."""
    out = []
    for part in model.expand(expr, depth=2):
        for n in model.walk(part):
            if isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Load):
                base = model.unparse(n.value)
                if COUNT_TABLE.search(base) or hashed_key(model, n.slice):
                    out.append(n)
    return out


@detector(BYTE_MIXTURE, level="static")
def byte_level_mixture(model):
    """``p ** (1/n_bytes)`` / ``pow(p, 1/nb)`` / ``exp(-nll / n_bytes)`` in the scorer;
    PPM-named classes (low-confidence warning).

    Confidence: medium/low.

    Cannot see: byte mixtures written in log space.
    """
    for node in model.of_type(ast.BinOp, ast.Call):
        exponent = None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            exponent = node.right
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "pow":
            exponent = node.args[-1] if len(node.args) >= 2 else None
        elif isinstance(node, ast.Call) and callee_name(node) == "exp" and node.args:
            # exp(logp / n_bytes): the same per-byte geometric mean, in log space.
            arg = node.args[0]
            inner = arg.operand if isinstance(arg, ast.UnaryOp) else arg
            if isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.Div):
                exponent = inner
        if exponent is not None:
            if (
                isinstance(exponent, ast.BinOp)
                and isinstance(exponent.op, ast.Div)
                and _BYTES.search(ast.unparse(exponent.right))
            ):
                yield model.finding(
                    BYTE_MIXTURE,
                    node,
                    f"`{ast.unparse(node)[:60]}` spreads a token probability over its bytes; "
                    "mixing such per-byte values does not give a token distribution",
                    confidence="medium",
                    fix="mix at the token level: every component must be a distribution over "
                    "the token vocabulary",
                )
    for cls in model.of_type(ast.ClassDef):
        if isinstance(cls, ast.ClassDef) and _PPM.search(cls.name):
            used = any(
                site.callee == cls.name and model.default_state(site.node).state != "off"
                for site in model.call_sites
            )
            yield model.finding(
                BYTE_MIXTURE,
                cls,
                f"class {cls.name} looks like a byte-level PPM model"
                + ("" if used else " (never instantiated by default)"),
                confidence="low",
                severity="warning",
                fix="make sure its predictions are marginalized to a normalized distribution "
                "over tokens before mixing",
            )


# --------------------------------------------------------------------------- ledger
# `golf-check run` detectors: each receives one harness.runtime.session.SeedAudit.

NOT_NORMALIZED = rule(
    "C2.not-normalized",
    "C2",
    "Each scored distribution must sum to 1 over the vocabulary and contain the scored value",
    """
The score of a token must be -log p(token) for a distribution p over the whole vocabulary
that is non-negative and sums to 1, fixed before the token is revealed. When the script
hands its full log-distributions to the ledger, golf-check checks a fixed sample of
positions: the probabilities sum to 1 (within 1e-4) and the scored nll equals the
distribution's entry for the gold token. Mixtures with a non-distribution "expert" and
gold-only count ratios fail this check.

Example:
    probs.append(torch.exp(-entropy).expand_as(p))   # the same "probability" for every token
""",
    (
        "https://github.com/openai/parameter-golf/issues/1017",
        "https://github.com/openai/parameter-golf/pull/886",
        "https://github.com/openai/parameter-golf/pull/967",
    ),
)


@detector(NOT_NORMALIZED, level="ledger")
def ledger_normalization(audit):
    """Ledger: scored distributions that do not sum to 1 over the vocabulary at the checked
    positions."""
    for v in audit.ledger_violations("C2"):
        yield ledger_finding(
            NOT_NORMALIZED,
            audit,
            v,
            fix="score with a full softmax (or a convex mixture of full distributions)",
            counted="checked positions",
        )


def _entropy_helper_experts(model):
    """A helper whose return value is built from an entropy (``exp(-H)``), added to the list
    of expert distributions that a mixer combines (``probs.append(helper(p))``)."""
    helpers = set()
    for site in entropy_sites(model):
        func = model.function_of(site)
        if func is None:
            continue
        for ret in model.walk(func.node):
            if not (isinstance(ret, ast.Return) and ret.value is not None):
                continue
            if model.contains(ret.value, site) or any(
                holds_entropy(model, n) is not None
                for n in model.walk(ret.value)
                if isinstance(n, ast.Name)
            ):
                helpers.add(func.name)
    for site in model.call_sites:
        if site.callee not in helpers or site.caller is None:
            continue
        parent = model.parents.get(site.node)
        if not (
            isinstance(parent, ast.Call)
            and getattr(parent.func, "attr", "") in ("append", "extend", "stack", "cat")
        ) and not isinstance(parent, ast.List | ast.Tuple):
            continue
        mixer = flows_into(model, site.node, _mixes_distributions)
        if mixer is None:
            continue
        yield model.finding(
            ENTROPY_EXPERT,
            site.node,
            f"{site.callee}(...) returns a value computed from an entropy (it does not depend "
            f"on the target) and is added to the experts that are mixed at line {mixer.lineno}",
            fix="drop the entropy expert; use entropy only to gate weights of real experts",
        )


def _mixes_distributions(stmt: ast.stmt) -> bool:
    """A mixture of expert distributions: a weighted sum, a stack-and-reduce or a logsumexp."""
    if _mixes(stmt):
        return True
    return any(
        isinstance(n, ast.Call) and callee_name(n) in _STACKS | {"sum", "einsum", "matmul"}
        for n in _header(stmt)
    )
