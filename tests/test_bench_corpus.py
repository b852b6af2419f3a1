"""bench/bench_corpus.py on a tiny labelled corpus built from the project's own twins.

The corpus mixes a clean legal script, an illegal twin labelled legal (a false fail), an
illegal twin labelled for its own condition (caught) and for another one (caught for the
wrong reason), a legal twin labelled illegal (a miss with a line hint), and one entry marked
not statically visible (left out of the illegal count).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TWINS = ROOT / "tests" / "static" / "twins"
_spec = importlib.util.spec_from_file_location("bench_corpus", ROOT / "bench" / "bench_corpus.py")
bench_corpus = importlib.util.module_from_spec(_spec)
sys.modules["bench_corpus"] = bench_corpus  # dataclasses look their module up by name
_spec.loader.exec_module(bench_corpus)

# (script in the corpus, twin it copies, label, expected conditions, extra label fields)
CORPUS = [
    ("legal/clean.py", "legal_record.py", "legal", [], {}),
    ("legal/wallclock.py", "BUDGET.wallclock-default/illegal_wallclock_900.py", "legal", [], {}),
    ("illegal/slot.py", "C1.slot/illegal_slot_delta.py", "illegal", ["C1", "C3"], {}),
    ("illegal/slot_wrong.py", "C1.slot/illegal_slot_delta.py", "illegal", ["C4"], {}),
    ("illegal/no_slot.py", "C1.slot/legal_no_slot.py", "illegal", ["C1"], {"line": 13}),
    (
        "illegal/over_time.py",
        "legal_record.py",
        "illegal",
        ["BUDGET"],
        {"statically_visible": False},
    ),
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    labels = []
    for script, twin, label, expected, extra in CORPUS:
        (root / script).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(TWINS / twin, root / script)
        name = Path(script).stem
        entry = {"name": name, "label": label, "script": script, "violations": []}
        labels.append({**entry, "expected_conditions": expected, **extra})
    (root / "labels.json").write_text(json.dumps(labels))
    return root


@pytest.fixture(scope="module")
def scored(corpus) -> dict:
    entries = bench_corpus.load_labels(corpus)
    return bench_corpus.score(entries, bench_corpus.check_in_process(entries))


def test_summary_counts_follow_corpus_score(scored):
    assert scored["summary"] == {
        "legal": 2,
        "legal_failed": 1,
        "legal_unreadable": 0,
        "illegal": 3,  # over_time.py is not statically visible
        "illegal_failed": 2,
        "illegal_right_condition": 1,
        "not_statically_visible": 1,
        "checker_crashed": 0,
    }


def test_confusion_table_per_condition(scored):
    table = scored["conditions"]
    assert list(table)[:6] == ["C1", "C2", "C3", "C4", "DATA", "BUDGET"]
    assert table["C1"] == {
        "expected": 2,
        "caught": 1,
        "missed": 1,
        "false_errors": 0,
        "unexpected_errors": 1,  # slot_wrong.py fails for C1 but is labelled C4
    }
    assert table["C3"] == {**table["C3"], "expected": 1, "caught": 0, "missed": 1}
    assert table["C4"] == {**table["C4"], "expected": 1, "caught": 0, "missed": 1}
    assert table["BUDGET"] == {
        "expected": 0,
        "caught": 0,
        "missed": 0,
        "false_errors": 1,
        "unexpected_errors": 0,
    }


def test_rows_name_the_wrong_finding_and_the_missed_line(scored):
    rows = {r["name"]: r for r in scored["rows"]}
    assert sorted(rows) == ["no_slot", "slot_wrong", "wallclock"]
    false_fail = rows["wallclock"]
    assert false_fail["kind"] == "false_fail"
    assert [(f["rule"], f["line"]) for f in false_fail["findings"]] == [
        ("BUDGET.wallclock-default", 5)
    ]
    assert rows["slot_wrong"]["kind"] == "miss"
    assert [f["rule"] for f in rows["slot_wrong"]["findings"]] == ["C1.slot"]
    missed = rows["no_slot"]
    assert missed["verdict"] == "pass" and missed["findings"] == []
    source = (TWINS / "C1.slot/legal_no_slot.py").read_text().splitlines()
    assert missed["hint_lines"] == [{"line": 13, "text": source[12].strip()}]


def test_text_json_and_markdown_outputs(corpus, capsys):
    assert bench_corpus.main([str(corpus), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["illegal_right_condition"] == 1
    assert bench_corpus.main([str(corpus)]) == 0
    text = capsys.readouterr().out
    assert "legal failed 1/2; illegal failed 2/3, for an expected condition 1/3" in text
    assert "FALSE FAIL wallclock" in text and "MISS no_slot (want C1)" in text
    assert bench_corpus.main([str(corpus), "--markdown"]) == 0
    block = capsys.readouterr().out
    begin, end = bench_corpus.markers(as_run=False)
    assert block.startswith(begin) and block.rstrip().endswith(end)
    assert "| C1 | 2 | 1 | 1 | 0 | 1 |" in block
    assert "`BUDGET.wallclock-default@5`" in block
    assert "| slot_wrong | C4 | fail | C1 | no |" in block and "| slot | C1/C3 | fail" in block
    assert "over_time" not in block  # not statically visible: left out
    assert "Legal scripts by verdict: pass 1, warn 0, fail 1, error 0." in block
    hinted = (TWINS / "C1.slot/legal_no_slot.py").read_text().splitlines()[12].strip()
    assert hinted not in block  # the doc block names rules and lines, never the scripts' code


def test_update_rewrites_only_the_block(corpus, tmp_path, capsys):
    doc = tmp_path / "accuracy.md"
    begin, end = bench_corpus.markers(as_run=False)
    doc.write_text(f"# intro\n\n{begin}\nold figures\n{end}\n\nafter\n")
    assert bench_corpus.main([str(corpus), "--update", str(doc)]) == 0
    text = doc.read_text()
    assert text.startswith("# intro\n\n") and text.endswith("\n\nafter\n")
    assert "old figures" not in text and "| C1 | 2 | 1 | 1 | 0 | 1 |" in text
    command = next(line for line in text.splitlines() if line.startswith("Command:"))
    assert "--update" not in command and " --markdown`" in command
    capsys.readouterr()


@pytest.mark.parametrize(
    "labels, message",
    [
        (None, "no labels.json"),
        ("{not json", "not readable JSON"),
        ('{"name": "x"}', "non-empty JSON list"),
        ('[{"name": "a", "label": "legal"}]', "'script'"),
        ('[{"name": "a", "label": "maybe", "script": "a.py"}]', "legal or illegal"),
        ('[{"name": "a", "label": "illegal", "script": "a.py"}]', "needs expected_conditions"),
        ('[{"name": "a", "label": "legal", "script": "gone.py"}]', "not found"),
    ],
)
def test_bad_corpus_is_one_line_and_exit_2(tmp_path, capsys, labels, message):
    (tmp_path / "a.py").write_text("x = 1\n")
    if labels is not None:
        (tmp_path / "labels.json").write_text(labels)
    assert bench_corpus.main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("bench_corpus: ") and message in err


def test_as_run_judges_a_script_under_its_run_folder(tmp_path, capsys):
    """A switch off by default but on in the README's run command: a miss under the
    defaults, caught with --as-run, from the folder's own copy or from a run_folder label."""
    twin = TWINS / "C3.pretrain-on-val/legal_mode_list_off.py"
    readme = "# Run\n\n```\nEVAL_MODES=ttt-all torchrun --nproc_per_node=8 train_gpt.py\n```\n"
    (tmp_path / "scripts").mkdir()
    for name in ("copied", "pointed"):
        shutil.copy(twin, tmp_path / "scripts" / f"{name}.py")
    copied = tmp_path / "pr_folders" / "copied"
    pointed = tmp_path / "runs" / "pointed"
    for folder in (copied, pointed):
        folder.mkdir(parents=True)
        (folder / "README.md").write_text(readme)
    shutil.copy(twin, copied / "train_gpt.py")
    labels = [
        {"name": "copied", "label": "illegal", "script": "scripts/copied.py"},
        {"name": "pointed", "label": "illegal", "script": "scripts/pointed.py"},
    ]
    labels[1]["run_folder"] = "runs/pointed"
    for entry in labels:
        entry["expected_conditions"] = ["C3"]
    (tmp_path / "labels.json").write_text(json.dumps(labels))
    entries = bench_corpus.load_labels(tmp_path)
    assert [e.run_folder for e in entries] == [copied, pointed]
    defaults = bench_corpus.score(entries, bench_corpus.check_in_process(entries))
    as_run = bench_corpus.score(entries, bench_corpus.check_in_process(entries, as_run=True))
    assert defaults["summary"]["illegal_right_condition"] == 0
    assert as_run["summary"]["illegal_right_condition"] == 2
    assert as_run["conditions"]["C3"]["caught"] == 2


def test_a_checker_crash_is_a_counted_result_not_a_stop(corpus, monkeypatch):
    import golf_check.harness.static.checker as checker

    def broken(*args, **kwargs):
        raise RuntimeError("detector bug")

    monkeypatch.setattr(checker, "check_paths", broken)
    entries = bench_corpus.load_labels(corpus)
    scored = bench_corpus.score(entries, bench_corpus.check_in_process(entries))
    assert scored["summary"]["checker_crashed"] == len(entries)
    assert scored["summary"]["legal_failed"] == 2 and scored["summary"]["illegal_failed"] == 0
    text = bench_corpus.render_text(scored, corpus, show_rows=True)
    assert "THE CHECKER CRASHED on 6 script(s)" in text
    assert "checker crashed: RuntimeError: detector bug" in text
