"""Default values of a script's settings, evaluated without running anything.

Submissions read their configuration from environment variables with defaults
(``os.environ.get("TTT_ENABLED", "0")``), in module constants, ``Hyperparameters``-style
class attributes and dataclass fields (reached as ``args.x`` / ``h.x`` or
``getattr(h, "x", False)``) and locals. Detectors report what the *default* configuration
does, so the program model needs those defaults: this module holds a tiny evaluator for
constant expressions over them (``int(...)``, ``bool(int(...))``, ``.lower() in (...)``,
comparisons, ``and``/``or``/``not``, arithmetic) and answers whether an ``if`` test is true,
false or unknown under the defaults.

When the configuration a record ran with is known (``runconfig``: its README run command,
submission.json, the hyperparameters its logs echo, ``--env`` / ``--run-config``), those
settings replace the defaults here, so every gate is decided as the record ran, and
``rows`` says which setting came from where.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from golf_check.harness.static import runconfig
from golf_check.harness.static.runconfig import ConfigSetting

if TYPE_CHECKING:
    from golf_check.harness.static.model import FunctionInfo, ProgramModel

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
        context = runconfig.current()
        self.track = context.track if context else None
        self.track_source = context.track_source if context else ""
        # The run configuration, resolved to what this script reads: environment variables
        # (text, as the environment holds it) and config-class attributes (typed).
        self.env_set: dict[str, tuple[str, ConfigSetting]] = {}
        self.attr_set: dict[str, ConfigSetting] = {}
        self._conflicts: dict[str, list[ConfigSetting]] = {}
        self._attr_applied: dict[str, tuple[object, object]] = {}  # name -> (default, value)
        self._config_classes: set[ast.ClassDef] = set()
        # Attribute names something other than an assignment can set, for ``getattr`` gates:
        # found on first use from the model's node lists (lists of nodes, not the model).
        self._mentioned: set[str] | None = None
        self._node_lists = (
            model.of_type(ast.Call),
            model.of_type(ast.keyword),
            model.of_type(ast.AnnAssign),
            model.of_type(ast.Assign),
        )
        self._assigned_by_name: dict[str, list] | None = None  # for probability thresholds
        if context is not None and context.config:
            self._resolve(context.config, env_calls, model)
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
        owner = self._parents.get(parent) if parent else None
        in_class = isinstance(owner, ast.ClassDef)
        val = self.value(value)
        if in_class and name in self.attr_set and self._takes_config(owner, value, name):
            configured = runconfig.coerce(self.attr_set[name].value, val)
            if configured is not None:
                self._attr_applied[name] = (val, configured)
                val = configured
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
            left_e = expr.left
            for op, right_e in zip(expr.ops, expr.comparators, strict=True):
                right = v(right_e)
                if isinstance(op, ast.In | ast.NotIn) and dotted(right_e).endswith("environ"):
                    # ``"X" in os.environ``: unset by default, set when the run set it.
                    if not isinstance(left, str):
                        return UNKNOWN
                    return (left in self.env_set) is isinstance(op, ast.In)
                if _never_crossed(left_e, left, op, right_e, right, self._assignments):
                    return False
                if left is UNKNOWN or right is UNKNOWN:
                    return UNKNOWN
                try:
                    ok = _COMPARE[type(op)](left, right)
                except (TypeError, KeyError):
                    return UNKNOWN
                if not ok:
                    return False
                left, left_e = right, right_e
            return True
        if isinstance(expr, ast.BinOp):
            a, b = v(expr.left), v(expr.right)
            if a is UNKNOWN or b is UNKNOWN:
                return UNKNOWN
            try:
                return _BINOP[type(expr.op)](a, b)
            except (TypeError, KeyError, ZeroDivisionError, ValueError, OverflowError):
                return UNKNOWN
        if isinstance(expr, ast.Subscript) and dotted(expr.value).endswith("environ"):
            key = expr.slice
            if isinstance(key, ast.Constant) and key.value in self.env_set:
                return self.env_set[key.value][0]
            return UNKNOWN
        if isinstance(expr, ast.Call):
            if is_environ_get(expr):
                key = expr.args[0]
                if isinstance(key, ast.Constant) and key.value in self.env_set:
                    return self.env_set[key.value][0]
                return v(expr.args[1]) if len(expr.args) > 1 else None
            name = _callee(expr)
            if name == "getattr" and isinstance(expr.func, ast.Name):
                return self._getattr_value(expr, depth)
            if name == "field" and not expr.args:  # a dataclass field's default
                for kw in expr.keywords:
                    if kw.arg == "default":
                        return v(kw.value)
                    if kw.arg == "default_factory" and isinstance(kw.value, ast.Lambda):
                        return v(kw.value.body)
                return UNKNOWN
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
        if not switches:  # ``getattr(h, "x", False)``: the attribute is the setting
            switches = sorted(_getattr_names(test))
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
        if switch in self.env_set:
            text, entry = self.env_set[switch]
            default = self.env_defaults.get(switch, (None, None))[0]
            return f"{switch} (default {default!r}; {text!r} as run, {entry.source})"
        if switch in self._attr_applied:
            default, value = self._attr_applied[switch]
            return (
                f"setting {switch} (default {default!r}; {value!r} as run, "
                f"{self.attr_set[switch].source})"
            )
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
        """Value of an environment variable (its default, or the value the run set) and the
        line that reads it."""
        if env_var in self.env_defaults:
            default, line = self.env_defaults[env_var]
            if env_var in self.env_set:
                return self.env_set[env_var][0], line
            return default, line
        return UNKNOWN, None

    # ---------------------------------------------------------------- run configuration

    def source_of(self, switch: str) -> str | None:
        """``TTT_ENABLED=1 (README.md:84)`` when the run configuration set ``switch``."""
        if switch in self.env_set:
            text, entry = self.env_set[switch]
            return f"{switch}={text} ({entry.source})"
        if switch in self._attr_applied:
            return f"{switch}={self._attr_applied[switch][1]!r} ({self.attr_set[switch].source})"
        return None

    def where_set(self, switch: str) -> str | None:
        """``README.md:84`` when the run configuration set ``switch``, else None."""
        if switch in self.env_set:
            return self.env_set[switch][1].source
        if switch in self._attr_applied:
            return self.attr_set[switch].source
        return None

    @property
    def configured(self) -> bool:
        """Whether any setting of this script was replaced by the run configuration."""
        return bool(self.env_set or self._attr_applied)

    def rows(self) -> list[dict]:
        """What the run configuration set, one row per setting the script reads: its value,
        default and source, and what the other sources said."""
        out = []
        for env_var, (text, entry) in sorted(self.env_set.items()):
            default = self.env_defaults.get(env_var, (UNKNOWN, None))[0]
            out.append(self._row(env_var, text, default, entry))
        for name, (default, value) in sorted(self._attr_applied.items()):
            if name.upper() in self.env_set:
                continue  # already shown as its environment variable
            out.append(self._row(name, value, default, self.attr_set[name]))
        return out

    def _row(self, name: str, value: object, default: object, entry: ConfigSetting) -> dict:
        others = [
            f"{e.source}: {e.value!r}"
            + ("" if runconfig.same_value(e.value, value) else " (differs)")
            for e in self._conflicts.get(name, [])
        ]
        return {
            "setting": name,
            "value": str(value),
            "default": "?" if default is UNKNOWN else repr(default),
            "source": entry.source,
            "changed": "" if runconfig.same_value(value, default) else "yes",
            "other sources": "; ".join(others),
            "disputed": any(o.endswith("(differs)") for o in others),
        }

    def _resolve(self, config: runconfig.RunConfig, env_calls: list[ast.Call], model) -> None:
        """Map the run configuration's keys to what the script reads, in precedence order."""
        literal_default: dict[str, object] = {}
        for call in env_calls:
            key = call.args[0]
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                default = call.args[1] if len(call.args) > 1 else None
                literal_default.setdefault(
                    key.value, default.value if isinstance(default, ast.Constant) else None
                )
        fields_from_env = any(
            isinstance(c.args[0], ast.Call) and _callee(c.args[0]) == "upper" for c in env_calls
        )
        self._config_classes = {c for c in model.of_type(ast.ClassDef) if _is_config_class(c)}
        entries = sorted(config.entries, key=lambda e: runconfig._RANK[e.origin])
        for entry in entries:
            key = entry.key
            if entry.env_style and key in literal_default:
                self._set_env(key, str(entry.value), entry)
                self.attr_set.pop(key.lower(), None)
                continue
            if entry.env_style and entry.origin == runconfig.README:
                if fields_from_env:  # a config read field by field from ``NAME.upper()``
                    self._set_attr(key.lower(), entry)
                continue
            # An echoed or typed value, or the user's own option naming an attribute.
            self._set_attr(key, entry)
            default = literal_default.get(key.upper(), UNKNOWN)
            if default is not UNKNOWN and _fits(entry.value, default):
                self._set_env(key.upper(), _env_text(entry.value, default), entry)
        for key, disputed in config.disputed.items():  # the logs disagree: keep the others
            name = key.upper() if key.upper() in literal_default else key
            if name in self.env_set or name in self.attr_set:
                self._conflicts.setdefault(name, []).extend(disputed)

    def _set_env(self, key: str, text: str, entry: ConfigSetting) -> None:
        if key in self.env_set:
            self._conflicts.setdefault(key, []).append(self.env_set[key][1])
        self.env_set[key] = (text, entry)

    def _set_attr(self, name: str, entry: ConfigSetting) -> None:
        if name in self.attr_set:
            self._conflicts.setdefault(name, []).append(self.attr_set[name])
        self.attr_set[name] = entry

    def _takes_config(self, owner: ast.AST, value: ast.expr, name: str) -> bool:
        """Whether a class attribute is a setting the run configuration may set: it reads the
        environment, or its class is a config class (``Hyperparameters``, a dataclass)."""
        entry = self.attr_set[name]
        if entry.origin in (runconfig.FILE, runconfig.CLI):
            return True
        return self._env_key(value) is not None or owner in self._config_classes

    def _getattr_value(self, call: ast.Call, depth: int) -> object:
        """``getattr(h, "x", default)``: the setting ``x`` when the script defines it; the
        default when nothing in the script can set ``x``."""
        if len(call.args) not in (2, 3) or not isinstance(call.args[1], ast.Constant):
            return UNKNOWN
        attr = call.args[1].value
        if not isinstance(attr, str):
            return UNKNOWN
        holder = dotted(call.args[0]).rpartition(".")[2]
        if not _CONFIG_HOLDER.search(holder):  # ``getattr(torch, "compile", None)`` is no setting
            return UNKNOWN
        if attr in self.attrs:
            return self.attrs[attr]
        default = self.value(call.args[2], depth + 1) if len(call.args) == 3 else UNKNOWN
        if attr in self.attr_set and default is not UNKNOWN:  # the run echoed or set it
            configured = runconfig.coerce(self.attr_set[attr].value, default)
            if configured is not None:
                self._attr_applied[attr] = (default, configured)
                return configured
        if attr not in self._set_elsewhere():
            return default
        return UNKNOWN

    def _assignments(self, name: ast.Name) -> list[ast.expr]:
        """Values assigned to ``name`` in its own function (or at module level)."""
        if self._assigned_by_name is None:
            self._assigned_by_name = {}
            for node in self._node_lists[3]:
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        self._assigned_by_name.setdefault(target.id, []).append(node)
        scope = self._scope_of(name)
        return [
            node.value
            for node in self._assigned_by_name.get(name.id, [])
            if self._scope_of(node) is scope
        ]

    def _scope_of(self, node: ast.AST) -> ast.AST | None:
        scope = self._parents.get(node)
        while scope is not None and not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
            scope = self._parents.get(scope)
        return scope

    def _set_elsewhere(self) -> set[str]:
        if self._mentioned is None:
            self._mentioned = _set_elsewhere(*self._node_lists[:3])
        return self._mentioned


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


