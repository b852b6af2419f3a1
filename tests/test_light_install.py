"""The core install (check, verify, ci, rules) works without torch and sentencepiece; `run`
and `data` say which extra to install instead of failing on an import."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "tests/fixtures/records/2026-03-19_SlidingWindowEval"
TWIN = next((ROOT / "tests/static/twins").glob("C1.cross-document-smear/*.py"))

# Runs the CLI in a process where torch and sentencepiece cannot be imported or found, then
# reports whether either got into sys.modules.
BLOCKED_RUNNER = textwrap.dedent(
    """
    import sys

    class Blocker:
        BLOCKED = ("torch", "sentencepiece")

        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in self.BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r} (blocked)", name=name)
            return None

    sys.meta_path.insert(0, Blocker())
    from golf_check.harness.cli import main

    try:
        main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    else:
        code = 0
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in Blocker.BLOCKED)
    print("LEAKED:" + ",".join(leaked), file=sys.stderr)
    sys.exit(code)
    """
)


def run_without_torch(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", BLOCKED_RUNNER, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def core_dependencies() -> list[str]:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project["dependencies"], project["optional-dependencies"]


def test_core_dependencies_leave_torch_to_the_run_extra():
    core, extras = core_dependencies()
    names = {dep.split(">")[0].split("=")[0].split("[")[0].strip().lower() for dep in core}
    assert not names & {"torch", "sentencepiece"}
    run_names = {dep.split(">")[0].strip().lower() for dep in extras["run"]}
    assert {"torch", "sentencepiece"} <= run_names


@pytest.mark.parametrize(
    "args",
    [
        ("check", str(TWIN), "--format", "json"),
        ("verify", str(RECORD), "--format", "json"),
        ("rules",),
        ("rules", "C3.pretrain-on-val"),
        ("ci", "--help"),
    ],
    ids=["check", "verify", "rules", "rules-explain", "ci"],
)
def test_core_commands_never_import_torch(args):
    done = run_without_torch(*args)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode in (0, 1), done.stderr
    assert done.stdout.strip()
    assert "LEAKED:\n" in done.stderr + "\n", done.stderr


@pytest.mark.parametrize("args", [("run",), ("data", "demo")], ids=["run", "data"])
def test_run_and_data_name_the_extra_when_torch_is_missing(args, tmp_path):
    done = run_without_torch(*args)
    assert done.returncode == 2, done.stderr
    error_lines = [line for line in done.stderr.splitlines() if not line.startswith("LEAKED:")]
    assert len(error_lines) == 1, done.stderr
    assert "golf-check[run]" in error_lines[0]
    assert "torch" in error_lines[0] and "sentencepiece" in error_lines[0]
    assert "Traceback" not in done.stderr


def test_every_package_is_installed_under_the_golf_check_name():
    tomllib = pytest.importorskip("tomllib")
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {
        "golf_check." + ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("harness", "rules", "reference_model")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert set(setuptools["packages"]) == folders
    assert setuptools["package-dir"] == {f"golf_check.{top}": top for top in
                                         ("harness", "reference_model", "rules")}


def test_only_golf_check_is_claimed_as_an_import_name(tmp_path):
    # Outside the source tree the installed package answers to golf_check alone: the generic
    # names harness, rules and reference_model stay free for other packages.
    probe = (
        "import importlib.util as u\n"
        "print([n for n in ('harness', 'rules', 'reference_model') if u.find_spec(n)])\n"
        "import golf_check.harness.cli, golf_check.rules, golf_check.reference_model\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[]", "ok"]
