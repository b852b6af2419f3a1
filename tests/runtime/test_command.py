"""The `golf-check run` command line: bad input, several seeds with one failing, the
ledger-based byte check, and the sandbox fallback (the canary: test_canary.py)."""

from __future__ import annotations

import json

import pytest
from golf_cli import golf_check

from golf_check.harness.report import validate_report_json, verdict_of
from golf_check.harness.runtime.report import seed_findings
from golf_check.harness.runtime.session import load_stream, run_seed
from golf_check.harness.shards import shard_name

from .conftest import SANDBOX, TINY_LM, tiny_lm_options


def golf_run(*args, cwd=None, timeout=600):
    return golf_check("run", *args, cwd=cwd, timeout=timeout)


@pytest.mark.parametrize(
    "args, message",
    [
        (["no_such_script.py"], "no such script, folder or module"),
        (["--seeds", "1,x"], "--seeds"),
        (["--seeds", "1,1"], "each once"),
        (["--data", "."], "give both --data and --tokenizer"),
        (["--env", "NOEQUALS"], "expected KEY=VALUE"),
        (["--env", "GOLF_CHECK_LEDGER=/x"], "belong to the audit"),
        (["--audit", "trace,xray"], "unknown xray"),
        (["--artifact", "../../etc/passwd"], "a file name, not a path"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(tmp_path, args, message):
    done = golf_run(*args, "--out", tmp_path / "o", cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "o").exists()


def test_unreadable_data_is_an_input_error(tmp_path, small_data):
    data = tmp_path / "data"
    data.mkdir()
    (data / shard_name("val", 0)).write_bytes(b"\x00" * 100)  # truncated header
    done = golf_run(
        TINY_LM,
        "--data",
        data,
        "--tokenizer",
        small_data.tokenizer,
        "--out",
        tmp_path / "o",
        *([] if SANDBOX else ["--no-sandbox"]),
    )
    assert done.returncode == 2 and "not a shard" in done.stderr and "Traceback" not in done.stderr


def test_a_non_empty_output_folder_is_refused(tmp_path):
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "keep.txt").write_text("mine")
    done = golf_run("--out", tmp_path / "o")
    assert done.returncode == 2 and "not empty" in done.stderr
    assert (tmp_path / "o" / "keep.txt").read_text() == "mine"


@pytest.mark.slow
def test_other_seeds_still_run_when_one_crashes(tmp_path, small_data):
    out = tmp_path / "out"
    done = golf_run(
        TINY_LM,
        "--seeds",
        "1,2,3",
        "--data",
        small_data.data_dir,
        "--tokenizer",
        small_data.tokenizer,
        "--env",
        "CRASH_SEED=2",
        "--audit",
        "trace",
        "--out",
        out,
        "--format",
        "json",
        *([] if SANDBOX else ["--no-sandbox"]),
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr
    doc = json.loads(done.stdout)
    validate_report_json(doc)
    assert [s["complete"] for s in doc["seeds"]] == [True, False, True]
    assert doc["seeds"][1]["failure"] == "exited with status 1"
    failed = [f for f in doc["findings"] if f["rule"] == "EVIDENCE.seed-failed"]
    assert len(failed) == 1 and "seed 2" in failed[0]["message"]
    assert json.loads((out / "report.json").read_text())["seeds"] == doc["seeds"]
    for seed in (1, 2, 3):  # each seed's own report and timestamped log
        assert (out / f"seed{seed}" / "report.json").is_file()
        first = (out / f"seed{seed}" / f"train_seed{seed}.log").read_text().splitlines()[0]
        assert float(first.split(" ", 1)[0]) > 1e9


def _options(small_data, tmp_path, modes, **kw):
    kw.setdefault("audits", ("trace", "ledger"))
    return tiny_lm_options(small_data, tmp_path, modes, canary_tokens=2049, **kw)


@pytest.mark.parametrize(
    "modes, rule",
    [
        ("ledger", None),
        ("ledger,bad-bytes", "EVIDENCE.bpb-recomputed"),
        ("ledger,skip-tail", "C4.score-once"),
        ("ledger,halve", "EVIDENCE.bpb-recomputed"),
    ],
)
def test_ledger_checks_of_an_instrumented_script(small_data, tmp_path, modes, rule):
    opts = _options(small_data, tmp_path, modes)
    audit = run_seed(opts, 1, load_stream(opts), env_extra={"CANDIDATE_MODE": modes})
    assert audit.ledger is not None
    findings = seed_findings(audit)
    found = {f.rule for f in findings if f.severity == "error"}
    if rule is None:
        assert found == set()
        assert audit.ledger_bpb["final_ttt"] == pytest.approx(audit.headline.val_bpb, rel=1e-6)
        assert not [f for f in findings if f.rule == "EVIDENCE.bpb-recomputed"]
    else:
        assert rule in found


@pytest.mark.parametrize("modes", ["legal", "halve"])
def test_without_a_ledger_the_printed_score_is_never_a_pass(small_data, tmp_path, modes):
    # A consistently halved val_loss and val_bpb look like any other score line: without the
    # ledger's per-position losses, the score is only what the script printed.
    opts = _options(small_data, tmp_path, modes, audits=("trace",))
    audit = run_seed(opts, 1, load_stream(opts), env_extra={"CANDIDATE_MODE": modes})
    assert audit.ledger is None and audit.headline is not None
    findings = seed_findings(audit)
    unmeasured = [f for f in findings if f.rule == "EVIDENCE.bpb-recomputed"]
    assert [f.severity for f in unmeasured] == ["warning"]
    assert "what the script printed" in unmeasured[0].message
    assert verdict_of(findings) != "pass"


def test_without_the_sandbox_the_report_says_so(small_data, tmp_path):
    opts = _options(small_data, tmp_path, "network", sandbox=False)
    audit = run_seed(opts, 1, load_stream(opts), env_extra={"CANDIDATE_MODE": "network"})
    found = {(f.rule, f.severity) for f in seed_findings(audit)}
    assert ("EVIDENCE.sandbox-fallback", "warning") in found
    assert ("DATA.network", "error") in found  # refused by the audit hook instead
    assert any(line.text == "network: PermissionError" for line in audit.launch.lines)
