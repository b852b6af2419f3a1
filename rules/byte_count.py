"""EVIDENCE, static part: the byte count val_bpb is divided by (rules.md R-BPB-BYTES; issue
#1719). The leading-space byte of a SentencePiece piece is counted exactly once."""

from __future__ import annotations

import ast

from golf_check.harness.rulebook import detector, rule
from golf_check.harness.static.model import callee_name

BYTE_DOUBLE_COUNT = rule(
    "EVIDENCE.byte-double-count",
    "EVIDENCE",
    "The leading-space byte must be counted once: in the byte table or at scoring, not both",
    """
val_bpb divides the loss by the UTF-8 bytes of the validation text. A piece that starts with
"▁" stands for a space plus its text; the canonical count keeps the text's bytes in the
table and adds the space's byte at scoring time, only when the previous token is not a
boundary. A table built with the space already in it (`len(piece[1:].encode()) + 1`, or the
"▁" replaced by a space before measuring), used together with that same scoring-time add,
counts every such space twice: the byte total grows by about 17 % and val_bpb shrinks by as
much (issue #1719; several pull requests were closed for it). Keeping the space in the table
is fine when scoring subtracts it after a boundary instead of adding it.

Example:
    if piece.startswith("▁"):
        has_space[i] = True
        base_bytes[i] = len(piece[1:].encode("utf-8")) + 1   # the space, counted here...
    ...
    nbytes = base_bytes[tgt] + (has_space[tgt] & ~is_boundary[prev])   # ...and again here
""",
    [
        "https://github.com/openai/parameter-golf/issues/1719",
        "https://github.com/openai/parameter-golf/issues/1017",
        "https://github.com/openai/parameter-golf/pull/1804",
    ],
)

_SPACE = "\u2581"


@detector(BYTE_DOUBLE_COUNT, level="static")
def leading_space_counted_twice(model):
    """A byte table built in an ``if piece.startswith("▁")`` branch that both sets a
    leading-space flag and adds the space's byte (``len(piece[1:]) + 1``, ``+= 1``, or the piece
    measured with its "▁" replaced by a space), with the flag added again where bytes are
    counted (through the builder's returned tuple and the parameters it is passed to);
    subtracting the flag after a boundary is the legal form.

    Confidence: high.

    Cannot see: tables loaded from a file.
    """
    for builder, with_space, flags, line in _tables(model):
        byte_names = _aliases(model, builder, with_space)
        flag_names = _aliases(model, builder, flags)
        reported: set[int] = set()
        for node in model.of_type(ast.AugAssign, ast.BinOp):
            if not isinstance(node.op, ast.Add) or model.function_of(node) is builder:
                continue
            stmt = model.statement_of(node)
            if id(stmt) in reported:
                continue
            added = node.value if isinstance(node, ast.AugAssign) else node
            flag = _read_of(model, added, flag_names)
            if flag is None:
                continue
            func = model.function_of(node)
            scope = func.node if func is not None else model.tree
            if not any(
                isinstance(n, ast.Subscript) and _base(n) in byte_names for n in model.walk(scope)
            ):
                continue
            reported.add(id(stmt))
            yield model.finding(
                BYTE_DOUBLE_COUNT,
                node,
                f"adds the leading-space byte (`{model.unparse(flag)[:40]}`) to a byte table "
                f"that already counts it (line {line}): every space after a word is counted "
                "twice, inflating the byte total and deflating val_bpb",
                fix="count the space once: keep `len(piece[1:].encode())` in the table and add "
                "the flag at scoring, or keep the space in the table and subtract it after "
                "a boundary token",
            )


