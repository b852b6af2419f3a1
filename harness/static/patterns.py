"""What an expression computes, read from its definitions rather than from its name.

Detectors for the scoring conditions need to know whether a value is a full distribution
over the vocabulary (``softmax``), its log (``log_softmax``), a per-token quantity that does
not depend on the target (the entropy ``-(p * log p).sum(-1)``), or the loss at the target
(``cross_entropy``, ``log_probs.gather(-1, y)``, ``-probs.log()[y]``). Real submissions call
these ``neural_lp``, ``probs_neural`` or ``entropy_nll``; this module follows assignments
(``ProgramModel.assigned_values``) a few levels back and answers from the operations.

It also follows a value forward (``flows_into``): from a statement to the later statements
of its function that read what it assigned, through returns to the callers and through call
arguments into the callee's parameters, a few hops deep.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator

from golf_check.harness.static.model import callee_name

LOGDIST = "logdist"  # log of a full distribution over the vocabulary
DIST = "dist"  # a full distribution over the vocabulary
ENTROPY = "entropy"  # a per-token value computed from the distribution alone

_LOG_DIST_CALLS = {"log_softmax"}
_DIST_CALLS = {"softmax"}
# Calls that keep what their receiver (or first argument) is: casts, reshapes, clamps.
_KEEP_CALLS = {
    "float",
    "double",
    "half",
    "bfloat16",
    "to",
    "reshape",
    "view",
    "view_as",
    "squeeze",
    "unsqueeze",
    "contiguous",
    "detach",
    "clamp",
    "clamp_min",
    "clip",
    "flatten",
    "permute",
    "transpose",
    "cpu",
    "cuda",
    "numpy",
    "astype",
}
_LOSS_CALLS = {"cross_entropy", "nll_loss", "binary_cross_entropy_with_logits"}
_ENTROPY_CALLS = {"entr"}  # torch.special.entr: -p log p elementwise


def _cache(model, key: str) -> dict:
    store = model.__dict__.setdefault("_pattern_caches", {})
    return store.setdefault(key, {})


def kinds(model, expr: ast.AST, depth: int = 4) -> frozenset[str]:
    """What ``expr`` holds: a subset of {LOGDIST, DIST, ENTROPY}, read from its operations
    and, for names, from the values assigned to them in the same function."""
    memo = _cache(model, "kinds")
    key = (id(expr), depth)
    if key not in memo:
        memo[key] = frozenset()  # cycle guard
        memo[key] = _kinds(model, expr, depth)
    return memo[key]


def _kinds(model, e: ast.AST, depth: int) -> frozenset[str]:
    if depth < 0:
        return frozenset()
    if isinstance(e, ast.Name):
        out: set[str] = set()
        for value in model.assigned_values(e.id, model.function_of(e)):
            out |= kinds(model, value, depth - 1)
        return frozenset(out)
    if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub):
        inner = kinds(model, e.operand, depth)
        return inner & {ENTROPY}
    if isinstance(e, ast.BinOp):
        left, right = kinds(model, e.left, depth), kinds(model, e.right, depth)
        if isinstance(e.op, ast.Add | ast.Sub) and _constant(e.right):
            return left & {DIST, LOGDIST}  # ``probs + 1e-10`` is still the distribution
        if isinstance(e.op, ast.Sub) and _is_call(e.right, "logsumexp") and not left:
            return frozenset({LOGDIST})  # logits - logsumexp(logits, -1, keepdim=True)
        if isinstance(e.op, ast.Mult) and _constant(e.left):
            return right & {ENTROPY}
        return frozenset()
    if isinstance(e, ast.Subscript):
        return kinds(model, e.value, depth) & {DIST, LOGDIST}  # slicing positions
    if not isinstance(e, ast.Call):
        return frozenset()
    name = callee_name(e)
    receiver = e.func.value if isinstance(e.func, ast.Attribute) else None
    first = e.args[0] if e.args else None
    subject = receiver if receiver is not None and not _is_module(receiver) else first
    if name in _LOG_DIST_CALLS:
        return frozenset({LOGDIST})
    if name in _DIST_CALLS:
        return frozenset({DIST})
    if name == "exp" and subject is not None and LOGDIST in kinds(model, subject, depth):
        return frozenset({DIST})
    if name in ("log", "log2") and subject is not None and DIST in kinds(model, subject, depth):
        return frozenset({LOGDIST})
    if name == "entropy" and receiver is not None and not e.args:
        return frozenset({ENTROPY})  # Categorical(logits=...).entropy()
    if name == "sum" and subject is not None and _vocab_axis(e, _function_form(e)):
        summed = subject
        while isinstance(summed, ast.UnaryOp) and isinstance(summed.op, ast.USub):
            summed = summed.operand
        if _is_plogp(model, summed, depth):
            return frozenset({ENTROPY})
        return frozenset()
    if name in _KEEP_CALLS and subject is not None:
        return kinds(model, subject, depth)
    return frozenset()


def _is_plogp(model, e: ast.AST, depth: int) -> bool:
    """``p * log p`` (either order) or ``entr(p)``."""
    if isinstance(e, ast.Call) and callee_name(e) in _ENTROPY_CALLS:
        return True
    if not (isinstance(e, ast.BinOp) and isinstance(e.op, ast.Mult)):
        return False
    a, b = kinds(model, e.left, depth), kinds(model, e.right, depth)
    if (DIST in a and LOGDIST in b) or (LOGDIST in a and DIST in b):
        return True
    # ``p * log(p)`` / ``exp(lp) * lp`` whatever ``p`` is (a parameter, say): the same
    # tensor on both sides, once through log (or exp).
    return _log_of(model, e.right, e.left) or _log_of(model, e.left, e.right)


def _log_of(model, log_side: ast.AST, other: ast.AST) -> bool:
    """``log_side`` is ``log(other)`` (up to clamps and an epsilon), or ``other`` is
    ``exp(log_side)``."""
    log_side, other = _defined(model, log_side), _defined(model, other)
    if _is_call(log_side, "log") and _same(_subject(log_side), other):
        return True
    return _is_call(other, "exp") and _same(_subject(other), log_side)


def _defined(model, e: ast.AST) -> ast.AST:
    """A name's single assigned value in its function (else the name itself)."""
    if isinstance(e, ast.Name):
        values = model.assigned_values(e.id, model.function_of(e))
        if len(values) == 1:
            return values[0]
    return e


