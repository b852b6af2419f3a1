"""C1, causality: the distribution at position t depends only on the artifact and the
tokens before t (issue #1017 C1; the 2026-03-27 ruling on issue #677)."""

from __future__ import annotations

import ast
import re

from golf_check.harness.evidence.levels import audit_finding
from golf_check.harness.rulebook import detector, rule
from golf_check.harness.static.common import MIXING_OPS, LineNode, is_pass_result
from golf_check.harness.static.model import callee_name
from golf_check.harness.static.patterns import (
    flows_into,
    hashed_key,
    list_elements,
    reads_target,
    realized_token,
)
from golf_check.harness.static.vocabulary import COUNT_TABLE

TARGET_IN_KEY = rule(
    "C1.target-in-key",
    "C1",
    "The token being scored must not enter a hash key or lookup used to predict it",
    """
A cache or mixer that hashes the realized target token into its lookup key (for example
XOR-ing `tgt * prime` into an n-gram context hash and reading `full_table[key]`) reads the
answer before scoring it: the value it returns depends on x_t, not only on the prefix. This
is the mechanism behind the closed hashed n-gram cache family. Hashing previous tokens only
(BigramHash on `(t[i], t[i-1])`) is fine.

Example:
    full_key = (ctx_hash ^ (tgt * 2654435761)) & mask
    p_ng = full_table[full_key] / max(ctx_table[ctx_key], 1)
""",
    [
        "https://github.com/openai/parameter-golf/pull/779",
        "https://github.com/openai/parameter-golf/pull/982",
        "https://github.com/openai/parameter-golf/issues/677",
        "https://github.com/openai/parameter-golf/issues/1017",
    ],
)

SLOT = rule(
    "C1.slot",
    "C1",
    "No optimizing eval-time parameters on the positions about to be scored (SLOT)",
    """
SLOT-style evaluation creates a per-batch delta or logit bias with `requires_grad=True`,
optimizes it against the loss of the window, and then scores the same window with it. The
prediction at position t then depends on x_t and later tokens (a flip test shows it). A
"causal" variant whose loss covers only already-scored context positions was proposed but
never ruled on; golf-check reports it as a warning.

Example:
    delta = torch.zeros(bsz, 1, dim, device=dev, requires_grad=True)
    opt = torch.optim.AdamW([delta], lr=0.005)
    for _ in range(slot_steps):
        loss = F.cross_entropy(logits_with(delta)[:, s:], y[:, s:]); loss.backward(); opt.step()
""",
    [
        "https://github.com/openai/parameter-golf/pull/1240",
        "https://github.com/openai/parameter-golf/issues/1336",
        "https://github.com/openai/parameter-golf/pull/1376",
    ],
)

ORACLE = rule(
    "C1.oracle-selection",
    "C1",
    "No choosing between predictors by their loss on the target (oracle selection)",
    """
Taking, per token, the minimum of the losses of several predictors (the model and a cache,
or two experts) uses the realized target to decide which prediction to score. The result is
not a distribution committed before the token is revealed. Gating on something computed
from the prefix, such as the model's own entropy, is the legal alternative.

Example:
    nll = torch.minimum(nll_model, nll_cache)   # "safety gate": never worse than the model
""",
    [
        "https://github.com/openai/parameter-golf/pull/659",
        "https://github.com/openai/parameter-golf/issues/677",
        "https://github.com/openai/parameter-golf/issues/1017",
    ],
)

TILT_GATE = rule(
    "C1.tilt-gate-target",
    "C1",
    "N-gram tilt gates must read prefix tokens only",
    """
In n-gram tilt and agreement mixers, "within-word" and "word-start" experts that read the
boundary flag of the realized token (`is_bnd[tokens[p]]`) leak information about x_t into the
distribution for position p. The merged record disabled them (`WITHIN_BETA=0`, `WORD_BETA=0`)
and gates on `tokens[p-1]` instead. golf-check reports such settings that are on by default
as errors and ones that are off by default as warnings.

Example:
    WITHIN_BETA = float(os.environ.get("WITHIN_BETA", "0.5"))   # within-word expert on
""",
    [
        "https://github.com/openai/parameter-golf/pull/1420",
        "https://github.com/openai/parameter-golf/pull/1967",
        "https://github.com/openai/parameter-golf/pull/2118",
    ],
)

