"""The report model: verdicts, exit codes, and every rendering of the same report."""

from __future__ import annotations

import json

import pytest

from harness.report import FileResult, Finding, Report, Table, render, validate_report_json


def _finding(severity="error", **kw):
    base = dict(
        rule="C3.example-rule",
        condition="C3",
        severity=severity,
        confidence="high",
        message="adapts on validation tokens before scoring them",
        file="train_gpt.py",
        line=12,
        evidence="ttt_adapt(model, val_tokens)",
        fix="score each chunk before training on it",
    )
    base.update(kw)
    return Finding(**base)


def _report(*findings, **kw):
    return Report(
        command="check",
        target="train_gpt.py",
        files=[FileResult("train_gpt.py", list(findings))],
        **kw,
    )


@pytest.mark.parametrize(
    "findings, strict, verdict, code",
    [
        ([], False, "pass", 0),
        ([_finding("info")], False, "pass", 0),
        ([_finding("warning")], False, "warn", 0),
        ([_finding("warning")], True, "warn", 1),
        ([_finding("error")], False, "fail", 1),
        ([_finding("error", suppressed=True, suppression_reason="fixed seed")], False, "pass", 0),
    ],
)
def test_verdict_and_exit_code(findings, strict, verdict, code):
    report = _report(*findings, strict=strict)
    assert report.verdict == verdict
    assert report.exit_code == code


def test_unreadable_input_exits_2_even_beside_a_failure():
    report = Report(
        command="check",
        files=[FileResult("a.py", [_finding()]), FileResult("b.py", error="b.py: not UTF-8")],
    )
    assert report.exit_code == 2
    assert report.files[0].verdict == "fail"
    assert report.files[1].verdict == "error"


def test_json_matches_schema_and_contract():
    report = _report(_finding(), _finding("warning", rule="DATA.example", condition="DATA"))
    report.tables.append(
        Table("per seed", [("seed", "seed"), ("bpb", "val_bpb")], [{"seed": 1, "bpb": 1.1}])
    )
    report.facts.append(("mean val_bpb", "1.1"))
    report.data["seeds"] = [{"seed": 1}]
    doc = json.loads(render(report, "json"))
    validate_report_json(doc)
    assert doc["files"][0]["verdict"] == "fail"
    assert {"rule", "condition", "severity", "confidence", "line", "message"} <= set(
        doc["files"][0]["findings"][0]
    )
    assert doc["summary"]["errors"] == 1 and doc["summary"]["warnings"] == 1
    assert doc["seeds"] == [{"seed": 1}]


def test_schema_rejects_a_bad_severity():
    import jsonschema

    doc = json.loads(render(_report(_finding()), "json"))
    doc["files"][0]["findings"][0]["severity"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        validate_report_json(doc)


def test_data_keys_cannot_shadow_standard_keys():
    report = _report()
    report.data["verdict"] = "pass"
    with pytest.raises(ValueError):
        report.to_json()


def test_sarif_keeps_suppressions_visible_with_stable_fingerprints():
    kept = _finding()
    quiet = _finding(
        line=40, evidence="other line", suppressed=True, suppression_reason="synthetic tokens"
    )
    sarif = json.loads(render(_report(kept, quiet), "sarif"))
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["C3.example-rule"] * 2
    assert results[0]["level"] == "error"
    assert "suppressions" not in results[0]
    assert results[1]["suppressions"] == [{"kind": "inSource", "justification": "synthetic tokens"}]
    # The fingerprint ignores the line, so a finding that moves keeps its identity.
    moved = _finding(line=99)
    assert moved.fingerprint() == kept.fingerprint()
    assert results[0]["partialFingerprints"]["golfCheckFindingHash/v1"] == kept.fingerprint()
    region = results[0]["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == 12


def test_markdown_puts_the_verdict_first_and_escapes_pipes():
    report = _report(_finding(message="uses a | b"))
    md = render(report, "markdown")
    assert md.splitlines()[0].startswith("## ❌ golf-check check: **FAIL**")
    assert "a \\| b" in md
    assert "`train_gpt.py:12`" in md


def test_text_rendering_names_rule_location_and_fix():
    text = render(_report(_finding()), "text", color=False)
    assert "FAIL" in text.splitlines()[0]
    assert "L12 error C3.example-rule" in text
    assert "fix: score each chunk" in text
    assert "exit 1" in text
