"""The canary (C1/C2, black-box): a secret validation split with a known code length.

golf-check draws a fresh secret key and, from it, a synthetic validation split shaped like
the real one (``canary_source``): as many tokens, the same document boundaries, the real
unigram frequencies over the whole vocabulary, and keyed bigram rows. It knows the exact
probability p(x_t | x_<t) of every token under that process, so the ideal code length of the
scored positions S is sum_{t in S} -ln p(x_t | x_<t).

For any predictor that is causal (C1) and normalized (C2), the ratio of its probability of
the stream to the source's, q(x_S) / p(x_S), is a nonnegative martingale with mean at most 1
under the source. Ville's inequality then gives P(q/p >= 1/alpha) <= alpha: its total loss
falls below the ideal code length minus ln(1/alpha) with probability at most alpha, however it
was trained or adapted (test-time training included). A total under that bound proves a
violation with error probability alpha.

The split is served where the real one was (``canary_data``): same path, file names,
headers, sizes; the run gets a fresh secret seed and a folder named like a seed's, renamed
``canary/`` afterwards. What the total is depends on the evidence: with a ledger, the losses
the script reported position by position, over exactly the positions it scored; without
one, the loss the script printed times the number of positions the trace saw scored, against
the least surprising run of that many consecutive positions. Without the ledger the canary
judges the loss the script printed, not a loss golf-check computed.
"""

from __future__ import annotations

import dataclasses
import math
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from golf_check.harness.runtime import canary_source
from golf_check.harness.runtime.canary_data import serve, served_dir
from golf_check.harness.runtime.session import RunOptions, SeedAudit, Stream, run_seed
from golf_check.harness.runtime.valindex import build_index

PRINTED = "printed"  # judged on the loss the script printed (no ledger)
LEDGER = "ledger"  # judged on the ledger's per-position losses


@dataclass
class CanaryResult:
    supported: bool
    reason: str = ""
    n_tokens: int = 0  # length of the canary split (= the real one)
    alpha: float = 1e-3
    scored: int | None = None  # positions behind the total that is judged
    scored_basis: str = ""
    judged: str = ""  # LEDGER or PRINTED
    val_loss: float | None = None  # what the score line printed
    ledger_nats: float | None = None  # the ledger's total over the scored positions
    ideal_nats: float | None = None  # sum of -ln p over those positions, under the source
    headline_kind: str | None = None
    source: dict[str, Any] = field(default_factory=dict)  # the process's parameters
    key_seed: int | None = None  # revealed after the run, for reproduction
    run_seed: int | None = None  # the SEED the canary run was given

    @property
    def bound_nats(self) -> float | None:
        ideal = self.ideal_nats
        return None if ideal is None else ideal - math.log(1.0 / self.alpha)

    @property
    def observed_nats(self) -> float | None:
        if self.judged == LEDGER:
            return self.ledger_nats
        if self.val_loss is None or self.scored is None:
            return None
        return self.val_loss * self.scored

    @property
    def violated(self) -> bool:
        obs, bound = self.observed_nats, self.bound_nats
        return obs is not None and bound is not None and obs < bound

    @property
    def judges(self) -> str:
        if self.judged == LEDGER:
            return "the losses the ledger reported for each scored position"
        return "the loss the script printed (no ledger): not a loss golf-check computed"

    def summary(self) -> str:
        if not self.supported:
            return f"not run: {self.reason}"
        if self.observed_nats is None or self.ideal_nats is None:
            return f"inconclusive: {self.reason or 'no score on the canary split'}"
        verdict = "VIOLATED" if self.violated else "ok"
        per_obs = self.observed_nats / max(self.scored or 1, 1)
        per_ideal = self.ideal_nats / max(self.scored or 1, 1)
        return (
            f"{verdict}: {self.scored} positions, observed {self.observed_nats:.1f} nats vs "
            f"bound {self.bound_nats:.1f} (= ideal {self.ideal_nats:.1f} - ln(1/{self.alpha:g})), "
            f"per token {per_obs:.4f} vs ideal {per_ideal:.4f}; judged on {self.judges}"
        )

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self) | {
            "bound_nats": self.bound_nats,
            "observed_nats": self.observed_nats,
            "violated": self.violated,
            "judges": self.judges,
        }