CROSS_DOCUMENT_SMEAR = rule(
    "C1.cross-document-smear",
    "C1",
    "Token-mixing shifts must not carry the previous document into a new one",
    """
SmearGate-style layers blend each position with the previous position
(`x[:, 1:] + g * x[:, :-1]`). In packed training and evaluation rows, the first token of a
document then sees the last token of the previous document. A maintainer audit ruled this a
leak between documents (a score was not rebanked for it), and the fix masks the shift at BOS
positions (`not_bos = input_ids[:, 1:] != BOS_ID`). The ruling is contested (the previous
document is causal context) and merged records predate it, so golf-check warns.

Example:
    x = torch.cat([x[:, :1], x[:, 1:] + gate * x[:, :-1]], dim=1)   # no BOS mask
""",
    [
        "https://github.com/openai/parameter-golf/pull/1797",
        "https://github.com/openai/parameter-golf/pull/1851",
        "https://github.com/openai/parameter-golf/issues/1988",
    ],
    severity="warning",
)

# Count tables, and the caches and buckets they are kept in.
_TABLE = re.compile(rf"{COUNT_TABLE.pattern}|cache|bucket|ngram", re.IGNORECASE)
_UPDATER = re.compile(r"update|observe|record|learn|commit|insert|accumulate|^add", re.IGNORECASE)
_LOSSY = re.compile(r"nll|loss|bits|(^|_)ce($|_)|logp|neglog", re.IGNORECASE)
_TILT_SWITCH = re.compile(r"^(WITHIN|WORD)(_START)?_(BETA|TAU|WEIGHT|GATE|BONUS)$", re.IGNORECASE)


def _targetish(model, expr: ast.AST) -> bool:
    return model.is_scored_token(expr) or realized_token(model, expr)


def _hashes_target(model, expr: ast.AST) -> ast.AST | None:
    """A hash-like operation in ``expr`` (or in what defines its names) mixing in the target."""
    for part in model.expand(expr, depth=3):
        for n in model.walk(part):
            if isinstance(n, ast.BinOp) and isinstance(n.op, MIXING_OPS):
                if _targetish(model, n.left) or _targetish(model, n.right):
                    return n
            # ``(ctx * P + tgt) % buckets``: bucketing an expression that mixes the target in.
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mod):
                mixed = n.left
                if isinstance(mixed, ast.BinOp) and isinstance(mixed.op, ast.Add | ast.Mult):
                    sides = (mixed.left, mixed.right)
                    if any(model.is_target(x) for x in sides) and not all(
                        model.is_target(x) for x in sides
                    ):
                        return n
            if (
                isinstance(n, ast.Call)
                and "hash" in (getattr(n.func, "attr", "") or ast.unparse(n.func)).lower()
            ):
                if any(model.is_target(a) for a in n.args):
                    return n
    return None


def _fixed_index(index: ast.AST) -> bool:
    """An index made of slices and constants only."""
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    return all(
        isinstance(p, ast.Slice | ast.Constant)
        or (isinstance(p, ast.UnaryOp) and isinstance(p.operand, ast.Constant))
        for p in parts
    )


@detector(TARGET_IN_KEY, level="static")
def target_in_lookup_key(model):
    """A table read ``T[key]`` whose key hashes the target in (``^``, ``|``, ``<<``, ``>>``, or
    ``(ctx*P + tgt) % B``), through assignments. The target is a target-named value or the token
    being predicted, found by what is read: ``seq[pos]`` in a function that also reads ``seq[pos
    - k]`` as context, whatever the names (a loop variable or a vectorized position array). Any
    read by a hashed bucket key is examined, not only tables named like counts; reads inside
    ``update``-like functions (cache updates after the score) are exempt.

    Confidence: high.

    Cannot see: C/C++ kernels.
    """
    yield from _target_key_helpers(model)
    for node in model.of_type(ast.Subscript):
        if not (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load)):
            continue
        parent = model.parents.get(node)
        if isinstance(parent, ast.AugAssign) and parent.target is node:
            continue  # a count update after scoring may use the target
        if _fixed_index(node.slice):
            continue  # ``x[:, :-1]``, ``x[0]``: no key to hash anything into
        if (
            not hashed_key(model, node.slice)
            and not _TABLE.search(model.unparse(node.value))
            and not model.is_target(node.slice)
        ):
            continue  # only table reads by a hashed key are worth expanding
        func = model.function_of(node)
        if func is not None and _UPDATER.search(func.name):
            continue  # a cache update after the score may key on the target
        mixed = _hashes_target(model, node.slice)
        if mixed is None:
            continue
        yield model.finding(
            TARGET_IN_KEY,
            node,
            f"lookup `{ast.unparse(node)[:60]}` uses a key that hashes in the target token "
            f"(`{ast.unparse(mixed)[:60]}`)",
            fix="build the key from prefix tokens only and score a full distribution over "
            "the vocabulary (normalize over every candidate next token)",
        )


