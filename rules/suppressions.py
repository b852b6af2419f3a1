"""Meta rules about in-source suppressions (``# golf-check: ignore[RULE-ID] reason``).

The comments are parsed, applied and judged by ``harness.static.suppressions`` once every
static detector has run, since only then is it known what each one suppressed; this module
states the two rules it reports under.
"""

from __future__ import annotations

from golf_check.harness.rulebook import rule

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
