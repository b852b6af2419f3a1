"""`golf-check ci` end to end on throw-away pull requests: verdict, exit code and outputs."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from golf_check.harness.cli import main
from golf_check.harness.report import validate_report_json

TRACK = "records/track_10min_16mb"


def run_ci(challenge, *args: str, capsys=None) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(["ci", "--repo", str(challenge.root), "--base", "main", *args])
    out = capsys.readouterr().out if capsys else ""
    return exc.value.code, out


@contextmanager
def pull_request(challenge, **submission) -> Iterator[str]:
    """A fork that adds one record folder (``challenge.submission``'s arguments), committed
    once the body has edited it; yields the folder."""
    challenge.fork()
    folder = challenge.submission(**submission)
    yield folder
    challenge.commit()


def report_of(challenge, capsys, *args: str) -> tuple[int, dict]:
    code, out = run_ci(challenge, "--format", "json", *args, capsys=capsys)
    doc = json.loads(out)
    validate_report_json(doc)
    assert doc["exit_code"] == code
    return code, doc


def rules_of(doc: dict) -> set[str]:
    found = list(doc["findings"])
    for fr in doc["files"]:
        found.extend(fr["findings"])
    return {f["rule"] for f in found if not f["suppressed"] and f["severity"] != "info"}


def assert_clean_markdown(text: str) -> None:
    lines = text.splitlines()
    assert re.match(r"^## (✅|⚠️|❌|⛔) golf-check ci: \*\*(PASS|WARN|FAIL|ERROR)\*\*$", lines[0])
    assert "golf-check-ci-" not in text and "/tmp/" not in text  # no temporary paths leak
    # Every table row has as many cells as its header.
    for i, line in enumerate(lines):
        if line.startswith("|---"):
            width = lines[i - 1].count(" | ")
            for row in lines[i + 1 :]:
                if not row.startswith("| "):
                    break
                assert row.replace("\\|", "").count(" | ") == width, row


def test_good_submission_passes(challenge, capsys):
    challenge.fork()
    folder = challenge.submission()
    challenge.commit()
    code, doc = report_of(challenge, capsys)
    assert code == 0, rules_of(doc)
    assert doc["verdict"] in ("pass", "warn")
    assert doc["pull_request"]["record_folders"] == [folder]
    assert [f["path"] for f in doc["files"]] == [f"{folder}/train_gpt.py"]
    assert doc["errors"] == []


def test_extra_file_outside_the_folder_fails(challenge, capsys):
    with pull_request(challenge):
        challenge.write("train_gpt.py", "# the baseline, edited\n")
    code, doc = report_of(challenge, capsys)
    assert code == 1
    assert "PACKAGE.pr-scope" in rules_of(doc)


def test_missing_log_fails(challenge, capsys):
    with pull_request(challenge) as folder:
        (challenge.root / folder / "train_seed42.log").unlink()
    code, doc = report_of(challenge, capsys)
    assert code == 1
    assert "PACKAGE.pr-logs-per-seed" in rules_of(doc)
    # Verify says the same for historical folders (as a warning); the gate reports it once.
    on_claim = [f for f in doc["findings"] if f.get("file") == f"{folder}/submission.json"]
    missing = [f["rule"] for f in on_claim if "42" in f["message"] and "no log" in f["message"]]
    assert missing == ["PACKAGE.pr-logs-per-seed"]


def test_missing_required_file_fails_the_gate(challenge, capsys):
    with pull_request(challenge) as folder:
        (challenge.root / folder / "README.md").unlink()
    code, doc = report_of(challenge, capsys)
    assert code == 1
    (req,) = [f for f in doc["findings"] if f["rule"] == "PACKAGE.required-files"]
    assert req["severity"] == "error" and req["file"] == f"{folder}/README.md"
    assert "a new submission must include it" in req["message"]


def test_escaping_symlink_fails_and_is_never_followed(challenge, capsys, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("seed: 42\nquantized_ttt_phased val_loss:1.0 val_bpb:0.1\n")
    with pull_request(challenge) as folder:
        (challenge.root / folder / "train_seed42.log").unlink()
        challenge.symlink(f"{folder}/train_seed42.log", str(secret))
    code, doc = report_of(challenge, capsys)
    assert code == 1
    assert {"PACKAGE.pr-symlink", "PACKAGE.pr-logs-per-seed"} <= rules_of(doc)
    assert "0.1" not in json.dumps(doc["tables"])  # the linked file's content was never read


def test_over_cap_artifact_fails(challenge, capsys):
    with pull_request(challenge) as folder:
        challenge.write(f"{folder}/final_model.int6.ptz", b"\x28\xb5\x2f\xfd" + b"\1" * 16_100_000)
    code, doc = report_of(challenge, capsys)
    assert code == 1
    assert {"PACKAGE.pr-file-size", "PACKAGE.pr-committed-checkpoint"} <= rules_of(doc)


def test_illegal_script_fails_with_its_location(challenge, capsys):
    challenge.fork()
    folder = challenge.submission(script=challenge.illegal_script())
    challenge.commit()
    code, doc = report_of(challenge, capsys)
    assert code == 1
    (script,) = doc["files"]
    assert script["path"] == f"{folder}/train_gpt.py"
    errors = [f for f in script["findings"] if f["severity"] == "error" and not f["suppressed"]]
    assert errors and all(f["file"] == f"{folder}/train_gpt.py" for f in errors)
    assert any(f["condition"] == "C3" for f in errors)


def test_markdown_comment_and_sarif_files(challenge, capsys, tmp_path):
    with pull_request(challenge, script=challenge.illegal_script()) as folder:
        challenge.write("README.md", "# touched\n")
    comment, sarif = tmp_path / "comment.md", tmp_path / "out.sarif"
    code, out = run_ci(
        challenge,
        "--format",
        "markdown",
        "--comment-file",
        str(comment),
        "--sarif-file",
        str(sarif),
        capsys=capsys,
    )
    assert code == 1
    text = comment.read_text()
    assert text == out
    assert_clean_markdown(text)
    assert text.startswith("## ❌ golf-check ci: **FAIL**")
    assert f"<summary>Files in {folder}" in text
    # Verdict, then the findings (errors first), then the tables folded in <details>.
    assert text.index("### Failing") < text.index("### Warnings") < text.index("<summary>Per-seed")
    section = text.split("### Failing", 1)[1].split("<details>", 1)[0]
    findings = [ln for ln in section.splitlines() if ln.startswith("- ")]
    icons = [ln[2] for ln in findings]
    assert icons == sorted(icons, key="❌⚠ℹ".index)
    assert "[`PACKAGE.pr-scope`](https://" in text  # findings link to the rule explanation
    assert f"`{folder}/train_gpt.py" in text
    log = json.loads(sarif.read_text())
    assert log["version"] == "2.1.0"
    uris = {
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for result in log["runs"][0]["results"]
        for loc in result.get("locations", [])
    }
    assert f"{folder}/train_gpt.py" in uris and "README.md" in uris
    assert all(not u.startswith("/") for u in uris)


def test_strict_turns_warnings_into_failure(challenge, capsys):
    with pull_request(challenge) as folder:
        challenge.write(f"{folder}/figure.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    code, doc = report_of(challenge, capsys)
    assert "PACKAGE.pr-committed-checkpoint" in rules_of(doc)
    assert code == 0
    assert report_of(challenge, capsys, "--strict")[0] == 1


def test_gate_leaves_the_repository_untouched(challenge, capsys):
    challenge.fork()
    challenge.submission()
    challenge.commit()
    challenge.write("untracked.txt", "mine\n")
    before = challenge.git("status", "--porcelain", "--untracked-files=all")
    head = challenge.git("rev-parse", "HEAD")
    run_ci(challenge, capsys=capsys)
    assert challenge.git("status", "--porcelain", "--untracked-files=all") == before
    assert challenge.git("rev-parse", "HEAD") == head


# --------------------------------------------------------------------------- real records

# Every real merged record fixture except the one already on main in the test repository
# (conftest.MERGED, the #1868 compliance-rerun package).
REAL_RECORDS = sorted(
    p.name
    for p in (Path(__file__).parents[1] / "fixtures" / "records").iterdir()
    if p.is_dir() and p.name != "2026-04-29_SmearGateBOSFix_3Seed_1.06141"
)


@pytest.mark.parametrize("record", REAL_RECORDS)
def test_real_merged_record_as_a_pull_request_passes(challenge, capsys, record):
    assert record != challenge.MERGED
    challenge.fork()
    folder = challenge.submission(name=record, fixture=record)
    challenge.commit(f"Add {record}")
    code, doc = report_of(challenge, capsys)
    assert code == 0, sorted(rules_of(doc))
    assert doc["pull_request"]["record_folders"] == [folder]
