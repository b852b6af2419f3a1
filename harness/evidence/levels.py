"""Which evidence level a finding about one seed stands on, and the findings that speak of
one seed: a seed of a record's logs (or one ``golf-check run`` measured), or a seed of an
audited run (``harness.runtime.session.SeedAudit``)."""

from __future__ import annotations

from typing import Any

from golf_check.harness.report import Finding
from golf_check.harness.rulebook import Rule


def seed_level(seed) -> str:
    """``runtime`` for a seed golf-check measured itself (``golf-check run``), ``log`` for
    one read from a record's logs."""
    return "runtime" if seed.source == "measured" else "log"


def seed_finding(rule: Rule, seed, message: str, **fields: Any) -> Finding:
    """A finding about one seed of the evidence: the message opens with the seed's label, and
    the finding points at the seed's log (unless ``file`` names another) and stands on the
    seed's level."""
    fields.setdefault("file", seed.log)
    return Finding.of(rule, f"{seed.label}: {message}", level=seed_level(seed), **fields)


def audit_finding(rule: Rule, audit, message: str, **fields: Any) -> Finding:
    """A finding about one seed of an audited run: the message opens with the seed, and the
    finding points at the log golf-check kept of it."""
    return Finding.of(rule, f"seed {audit.seed}: {message}", file=audit.log_rel, **fields)


def positions_finding(
    rule: Rule, audit, message: str, first_positions, level: str = "runtime", **fields: Any
) -> Finding:
    """A finding about validation positions of an audited seed, with the first of them as its
    evidence."""
    return audit_finding(
        rule, audit, message, evidence=f"first positions: {first_positions}", level=level, **fields
    )


def ledger_finding(rule: Rule, audit, violation, fix: str, counted: str = "positions") -> Finding:
    """A finding for one violation the ledger recorded in a pass of an audited seed;
    ``counted`` names what its count counts."""
    return positions_finding(
        rule,
        audit,
        f"{violation.pass_name}: {violation.message} ({violation.count:,} {counted})",
        violation.positions,
        level="ledger",
        fix=fix,
    )
