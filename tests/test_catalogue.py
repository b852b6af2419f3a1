"""The rule catalogue as a whole: every rule is documented, detected and tested."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from golf_check.harness.rulebook import load_all
from golf_check.harness.rules_command import catalogue_markdown

ROOT = Path(__file__).resolve().parents[1]
RULES = sorted(load_all().rules.values(), key=lambda r: r.id)


def test_catalogue_is_not_empty():
    assert len(RULES) >= 20


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_is_documented(rule):
    assert rule.title and not rule.title.endswith(".") or len(rule.title) > 10
    assert len(rule.explanation) > 80, "explain what the rule checks and why"
    assert "example" in rule.explanation.lower(), "give a short example"
    assert rule.sources, "name the issue or pull request the rule comes from"
    for source in rule.sources:
        assert source.startswith(("https://", "DESIGN.md", "rules.md")), source


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_has_a_detector(rule):
    detectors = [d for d in load_all().detectors if rule.id in d.rule_ids]
    owned_elsewhere = _rule_ids_emitted_in_code()
    assert detectors or rule.id in owned_elsewhere, f"{rule.id} has no detector"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_is_named_in_a_test(rule):
    """A rule no test names is a rule whose removal no test would notice."""
    texts = _test_texts()
    assert any(rule.id in t for t in texts), f"no test under tests/ mentions {rule.id}"


def test_docs_rules_md_is_generated_from_the_catalogue():
    doc = ROOT / "docs" / "rules.md"
    assert doc.read_text(encoding="utf-8") == catalogue_markdown(), (
        "docs/rules.md is stale: regenerate it with "
        "`golf-check rules --format markdown > docs/rules.md`"
    )


def test_rules_command_lists_and_explains():
    out = subprocess.run(
        [sys.executable, "-m", "golf_check.harness", "rules"], capture_output=True, text=True, check=True
    ).stdout
    assert all(r.id in out for r in RULES)
    one = RULES[0]
    out = subprocess.run(
        [sys.executable, "-m", "golf_check.harness", "rules", one.id],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert one.title in out and one.sources[0] in out


def test_a_condition_lists_its_family():
    out = subprocess.run(
        [sys.executable, "-m", "golf_check.harness", "rules", "c3"], capture_output=True, text=True, check=True
    ).stdout
    family = [r.id for r in RULES if r.condition == "C3"]
    assert family and all(rid in out for rid in family)
    assert not any(r.id in out for r in RULES if r.condition != "C3")


def test_unknown_rule_is_a_usage_error():
    proc = subprocess.run(
        [sys.executable, "-m", "golf_check.harness", "rules", "C9.nope"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("golf-check: error: unknown rule id")
    assert "Traceback" not in proc.stderr


def test_help_lists_every_command():
    out = subprocess.run(
        [sys.executable, "-m", "golf_check.harness", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in ("check", "verify", "run", "ci", "data", "rules"):
        assert re.search(rf"^\s+{command}\s", out, re.M), command


_cache: dict[str, list[str]] = {}


def _test_texts() -> list[str]:
    if "tests" not in _cache:
        _cache["tests"] = [
            p.read_text(encoding="utf-8", errors="replace")
            for p in (ROOT / "tests").rglob("*.py")
            if p.name != "test_catalogue.py"
        ]
    return _cache["tests"]


def _rule_ids_emitted_in_code() -> set[str]:
    """Rules raised directly by a subsystem (suppressions, launch failures) rather than a detector."""
    found: set[str] = set()
    for p in (ROOT / "harness").rglob("*.py"):
        found |= set(
            re.findall(r"\b(?:C1|C2|C3|C4|DATA|BUDGET|EVIDENCE|PACKAGE)\.[a-z0-9-]+", p.read_text())
        )
    for p in (ROOT / "rules").rglob("*.py"):
        text = p.read_text()
        # A rule object used by name in a Finding.of(...) call inside a rules module counts too.
        for name in re.findall(r"Finding\.of\(\s*([A-Z_][A-Z0-9_]*)", text):
            m = re.search(rf"^{name}\s*=\s*rule\(\s*(?:id=)?\"([^\"]+)\"", text, re.M)
            if m:
                found.add(m.group(1))
    return found
