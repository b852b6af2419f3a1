"""The shipped workflows never run pull-request content outside golf-check's sandbox.

A job that checks out a pull request holds files its author chose. Python puts the current
directory first on the import path for ``python -m``, so a ``pip/__main__.py`` (or a
``sitecustomize.py``, a ``.pth`` file, a ``harness/`` package) committed in the pull request
would run as soon as a step calls ``python -m pip`` from the checkout. These tests read every
workflow and fail if a step could do that, and show the mechanism on this Python.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / "docs" / "github"
ACTIONLINT_CONFIG = ROOT / ".github" / "actionlint.yaml"

PYTHON_CALL = re.compile(r"(?:^|[\s;&|(\"'/])(python[0-9.]*)(?=\s)((?:\s+-[A-Za-z]+)*)")
TOOL_CALL = re.compile(r"(?:^|[\s;&|(])(pip[0-9.]*|golf-check)(?=\s|$)")
PINNED = re.compile(r"^\s*(?:- )?uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*\s*$")


@pytest.fixture
def workflows(load_yaml):
    return {p.name: load_yaml(p.read_text()) for p in sorted(WORKFLOWS.glob("*.yml"))}


def _is_checkout(step: dict) -> bool:
    return step.get("uses", "").startswith("actions/checkout@")


def test_every_action_is_pinned_by_commit_sha_with_its_version():
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.match(r"^\s*(- )?uses:", line):
                assert PINNED.match(line), f"{path.name}:{number}: {line.strip()}"


def test_pull_request_code_is_checked_out_beside_the_tools_never_under_them(workflows):
    jobs_with_checkout = 0
    for name, wf in workflows.items():
        for job_id, job in wf["jobs"].items():
            steps = job["steps"]
            checkouts = [i for i, s in enumerate(steps) if _is_checkout(s)]
            if not checkouts:
                continue
            jobs_with_checkout += 1
            first = checkouts[0]
            where = f"{name} job {job_id}"
            checkout_dir = steps[first].get("with", {}).get("path")
            # The checkout is a subfolder, so the workspace itself is not the pull request.
            assert checkout_dir and "/" not in checkout_dir.strip("/"), where
            for i, step in enumerate(steps):
                script = step.get("run", "")
                if not (PYTHON_CALL.search(script) or TOOL_CALL.search(script)):
                    continue
                label = f"{where}, step {step.get('name')!r}"
                for _, flags in PYTHON_CALL.findall(script):
                    # -P: no current directory (nor script folder) on the import path.
                    assert "-P" in flags.split(), f"{label}: python without -P"
                assert not re.search(r"(?:^|[;&|(])\s*pip[0-9.]*\s+install", script, re.M), (
                    f"{label}: bare pip; use `python -P -m pip`"
                )
                if "pip" in script and "install" in script:
                    assert i < first, f"{label}: installs after the pull request is checked out"
                if i > first:
                    # After the checkout, tools run from the runner's temporary folder.
                    assert step.get("working-directory") == "${{ runner.temp }}", label
                    for tool in re.findall(r"\S*golf-check(?=\s)", script):
                        assert tool.startswith('"$RUNNER_TEMP/'), f"{label}: {tool} from PATH"
    assert jobs_with_checkout == 2  # the gate and the GPU run


def test_gate_does_not_pin_a_python_that_cannot_parse_current_records(workflows):
    for name, wf in workflows.items():
        for job in wf["jobs"].values():
            for step in job["steps"]:
                if step.get("uses", "").startswith("actions/setup-python@"):
                    version = str(step["with"]["python-version"])
                    assert version in {"3.12", "3.13"}, f"{name}: python {version}"


def test_actionlint_config_declares_the_custom_runner_labels(workflows, load_yaml):
    config = load_yaml(ACTIONLINT_CONFIG.read_text())
    declared = set(config["self-hosted-runner"]["labels"])
    standard = {"self-hosted", "linux", "x64", "arm64", "ubuntu-latest"}
    used = set()
    for wf in workflows.values():
        for job in wf["jobs"].values():
            labels = job["runs-on"]
            used.update([labels] if isinstance(labels, str) else labels)
    assert used - standard == declared == {"gpu", "ephemeral"}


@pytest.mark.skipif(sys.version_info < (3, 11), reason="python -P is new in 3.11")
def test_python_dash_p_keeps_a_shadowing_pip_from_running(tmp_path):
    """Why the rule above: `python -m pip` from a checkout runs the checkout's pip/."""
    marker = tmp_path / "ran"
    (tmp_path / "pip").mkdir()
    (tmp_path / "pip" / "__main__.py").write_text(
        f"open({str(marker)!r}, 'w').write('PR code ran')\n"
    )
    (tmp_path / "pip" / "__init__.py").write_text("")

    def call(*flags: str) -> None:
        subprocess.run(
            [sys.executable, *flags, "-m", "pip", "--version"],
            cwd=tmp_path,
            capture_output=True,
            timeout=120,
            check=False,
        )

    call("-P")
    assert not marker.exists(), "python -P -m pip ran the shadowing package"
    call()
    assert marker.exists(), "without -P the shadowing package runs (the hole being closed)"


def _tool(name: str) -> str | None:
    """A linter on PATH or installed beside this Python (``pip install zizmor``)."""
    return shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))


def _run_tool(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(_tool("zizmor") is None, reason="zizmor not installed (pip install zizmor)")
def test_zizmor_offline_reports_nothing():
    files = [str(p.relative_to(ROOT)) for p in sorted(WORKFLOWS.glob("*.yml"))]
    result = _run_tool([_tool("zizmor"), "--offline", "--min-severity", "low", *files])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(_tool("actionlint") is None, reason="actionlint not installed")
def test_actionlint_reports_nothing():
    files = [str(p.relative_to(ROOT)) for p in sorted(WORKFLOWS.glob("*.yml"))]
    result = _run_tool([_tool("actionlint"), "-config-file", str(ACTIONLINT_CONFIG), *files])
    assert result.returncode == 0, result.stdout + result.stderr
