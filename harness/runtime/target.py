"""What to run: a script file, a folder, a module, or the bundled reference submission.

The candidate is never imported into golf-check's own process: module names are located on
disk by walking ``sys.path``, without executing any package ``__init__``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from golf_check.harness.errors import InputError

REFERENCE = "golf_check.reference_model"  # the bundled reference, as installed
REFERENCE_FOLDER = "reference_model"  # its folder in the source tree


@dataclass
class Target:
    label: str  # what the report calls it
    run_args: list[str]  # after the interpreter: ["/abs/train_gpt.py"] or ["-m", "pkg"]
    script: Path | None  # the file whose bytes always count (None for a package: see code)
    code_dir: Path  # helper code opened from here counts toward the artifact
    is_reference: bool = False
    extra_pythonpath: list[Path] = field(default_factory=list)

    @property
    def is_package(self) -> bool:
        """A package is shipped whole: every .py file of its folder counts."""
        return self.script is None

    def command(self, nproc: int) -> list[str]:
        if nproc <= 1:
            return [sys.executable, *self.run_args]
        return [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc_per_node={nproc}",
            *(["--module", self.run_args[1]] if self.run_args[0] == "-m" else self.run_args),
        ]


def resolve(script: str | None) -> Target:
    text = script[3:].strip() if script and script.startswith("-m ") else script
    if text is None or text in (REFERENCE, REFERENCE_FOLDER):
        return _reference()
    path = Path(text).expanduser()
    if path.is_file():
        if path.suffix != ".py":
            raise InputError(f"{script}: not a Python script (.py)")
        path = path.resolve()
        return Target(str(script), [str(path)], path, path.parent)
    if path.is_dir():
        path = path.resolve()
        if (path / "train_gpt.py").is_file():
            return Target(str(script), [str(path / "train_gpt.py")], path / "train_gpt.py", path)
        if (path / "__main__.py").is_file():
            return Target(
                str(script),
                ["-m", path.name],
                None,
                path,
                is_reference=path.name == REFERENCE_FOLDER,
                extra_pythonpath=[path.parent],
            )
        raise InputError(f"{script}: folder has neither train_gpt.py nor __main__.py")
    if text.replace(".", "").replace("_", "").isalnum() and not text.endswith(".py"):
        return _module(text)
    raise InputError(f"{script}: no such script, folder or module")


def _reference() -> Target:
    """The bundled reference: golf-check's own package, found through the installed package
    (its parent is a namespace, so nothing is executed to find it)."""
    import importlib.util

    spec = importlib.util.find_spec(REFERENCE)
    if spec is None or not spec.submodule_search_locations:
        raise InputError(f"{REFERENCE}: the bundled reference model is not installed")
    folder = Path(next(iter(spec.submodule_search_locations))).resolve()
    return Target(REFERENCE, ["-m", REFERENCE], None, folder, is_reference=True)


def _module(name: str) -> Target:
    location = _locate(name)
    if location is None:
        raise InputError(f"{name}: module not found on the Python path")
    code_dir = location if location.is_dir() else location.parent
    script = None if location.is_dir() else location
    # the candidate runs from its own folder: put the package's parent on its path
    root = location.parent
    for _ in name.split(".")[1:]:
        root = root.parent
    return Target(
        name,
        ["-m", name],
        script,
        code_dir,
        is_reference=name == REFERENCE,
        extra_pythonpath=[root],
    )


def _locate(name: str) -> Path | None:
    """The package folder or module file for ``name``, looked up without importing it."""
    parts = name.split(".")
    for entry in [Path.cwd(), *(Path(p) for p in sys.path if p)]:
        base = entry.joinpath(*parts)
        if (base / "__main__.py").is_file() or (base / "__init__.py").is_file():
            return base.resolve()
        if base.with_suffix(".py").is_file():
            return base.with_suffix(".py").resolve()
    return _editable_location(name)


def _editable_location(name: str) -> Path | None:
    """Editable installs put a finder on ``sys.meta_path``; ask it without importing."""
    import importlib.util

    top = name.split(".")[0]
    try:
        spec = importlib.util.find_spec(top)  # a top-level name: nothing is executed
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.origin:
        base = Path(spec.origin).parent if spec.submodule_search_locations else Path(spec.origin)
    else:  # a namespace mapping (an editable install made before the package had __init__)
        dirs = [Path(p) for p in spec.submodule_search_locations or () if Path(p).is_dir()]
        if not dirs:
            return None
        base = dirs[0]
    rest = name.split(".")[1:]
    if not rest:
        return base
    sub = base.joinpath(*rest)
    if sub.is_dir():
        return sub
    return sub.with_suffix(".py") if sub.with_suffix(".py").is_file() else None
