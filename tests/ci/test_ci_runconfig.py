"""`golf-check ci` judges a submission's script as the record ran (its README run command),
and on the track its repository path names."""

from __future__ import annotations

import json

import pytest

from golf_check.harness.cli import main

FIXTURE = "2026-04-06_SP8192_QK5_LegalTTT_1.0828"

# A twin: a download of pretrained weights behind a switch that is off by default.
GATED_DOWNLOAD = """\
import os

from huggingface_hub import hf_hub_download


class Hyperparameters:
    use_hub = bool(int(os.environ.get("USE_HUB", "0")))


def main():
    args = Hyperparameters()
    if args.use_hub:
        hf_hub_download("someone/weights", "model.pt")
"""

LONG_RUN = """\
import os

TRAIN_SECONDS = float(os.environ.get("TRAIN_SECONDS", "3600"))
"""


def _ci_on(challenge, capsys, track: str, script: str, readme: str) -> tuple[int, dict]:
    """``golf-check ci`` (exit code, JSON report) on a pull request that adds one record
    folder on ``track``: the fixture with this ``train_gpt.py`` and README."""
    challenge.fork()
    folder = f"records/{track}/2026-05-01_Test"
    challenge.copy_record(FIXTURE, folder)
    challenge.write(f"{folder}/README.md", readme)
    challenge.write(f"{folder}/train_gpt.py", script)
    challenge.commit()
    with pytest.raises(SystemExit) as exc:
        main(["ci", "--repo", str(challenge.root), "--base", "main", "--format", "json"])
    return exc.value.code, json.loads(capsys.readouterr().out)


def _findings(doc: dict, rule: str) -> list[dict]:
    return [f for fr in doc["files"] for f in fr["findings"] if f["rule"] == rule]


def _run_in_readme(command: str) -> str:
    return f"# Test\n\n```bash\n{command}\n```\n"


def test_ci_fails_a_path_the_readme_run_command_turns_on(challenge, capsys):
    readme = _run_in_readme("USE_HUB=1 torchrun --nproc_per_node=8 train_gpt.py")
    code, doc = _ci_on(challenge, capsys, "track_10min_16mb", GATED_DOWNLOAD, readme)
    (network,) = _findings(doc, "DATA.network")
    assert code == 1 and network["severity"] == "error"
    assert "USE_HUB=1 (README.md:4)" in network["message"]


def test_ci_leaves_the_same_path_a_warning_when_the_run_left_it_off(challenge, capsys):
    readme = _run_in_readme("torchrun --nproc_per_node=8 train_gpt.py")
    _, doc = _ci_on(challenge, capsys, "track_10min_16mb", GATED_DOWNLOAD, readme)
    (network,) = _findings(doc, "DATA.network")
    assert network["severity"] == "warning"


@pytest.mark.parametrize(
    ("track", "severity"), [("track_non_record_16mb", "info"), ("track_10min_16mb", "error")]
)
def test_ci_holds_only_the_record_track_to_600_s(challenge, capsys, track, severity):
    _, doc = _ci_on(challenge, capsys, track, LONG_RUN, "# Test\n")
    (wallclock,) = _findings(doc, "BUDGET.wallclock-default")
    assert wallclock["severity"] == severity


def test_ci_takes_the_wallclock_the_logs_show(challenge, capsys):
    # The fixture's logs echo ``max_wallclock_seconds: 600.0``: that run kept the budget.
    script = LONG_RUN.replace("TRAIN_SECONDS", "MAX_WALLCLOCK_SECONDS")
    _, doc = _ci_on(challenge, capsys, "track_10min_16mb", script, "# Test\n")
    assert _findings(doc, "BUDGET.wallclock-default") == []
