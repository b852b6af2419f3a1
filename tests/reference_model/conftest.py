from __future__ import annotations

import pytest

from golf_check.harness import ledger


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """The demo dataset, built once per test session into a private folder."""
    from golf_check.harness.demo_data import ensure_demo_data

    return ensure_demo_data(tmp_path_factory.mktemp("cache") / "demo")


@pytest.fixture(autouse=True)
def _quiet_ledger(monkeypatch):
    """No test inherits a ledger from the environment or from another test."""
    for name in (ledger.ENV_DIR, ledger.ENV_SAMPLE, ledger.ENV_DUMP):
        monkeypatch.delenv(name, raising=False)
    ledger._reset_for_tests()
    yield
    ledger._reset_for_tests()