_CONFIG_CLASS = re.compile(r"hyper|config|conf$|args|param|setting|hparam", re.IGNORECASE)
# Names of objects holding settings: ``h``, ``args``, ``self.cfg``, ``hparams``, ``run_config``.
_CONFIG_HOLDER = re.compile(
    r"^(h|hp|hps|a|c|opts?|options)$|args$|config$|cfg$|conf$|params$|settings$|^hyper",
    re.IGNORECASE,
)
_PROBABILITY_CALLS = {"softmax", "sigmoid"}
_REDUCTIONS = {"max", "amax", "min", "amin", "mean", "item", "squeeze", "gather", "values"}


def _is_config_class(node: ast.ClassDef) -> bool:
    """A class that holds settings: named like one, or a dataclass."""
    if _CONFIG_CLASS.search(node.name):
        return True
    return any(dotted(getattr(d, "func", d)).endswith("dataclass") for d in node.decorator_list)


def _set_elsewhere(calls: list, keywords: list, annotated: list) -> set[str]:
    """Attribute names something other than a plain assignment can set: keyword arguments
    (``SimpleNamespace(x=1)``), ``setattr`` / ``add_argument`` strings, bare annotations."""
    found: set[str] = set()
    for kw in keywords:
        if kw.arg:
            found.add(kw.arg)
    for node in annotated:
        if isinstance(node.target, ast.Name):
            found.add(node.target.id)
    for call in calls:
        name = _callee(call)
        if name not in ("setattr", "add_argument"):
            continue
        args = call.args if name == "add_argument" else call.args[1:2]
        for arg in args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.add(arg.value.lstrip("-").replace("-", "_"))
    return found


