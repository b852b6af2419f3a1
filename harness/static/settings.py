"""Default values of a script's settings, evaluated without running anything.

Submissions read their configuration from environment variables with defaults
(``os.environ.get("TTT_ENABLED", "0")``), in module constants, ``Hyperparameters``-style
class attributes (reached as ``args.x`` / ``h.x``) and locals. Detectors report what the
*default* configuration does, so the program model needs those defaults: this module holds
a tiny evaluator for constant expressions over them (``int(...)``, ``bool(int(...))``,
``.lower() in (...)``, comparisons, ``and``/``or``/``not``, arithmetic) and answers whether an
``if`` test is true, false or unknown under the defaults.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.static.model import FunctionInfo, ProgramModel

UNKNOWN = object()  # value the evaluator cannot determine


class Settings:
    """Default values of settings: module constants, class attributes and locals that read
    ``os.environ`` (or are plain constants), evaluated without running anything."""

    def __init__(self, model: ProgramModel) -> None:
        self._parents = model.parents  # not the model itself: no reference cycle to collect
        self.names: dict[str, object] = {}
        self.attrs: dict[str, object] = {}
        self.env_of: dict[str, str] = {}  # setting name -> environment variable
        self.env_defaults: dict[str, tuple[object, int]] = {}  # env var -> (default, line)
        self.copy_of: dict[str, str] = {}  # name -> the setting it was copied from
        seen_names: dict[str, int] = {}
        # The few os.environ reads, found once and mapped to the expressions that contain them.
        self._env_in: dict[int, str] = {}
        # ``environ.get(name.upper())`` over a config's fields (a dataclass read field by
        # field): every field ``x`` is then the environment variable ``X``.
        self.fields_from_env = False
        env_calls = [call for call in model.of_type(ast.Call) if is_environ_get(call)]
        for call in env_calls:
            key = call.args[0]
            if isinstance(key, ast.Call) and _callee(key) == "upper":
                self.fields_from_env = True
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                continue
            node: ast.AST | None = call
            while node is not None and not isinstance(node, ast.stmt):
                self._env_in.setdefault(id(node), key.value)
                node = model.parents.get(node)
        # Source order matters: an env default may name a setting assigned above it.
        ordered = [*model.of_type(ast.Assign, ast.AnnAssign), *env_calls]
        ordered.sort(key=model.position)
        for node in ordered:
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    self._record(target, node.value, seen_names)
            if isinstance(node, ast.Call):
                key = node.args[0] if node.args else None
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    default = self.value(node.args[1]) if len(node.args) > 1 else None
                    self.env_defaults.setdefault(key.value, (default, node.lineno))
        # A counter the run itself grows (``self.total_tokens += n``) is state, not a
        # setting: its initial value says nothing about what runs later.
        for node in model.of_type(ast.AugAssign):
            target = node.target
            if isinstance(target, ast.Name):
                self.names[target.id] = UNKNOWN
            elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
                self.attrs[target.attr] = UNKNOWN

    def _record(self, target: ast.expr, value: ast.expr, seen: dict[str, int]) -> None:
        env = self._env_key(value)
        if isinstance(target, ast.Name):
            name, table = target.id, self.names
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            name, table = target.attr, self.attrs
        else:
            return
        # Class-body attributes are reached as ``args.name``: record them as attributes too.
        parent = self._parents.get(target)
        in_class = isinstance(self._parents.get(parent), ast.ClassDef) if parent else False
        val = self.value(value)
        for tab in (table, self.attrs) if in_class else (table,):
            key = f"{id(tab)}:{name}"
            if key in seen and tab.get(name, UNKNOWN) != val:
                tab[name] = UNKNOWN
            else:
                tab[name] = val
            seen[key] = 1
        if env:
            self.env_of[name] = env
        source = value.attr if isinstance(value, ast.Attribute) else getattr(value, "id", None)
        if source and source != name:  # ``self.inject = cfg.golf_inject``: a copy of a setting
            self.copy_of[name] = source

    def _env_key(self, expr: ast.AST) -> str | None:
        """The environment variable an expression reads, if any."""
        return self._env_in.get(id(expr))

    def value(self, expr: ast.AST, depth: int = 0) -> object:
        if depth > 12:
            return UNKNOWN
        v = lambda e: self.value(e, depth + 1)  # noqa: E731
        if isinstance(expr, ast.Constant):
            return expr.value
        if isinstance(expr, ast.Name):
            return self.names.get(expr.id, UNKNOWN)
        if isinstance(expr, ast.Attribute):
            if isinstance(expr.value, ast.Name) and expr.value.id in ("os", "sys", "torch"):
                return UNKNOWN
            return self.attrs.get(expr.attr, UNKNOWN)
        if isinstance(expr, ast.Tuple | ast.List | ast.Set):
            items = [v(e) for e in expr.elts]
            return UNKNOWN if any(i is UNKNOWN for i in items) else tuple(items)
        if isinstance(expr, ast.UnaryOp):
            operand = v(expr.operand)
            if operand is UNKNOWN:
                return UNKNOWN
            try:
                if isinstance(expr.op, ast.Not):
                    return not operand
                if isinstance(expr.op, ast.USub):
                    return -operand  # type: ignore[operator]
            except TypeError:
                return UNKNOWN
            return UNKNOWN
        if isinstance(expr, ast.BoolOp):
            values = [v(e) for e in expr.values]
            if isinstance(expr.op, ast.And):
                if any(x is not UNKNOWN and not x for x in values):
                    return False
                return UNKNOWN if any(x is UNKNOWN for x in values) else values[-1]
            if any(x is not UNKNOWN and x for x in values):
                return next(x for x in values if x is not UNKNOWN and x)
            return UNKNOWN if any(x is UNKNOWN for x in values) else values[-1]
        if isinstance(expr, ast.Compare):
            left = v(expr.left)
            for op, right_e in zip(expr.ops, expr.comparators, strict=True):
                right = v(right_e)
                if left is UNKNOWN or right is UNKNOWN:
                    return UNKNOWN
                try:
                    ok = _COMPARE[type(op)](left, right)
                except (TypeError, KeyError):
                    return UNKNOWN
                if not ok:
                    return False
                left = right
            return True
        if isinstance(expr, ast.BinOp):
            a, b = v(expr.left), v(expr.right)
            if a is UNKNOWN or b is UNKNOWN:
                return UNKNOWN
            try:
                return _BINOP[type(expr.op)](a, b)
            except (TypeError, KeyError, ZeroDivisionError, ValueError, OverflowError):
                return UNKNOWN
        if isinstance(expr, ast.Call):
            if is_environ_get(expr):
                return v(expr.args[1]) if len(expr.args) > 1 else None
            name = _callee(expr)
            if name in ("int", "float", "bool", "str") and len(expr.args) == 1:
                arg = v(expr.args[0])
                if arg is UNKNOWN:
                    return UNKNOWN
                try:
                    return {"int": int, "float": float, "bool": bool, "str": str}[name](arg)
                except (TypeError, ValueError):
                    return UNKNOWN
            if isinstance(expr.func, ast.Attribute) and name in ("lower", "upper", "strip"):
                base = v(expr.func.value)
                return getattr(base, name)() if isinstance(base, str) else UNKNOWN
            # Mode lists: ``set(os.environ.get("MODES", "legal").split(","))`` and the like, so
            # that ``"rescore" in MODES`` is decided by the default.
            if isinstance(expr.func, ast.Attribute) and name == "split" and not expr.keywords:
                base = v(expr.func.value)
                sep = v(expr.args[0]) if len(expr.args) == 1 else None
                if isinstance(base, str) and len(expr.args) <= 1 and (sep is None or sep):
                    return tuple(base.split(sep)) if isinstance(sep, str | None) else UNKNOWN
                return UNKNOWN
            if name in ("set", "frozenset", "list", "tuple") and len(expr.args) == 1:
                arg = v(expr.args[0])
                return tuple(arg) if isinstance(arg, tuple) else UNKNOWN
        return UNKNOWN

    def truth(self, test: ast.expr, scope: FunctionInfo | None) -> tuple[bool | None, list[str]]:
        """Truth of a gate under defaults (None: cannot tell) and the env vars behind it."""
        value = self.value(test)
        names = _names(test)
        switches = sorted({self.env_of.get(n, "") for n in names} - {""})
        if not switches:  # no environment read: name the settings whose defaults decided it
            switches = sorted({n for n in _names(self._deciding(test)) if self.known(n)})
        if value is UNKNOWN:
            return None, switches
        return bool(value), switches

    def _deciding(self, test: ast.expr) -> ast.expr:
        """The operand that decides an ``and`` / ``or`` under the defaults (``x == "a" and
        name == B[0]`` is decided by ``x`` alone when ``x`` is not ``"a"``)."""
        while isinstance(test, ast.BoolOp):
            stop = isinstance(test.op, ast.Or)  # ``or`` stops at a true operand
            for operand in test.values:
                value = self.value(operand)
                if value is not UNKNOWN and bool(value) is stop:
                    test = operand
                    break
            else:
                return test
        return test

    def known(self, name: str) -> bool:
        """Whether ``name`` is a setting (constant or attribute) with a known default."""
        return self.attrs.get(name, UNKNOWN) is not UNKNOWN or (
            self.names.get(name, UNKNOWN) is not UNKNOWN
        )

    def describe(self, switch: str) -> str:
        """``SWITCH (default '0')`` for a message: an env var, or a setting and its default."""
        if switch in self.env_defaults:
            return f"{switch} (default {self.env_defaults[switch][0]!r})"
        if not self.known(switch):
            return switch
        for _ in range(4):  # name the original setting, not a copy of it
            origin = self.copy_of.get(switch)
            if origin is None or not self.known(origin):
                break
            switch = origin
        default = self.attrs.get(switch, UNKNOWN)
        if default is UNKNOWN:
            default = self.names[switch]
        env = f"{switch.upper()} / " if self.fields_from_env else ""
        return f"{env}setting {switch} (default {default!r})"

    def setting(self, env_var: str) -> tuple[object, int | None]:
        """Default of an environment variable and the line that reads it."""
        if env_var in self.env_defaults:
            return self.env_defaults[env_var]
        return UNKNOWN, None


_COMPARE = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: lambda a, b: a is b,
    ast.IsNot: lambda a, b: a is not b,
}
_BINOP = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
}


def dotted(func: ast.AST) -> str:
    """``a.b.c`` for a Name/Attribute chain, else ``""``."""
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
        return ".".join(reversed(parts))
    return ""


def _callee(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _names(expr: ast.AST) -> list[str]:
    return [
        n.id if isinstance(n, ast.Name) else n.attr
        for n in ast.walk(expr)
        if isinstance(n, ast.Name | ast.Attribute)
    ]


def is_environ_get(call: ast.Call) -> bool:
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr in ("get", "getenv")):
        return False
    name = dotted(func)
    return name.endswith(("environ.get", "getenv")) and bool(call.args)
