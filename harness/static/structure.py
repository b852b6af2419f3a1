"""The program model's structure: one indexing pass over the tree (parents, preorder ranges,
nodes by type, enclosing functions), call sites, loops and gradient contexts."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field

from golf_check.harness.static.settings import dotted
from golf_check.harness.static.vocabulary import callee_name

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


class Structure:
    """Where things are: functions, calls, loops and gradient contexts (a ``ProgramModel`` part)."""

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
        name_kind, constant_kind = ast.Name, ast.Constant
        leaves = {name_kind: types.setdefault(name_kind, []), constant_kind: []}
        types[constant_kind] = leaves[constant_kind]

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
                children = value if type(value) is list else (value,)
                for child in children:
                    leaf = type(child)
                    if leaf is name_kind or leaf is constant_kind:
                        # Names and constants (about half of all nodes) have no children:
                        # indexed here, without a call.
                        index[child] = position = len(nodes)
                        nodes.append(child)
                        parents[child] = node
                        scopes[child] = scope
                        leaves[leaf].append(child)
                        end[child] = position + 1
                    elif isinstance(child, node_class):
                        visit(child, node, scope, prefix, in_class)  # noqa: F821
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
