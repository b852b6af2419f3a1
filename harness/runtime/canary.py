"""The canary (C1/C2, black-box): a secret validation stream with a known ideal code length.

golf-check draws a fresh secret key and writes a synthetic validation stream in which every
token is uniform over a subset of K ordinary tokens chosen by a keyed hash of the previous
token. Under this source every token has surprise exactly ln K, so the ideal total code
length of N scored tokens is N ln K.

For any predictor that is causal (C1) and normalized (C2), the ratio of its probability of
the stream to the source's, q(x_1..x_N) / p(x_1..x_N), is a nonnegative martingale with mean
1 under the source. Ville's inequality then gives P(q/p >= 1/alpha) <= alpha, i.e. its total
loss -ln q falls below N ln K - ln(1/alpha) with probability at most alpha, however it was
trained or adapted (test-time training included). A reported total val_loss x N under that
bound proves a violation with error probability alpha. It only catches gross violations
(a model trained on FineWeb is far from this source, so a cheat must first make up that gap),
and it relies on the script reading its validation data from DATA_PATH; the power table in
docs/run.md says which injected violations it catches at which length.
"""

from __future__ import annotations

import dataclasses
import math
import secrets
import shutil
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.runtime.flip import _data_dir
from harness.runtime.session import RunOptions, SeedAudit, Stream, run_seed
from harness.runtime.valindex import build_index

K_DEFAULT = 4  # subset size: ln 4 = 1.39 nats per token is the floor a legal scorer faces
ALPHABET_DEFAULT = 64  # tokens the stream uses: 64 contexts are learned within a short stream


@dataclass
class CanaryResult:
    supported: bool
    reason: str = ""
    n_tokens: int = 0  # length of the canary stream
    k: int = K_DEFAULT
    alphabet: int = ALPHABET_DEFAULT
    alpha: float = 1e-3
    scored: int | None = None  # tokens the run scored (the basis of its mean val_loss)
    scored_basis: str = ""
    val_loss: float | None = None
    headline_kind: str | None = None
    key_seed: int | None = None  # revealed after the run, for reproduction

    @property
    def ideal_nats(self) -> float | None:
        return None if self.scored is None else self.scored * math.log(self.k)

    @property
    def bound_nats(self) -> float | None:
        ideal = self.ideal_nats
        return None if ideal is None else ideal - math.log(1.0 / self.alpha)

    @property
    def observed_nats(self) -> float | None:
        if self.val_loss is None or self.scored is None:
            return None
        return self.val_loss * self.scored

    @property
    def violated(self) -> bool:
        obs, bound = self.observed_nats, self.bound_nats
        return obs is not None and bound is not None and obs < bound

    def summary(self) -> str:
        if not self.supported:
            return f"not run: {self.reason}"
        if self.observed_nats is None:
            return f"inconclusive: {self.reason or 'no score on the canary stream'}"
        verdict = "VIOLATED" if self.violated else "ok"
        return (
            f"{verdict}: {self.scored} tokens, observed {self.observed_nats:.1f} nats vs bound "
            f"{self.bound_nats:.1f} (= {self.scored} ln {self.k} - ln(1/{self.alpha:g})), "
            f"per token {self.val_loss:.4f} vs ln {self.k} = {math.log(self.k):.4f}"
        )

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self) | {
            "ideal_nats": self.ideal_nats,
            "bound_nats": self.bound_nats,
            "observed_nats": self.observed_nats,
            "violated": self.violated,
        }


def canary_stream(
    n: int, vocab: int, allowed: np.ndarray, bos: int, k: int, seed: int, alphabet: int = 0
) -> np.ndarray:
    """``n`` tokens: BOS, then each token uniform over the keyed subset of its predecessor.

    With ``alphabet`` > 0 the stream uses only that many (keyed) tokens, so an adaptive
    scorer (test-time training, online n-gram experts) can learn the subsets within the
    stream and approach the ln K floor from above: cheating then shows at shorter lengths.
    """
    rng = np.random.default_rng(seed)
    if alphabet:
        allowed = rng.choice(allowed, size=min(alphabet, allowed.size), replace=False)
    table = np.stack([rng.choice(allowed, size=k, replace=False) for _ in range(vocab)])
    picks = rng.integers(0, k, size=n)
    out = np.empty(n, dtype=np.uint16)
    out[0] = bos
    for i in range(1, n):
        out[i] = table[out[i - 1], picks[i]]
    return out


def run_canary(
    opts: RunOptions,
    audit: SeedAudit,
    stream: Stream,
    k: int = K_DEFAULT,
    key_seed: int | None = None,
    alphabet: int = ALPHABET_DEFAULT,
) -> CanaryResult:
    if stream.lut is None:
        return CanaryResult(False, "needs the tokenizer, to know the vocabulary")
    n = int(opts.canary_tokens)
    seed = secrets.randbits(63) if key_seed is None else key_seed
    vocab = stream.lut.vocab_size
    allowed = np.flatnonzero(~stream.lut.is_boundary)
    boundary = np.flatnonzero(stream.lut.is_boundary)
    # The real stream starts with its document marker; the canary does too.
    bos = (
        int(stream.tokens[0]) if stream.lut.is_boundary[int(stream.tokens[0])] else int(boundary[0])
    )
    tokens = canary_stream(n, vocab, allowed, bos, k, seed, alphabet)
    root = opts.out_dir / "canary"
    root.mkdir(parents=True, exist_ok=True)
    data_dir = _data_dir(root / "data", opts.data_dir, tokens)
    result = CanaryResult(
        True, n_tokens=n, k=k, alphabet=alphabet, alpha=opts.canary_alpha, key_seed=seed
    )
    env: dict[str, str] = {}
    audits = tuple(a for a in opts.audits if a in ("trace", "ledger"))
    if opts.target.is_reference and audit.artifact is not None:
        # evaluate the trained artifact: no second training run
        artifact = root / audit.artifact.path.name
        shutil.copyfile(audit.artifact.path, artifact)
        env = {"EVAL_ONLY": "1", "LOAD_ARTIFACT": str(artifact), "VAL_TOKEN_LIMIT": str(n)}
    copts = dataclasses.replace(opts, data_dir=data_dir, out_dir=root, audits=audits)
    canary = Stream(tokens, build_index(tokens, root / "valindex"), stream.lut, None)
    run = run_seed(copts, audit.seed, canary, env_extra=env, name="run")
    result.headline_kind = run.headline.kind if run.headline else None
    if run.headline is None or run.failure:
        result.reason = run.failure or "no score line"
        return result
    result.val_loss = run.headline.val_loss
    result.scored, result.scored_basis = _scored_tokens(run, n)
    return result


def _scored_tokens(run: SeedAudit, n: int) -> tuple[int, str]:
    """How many tokens the mean val_loss averages: from the ledger when the script keeps
    one, else the positions its no-grad passes covered (trace), else the whole stream."""
    if run.ledger is not None and run.headline is not None:
        for p in run.ledger.passes:
            if run.headline.kind.endswith(p.name) and p.n_tokens:
                return p.n_tokens - 1, "ledger (positions 1..N-1 of the pass)"
    if run.coverage is not None and run.coverage.nograd_positions > 1:
        return min(run.coverage.nograd_positions, n) - 1, "trace (positions covered)"
    return n - 1, "stream length"
