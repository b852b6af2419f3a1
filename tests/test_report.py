"""The report model: verdicts, exit codes, and every rendering of the same report."""

from __future__ import annotations

import json
import re

import pytest

from golf_check.harness.report import (
    FileResult,
    Finding,
    Report,
    Table,
    blob_url,
    render,
    validate_report_json,
)


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


HOSTILE = "@octocat <img src=x> **bold** [c](https:e.invalid).txt"
RULES_DOC = "https://github.com/golf-check/golf-check/blob/main/docs/rules.md#"
BLOB = "https://github.com/owner/challenge/blob/" + "a" * 40 + "/"


def _hostile_report() -> Report:
    path = f"records/track_10min_16mb/x/{HOSTILE}"
    report = Report(
        command="ci",
        target=f"main...{HOSTILE}",
        findings=[
            _finding(
                rule="PACKAGE.pr-scope",
                condition="PACKAGE",
                file=path,
                line=None,
                message=f"unexpected path {path}",
                evidence=f"log: {HOSTILE}",
                fix=None,
            ),
            _finding("warning", message=f"see https://e.invalid/x www.e.invalid #12 {HOSTILE}"),
        ],
        files=[FileResult(path, notes=[f"note {HOSTILE}"])],
        facts=[("record folder", HOSTILE)],
        notes=[f"read {HOSTILE}"],
        errors=[f"{HOSTILE}: unreadable"],
    )
    report.tables.append(Table(f"Files in {HOSTILE}", [("p", "path")], [{"p": HOSTILE}]))
    report.blob_url = BLOB
    return report


def _rendered_html(md: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(md)


def test_markdown_keeps_a_hostile_file_name_inert():
    md = render(_hostile_report(), "markdown")
    html = _rendered_html(md)
    # No live HTML from the name: only our own tags, and the name's tags as text.
    tags = set(re.findall(r"<([a-z0-9]+)[\s>]", html))
    assert tags <= {
        "h2",
        "h3",
        "p",
        "ul",
        "li",
        "a",
        "code",
        "strong",
        "sub",
        "br",
        "details",
        "summary",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    }, tags
    assert "<img" not in html and "&lt;img src=x&gt;" in html
    # No emphasis from the name: every <strong> is one the template wrote.
    assert all("bold" not in s for s in re.findall(r"<strong>(.*?)</strong>", html))
    assert "<em>" not in html and "<del>" not in html
    # Links: only the rule explanation and the file at the head commit.
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs and all(h.startswith((RULES_DOC, BLOB)) for h in hrefs), hrefs
    assert not any("e.invalid" in h and not h.startswith(BLOB) for h in hrefs)
    # GitHub finds @mentions, #refs and bare URLs in the rendered text outside code.
    text = re.sub(r"<code>.*?</code>", "", html)
    text = re.sub(r"<[^>]+>", "", text)
    assert not re.search(r"(?<![\w])@[A-Za-z0-9]", text)
    assert not re.search(r"https?://|www\.|#\d", text)
    assert "@\u2060octocat" in text  # the name is still there, readable


def test_markdown_failing_findings_come_first_and_tables_are_folded():
    md = render(_hostile_report(), "markdown")
    assert md.index("### Failing") < md.index("### Warnings") < md.index("<details>")
    assert "| path |" in md.split("<summary>Files in", 1)[1]
    failing = md.split("### Failing", 1)[1].split("###", 1)[0]
    assert f"[`PACKAGE.pr-scope`]({RULES_DOC}packagepr-scope)" in failing
    # The location links to the file at the head commit, the name percent-encoded.
    assert f"]({BLOB}records/track_10min_16mb/x/%40octocat%20%3Cimg" in failing


def test_markdown_without_a_head_commit_shows_plain_locations():
    report = _hostile_report()
    report.blob_url = None
    html = _rendered_html(render(report, "markdown"))
    assert all(h.startswith(RULES_DOC) for h in re.findall(r'href="([^"]*)"', html))
    assert "<code>records/track_10min_16mb/x/@octocat &lt;img" in html


@pytest.mark.parametrize(
    "url, sha",
    [
        ("https://github.com/o/r", "abc"),  # not a full commit id
        ("javascript:alert(1)//x/y", "a" * 40),
        ("https://github.com/o/r) [x](y", "a" * 40),
        (None, "a" * 40),
    ],
)
def test_blob_links_need_a_plain_https_url_and_a_full_sha(url, sha):
    assert blob_url(url, sha) is None
    assert (
        blob_url("https://github.com/o/r/", "b" * 40)
        == "https://github.com/o/r/blob/" + "b" * 40 + "/"
    )


def test_concise_format_is_one_line_per_finding():
    report = _report(
        _finding(), _finding("warning", rule="DATA.example", condition="DATA", line=None)
    )
    lines = render(report, "concise").splitlines()
    assert lines[0] == (
        "train_gpt.py:12:1: C3.example-rule [error] adapts on validation tokens before scoring them"
    )
    assert lines[1].startswith("train_gpt.py: DATA.example [warning]")
    assert lines[-1].startswith("Found 2 finding(s)")


def test_github_annotations_escape_what_would_end_the_command():
    name = "a,b:c%d\nx.py"
    report = _report(_finding(file=name, message="line one\nline two 100%"))
    (line,) = render(report, "github").splitlines()
    assert line.startswith(
        "::error file=a%2Cb%3Ac%25d%0Ax.py,line=12,title=golf-check C3.example-rule::"
    )
    assert "line one%0Aline two 100%25" in line


def test_text_table_never_wraps_a_row_in_80_columns():
    table = Table(
        "Scripts checked",
        [
            ("s", "script"),
            ("b", "bytes shipped"),
            ("d", "bytes decoded"),
            ("w", "self-extracting layers"),
        ],
        [
            {
                "s": "records/track_10min_16mb/2026-05-01_SomeLongName/train_gpt.py",
                "b": 1,
                "d": 2,
                "w": "none",
            }
        ],
    )
    for width in (80, 200):
        report = _report()
        report.tables.append(table)
        text = render(report, "text", color=False, width=width)
        assert all(len(line) <= width for line in text.splitlines())
        rows = [ln for ln in text.splitlines() if "train_gpt.py" in ln and "2026" in ln]
        # One line holds the whole row (wide), or each value sits on its own line (narrow).
        assert len(rows) == 1 and "2026-05-01_SomeLongName/train_gpt.py" in rows[0]


def test_text_without_color_has_no_escape_codes():
    text = render(_report(_finding()), "text", color=False)
    assert "\x1b" not in text
    assert "\x1b[" in render(_report(_finding()), "text", color=True)


def test_text_rendering_names_rule_location_and_fix():
    text = render(_report(_finding()), "text", color=False)
    assert "FAIL" in text.splitlines()[0]
    assert "L12 error C3.example-rule" in text
    assert "fix: score each chunk" in text
    assert "exit 1" in text
