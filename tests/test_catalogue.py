"""The rule catalogue as a whole: every rule is documented, detected and tested."""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import pytest
from golf_cli import golf_check

from golf_check.harness.rulebook import load_all
from golf_check.harness.rules_command import (
    _docstring_parts,
    catalogue_markdown,
    detector_table_markdown,
    with_detector_table,
)

ROOT = Path(__file__).resolve().parents[1]
RULES = sorted(load_all().rules.values(), key=lambda r: r.id)


def test_catalogue_is_not_empty():
    assert len(RULES) >= 20


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_is_documented(rule):
    assert len(rule.title) > 10, "state in one line what is not allowed"
    assert not rule.title.endswith("."), "a title is a phrase, without a closing period"
    assert len(rule.explanation) > 80, "explain what the rule checks and why"
    assert "example" in rule.explanation.lower(), "give a short example"
    assert rule.sources, "name the issue or pull request the rule comes from"
    for source in rule.sources:
        assert source.startswith(("https://", "DESIGN.md", "rules.md")), source


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_has_a_detector(rule):
    detectors = [d for d in load_all().detectors if rule.id in d.rule_ids]
    assert detectors, f"{rule.id} has no registered detector"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_is_expected_by_a_test(rule):
    """A rule no test expects as a finding is a rule whose removal no test would notice.

    A rule read from source must be expected by an illegal twin's ``expected.toml``; any other
    rule must appear as a value a test asserts or compares against (a comment, a docstring or
    a mere mention does not count).
    """
    if rule.id in _static_rule_ids():
        twins = [
            rel
            for rel, exp in _twin_expectations().items()
            if "illegal" in rel and any(r == rule.id for r, _, _ in exp)
        ]
        assert twins, f"no illegal twin under tests/static/twins expects {rule.id}"
    else:
        assert rule.id in _asserted_rule_ids(), f"no test under tests/ asserts a {rule.id} finding"


def test_docs_rules_md_is_generated_from_the_catalogue():
    doc = ROOT / "docs" / "rules.md"
    assert doc.read_text(encoding="utf-8") == catalogue_markdown(), (
        "docs/rules.md is stale: regenerate it with "
        "`golf-check rules --format markdown > docs/rules.md`"
    )


def test_docs_detector_table_is_generated_from_the_docstrings():
    doc = (ROOT / "docs" / "static-checker.md").read_text(encoding="utf-8")
    assert doc == with_detector_table(doc), (
        "the detector table in docs/static-checker.md is stale: regenerate it with "
        "update_detector_table('docs/static-checker.md') from golf_check.harness.rules_command"
    )


@pytest.mark.parametrize(
    "detector", load_all().detectors_for("static"), ids=lambda d: d.name.rsplit(".", 1)[-1]
)
def test_static_detector_documents_its_row(detector):
    (row,) = [
        line
        for line in detector_table_markdown().splitlines()
        if f"`{detector.name.removeprefix('golf_check.rules.')}`" in line
    ]
    rules, _, looks, confidence, blind = [c.strip() for c in row.strip("|").split(" | ")]
    assert rules == ", ".join(f"`{rid}`" for rid in detector.rule_ids)
    assert len(looks) > 30, "the docstring's first paragraph says what the detector looks for"
    assert set(confidence.split("/")) <= {"high", "medium", "low"} and confidence, confidence
    assert blind, "a 'Cannot see:' paragraph names what the detector misses"


def test_detector_table_reads_the_docstring_paragraphs():
    from golf_check.harness.rulebook import Detector

    def probe(model):
        """Reads ``a | b`` in one
        paragraph over two lines.

        Details for maintainers, not in the table.

        Confidence: medium.

        Cannot see: kernels.
        """

    row = _docstring_parts(Detector(("C1.slot",), "static", probe, "x.probe"))
    assert row == ("Reads `a \\| b` in one paragraph over two lines.", "medium", "kernels")


def test_detector_table_needs_its_markers():
    with pytest.raises(ValueError, match="markers"):
        with_detector_table("# a doc without the table\n")


def test_rules_command_prints_the_detector_table():
    out = _printed("rules", "--detectors", "static")
    assert out == detector_table_markdown("static")
    proc = golf_check("rules", "C1.slot", "--detectors", "static")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().startswith("golf-check: error: --detectors lists a whole level")


def test_rules_command_lists_and_explains():
    out = _printed("rules")
    assert all(r.id in out for r in RULES)
    one = RULES[0]
    out = _printed("rules", one.id)
    assert one.title in out and one.sources[0] in out


def test_a_condition_lists_its_family():
    out = _printed("rules", "c3")
    family = [r.id for r in RULES if r.condition == "C3"]
    assert family and all(rid in out for rid in family)
    assert not any(r.id in out for r in RULES if r.condition != "C3")


def test_unknown_rule_is_a_usage_error():
    proc = golf_check("rules", "C9.nope")
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("golf-check: error: unknown rule id")
    assert "Traceback" not in proc.stderr


def test_help_lists_every_command():
    out = _printed("--help")
    for command in ("check", "verify", "run", "ci", "data", "rules"):
        assert re.search(rf"^\s+{command}\s", out, re.M), command


def _printed(*args: str) -> str:
    """What ``golf-check ARGS`` prints, asserting it succeeded."""
    done = golf_check(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _static_rule_ids() -> set[str]:
    return {rid for d in load_all().detectors_for("static") for rid in d.rule_ids}


def _twin_expectations() -> dict[str, list[tuple[str, int, str]]]:
    """The twins' expected findings, read by the same code as tests/static/test_twins.py."""
    path = ROOT / "tests" / "static" / "test_twins.py"
    spec = importlib.util.spec_from_file_location("_twin_expectations", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.read_expectations()


def _asserted_rule_ids() -> set[str]:
    """Rule ids written as string values inside an ``assert``, an ``==``/``in`` comparison or a
    ``pytest.mark.parametrize`` case in a test module other than this one."""
    if "asserted" in _cache:
        return _cache["asserted"]
    ids = set(load_all().rules)
    found: set[str] = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        if path.name == "test_catalogue.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # Cases are often a module-level list handed to parametrize by name.
        module_values = {
            target.id: stmt.value
            for stmt in tree.body
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None
            for target in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            checked: list[ast.AST] = []
            if isinstance(node, (ast.Assert, ast.Compare)):
                checked.append(node)
            elif _is_parametrize(node):
                checked.append(node)
                names = [a.id for a in node.args if isinstance(a, ast.Name)]
                checked += [module_values[n] for n in names if n in module_values]
            found |= {
                sub.value
                for part in checked
                for sub in ast.walk(part)
                if isinstance(sub, ast.Constant) and sub.value in ids
            }
    _cache["asserted"] = found
    return found


def _is_parametrize(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "parametrize"
    )


_cache: dict[str, set[str]] = {}
