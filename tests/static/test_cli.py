"""``golf-check check`` through the real command line: output formats, exit codes, the JSON
contract, suppressions in SARIF, selection, folders, and bad input (one line, exit 2)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from golf_cli import golf_check

from golf_check.harness.report import validate_report_json

TWINS = Path(__file__).parent / "twins"
ILLEGAL = TWINS / "C3.pretrain-on-val" / "illegal_ttt_adapt_then_sliding.py"
LEGAL = TWINS / "legal_record.py"


def golf(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return golf_check("check", *args, cwd=cwd, timeout=60)


def test_json_contract_for_a_failing_and_a_passing_script():
    proc = golf(str(ILLEGAL), str(LEGAL), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    validate_report_json(doc)
    assert doc["command"] == "check"
    bad, good = doc["files"]
    assert bad["path"] == str(ILLEGAL) and bad["verdict"] == "fail"
    assert good["path"] == str(LEGAL) and good["verdict"] == "pass" and good["findings"] == []
    (finding,) = bad["findings"]
    for key in ("rule", "condition", "severity", "confidence", "line", "message"):
        assert key in finding
    assert (finding["rule"], finding["condition"], finding["severity"], finding["line"]) == (
        "C3.pretrain-on-val",
        "C3",
        "error",
        44,
    )
    assert doc["summary"]["errors"] == 1 and doc["summary"]["files"] == 2


def test_text_output_and_pass_exit_code():
    proc = golf(str(LEGAL))
    assert proc.returncode == 0
    assert "golf-check check: PASS" in proc.stdout


def test_sarif_keeps_suppressed_findings_visible(tmp_path):
    script = TWINS / "PACKAGE.suppression-reason" / "legal_with_reason.py"
    out = tmp_path / "report.sarif"
    proc = golf(str(script), "--format", "sarif", "-o", str(out))
    assert proc.returncode == 0 and proc.stdout == ""
    (result,) = json.loads(out.read_text())["runs"][0]["results"]
    assert result["ruleId"] == "BUDGET.wallclock-default"
    assert result["suppressions"] == [
        {"kind": "inSource", "justification": "non-record track run, unlimited compute"}
    ]
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 4


def test_select_and_ignore():
    hits = TWINS / "C1.target-in-key" / "illegal_hashed_ngram_cache.py"
    only_c2 = json.loads(golf(str(hits), "--select", "C2", "--format", "json").stdout)
    assert {f["rule"] for f in only_c2["files"][0]["findings"]} == {"C2.gold-count-ratio"}
    no_c1 = json.loads(golf(str(hits), "--ignore", "C1.target-in-key", "--format", "json").stdout)
    assert {f["rule"] for f in no_c1["files"][0]["findings"]} == {"C2.gold-count-ratio"}
    proc = golf(str(hits), "--select", "C9.nope")
    assert proc.returncode == 2 and "unknown rule id" in proc.stderr


def test_strict_turns_warnings_into_failure():
    script = TWINS / "C3.prequant-ttt" / "legal_ttt_off_by_default.py"
    assert golf(str(script)).returncode == 0
    proc = golf(str(script), "--strict", "--format", "json")
    assert proc.returncode == 1
    (finding,) = json.loads(proc.stdout)["files"][0]["findings"]
    assert finding["severity"] == "warning"
    assert "off by default; switched on by PREQUANT_TTT_ENABLED" in finding["message"]


def test_markdown_output():
    proc = golf(str(ILLEGAL), "--format", "markdown")
    assert proc.returncode == 1
    assert "C3.pretrain-on-val" in proc.stdout and proc.stdout.startswith("## ")


def test_wrapped_script_reports_lines_of_the_decoded_source(tmp_path, wrap):
    path = tmp_path / "train_gpt.py"
    path.write_text(wrap["lzma2"](ILLEGAL.read_bytes()))
    doc = json.loads(golf(str(path), "--format", "json").stdout)
    (fr,) = doc["files"]
    assert fr["verdict"] == "fail"
    (row,) = doc["tables"][0]["rows"]
    assert row["shipped_bytes"] == path.stat().st_size < row["decoded_bytes"]
    assert row["wrapper"] == "base85 + lzma-raw-lzma2"
    assert [(f["rule"], f["line"]) for f in fr["findings"]] == [("C3.pretrain-on-val", 44)]
    assert "base85 + lzma-raw-lzma2" in fr["notes"][0]


def test_folder_with_train_gpt_checks_it_and_its_helpers(tmp_path):
    folder = TWINS / "BUDGET.uncounted-code" / "illegal_sibling_helpers"
    doc = json.loads(golf(str(folder), "--format", "json").stdout)
    assert [Path(f["path"]).name for f in doc["files"]] == ["train_gpt.py", "ngram_tilt.py"]
    (tmp_path / "train_gpt.py").write_text("import helper\n")
    (tmp_path / "helper.py").write_text("x = 1\n")
    (tmp_path / "prepare_data.py").write_text("import requests\n")
    doc = json.loads(golf(str(tmp_path), "--format", "json").stdout)
    assert [Path(f["path"]).name for f in doc["files"]] == ["train_gpt.py", "helper.py"]
    assert any("not checked" in n and "prepare_data.py" in n for n in doc["notes"])


def test_folder_without_train_gpt_checks_submission_like_scripts(tmp_path):
    (tmp_path / "train_variant.py").write_text("x = 1\n")
    (tmp_path / "eval_tool.py").write_text("print('val_bpb')\n")
    (tmp_path / "adapt.py").write_text("def f(loss):\n    loss.backward()\n")
    (tmp_path / "notes.py").write_text("y = 2\n")
    doc = json.loads(golf(str(tmp_path), "--format", "json").stdout)
    names = sorted(Path(f["path"]).name for f in doc["files"])
    assert names == ["adapt.py", "eval_tool.py", "train_variant.py"]
    (table,) = doc["tables"]
    rows = {Path(r["script"]).name: r for r in table["rows"]}
    assert rows["eval_tool.py"]["shipped_bytes"] == len("print('val_bpb')\n")
    assert rows["eval_tool.py"]["wrapper"] == "none"


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty file"),
        (b"\x00\x01\x02\x03binary", "binary file"),
        (b"s = '\xc3\x28'\n", "not UTF-8 text"),
        (b"def f(:\n", "syntax error at line 1"),
    ],
)
def test_bad_script_is_one_line_and_exit_2(tmp_path, content, message):
    path = tmp_path / "train_gpt.py"
    path.write_bytes(content)
    proc = golf(str(path), "--format", "json")
    assert proc.returncode == 2
    (result,) = json.loads(proc.stdout)["files"]
    assert result["verdict"] == "error" and message in result["error"]
    assert "\n" not in result["error"] and "Traceback" not in proc.stdout + proc.stderr
    assert path.read_bytes() == content  # never modified
    text = golf(str(path))  # the terminal form says the same
    assert text.returncode == 2 and "Traceback" not in text.stdout + text.stderr


def test_bad_script_does_not_stop_the_others(tmp_path):
    bad = tmp_path / "train_bad.py"
    bad.write_bytes(b"")
    doc = json.loads(golf(str(bad), str(ILLEGAL), "--format", "json").stdout)
    assert doc["exit_code"] == 2
    assert doc["files"][0]["verdict"] == "error" and "empty file" in doc["files"][0]["error"]
    assert doc["files"][1]["verdict"] == "fail"


def test_corrupt_and_bomb_payloads_exit_2(tmp_path):
    import base64
    import lzma

    corrupt = tmp_path / "train_corrupt.py"
    corrupt.write_text(
        'import lzma,base64\nexec(lzma.decompress(base64.b85decode("'
        + base64.b85encode(b"not lzma at all" * 9).decode()
        + '")))\n'
    )
    bomb = tmp_path / "train_bomb.py"
    bomb.write_text(
        'import lzma,base64\nexec(lzma.decompress(base64.b85decode("'
        + base64.b85encode(lzma.compress(b"0" * (17 * 1024 * 1024), preset=1)).decode()
        + '")))\n'
    )
    for path, message in ((corrupt, "payload is corrupt"), (bomb, "decompression bomb")):
        proc = golf(str(path), "--format", "json")
        assert proc.returncode == 2 and message in json.loads(proc.stdout)["files"][0]["error"]
        assert "Traceback" not in proc.stdout + proc.stderr


def test_missing_path_is_an_input_error(tmp_path):
    proc = golf(str(tmp_path / "missing.py"), "--format", "json")
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["errors"] == [
        f"{tmp_path / 'missing.py'}: no such file or folder"
    ]


@pytest.mark.skipif(os.name == "nt", reason="symlinks")
def test_symlink_loops_are_reported_once_without_hanging(tmp_path):
    (tmp_path / "train_gpt_v2.py").write_text(LEGAL.read_text())
    os.symlink(tmp_path, tmp_path / "loop")  # a folder that contains itself
    os.symlink(tmp_path / "b.py", tmp_path / "a.py")  # two files pointing at each other
    os.symlink(tmp_path / "a.py", tmp_path / "b.py")
    proc = golf(str(tmp_path), "--format", "json")
    assert proc.returncode == 2, proc.stdout
    doc = json.loads(proc.stdout)
    assert [Path(f["path"]).name for f in doc["files"]] == ["train_gpt_v2.py"]
    assert any("symlink loop" in e and "loop" in e for e in doc["errors"])
    assert sum("a.py" in e or "b.py" in e for e in doc["errors"]) == 2
    assert "Traceback" not in proc.stderr
