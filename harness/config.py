"""``[tool.golf-check]`` in ``pyproject.toml``: a project's defaults for ``golf-check check``.

```toml
[tool.golf-check]
select = ["C1", "C3", "DATA.network"]   # or one comma-separated string
ignore = ["C4.rescore"]
strict = true
format = "concise"
```

The nearest ``pyproject.toml`` with a ``[tool.golf-check]`` table, from the working directory
up to the repository's top level, is read. Its values are defaults: an option given on the
command line wins. An unknown key or a value of the wrong type is an input error (exit 2), so
a typo never silently turns a check off.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from golf_check.harness.errors import InputError

TABLE = "golf-check"
# Keys in the table -> the option's parameter name in `check` (`--format` is `fmt`).
_PARAM_NAMES = {"format": "fmt", "run-config": "run_configs"}
# Options that name this run's inputs and outputs, not a project's defaults.
_NOT_DEFAULTS = {"paths", "output", "stdin_filename"}


def find_config(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The nearest pyproject.toml above ``start`` with a ``[tool.golf-check]`` table."""
    here = Path(os.path.abspath(start or os.getcwd()))
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and TABLE in _tool_tables(candidate):
            return candidate
        if (folder / ".git").exists():  # never read a project above this repository
            return None
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ModuleNotFoundError:
            raise InputError(
                f"{path}: reading [tool.golf-check] needs Python 3.11 or the tomli package"
            ) from None
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path}: cannot read it as TOML: {exc}") from None


def _tool_tables(path: Path) -> dict[str, Any]:
    # A cheap look before parsing: most pyproject.toml files have no golf-check table.
    try:
        if b"golf-check" not in path.read_bytes():
            return {}
    except OSError:
        return {}
    tool = _read_toml(path).get("tool", {})
    return tool if isinstance(tool, dict) else {}


def check_defaults(path: Path, command: Any) -> dict[str, Any]:
    """The table as click defaults for ``command`` (the ``check`` click command)."""
    table = _tool_tables(path).get(TABLE)
    if not isinstance(table, dict):
        raise InputError(f"{path}: [tool.{TABLE}] must be a table")
    params = {p.name: p for p in command.params if p.name not in _NOT_DEFAULTS and p.expose_value}
    keys = {name: key for key, name in _PARAM_NAMES.items()}
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = _PARAM_NAMES.get(key, key.replace("-", "_"))
        param = params.get(name)
        if param is None:
            known = sorted(keys.get(n, n.replace("_", "-")) for n in params)
            raise InputError(
                f"{path}: unknown key {key!r} in [tool.{TABLE}]; known: {', '.join(known)}"
            )
        out[name] = _convert(path, key, value, param)
        if name == "run_configs":  # like every path in a config file: relative to that file
            out[name] = [str(path.parent / v) for v in out[name]]
    return out


def _convert(path: Path, key: str, value: Any, param: Any) -> Any:
    where = f"{path}: [tool.{TABLE}] {key}"
    if getattr(param, "is_flag", False):
        if not isinstance(value, bool):
            raise InputError(f"{where} must be true or false")
        return value
    if getattr(param, "multiple", False):
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) for v in values):
            raise InputError(f"{where} must be a string or a list of strings")
        return values
    if isinstance(value, list):
        if not all(isinstance(v, str) for v in value):
            raise InputError(f"{where} must be a string or a list of strings")
        return ",".join(value)
    if not isinstance(value, str):
        raise InputError(f"{where} must be a string")
    choices = getattr(param.type, "choices", None)
    if choices and value not in choices:
        raise InputError(f"{where} must be one of {', '.join(choices)}, not {value!r}")
    return value
