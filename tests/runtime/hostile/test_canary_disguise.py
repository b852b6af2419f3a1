"""A candidate that peeks at the targets only when it believes the split is the real one
(``candidates/spot_canary.py``): by path, file names, headers, sizes, links and token
alphabet it cannot tell the canary from the real split, so it peeks on the canary too and
the canary catches it."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from golf_check.harness.runtime.runner import execute
from golf_check.harness.runtime.session import RunOptions
from golf_check.harness.runtime.target import resolve
from golf_check.harness.shards import load_split, shard_name, write_shard

HOSTILE = Path(__file__).parent / "candidates"
TINY_LM_DIR = Path(__file__).parent.parent / "candidates"

try:  # bubblewrap where the machine allows it, else the audit hooks (--no-sandbox)
    from ..conftest import SANDBOX
except ImportError:
    SANDBOX = True


@pytest.fixture
def spot_canary(small_data, monkeypatch):
    """The candidate's own detector, importable (its main only runs as a script)."""
    monkeypatch.setenv("DATA_PATH", str(small_data.data_dir))
    monkeypatch.syspath_prepend(str(TINY_LM_DIR))
    monkeypatch.syspath_prepend(str(HOSTILE))
    for name in ("spot_canary", "_base", "tiny_lm"):
        sys.modules.pop(name, None)
    yield importlib.import_module("spot_canary")
    for name in ("spot_canary", "_base", "tiny_lm"):
        sys.modules.pop(name, None)


def test_the_detector_spots_the_old_canary(spot_canary, small_data, tmp_path, monkeypatch):
    """Not a blind detector: the old canary (a 64-token alphabet in ``canary/data``, a
    short split) gives itself away to it, and the real split does not."""
    monkeypatch.chdir(tmp_path)
    for var in ("GOLF_CHECK_OUT_DIR", "GOLF_CHECK_VALINDEX", "LOAD_ARTIFACT", "RUN_ID"):
        monkeypatch.delenv(var, raising=False)
    assert spot_canary.signs(str(small_data.data_dir)) == []
    old = tmp_path / "canary" / "data"
    old.mkdir(parents=True)
    rng = np.random.default_rng(0)
    write_shard(old / shard_name("val", 0), rng.choice(np.arange(3, 67), size=1024))
    train = small_data.data_dir / shard_name("train", 0)
    (old / train.name).symlink_to(train)
    found = " ".join(spot_canary.signs(str(old)))
    assert "path" in found and "alphabet" in found and "links" in found and "sizes" in found


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox is Linux-only")
def test_a_script_that_spares_the_canary_cannot_find_it(small_data, tmp_path):
    def run(name, audits, **env):
        opts = RunOptions(
            target=resolve(str(HOSTILE / "spot_canary.py")),
            seeds=[1],
            data_dir=small_data.data_dir,
            tokenizer=small_data.tokenizer,
            out_dir=tmp_path / name,
            env={"TINY_LM_DIR": str(TINY_LM_DIR), **env},
            audits=audits,
            train_budget_s=60,
            eval_budget_s=60,
            timeout_s=120,
            sandbox=SANDBOX,
        )
        opts.out_dir.mkdir()
        return opts, execute(opts)

    # the author's tuning run: whatever an ordinary seed run shows is normal
    tuning, _ = run("tuning", ("trace",))
    normal = _signs((tuning.out_dir / "seed1" / "train_seed1.log").read_text())
    opts, report = run("audit", ("trace", "canary"), SPOT_NORMAL=normal)
    seed_log = (opts.out_dir / "seed1" / "train_seed1.log").read_text()
    canary_logs = list((opts.out_dir / "canary").glob("train_seed*.log"))
    assert len(canary_logs) == 1
    canary_log = canary_logs[0].read_text()
    # the canary run shows exactly the signs of a seed run, so the candidate peeked in both
    assert _signs(canary_log) == _signs(seed_log) == normal
    assert "canary suspected: no" in seed_log and "canary suspected: no" in canary_log
    canary = json.loads((opts.out_dir / "report.json").read_text())["seeds"][0]["canary"]
    assert canary["violated"] and canary["judged"] == "printed", canary
    assert canary["n_tokens"] == load_split(small_data.data_dir, "val").size
    errors = {f.rule for f in report.all_findings() if f.severity == "error"}
    assert "C1.canary-bound" in errors and report.exit_code == 1


def _signs(log: str) -> str:
    lines = [line.split(" ", 1)[1] for line in log.splitlines() if " signs: " in line]
    assert len(lines) == 1, log[-2000:]
    return lines[0][len("signs: ") :]
