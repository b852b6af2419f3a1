"""C3, score before update: each token is scored with the state from before any update
that used it (issue #1017 C3; README 2026-03-20; issue #402)."""

from __future__ import annotations

from collections.abc import Iterator

from golf_check.harness.evidence.levels import ledger_finding, positions_finding, seed_finding
from golf_check.harness.evidence.model import EvidenceSet
from golf_check.harness.evidence.passes import rescored_pass
from golf_check.harness.report import Finding
from golf_check.harness.rulebook import detector, rule

PRETRAIN_ON_VAL = rule(
    "C3.pretrain-on-val",
    "C3",
    "No adaptation on validation tokens before they are scored",
    """
Test-time training may only use validation tokens that have already been scored. A pass
that fine-tunes on the validation set (several epochs over `val_tokens`) and then runs the
scoring evaluation reports a score for tokens the model has already trained on: it is
training on the test set, whatever the packaging. The legal form scores each chunk first
and trains on it afterwards (see C3.update-before-score).

Example:
    ttt_adapt(base_model, val_tokens, epochs=30)   # trains on all of val
    val_loss, val_bpb = eval_val_sliding(base_model, val_tokens)   # then scores it
""",
    [
        "https://github.com/openai/parameter-golf/issues/402",
        "https://github.com/openai/parameter-golf/issues/1017",
        "https://github.com/openai/parameter-golf/pull/757",
        "https://github.com/openai/parameter-golf/issues/1082",
    ],
)

PREQUANT_TTT = rule(
    "C3.prequant-ttt",
    "C3",
    "No fine-tuning on validation tokens baked into the artifact before quantization",
    """
"Pre-quant TTT" fine-tunes the trained model on the validation tokens and only then
quantizes and serializes it, so the shipped artifact already encodes the validation set.
Every later score is taken with a state that has seen the tokens. Closed as illegal
(PR #1376 and its cluster); claiming a "fixed predictor" track does not change that.

Example:
    prequant_ttt_adapt_adamw(base_model, val_tokens, epochs=8)
    quant_blob = quantize_and_compress(base_model.state_dict())
""",
    [
        "https://github.com/openai/parameter-golf/pull/1376",
        "https://github.com/openai/parameter-golf/issues/677",
        "https://github.com/openai/parameter-golf/issues/1017",
    ],
)

UPDATE_BEFORE_SCORE = rule(
    "C3.update-before-score",
    "C3",
    "Inside a chunk loop, the update must come after the chunk is scored",
    """
Score-first test-time training is legal: score chunk k under `torch.inference_mode()`, add it
to the totals, then train on chunk k, then move on. Placing the optimizer step before the
scoring of the same chunk means every chunk is scored by a model that has just trained on it.

Example (illegal order):
    for ci in range(num_chunks):
        train_on(chunk)            # update first
        with torch.inference_mode():
            loss_sum += score(chunk)   # then score the same tokens
""",
    [
        "https://github.com/openai/parameter-golf/issues/1017",
        "https://github.com/openai/parameter-golf/issues/402",
        "https://github.com/openai/parameter-golf/pull/549",
    ],
)

WARMUP_ON_VAL = rule(
    "C3.warmup-on-val",
    "C3",
    "Compile warm-up must not take gradient steps on validation tokens",
    """
Warming up `torch.compile` for the test-time-training path with real backward passes and
optimizer steps on validation tokens updates the model on tokens before they are scored,
even if the weights are restored afterwards (optimizer state, numerics and kernels may keep
traces). Warm up on random or training tokens, or without stepping. This is reviewer
consensus that was not enforced retroactively (merged records warmed up on validation
tokens), so golf-check reports it as a warning.

Example:
    for _ in range(warmup_steps):
        loss = model(val_tokens[:n], val_tokens[1:n + 1]); loss.backward(); opt.step()
""",
    [
        "https://github.com/openai/parameter-golf/pull/1530",
        "https://github.com/openai/parameter-golf/pull/1900",
    ],
    severity="warning",
)

_FIX_PRETRAIN = (
    "score each chunk under torch.inference_mode() first, then train on that chunk only "
    "(score-first TTT), and never train on the last chunk"
)


