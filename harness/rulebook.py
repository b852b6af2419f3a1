"""The rule catalogue's machinery: what a rule is and how rule modules register.

Each module in the top-level ``rules`` package declares one rule family: ``Rule`` objects
plus the detectors that look for violations of them (static, log evidence, runtime). This
module only knows how to hold and find them, so adding a maintainer's new ruling means adding
one module under ``rules/`` and its tests, nothing here.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field

CONDITIONS = ("C1", "C2", "C3", "C4", "DATA", "BUDGET", "EVIDENCE", "PACKAGE")
SEVERITIES = ("error", "warning", "info")
CONFIDENCES = ("high", "medium", "low")
# What kind of evidence a detector reads (DESIGN.md, "Evidence levels"); "package" is the
# pull request's git tree (paths, modes, sizes of committed files), read by `golf-check ci`.
LEVELS = ("static", "log", "runtime", "ledger", "canary", "package")

RULES_DOC_URL = "https://github.com/golf-check/golf-check/blob/main/docs/rules.md"


@dataclass(frozen=True)
class Rule:
    id: str  # stable, e.g. "C3.pretrain-on-val"; never renamed once released
    condition: str  # one of CONDITIONS
    title: str  # one-line statement of what is not allowed
    explanation: str  # why, what it looks like, with a short example
    sources: tuple[str, ...]  # links to the challenge's issues and pull requests
    severity: str = "error"  # default severity of its findings
    family: str = ""  # module that declares it, filled on registration
    # Policy: how its findings are treated where they are judged. A context is a command
    # that judges them beside other evidence: "run" (an audited run), "ci" (a new submission).
    # (context, what reports it there instead): a level ("runtime") or another rule's id,
    # whose finding on the same file replaces this one.
    superseded_in: tuple[tuple[str, str], ...] = ()
    severity_in: tuple[tuple[str, str], ...] = ()  # (context, severity) of its findings there
    judges_other_runs: bool = False  # verify applies it to runs outside the claim too
    # ci: what becomes of a finding on a new submission (stricter than on a merged record).
    in_new_submission: Callable | None = None

    def __post_init__(self) -> None:
        if self.condition not in CONDITIONS:
            raise ValueError(f"rule {self.id}: unknown condition {self.condition!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule {self.id}: unknown severity {self.severity!r}")
        if not self.id.startswith(self.condition + "."):
            raise ValueError(f"rule {self.id}: id must start with its condition {self.condition}.")

    def superseded_by(self, context: str) -> str | None:
        return dict(self.superseded_in).get(context)

    def severity_for(self, context: str) -> str | None:
        return dict(self.severity_in).get(context)

    @property
    def help_uri(self) -> str:
        return f"{RULES_DOC_URL}#{self.id.lower().replace('.', '')}"


@dataclass
class Detector:
    rule_ids: tuple[str, ...]
    level: str  # one of LEVELS
    func: Callable
    name: str = ""
    # A reviewer reads what the other detectors of its level found (``Registry.review``):
    # it is called as func(subject, findings, active) once they all ran.
    reviews: bool = False


@dataclass
class Registry:
    rules: dict[str, Rule] = field(default_factory=dict)
    detectors: list[Detector] = field(default_factory=list)

    def add_rule(self, rule: Rule) -> Rule:
        if rule.id in self.rules and self.rules[rule.id] != rule:
            raise ValueError(f"rule id {rule.id} registered twice")
        self.rules[rule.id] = rule
        return rule

    def detectors_for(self, level: str) -> list[Detector]:
        return [d for d in self.detectors if d.level == level]

    def run(
        self,
        level: str,
        subject: object,
        *,
        select: set[str] | None = None,
        ignore: set[str] | None = None,
        notes: list[str] | None = None,
    ) -> list:
        """Every detector of ``level`` on ``subject``, in registration order: the one loop of
        every evidence level. ``select``/``ignore`` (rule ids) skip a detector none of whose
        rules is active and drop the findings of inactive rules. A detector that raises is
        isolated: the others still run, and a line in ``notes`` says which rules went
        unchecked and why (a bug in one detector must not hide the other rules' findings)."""
        active = _activity(select, ignore)
        return self._isolated(
            [
                d
                for d in self.detectors_for(level)
                if not d.reviews and any(active(r) for r in d.rule_ids)
            ],
            lambda det: det.func(subject),
            active,
            notes,
        )

    def review(
        self,
        level: str,
        subject: object,
        findings: list,
        *,
        select: set[str] | None = None,
        ignore: set[str] | None = None,
        notes: list[str] | None = None,
    ) -> list:
        """The reviewers of ``level``: detectors that judge the others' ``findings`` (which
        they may mark, as a suppression marks what it covers) and return findings of their
        own. A reviewer runs even when none of its rules is selected, since what it marks
        counts either way; only its findings of inactive rules are dropped. Isolation as in
        ``run``."""
        active = _activity(select, ignore)
        return self._isolated(
            [d for d in self.detectors_for(level) if d.reviews],
            lambda det: det.func(subject, findings, active),
            active,
            notes,
        )

    @staticmethod
    def _isolated(
        detectors: list[Detector],
        call: Callable[[Detector], object],
        active: Callable[[str], bool],
        notes: list[str] | None,
    ) -> list:
        findings: list = []
        for det in detectors:
            try:
                produced = list(call(det) or [])
            except RecursionError:
                _note(notes, f"detector {det.name} gave up: the input nests too deeply")
                continue
            except Exception as exc:  # isolated: see ``run``
                _note(
                    notes,
                    f"detector {det.name} failed ({type(exc).__name__}: {exc}); "
                    f"rules {', '.join(det.rule_ids)} were not checked",
                )
                continue
            findings.extend(f for f in produced if active(f.rule))
        return findings


def _activity(select: set[str] | None, ignore: set[str] | None) -> Callable[[str], bool]:
    """Whether a rule id is selected and not ignored."""
    return lambda rule_id: (
        (select is None or rule_id in select) and not (ignore and rule_id in ignore)
    )


def _note(notes: list[str] | None, text: str) -> None:
    if notes is not None:
        notes.append(text)
    else:  # a caller with nowhere to say it: still never silent
        import sys

        print(f"golf-check: {text}", file=sys.stderr)


REGISTRY = Registry()
_loaded = False


def rule(
    id: str,
    condition: str,
    title: str,
    explanation: str,
    sources: tuple[str, ...] | list[str],
    severity: str = "error",
    *,
    superseded_in: dict[str, str] | None = None,
    severity_in: dict[str, str] | None = None,
    judges_other_runs: bool | None = None,
    in_new_submission: Callable | None = None,
) -> Rule:
    """Declare a rule (call at module level in a ``rules/`` module), with its policy: see
    ``Rule``. A budget applies to every run, so budget rules judge other runs by default."""
    import inspect

    module = inspect.currentframe().f_back.f_globals.get("__name__", "")  # type: ignore[union-attr]
    return REGISTRY.add_rule(
        Rule(
            id,
            condition,
            title,
            explanation.strip(),
            tuple(sources),
            severity,
            module,
            superseded_in=tuple((superseded_in or {}).items()),
            severity_in=tuple((severity_in or {}).items()),
            judges_other_runs=condition == "BUDGET"
            if judges_other_runs is None
            else judges_other_runs,
            in_new_submission=in_new_submission,
        )
    )


def detector(*rules_: Rule, level: str, reviews: bool = False):
    """Register a detector function for one or more rules.

    The signature depends on the level: static detectors take the program model and yield
    findings; log detectors take the parsed evidence; runtime detectors take the trace. Each
    subsystem documents what it passes. A reviewer (``reviews=True``) also takes the findings
    of the other detectors of its level and whether a rule is active: see ``Registry.review``.
    """
    if level not in LEVELS:
        raise ValueError(f"unknown detector level {level!r}")

    def wrap(func: Callable) -> Callable:
        REGISTRY.detectors.append(
            Detector(
                tuple(r.id for r in rules_),
                level,
                func,
                f"{func.__module__}.{func.__name__}",
                reviews,
            )
        )
        return func

    return wrap


def load_all() -> Registry:
    """Import every module of the ``rules`` package once, which registers its rules."""
    global _loaded
    if not _loaded:
        from golf_check import rules

        for info in sorted(pkgutil.iter_modules(rules.__path__), key=lambda i: i.name):
            if not info.name.startswith("_"):
                importlib.import_module(f"golf_check.rules.{info.name}")
        _loaded = True
    return REGISTRY


def get_rule(rule_id: str) -> Rule:
    registry = load_all()
    if rule_id not in registry.rules:
        from golf_check.harness.errors import UsageError

        close = [r for r in registry.rules if rule_id.lower() in r.lower()]
        hint = f" (did you mean {', '.join(close[:3])}?)" if close else ""
        raise UsageError(f"unknown rule id {rule_id!r}{hint}; `golf-check rules` lists them")
    return registry.rules[rule_id]


def expand_selection(spec: str | None) -> set[str] | None:
    """Turn ``--select C3,DATA.network`` into a set of rule ids (a condition selects its family)."""
    if not spec:
        return None
    registry = load_all()
    chosen: set[str] = set()
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        if part in CONDITIONS:
            chosen |= {r.id for r in registry.rules.values() if r.condition == part}
        else:
            chosen.add(get_rule(part).id)
    return chosen