def _fits(value: object, default: object) -> bool:
    """Whether a logged value can be the value of a setting whose default is ``default``
    (``eval_only:loading`` is a log tag, not a value of ``EVAL_ONLY`` defaulting to "0")."""
    if default is None:
        return True
    reference = runconfig.coerce(default, "") if not isinstance(default, str) else default
    text = str(reference).strip().lower()
    if text in ("true", "false", "yes", "no", "on", "off"):
        return runconfig.coerce(value, True) is not None
    try:
        float(text)
    except ValueError:
        return not isinstance(value, bool)
    return runconfig.coerce(value, 0.0) is not None


def _env_text(value: object, default: object) -> str:
    """A logged value as the environment text the script parses (``True`` as ``1``, or as
    ``true`` when the default is written that way)."""
    if isinstance(value, bool) and isinstance(default, str):
        if default.lower() in ("true", "false", "yes", "no", "on", "off"):
            word = "true" if value else "false"
            return word.capitalize() if default[:1].isupper() else word
    return "1" if value is True else "0" if value is False else str(value)


def _never_crossed(
    left_e: ast.expr, left: object, op: ast.cmpop, right_e: ast.expr, right: object, assigned
) -> bool:
    """A probability compared with a threshold it can never cross: ``p > 99.0``,
    ``p >= 1.5``, ``2 < p``, where ``p`` is computed by a softmax or sigmoid."""
    if isinstance(op, ast.Lt | ast.LtE):  # ``T < p`` reads as ``p > T``
        left_e, left, right_e, right = right_e, right, left_e, left
        op = ast.Gt() if isinstance(op, ast.Lt) else ast.GtE()
    if not isinstance(op, ast.Gt | ast.GtE) or left is not UNKNOWN:
        return False
    if isinstance(right, bool) or not isinstance(right, int | float):
        return False
    if right < 1 or (right == 1 and isinstance(op, ast.GtE)):
        return False
    return _is_probability(left_e, assigned, 0)


