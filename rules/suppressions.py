"""In-source suppressions, ``# golf-check: ignore[RULE-ID, ...] reason``, and the two rules
about the comments themselves.

A suppression comment at the end of a line covers that line; a comment alone on its line
covers the next line (for statements too long to carry a trailing comment). It may name
rule ids (``C3.pretrain-on-val``) or whole conditions (``C3``). A suppressed finding stays in
the report, marked suppressed with its reason (SARIF keeps it visible), but no longer
affects the verdict. A suppression without a reason, and one that suppresses nothing, are
findings themselves. Only once every other static detector has run is it known what each
comment covers, so the detector here is a reviewer (``Registry.review``).
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Callable
from dataclasses import dataclass, field

from golf_check.harness.report import Finding
from golf_check.harness.rulebook import CONDITIONS, detector, load_all, rule
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


SUPPRESSION_REASON = rule(
    "PACKAGE.suppression-reason",
    "PACKAGE",
    "A suppression must say why the finding does not apply",
    """
A `# golf-check: ignore[RULE-ID]` comment hides a finding from the verdict. Reviewers need
to know why, so a suppression without a reason after the bracket is itself an error: it
would otherwise let any finding be silenced without a trace.

Example:
    ttt_adapt(model, val_tokens)  # golf-check: ignore[C3.pretrain-on-val]
should be
    ttt_adapt(model, warm_tokens)  # golf-check: ignore[C3.pretrain-on-val] tokens are synthetic
""",
    ["https://github.com/openai/parameter-golf/issues/1017"],
    severity="error",
)

UNUSED_SUPPRESSION = rule(
    "PACKAGE.unused-suppression",
    "PACKAGE",
    "A suppression that suppresses nothing (or names an unknown rule) should be removed",
    """
A suppression comment that matches no finding on the line it covers is stale: the code
changed, or the rule id is misspelled. Stale suppressions would silently hide a real finding
if the code later moved back under them, so they are reported as warnings.

Example:
    x = 1  # golf-check: ignore[C3.pretrain-on-val] leftover from an old version
""",
    ["https://github.com/openai/parameter-golf/issues/1017"],
    severity="warning",
)


@detector(SUPPRESSION_REASON, UNUSED_SUPPRESSION, level="static", reviews=True)
def suppression_comments(model, findings: list[Finding], active: Callable[[str], bool]):
    """``# golf-check: ignore[ID, ...] reason`` comments, applied to the findings of every other
    detector on the line each covers (marked suppressed, with the reason); a comment without
    a reason is an error, one naming an unknown rule or matching no finding a warning.

    Confidence: high

    Cannot see: findings of the other evidence levels (a comment covers what the static
    detectors found)"""
    known = load_all().rules
    suppressions = parse_suppressions(model.script.source, set(known))
    apply_suppressions(findings, suppressions)
    out: list[Finding] = []
    for sup in suppressions:
        if not sup.reason:
            out.append(
                model.finding(
                    SUPPRESSION_REASON,
                    LineNode(sup.line),
                    f"suppression of {', '.join(sup.ids) or 'nothing'} gives no reason",
                    fix="add the reason after the bracket: # golf-check: ignore[ID] why",
                )
            )
        if sup.unknown:
            out.append(
                model.finding(
                    UNUSED_SUPPRESSION,
                    LineNode(sup.line),
                    f"suppression names unknown rule(s): {', '.join(sup.unknown)}",
                    fix="use an id from `golf-check rules`",
                )
            )
        elif not sup.used and all(active(i) for i in sup.ids if i in known):
            out.append(
                model.finding(
                    UNUSED_SUPPRESSION,
                    LineNode(sup.line),
                    f"suppression of {', '.join(sup.ids)} matches no finding on line {sup.covers}",
                    fix="remove the stale suppression",
                )
            )
    return out