@detector(SLOT, level="static")
def slot_optimization(model):
    """Read from the structure, not from names or taint: a tensor made trainable inside an
    evaluation function (``requires_grad=True``, ``.requires_grad_()``, ``nn.Parameter``),
    handed to an optimizer, a backward on a loss computed through it, then the same tensor read
    again after the optimization block to score the window (or returned to the caller); tokens
    may reach the window through a preallocated buffer. A loss whose position slices and masks
    (``m[i, :s] = True``, ``logits[:ctx]``) only cover context positions is "causal SLOT", a
    low-confidence warning; a delta fitted only after its chunk was scored (score-first) is not
    reported.

    Confidence: high/medium.

    Cannot see: a delta optimized in a helper class.
    """
    reported: set[int] = set()
    for hit in _slot_sites(model):
        func, param, site, context_only = hit
        if id(func) in reported:
            continue
        reported.add(id(func))
        yield _slot_finding(model, param, site, context_only, "high", [site])
    from golf_check.harness.static.adaptation import adaptations

    for a in adaptations(model):
        if not a.slot_param or id(a.func) in reported or a.kind in ("score-first", "unscored"):
            continue  # a delta updated only on already-scored tokens is score-first adaptation
        reported.add(id(a.func))
        confidence = "high" if a.kind in ("update-before-score", "pretrain") else "medium"
        context_only = _loss_covers_context_only(model, a.site)
        yield _slot_finding(model, a.slot_param, a.site, context_only, confidence, a.chain)


def _slot_finding(model, param, site, context_only, confidence, gate_nodes):
    if context_only:
        return model.finding(
            SLOT,
            site,
            f"optimizes eval-time parameter `{param}` on validation windows; the loss seems "
            'to cover only context positions ("causal SLOT", never ruled on)',
            confidence="low",
            severity="warning",
            fix="prove causality with a flip test (`golf-check run`), or drop SLOT",
            gate_nodes=gate_nodes,
        )
    return model.finding(
        SLOT,
        site,
        f"optimizes eval-time parameter `{param}` with a loss over the window's positions "
        f"(backward at line {site.lineno}) and then scores the same window with it (SLOT)",
        confidence=confidence,
        fix="remove the per-window optimization, or restrict its loss to positions already "
        "scored in earlier windows",
        gate_nodes=gate_nodes,
    )


_TENSOR_MAKERS = {"zeros", "zeros_like", "ones", "ones_like", "full", "full_like", "empty"}
_TENSOR_MAKERS |= {"empty_like", "randn", "randn_like", "rand", "tensor", "clone"}
_MAKERS_OR_GRAD = _TENSOR_MAKERS | {"requires_grad_", "Parameter"}
_OPTIMIZER = re.compile(r"^(SGD|Adam|AdamW|LBFGS|RMSprop|Adagrad|Adamax|NAdam|RAdam|Muon)$")
_SCORE_CALLS = {"cross_entropy", "nll_loss", "log_softmax", "gather"}


def _slot_sites(model):
    """(function, parameter, backward call, loss covers context only) for each eval-time
    parameter optimized on a window that is then scored with it, on-by-default ones first."""
    hits = []
    for created, name in _eval_time_parameters(model):
        func = model.function_of(created)
        optimizers = _optimizers_over(model, func, name)
        if not optimizers:
            continue
        start = model.position(created)
        for site in model.backward_sites():
            if not model.contains(func.node, site) or model.position(site) < start:
                continue
            loss = model.loss_of_backward(site)
            if not any(
                isinstance(n, ast.Name) and n.id == name
                for part in model.expand(loss, depth=4)
                for n in model.walk(part)
            ):
                continue
            block, common = _optimization_block(model, site, created)
            if block is None or not _scored_after(model, common, block, name):
                continue
            hits.append((func, name, site, _loss_covers_context_only(model, site)))
            break
    hits.sort(key=lambda h: (model.default_state(h[2]).state == "off", h[3]))
    return hits