def run_canary(
    opts: RunOptions, audit: SeedAudit, stream: Stream, key_seed: int | None = None
) -> CanaryResult:
    if stream.lut is None:
        return CanaryResult(False, "needs the tokenizer, to know the vocabulary")
    lut = stream.lut
    key = secrets.randbits(63) if key_seed is None else key_seed
    n = int(stream.tokens.size)
    source = canary_source.make_source(stream.tokens, lut.is_boundary, key)
    tokens, nats = canary_source.draw(source, stream.tokens, lut.is_boundary, key)
    run_seed_value = _fresh_seed(opts.seeds)
    result = CanaryResult(
        True,
        n_tokens=n,
        alpha=opts.canary_alpha,
        key_seed=key,
        run_seed=run_seed_value,
        source={
            "process": "keyed bigram rows mixed with the real unigram, real document bounds",
            "successors": canary_source.SUCCESSORS,
            "mix": source.mix,
            "concentration": canary_source.CONCENTRATION,
            "lane": canary_source.LANE,
            "mean_nats_per_token": float(nats[1:].mean()) if n > 1 else None,
        },
    )
    name = f"seed{run_seed_value}"  # named like a seed's folder while the candidate runs
    run_dir = opts.out_dir / name
    env: dict[str, str] = {}
    if opts.target.is_reference and audit.artifact is not None:
        # evaluate the trained artifact on a prefix: no second training run
        artifact = run_dir / "audit" / audit.artifact.path.name
        artifact.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(audit.artifact.path, artifact)
        limit = str(min(int(opts.canary_tokens), n))
        env = {"EVAL_ONLY": "1", "LOAD_ARTIFACT": str(artifact), "VAL_TOKEN_LIMIT": limit}
    audits = tuple(a for a in opts.audits if a in ("trace", "ledger"))
    # run_seed serves the canary's shards where each run finds its validation split
    copts = dataclasses.replace(opts, audits=audits, served_val=tokens)
    token_bytes = np.zeros(n, dtype=np.int64)
    token_bytes[1:] = lut.stream_bytes(tokens)
    canary = Stream(tokens, stream.index_dir, lut, token_bytes)
    # The validation index and the split sit where the real ones were during the run.
    build_index(tokens, stream.index_dir)
    try:
        run = run_seed(copts, run_seed_value, canary, env_extra=env, name=name)
    finally:
        build_index(stream.tokens, stream.index_dir)
        serve(opts.data_dir, opts.out_dir)  # the real shards again
    _judge(result, run, nats, served_dir(opts.data_dir, opts.out_dir))
    _rename(run_dir, opts.out_dir / "canary")
    return result


def _judge(result: CanaryResult, run: SeedAudit, nats: np.ndarray, data_path: Path) -> None:
    result.headline_kind = run.headline.kind if run.headline else None
    elsewhere = sorted(
        {
            e.get("path", "")
            for e in run.trace.opens("val")
            if not e.get("path", "").startswith(str(data_path) + "/")
        }
    )
    if elsewhere:
        # Its score is on some other split: the bound would judge the wrong tokens.
        result.reason = (
            f"the run read validation shards outside DATA_PATH ({elsewhere[0]}), so its "
            "score is not on the canary split"
        )
        return
    if run.headline is None or run.failure:
        result.reason = run.failure or "no score line"
        return
    result.val_loss = run.headline.val_loss
    spans = _ledger_spans(run)
    if spans:
        judge_spans(result, spans, nats)
        return
    n = int(nats.size)
    result.judged = PRINTED
    if run.coverage is not None and run.coverage.nograd_positions > 1:
        result.scored = min(run.coverage.nograd_positions, n) - 1
        result.scored_basis = (
            "trace (positions covered), against the least surprising run of that many "
            "consecutive positions"
        )
    else:
        result.scored = n - 1
        result.scored_basis = "split length"
    result.ideal_nats = canary_source.min_window_sum(nats, result.scored)


def judge_spans(
    result: CanaryResult, spans: list[tuple[int, int, float]], nats: np.ndarray
) -> None:
    """Judge on the ledger's (start, end, nll_sum) spans of the headline's pass."""
    n = int(nats.size)
    times = np.zeros(n + 1, dtype=np.int64)  # how often each position was scored
    for s, e, _ in spans:
        start = min(max(s, 1), n)
        times[start] += 1
        times[max(min(e, n), start)] -= 1
    times = np.cumsum(times)[:n]
    scored = times > 0
    result.scored = int(scored.sum())
    result.ideal_nats = float(nats[scored].sum())
    if times.max() <= 1:
        result.judged = LEDGER
        result.ledger_nats = float(sum(s[2] for s in spans))
        result.scored_basis = "ledger (the positions the headline's pass scored)"
        return
    # Scored more than once (C4): the ledger holds every score, the headline reports one of
    # them; Ville speaks of one pass, so the printed loss is judged over those positions.
    result.judged = PRINTED
    result.scored_basis = "ledger positions (some scored twice: the printed loss is judged)"


def _ledger_spans(run: SeedAudit) -> list[tuple[int, int, float]]:
    """(start, end, nll_sum) of every span the headline's ledger pass scored."""
    if run.ledger is None or run.headline is None:
        return []
    from golf_check.harness.errors import InputError
    from golf_check.harness.ledger import read_ledger

    name = run.ledger_pass_for(run.headline.kind)
    try:
        events = read_ledger(run.run_dir / "audit" / "ledger")
    except InputError:
        return []
    return [
        (int(e["start"]), int(e["end"]), float(e.get("nll_sum", 0.0)))
        for e in events
        if e.get("event") == "scored" and (e.get("pass") or "?") == name
    ]


def _fresh_seed(taken: list[int]) -> int:
    """A seed like the ones people choose, not one of the run's own."""
    while True:
        seed = 1 + secrets.randbelow(9999)
        if seed not in taken:
            return seed


def _rename(run_dir: Path, target: Path) -> None:
    """Give the canary's run folder its plain name once the candidate is gone."""
    if not run_dir.is_dir():
        return
    final, i = target, 1
    while final.exists():
        i += 1
        final = target.with_name(f"{target.name}-{i}")
    run_dir.rename(final)
