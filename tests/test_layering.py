"""Where code may live: the machinery under harness/ never reaches up into rules/, rule
modules share helpers through the harness, and each rule's detectors live in its family."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from golf_check.harness.rulebook import load_all

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(module, imported names, line) of every import in a file, nested ones included."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.append((node.module, [a.name for a in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            out.extend((a.name, [], node.lineno) for a in node.names)
    return out


def _python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_the_machinery_imports_no_rule_module():
    """Only the registry's discovery loads rules/ (by name, through importlib)."""
    reaching = [
        f"{p.relative_to(ROOT)}:{line} imports {module}"
        for p in _python_files("harness")
        for module, names, line in _imports(p)
        if p.name != "rulebook.py"
        and (module.startswith("golf_check.rules") or (module == "golf_check" and "rules" in names))
    ]
    assert reaching == []


def test_no_rule_module_imports_a_private_name_of_another():
    private = [
        f"{p.name}:{line} imports {', '.join(n for n in names if n.startswith('_'))} "
        f"from {module}"
        for p in _python_files("rules")
        for module, names, line in _imports(p)
        if module.startswith("golf_check.rules.") and any(n.startswith("_") for n in names)
    ]
    assert private == []


@pytest.mark.parametrize("det", load_all().detectors, ids=lambda d: d.name)
def test_a_detector_lives_in_the_family_module_of_every_rule_it_reports(det):
    rules = load_all().rules
    families = {rules[r].family for r in det.rule_ids}
    assert families == {det.func.__module__}, (
        f"{det.name} reports rules of {', '.join(sorted(families))}; move it there"
    )


def test_the_tool_never_imports_its_sample_submission():
    """harness/ runs the reference model as a program (``-m golf_check.reference_model``) but
    imports nothing from it: the demo data and the ``data`` command are the tool's own."""
    reaching = [
        f"{p.relative_to(ROOT)}:{line} imports {module}"
        for p in _python_files("harness")
        for module, names, line in _imports(p)
        if module.startswith("golf_check.reference_model")
        or (module == "golf_check" and "reference_model" in names)
    ]
    assert reaching == []
    assert not any("golf_check.reference_model" in m for m, _ in _cli_commands())


def _cli_commands() -> list[tuple[str, str]]:
    from golf_check.harness.cli import COMMANDS

    return list(COMMANDS.values())
