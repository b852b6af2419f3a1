"""Evidence rules: is the claimed score what the evidence shows, and is the evidence enough?

Detectors read an ``EvidenceSet`` (``harness.evidence.model``): per-seed headlines parsed
from the logs (or measured by ``golf-check run``) and the submission's claims. Every figure
they judge is recomputed here from the per-seed values, never copied from a summary.
The runtime detectors at the end receive one ``harness.runtime.session.SeedAudit``: the
split an audited run scored and the training loop its log reports.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from golf_check.harness.evidence import canonical
from golf_check.harness.evidence import stats as st
from golf_check.harness.evidence.levels import audit_finding, seed_finding
from golf_check.harness.evidence.logparse import PROVENANCE_KEYS, seed_in_name
from golf_check.harness.evidence.model import EvidenceSet, SeedEvidence
from golf_check.harness.report import Finding
from golf_check.harness.rulebook import Rule, detector, rule

MIN_SEEDS = 3

SOURCES_SIGNIFICANCE = (
    "https://github.com/openai/parameter-golf/blob/main/README.md",
    "https://github.com/openai/parameter-golf/pull/1902",
    "https://github.com/openai/parameter-golf/pull/2124",
)

SEED_COUNT = rule(
    "EVIDENCE.seed-count",
    "EVIDENCE",
    "A record needs logs of at least 3 distinct seeds",
    """
A leaderboard row needs a mean over at least three runs with distinct seeds from the same
configuration, one log per seed. golf-check reads each seed from the log itself (`seed:N`
or the hyperparameter dump), falling back to the file name only when the log does not say.
Byte-identical copies of a log (a `train.log` that duplicates `train_seed1337.log`) count once.

Example: a folder with train.log (seed 1337) and no other run logs has 1 seed.
""",
    SOURCES_SIGNIFICANCE,
    severity="warning",
    # an audited run may use any seeds; in a pull request the per-seed log rule reports it
    severity_in={"run": "info"},
    superseded_in={"ci": "PACKAGE.pr-logs-per-seed"},
)

SAME_CONFIG = rule(
    "EVIDENCE.same-config",
    "EVIDENCE",
    "The seeds averaged into a claim must come from the same configuration",
    """
The claimed mean must average runs of one submitted configuration: only the seed may
differ. golf-check compares the hyperparameter dumps (or the header config lines of older
logs) of the seeds it averages, ignoring seed, run ids, log file names and data paths, and
checks that every seed reports the same final score line.

Example: seed 42 with gptq_reserve_seconds 0.5 and seed 314 with 8.0 in one mean.
""",
    ("https://github.com/openai/parameter-golf/pull/2124",),
)

CLAIM_MISMATCH = rule(
    "EVIDENCE.claim-mismatch",
    "EVIDENCE",
    "submission.json's val_bpb must equal the mean of the per-seed headline scores",
    """
