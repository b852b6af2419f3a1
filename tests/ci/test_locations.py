"""Every result of a `ci` SARIF file has a file and a line (GitHub rejects the whole upload
when one result lacks a location), folder-level and pull-request-level findings included."""

from __future__ import annotations

import json

from golf_check.harness.ci.gate import gate_pull_request
from golf_check.harness.report import render


def test_every_ci_finding_has_a_file_and_a_line(challenge):
    challenge.fork()
    folder = challenge.submission()
    challenge.write(f"{folder}/figure.png", b"\x89PNG\r\n\x1a\n\x00\x00binary")
    challenge.write(f"{folder}/helper.py", "x = 1\n")
    (challenge.root / folder / "README.md").unlink()
    challenge.commit()
    report = gate_pull_request(str(challenge.root), "main", "HEAD")
    findings = report.all_findings()
    assert {"PACKAGE.pr-committed-checkpoint", "PACKAGE.required-files"} <= {
        f.rule for f in findings
    }
    assert all(f.file and f.line for f in findings)
    results = json.loads(render(report, "sarif"))["runs"][0]["results"]
    for result in results:
        [location] = result["locations"]
        assert location["physicalLocation"]["region"]["startLine"] >= 1