def _tables(model):
    """(builder function, byte tables holding the space, space-flag tables, line) for every
    ``if piece.startswith("▁"):`` branch that sets a flag and also adds the space's byte."""
    for branch in model.of_type(ast.If):
        if not _space_test(branch.test):
            continue
        func = model.function_of(branch)
        flags, with_space, line = set(), set(), None
        for stmt in branch.body:
            for n in ast.walk(stmt):
                if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Subscript):
                    table = _base(n.targets[0])
                    if isinstance(n.value, ast.Constant) and n.value.value in (True, 1):
                        flags.add(table)
                    elif _plus_one(n.value):
                        with_space.add(table)
                        line = n.lineno
                elif _adds_one(n):
                    with_space.add(_base(n.target))
                    line = n.lineno
        if func is not None and flags:
            # ``nbytes[i] = len(piece.replace("▁", " ").encode())``: the space measured as text.
            for n in model.walk(func.node):
                if (
                    isinstance(n, ast.Assign)
                    and isinstance(n.targets[0], ast.Subscript)
                    and _measures_space(n.value)
                ):
                    with_space.add(_base(n.targets[0]))
                    line = line or n.lineno
        flags -= with_space
        flags.discard(None)
        with_space.discard(None)
        if flags and with_space and func is not None:
            yield func, with_space, flags, line


def _measures_space(value: ast.AST) -> bool:
    """``len(...)`` of a piece whose "▁" was replaced by a space."""
    calls = [n for n in ast.walk(value) if isinstance(n, ast.Call)]
    return any(callee_name(c) == "len" for c in calls) and any(
        callee_name(c) == "replace"
        and len(c.args) >= 2
        and isinstance(c.args[0], ast.Constant)
        and c.args[0].value == _SPACE
        and isinstance(c.args[1], ast.Constant)
        and c.args[1].value == " "
        for c in calls
    )


def _space_test(test: ast.AST) -> bool:
    """``piece.startswith("▁")`` or ``piece[0] == "▁"``."""
    if isinstance(test, ast.Call) and callee_name(test) == "startswith" and test.args:
        arg = test.args[0]
        return isinstance(arg, ast.Constant) and arg.value == _SPACE
    if isinstance(test, ast.Compare) and len(test.comparators) == 1:
        side = test.comparators[0]
        return isinstance(side, ast.Constant) and side.value == _SPACE
    return False


def _plus_one(value: ast.AST) -> bool:
    """``len(...) + 1`` (either order): a length with the space's byte added."""
    if not (isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add)):
        return False
    sides = (value.left, value.right)
    one = any(_is_one(s) for s in sides)
    length = any(
        isinstance(n, ast.Call) and callee_name(n) == "len" for s in sides for n in ast.walk(s)
    )
    return one and length


def _adds_one(node: ast.AST) -> bool:
    """``table[i] += 1``: the space's byte added to an entry already set."""
    return (
        isinstance(node, ast.AugAssign)
        and isinstance(node.target, ast.Subscript)
        and isinstance(node.op, ast.Add)
        and _is_one(node.value)
    )


def _is_one(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value == 1


def _base(node: ast.AST) -> str | None:
    while isinstance(node, ast.Subscript | ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _aliases(model, builder, names: set[str]) -> set[str]:
    """The names a table goes by: in its builder, where the builder's returned tuple is
    unpacked (``base_lut, space_lut, _ = build_luts(sp)``), and the parameters it is passed
    to (``eval_val(..., base_lut, ...)``)."""
    out = set(names)
    positions = set()
    for ret in model.walk(builder.node):
        if isinstance(ret, ast.Return) and isinstance(ret.value, ast.Tuple):
            for i, elt in enumerate(ret.value.elts):
                if any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(elt)):
                    positions.add(i)
    for site in model.callers_of(builder):
        stmt = model.statement_of(site.node)
        if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Tuple):
            for i, elt in enumerate(stmt.targets[0].elts):
                if i in positions and isinstance(elt, ast.Name):
                    out.add(elt.id)
    for _ in range(3):  # through call arguments into parameters, a few levels deep
        grown = False
        for site in model.call_sites:
            call = site.node
            for func in model.functions_named(site.callee):
                params = func.params[1:] if func.is_method else func.params
                bound = list(zip(params, call.args, strict=False))
                bound += [(k.arg, k.value) for k in call.keywords if k.arg in func.params]
                for param, arg in bound:
                    if isinstance(arg, ast.Name) and arg.id in out and param not in out:
                        out.add(param)
                        grown = True
        if not grown:
            break
    return out


def _read_of(model, expr: ast.AST, names: set[str]) -> ast.Subscript | None:
    for n in model.walk(expr):
        if isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Load) and _base(n) in names:
            return n
    return None
