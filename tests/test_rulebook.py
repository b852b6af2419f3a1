"""The registry's one detector loop (crash isolation, select/ignore) and rule policy read from
the Rule, never from tables of rule ids in the machinery."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from golf_check.harness.report import Finding
from golf_check.harness.rulebook import Detector, Registry, Rule, get_rule, load_all

ROOT = Path(__file__).resolve().parents[1]
GOOD = Rule("C1.example-good", "C1", "A rule whose detector works", "Why.", ())
BROKEN = Rule("C2.example-broken", "C2", "A rule whose detector raises", "Why.", ())
DEEP = Rule("C3.example-deep", "C3", "A rule whose detector recurses", "Why.", ())


def _registry() -> Registry:
    def good(subject):
        yield Finding.of(GOOD, f"saw {subject}")

    def broken(subject):
        raise KeyError("missing field")

    def deep(subject):
        raise RecursionError("maximum recursion depth exceeded")

    registry = Registry()
    for rule in (GOOD, BROKEN, DEEP):
        registry.add_rule(rule)
    registry.detectors += [
        Detector((BROKEN.id,), "log", broken, "example.broken"),
        Detector((GOOD.id,), "log", good, "example.good"),
        Detector((DEEP.id,), "log", deep, "example.deep"),
        Detector((GOOD.id,), "static", good, "example.static"),
    ]
    return registry


def test_a_failing_detector_is_isolated_and_said():
    notes: list[str] = []
    findings = _registry().run("log", "the subject", notes=notes)
    assert [(f.rule, f.message) for f in findings] == [(GOOD.id, "saw the subject")]
    assert notes == [
        "detector example.broken failed (KeyError: 'missing field'); rules C2.example-broken "
        "were not checked",
        "detector example.deep gave up: the input nests too deeply",
    ]


def test_only_the_levels_detectors_run():
    assert _registry().run("runtime", "x", notes=[]) == []
    assert [f.rule for f in _registry().run("static", "x", notes=[])] == [GOOD.id]


def test_select_and_ignore_skip_detectors_whose_rules_are_inactive():
    notes: list[str] = []
    assert _registry().run("log", "x", select={BROKEN.id}, notes=notes) == []
    assert len(notes) == 1  # only the selected rule's detector ran
    notes.clear()
    assert [f.rule for f in _registry().run("log", "x", ignore={BROKEN.id, DEEP.id}, notes=notes)]
    assert notes == []


def test_without_a_place_for_notes_a_failure_still_reaches_stderr(capsys):
    _registry().run("log", "x")
    assert "example.broken failed" in capsys.readouterr().err


REVIEW = Rule(
    "PACKAGE.example-review", "PACKAGE", "A rule judged on the other findings", "Why.", ()
)


def _with_reviewers() -> Registry:
    """The example registry plus a reviewer that marks what the others found and reports how
    many it saw, and one that raises."""

    def counting(subject, findings, active):
        for f in findings:
            f.suppressed = True
        yield Finding.of(REVIEW, f"{len(findings)} seen, example rule active: {active(GOOD.id)}")

    def broken(subject, findings, active):
        raise ValueError("bad comment")

    registry = _registry()
    registry.add_rule(REVIEW)
    registry.detectors += [
        Detector((REVIEW.id,), "log", counting, "example.review", reviews=True),
        Detector((REVIEW.id,), "log", broken, "example.broken_review", reviews=True),
    ]
    return registry


def test_reviewers_run_after_the_detectors_on_their_findings():
    registry, notes = _with_reviewers(), []
    findings = registry.run("log", "x", notes=notes)
    assert [f.rule for f in findings] == [GOOD.id]  # run() leaves the reviewers out
    reviewed = registry.review("log", "x", findings, notes=notes)
    assert [f.message for f in reviewed] == ["1 seen, example rule active: True"]
    assert findings[0].suppressed
    assert notes[-1] == (
        "detector example.broken_review failed (ValueError: bad comment); "
        "rules PACKAGE.example-review were not checked"
    )


def test_a_reviewer_marks_findings_even_when_its_own_rule_is_not_selected():
    registry = _with_reviewers()
    findings = registry.run("log", "x", select={GOOD.id}, notes=[])
    assert registry.review("log", "x", findings, select={GOOD.id}, notes=[]) == []
    assert findings[0].suppressed


def test_rule_policy_lives_on_the_rule():
    seeds = get_rule("EVIDENCE.seed-count")
    assert seeds.severity_for("run") == "info"
    assert seeds.superseded_by("ci") == "PACKAGE.pr-logs-per-seed"
    assert get_rule("BUDGET.train-time").superseded_by("run") == "runtime"
    assert get_rule("BUDGET.artifact-cap").judges_other_runs  # every budget does
    assert not get_rule("EVIDENCE.claim-mismatch").judges_other_runs
    required = get_rule("PACKAGE.required-files")
    missing = required.in_new_submission(
        Finding.of(required, "the folder has no README.md", evidence="missing: README.md")
    )
    assert missing.severity == "error" and "a new submission must include it" in missing.message
    renamed = required.in_new_submission(
        Finding.of(required, "read in its place", evidence="named otherwise: x.py")
    )
    assert renamed.severity == "warning"


def test_the_machinery_holds_no_rule_id_tables():
    """Rule ids in string literals under harness/ only in examples (docstrings, help texts,
    the config docstring)."""
    ids = set(load_all().rules)
    pattern = re.compile("|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True)))
    found = []
    for path in sorted((ROOT / "harness").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        helps = {
            id(node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.keyword) and node.arg == "help"
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if id(node) in docstrings or id(node) in helps:
                    continue
                if pattern.fullmatch(node.value.strip()):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert found == []
