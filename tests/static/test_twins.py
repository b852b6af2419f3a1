"""Every static rule against its legal and illegal twin scripts, with exact expected findings.

Each folder under ``twins/`` is named after a rule id and holds ``illegal_*`` scripts (which
must produce that rule's finding) and ``legal_*`` scripts (which must not fail on it). The
``expected.toml`` beside them pins the exact unsuppressed findings (line, severity, rule) of
every twin, so a removed or weakened detector, or a new false positive, fails a test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

try:
    import tomllib
except ImportError:  # Python 3.10: the test extra installs tomli there
    import tomli as tomllib  # type: ignore[no-redef]

from golf_check.harness.rulebook import load_all
from golf_check.harness.static.checker import check_paths

TWINS = Path(__file__).parent / "twins"

EXPECTED_FILE = "expected.toml"
_EXPECTATION = re.compile(r"L(\d+) (error|warning|info) (\S+)")


def read_expectations(root: Path = TWINS) -> dict[str, list[tuple[str, int, str]]]:
    """Every twin's expected findings, from the ``expected.toml`` beside it.

    Each folder's file maps a script (relative to that folder) to its exact unsuppressed
    findings, written ``"L<line> <severity> <rule>"``; an empty list pins a clean script.
    """
    expected: dict[str, list[tuple[str, int, str]]] = {}
    for toml_path in sorted(root.rglob(EXPECTED_FILE)):
        table = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        for script, entries in table.items():
            rel = (toml_path.parent / script).relative_to(root).as_posix()
            assert isinstance(entries, list), f"{toml_path}: {script} must map to a list"
            findings = []
            for entry in entries:
                m = _EXPECTATION.fullmatch(entry)
                assert m, f"{toml_path}: {script}: {entry!r} is not 'L<line> <severity> <rule>'"
                findings.append((m.group(3), int(m.group(1)), m.group(2)))
            expected[rel] = findings
    return expected


EXPECTED = read_expectations()


def _findings(rel: str):
    report = check_paths([TWINS / rel])
    (result,) = report.files
    assert result.error is None, result.error
    return result, sorted((f.rule, f.line, f.severity) for f in result.findings if not f.suppressed)


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_twin_has_exactly_the_expected_findings(rel):
    _, found = _findings(rel)
    assert found == sorted(EXPECTED[rel])


def test_every_twin_script_is_pinned():
    on_disk = set()
    for path in TWINS.rglob("*.py"):
        rel = str(path.relative_to(TWINS))
        if rel.startswith("BUDGET.uncounted-code/") and path.name != "train_gpt.py":
            continue  # helper files that ship beside a folder twin's script
        on_disk.add(rel)
    assert on_disk == set(EXPECTED)


def test_every_static_rule_has_a_legal_and_an_illegal_twin():
    registry = load_all()
    static_rules = {rid for det in registry.detectors_for("static") for rid in det.rule_ids} | {
        "PACKAGE.suppression-reason",
        "PACKAGE.unused-suppression",
    }
    for rid in static_rules:
        folder = TWINS / rid
        names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
        assert any(n.startswith("illegal") for n in names), f"{rid}: no illegal twin"
        assert any(n.startswith("legal") for n in names), f"{rid}: no legal twin"
        illegal_hits = [
            rel
            for rel, exp in EXPECTED.items()
            if rel.startswith(rid + "/illegal") and any(r == rid for r, _, _ in exp)
        ]
        assert illegal_hits, f"{rid}: no illegal twin is pinned to a finding of the rule"


@pytest.mark.parametrize(
    "rel", [r for r in sorted(EXPECTED) if "/legal" in r or r.startswith("legal_record")]
)
def test_legal_twins_never_fail(rel):
    result, _ = _findings(rel)
    assert result.verdict != "fail"


def test_findings_carry_location_evidence_and_fix():
    result, _ = _findings("C3.pretrain-on-val/illegal_ttt_adapt_then_sliding.py")
    (f,) = [f for f in result.findings if f.rule == "C3.pretrain-on-val"]
    assert f.file.endswith("illegal_ttt_adapt_then_sliding.py")
    assert f.evidence == "ttt_adapt(args, model, val_tokens)"
    assert f.fix and f.level == "static" and f.confidence == "high"
    assert "line 24" in f.message  # the backward inside ttt_adapt


def test_suppressed_finding_stays_visible_with_its_reason():
    result, _ = _findings("PACKAGE.suppression-reason/legal_with_reason.py")
    (f,) = result.findings
    assert f.rule == "BUDGET.wallclock-default" and f.suppressed
    assert f.suppression_reason == "non-record track run, unlimited compute"
    assert result.verdict == "pass"


@pytest.mark.parametrize(
    "name", ["legal_record.py", "legal_record_phased.py", "legal_record_baseline.py"]
)
def test_wrapped_legal_records_pass_clean(tmp_path, wrap, name):
    path = tmp_path / "train_gpt.py"
    path.write_text(wrap["lzma2"]((TWINS / name).read_bytes()))
    (result,) = check_paths([tmp_path]).files
    assert result.error is None and result.findings == [] and result.verdict == "pass"
    assert "lzma-raw-lzma2" in result.notes[0]


def test_check_paths_api_selection_and_strictness():
    script = TWINS / "C1.target-in-key" / "illegal_hashed_ngram_cache.py"
    only = check_paths([script], select={"C2.gold-count-ratio"})
    assert [f.rule for f in only.files[0].findings] == ["C2.gold-count-ratio"]
    without = check_paths([script], ignore={"C1.target-in-key", "C2.gold-count-ratio"})
    assert without.files[0].findings == [] and without.exit_code == 0
    warn_only = TWINS / "C3.prequant-ttt" / "legal_ttt_off_by_default.py"
    assert check_paths([warn_only]).exit_code == 0
    assert check_paths([warn_only], strict=True).exit_code == 1


def test_expectations_name_known_rules():
    rules = load_all().rules
    unknown = {(rel, rule) for rel, exp in EXPECTED.items() for rule, _, _ in exp if rule not in rules}
    assert not unknown, f"expected.toml names rules the catalogue lacks: {sorted(unknown)}"


def test_a_malformed_expectation_is_refused(tmp_path):
    (tmp_path / EXPECTED_FILE).write_text('"x.py" = ["line 3 C3.pretrain-on-val"]\n')
    with pytest.raises(AssertionError, match="is not 'L<line> <severity> <rule>'"):
        read_expectations(tmp_path)