The claimed `val_bpb` (and `val_loss`) must be the mean over seeds of the final score line
of each log, within rounding (tolerance 5e-5 or half a unit of the claim's last digit), and
per-seed figures in `seed_results` must match their logs. A claim better than the evidence
is an error; a claim that is one seed's score (typically the best) instead of the mean, or
worse than the evidence, is a warning that names the anomaly.

Example: "val_bpb": 1.1228 when the three logs give 1.12278, 1.12357, 1.12360 (mean 1.12332).
""",
    SOURCES_SIGNIFICANCE,
)

STD_MISMATCH = rule(
    "EVIDENCE.std-mismatch",
    "EVIDENCE",
    "A claimed standard deviation must match the per-seed scores",
    """
When submission.json states `val_bpb_std` (or `std_bpb`), golf-check recomputes the
standard deviation of the per-seed headline val_bpb (sample, n-1; the population form is
also accepted) and compares within the claim's rounding.

Example: "val_bpb_std": 0.0001 when the seeds spread 1.0846..1.0866 (std 0.0007).
""",
    SOURCES_SIGNIFICANCE,
    severity="warning",
)

BPB_BYTES = rule(
    "EVIDENCE.bpb-bytes",
    "EVIDENCE",
    "The bytes implied by val_loss, val_bpb and val_tokens must be the canonical byte count",
    """
val_bpb = (sum of nats / ln 2) / (UTF-8 bytes of the validation text), so
`val_loss / ln 2 * val_tokens / val_bpb` is the byte count the score was divided by. In
every accepted record log it is the same number for a tokenizer family (about 151.08 M for
the 50,000 validation documents) within 0.005 %. A different number means the byte
accounting is wrong: x1.17 is the byte-LUT double count of issue #1719, x1.09 CaseOps
transformed bytes, x1.04 byte-fallback pieces counted as 3 bytes.

Example: val_loss 2.79 val_bpb 0.925 at 40,540,160 tokens implies 176.9 M bytes (x1.17).
""",
    (
        "https://github.com/openai/parameter-golf/issues/1719",
        "https://github.com/openai/parameter-golf/issues/1017",
        "https://github.com/openai/parameter-golf/pull/1804",
        "https://github.com/openai/parameter-golf/pull/1271",
    ),
    judges_other_runs=True,  # byte accounting is wrong in any run of the folder
)

FULL_VAL = rule(
    "EVIDENCE.full-val",
    "EVIDENCE",
    "The score must cover the full canonical validation split",
    """
val_bpb is defined on the whole fixed validation split (the first 50,000 documents). The
validation token count a log prints (`val_tokens: N` or `val_loader:... tokens:N`) must be
the canonical count of its tokenizer family: sp1024 62,021,632 (or its seq-length
truncations), sp4096 45,508,608, sp8192 40,540,160, CaseOps sp8192 47,851,520, byte260
151,130,112. A 10,000-document validation set (9,662,464 tokens) is not a record.

Example: val_tokens: 9662464   # 10k docs: not the canonical split
""",
    (
        "https://github.com/openai/parameter-golf/pull/2039",
        "https://github.com/openai/parameter-golf/issues/2127",
        "https://github.com/openai/parameter-golf/issues/1017",
    ),
    judges_other_runs=True,
)

INCOMPLETE_LOG = rule(
    "EVIDENCE.incomplete-log",
    "EVIDENCE",
    "Every run log must end after its final score",
    """
A log that stops before its final score line (cut off during evaluation, or a run that
crashed) proves nothing about the claim. golf-check requires a final, non-diagnostic score
line per log with no training or evaluation progress after it, and an `_exact` line where
the script prints one.

Example: a log whose last lines are `ttp: b612/782 ...` progress lines after the diagnostics.
""",
    ("https://github.com/openai/parameter-golf/blob/main/README.md",),
    judges_other_runs=True,
)

SIGNIFICANCE = rule(
    "EVIDENCE.significance",
    "EVIDENCE",
    "A new record must beat the baseline with statistical significance",
    """
Two policies. `readme` (the README since launch): improve on the baseline by at least
0.005 nats of val_loss with p < 0.01 (one-sided Welch t-test of the per-seed values).
`leaderboard` (PR #1902, 2026-04-29): beat the previous frontier row with a one-sided
Welch t-test p < 0.25 on val_bpb. `--policy` chooses which one gates; both are reported.
With a bare number as baseline only a one-sample t-test is possible, and the report says so.

Example: 3 seeds at mean 1.0798 against a baseline at 1.0810 (std 0.0005): p about 0.02,
which passes the leaderboard policy and fails the readme one (0.0030 nats < 0.005).
""",
    SOURCES_SIGNIFICANCE,
)

LOG_MISMATCH = rule(
    "EVIDENCE.log-mismatch",
    "EVIDENCE",
    "What a run printed must agree with what golf-check measured",
    """
In a `golf-check run` report the gating figures are the harness's own measurements
(artifact bytes from the files, wall-clock from the parent process, scores from the run).
The run's log is re-parsed and compared: a different score, artifact size or token count,
or a log that under-reports its time, is a finding.

Example: the log prints `Total submission size int6+lzma: 15990000 bytes`, the files
measure 16,071,321 bytes.
""",
    ("https://github.com/openai/parameter-golf/pull/1835",),
)


def _fmt(values: list) -> str:
    return ", ".join(f"{v:.8f}" if isinstance(v, float) else str(v) for v in values)


# ---------------------------------------------------------------------- seeds and configs


@detector(SEED_COUNT, level="log")
def too_few_seeds(ev: EvidenceSet) -> Iterator[Finding]:
    scored = ev.scored
    if not scored:
        return
    known = [s.seed for s in scored if s.seed is not None]
    distinct = sorted(set(known))
    unknown = len(scored) - len(known)
    if len(distinct) < MIN_SEEDS:
        extra = f" and {unknown} log(s) without a seed" if unknown else ""
        yield Finding.of(
            SEED_COUNT,
            f"{len(distinct)} distinct seed(s) ({_fmt(distinct) or 'none'}){extra}; "
            f"a record needs at least {MIN_SEEDS} from the same configuration",
            evidence="; ".join(s.label for s in scored),
            level="log",
            fix=f"add logs of {MIN_SEEDS - len(distinct)} more seed(s) run with the same "
            "configuration",
        )
    for seed, count in Counter(known).items():
        if count > 1:
            logs = [s.log or "?" for s in scored if s.seed == seed]
            yield Finding.of(
                SEED_COUNT,
                f"seed {seed} appears in {count} different logs of the averaged runs "
                f"({', '.join(logs)}); it counts once",
                level="log",
                fix="average distinct seeds only",
            )
    if ev.claimed and ev.claimed.seeds:
        missing = sorted(set(ev.claimed.seeds) - set(known) - {s.seed for s in ev.other_runs})
        if missing:
            yield Finding.of(
                SEED_COUNT,
                f"submission.json lists seed(s) {_fmt(missing)} but no log of them was found",
                file="submission.json",
                level="log",
                fix="add the train log of every claimed seed",
            )
    for s in ev.seeds:
        if s.runs_in_log > 1:
            yield Finding.of(
                SEED_COUNT,
                f"{s.log} holds {s.runs_in_log} training runs one after another; only the "
                "last one is read as a seed",
                file=s.log,
                level="log",
                fix="commit one log per run",
            )
    for copy, original in ev.duplicate_logs:
        yield Finding.of(
            SEED_COUNT,
            f"{copy} is a byte-identical copy of {original}; counted once",
            severity="info",
            file=copy,
            level="log",
        )


@detector(SAME_CONFIG, level="log")
def mixed_configurations(ev: EvidenceSet) -> Iterator[Finding]:
    scored = [s for s in ev.scored if s.hyperparameters]
    if len(scored) >= 2:
        common = set.intersection(*(set(s.hyperparameters) for s in scored))
        differing = sorted(k for k in common if len({s.hyperparameters[k] for s in scored}) > 1)
        provenance = [k for k in differing if k in PROVENANCE_KEYS]
        differing = [k for k in differing if k not in PROVENANCE_KEYS]
        if provenance:
            detail = "; ".join(
                f"{k}: " + ", ".join(f"{s.seed}={s.hyperparameters[k]}" for s in scored)
                for k in provenance
            )
            yield Finding.of(
                SAME_CONFIG,
                f"the averaged seeds ran on different copies of the training data ({detail})",
                severity="warning",
                evidence=detail,
                level="log",
                fix="run every seed on the canonical training shards",
            )
        if differing:
            detail = "; ".join(
                f"{k}: " + ", ".join(f"{s.seed}={s.hyperparameters[k]}" for s in scored)
                for k in differing[:4]
            )
            more = f" (+{len(differing) - 4} more)" if len(differing) > 4 else ""
            # TTT settings that differ when the claimed score is no TTT score only change a
            # pass after it (a diagnostic TTT run): worth a look, not a failure.
            off_path = all("ttt" in k.lower() for k in differing) and not any(
                "ttt" in (s.headline_kind or "").lower() for s in scored
            )
            yield Finding.of(
                SAME_CONFIG,
                f"the averaged seeds differ in {len(differing)} setting(s) besides the seed: "
                f"{', '.join(differing[:6])}{more}"
                + (
                    " (test-time-training settings only, and the claimed score is no TTT "
                    "score: they change a pass after it)"
                    if off_path
                    else ""
                ),
                severity="warning" if off_path else "error",
                evidence=detail,
                level="log",
                fix="average only runs of the submitted configuration; rerun the others",
            )
    kinds = {s.headline_kind for s in ev.scored if s.headline_kind}
    if len(kinds) > 1:
        yield Finding.of(
            SAME_CONFIG,
            "the seeds end on different final score lines: "
            + ", ".join(f"{s.seed}={s.headline_kind}" for s in ev.scored),
            severity="warning",
            level="log",
            fix="run every seed through the same evaluation path (or pass --headline)",
        )


@detector(SAME_CONFIG, SEED_COUNT, level="log")
def evidence_levels_disagree(ev: EvidenceSet) -> Iterator[Finding]:
    """The README's run command against the settings the logs echo, and the seed a log's
    name promises against the seed it ran: two descriptions of one run must agree."""
    for s in ev.seeds:
        named = seed_in_name(s.log)
        if named is not None and s.seed is not None and s.seed_source == "log" and named != s.seed:
            yield Finding.of(
                SEED_COUNT,
                f"{s.log} is named for seed {named} but the run printed seed {s.seed}",
                severity="warning",
                file=s.log,
                line=1,
                level="log",
                fix=f"name the log after the seed it ran (seed {s.seed})",
            )
    readme = ev.folder / "README.md" if ev.folder is not None else None
    logged = [s for s in ev.scored if s.hyperparameters]
    if readme is None or not readme.is_file() or not logged:
        return
    from golf_check.harness.static.runconfig import readme_config, same_value

    for setting in readme_config(readme, "train_gpt.py").entries:
        key = setting.key.lower()
        if key in ("seed", "run_id") or not all(key in s.hyperparameters for s in logged):
            continue
        ran = {s.hyperparameters[key] for s in logged}
        if all(same_value(setting.value, value) for value in ran):
            continue
        yield Finding.of(
            SAME_CONFIG,
            f"the README's run command sets {setting.key}={setting.value} ({setting.source}) "
            f"but the logs ran {key} = {', '.join(sorted(ran))}",
            severity="warning",
            file="README.md",
            line=int(setting.source.rsplit(":", 1)[-1]) if ":" in setting.source else 1,
            evidence=f"{setting.source}: {setting.key}={setting.value}",
            level="log",
            fix="make the README's command the one the logged runs used",
        )


# ---------------------------------------------------------------------- claims


@detector(CLAIM_MISMATCH, level="log")
def claim_not_the_mean(ev: EvidenceSet) -> Iterator[Finding]:
    claims = ev.claimed
    scored = ev.scored
    if claims is None or not scored:
        return
    logged = {s.seed for s in scored}
    missing = [seed for seed in claims.seeds if seed not in logged]
    gap = (
        f"; submission.json lists seed(s) {_fmt(claims.seeds)} and only "
        f"{_fmt(sorted(x for x in logged if x is not None)) or 'no seed'} has a log here"
        if missing
        else ""
    )
    if claims.val_bpb is not None:
        yield from _compare_mean(
            "val_bpb",
            claims.val_bpb,
            claims.val_bpb_key or "val_bpb",
            claims.val_bpb_decimals,
            scored,
            gap,
        )
    if claims.val_loss is not None and all(s.val_loss is not None for s in scored):
        yield from _compare_mean(
            "val_loss", claims.val_loss, "val_loss", claims.val_loss_decimals, scored
        )
    for s in scored:
        for key in ("val_bpb", "val_loss"):
            claimed = s.claimed.get(key)
            measured = getattr(s, key)
            if claimed is None or measured is None:
                continue
            decimals = len(repr(float(claimed)).split(".")[-1])
            printed = s.bpb_decimals if key == "val_bpb" else s.loss_decimals
            tol = st.claim_vs_printed_tolerance(decimals, printed)
            if tol < abs(claimed - measured) <= tol + st.last_digit_slack(min(decimals, printed)):
                yield seed_finding(
                    CLAIM_MISMATCH,
                    s,
                    f"submission.json claims {key} {claimed} for this seed, the "
                    f"log's {s.headline_kind} line says {measured}: they differ only in the "
                    "last printed digit",
                    severity="info",
                    file="submission.json",
                    evidence=f"claimed {claimed}; log line {s.headline_line}: {measured}",
                )
            elif abs(claimed - measured) > tol:
                yield seed_finding(
                    CLAIM_MISMATCH,
                    s,
                    f"submission.json claims {key} {claimed} for this seed, "
                    f"the log's {s.headline_kind} line says {measured:.8f}",
                    severity="error" if claimed < measured else "warning",
                    file="submission.json",
                    evidence=f"claimed {claimed}; log line {s.headline_line}: {measured}",
                    fix=f"set the seed's {key} to {measured:.8f}",
                )
        claimed_bytes = s.claimed.get("artifact_bytes")
        if claimed_bytes is not None and s.artifact_bytes is not None:
            if claimed_bytes != s.artifact_bytes:
                yield seed_finding(
                    CLAIM_MISMATCH,
                    s,
                    f"submission.json claims {claimed_bytes:,} artifact bytes, "
                    f"the log says {s.artifact_bytes:,}",
                    severity="warning",
                    file="submission.json",
                    fix=f"set the seed's artifact_bytes to {s.artifact_bytes}",
                )


def _compare_mean(
    metric: str,
    claimed: float,
    key: str,
    decimals: int,
    scored: list[SeedEvidence],
    gap: str = "",
) -> Iterator[Finding]:
    values = [getattr(s, metric) for s in scored]
    recomputed = st.mean(values)
    # The per-seed lines are rounded too: their mean is only known to half their last digit.
    printed = min(s.bpb_decimals if metric == "val_bpb" else s.loss_decimals for s in scored)
    tol = st.claim_vs_printed_tolerance(decimals, printed)
    if recomputed is None or abs(claimed - recomputed) <= tol:
        return
    n = len(values)
    same_as = [s for s in scored if abs(getattr(s, metric) - claimed) <= tol]
    if abs(claimed - recomputed) <= tol + st.last_digit_slack(decimals):
        severity = "info"
        message = (
            f"submission.json {key} {claimed} differs from the mean of the per-seed headlines "
            f"{recomputed:.8f} only in its last printed digit (a rounding slip, not a claim "
            "the logs contradict)"
        )
    elif same_as and n > 1:
        seed = same_as[0]
        rank = "the best" if getattr(seed, metric) == min(values) else "one"
        severity = "warning"
        message = (
            f"submission.json {key} {claimed} is {rank} of {n} seeds ({seed.label}), "
            f"not the {n}-seed mean {recomputed:.8f}"
        )
    else:
        better = claimed < recomputed
        severity = "error" if better else "warning"
        message = (
            f"submission.json {key} {claimed} does not match the mean of the per-seed "
            f"headlines {recomputed:.8f} (difference {claimed - recomputed:+.6f}, "
            f"tolerance {tol:.1g})"
            + ("; the claim is better than the evidence" if better else "")
            + gap
        )
    yield _claim_against_seeds(
        CLAIM_MISMATCH,
        message,
        metric,
        values,
        severity=severity,
        fix=f'claim the mean: "{metric}": {recomputed:.8f}',
    )


def _claim_against_seeds(
    rule: Rule, message: str, metric: str, values: list, **fields: Any
) -> Finding:
    """A finding on a figure submission.json claims, with the per-seed values it was
    recomputed from as its evidence."""
    return Finding.of(
        rule,
        message,
        file="submission.json",
        evidence=f"per-seed {metric}: {_fmt(values)}",
        level="log",
        **fields,
    )


@detector(STD_MISMATCH, level="log")
def claimed_std_wrong(ev: EvidenceSet) -> Iterator[Finding]:
    claims = ev.claimed
    values = [s.val_bpb for s in ev.scored]
    if claims is None or claims.val_bpb_std is None or len(values) < 2:
        return
    sample, population = st.std(values), st.pstd(values)
    tol = 0.5 * 10.0**-claims.val_bpb_std_decimals + 1e-9
    if min(abs(claims.val_bpb_std - sample), abs(claims.val_bpb_std - population)) > tol:
        yield _claim_against_seeds(
            STD_MISMATCH,
            f"submission.json {claims.val_bpb_std_key} {claims.val_bpb_std} but the per-seed "
            f"val_bpb give std {sample:.6f} (n-1) / {population:.6f} (n)",
            "val_bpb",
            values,
            fix=f"set {claims.val_bpb_std_key} to {sample:.6f}",
        )


# ---------------------------------------------------------------------- accounting


@detector(BPB_BYTES, level="log")
def implied_bytes_off(ev: EvidenceSet) -> Iterator[Finding]:
    for s in ev.scored:
        if s.val_loss is None or not s.val_tokens:
            continue
        implied = canonical.implied_bytes(s.val_loss, s.val_bpb, s.val_tokens)
        if implied is None:
            continue
        if ev.split is not None:
            yield from _implied_bytes_vs_measured(ev, s, implied)
            continue
        # A canonical token count names its export (the pre-launch one has other bytes).
        family = (
            canonical.family_from_tokens(s.val_tokens) or s.tokenizer_family or ev.tokenizer_family
        )
        nearest, deviation = canonical.nearest_canonical(implied, family)
        tol = canonical.BYTES_REL_TOL + canonical.rounding_tolerance(
            s.loss_decimals, s.bpb_decimals, s.val_loss, s.val_bpb
        )
        if abs(deviation) <= tol:
            continue
        yield _implied_bytes_finding(
            s,
            implied,
            implied / nearest,
            f"the canonical {nearest:,}",
            f"canonical {nearest:,} ({family or 'any family'})",
        )


def _implied_bytes_vs_measured(ev: EvidenceSet, s: SeedEvidence, implied: float):
    """On non-canonical data, the bytes golf-check counted itself are the reference."""
    split = ev.split
    if not split.target_bytes or s.val_tokens != split.tokens:
        return  # a partial split is EVIDENCE.full-val's finding; no byte reference for it
    # Scripts count val_tokens as the stream (N) or as the targets (N-1): allow that one token.
    tol = canonical.BYTES_REL_TOL + 1.0 / split.tokens
    tol += canonical.rounding_tolerance(s.loss_decimals, s.bpb_decimals, s.val_loss, s.val_bpb)
    ratio = implied / split.target_bytes
    if abs(ratio - 1.0) <= tol:
        return
    yield _implied_bytes_finding(
        s,
        implied,
        ratio,
        f"the {split.target_bytes:,} golf-check counted on the {split.name}",
        f"measured {split.target_bytes:,}",
    )


def _implied_bytes_finding(
    s: SeedEvidence, implied: float, ratio: float, reference: str, reference_evidence: str
) -> Finding:
    """The bytes a seed's headline implies are ``ratio`` times ``reference``, the byte count
    they should be (a known mistake's ratio is named)."""
    known = canonical.fingerprint(ratio)
    return seed_finding(
        BPB_BYTES,
        s,
        f"val_loss {s.val_loss} / ln2 x {s.val_tokens:,} tokens / val_bpb {s.val_bpb} implies "
        f"{implied:,.0f} bytes, x{ratio:.4f} {reference}" + (f" ({known})" if known else ""),
        line=s.headline_line,
        evidence=f"implied bytes {implied:,.0f}; {reference_evidence}",
        fix="compute bytes per token from the SentencePiece pieces exactly once "
        "(leading space +1 only after a non-boundary token); see issue #1719",
    )


@detector(FULL_VAL, level="log")
def partial_validation(ev: EvidenceSet) -> Iterator[Finding]:
    for s in ev.seeds:
        if ev.split is not None and s.val_tokens is not None:
            if s.val_tokens != ev.split.tokens:
                yield seed_finding(
                    FULL_VAL,
                    s,
                    f"{s.val_tokens:,} validation tokens, but the {ev.split.name} "
                    f"golf-check loaded has {ev.split.tokens:,}",
                    line=s.val_tokens_line,
                    evidence=f"val_tokens {s.val_tokens}; measured {ev.split.tokens}",
                    fix="evaluate on every validation shard the run was given",
                )
            continue
        if s.val_tokens is None:
            if s.complete and s.val_bpb is not None:
                yield seed_finding(
                    FULL_VAL,
                    s,
                    "the log does not print the validation token count",
                    severity="warning",
                    confidence="medium",
                    fix="log `val_tokens: N` so the full split can be checked",
                )
            continue
        family = s.tokenizer_family or ev.tokenizer_family
        by_tokens = canonical.family_from_tokens(s.val_tokens)
        if by_tokens is None:
            expected = canonical.BY_NAME[family].val_tokens if family in canonical.BY_NAME else None
            want = (
                f"{family} expects {', '.join(f'{t:,}' for t in expected)}"
                if expected
                else "no tokenizer family has this count"
            )
            yield seed_finding(
                FULL_VAL,
                s,
                f"{s.val_tokens:,} validation tokens is not a full canonical split ({want})",
                line=s.val_tokens_line,
                evidence=f"val_tokens {s.val_tokens}",
                fix="evaluate on every fineweb_val_* shard of the canonical export",
            )
        elif canonical.BY_NAME[by_tokens].legacy:
            yield seed_finding(
                FULL_VAL,
                s,
                f"{s.val_tokens:,} validation tokens is "
                f"{canonical.BY_NAME[by_tokens].note}, not the split used since launch",
                severity="warning",
                line=s.val_tokens_line,
                fix="evaluate on the current canonical export",
            )
        elif family and family != by_tokens and family in canonical.BY_NAME:
            yield seed_finding(
                FULL_VAL,
                s,
                f"{s.val_tokens:,} tokens is the canonical count for {by_tokens}, "
                f"but the run's tokenizer looks like {family}",
                severity="warning",
                confidence="medium",
                line=s.val_tokens_line,
            )


@detector(INCOMPLETE_LOG, level="log")
def log_stops_early(ev: EvidenceSet) -> Iterator[Finding]:
    for s in ev.seeds:
        if not s.complete:
            yield seed_finding(
                INCOMPLETE_LOG,
                s,
                s.incomplete_reason or "the log is incomplete",
                fix="commit the full log of a run that finished its evaluation",
            )
    for path in ev.unscored_logs:
        yield Finding.of(
            INCOMPLETE_LOG,
            f"{path}: a train log without any final score line",
            file=path,
            level="log",
            fix="commit the full log of a run that finished its evaluation",
        )


# ---------------------------------------------------------------------- significance


@detector(SIGNIFICANCE, level="log")
def not_significant(ev: EvidenceSet) -> Iterator[Finding]:
    for r in st.significance_results(ev):
        if not r.gates:
            continue
        label = ev.baseline.label if ev.baseline else "the baseline"
        figures = (
            f"n={r.n_new} mean {r.metric} {r.mean_new:.6f} vs {label} {r.mean_base:.6f}"
            if r.mean_new is not None and r.mean_base is not None
            else f"n={r.n_new}"
        )
        if r.passed is None:
            yield Finding.of(
                SIGNIFICANCE,
                f"{r.policy} policy: the significance test cannot be run ({r.reason}); {figures}",
                severity="warning",
                level="log",
                fix="provide at least 3 seeds (and a baseline with per-seed values)",
            )
        elif not r.passed:
            p = "undefined" if r.p is None else f"{r.p:.4g}"
            need = f" by at least {r.margin:.5g}" if r.margin else ""
            yield Finding.of(
                SIGNIFICANCE,
                f"{r.policy} policy: not a significant improvement{need} over {label}: "
                f"{r.test}, t={r.t if r.t is None else round(r.t, 3)}, "
                f"df={r.df if r.df is None else round(r.df, 2)}, p={p} "
                f"(needs p < {r.alpha}); {figures}",
                level="log",
                fix="add seeds or a larger improvement; the README asks for 0.005 nats at p < 0.01",
            )


# ---------------------------------------------------------------------- run reports

# A log may round its timers, and a loop timer may leave out setup; it under-reports only
# when it falls short of the measured time by more than 5 s or 5% of it, whichever is larger.
UNDER_REPORT_SLACK_S = 5.0
UNDER_REPORT_FRACTION = 0.05


def under_reports(printed: float, measured: float) -> bool:
    """Whether a time the log prints is shorter than the harness measured, past rounding."""
    return printed < measured - max(UNDER_REPORT_SLACK_S, UNDER_REPORT_FRACTION * measured)


def _short_time(measured: float | None, printed: float | None) -> str | None:
    """The evidence of a log timer that under-reports what the harness measured (a warning),
    or None when it does not or a figure is missing."""
    if measured is None or printed is None or not under_reports(printed, measured):
        return None
    return f"measured {measured:.1f} s; printed {printed:.1f} s"


@detector(LOG_MISMATCH, level="log")
def printed_differs_from_measured(ev: EvidenceSet) -> Iterator[Finding]:
    for s in ev.seeds:
        if s.source != "measured" or not s.printed:
            continue
        # (figure, how far the log's may stray, how it is shown): scores past float noise,
        # counts not at all
        for key, tolerance, shown in (
            ("val_bpb", 1e-6, ""),
            ("val_loss", 1e-6, ""),
            ("artifact_bytes", 0, ","),
            ("val_tokens", 0, ","),
        ):
            measured, printed = getattr(s, key), s.printed.get(key)
            if measured is not None and printed is not None and abs(measured - printed) > tolerance:
                yield seed_finding(
                    LOG_MISMATCH,
                    s,
                    f"the harness measured {key} {measured:{shown}}, "
                    f"the log prints {printed:{shown}}",
                    evidence=f"measured {measured}; printed {printed}",
                )
        for key in ("train_time_s", "eval_time_s"):
            measured, printed = getattr(s, key), s.printed.get(key)
            short = _short_time(measured, printed)
            if short:
                yield seed_finding(
                    LOG_MISMATCH,
                    s,
                    f"the log reports {key} {printed:.1f} s, the harness measured {measured:.1f} s",
                    severity="warning",
                    evidence=short,
                )


@detector(LOG_MISMATCH, level="runtime")
def printed_train_time(audit) -> Iterator[Finding]:
    """The training loop the log reports against the loop the trace saw (first optimizer
    step to the last training step or shard read before the artifact)."""
    measured, printed = audit.timing.train_convention_s, audit.printed_train_s
    short = _short_time(measured, printed)
    if short:
        yield audit_finding(
            LOG_MISMATCH,
            audit,
            f"the log reports a {printed:.1f} s training loop, the trace saw optimizer steps "
            f"over {measured:.1f} s",
            severity="warning",
            evidence=short,
            level="runtime",
        )


@detector(FULL_VAL, level="runtime")
def partial_split(audit) -> Iterator[Finding]:
    """On data that is not a canonical export, the split is the stream golf-check loaded."""
    if audit.stream_is_canonical or audit.failure is not None:
        return
    n = int(audit.stream.tokens.size)
    scored = audit.val_tokens
    if scored is not None and scored != n:
        yield audit_finding(
            FULL_VAL,
            audit,
            f"evaluated {scored:,} validation tokens of the {n:,}-token split in the data folder",
            evidence=f"val_tokens {scored}; split {n}",
            level="runtime",
            fix="evaluate the whole validation split (no VAL_TOKEN_LIMIT)",
        )
