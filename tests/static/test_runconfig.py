"""A record is judged as it ran: the configuration from its README run command, its logs,
submission.json and ``--env`` / ``--run-config`` decides which gated paths are on.

Twins: a small script whose network downloads sit behind every gate form the challenge's
scripts use (an env read in a ``Hyperparameters`` class, ``getattr(h, "x", False)``, a
dataclass field, ``os.environ.get(...) == "1"``), written into a record folder per test."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from golf_cli import golf_check

from golf_check.harness.static.checker import check_paths
from golf_check.harness.static.runconfig import (
    folder_config,
    parse_env_options,
    parse_run_config_file,
    readme_config,
)

SCRIPT = """\
import os
from dataclasses import dataclass, field

from huggingface_hub import hf_hub_download


class Hyperparameters:
    use_hub = bool(int(os.environ.get("USE_HUB", "0")))
    seed = int(os.environ.get("SEED", 1337))


@dataclass
class EvalConfig:
    mirror: bool = field(default=False)


def main():
    args = Hyperparameters()
    cfg = EvalConfig()
    if args.use_hub:
        hf_hub_download("someone/a", "a.pt")
    if getattr(args, "fetch_extra", False):
        hf_hub_download("someone/b", "b.pt")
    if cfg.mirror:
        hf_hub_download("someone/c", "c.pt")
    if os.environ.get("FETCH_D", "0") == "1":
        hf_hub_download("someone/d", "d.pt")
"""
HUB, EXTRA, MIRROR, FETCH_D = 21, 23, 25, 27  # lines of the four downloads


def _record(tmp_path: Path, readme: str = "", logs: dict | None = None, sub=None) -> Path:
    folder = tmp_path / "rec"
    folder.mkdir(parents=True)
    (folder / "train_gpt.py").write_text(SCRIPT)
    if readme:
        (folder / "README.md").write_text(readme)
    for name, text in (logs or {}).items():
        (folder / name).write_text(text)
    if sub is not None:
        (folder / "submission.json").write_text(json.dumps(sub))
    return folder


def _severities(report) -> dict[int, str]:
    (result,) = report.files
    return {f.line: f.severity for f in result.findings if f.rule == "DATA.network"}


def _message(report, line: int) -> str:
    (result,) = report.files
    return next(f.message for f in result.findings if f.line == line)


def test_defaults_alone_leave_every_gated_download_a_warning(tmp_path):
    folder = _record(tmp_path)
    report = check_paths([folder / "train_gpt.py"])
    assert _severities(report) == {
        HUB: "warning",
        EXTRA: "warning",
        MIRROR: "warning",
        FETCH_D: "warning",
    }


README = """# Run

```bash
SEED=42 \\
USE_HUB=1 torchrun --standalone --nproc_per_node=8 train_gpt.py
```

Eval only:

