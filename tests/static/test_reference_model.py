"""The static checker on the real reference submission (a package run as ``python -m``).

Every injected violation sits behind ``GOLF_INJECT`` (off by default): each must be found as a
warning of its rule that names the switch, and the legal default paths give no error."""

from __future__ import annotations

from pathlib import Path

import pytest

from golf_check.harness.static import check_paths

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "reference_model"


@pytest.fixture(scope="module")
def report():
    return check_paths([PACKAGE])


def _findings(report):
    return [f for r in report.files for f in r.findings]


@pytest.mark.parametrize(
    "injection,rule,module",
    [
        ("train-before-score", "C3.pretrain-on-val", "evaluate.py"),
        ("rescore", "C4.rescore", "evaluate.py"),
        ("entropy-expert", "C2.entropy-expert", "evaluate.py"),
        ("target-in-key", "C1.target-in-key", "inject.py"),
        ("slot", "C1.slot", "inject.py"),
        ("val-calibration", "DATA.val-calibration", "main.py"),
        ("network", "DATA.network", "inject.py"),
    ],
)
def test_injected_path_is_a_warning_naming_the_switch(report, injection, rule, module):
    hits = [f for f in _findings(report) if f.rule == rule]
    assert hits, f"{injection}: no {rule} finding"
    for f in hits:
        assert f.severity == "warning"
        assert "off by default" in f.message
        assert "GOLF_INJECT" in f.message and "golf_inject (default '')" in f.message
    assert any(Path(f.file).name == module for f in hits)


def test_no_error_on_the_default_paths(report):
    assert not report.errors
    assert [f for f in _findings(report) if f.severity == "error"] == []
    assert report.exit_code == 0
    assert check_paths([PACKAGE], strict=True).exit_code == 1


def test_package_is_one_program_with_per_module_results(report):
    names = {Path(r.path).name for r in report.files}
    assert {"__main__.py", "main.py", "evaluate.py", "inject.py", "hedge.py"} <= names
    assert any("checked as one program" in n for n in report.notes)
    # Lines in messages point into the module, not into the joined program.
    rescore = next(f for f in _findings(report) if f.rule == "C4.rescore")
    source = (PACKAGE / "evaluate.py").read_text().splitlines()
    assert "score_chunk" in source[rescore.line - 1]
    assert f"line {rescore.line}" in rescore.message


def test_a_module_alone_misses_the_cross_module_paths():
    alone = check_paths([PACKAGE / "evaluate.py"])
    rules = {f.rule for r in alone.files for f in r.findings}
    assert "C2.entropy-expert" not in rules
