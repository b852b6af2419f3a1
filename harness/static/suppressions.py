"""In-source suppressions: ``# golf-check: ignore[RULE-ID, ...] reason``.

A suppression comment at the end of a line covers that line; a comment alone on its line
covers the next line (for statements too long to carry a trailing comment). It may name
rule ids (``C3.pretrain-on-val``) or whole conditions (``C3``). A suppressed finding stays in
the report, marked suppressed with its reason (SARIF keeps it visible), but no longer
affects the verdict. A suppression without a reason, and one that suppresses nothing, are
findings themselves (``PACKAGE.suppression-reason``, ``PACKAGE.unused-suppression``).
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Callable
from dataclasses import dataclass, field

from golf_check.harness.report import Finding
from golf_check.harness.rulebook import CONDITIONS, Rule
from golf_check.harness.static.common import LineNode

_PATTERN = re.compile(r"#\s*golf-check:\s*ignore\[([^\]]*)\]\s*(.*)$", re.IGNORECASE)


@dataclass
class Suppression:
    line: int  # where the comment is
    covers: int  # the line whose findings it suppresses
    ids: list[str]
    reason: str
    text: str
    used: bool = False
    unknown: list[str] = field(default_factory=list)

    def matches(self, finding: Finding) -> bool:
        return finding.line == self.covers and (
            finding.rule in self.ids or finding.condition in self.ids
        )


def parse_suppressions(source: str, known_rules: set[str]) -> list[Suppression]:
    out: list[Suppression] = []
    if "golf-check" not in source:
        return out
    code_lines: set[int] = set()
    comments: list[tuple[int, str]] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                comments.append((tok.start[0], tok.string))
            elif tok.type not in (
                tokenize.NL,
                tokenize.NEWLINE,
                tokenize.INDENT,
                tokenize.DEDENT,
                tokenize.ENDMARKER,
            ):
                code_lines.update(range(tok.start[0], tok.end[0] + 1))
    except (tokenize.TokenError, SyntaxError):
        return out
    sorted_code = sorted(code_lines)
    for line, text in comments:
        m = _PATTERN.search(text)
        if not m:
            continue
        ids = [i.strip() for i in m.group(1).split(",") if i.strip()]
        covers = line
        if line not in code_lines:  # alone on its line: covers the next line of code
            covers = next((c for c in sorted_code if c > line), line)
        sup = Suppression(line, covers, ids, m.group(2).strip(), text.strip())
        sup.unknown = [i for i in ids if i not in known_rules and i not in CONDITIONS]
        out.append(sup)
    return out


def apply_suppressions(findings: list[Finding], suppressions: list[Suppression]) -> None:
    for f in findings:
        for sup in suppressions:
            if sup.matches(f):
                f.suppressed = True
                f.suppression_reason = sup.reason or None
                sup.used = True
                break


# The two rules about the comments themselves; their statements are in rules/suppressions.py.
REASON_RULE = "PACKAGE.suppression-reason"
UNUSED_RULE = "PACKAGE.unused-suppression"


def suppression_findings(
    model, suppressions: list[Suppression], rules: dict[str, Rule], active: Callable[[str], bool]
) -> list[Finding]:
    """Findings about the comments themselves, once every detector ran and the comments were
    applied: one without a reason, one naming an unknown rule, one that matched nothing."""
    reason_rule, unused_rule = rules[REASON_RULE], rules[UNUSED_RULE]
    out: list[Finding] = []
    for sup in suppressions:
        if not sup.reason and active(reason_rule.id):
            out.append(
                model.finding(
                    reason_rule,
                    LineNode(sup.line),
                    f"suppression of {', '.join(sup.ids) or 'nothing'} gives no reason",
                    fix="add the reason after the bracket: # golf-check: ignore[ID] why",
                )
            )
        if not active(unused_rule.id):
            continue
        if sup.unknown:
            out.append(
                model.finding(
                    unused_rule,
                    LineNode(sup.line),
                    f"suppression names unknown rule(s): {', '.join(sup.unknown)}",
                    fix="use an id from `golf-check rules`",
                )
            )
        elif not sup.used and all(active(i) for i in sup.ids if i in rules):
            out.append(
                model.finding(
                    unused_rule,
                    LineNode(sup.line),
                    f"suppression of {', '.join(sup.ids)} matches no finding on line {sup.covers}",
                    fix="remove the stale suppression",
                )
            )
    return out
