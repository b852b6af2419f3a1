"""Validation-data and target taint: which values carry validation tokens (or the scored
token), following assignments, container writes, calls of the script's own functions
(through what they return) and parameters."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from golf_check.harness.static.settings import dotted
from golf_check.harness.static.structure import FunctionInfo
from golf_check.harness.static.vocabulary import (
    _NO_TAINT_ATTRS,
    _NO_TAINT_CALLS,
    _SCALARS,
    TARGET_NAME,
    VAL_NAME,
    VAL_STRING,
    _name_flags,
    _names_val_split,
    callee_name,
)

_ANY_SCOPE = object()  # key for "this name, read from any scope" in the taint worklist


_VAL_TYPE = re.compile(r"^_*(Val|Valid|Validation)[A-Z_]")


def _val_typed_params(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Parameters annotated with a validation-data type (``val: ValData``)."""
    args = node.args
    return {
        a.arg
        for a in args.posonlyargs + args.args + args.kwonlyargs
        if a.annotation is not None and _VAL_TYPE.search(dotted(a.annotation).split(".")[-1])
    }


def _target_names(target: ast.AST) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Tuple | ast.List):
        for elt in target.elts:
            yield from _target_names(elt)
    elif isinstance(target, ast.Starred):
        yield from _target_names(target.value)


# In-place methods that put their argument into the object they are called on.
_MUTATORS = frozenset(
    "append extend insert add update copy_ index_copy_ index_put_ put_ scatter_ "
    "masked_scatter_ set_".split()
)


def _container_name(target: ast.AST, store: bool = True) -> str | None:
    """The local name a store writes into: ``xb`` for ``xb[i, :n] = ...`` (and, for an
    in-place method's receiver, ``xb`` for ``xb[i].copy_(...)`` or ``xb.copy_(...)``).
    Attribute stores are left to the ``self`` attribute rule."""
    if store and not isinstance(target, ast.Subscript):
        return None
    while isinstance(target, ast.Subscript):
        target = target.value
    if isinstance(target, ast.Name) and target.id not in ("self", "cls"):
        return target.id
    return None


def _bind(func: FunctionInfo, call: ast.Call) -> Iterator[tuple[str, ast.expr]]:
    params = list(func.params)
    if func.is_method and params and params[0] in ("self", "cls"):
        params = params[1:]
    for param, arg in zip(params, call.args, strict=False):
        if not isinstance(arg, ast.Starred):
            yield param, arg
    for kw in call.keywords:
        if kw.arg and kw.arg in func.params:
            yield kw.arg, kw.value