def _subject(call: ast.Call) -> ast.AST | None:
    receiver = call.func.value if isinstance(call.func, ast.Attribute) else None
    if receiver is not None and not _is_module(receiver):
        return receiver
    return call.args[0] if call.args else None


def _strip(e: ast.AST | None) -> ast.AST | None:
    """Drop clamps, casts and an added epsilon: ``(p + 1e-10)`` / ``p.clamp_min(eps)`` is p."""
    while True:
        if isinstance(e, ast.BinOp) and isinstance(e.op, ast.Add) and _constant(e.right):
            e = e.left
        elif isinstance(e, ast.Call) and callee_name(e) in _KEEP_CALLS | {"clamp_min"}:
            inner = _subject(e)
            if inner is None:
                return e
            e = inner
        else:
            return e


def _same(a: ast.AST | None, b: ast.AST | None) -> bool:
    a, b = _strip(a), _strip(b)
    return a is not None and b is not None and ast.dump(a) == ast.dump(b)


def _function_form(call: ast.Call) -> bool:
    """``torch.max(x, -1)`` (the tensor is the first argument) rather than ``x.max(-1)``."""
    return not isinstance(call.func, ast.Attribute) or _is_module(call.func.value)


def _vocab_axis(call: ast.Call, function_form: bool) -> bool:
    """A sum over one explicit axis (``.sum(-1)``, ``.sum(dim=-1)``, ``torch.sum(x, -1)``):
    a reduction per position, not a total."""
    args = call.args[1:] if function_form else call.args
    dims = [k.value for k in call.keywords if k.arg in ("dim", "axis")] or args[:1]
    if not dims:
        return False
    d = dims[0]
    if isinstance(d, ast.UnaryOp) and isinstance(d.op, ast.USub):
        d = d.operand
    return isinstance(d, ast.Constant) and isinstance(d.value, int)