def _eval_time_parameters(model):
    """``delta = torch.zeros(..., requires_grad=True)``, ``x.requires_grad_()`` and
    ``nn.Parameter(...)`` bound to a local name inside a function other than a constructor."""
    for stmt in model.of_type(ast.Assign):
        value = stmt.value
        if not (isinstance(value, ast.Call) and isinstance(stmt.targets[0], ast.Name)):
            continue
        name = callee_name(value)
        if name not in _MAKERS_OR_GRAD:
            continue
        target = stmt.targets[0]
        func = model.function_of(stmt)
        if len(stmt.targets) != 1 or func is None or func.name == "__init__":
            continue
        grad_kw = any(
            k.arg == "requires_grad" and isinstance(k.value, ast.Constant) and k.value.value
            for k in value.keywords
        )
        if (grad_kw and name in _TENSOR_MAKERS) or name in ("requires_grad_", "Parameter"):
            yield stmt, target.id


def _optimizers_over(model, func, name: str) -> list[ast.Call]:
    out = []
    for n in model.walk(func.node):
        if isinstance(n, ast.Call) and _OPTIMIZER.match(callee_name(n)) and n.args:
            if any(isinstance(x, ast.Name) and x.id == name for x in model.walk(n.args[0])):
                out.append(n)
    return out


def _optimization_block(model, site: ast.AST, created: ast.AST):
    """The outermost statement around ``site`` that does not contain the parameter's
    creation (the optimization loop), and the block that holds both."""
    child = site
    for anc in model.ancestors(site):
        if model.contains(anc, created):
            return child, anc
        child = anc
    return None, None


def _scored_after(model, common: ast.AST, block: ast.AST, name: str) -> bool:
    """After the optimization block (same iteration), the parameter is read again where a
    score is computed, committed or handed back to the caller (a log of its norm is not)."""
    end = model.position(block) + len(model.walk(block))
    reads = [
        n
        for n in model.walk(common)
        if isinstance(n, ast.Name) and n.id == name and model.position(n) >= end
    ]
    scoring = {id(s) for s in model.scoring_sites(common)}

    def scores(stmt: ast.stmt) -> bool:
        return isinstance(stmt, ast.Return) or any(
            id(n) in scoring or (isinstance(n, ast.Call) and callee_name(n) in _SCORE_CALLS)
            for n in _own_nodes(stmt)
        )

    return any(flows_into(model, read, scores, hops=4) is not None for read in reads)


def _own_nodes(stmt: ast.stmt) -> list[ast.AST]:
    """The nodes a statement evaluates itself (not the body of a compound statement)."""
    if isinstance(stmt, ast.If | ast.While):
        return list(ast.walk(stmt.test))
    if isinstance(stmt, ast.For | ast.AsyncFor):
        return list(ast.walk(stmt.iter))
    if isinstance(stmt, ast.With | ast.AsyncWith):
        return [n for i in stmt.items for n in ast.walk(i.context_expr)]
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Try):
        return []
    return list(ast.walk(stmt))


def _loss_covers_context_only(model, site: ast.Call) -> bool:
    """The loss reads only positions before the scored ones: its slices and the masks it is
    built from (``ctx_mask[i, :s] = True``) have an upper bound and no lower one. A shift by
    a constant (``[:, :-1]``) says nothing; a lower bound (``[:, s:]``) is the scored part."""
    nodes = _value_chain(model, model.loss_of_backward(site), depth=4)
    names = {n.id for n in nodes if isinstance(n, ast.Name)}
    slices = [s for n in nodes for s in _position_slices(n)]
    func = model.function_of(site)
    scope = func.node if func is not None else model.tree
    for stmt in model.walk(scope):
        if (
            isinstance(stmt, ast.Assign)
            and isinstance(stmt.value, ast.Constant)  # a mask: ``m[i, a:b] = True``
            and any(
                isinstance(t, ast.Subscript)
                and isinstance(t.value, ast.Name)
                and t.value.id in names
                for t in stmt.targets
            )
        ):
            slices += [s for t in stmt.targets for s in _position_slices(t)]
    context = scored = False
    for sl in slices:
        if sl.lower is not None and not _constant_bound(sl.lower):
            scored = True
        elif sl.upper is not None and not _constant_bound(sl.upper):
            context = True
    return context and not scored


_SHAPE_CALLS = _TENSOR_MAKERS | {"len", "range", "arange", "size", "numel", "min", "max"}


