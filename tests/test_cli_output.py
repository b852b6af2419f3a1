"""The terminal surface of `golf-check check`: colour, width, quiet, one-line formats, stderr,
standard input, refused inputs and [tool.golf-check] defaults."""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

import pytest

import golf_check.harness.output
from golf_check.harness.cli import main

ROOT = Path(__file__).resolve().parents[1]
ILLEGAL = ROOT / "tests" / "static" / "twins" / "C3.pretrain-on-val" / "illegal_logged_epochs.py"
LEGAL = (
    ROOT / "tests" / "static" / "twins" / "C3.pretrain-on-val" / "legal_buffer_filled_from_train.py"
)
ESC = "\x1b["


def run(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    captured = capsys.readouterr()
    return exc.value.code, captured.out, captured.err


@pytest.fixture
def script(tmp_path: Path) -> Path:
    folder = tmp_path / "records" / "track_10min_16mb" / "2026-05-01_A_Rather_Long_Record_Name"
    folder.mkdir(parents=True)
    path = folder / "train_gpt.py"
    shutil.copy(ILLEGAL, path)
    return path


@pytest.fixture
def terminal(monkeypatch):
    """Standard output is a terminal; no colour variables unless a test sets them."""
    monkeypatch.setattr(golf_check.harness.output, "isatty", lambda stream: True)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)


def test_colour_on_a_terminal_and_no_escape_codes_under_no_color(
    capsys, script, terminal, monkeypatch
):
    assert ESC in run(capsys, "check", str(script))[1]
    monkeypatch.setenv("NO_COLOR", "1")
    assert ESC not in run(capsys, "check", str(script))[1]
    assert ESC in run(capsys, "check", "--color", "always", str(script))[1]


