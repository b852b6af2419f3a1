"""A package submission analysed as one program.

A submission may be a Python package run as ``python -m pkg`` (a folder with ``__init__.py``
and ``__main__.py`` or ``main.py``) instead of one ``train_gpt.py``. Its evaluation pass lives
in one module and calls into others (``inject.slot_logits(...)`` from ``evaluate.py``), so
checking each file alone would miss every path that crosses a module boundary. Here the
modules' syntax trees are joined into one module, each shifted to its own range of line
numbers, so the program model resolves calls across modules by name as it does inside one
script; ``PackageProgram.locate`` maps a line of the joined program back to its file.
"""

from __future__ import annotations

import ast
import bisect
from dataclasses import dataclass, field
from pathlib import Path

from golf_check.harness.static.loader import LoadedScript

ENTRY_POINTS = ("__main__.py", "main.py")


def is_package_folder(folder: Path, files: list[str]) -> bool:
    """Whether a folder is a runnable package: ``__init__.py`` plus an entry point."""
    names = set(files)
    return "__init__.py" in names and any(e in names for e in ENTRY_POINTS)


@dataclass
class PackageProgram:
    """The joined program and, per module, the first line it occupies in it."""

    script: LoadedScript
    modules: list[tuple[str, LoadedScript]]  # (display path, loaded module), in join order
    starts: list[int] = field(default_factory=list)  # 1-based first joined line per module

    def locate(self, line: int | None) -> tuple[int, int | None]:
        """(index of the module, line within it) of a line of the joined program."""
        if not line:
            return 0, line
        i = max(0, bisect.bisect_right(self.starts, line) - 1)
        return i, line - self.starts[i] + 1


def join_modules(folder: Path, modules: list[tuple[str, LoadedScript]]) -> PackageProgram:
    """Join already loaded modules into one program (their trees are shifted in place)."""
    body: list[ast.stmt] = []
    sources: list[str] = []
    starts: list[int] = []
    offset = 0
    for _, loaded in modules:
        starts.append(offset + 1)
        if offset:
            ast.increment_lineno(loaded.tree, offset)
        body.extend(loaded.tree.body)
        text = loaded.source if loaded.source.endswith("\n") else loaded.source + "\n"
        sources.append(text)
        offset += text.count("\n")
    joined = LoadedScript(
        path=folder,  # a folder: per-file detectors (helper files) skip the joined program
        raw_bytes=b"".join(m.raw_bytes for _, m in modules),
        source="".join(sources),
        tree=ast.Module(body=body, type_ignores=[]),
    )
    return PackageProgram(joined, modules, starts)