def _value_chain(model, expr: ast.AST, depth: int) -> list[ast.AST]:
    """The nodes that compute ``expr``'s values, following names to their definitions but not
    into shapes and sizes (``torch.zeros(len(group), n)``: ``group`` is not part of the value)."""
    out: list[ast.AST] = []
    scope = model.function_of(expr)
    seen: set[str] = set()
    frontier = [expr]
    for _ in range(depth + 1):
        nxt: list[ast.AST] = []
        for root in frontier:
            stack = [root]
            while stack:
                n = stack.pop()
                out.append(n)
                if isinstance(n, ast.Call) and callee_name(n) in _SHAPE_CALLS:
                    continue
                if isinstance(n, ast.Name) and n.id not in seen:
                    seen.add(n.id)
                    nxt.extend(model.assigned_values(n.id, scope))
                stack.extend(ast.iter_child_nodes(n))
        frontier = nxt
    return out


def _position_slices(n: ast.AST) -> list[ast.Slice]:
    """Slices that pick loss positions: along an axis of a batched tensor (``x[:, :s]``,
    ``m[i, s:n]``), or a one-sided slice of a flat one (``logits[:s]``). A flat ``stream[a:b]``
    with both bounds cuts a window out of the split and says nothing about the positions."""
    if not isinstance(n, ast.Subscript):
        return []
    if isinstance(n.slice, ast.Tuple):
        return [e for e in n.slice.elts if isinstance(e, ast.Slice)]
    if isinstance(n.slice, ast.Slice) and (n.slice.lower is None or n.slice.upper is None):
        return [n.slice]
    return []


def _constant_bound(e: ast.AST) -> bool:
    if isinstance(e, ast.UnaryOp):
        e = e.operand
    return isinstance(e, ast.Constant)


@detector(ORACLE, level="static")
def oracle_selection(model):
    """``torch.minimum`` / ``min`` / ``stack(...).min(0)`` over per-token losses, or
    ``min(options)`` over a list of per-token losses built in the same function. A loss is a
    value named so, or a log-loss computed at the target (``cross_entropy``, ``-log`` of a
    ``gather`` at the target or of a prediction of the realized token); a minimum of counts is
    not.

    Confidence: medium.

    Cannot see: selection by sorting.
    """
    for site in model.call_sites:
        call = site.node
        name = site.callee
        operands: list[ast.AST] = []
        if name in ("minimum", "fmin", "min") and len(call.args) >= 2:
            operands = list(call.args[:2])
        elif name in ("min", "amin") and call.args:
            inner = call.args[0]
            if isinstance(call.func, ast.Attribute) and not isinstance(call.func.value, ast.Name):
                inner = call.func.value  # torch.stack([...]).min(dim=0)
            if isinstance(inner, ast.Call) and inner.args:
                operands = list_elements(model, inner.args[0])
            elif isinstance(inner, ast.Name) and isinstance(call.func, ast.Name):
                operands = _per_item_losses(model, call, inner)  # min(losses)
        elif name == "min" and isinstance(call.func, ast.Attribute):
            inner = call.func.value
            if isinstance(inner, ast.Call) and inner.args:
                operands = list_elements(model, inner.args[0])
        if len(operands) < 2:
            continue
        names = [ast.unparse(o) for o in operands]
        if all(_lossy(model, o) for o in operands) and not all(
            is_pass_result(model, o) for o in operands
        ):
            yield model.finding(
                ORACLE,
                call,
                f"takes the per-token minimum of losses ({', '.join(n[:30] for n in names)}): "
                "the target decides which prediction is scored",
                confidence="medium",
                fix="mix predictors with weights computed from the prefix (e.g. model entropy), "
                "never from the loss at the target",
            )


def _per_item_losses(model, call: ast.Call, name: ast.Name) -> list[ast.AST]:
    """The losses a ``min(xs)`` call chooses among, when ``xs`` holds several predictors'
    losses in a function that scores validation tokens (not a log of training losses)."""
    func = model.function_of(call)
    if func is None or not (model.is_scoring_function(func.name) or model.reads_val(func)):
        return []
    elements = list_elements(model, name)
    if any(isinstance(e, ast.Call) and callee_name(e) in ("item", "float") for e in elements):
        return []
    return elements


def _lossy(model, expr: ast.AST) -> bool:
    """A loss or probability read at the target: by its name, or by what computes it."""
    if isinstance(expr, ast.Constant):
        return False
    if _LOSSY.search(model.unparse(expr)):
        return True
    # A log-loss at the realized token: ``cross_entropy(z, y)``, ``-log(p.gather(-1, y))``,
    # ``-log(q(ctx, tok))``. A count or probability read at the target without a log is not
    # (``np.minimum(full_count, ctx_count)`` clips a ratio; it chooses no predictor).
    has_log = any(
        isinstance(n, ast.Call) and callee_name(n) in _LOG_CALLS
        for part in model.expand(expr, depth=2)
        for n in model.walk(part)
    )
    return has_log and (reads_target(model, expr) is not None or realized_token(model, expr))