class Taint:
    """Where validation tokens and targets flow (a ``ProgramModel`` part)."""

    def _collect_assignments(self) -> None:
        kinds = (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)
        kinds += (ast.comprehension, ast.withitem, ast.NamedExpr)
        for node in self.of_type(*kinds):
            scope = None
            pairs: list[tuple[ast.expr, ast.expr]] = []
            if isinstance(node, ast.Assign):
                pairs = [(t, node.value) for t in node.targets]
            elif isinstance(node, ast.AnnAssign | ast.AugAssign) and node.value is not None:
                pairs = [(node.target, node.value)]
            elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
                pairs = [(node.target, node.iter)]
            elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                pairs = [(node.optional_vars, node.context_expr)]
            elif isinstance(node, ast.NamedExpr):
                pairs = [(node.target, node.value)]
            if not pairs:
                continue
            scope = self.function_of(node)
            table = self._assigned.setdefault(scope, {})
            for target, value in pairs:
                for name in _target_names(target):
                    table.setdefault(name, []).append(value)
                # A store into a buffer or container (``xb[i, :n] = val_tokens[a:b]``) puts
                # the value into the container itself.
                base = _container_name(target)
                if base is not None:
                    table.setdefault(base, []).append(value)
        # In-place writes: ``buf.copy_(x)``, ``chunks.append(x)``, ``cache.update(x)``.
        for call in self.of_type(ast.Call):
            func = call.func
            if not (isinstance(func, ast.Attribute) and func.attr in _MUTATORS and call.args):
                continue
            base = _container_name(func.value, store=False)
            if base is None:
                continue
            table = self._assigned.setdefault(self.function_of(call), {})
            table.setdefault(base, []).extend(call.args)

    def _collect_returns(self) -> dict[FunctionInfo, list[ast.expr]]:
        """What each function returns or yields (for the taint of its call sites)."""
        out: dict[FunctionInfo, list[ast.expr]] = {}
        for node in self.of_type(ast.Return, ast.Yield, ast.YieldFrom):
            func = self.function_of(node)
            if func is not None and node.value is not None:
                out.setdefault(func, []).append(node.value)
        return out

    def script_callees(self, call: ast.Call) -> list[FunctionInfo]:
        """The script's own functions a call may run (by simple name), or ``[]`` for a
        library call (``torch.cat``, ``np.array``, ``x.to``) or an unknown callee."""
        key = id(call)
        known = self._callees.get(key)
        if known is not None:
            return known
        name = callee_name(call)
        funcs = self.by_name.get(name)
        if not funcs or name in _NO_TAINT_CALLS:
            funcs = []
        elif isinstance(call.func, ast.Attribute):
            head = call.func.value
            while isinstance(head, ast.Attribute):
                head = head.value
            if isinstance(head, ast.Name) and head.id in self.aliases:
                funcs = []  # torch.save, np.save: a module's function, not the script's
        self._callees[key] = funcs
        return funcs

    def _call_val(self, call: ast.Call, scope: FunctionInfo | None, carries) -> bool:
        """Whether the value a call to the script's own function returns carries validation
        data: the function returns something derived from validation data, and this call
        hands it some (an argument or the object it is called on), or the function reads
        validation data by itself. A model returned by ``train_model(h, device, val_data)``
        is validation data only if what is returned is computed from it; a model that was
        only scored on validation tokens under no-grad is not."""
        funcs = self.script_callees(call)
        if not any(f in self._returns_val for f in funcs):
            return False
        func = call.func
        via_self = False
        if isinstance(func, ast.Attribute):
            receiver = func.value
            if isinstance(receiver, ast.Name) and receiver.id in ("self", "cls"):
                via_self = True
            elif carries(receiver, scope):
                return True
        args = [a.value if isinstance(a, ast.Starred) else a for a in call.args]
        if any(carries(a, scope) for a in args + [k.value for k in call.keywords]):
            return True
        return any(f in self._returns_val and self._reads_val_itself(f, via_self) for f in funcs)

    def _reads_val_itself(self, func: FunctionInfo, via_self: bool) -> bool:
        """Whether ``func`` names validation data in its own body, not only through its
        parameters (or, when called on ``self``, through the object's attributes)."""
        key = (func, via_self)
        cache = self._intrinsic
        if key not in cache:
            params = set(func.params)
            module = self._val.get(None, set())
            local = self._assigned.get(func, {})
            found = False
            for n in self.walk(func.node):
                if isinstance(n, ast.Name):
                    found = n.id not in params and (
                        _name_flags(n.id)[0] or (n.id in module and n.id not in local)
                    )
                elif isinstance(n, ast.Attribute):
                    base = n.value
                    if isinstance(base, ast.Name) and base.id in params:
                        # ``val_data.tokens`` of a parameter comes with the argument;
                        # ``self.tokens`` comes with the object it is called on.
                        found = via_self and base.id == "self" and self._is_val_attr(n)
                    else:
                        found = _name_flags(n.attr)[0]
                elif isinstance(n, ast.Constant) and isinstance(n.value, str):
                    found = _names_val_split(n.value)
                if found:
                    break
            cache[key] = found
        return cache[key]

    def _propagate_taint(self) -> None:
        """Name taint, then attributes of ``self`` set from validation data (``self.tokens_t =
        torch.from_numpy(val.tokens)``), which taint their readers in turn: repeated until no
        new attribute turns up (a class-based evaluator keeps its tokens on ``self``)."""
        self._val_attrs: set[str] = set()
        self._returns_val: set[FunctionInfo] = set()
        returning: set[FunctionInfo] = set()
        found: set[str] = set()
        # ``self.x = value`` stores, found once: (attribute, value, scope).
        self_stores = [
            (t.attr, node.value, self.function_of(node))
            for node in self.of_type(ast.Assign)
            for t in node.targets
            if isinstance(t, ast.Attribute)
            and isinstance(t.value, ast.Name)
            and t.value.id == "self"
        ]
        for _ in range(6):
            self._propagate_names(returning, bool(found))
            returning = {
                f
                for f, values in self._returns.items()
                if f not in self._returns_val and any(self._expr_val(v, f) for v in values)
            }
            found = {
                attr
                for attr, value, scope in self_stores
                if attr not in self._val_attrs and self._expr_val(value, scope)
            }
            if not found and not returning:
                return
            self._returns_val |= returning
            self._val_attrs |= found

    def _is_val_attr(self, node: ast.Attribute) -> bool:
        if _name_flags(node.attr)[0]:
            return True
        return (
            node.attr in self._val_attrs
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
        )

    def _propagate_names(self, returning: set[FunctionInfo], attrs_grew: bool) -> None:
        """Taint names to a fixpoint over assignment and parameter edges. Called again when
        the outer loop (``_propagate_taint``) finds functions that now return validation
        data, or new tainted ``self`` attributes: taint only grows, so a later call re-checks
        only untainted edges that call those functions (or all of them, for attributes)."""
        if self._edges is None:
            self._first_propagation()
            return
        if attrs_grew:
            candidates = self._edges
        else:
            calling = self._calling
            candidates = [e for name in {f.name for f in returning} for e in calling.get(name, ())]
        queue = [e for e in candidates if e[1] not in self._val[e[0]]]
        self._drain(queue, self._val, self._expr_val)

    def _first_propagation(self) -> None:
        scopes: list[FunctionInfo | None] = [None, *self.functions]
        for scope in scopes:
            params = scope.params if scope else []
            self._val[scope] = {p for p in params if VAL_NAME.search(p)}
            if scope is not None:  # ``val: ValData``: named by its type
                self._val[scope] |= _val_typed_params(scope.node)
            self._target[scope] = {p for p in params if TARGET_NAME.search(p)}
        # Edges, built once: (scope, name) <- value, and callee param <- call-site argument.
        edges: list[tuple[FunctionInfo | None, str, ast.AST, FunctionInfo | None]] = []
        for scope in scopes:
            for name, values in self._assigned.get(scope, {}).items():
                edges.extend((scope, name, v, scope) for v in values)
        for site in self.call_sites:
            for func in self.functions_named(site.callee):
                edges.extend(
                    (func, param, arg, site.caller) for param, arg in _bind(func, site.node)
                )
        # Worklist: an edge is re-checked only when a name its value mentions becomes tainted.
        # A module-level name can be read from any function, so it wakes edges everywhere.
        mentions: dict[tuple, list] = {}
        calling: dict[str, list] = {}  # function name -> edges whose value calls it
        for edge in edges:
            data = self._data_of(edge[2])
            for n in data[0]:
                mentions.setdefault((edge[3], n), []).append(edge)
                mentions.setdefault((_ANY_SCOPE, n), []).append(edge)
            for call in data[4]:
                calling.setdefault(callee_name(call), []).append(edge)
            for name in data[6]:
                calling.setdefault(name, []).append(edge)
        self._edges, self._mentions, self._calling = edges, mentions, calling
        # Target taint reads names only: one pass is final.
        self._drain(list(edges), self._target, self._expr_target)
        self._drain(list(edges), self._val, self._expr_val)

    def _drain(self, queue: list, tainted: dict, check) -> None:
        mentions = self._mentions
        while queue:
            scope, name, value, value_scope = queue.pop()
            if name in tainted[scope]:
                continue
            if check(value, value_scope):
                tainted[scope].add(name)
                woken = (_ANY_SCOPE if scope is None else scope, name)
                queue.extend(mentions.get(woken, ()))

    def _names_in(self, expr: ast.AST) -> Iterator[ast.AST]:
        """Sub-expressions that carry data (skipping len(), .shape and the like)."""
        sub = self.walk(expr)
        i = 0
        while i < len(sub):
            node = sub[i]
            skip = (
                (isinstance(node, ast.Call) and callee_name(node) in _NO_TAINT_CALLS)
                or (isinstance(node, ast.Attribute) and node.attr in _NO_TAINT_ATTRS)
                or isinstance(node, ast.Lambda | ast.FunctionDef)
            )
            if not skip and isinstance(node, ast.Call) and self.script_callees(node):
                yield node  # the caller decides it with _call_val; its insides are not data
                if node in self._index:
                    i += self._end[node] - self._index[node]
                    continue
                return
            if skip and node is not expr and node in self._index:
                i += self._end[node] - self._index[node]
                continue
            if skip and node is expr:
                return
            yield node
            i += 1

    def _data_of(self, expr: ast.AST) -> tuple:
        """Cached: (names used, mentions validation by name/string, names a target by name,
        names the validation split by a validation-named attribute or string, calls to the
        script's own functions, names used outside those calls, names of the script's
        functions called anywhere in it, ``self`` attributes read). Whether a ``self``
        attribute carries validation data is decided when asked, so the cache holds while
        taint grows. A call to the script's own function is not scanned: what it returns
        is decided by ``_call_val``; the names inside it are still listed (they wake the
        taint worklist, and target taint still reads them)."""
        key = id(expr)
        cached = self._data.get(key)
        if cached is not None:
            return cached
        start = self._index.get(expr)
        names: set[str] = set()
        inner: set[str] = set()  # names inside calls of the script's own functions
        calls: list[ast.Call] = []
        called: set[str] = set()  # the script's functions called anywhere in ``expr``
        self_attrs: set[str] = set()
        val_attr = False
        if start is None:  # a node built after indexing: walk it
            for node in self._names_in(expr):
                if isinstance(node, ast.Name):
                    names.add(node.id)
                elif isinstance(node, ast.Attribute) and self._is_val_attr(node):
                    val_attr = True
                elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                    val_attr = val_attr or bool(VAL_STRING.search(node.value))
        else:  # the same scan as ``_names_in``, inlined over the preorder range (hot path)
            nodes, end_of = self.nodes, self._end
            i, stop = start, end_of[expr]
            while i < stop:
                node = nodes[i]
                kind = type(node)
                if kind is ast.Name:
                    names.add(node.id)
                    i += 1
                    continue
                if kind is ast.Attribute:
                    skip = node.attr in _NO_TAINT_ATTRS
                    if not skip:
                        if not val_attr:
                            val_attr = _name_flags(node.attr)[0]
                        base = node.value
                        if type(base) is ast.Name and base.id == "self":
                            self_attrs.add(node.attr)
                elif kind is ast.Call:
                    skip = callee_name(node) in _NO_TAINT_CALLS
                    if not skip and self.script_callees(node):
                        calls.append(node)
                        skip = True
                        for n in nodes[i : end_of[node]]:
                            kind = type(n)
                            if kind is ast.Name:
                                inner.add(n.id)
                            elif kind is ast.Call and self.script_callees(n):
                                called.add(callee_name(n))
                elif kind is ast.Constant:
                    skip = False
                    if not val_attr and isinstance(node.value, str):
                        val_attr = _names_val_split(node.value)
                else:
                    skip = kind is ast.Lambda or kind is ast.FunctionDef
                if not skip:
                    i += 1
                else:
                    i = end_of[node]  # past the skipped subtree
        val_named = target_named = False
        for name in names:
            val, target = _name_flags(name)
            val_named |= val
            target_named |= target
        for name in inner - names:
            target_named |= _name_flags(name)[1]
        outer = frozenset(names)
        cached = (
            outer | inner,
            val_named,
            target_named,
            val_attr,
            tuple(calls),
            outer,
            called,
            frozenset(self_attrs),
        )
        self._data[key] = cached
        return cached

    def _expr_val(self, expr: ast.AST, scope: FunctionInfo | None) -> bool:
        # Names inside calls of the script's own functions count only through _call_val.
        _, val_named, _, val_attr, calls, names, _, self_attrs = self._data_of(expr)
        if val_named or val_attr or (self_attrs and not self_attrs.isdisjoint(self._val_attrs)):
            return True
        if names & self._val.get(scope, set()):
            return True
        if scope is not None:
            module = self._val.get(None, set())
            local = self._assigned.get(scope, {})
            if any(n in module and n not in local for n in names):
                return True
        return any(self._call_val(c, scope, self._expr_val) for c in calls)

    def _expr_target(self, expr: ast.AST, scope: FunctionInfo | None) -> bool:
        names, _, target_named = self._data_of(expr)[:3]
        return target_named or bool(names & self._target.get(scope, set()))

    def is_val(self, expr: ast.AST) -> bool:
        """Whether ``expr`` (probably) carries validation tokens or derives from them."""
        return self._expr_val(expr, self.function_of(expr))

    def is_val_tokens(self, expr: ast.AST, depth: int = 4) -> bool:
        """Validation *tokens* (not scores computed from them): like ``is_val_reaching`` but
        a value produced by a scoring function, ``.item()``, ``float()``, ``len()`` or a
        formatted string is a number or text, not token data."""
        if isinstance(expr, ast.JoinedStr | ast.Constant):
            return False
        if isinstance(expr, ast.Call) and (
            callee_name(expr) in _SCALARS or self.is_scoring_function(callee_name(expr))
        ):
            return False
        scope = self.function_of(expr)
        line = getattr(expr, "lineno", 10**9)
        local = self._assigned.get(scope, {})
        for node in self._names_in(expr):
            if isinstance(node, ast.Attribute) and self._is_val_attr(node):
                return True
            if isinstance(node, ast.Call):  # the script's own function (see _names_in)
                if depth > 0 and not self.is_scoring_function(callee_name(node)):
                    carries = lambda e, _s, d=depth - 1: self.is_val_tokens(e, d)  # noqa: E731
                    if self._call_val(node, scope, carries):
                        return True
                continue
            if not isinstance(node, ast.Name):
                continue
            if VAL_NAME.search(node.id):
                return True
            if node.id not in local:
                if scope is not None and node.id in self._val.get(None, set()):
                    module_values = self._assigned.get(None, {}).get(node.id, [])
                    if any(self.is_val_tokens(v, depth - 1) for v in module_values if depth > 0):
                        return True
                if scope is not None and node.id in scope.params and node.id in self._val[scope]:
                    return True
                continue
            if depth <= 0:
                continue
            before = [v for v in local[node.id] if getattr(v, "lineno", 0) <= line] or local[
                node.id
            ]
            last = max(before, key=lambda v: getattr(v, "lineno", 0))
            if self.is_val_tokens(last, depth - 1):
                return True
        return False

    def is_val_reaching(self, expr: ast.AST, depth: int = 10) -> bool:
        """Like ``is_val`` but follows, for each local name, only the last assignment before
        the use (a cheap reaching-definition rule), so a name reused for training batches
        elsewhere in a long ``main`` does not taint this use."""
        key = (expr, depth)  # the node itself, not its id: keeps the key alive and unique
        known = self._reaching.get(key)
        if known is None:
            known = self._reaching[key] = self._is_val_reaching(expr, depth)
        return known

    def _is_val_reaching(self, expr: ast.AST, depth: int) -> bool:
        scope = self.function_of(expr)
        line = getattr(expr, "lineno", 10**9)
        local = self._assigned.get(scope, {})
        params = set(scope.params) if scope else set()
        for node in self._names_in(expr):
            if isinstance(node, ast.Attribute) and self._is_val_attr(node):
                return True
            if isinstance(node, ast.Call):  # the script's own function (see _names_in)
                carries = lambda e, _s, d=depth: self.is_val_reaching(e, d)  # noqa: E731
                if self._call_val(node, scope, carries):
                    return True
                continue
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if VAL_STRING.search(node.value):
                    return True
            if not isinstance(node, ast.Name):
                continue
            if VAL_NAME.search(node.id):
                return True
            if node.id in params and node.id in self._val.get(scope, set()):
                return True
            if node.id not in local:
                if scope is not None and node.id in self._val.get(None, set()):
                    return True
                continue
            if depth <= 0:
                continue
            before = [v for v in local[node.id] if getattr(v, "lineno", 0) <= line]
            if not before:
                before = local[node.id]
            last = max(before, key=lambda v: getattr(v, "lineno", 0))
            if self.is_val_reaching(last, depth - 1):
                return True
        return False

    def is_target(self, expr: ast.AST) -> bool:
        """Whether ``expr`` (probably) carries the realized target token(s)."""
        return self._expr_target(expr, self.function_of(expr))

    def is_scored_token(self, expr: ast.AST) -> bool:
        """The realized token at the position being predicted: a target-named value, or
        ``val_np[jv]`` where ``jv`` is the loop position and the same function also reads
        ``val_np[jv - k]`` as context (so position ``jv`` is the one being predicted)."""
        if self.is_target(expr):
            return True
        for n in self.walk(expr):
            if not (isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Name)):
                continue
            position = n.slice.id
            loops = self.enclosing_loops(n)
            if not any(
                isinstance(lp, ast.For)
                and isinstance(lp.target, ast.Name)
                and lp.target.id == position
                for lp in loops
            ):
                continue
            if not self.is_val(n.value):
                continue
            func = self.function_of(n)
            base = ast.unparse(n.value)
            for m in self.of_type(ast.Subscript):
                if (
                    self.function_of(m) is func
                    and isinstance(m.slice, ast.BinOp)
                    and isinstance(m.slice.op, ast.Sub)
                    and isinstance(m.slice.left, ast.Name)
                    and m.slice.left.id == position
                    and ast.unparse(m.value) == base
                ):
                    return True
        return False

    def assigned_values(self, name: str, scope: FunctionInfo | None) -> list[ast.expr]:
        return self._assigned.get(scope, {}).get(name, [])

    def expand(self, expr: ast.AST, depth: int = 2) -> list[ast.AST]:
        """``expr`` plus the right-hand sides that define the names in it (``depth`` levels)."""
        out = [expr]
        frontier = [expr]
        scope = self.function_of(expr)
        seen: set[str] = set()
        for _ in range(depth):
            nxt = []
            for e in frontier:
                for n in self.walk(e):
                    if isinstance(n, ast.Name) and n.id not in seen:
                        seen.add(n.id)
                        nxt.extend(self.assigned_values(n.id, scope))
            out.extend(nxt)
            frontier = nxt
        return out

    def reads_val(self, func: FunctionInfo, depth: int = 3) -> bool:
        """Whether ``func`` reads validation data, itself or through the functions it calls
        (``score_chunk`` -> ``score_blocks``, which slices the validation tokens)."""
        key = func.qualname
        if key not in self._reads_val:
            self._reads_val[key] = False  # cycle guard
            found = bool(self._val.get(func)) or any(
                (isinstance(n, ast.Name) and self._expr_val(n, func))
                or (isinstance(n, ast.Attribute) and self._is_val_attr(n))
                for n in self.walk(func.node)
            )
            if not found and depth > 0:
                found = any(
                    self.reads_val(callee, depth - 1)
                    for call in func.calls
                    for callee in self.functions_named(callee_name(call))
                    if callee is not func
                )
            self._reads_val[key] = found
        return self._reads_val[key]

    def val_only_through_params(self, func: FunctionInfo) -> frozenset[str] | None:
        """The parameters through which validation data reaches ``func``, when it reaches it
        in no other way (no validation-named parameter, module value, attribute or shard
        string in its body); ``None`` otherwise. A shared helper such as
        ``train_steps(model, opt, tokens)`` called with training batches from one site and
        validation tokens from another then adapts on validation data only from the second."""
        key = func.qualname
        if key not in self._val_params:
            # Locals derived inside (``x, y = windows(tokens, ...)``) carry no source of
            # their own: the sources are the parameters and what the body names directly.
            tainted = self._val.get(func, set()) & set(func.params)
            result: frozenset[str] | None = None
            if (
                tainted
                and not any(_name_flags(p)[0] for p in tainted)
                and not (tainted & _val_typed_params(func.node))
            ):
                module = self._val.get(None, set())
                local = self._assigned.get(func, {})
                other = False
                for n in self.walk(func.node):
                    if isinstance(n, ast.Attribute) and self._is_val_attr(n):
                        other = True
                    elif isinstance(n, ast.Constant) and isinstance(n.value, str):
                        other = _names_val_split(n.value)
                    elif isinstance(n, ast.Name):
                        other = _name_flags(n.id)[0] or (n.id in module and n.id not in local)
                    if other:
                        break
                result = None if other else frozenset(tainted)
            self._val_params[key] = result
        return self._val_params[key]

    def passes_val(self, func: FunctionInfo, call: ast.Call) -> bool:
        """Whether this call of ``func`` can bring validation data into it (see
        ``val_only_through_params``): false only when every parameter that carries it is
        bound here to an argument that carries none."""
        through = self.val_only_through_params(func)
        if through is None:
            return True
        bound = dict(_bind(func, call))
        if not through <= bound.keys():
            return True  # a default or *args we cannot see: assume it may
        return any(self.is_val_reaching(bound[p]) for p in through)
