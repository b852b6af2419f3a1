"""The shipped GitHub workflows and pre-commit hooks: they parse, and their security shape holds."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from golf_check.harness.ci.command import ci as ci_command
from golf_check.harness.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / "docs" / "github"


@pytest.fixture
def workflows(load_yaml):
    return {p.name: load_yaml(p.read_text()) for p in sorted(WORKFLOWS.glob("*.yml"))}


def steps(workflow: dict) -> list[dict]:
    return [s for job in workflow["jobs"].values() for s in job["steps"]]


def test_subset_parser_rejects_what_it_does_not_understand(load_yaml):
    for bad in ("a: &x 1\n", "a:\n\tb: 1\n", "a: 1\na: 2\n", "a: {b: 1}\n", "a: b: c\n"):
        with pytest.raises(ValueError):
            load_yaml(bad)
    assert load_yaml("a:\n- 1\n- x: y\n  z: 'q'\nb: |\n  one\n  two\n") == {
        "a": [1, {"x": "y", "z": "q"}],
        "b": "one\ntwo\n",
    }


def test_all_four_workflows_parse(workflows):
    assert set(workflows) == {
        "golf-check.yml",
        "golf-check-report.yml",
        "golf-check-run.yml",
        "golf-check-label.yml",
    }
    for wf in workflows.values():
        assert wf["jobs"] and wf["on"] and wf["name"]


def test_no_expression_is_interpolated_into_a_shell_script(workflows):
    # Untrusted text (branch names, titles, artifact content) reaches scripts only through env.
    for name, wf in workflows.items():
        for step in steps(wf):
            assert "${{" not in step.get("run", ""), f"{name}: {step['name']}"


def test_gate_runs_on_pull_request_with_a_read_only_token(workflows):
    gate = workflows["golf-check.yml"]
    assert set(gate["on"]) == {"pull_request"}
    assert gate["permissions"] == {"contents": "read"}
    assert all("permissions" not in job for job in gate["jobs"].values())
    (checkout,) = [s for s in steps(gate) if s.get("uses", "").startswith("actions/checkout")]
    assert checkout["with"]["persist-credentials"] is False
    uploads = [s for s in steps(gate) if s.get("uses", "").startswith("actions/upload-artifact")]
    assert uploads and uploads[0]["if"] == "always()"


def test_gate_uses_only_options_the_ci_command_has(workflows):
    script = next(
        s["run"] for s in steps(workflows["golf-check.yml"]) if 'golf-check" ci' in s.get("run", "")
    )
    command = re.search(r"golf-check\" ci (.*?)\n\s*status=", script, re.S).group(1)
    words = shlex.split(command.replace("\\\n", " "))
    known = {opt for p in ci_command.params for opt in p.opts}
    used = {w for w in words if w.startswith("--")}
    assert used <= known
    assert {"--comment-file", "--sarif-file", "--base", "--head"} <= used


def test_report_workflow_never_touches_pull_request_code(workflows):
    report = workflows["golf-check-report.yml"]
    assert set(report["on"]) == {"workflow_run"}
    assert report["on"]["workflow_run"]["workflows"] == [workflows["golf-check.yml"]["name"]]
    uses = [s.get("uses", "") for s in steps(report)]
    assert not any(u.startswith("actions/checkout") for u in uses)
    download = next(
        s for s in steps(report) if s.get("uses", "").startswith("actions/download-artifact")
    )
    assert download["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
    assert any(u.startswith("github/codeql-action/upload-sarif") for u in uses)
    validate = next(s for s in steps(report) if s["name"] == "Validate the artifact")
    assert "*[!0-9]*" in validate["run"]  # the PR number from the artifact must be digits
    assert "RUN_HEAD_SHA" in validate["run"]  # and must belong to the gated commit


def test_pull_request_target_never_checks_out_code(workflows):
    for name, wf in workflows.items():
        if "pull_request_target" not in wf["on"]:
            continue
        for step in steps(wf):
            assert not step.get("uses", "").startswith("actions/checkout"), name
            assert "git " not in step.get("run", ""), name


def test_gpu_run_is_maintainer_dispatched_on_an_ephemeral_runner(workflows):
    run = workflows["golf-check-run.yml"]
    assert set(run["on"]) == {"workflow_dispatch"}
    assert run["permissions"] == {"contents": "read"}
    (job,) = run["jobs"].values()
    assert "ephemeral" in job["runs-on"]
    assert job["environment"]
    label = workflows["golf-check-label.yml"]
    (dispatch,) = label["jobs"].values()
    assert dispatch["if"] == "github.event.label.name == 'golf-check-run'"
    assert "gh workflow run golf-check-run.yml" in dispatch["steps"][0]["run"]


def test_pre_commit_hooks(load_yaml):
    hooks = {h["id"]: h for h in load_yaml((ROOT / ".pre-commit-hooks.yaml").read_text())}
    check = hooks["golf-check"]
    assert check["entry"].split()[:2] == ["golf-check", "check"]
    pattern = re.compile(check["files"])
    assert pattern.search("train_gpt.py")
    assert pattern.search("records/track_10min_16mb/2026-05-01_X/train_gpt_v2.py")
    assert not pattern.search("train.py") and not pattern.search("my_train_gpt.py")
    assert hooks["golf-check-ci"]["pass_filenames"] is False
    for hook in hooks.values():
        assert hook["entry"].split()[1] in COMMANDS