_LOG_CALLS = {"log", "log2", "log_softmax", "cross_entropy", "nll_loss"}


_LESS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)


@detector(ORACLE, level="static")
def oracle_compare_and_keep(model):
    """Per item, keep whichever prediction lost less at the target: ``torch.where(a < b, ...)``
    on two losses, or a compare-and-keep (``if avg < best[b]: best[b].copy_(avg)``, ``best[b] =
    nll``) in a function that scores validation tokens.

    Confidence: medium.

    Cannot see: selection by sorting.
    """
    for node in model.of_type(ast.Compare):
        if len(node.ops) != 1 or not isinstance(node.ops[0], _LESS):
            continue
        left, right = node.left, node.comparators[0]
        parent = model.parents.get(node)
        if isinstance(parent, ast.Call) and callee_name(parent) == "where":
            if parent.args[:1] == [node] and _lossy(model, left) and _lossy(model, right):
                yield _oracle_finding(model, parent, left, right, "torch.where chooses by")
            continue
        if not (isinstance(parent, ast.If) and parent.test is node):
            continue
        kept = _kept_per_item(model, parent, left, right)
        if kept is None or not (_lossy(model, left) or _lossy(model, right)):
            continue
        func = model.function_of(parent)
        if func is None or not (model.is_scoring_function(func.name) or model.reads_val(func)):
            continue
        yield _oracle_finding(model, parent, left, right, f"keeps `{kept}` when")


def _kept_per_item(model, branch: ast.If, left: ast.AST, right: ast.AST) -> str | None:
    """The per-item running best the branch overwrites: one side of the comparison is
    ``best[k]`` and the body writes ``best[k]`` (or ``best[k].copy_(...)``)."""
    for side in (left, right):
        if not (isinstance(side, ast.Subscript) and isinstance(side.value, ast.Name)):
            continue
        base = side.value.id
        for stmt in branch.body:
            for n in ast.walk(stmt):
                written = None
                if isinstance(n, ast.Assign):
                    written = n.targets[0]
                elif isinstance(n, ast.Call) and callee_name(n) in ("copy_", "fill_"):
                    written = n.func.value if isinstance(n.func, ast.Attribute) else None
                while isinstance(written, ast.Subscript | ast.Attribute):
                    written = written.value
                if isinstance(written, ast.Name) and written.id == base:
                    return model.unparse(side)
    return None


def _oracle_finding(model, node, left, right, how: str):
    a, b = model.unparse(left)[:30], model.unparse(right)[:30]
    return model.finding(
        ORACLE,
        node,
        f"{how} `{a}` < `{b}`: the loss at the target decides which prediction is kept and scored",
        confidence="medium",
        fix="mix predictors with weights computed from the prefix (e.g. model entropy), "
        "never from the loss at the target",
    )


@detector(TILT_GATE, level="static")
def tilt_gate_switches(model):
    """Within-word / word-start tilt experts, which read the realized token's boundary flag:
    ``WITHIN_BETA`` / ``WORD_BETA`` / ``*_TAU`` style settings, an error if on by default, a
    warning if off.

    Confidence: medium.

    Cannot see: the C++ kernel that reads ``is_bnd[tokens[p]]``.
    """
    for env_var, (default, line) in model.env.env_defaults.items():
        if not _TILT_SWITCH.match(env_var):
            continue
        try:
            on = float(default) != 0.0  # type: ignore[arg-type]
        except (TypeError, ValueError):
            on = False
        node = LineNode(line)
        if on:
            yield model.finding(
                TILT_GATE,
                node,
                f"{env_var} defaults to {default!r}: the within-word/word-start tilt expert "
                "reads the boundary flag of the token being scored",
                confidence="medium",
                fix=f"set {env_var} to 0 and gate on prefix tokens (tokens[p-1]) only",
            )
        else:
            yield model.finding(
                TILT_GATE,
                node,
                f"{env_var} can switch on a within-word/word-start tilt expert that reads the "
                f"token being scored (off by default: {default!r})",
                confidence="low",
                severity="warning",
                fix=f"remove the {env_var} switch, or gate on prefix tokens only",
            )


# --------------------------------------------------------------------------- flip test, canary
# `golf-check run` detectors: each receives one harness.runtime.session.SeedAudit.

