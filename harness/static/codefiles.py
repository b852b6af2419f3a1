"""Which code files a submission's run needs: the script plus every helper it loads.

The artifact cap counts code bytes, and every byte of code the run needs counts
(rules.md, R-CODE-COUNTED). A script can pull code from beside itself in several ways:
importing a sibling module or package, ``exec(open("x.py").read())``, ``runpy``, compiling
C++/CUDA sources (``torch.utils.cpp_extension.load``, ``g++``/``nvcc`` via ``subprocess``),
or loading a shared library. This module finds those references statically (in the
unwrapped source) and resolves them to files inside the script's folder, recursively.

It never follows a path outside the folder: absolute paths, ``..`` and symlinks that escape
are reported as unresolved instead.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from pathlib import Path

from golf_check.harness.errors import InputError
from golf_check.harness.static.loader import LoadedScript, load_script

MAX_CODE_FILES = 256  # a submission folder holds a handful; a site-packages tree does not
CODE_SUFFIXES = (".py", ".cpp", ".cc", ".cxx", ".c", ".cu", ".cuh", ".h", ".hpp", ".so")
# Callees whose path arguments are code the run loads (last dotted component).
_CODE_LOADERS = {
    "exec",
    "compile",
    "run_path",
    "run_module",
    "load",
    "load_inline",
    "CDLL",
    "cdll",
    "LoadLibrary",
    "spec_from_file_location",
    "import_module",
}
_SUBPROCESS = {"run", "call", "check_call", "check_output", "Popen", "system", "popen"}
_RELEVANT = {ast.Import, ast.ImportFrom, ast.Call, ast.Assign}
_COMPILERS = ("g++", "gcc", "c++", "nvcc", "clang", "clang++", "cc")


@dataclass
class CodeFiles:
    script: Path
    files: list[Path] = field(default_factory=list)  # the script first, then helpers
    unresolved: list[str] = field(default_factory=list)  # "file:line: what" for each reference

    @property
    def helpers(self) -> list[Path]:
        return self.files[1:]

    def total_bytes(self) -> int:
        """Bytes of every needed file as shipped (what counts toward the cap)."""
        return sum(p.stat().st_size for p in self.files)


def needed_code_files(
    script: str | Path, loaded: LoadedScript | None = None, recursive: bool = True
) -> CodeFiles:
    """The script plus every helper file in its folder that the run needs, recursively.

    Raises ``InputError`` if the script itself cannot be read or parsed; a helper that
    cannot be parsed is listed in ``unresolved`` (it still counts as a needed file).
    ``loaded`` reuses an already loaded script; ``recursive=False`` lists only what the
    script itself references. At most ``MAX_CODE_FILES`` files are followed.
    """
    script = Path(script)
    folder = script.resolve().parent
    result = CodeFiles(script=script, files=[script])
    seen = {script.resolve()}
    queue = [script]
    while queue:
        current = queue.pop(0)
        try:
            if loaded is None or current != script:
                loaded_now = load_script(current)
            else:
                loaded_now = loaded  # the caller already loaded and unwrapped the script
        except InputError as exc:
            if current == script:
                raise
            result.unresolved.append(f"{_rel(current, folder)}: cannot analyse helper: {exc}")
            continue
        for ref in _references(loaded_now, current, folder, result.unresolved):
            real = ref.resolve()
            if real in seen:
                continue
            seen.add(real)
            result.files.append(ref)
            if len(result.files) >= MAX_CODE_FILES:
                result.unresolved.append(
                    f"{_rel(current, folder)}: stopped after {MAX_CODE_FILES} code files"
                )
                return result
            if ref.suffix == ".py" and recursive:
                queue.append(ref)
    return result


def _rel(path: Path, folder: Path) -> str:
    try:
        return str(path.resolve().relative_to(folder))
    except ValueError:
        return str(path)


def _inside(folder: Path, candidate: Path) -> bool:
    try:
        candidate.resolve().relative_to(folder)
        return True
    except (ValueError, OSError, RuntimeError):  # RuntimeError: symlink loop on old Pythons
        return False


def _references(loaded: LoadedScript, current: Path, folder: Path, unresolved: list[str]):
    """Yield helper files (inside ``folder``) that ``tree`` needs; note what cannot resolve."""
    base = current.parent
    where = _rel(current, folder)
    if loaded.nodes_by_type is not None and loaded.node_index is not None:
        by_type = loaded.nodes_by_type
        nodes = [n for kind in _RELEVANT for n in by_type.get(kind, ())]
        nodes.sort(key=loaded.node_index.__getitem__)  # source order, as a walk gives them
    else:
        every = loaded.nodes if loaded.nodes is not None else list(ast.walk(loaded.tree))
        nodes = [n for n in every if type(n) in _RELEVANT]
    names = _path_variables(nodes)
    probed: dict = {}  # (module name, base folder) -> candidate files, for this call only

    def note(node: ast.AST, what: str) -> None:
        unresolved.append(f"{where}:{getattr(node, 'lineno', '?')}: {what}")

    def accept(path: Path, node: ast.AST, text: str) -> Path | None:
        if ".." in Path(text).parts or Path(text).is_absolute():
            if Path(text).suffix in CODE_SUFFIXES:
                note(node, f"{text!r} points outside the submission folder")
            return None
        if not path.exists():
            return None
        if not _inside(folder, path):
            note(node, f"{text!r} resolves outside the submission folder (symlink)")
            return None
        return path

    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                # Absolute imports resolve from the script's folder (sys.path[0]).
                yield from _module_files(alias.name, folder, folder, node, accept, probed)
        elif isinstance(node, ast.ImportFrom):
            mod_base = base if node.level else folder
            for _ in range(max(node.level - 1, 0)):
                mod_base = mod_base.parent
            if node.module:
                found = list(_module_files(node.module, mod_base, folder, node, accept, probed))
                yield from found
                # ``from pkg import sub`` may name a submodule file.
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    yield from _module_files(sub, mod_base, folder, node, accept, probed)
            else:
                for alias in node.names:
                    yield from _module_files(alias.name, mod_base, folder, node, accept, probed)
        elif isinstance(node, ast.Call):
            yield from _call_references(node, (folder, base), accept, note, names)


def _path_variables(nodes: list[ast.AST]) -> dict[str, ast.expr]:
    """Names assigned exactly once to an expression (``src = os.path.join(...)``)."""
    assigned: dict[str, ast.expr] = {}
    repeated: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                if target.id in assigned:
                    repeated.add(target.id)
                assigned[target.id] = node.value
    return {k: v for k, v in assigned.items() if k not in repeated}


def _module_files(name, base: Path, folder: Path, node, accept, probed: dict):
    key = (name, base)
    candidates = probed.get(key)
    if candidates is None:  # a long script imports the same modules many times
        candidates = probed[key] = _module_candidates(name, base, folder)
    for path, text in candidates:
        found = accept(path, node, text)
        if found:
            yield found


def _module_candidates(name: str, base: Path, folder: Path) -> list[tuple[Path, str]]:
    """Files in ``folder`` that ``import name`` could load from ``base`` (file system only)."""
    parts = name.split(".")
    if not _inside(folder, base):
        return []
    out = []
    for i in range(1, len(parts) + 1):
        stem = base.joinpath(*parts[:i])
        last = i == len(parts)
        init = stem / "__init__.py"
        if stem.is_dir() and init.exists():
            out.append((init, str(init.relative_to(base))))
        elif last and stem.with_suffix(".py").exists():
            out.append((stem.with_suffix(".py"), name.replace(".", "/") + ".py"))
        elif not stem.is_dir():
            break
    return out


def _call_references(node: ast.Call, bases, accept, note, names: dict[str, ast.expr]):
    """Code files named in a loader call; paths resolve from the run's working folder (the
    submission folder), then from the calling file's own folder."""
    callee = _last_name(node.func)
    receiver_path = None
    # Path("kernel.cpp").read_text() / open(...).read(): the path sits in the receiver call.
    if isinstance(node.func, ast.Attribute) and callee in ("read_text", "read_bytes", "read"):
        inner = node.func.value
        if isinstance(inner, ast.Call):
            receiver_path = inner
    is_loader = callee in _CODE_LOADERS
    is_subprocess = callee in _SUBPROCESS and _mentions_compiler(node)
    if not (is_loader or is_subprocess or callee in ("open", "Path") or receiver_path):
        return
    for arg in _path_args(node):
        text = _path_text(arg, names)
        if callee in ("exec", "compile") and _is_open_read(arg):
            opened = arg.func.value  # type: ignore[attr-defined]
            if isinstance(opened, ast.Call) and opened.args:
                if _path_text(opened.args[0], names) is None:
                    note(node, f"{callee}() of a computed path: {ast.unparse(opened)[:80]}")
            continue  # a resolvable open() inside is visited on its own
        if text is None:
            if (is_loader and callee not in ("load", "compile")) or is_subprocess:
                if callee in ("exec", "compile") and not isinstance(arg, ast.Call):
                    continue  # exec of a string variable: source already in the script
                note(node, f"computed path in {callee}(...): {ast.unparse(arg)[:80]}")
            continue
        for piece in text.split():
            if not piece.endswith(CODE_SUFFIXES):
                continue
            for base in bases:
                found = accept(base / piece, node, piece)
                if found:
                    yield found
                    break


