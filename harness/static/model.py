"""The program model: the facts about one script that every static detector asks about.

Built once per script from its (unwrapped) AST. Detectors never re-walk the tree for these
questions; they ask the model:

* functions, their call sites in source order, and who calls whom (by simple name, which is
  what a reader of a single-file script would assume);
* loops and loop nesting (``enclosing_loops``);
* statements that run with gradients off (``grad_disabled``: ``torch.no_grad()`` /
  ``torch.inference_mode()`` as context managers or decorators);
* gradient updates (``backward_sites``: ``.backward()`` calls, with the optimizer ``.step()``
  beside them) and scoring (``scoring_sites``: loss/byte accumulators under no-grad, and calls
  to functions that contain them);
* where validation tokens come from and where they flow (``is_val``: a flow-insensitive taint
  over assignments, slices, calls and function parameters), and likewise for target tokens
  (``is_target``);
* environment-variable defaults (``model.env``, see ``settings``) and which code they gate
  (``default_state``: whether a statement runs in the default configuration).

The analysis is deliberately simple and says so: it sees one file, resolves calls by name,
and treats a variable as tainted if any assignment to it is. Detectors set their confidence
accordingly.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from harness.report import Finding
from harness.rulebook import Rule
from harness.static.loader import LoadedScript, import_aliases
from harness.static.settings import UNKNOWN, Settings, dotted  # noqa: F401  (re-exported)

# --------------------------------------------------------------------------- vocabularies

# Names that hold validation tokens or point at the validation split.
VAL_NAME = re.compile(
    r"^_*(val|valid|validation|eval)_?(tokens?|toks|data|np|ids|stream|seq|seqs|set|files|"
    r"pattern|shards?|buf|buffer|arr|array|tensor|targets|inputs|docs)\b|^_*val_(x|y)$",
    re.IGNORECASE,
)
VAL_STRING = re.compile(r"fineweb_val_|_val_\*|val_\d{6}|/val/")
TRAIN_STRING = re.compile(r"fineweb_train_|_train_\*")
TRAIN_NAME = re.compile(
    r"^_*(train)_?(tokens?|toks|data|np|files|pattern|shards?|loader|stream)\b", re.IGNORECASE
)
# Names that hold the realized next token (the one being scored).
TARGET_NAME = re.compile(
    r"^(y|ys|yb|y_true|y_batch|gold|next_toks?|next_tokens?)$|(^|_)(tgt|tgts|target|targets|"
    r"labels?|gold)(_|$)",
    re.IGNORECASE,
)
# Accumulators a scoring loop adds into.
SCORE_ACCUMULATOR = re.compile(r"loss|nll|bits|byte|bpb|token|tok_|tokens|score|count|\bce", re.I)
# Per-token score buffers written by index or appended to (narrower: byte LUTs are built so).
SCORE_BUFFER = re.compile(r"nll|loss|bits|score", re.I)
# Totals that only ever hold committed scores, whatever the gradient context.
_SCORE_TOTAL = re.compile(
    r"^(?!.*train)(_?(val_)?(loss|nll|bits|byte|bytes)_?(sum|total)|"
    r"total_?(loss|nll|bits|bytes)|(val_)?(token|byte)_?count)$",
    re.IGNORECASE,
)
SCORING_FUNC = re.compile(r"eval|score|bpb|evaluate", re.IGNORECASE)
QUANT_OR_SAVE = re.compile(
    r"quantiz|gptq|serializ|compress|torch\.save|save_artifact|save_model|pack_|export", re.I
)
# Optimizer internals accumulate under no_grad too; they never commit a score.
_NOT_SCORING = {"step", "zero_grad", "backward", "__init__"}
_ACCUMULATE_METHODS = {"add_", "index_add_", "scatter_add_", "append", "extend"}
_SCALARS = {"item", "float", "int", "len", "mean", "sum", "str", "format", "tolist", "numel"}
_NO_TAINT_CALLS = {"len", "numel", "size", "dim", "range", "print", "log0", "isinstance", "type"}
_NO_TAINT_ATTRS = {"shape", "dtype", "device", "ndim"}

_ANY_SCOPE = object()  # key for "this name, read from any scope" in the taint worklist
# Context and operator nodes are shared singletons in the parsed tree: never index them.
_SHARED_LEAVES = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)
# Fields that never hold a child worth indexing: names and flags (strings, numbers) and the
# shared context/operator singletons above. ``Constant.value`` is data, never a node.
_LEAF_FIELDS = frozenset(
    "ctx op ops id attr name asname module level kind type_comment conversion is_async "
    "simple arg".split()
)
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(kind: type) -> tuple[str, ...]:
    fields = tuple(
        f
        for f in kind._fields
        if f not in _LEAF_FIELDS and not (kind is ast.Constant and f == "value")
    )
    _CHILD_FIELDS[kind] = fields
    return fields


@dataclass(eq=False)  # identity semantics: used as a dict key per scope
class FunctionInfo:
    name: str
    qualname: str
    node: ast.FunctionDef | ast.AsyncFunctionDef
    params: list[str]
    is_method: bool
    decorators_disable_grad: bool = False
    calls: list[ast.Call] = field(default_factory=list)  # in source order


@dataclass
class CallSite:
    node: ast.Call
    caller: FunctionInfo | None  # None: module level
    callee: str  # simple name of the called function


@dataclass
class Gate:
    state: str  # "on" | "off" | "unknown"
    switches: list[str] = field(default_factory=list)  # env vars / settings that decide it


class ProgramModel:
    def __init__(self, script: LoadedScript, display_path: str | None = None) -> None:
        self.script = script
        self.tree = script.tree
        self.path = display_path or str(script.path)
        self.parents: dict[ast.AST, ast.AST] = {}
        self.nodes: list[ast.AST] = []  # every node, depth-first preorder
        self._index: dict[ast.AST, int] = {}
        self._end: dict[ast.AST, int] = {}  # subtree of node = nodes[_index:_end]
        self._scope: dict[ast.AST, FunctionInfo | None] = {}
        self._types: dict[type, list[ast.AST]] = {}  # nodes by exact AST class
        self.functions: list[FunctionInfo] = []
        self.by_name: dict[str, list[FunctionInfo]] = {}
        self._func_of_node: dict[ast.AST, FunctionInfo] = {}
        self._index_tree()
        script.nodes = self.nodes  # shared with codefiles, which would otherwise re-walk
        self.aliases = import_aliases(self.of_type(ast.Import, ast.ImportFrom))
        self.call_sites: list[CallSite] = []
        self.calls_to: dict[str, list[CallSite]] = {}
        self._collect_calls()
        self.env = Settings(self)
        self._val: dict[FunctionInfo | None, set[str]] = {}
        self._target: dict[FunctionInfo | None, set[str]] = {}
        self._assigned: dict[FunctionInfo | None, dict[str, list[ast.expr]]] = {}
        self._data: dict[int, tuple[frozenset[str], bool, bool, bool]] = {}
        self._reads_val: dict[str, bool] = {}
        self._val_params: dict[str, frozenset[str] | None] = {}
        self._resolved: dict[int, str] = {}  # id(callee expression) -> resolved dotted name
        self._reaching: dict[tuple[ast.AST, int], bool] = {}  # is_val_reaching, memoized
        self._texts: dict[ast.AST, str] = {}  # unparse, memoized
        self._intrinsic: dict[tuple[FunctionInfo, bool], bool] = {}
        self._callees: dict[int, list[FunctionInfo]] = {}  # script_callees, memoized
        self._edges: list | None = None  # taint edges, built by the first propagation
        self._mentions: dict[tuple, list] = {}
        self._collect_assignments()
        self._returns = self._collect_returns()
        self._propagate_taint()
        self._scoring_funcs = self._find_scoring_functions()
        self._all_scoring_sites = self._collect_scoring_sites()
        self._gate_cache: dict[int, Gate] = {}
        self._func_gate_cache: dict[str, Gate] = {}

    # ------------------------------------------------------------------ structure

    def _index_tree(self) -> None:
        """One depth-first pass: parents, preorder ranges, enclosing functions.

        Recursive (fast) for ordinary scripts; a pathologically deep tree falls back to an
        explicit stack instead of failing."""
        try:
            self._index_recursive(self.tree)
        except RecursionError:
            for table in (self._index, self._end, self._scope, self.parents, self._func_of_node):
                table.clear()
            self._types.clear()
            self.nodes.clear()
            self.functions.clear()
            self.by_name.clear()
            self._index_iterative()

    def _function_info(self, node, prefix: str, in_class: bool) -> FunctionInfo:
        args = node.args
        info = FunctionInfo(
            name=node.name,
            qualname=f"{prefix}{node.name}",
            node=node,
            params=[a.arg for a in args.posonlyargs + args.args + args.kwonlyargs],
            is_method=in_class,
            decorators_disable_grad=any(_is_grad_off(d) for d in node.decorator_list),
        )
        self.functions.append(info)
        self.by_name.setdefault(node.name, []).append(info)
        self._func_of_node[node] = info
        return info

    def _index_recursive(self, root: ast.AST) -> None:
        # Locals instead of attribute lookups and per-class child fields: this visit runs
        # once per node (~16k for a 100 KB script) and was the costliest part of the model.
        nodes, index, end, parents = self.nodes, self._index, self._end, self.parents
        scopes, types, function_info = self._scope, self._types, self._function_info
        fields_of, node_class = _CHILD_FIELDS, ast.AST

        def visit(node, parent, scope, prefix: str, in_class: bool) -> None:
            index[node] = len(nodes)
            nodes.append(node)
            parents[node] = parent
            scopes[node] = scope
            kind = type(node)
            bucket = types.get(kind)
            if bucket is None:
                types[kind] = [node]
            else:
                bucket.append(node)
            if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
                scope = function_info(node, prefix, in_class)
                prefix, in_class = f"{prefix}{node.name}.", False
            elif kind is ast.ClassDef:
                prefix, in_class = f"{prefix}{node.name}.", True
            fields = fields_of.get(kind)
            if fields is None:
                fields = _child_fields(kind)
            for name in fields:
                value = getattr(node, name, None)
                if type(value) is list:
                    for child in value:
                        if isinstance(child, node_class):
                            visit(child, node, scope, prefix, in_class)  # noqa: F821
                elif isinstance(value, node_class):
                    visit(value, node, scope, prefix, in_class)  # noqa: F821
            end[node] = len(nodes)

        visit(root, None, None, "", False)
        # Clears the closure's reference to itself (hence the noqa above): no reference cycle
        # is left, so the model is freed as soon as the check drops it.
        del visit
        del parents[root]  # the root has no parent

    def _index_iterative(self) -> None:
        nodes = self.nodes
        # (node, parent, enclosing function, qualname prefix, directly inside a class, exiting)
        stack: list[tuple] = [(self.tree, None, None, "", False, False)]
        while stack:
            node, parent, scope, prefix, in_class, exiting = stack.pop()
            if exiting:
                self._end[node] = len(nodes)
                continue
            self._index[node] = len(nodes)
            nodes.append(node)
            if parent is not None:
                self.parents[node] = parent
            self._scope[node] = scope
            self._types.setdefault(type(node), []).append(node)
            inner_scope, inner_prefix, inner_class = scope, prefix, in_class
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                info = self._function_info(node, prefix, in_class)
                inner_scope, inner_prefix, inner_class = info, f"{prefix}{node.name}.", False
            elif isinstance(node, ast.ClassDef):
                inner_prefix, inner_class = f"{prefix}{node.name}.", True
            stack.append((node, None, None, "", False, True))
            children: list[ast.AST] = []
            for name in node._fields:  # inlined ast.iter_child_nodes (hot path)
                value = getattr(node, name, None)
                if isinstance(value, list):
                    children.extend(
                        v
                        for v in value
                        if isinstance(v, ast.AST) and not isinstance(v, _SHARED_LEAVES)
                    )
                elif isinstance(value, ast.AST) and not isinstance(value, _SHARED_LEAVES):
                    children.append(value)
            for child in reversed(children):
                stack.append((child, node, inner_scope, inner_prefix, inner_class, False))

    def walk(self, node: ast.AST) -> list[ast.AST]:
        """``node`` and everything under it (preorder), without re-walking the tree."""
        start = self._index.get(node)
        if start is None:
            return list(ast.walk(node))
        return self.nodes[start : self._end[node]]

    def indexed(self, node: ast.AST) -> bool:
        """Whether ``node`` is part of the script's tree (not built by a detector)."""
        return node in self._index

    def contains(self, outer: ast.AST, inner: ast.AST) -> bool:
        """Whether ``inner`` lies in the subtree of ``outer``."""
        start, pos = self._index.get(outer), self._index.get(inner)
        if start is None or pos is None:
            return False
        return start <= pos < self._end[outer]

    def unparse(self, node: ast.AST) -> str:
        """``ast.unparse(node)``, computed once per node (detectors ask for the same loop
        headers and call arguments again and again)."""
        text = self._texts.get(node)
        if text is None:
            text = self._texts[node] = ast.unparse(node)
        return text

    def position(self, node: ast.AST) -> int:
        """Preorder position of an indexed node (sort key for source order)."""
        return self._index[node]

    def of_type(self, *types: type) -> list[ast.AST]:
        """Nodes of exactly these AST classes, in source (preorder) order."""
        if len(types) == 1:
            return self._types.get(types[0], [])
        merged = [n for t in types for n in self._types.get(t, [])]
        merged.sort(key=self._index.__getitem__)
        return merged

    def _collect_calls(self) -> None:
        for node in self.of_type(ast.Call):
            name = callee_name(node)
            caller = self.function_of(node)
            site = CallSite(node, caller, name)
            self.call_sites.append(site)
            if caller:
                caller.calls.append(node)
            if name:
                self.calls_to.setdefault(name, []).append(site)
        for f in self.functions:
            f.calls.sort(key=lambda c: (c.lineno, c.col_offset))
        self.call_sites.sort(key=lambda s: (s.node.lineno, s.node.col_offset))

    def function_of(self, node: ast.AST) -> FunctionInfo | None:
        """The innermost function containing ``node`` (None at module level)."""
        return self._scope.get(node)

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        cur = self.parents.get(node)
        while cur is not None:
            yield cur
            cur = self.parents.get(cur)

    def statement_of(self, node: ast.AST) -> ast.stmt:
        cur = node
        while not isinstance(cur, ast.stmt) and cur in self.parents:
            cur = self.parents[cur]
        return cur  # type: ignore[return-value]

    def enclosing_loops(self, node: ast.AST) -> list[ast.For | ast.While]:
        """Loops around ``node`` inside its own function, innermost first."""
        loops = []
        for anc in self.ancestors(node):
            if isinstance(anc, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                break
            if isinstance(anc, ast.For | ast.While | ast.AsyncFor):
                loops.append(anc)
        return loops

    def grad_disabled(self, node: ast.AST) -> bool:
        """Whether ``node`` runs under no_grad / inference_mode (context or decorator)."""
        for anc in self.ancestors(node):
            if isinstance(anc, ast.With | ast.AsyncWith):
                for item in anc.items:
                    if _is_grad_off(item.context_expr):
                        return True
                    if _is_grad_on(item.context_expr):
                        return False
            if anc in self._func_of_node:
                return self._func_of_node[anc].decorators_disable_grad
        return False

    def functions_named(self, name: str) -> list[FunctionInfo]:
        return self.by_name.get(name, [])

    def callers_of(self, func: FunctionInfo) -> list[CallSite]:
        return self.calls_to.get(func.name, [])

    # ------------------------------------------------------------------ taint

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
        for _ in range(6):
            self._propagate_names()
            returning = {
                f
                for f, values in self._returns.items()
                if any(self._expr_val(v, f) for v in values)
            }
            found = {
                t.attr
                for node in self.of_type(ast.Assign)
                for t in node.targets
                if isinstance(t, ast.Attribute)
                and isinstance(t.value, ast.Name)
                and t.value.id == "self"
                and t.attr not in self._val_attrs
                and self._expr_val(node.value, self.function_of(node))
            }
            if not found and returning <= self._returns_val:
                return
            self._returns_val |= returning
            self._val_attrs |= found
            if found:
                self._data.clear()

    def _is_val_attr(self, node: ast.Attribute) -> bool:
        if _name_flags(node.attr)[0]:
            return True
        return (
            node.attr in self._val_attrs
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
        )

    def _propagate_names(self) -> None:
        """Taint names to a fixpoint over assignment and parameter edges. Called again when
        the outer loop (``_propagate_taint``) finds new tainted returns or attributes: taint
        only grows, so a later call re-checks only the edges not yet tainted."""
        if self._edges is None:
            self._first_propagation()
            return
        queue = [e for e in self._edges if e[1] not in self._val[e[0]]]
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
        for edge in edges:
            for n in self._data_of(edge[2])[0]:
                mentions.setdefault((edge[3], n), []).append(edge)
                mentions.setdefault((_ANY_SCOPE, n), []).append(edge)
        self._edges, self._mentions = edges, mentions
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

    def _data_of(self, expr: ast.AST) -> tuple[frozenset[str], bool, bool, bool, tuple]:
        """Cached: (names used, mentions validation by name/string, names a target by name,
        names the validation split by attribute or string, calls to the script's own
        functions). A call to the script's own function is not scanned: what it returns is
        decided by ``_call_val``; the names inside it are still listed (they wake the taint
        worklist, and target taint still reads them)."""
        key = id(expr)
        cached = self._data.get(key)
        if cached is not None:
            return cached
        start = self._index.get(expr)
        names: set[str] = set()
        inner: set[str] = set()  # names inside calls of the script's own functions
        calls: list[ast.Call] = []
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
                    if not skip and not val_attr:
                        val_attr = self._is_val_attr(node)
                elif kind is ast.Call:
                    skip = callee_name(node) in _NO_TAINT_CALLS
                    if not skip and self.script_callees(node):
                        calls.append(node)
                        skip = True
                        inner.update(n.id for n in nodes[i : end_of[node]] if type(n) is ast.Name)
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
        cached = (frozenset(names | inner), val_named, target_named, val_attr, tuple(calls))
        self._data[key] = cached
        return cached

    def _expr_val(self, expr: ast.AST, scope: FunctionInfo | None) -> bool:
        names, val_named, _, val_attr, calls = self._data_of(expr)
        if val_named or val_attr:
            return True
        if calls:  # names inside the script's own calls count only through _call_val
            names = self._outer_names(expr)
        if names & self._val.get(scope, set()):
            return True
        if scope is not None:
            module = self._val.get(None, set())
            local = self._assigned.get(scope, {})
            if any(n in module and n not in local for n in names):
                return True
        return any(self._call_val(c, scope, self._expr_val) for c in calls)

    def _outer_names(self, expr: ast.AST) -> frozenset[str]:
        """Names used in ``expr`` outside calls of the script's own functions."""
        key = ("outer", id(expr))
        cached = self._data.get(key)
        if cached is None:
            cached = self._data[key] = frozenset(
                n.id for n in self._names_in(expr) if isinstance(n, ast.Name)
            )
        return cached

    def _expr_target(self, expr: ast.AST, scope: FunctionInfo | None) -> bool:
        names, _, target_named, _, _ = self._data_of(expr)
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

    # ------------------------------------------------------------------ updates and scoring

    def backward_sites(self) -> list[ast.Call]:
        """``X.backward()`` and ``torch.autograd.backward/grad`` calls, in source order."""
        cached = getattr(self, "_backward_sites", None)
        if cached is not None:
            return cached
        out: list[ast.Call] = []
        self._backward_sites = out
        for site in self.call_sites:
            n = site.node
            if not isinstance(n.func, ast.Attribute):
                continue
            if n.func.attr == "backward":
                out.append(n)
            elif n.func.attr == "grad" and dotted(n.func).startswith("torch.autograd"):
                out.append(n)
        return out

    def loss_of_backward(self, call: ast.Call) -> ast.AST:
        if dotted(call.func).startswith("torch.autograd"):
            return call.args[0] if call.args else call
        if isinstance(call.func, ast.Attribute) and call.func.attr == "backward":
            return call.func.value
        return call.args[0] if call.args else call

    def has_step(self, scope_node: ast.AST) -> bool:
        """An optimizer-style ``.step()`` call somewhere under ``scope_node``."""
        for n in self.walk(scope_node):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute):
                if n.func.attr == "step" and "sched" not in ast.unparse(n.func.value).lower():
                    return True
        return False

    def _is_accumulation(self, node: ast.AST) -> bool:
        """Adding into a score total: ``loss_sum += x``, ``nll_sum.add_(x)``,
        ``nlls.append(x)``, ``token_nll[pos] = x`` (names that say loss/nll/bytes/...)."""
        pattern = SCORE_ACCUMULATOR
        if isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add):
            base = node.target
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            if isinstance(node.targets[0], ast.Tuple):  # nll_sum, n = nll_sum + s, n + c
                return bool(pattern.search(_tuple_accumulator(node)))
            if not isinstance(node.targets[0], ast.Subscript):
                return False
            base, pattern = node.targets[0], SCORE_BUFFER  # token_nll[pos] = nll
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr not in _ACCUMULATE_METHODS:
                return False
            base = node.func.value
            if node.func.attr in ("append", "extend"):
                pattern = SCORE_BUFFER  # nlls.append(nll), not byte LUT building
        else:
            return False
        while isinstance(base, ast.Subscript | ast.Attribute):
            if isinstance(base, ast.Attribute) and pattern.search(base.attr):
                return True
            base = base.value
        return isinstance(base, ast.Name) and bool(pattern.search(base.id))

    def _find_scoring_functions(self) -> set[str]:
        """Functions that commit a score: they accumulate a loss/byte total with gradients
        off, or call an accumulating helper under no-grad (``_accumulate_bpb``), or call such
        a function under no-grad while being named like an evaluator."""
        self._accumulations = [
            n for n in self.of_type(ast.AugAssign, ast.Assign, ast.Call) if self._is_accumulation(n)
        ]
        self._accumulating_funcs: set[str] = set()
        for n in self._accumulations:
            func = self.function_of(n)
            while func is not None:  # the helper and every function it is nested in
                self._accumulating_funcs.add(func.name)
                func = self.function_of(func.node)
        direct: set[str] = set()
        for n in self._accumulations:
            func = self.function_of(n)
            if func is None or func.name in _NOT_SCORING:
                continue
            # Under no-grad, or a score total (``nll_sum``) in a function named like scoring
            # (an evaluator whose gradients are off in the forward helper it calls).
            if self.grad_disabled(n) or (
                SCORING_FUNC.search(func.name) and _SCORE_TOTAL.search(_accumulator_name(n))
            ):
                direct.add(func.name)
        for site in self.call_sites:
            func = site.caller
            if (
                func is not None
                and site.callee in self._accumulating_funcs
                and site.callee != func.name
                and self.grad_disabled(site.node)
            ):
                direct.add(func.name)
        scoring = set(direct)
        for _ in range(4):
            grew = False
            for site in self.call_sites:
                func = site.caller
                if func is None or func.name in scoring or site.callee not in scoring:
                    continue
                if site.callee != func.name and self.grad_disabled(site.node):
                    if SCORING_FUNC.search(func.name) or site.callee in direct:
                        scoring.add(func.name)
                        grew = True
            if not grew:
                break
        return scoring

    def is_scoring_function(self, name: str) -> bool:
        return name in self._scoring_funcs

    def _collect_scoring_sites(self) -> list[ast.AST]:
        out: list[ast.AST] = [
            n
            for n in self._accumulations
            if self.grad_disabled(n)
            or _detached(accumulated(n))
            or _SCORE_TOTAL.search(_accumulator_name(n))
        ]
        seen = {id(n) for n in out}
        for site in self.call_sites:
            if id(site.node) in seen:
                continue
            if self.is_scoring_function(site.callee) or (
                site.callee in self._accumulating_funcs and self.grad_disabled(site.node)
            ):
                out.append(site.node)
        out.sort(key=lambda n: self._index[n])
        return out

    def scoring_sites(self, within: ast.AST) -> list[ast.AST]:
        """Places under ``within`` where a score is committed: accumulators under no-grad
        (or of detached values), and calls to scoring functions, in source order."""
        start = self._index.get(within)
        if start is None:
            return []
        end = self._end[within]
        return [s for s in self._all_scoring_sites if start <= self._index[s] < end]

    def is_val_scoring_call(self, call: ast.Call) -> bool:
        name = callee_name(call)
        if not self.is_scoring_function(name):
            return False
        if any(self.is_val(a) for a in list(call.args) + [k.value for k in call.keywords]):
            return True
        return any(self.reads_val(f) for f in self.functions_named(name))

    # ------------------------------------------------------------------ default configuration

    def default_state(self, node: ast.AST) -> Gate:
        """Whether ``node`` runs in the script's default configuration.

        ``off`` when an enclosing ``if`` (or an earlier early-exit ``if``) is decided by
        defaults to skip it, or when every call site of its function is off.
        """
        key = id(node)
        if key in self._gate_cache:
            return self._gate_cache[key]
        self._gate_cache[key] = Gate("unknown")  # cycle guard
        gate = self._local_gate(node)
        if gate.state != "off":
            func = self.function_of(node)
            if func is not None:
                fgate = self._function_gate(func)
                if fgate.state == "off":
                    gate = fgate
        self._gate_cache[key] = gate
        return gate

    def _function_gate(self, func: FunctionInfo) -> Gate:
        if func.qualname in self._func_gate_cache:
            return self._func_gate_cache[func.qualname]
        self._func_gate_cache[func.qualname] = Gate("unknown")
        sites = [s for s in self.callers_of(func) if s.caller is not func]
        if func.is_method:  # a method runs only if its class is built: gate on constructions
            owner = func.qualname.rsplit(".", 2)[-2] if func.qualname.count(".") else ""
            built = [s for s in self.calls_to.get(owner, []) if s.caller is not func]
            if built and all(self.default_state(s.node).state == "off" for s in built):
                sites = built
        if not sites:
            gate = Gate("unknown")
        else:
            gates = [self.default_state(s.node) for s in sites]
            if all(g.state == "off" for g in gates):
                gate = Gate("off", sorted({sw for g in gates for sw in g.switches}))
            else:
                gate = Gate("unknown")
        self._func_gate_cache[func.qualname] = gate
        return gate

    def _local_gate(self, node: ast.AST) -> Gate:
        child: ast.AST = node
        for anc in self.ancestors(node):
            # An earlier ``if <cond>: return`` in the same block skips what follows.
            for block in _blocks(anc):
                if child in block:
                    for prev in block[: block.index(child)]:
                        if isinstance(prev, ast.If) and not prev.orelse and _exits(prev.body):
                            value, switches = self.env.truth(prev.test, self.function_of(prev))
                            if value is True:
                                return Gate("off", switches)
            if isinstance(anc, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                break
            if isinstance(anc, ast.If):
                value, switches = self.env.truth(anc.test, self.function_of(anc))
                if child in anc.body and value is False:
                    return Gate("off", switches)
                if child in anc.orelse and value is True:
                    return Gate("off", switches)
            if isinstance(anc, ast.IfExp) and child in (anc.body, anc.orelse):
                value, switches = self.env.truth(anc.test, self.function_of(anc))
                if (child is anc.body and value is False) or (
                    child is anc.orelse and value is True
                ):
                    return Gate("off", switches)
            child = anc
        return Gate("unknown")

    # ------------------------------------------------------------------ findings

    def finding(
        self,
        rule: Rule,
        node: ast.AST | None,
        message: str,
        *,
        confidence: str = "high",
        fix: str | None = None,
        severity: str | None = None,
        gate_nodes: list[ast.AST] | None = None,
    ) -> Finding:
        """A finding at ``node``; an error on a path that is off by default becomes a warning."""
        line = getattr(node, "lineno", None) if node is not None else None
        severity = severity or rule.severity
        gates = [self.default_state(n) for n in (gate_nodes or ([node] if node else []))]
        off = next((g for g in gates if g.state == "off"), None)
        if off is not None and severity == "error":
            severity = "warning"
            switch = ", ".join(self.env.describe(name) for name in off.switches)
            message += f" (off by default; switched on by {switch or 'a setting'})"
        return Finding.of(
            rule,
            message,
            severity=severity,
            confidence=confidence,
            file=self.path,
            line=line,
            evidence=self.script.line_text(line),
            fix=fix,
            level="static",
        )


# --------------------------------------------------------------------------- helpers


@lru_cache(maxsize=8192)
def _names_val_split(text: str) -> bool:
    """Whether a string constant names the validation split (a path or shard pattern)."""
    return bool(VAL_STRING.search(text))


@lru_cache(maxsize=8192)
def _name_flags(name: str) -> tuple[bool, bool]:
    """Whether a variable name says validation data, and whether it says target tokens."""
    return bool(VAL_NAME.search(name)), bool(TARGET_NAME.search(name))


def callee_name(call: ast.Call) -> str:
    """The simple name of what a call calls (``self.opt.step`` -> ``step``)."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def resolved_name(model: ProgramModel, func: ast.AST) -> str:
    """Dotted callee with import aliases resolved (``hf.snapshot_download`` ->
    ``huggingface_hub.snapshot_download``)."""
    cache = model._resolved
    key = id(func)
    if key not in cache:
        name = dotted(func)
        head, _, rest = name.partition(".")
        origin = model.aliases.get(head)
        cache[key] = (f"{origin}.{rest}" if rest else origin) if origin else name
    return cache[key]


_VAL_TYPE = re.compile(r"^_*(Val|Valid|Validation)[A-Z_]")


def _val_typed_params(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Parameters annotated with a validation-data type (``val: ValData``)."""
    args = node.args
    return {
        a.arg
        for a in args.posonlyargs + args.args + args.kwonlyargs
        if a.annotation is not None and _VAL_TYPE.search(dotted(a.annotation).split(".")[-1])
    }


def _is_grad_off(expr: ast.AST) -> bool:
    target = expr.func if isinstance(expr, ast.Call) else expr
    name = dotted(target)
    if name.endswith(("no_grad", "inference_mode")):
        if isinstance(expr, ast.Call) and expr.args:  # inference_mode(False)
            first = expr.args[0]
            return not (isinstance(first, ast.Constant) and first.value is False)
        return True
    if name.endswith("set_grad_enabled") and isinstance(expr, ast.Call) and expr.args:
        first = expr.args[0]
        return isinstance(first, ast.Constant) and first.value is False
    return False


def _is_grad_on(expr: ast.AST) -> bool:
    target = expr.func if isinstance(expr, ast.Call) else expr
    return dotted(target).endswith("enable_grad")


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


def _accumulator_name(node: ast.AST) -> str:
    """The name a score is added into (``loss_sum`` in ``loss_sum += x``)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        base = node.func.value
    elif isinstance(node, ast.Assign):
        base = node.targets[0]
        if isinstance(base, ast.Tuple):
            return _tuple_accumulator(node)
    else:
        base = getattr(node, "target", node)
    while isinstance(base, ast.Subscript):
        base = base.value
    if isinstance(base, ast.Attribute):
        return base.attr
    return base.id if isinstance(base, ast.Name) else ""


def _tuple_accumulator(node: ast.Assign) -> str:
    """The first name a tuple assignment adds into (``nll_sum`` in ``nll_sum, n = nll_sum +
    s, n + c``), or ``""``."""
    target, value = node.targets[0], node.value
    if not (isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple)):
        return ""
    for t, v in zip(target.elts, value.elts, strict=False):
        if (
            isinstance(t, ast.Name)
            and isinstance(v, ast.BinOp)
            and isinstance(v.op, ast.Add)
            and isinstance(v.left, ast.Name)
            and v.left.id == t.id
        ):
            return t.id
    return ""


def accumulated(node: ast.AST) -> ast.AST:
    """The value an accumulation site adds (see ``ProgramModel._is_accumulation``)."""
    if isinstance(node, ast.Call):
        return node.args[0] if node.args else node
    return getattr(node, "value", node)


def _detached(value: ast.AST) -> bool:
    """``x.detach()``, ``x.item()``, ``float(x)``: an accumulated value with no gradient."""
    for n in ast.walk(value):
        if isinstance(n, ast.Call) and callee_name(n) in ("detach", "item", "float", "tolist"):
            return True
    return False


def _blocks(node: ast.AST) -> list[list[ast.stmt]]:
    out = []
    for name in ("body", "orelse", "finalbody"):
        block = getattr(node, name, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            out.append(block)
    return out


def _exits(body: list[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[-1], ast.Return | ast.Raise | ast.Continue)