@detector(PRETRAIN_ON_VAL, PREQUANT_TTT, UPDATE_BEFORE_SCORE, WARMUP_ON_VAL, level="static")
def adaptation_order(model):
    """Updates on validation tokens that are not preceded by the scoring of those tokens; which
    C3 rule a finding gets follows the classification in the table above (update-before-score,
    pretrain, prequant, warmup).

    Confidence: high.

    Cannot see: updates through callbacks or ``functools.partial``; scoring reached only through
    function objects passed as arguments.
    """
    from golf_check.harness.static.adaptation import adaptations

    for a in adaptations(model):
        if a.slot_param and a.kind in ("update-before-score", "pretrain"):
            continue  # reported as C1.slot
        if a.kind == "pretrain":
            scored = model.script.line_text(getattr(a.scored_at, "lineno", None))
            broken, at, fix = PRETRAIN_ON_VAL, a.report_at, _FIX_PRETRAIN
            message = (
                f"adapts on validation tokens (backward at line {a.site.lineno}, in "
                f"{a.where}) and scores them afterwards"
                + (f" (line {a.scored_at.lineno}: {scored})" if a.scored_at else "")
            )
        elif a.kind == "prequant":
            broken, at = PREQUANT_TTT, a.report_at
            message = (
                f"fine-tunes on validation tokens (backward at line {a.site.lineno}, in "
                f"{a.where}) before the model is quantized/serialized "
                f"(line {getattr(a.scored_at, 'lineno', '?')})"
            )
            fix = (
                "remove the pre-quantization pass over validation tokens; adapt only "
                "score-first at evaluation time"
            )
        elif a.kind == "update-before-score":
            broken, at = UPDATE_BEFORE_SCORE, a.site
            scored_line = getattr(a.scored_at, "lineno", 0)
            if scored_line and scored_line < a.site.lineno:
                message = (
                    f"validation tokens are scored (line {scored_line}) inside a loop over "
                    f"epochs that also trains on them (line {a.site.lineno}): later epochs "
                    "score tokens the model has already trained on"
                )
            else:
                message = (
                    f"the update on validation tokens (line {a.site.lineno}) comes before the "
                    f"scoring in the same loop (line {scored_line or '?'}), so each chunk is "
                    "scored after training on it"
                )
            fix = "score each chunk once, before any training on it, outside the epoch loop"
        elif a.kind == "warmup":
            broken, at = WARMUP_ON_VAL, a.site
            message = (
                f"warm-up takes gradient steps on validation tokens (line {a.site.lineno}, "
                f"in {a.where}) before they are scored"
            )
            fix = "warm up on random or training tokens, or run the warm-up without optimizer steps"
        else:
            continue
        yield model.finding(broken, at, message, fix=fix, gate_nodes=a.chain)


# --------------------------------------------------------------------------- runtime, ledger
# `golf-check run` detectors: each receives one harness.runtime.session.SeedAudit.


@detector(UPDATE_BEFORE_SCORE, level="runtime")
def updated_before_scored(audit):
    """Trace: an update during evaluation used positions no no-grad pass had covered yet."""
    cov = audit.coverage
    if cov is None or not cov.unscored_updates:
        return
    yield positions_finding(
        UPDATE_BEFORE_SCORE,
        audit,
        f"during evaluation, updates used {cov.unscored_updates:,} validation positions "
        "before any no-grad pass had scored them",
        cov.unscored_update_positions,
        confidence="medium",  # a script that scores with gradients enabled would look the same
        fix="score each chunk under torch.no_grad() before training on it",
    )


@detector(UPDATE_BEFORE_SCORE, PRETRAIN_ON_VAL, level="ledger")
def ledger_score_before_update(audit):
    """Ledger: an adapting() call on positions not yet scored in its pass (exact)."""
    for v in audit.ledger_violations("C3"):
        outside = v.pass_name.startswith("(")
        yield ledger_finding(
            PRETRAIN_ON_VAL if outside else UPDATE_BEFORE_SCORE,
            audit,
            v,
            fix="adapt on a chunk only after its score is committed",
        )


# --------------------------------------------------------------------------- log
# `verify` and `ci` detectors: each receives the record folder's EvidenceSet.


@detector(PRETRAIN_ON_VAL, PREQUANT_TTT, level="log")
def trained_over_split_before_scoring(ev: EvidenceSet) -> Iterator[Finding]:
    """A log that trains whole epochs over the validation tokens, then scores them in a later
    pass (the C4.rescore story, with no score of its own from the adaptation pass)."""
    for seed in ev.seeds:
        r = rescored_pass(seed)
        if r is None:
            continue
        head, end, own = r.head, r.end, r.own
        if end.epochs and end.epochs > 1 and own is None:
            # Whole epochs over the split, then scoring: every token was trained on first.
            trained = PREQUANT_TTT if "quant" in end.name.lower() else PRETRAIN_ON_VAL
            yield seed_finding(
                trained,
                seed,
                f"the log trains {end.epochs} epochs of {end.name} over the validation tokens "
                f"(ended L{end.line}) before the pass that scores them (L{head.line}): every "
                "token is scored by a model already trained on it",
                line=end.line,
                evidence=" | ".join(r.story),
                fix="adapt only on tokens already scored (score-first, chunk by chunk)",
            )