def _constant(e: ast.AST) -> bool:
    if isinstance(e, ast.UnaryOp):
        e = e.operand
    return isinstance(e, ast.Constant) and isinstance(e.value, int | float)


def _is_call(e: ast.AST, name: str) -> bool:
    return isinstance(e, ast.Call) and callee_name(e) == name


def _is_module(e: ast.AST) -> bool:
    """``torch`` / ``F`` / ``torch.special`` / ``np``: a namespace, not a tensor."""
    if not isinstance(e, ast.Name | ast.Attribute):
        return False  # a call or a subscript is a value
    text = ast.unparse(e)
    return text in ("torch", "F", "np", "numpy", "math", "nn.functional", "special") or (
        text.startswith("torch.")
    )


# --------------------------------------------------------------------------- target reads


def reads_target(model, expr: ast.AST, depth: int = 2) -> ast.AST | None:
    """The place where ``expr`` (or what defines its names) reads a value at the target:
    ``x.gather(-1, y...)``, ``x[..., y]``, ``cross_entropy(logits, y)``; None if it never
    does. A value with no such read does not depend on which token was realized."""
    memo = _cache(model, "reads_target")
    key = (id(expr), depth)
    if key in memo:
        return memo[key]
    memo[key] = None
    found = None
    for part in model.expand(expr, depth=depth):
        for n in model.walk(part):
            if isinstance(n, ast.Call):
                name = callee_name(n)
                if name == "gather" and any(model.is_target(a) for a in n.args[1:]):
                    found = n
                elif name in _LOSS_CALLS and any(model.is_target(a) for a in n.args[1:2]):
                    found = n
                elif name in _LOSS_CALLS and any(
                    k.arg in ("target", "targets") for k in n.keywords
                ):
                    found = n
            elif isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Load):
                parts = n.slice.elts if isinstance(n.slice, ast.Tuple) else [n.slice]
                if any(not isinstance(p, ast.Slice) and model.is_scored_token(p) for p in parts):
                    found = n
            if found is not None:
                break
        if found is not None:
            break
    memo[key] = found
    return found


# --------------------------------------------------------------------------- forward flow


def _loads(model) -> dict[tuple[int, str], list[ast.Name]]:
    """Name reads by (enclosing function, name), built once per model when first needed."""
    index = model.__dict__.get("_pattern_loads")
    if index is None:
        index = {}
        for n in model.of_type(ast.Name):
            if isinstance(n.ctx, ast.Load):
                index.setdefault((id(model.function_of(n)), n.id), []).append(n)
        model._pattern_loads = index
    return index


def _assigned_names(stmt: ast.AST) -> list[str]:
    targets: list[ast.AST] = []
    if isinstance(stmt, ast.Assign):
        targets = list(stmt.targets)
    elif isinstance(stmt, ast.AnnAssign | ast.AugAssign):
        targets = [stmt.target]
    elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        # ``xs.append(v)`` / ``buf.copy_(v)`` / ``buf.add_(v)``: the receiver now holds v.
        func = stmt.value.func
        if isinstance(func, ast.Attribute) and func.attr in _MUTATORS:
            targets = [func.value]
    out = []
    for t in targets:
        for n in ast.walk(t) if isinstance(t, ast.Tuple | ast.List) else [t]:
            while isinstance(n, ast.Subscript | ast.Attribute | ast.Starred):
                n = n.value
            if isinstance(n, ast.Name):
                out.append(n.id)
    return out


_MUTATORS = {"append", "extend", "insert", "copy_", "add_", "update", "index_copy_", "scatter_"}