FLIP_TEST = rule(
    "C1.flip-test",
    "C1",
    "Changing a token must not change the distributions at or before its position",
    """
The distribution at position p may depend only on the artifact and the tokens before p.
golf-check re-evaluates the artifact on a short validation prefix three times: unchanged,
with the token at a random position t replaced, and with every token after t replaced. The
full log-distributions at positions 1..t must agree within 1e-4 nats. SLOT-style bias
fitting on the scored positions, target-dependent gates and off-by-one cache updates all
move them (PR #1240 found a 100% violation rate for SLOT).

Example:
    bias = fit_bias(logits[s:e], targets[s:e]); score(logits[s:e] + bias)
""",
    (
        "https://github.com/openai/parameter-golf/pull/1240",
        "https://github.com/openai/parameter-golf/issues/1017",
        "https://github.com/openai/parameter-golf/issues/1336",
    ),
)

CANARY_BOUND = rule(
    "C1.canary-bound",
    "C1",
    "A causal, normalized scorer cannot beat the canary stream's ideal code length",
    """
golf-check serves, at the validation split's own path, names and headers, a secret split
drawn from a keyed bigram process over the whole vocabulary, and keeps the exact probability
p of every token it drew. For any causal (C1), normalized (C2) predictor q, q/p is a
nonnegative martingale with mean 1, so by Ville's inequality its total loss over N positions
falls below their ideal code length, the sum of -ln p, minus ln(1/alpha) with probability at
most alpha. A total under that bound proves that the score looked at the targets or did not
use a distribution. The loss judged is the ledger's where the script reports one, else the
loss it printed.

Example:
    canary: 4,095 tokens scored, observed 2,104.7 nats < bound 3,271.5 (= ideal 3,278.4 - ln 1000)
""",
    (
        "https://github.com/openai/parameter-golf/issues/1017",
        "https://github.com/openai/parameter-golf/pull/886",
    ),
)


@detector(FLIP_TEST, level="ledger")
def flip_test(audit):
    """Ledger flip test: changing validation tokens at or after a position moved the
    distributions scored at earlier positions beyond the tolerance."""
    flip = audit.flip
    if flip is None or not flip.supported or not flip.violated:
        return
    worst = []
    for name, variants in flip.passes.items():
        for variant, found in variants.items():
            if found["max_diff"] > flip.tolerance:
                worst.append(
                    f"{name} / {variant}: {found['positions_changed']} of positions 1..{flip.t} "
                    f"moved (max |Δ log p| {found['max_diff']:.3g}), first {found['first_positions']}"
                )
    yield audit_finding(
        FLIP_TEST,
        audit,
        f"changing validation tokens at or after position {flip.t} changed the distributions "
        f"at earlier positions in {len(worst)} pass/variant pair(s)",
        evidence="\n".join(worst[:4]),
        level="ledger",
        fix="compute each distribution from the prefix only; fit nothing on scored targets",
    )


@detector(CANARY_BOUND, level="canary")
def canary_bound(audit):
    """Canary run: the reported loss on the keyed canary stream fell below the bound a causal,
    normalized scorer beats only with the test's small probability."""
    canary = audit.canary
    if canary is None or not canary.violated:
        return
    yield audit_finding(
        CANARY_BOUND,
        audit,
        f"on the canary stream the run reported {canary.observed_nats:.1f} nats over "
        f"{canary.scored:,} tokens, below the bound {canary.bound_nats:.1f} that a causal "
        f"normalized scorer beats with probability at most {canary.alpha:g}",
        evidence=canary.summary(),
        level="canary",
        fix="score with a causal, normalized distribution (see C1 and C2)",
    )


_BOS = re.compile(r"bos|doc_start|boundary|segment|cu_seqlens|doc_id", re.IGNORECASE)


def _shift_slices(node: ast.AST) -> tuple[bool, bool]:
    """Whether ``node`` adds ``x[:, 1:]`` (current positions) and ``x[:, :-1]`` (previous
    positions) of the same batched tensor ``x``."""
    cur: set[str] = set()
    prev: set[str] = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Subscript):
            text = ast.unparse(n.slice).replace(" ", "").strip("()")
            base = ast.unparse(n.value)
            if text in (":,1:", ":,1:,:"):
                cur.add(base)
            elif text in (":,:-1", ":,:-1,:"):
                prev.add(base)
    return bool(cur & prev), bool(cur & prev)