def test_force_color_and_color_never(capsys, script, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")  # not a terminal (captured), colour all the same
    assert ESC in run(capsys, "check", str(script))[1]
    assert ESC not in run(capsys, "check", "--color", "never", str(script))[1]
    monkeypatch.delenv("FORCE_COLOR")
    assert ESC not in run(capsys, "check", str(script))[1]  # a pipe gets plain text


def test_an_80_column_terminal_shows_no_wrapped_table_row(capsys, script, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.chdir(script.parents[3])
    rel = str(script.relative_to(script.parents[3]))
    code, out, _ = run(capsys, "check", rel)
    assert code == 1
    lines = out.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    start = next(i for i, line in enumerate(lines) if line.startswith("Scripts checked"))
    block = lines[start + 1 : lines.index("", start)]
    # Too wide for a row per script: one `header: value` line per cell, values whole.
    assert not any(ch in line for line in block for ch in "│┃┏━─")
    for header in ("bytes shipped", "bytes decoded", "self-extracting layers", "findings"):
        assert sum(line.startswith(f"  {header}: ") for line in block) == 1
    assert any(line.strip() in (rel, f"script: {rel}") for line in block)


def test_a_wide_terminal_keeps_the_table(capsys, script, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(script.parents[3])
    rel = str(script.relative_to(script.parents[3]))
    out = run(capsys, "check", rel)[1]
    header = next(line for line in out.splitlines() if line.startswith("script "))
    assert "bytes shipped" in header and "findings" in header
    row = next(line for line in out.splitlines() if line.startswith(rel))
    assert len(row.split()) == 5


def test_quiet_prints_the_findings_only(capsys, script):
    out = run(capsys, "check", "-q", str(script))[1]
    assert "C3.pretrain-on-val" in out
    assert "scripts checked" not in out and "exit 1" not in out and "note:" not in out
    assert run(capsys, "check", "-q", str(LEGAL))[1] == ""


def test_concise_and_github_formats(capsys, script):
    code, out, _ = run(capsys, "check", "--format", "concise", str(script))
    assert code == 1
    first = out.splitlines()[0]
    assert first.startswith(f"{script}:") and ": C3.pretrain-on-val [error] " in first
    path, line, col = first.split(": ", 1)[0].rsplit(":", 2)
    assert path == str(script) and line.isdigit() and col == "1"
    assert out.splitlines()[-1].startswith("Found ")
    out = run(capsys, "check", "--format", "github", str(script))[1]
    assert out.startswith(f"::error file={script},line=")
    assert ",title=golf-check C3.pretrain-on-val::" in out.splitlines()[0]


def test_input_errors_go_to_stderr(capsys, tmp_path):
    missing = tmp_path / "nonexistent.py"
    code, out, err = run(capsys, "check", str(missing))
    assert code == 2
    assert "no such file" not in out
    assert err.strip() == f"golf-check: error: {missing}: no such file or folder"


@pytest.mark.parametrize("name", ["submission.json", "train.log", "README.md"])
def test_non_python_files_are_refused(capsys, tmp_path, name):
    path = tmp_path / name
    path.write_text('{"val_bpb": 1.0}\n')
    code, out, err = run(capsys, "check", str(path))
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and "not a Python script" in err


def test_check_reads_standard_input(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(ILLEGAL.read_bytes())))
    shown = "records/track_10min_16mb/2026-05-01_X/train_gpt.py"
    code, out, _ = run(capsys, "check", "-", "--stdin-filename", shown, "--format", "concise")
    assert code == 1
    assert out.splitlines()[0].startswith(f"{shown}:")
    assert "golf-check-stdin" not in out


def test_stdin_without_a_name_is_reported_as_dash(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(LEGAL.read_bytes())))
    code, out, _ = run(capsys, "check", "-", "--format", "json")
    assert code == 0 and '"path": "-"' in out


def _project(tmp_path: Path, table: str) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text(f"[project]\nname = 'x'\n\n[tool.golf-check]\n{table}")
    shutil.copy(ILLEGAL, tmp_path / "train_gpt.py")
    return tmp_path


def test_pyproject_table_sets_defaults(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(_project(tmp_path, 'format = "concise"\nignore = ["C3"]\n'))
    code, out, _ = run(capsys, "check", "train_gpt.py")
    assert "golf-check check:" not in out  # concise, not the text report
    assert "C3." not in out
    # The command line wins over the file.
    code, out, _ = run(capsys, "check", "--format", "json", "--ignore", "", "train_gpt.py")
    assert '"C3.pretrain-on-val"' in out and code == 1


def test_pyproject_strict(capsys, tmp_path, monkeypatch):
    project = _project(tmp_path, "strict = true\n")
    shutil.copy(LEGAL.with_name("legal_mode_list_off.py"), project / "train_gpt.py")
    monkeypatch.chdir(project)
    code, out, _ = run(capsys, "check", "--format", "concise", "train_gpt.py")
    assert "[warning]" in out and code == 1  # a warning fails under strict
    (project / "pyproject.toml").write_text("[tool.golf-check]\nstrict = false\n")
    assert run(capsys, "check", "train_gpt.py")[0] == 0


def test_pyproject_run_config_is_relative_to_the_file(capsys, tmp_path, monkeypatch):
    project = _project(tmp_path, 'run-config = ["run/config.json"]\nformat = "json"\n')
    shutil.copy(LEGAL.with_name("legal_mode_list_off.py"), project / "train_gpt.py")
    (project / "run").mkdir()
    (project / "run" / "config.json").write_text('{"EVAL_MODES": "legal,ttt"}')
    (project / "sub").mkdir()
    monkeypatch.chdir(project / "sub")
    code, out, err = run(capsys, "check", "../train_gpt.py")
    assert err == "" and "config.json" in out


def test_pyproject_select(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(_project(tmp_path, 'select = "C1"\n'))
    code, out, _ = run(capsys, "check", "--format", "concise", "train_gpt.py")
    assert code == 0 and "C3." not in out


@pytest.mark.parametrize(
    "table, message",
    [
        ('selct = ["C1"]\n', "unknown key 'selct'"),
        ('strict = "yes"\n', "strict must be true or false"),
        ('format = "xml"\n', "format must be one of"),
    ],
)
def test_a_bad_pyproject_table_is_an_input_error(capsys, tmp_path, monkeypatch, table, message):
    monkeypatch.chdir(_project(tmp_path, table))
    code, out, err = run(capsys, "check", "train_gpt.py")
    assert code == 2 and out == "" and message in err and len(err.splitlines()) == 1


def test_verify_concise_and_github_paths_open_from_where_they_are_read(
    capsys, tmp_path, monkeypatch
):
    # verify keeps findings relative to the record folder; the one-line formats give paths an
    # editor opens from the working directory, and GitHub from the repository root.
    repo = tmp_path / "repo"
    record = repo / "records" / "2026-04-09_A2_Muon097_3Seed"
    shutil.copytree(ROOT / "tests/fixtures/records/2026-04-09_A2_Muon097_3Seed", record)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, out, _ = run(capsys, "verify", str(record), "--format", "concise")
    assert code == 0
    first = next(line for line in out.splitlines() if "train_seed0.log:" in line)
    path, line = first.split(":")[:2]
    assert (elsewhere / path).resolve() == (record / "train_seed0.log").resolve()
    assert (
        (record / "train_seed0.log")
        .read_text()
        .splitlines()[int(line) - 1]
        .startswith("stopping_early")
    )
    code, out, _ = run(
        capsys, "verify", str(record), "--format", "github", "--repo-root", str(repo)
    )
    assert any(
        line.startswith(
            "::warning file=records/2026-04-09_A2_Muon097_3Seed/train_seed0.log,line=152,"
        )
        for line in out.splitlines()
    )
    assert "file=../" not in out and "file=/" not in out