def _is_open_read(arg: ast.expr) -> bool:
    return (
        isinstance(arg, ast.Call)
        and isinstance(arg.func, ast.Attribute)
        and arg.func.attr in ("read", "read_text")
    )


def _path_args(node: ast.Call):
    for arg in node.args:
        if isinstance(arg, ast.List | ast.Tuple):
            yield from arg.elts
        else:
            yield arg
    for kw in node.keywords:
        if kw.arg in ("sources", "source", "args", "path", "name", "file", "location", "cmd"):
            if isinstance(kw.value, ast.List | ast.Tuple):
                yield from kw.value.elts
            else:
                yield kw.value


def _mentions_compiler(node: ast.Call) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            words = sub.value.split()
            if words and os.path.basename(words[0]) in _COMPILERS:
                return True
    return False


def _last_name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _path_text(
    node: ast.expr, names: dict[str, ast.expr] | None = None, depth: int = 0
) -> str | None:
    """The relative path an expression denotes, when golf-check can tell; else ``None``.

    Handles literals, ``os.path.join(os.path.dirname(__file__), "a", "b.cpp")``,
    ``Path(__file__).parent / "b.cpp"``, ``str(...)`` and ``+`` concatenation.
    """
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if depth > 8:
        return None
    if isinstance(node, ast.Name) and names and node.id in names:
        return _path_text(names[node.id], names, depth + 1)
    if _is_script_dir(node):
        return ""
    if isinstance(node, ast.JoinedStr):
        if all(isinstance(v, ast.Constant) for v in node.values):
            return "".join(str(v.value) for v in node.values)  # type: ignore[union-attr]
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div | ast.Add):
        left = _path_text(node.left, names, depth + 1)
        right = _path_text(node.right, names, depth + 1)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.Add):
            return left + right
        return f"{left}/{right}" if left else right
    if isinstance(node, ast.Call):
        name = _last_name(node.func)
        if name in ("join",) and node.args:
            parts = [_path_text(a, names, depth + 1) for a in node.args]
            if any(p is None for p in parts):
                return None
            return "/".join(p for p in parts if p)  # type: ignore[misc]
        if name in ("str", "Path", "abspath", "realpath", "resolve", "fspath") and node.args:
            return _path_text(node.args[0], names, depth + 1)
        if name == "resolve" and isinstance(node.func, ast.Attribute):
            return _path_text(node.func.value, names, depth + 1)
    return None


def _is_script_dir(node: ast.expr) -> bool:
    """``os.path.dirname(__file__)``, ``Path(__file__).parent`` and friends."""
    if isinstance(node, ast.Call) and _last_name(node.func) in ("dirname", "resolve", "abspath"):
        inner = node.args[0] if node.args else getattr(node.func, "value", None)
        return inner is not None and "__file__" in ast.unparse(inner)
    if isinstance(node, ast.Attribute) and node.attr == "parent":
        return "__file__" in ast.unparse(node.value)
    return False