```bash
FETCH_D=1 torchrun --standalone --nproc_per_node=8 train_gpt.py
```
"""


def test_readme_run_command_turns_a_gated_path_into_an_error_naming_its_source(tmp_path):
    folder = _record(tmp_path, README)
    report = check_paths([folder])
    sev = _severities(report)
    assert sev[HUB] == "error"
    assert sev[FETCH_D] == "warning"  # only the first run command counts
    assert "USE_HUB=1 (README.md:5)" in _message(report, HUB)
    (table,) = [t for t in report.tables if t.title.startswith("Run configuration")]
    rows = {row["setting"]: row for row in table.rows}
    assert rows["USE_HUB"]["source"] == "README.md:5"
    assert rows["SEED"]["value"] == "42" and rows["SEED"]["default"] == "1337"
    assert any("2 run commands" in note for note in report.notes)


def test_a_file_in_a_record_folder_is_judged_as_its_folder_ran_it(tmp_path):
    folder = _record(tmp_path, README)
    assert _severities(check_paths([folder / "train_gpt.py"]))[HUB] == "error"
    # The same script outside a record folder is judged under its defaults.
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "train_gpt.py").write_text((folder / "train_gpt.py").read_text())
    assert _severities(check_paths([alone / "train_gpt.py"]))[HUB] == "warning"


def test_logged_hyperparameters_decide_getattr_and_dataclass_gates(tmp_path):
    log = "\n".join(
        [
            SCRIPT,  # logs echo the source; its lines are not settings
            "====",
            "Hyperparameters:",
            "  fetch_extra: True",
            "  mirror: True",
            "step:1/20 train_loss:6.93 train_time:148ms",
        ]
    )
    folder = _record(tmp_path, logs={"train_seed1.log": log})
    report = check_paths([folder])
    sev = _severities(report)
    assert sev[EXTRA] == "error" and sev[MIRROR] == "error"
    assert sev[HUB] == "warning"
    assert "fetch_extra=True (train_seed1.log:" in _message(report, EXTRA)


def test_logs_win_over_the_readme_and_the_disagreement_is_reported(tmp_path):
    folder = _record(tmp_path, README, logs={"train.log": "use_hub:False seed:42\n"})
    report = check_paths([folder])
    assert _severities(report)[HUB] == "warning"
    assert "as the record ran" in _message(report, HUB)


def test_logs_that_disagree_are_not_used(tmp_path):
    logs = {"a.log": "use_hub:True\n", "b.log": "use_hub:False\n"}
    folder = _record(tmp_path, logs=logs)
    assert _severities(check_paths([folder]))[HUB] == "warning"
    config = folder_config(folder, folder / "train_gpt.py", SCRIPT)
    assert set(config.disputed) == {"use_hub"}


def test_submission_json_settings_count_and_log_tags_do_not(tmp_path):
    folder = _record(tmp_path, sub={"name": "x", "use_hub": True, "env": {"FETCH_D": "1"}})
    sev = _severities(check_paths([folder]))
    assert sev[HUB] == "error" and sev[FETCH_D] == "error"
    # ``use_hub:downloading`` is a log tag, not a value of a boolean setting
    folder2 = _record(tmp_path / "two", logs={"t.log": "use_hub:downloading shard:3\n"})
    assert _severities(check_paths([folder2]))[HUB] == "warning"


def test_env_and_run_config_options(tmp_path):
    folder = _record(tmp_path)
    script = folder / "train_gpt.py"
    env = parse_env_options(["USE_HUB=1"])
    assert _severities(check_paths([script], run_config=env))[HUB] == "error"
    kv = tmp_path / "run.env"
    kv.write_text("# settings\nexport FETCH_D=1\nUSE_HUB=0\n")
    sev = _severities(check_paths([script], run_config=parse_run_config_file(kv)))
    assert sev[FETCH_D] == "error" and sev[HUB] == "warning"
    js = tmp_path / "run.json"
    js.write_text(json.dumps({"USE_HUB": 1, "fetch_extra": True}))
    sev = _severities(check_paths([script], run_config=parse_run_config_file(js)))
    assert sev[HUB] == "error" and sev[EXTRA] == "error"


def test_explicit_env_wins_over_the_folder(tmp_path):
    folder = _record(tmp_path, README)
    report = check_paths([folder], run_config=parse_env_options(["USE_HUB=0"]))
    assert _severities(report)[HUB] == "warning"


def golf(*args: str) -> subprocess.CompletedProcess:
    return golf_check("check", *args, timeout=60)


def test_cli_env_and_run_config_readme(tmp_path):
    script = str(_record(tmp_path) / "train_gpt.py")
    readme = tmp_path / "README.md"
    readme.write_text(README)
    assert golf(script).returncode == 0
    assert golf("--env", "USE_HUB=1", script).returncode == 1
    with_readme = golf("--format", "json", "--run-config", str(readme), script)
    assert with_readme.returncode == 1, with_readme.stderr
    (finding,) = [
        f
        for f in json.loads(with_readme.stdout)["files"][0]["findings"]
        if f["severity"] == "error"
    ]
    assert finding["line"] == HUB and "README.md:5" in finding["message"]


def test_bad_run_configuration_is_one_line_and_exit_2(tmp_path):
    folder = str(_record(tmp_path))
    bad_env = golf("--env", "NOEQUALS", folder)
    assert bad_env.returncode == 2 and "KEY=VALUE" in bad_env.stderr
    assert len(bad_env.stderr.strip().splitlines()) == 1
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    bad_json = golf("--run-config", str(broken), folder)
    assert bad_json.returncode == 2 and "not valid JSON" in bad_json.stderr
    assert len(bad_json.stderr.strip().splitlines()) == 1


def test_readme_command_forms(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(
        "\n".join(
            [
                "Setting MODE=fast in prose is not a command.",
                "```",
                "export DATA=./data",
                "python3 data/download.py --variant sp1024",
                "for SEED in 1 2; do",
                "  SEED=$SEED env TTT=1 \\",
                "    torchrun --nproc_per_node=8 train_gpt.py",
                "done",
                "```",
                r"MAX\_WALLCLOCK\_SECONDS=600 torchrun train_gpt.py",
            ]
        )
    )
    config = readme_config(readme, "train_gpt.py")
    found = {e.key: (e.value, e.source) for e in config.entries}
    assert found == {"DATA": ("./data", "README.md:3"), "TTT": ("1", "README.md:6")}


def test_getattr_on_a_module_is_not_a_setting(tmp_path):
    script = tmp_path / "train_gpt.py"
    script.write_text(
        "import torch\n"
        "from huggingface_hub import hf_hub_download\n"
        "def main():\n"
        "    if getattr(torch, 'compile', None):\n"
        "        hf_hub_download('someone/a', 'a.pt')\n"
    )
    (finding,) = check_paths([script]).files[0].findings
    assert finding.severity == "error"


def test_probability_gate_that_can_never_fire_is_off(tmp_path):
    script = tmp_path / "train_gpt.py"
    script.write_text(
        "import os\n"
        "import torch\n"
        "from huggingface_hub import hf_hub_download\n"
        "GATE = float(os.environ.get('GATE', '99.0'))\n"
        "def step(logits):\n"
        "    top = torch.softmax(logits, -1).max()\n"
        "    if top > GATE:\n"
        "        hf_hub_download('someone/a', 'a.pt')\n"
    )
    (finding,) = check_paths([script]).files[0].findings
    assert finding.severity == "warning" and "GATE" in finding.message
    reachable = check_paths([script], run_config=parse_env_options(["GATE=0.9"]))
    assert reachable.files[0].findings[0].severity == "error"


def test_a_readme_written_for_train_gpt_applies_to_a_renamed_script(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(README)
    script = tmp_path / "pr_copy.py"
    script.write_text(SCRIPT)
    config = parse_run_config_file(readme, script.name)
    assert _severities(check_paths([script], run_config=config))[HUB] == "error"