def _is_probability(expr: ast.AST, assigned, depth: int) -> bool:
    """Whether ``expr`` is a probability in [0, 1]: a softmax or sigmoid (or ``exp`` of a
    log-softmax), a reduction or element of one, or a local assigned only from one."""
    if depth > 4:
        return False
    if isinstance(expr, ast.Call):
        name = _callee(expr)
        if name in _PROBABILITY_CALLS:
            return True
        if name == "exp" and isinstance(expr.func, ast.Attribute):
            inner = expr.func.value
            return isinstance(inner, ast.Call) and _callee(inner) == "log_softmax"
        if name in _REDUCTIONS and isinstance(expr.func, ast.Attribute):
            return _is_probability(expr.func.value, assigned, depth + 1)
        return False
    if isinstance(expr, ast.Subscript):
        return _is_probability(expr.value, assigned, depth + 1)
    if isinstance(expr, ast.Attribute) and expr.attr == "values":
        return _is_probability(expr.value, assigned, depth + 1)
    if isinstance(expr, ast.Name):
        values = assigned(expr)
        return bool(values) and all(_is_probability(v, assigned, depth + 1) for v in values)
    return False


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


def _getattr_names(expr: ast.AST) -> set[str]:
    return {
        n.args[1].value
        for n in ast.walk(expr)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Name)
        and n.func.id == "getattr"
        and len(n.args) >= 2
        and isinstance(n.args[1], ast.Constant)
        and isinstance(n.args[1].value, str)
    }


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