def flows_into(
    model, start: ast.AST, accept: Callable[[ast.stmt], bool], hops: int = 5
) -> ast.stmt | None:
    """The first statement downstream of ``start``'s statement that ``accept`` admits: the
    statement itself, later readers of what it assigns in the same function, the callers of
    a function that returns it, and the callee's body when it is passed as an argument."""
    seen: set[int] = set()
    frontier: list[ast.AST] = [model.statement_of(start)]
    for _ in range(hops):
        nxt: list[ast.AST] = []
        for stmt in frontier:
            if id(stmt) in seen:
                continue
            seen.add(id(stmt))
            if accept(stmt):
                return stmt
            nxt.extend(_successors(model, stmt))
        frontier = nxt
        if not frontier:
            break
    return None


def _successors(model, stmt: ast.stmt) -> Iterator[ast.AST]:
    func = model.function_of(stmt)
    loads = _loads(model)
    if isinstance(stmt, ast.Return) and func is not None:
        for site in model.callers_of(func):
            yield model.statement_of(site.node)
    for name in _assigned_names(stmt):
        for use in loads.get((id(func), name), []):
            if use.lineno <= stmt.lineno and not model.enclosing_loops(use):
                continue
            yield from _through_call(model, use)
            yield model.statement_of(use)


def _through_call(model, use: ast.Name) -> Iterator[ast.AST]:
    """``f(..., use, ...)`` with ``f`` defined in the script: the statements of ``f`` that
    read the matching parameter."""
    call = model.parents.get(use)
    if isinstance(call, ast.keyword):
        keyword, call = call.arg, model.parents.get(call)
    else:
        keyword = None
    if not isinstance(call, ast.Call):
        return
    for func in model.functions_named(callee_name(call)):
        params = func.params[1:] if func.is_method and func.params[:1] == ["self"] else func.params
        if keyword is not None:
            param = keyword if keyword in func.params else None
        elif use in call.args:
            i = call.args.index(use)
            param = params[i] if i < len(params) else None
        else:
            param = None
        if param is None:
            continue
        for read in _loads(model).get((id(func), param), []):
            yield model.statement_of(read)


# --------------------------------------------------------------------------- realized tokens


def realized_token(model, expr: ast.AST, depth: int = 2) -> bool:
    """``expr`` is (or is computed from) the token at the position being predicted: what
    ``ProgramModel.is_scored_token`` says, or ``toks[p]`` where the same function also reads
    ``toks[p - k]`` as its context (whatever ``p`` and ``toks`` are called)."""
    memo = _cache(model, "realized")
    key = (id(expr), depth)
    if key not in memo:
        memo[key] = False  # cycle guard
        memo[key] = any(
            _realized_read(model, n)
            for part in model.expand(expr, depth=depth)
            for n in model.walk(part)
            if isinstance(n, ast.Subscript | ast.Name)
        )
    return memo[key]


def _realized_read(model, n: ast.AST) -> bool:
    if isinstance(n, ast.Name):
        return model.is_target(n)
    if model.is_scored_token(n):
        return True
    if not isinstance(n.slice, ast.Name) or not isinstance(n.ctx, ast.Load):
        return False
    base = model.unparse(n.value)
    return (id(model.function_of(n)), base, n.slice.id) in _context_reads(model)


def _context_reads(model) -> set[tuple[int, str, str]]:
    """(function, sequence, position) for every ``seq[pos - k]`` read, built once."""
    index = model.__dict__.get("_pattern_context_reads")
    if index is None:
        index = set()
        for n in model.of_type(ast.Subscript):
            s = n.slice
            if (
                isinstance(s, ast.BinOp)
                and isinstance(s.op, ast.Sub)
                and isinstance(s.left, ast.Name)
                and isinstance(n.ctx, ast.Load)
            ):
                index.add((id(model.function_of(n)), model.unparse(n.value), s.left.id))
        model._pattern_context_reads = index
    return index


_HASH_OPS = (ast.BitXor, ast.BitOr, ast.BitAnd, ast.LShift, ast.RShift, ast.Mod)