@detector(CROSS_DOCUMENT_SMEAR, level="static")
def cross_document_smear(model):
    """``x[:, 1:] + g * x[:, :-1]`` (same tensor, batched) in a function that never mentions a
    BOS/document mask; a warning (contested ruling, merged records predate it).

    Confidence: medium.

    Cannot see: masks applied in another function.
    """
    for node in model.of_type(ast.BinOp):
        if not isinstance(node.op, ast.Add):
            continue
        cur, prev = _shift_slices(node)
        if not (cur and prev):
            continue
        func = model.function_of(node)
        body = func.node if func else model.tree
        names = (
            n.id if isinstance(n, ast.Name) else getattr(n, "attr", "")
            for n in model.walk(body)
            if isinstance(n, ast.Name | ast.Attribute)
        )
        if any(_BOS.search(name) for name in names):
            continue
        yield model.finding(
            CROSS_DOCUMENT_SMEAR,
            node,
            "blends each position with the previous one without a BOS mask: the first token "
            "of a document sees the previous document in packed rows",
            confidence="medium",
            fix="mask the shift at document starts: not_bos = (input_ids[:, 1:] != BOS_ID)",
        )


_GATE_TABLE = re.compile(r"bnd|bound|word|within|start|space|flag|gate|mask", re.IGNORECASE)
_GATE_USE = re.compile(r"logit|logp|prob|beta|tilt|bonus|boost|gate|expert", re.IGNORECASE)


@detector(TILT_GATE, level="static")
def gate_on_scored_token(model):
    """In Python code, a flag table (``is_bnd``, ``word_start``, ...) read at the token being
    scored (``is_bnd[tokens[p]]``) whose value then feeds the logits, a tilt or a mixing weight.

    Confidence: low.

    Cannot see: the C++ kernel that reads ``is_bnd[tokens[p]]``.
    """
    for node in model.of_type(ast.Subscript):
        if not isinstance(node.ctx, ast.Load) or not _GATE_TABLE.search(ast.unparse(node.value)):
            continue
        stmt = model.statement_of(node)
        if not isinstance(stmt, ast.Assign) or not model.is_scored_token(node.slice):
            continue
        names = {t.id for t in stmt.targets if isinstance(t, ast.Name)}
        if not names or any(re.search(r"byte", n, re.IGNORECASE) for n in names):
            continue
        func = model.function_of(stmt)
        body = func.node if func else model.tree
        for use in model.walk(body):
            if not (
                isinstance(use, ast.Name)
                and use.id in names
                and isinstance(use.ctx, ast.Load)
                and use.lineno >= stmt.lineno
            ):
                continue
            used_in = model.statement_of(use)
            if _GATE_USE.search(ast.unparse(used_in)):
                yield model.finding(
                    TILT_GATE,
                    node,
                    f"`{ast.unparse(node)[:50]}` reads a flag of the token being scored and "
                    f"feeds it into the prediction (line {used_in.lineno})",
                    confidence="medium",
                    fix="gate on prefix tokens only (tokens[p-1]); never on the token at p",
                )
                break


def _target_key_helpers(model):
    """``table[full_hash(ctx, cand)]`` where ``full_hash(ctx, target)`` mixes its target
    parameter into the key: the helper's callers build the key the banned way, whatever
    they pass (the gold token, or every candidate of a vocabulary-wide lookup)."""
    from golf_check.harness.static.model import TARGET_NAME, callee_name

    helpers = {}
    for func in model.functions:
        targets = {p for p in func.params if TARGET_NAME.search(p)}
        if not targets:
            continue
        for n in model.walk(func.node):
            if isinstance(n, ast.BinOp) and isinstance(n.op, MIXING_OPS):
                used = {x.id for x in ast.walk(n) if isinstance(x, ast.Name)}
                if used & targets:
                    helpers[func.name] = (sorted(used & targets)[0], n)
                    break
    for node in model.of_type(ast.Subscript):
        if not (isinstance(node.ctx, ast.Load) and isinstance(node.slice, ast.Call)):
            continue
        name = callee_name(node.slice)
        func = model.function_of(node)
        if name not in helpers or (func is not None and _UPDATER.search(func.name)):
            continue
        param, mixed = helpers[name]
        yield model.finding(
            TARGET_IN_KEY,
            node,
            f"lookup `{ast.unparse(node)[:60]}` uses {name}(), which hashes its `{param}` "
            f"argument into the key (line {mixed.lineno}: `{ast.unparse(mixed)[:50]}`)",
            fix="build the key from prefix tokens only and score a full distribution over "
            "the vocabulary (normalize over every candidate next token)",
        )
