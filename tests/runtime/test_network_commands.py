"""A download or install command the run starts is DATA.network, even when the sandbox refused
its connection (the shim sees Python's sockets, not curl's)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from golf_check.harness.runtime.sandbox import Sandbox
from golf_check.harness.runtime.trace import from_events
from golf_check.rules.data_access import network_commands


def _audit(events: list[dict]) -> SimpleNamespace:
    sandbox = Sandbox(prefix=[], network="namespace", files="", block_in_process=False)
    return SimpleNamespace(
        seed=1, log_rel="seed1/train_seed1.log", trace=from_events(events), sandbox=sandbox
    )


@pytest.mark.parametrize(
    "event, args",
    [
        ("subprocess.Popen", ("curl", ["curl", "-s", "http://example.invalid/x"], None, None)),
        ("os.system", ("wget -q https://example.invalid/w.bin",)),
        ("subprocess.Popen", ("/bin/sh", ["/bin/sh", "-c", "pip install foo"], None, None)),
        ("os.exec", ("/usr/bin/git", ["git", "clone", "https://example.invalid/r"], None)),
    ],
    ids=["curl", "wget", "pip", "git-clone"],
)
def test_download_commands_are_network_findings(open_tracer, event, args):
    t = open_tracer()
    t.audit(event, args)
    findings = list(network_commands(_audit(t.received())))
    assert [f.rule for f in findings] == ["DATA.network"]
    assert "download or install" in findings[0].message


def test_other_commands_are_not(open_tracer):
    t = open_tracer()
    t.audit("subprocess.Popen", ("nvidia-smi", ["nvidia-smi", "-L"], None, None))
    t.audit("os.system", ("g++ -O3 kernel.cpp -o k.so",))
    t.audit("subprocess.Popen", ("python3", ["python3", "curlew_stats.py"], None, None))
    assert list(network_commands(_audit(t.received()))) == []