def hashed_key(model, key: ast.AST) -> bool:
    """A bucket index: the key, or the value its name was given, hashes (``^``, shifts) or
    folds into a table size (``& mask``, ``% buckets``)."""
    parts = [key]
    if isinstance(key, ast.Name):
        parts += model.assigned_values(key.id, model.function_of(key))
    return any(
        isinstance(n, ast.BinOp) and isinstance(n.op, _HASH_OPS)
        for part in parts
        for n in model.walk(part)
    )


# --------------------------------------------------------------------------- entropy sites


_SUMMARIES = {"max", "amax", "min", "amin", "logsumexp", "mean", "std", "var"}


def entropy_sites(model) -> list[ast.Call]:
    """Every call in the script that computes a per-position entropy (``(p * log p).sum(-1)``,
    ``entr(p).sum(-1)``, ``dist.entropy()``), found once per model: scripts hold a handful,
    so the detectors ask about these instead of classifying every expression."""
    sites = model.__dict__.get("_pattern_entropy_sites")
    if sites is None:
        sites = []
        for call in model.of_type(ast.Call):
            name = callee_name(call)
            if name == "sum":
                subject = _subject(call)
                while isinstance(subject, ast.UnaryOp):
                    subject = subject.operand
                if not (
                    isinstance(subject, ast.BinOp) and isinstance(subject.op, ast.Mult)
                ) and not _is_call(subject, "entr"):
                    continue
            elif name in _SUMMARIES:
                # ``lp.max(-1)``, ``logits.log_softmax(-1).logsumexp(-1)``: one number per
                # position read off the whole predicted distribution, the target unseen.
                subject = _subject(call)
                if (
                    subject is not None
                    and _vocab_axis(call, _function_form(call))
                    and kinds(model, subject) & {DIST, LOGDIST}
                ):
                    sites.append(call)
                continue
            elif not (name == "entropy" and isinstance(call.func, ast.Attribute)):
                continue
            if ENTROPY in kinds(model, call):
                sites.append(call)
        model._pattern_entropy_sites = sites
    return sites


def holds_entropy(model, expr: ast.AST) -> ast.Call | None:
    """The entropy site ``expr`` is (up to a sign and casts), or that the single value of the
    name ``expr`` was computed with; None otherwise."""
    sites = entropy_sites(model)
    if not sites:
        return None
    e = expr
    while True:
        if isinstance(e, ast.UnaryOp):
            e = e.operand
        elif isinstance(e, ast.Attribute) and e.attr == "values":  # ``x.max(-1).values``
            e = e.value
        elif isinstance(e, ast.Subscript) and isinstance(e.slice, ast.Constant):
            e = e.value  # ``x.max(-1)[0]``
        elif isinstance(e, ast.Call) and callee_name(e) in _KEEP_CALLS and _subject(e) is not None:
            e = _subject(e)
        else:
            break
    if isinstance(e, ast.Name):
        values = model.assigned_values(e.id, model.function_of(e))
    else:
        values = [e]
    for value in values:
        for site in sites:
            if site is value or (model.indexed(value) and model.contains(value, site)):
                return site
    return None


def list_elements(model, arg: ast.AST) -> list[ast.AST]:
    """What a list holds: a literal's elements, or for a name, the elements of the literal it
    was given plus what its function appends to it (``losses.append(nll)``)."""
    if isinstance(arg, ast.List | ast.Tuple):
        return list(arg.elts)
    if not isinstance(arg, ast.Name):
        return []
    scope = model.function_of(arg)
    out: list[ast.AST] = []
    for value in model.assigned_values(arg.id, scope):
        if isinstance(value, ast.List | ast.Tuple):
            out.extend(value.elts)
    for call in scope.calls if scope is not None else []:
        func = call.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "append"
            and isinstance(func.value, ast.Name)
            and func.value.id == arg.id
            and call.args
        ):
            out.append(call.args[0])
    return out
