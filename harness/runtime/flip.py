"""The flip test (C1): does the distribution at position p depend on tokens at or after p?

Following https://github.com/openai/parameter-golf/pull/1240: evaluate the trained artifact
on a short prefix of the validation stream three times, unchanged, with the token at a random
position t replaced, and with every token after t replaced. A causal scorer's distributions
at positions 1..t (each predicted from the tokens before it) are identical in all three runs;
any difference beyond a float tolerance is a C1 violation, with the positions that moved.

It needs the script to evaluate an existing artifact on a given stream and to dump its full
distributions: the reference model does (``EVAL_ONLY=1 LOAD_ARTIFACT=... VAL_TOKEN_LIMIT=n``
and ``GOLF_CHECK_LEDGER_DUMP=n``). For other scripts the test reports itself unsupported.
"""

from __future__ import annotations

import dataclasses
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from golf_check.harness.runtime.session import RunOptions, SeedAudit, Stream, run_seed
from golf_check.harness.shards import shard_name, split_paths, write_shard

TOLERANCE = 1e-4  # nats, on log-probabilities; CPU evaluation is bitwise repeatable
VARIANTS = ("base", "flip-one", "flip-after")
MISSING = 1e9  # the difference reported for a position scored in one run and not the other


@dataclass
class FlipResult:
    supported: bool
    reason: str = ""
    n_tokens: int = 0
    t: int = 0
    tolerance: float = TOLERANCE
    passes: dict[str, dict[str, Any]] = field(default_factory=dict)  # pass -> per variant
    failures: list[str] = field(default_factory=list)  # runs that did not complete

    @property
    def violated(self) -> bool:
        return any(v["max_diff"] > self.tolerance for p in self.passes.values() for v in p.values())

    def summary(self) -> str:
        if not self.supported:
            return f"not run: {self.reason}"
        if self.failures:
            return "inconclusive: " + "; ".join(self.failures)
        worst = max((v["max_diff"] for p in self.passes.values() for v in p.values()), default=0.0)
        verdict = "VIOLATED" if self.violated else "ok"
        return (
            f"{verdict}: positions 1..{self.t} of a {self.n_tokens}-token prefix, "
            f"{len(self.passes)} pass(es), max |Δ log p| {worst:.3g} (tolerance {self.tolerance:g})"
        )

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self) | {"violated": self.violated}


def run_flip_test(opts: RunOptions, audit: SeedAudit, stream: Stream) -> FlipResult:
    if not opts.target.is_reference:
        return FlipResult(
            False,
            "the flip test re-evaluates an artifact through EVAL_ONLY/LOAD_ARTIFACT and "
            "GOLF_CHECK_LEDGER_DUMP, which only the reference model implements",
        )
    if audit.artifact is None:
        return FlipResult(False, "no artifact to re-evaluate")
    n = int(min(opts.flip_tokens, stream.tokens.size))
    rng = np.random.default_rng(secrets.randbits(64))
    t = int(rng.integers(n // 4, 3 * n // 4))
    root = opts.out_dir / "flip"
    root.mkdir(parents=True, exist_ok=True)
    artifact = root / audit.artifact.path.name
    shutil.copyfile(audit.artifact.path, artifact)
    result = FlipResult(True, n_tokens=n, t=t)

    dumps: dict[str, dict[str, np.ndarray]] = {}
    for variant in VARIANTS:
        tokens = _variant(stream, n, t, variant, rng)
        data_dir = _data_dir(root / f"data-{variant}", opts.data_dir, tokens)
        vopts = dataclasses.replace(opts, data_dir=data_dir, out_dir=root, audits=("ledger",))
        env = {
            "EVAL_ONLY": "1",
            "LOAD_ARTIFACT": str(artifact),
            "VAL_TOKEN_LIMIT": str(n),
            "GOLF_CHECK_LEDGER_DUMP": str(n),
        }
        run = run_seed(vopts, audit.seed, stream, env_extra=env, name=variant)
        if run.launch.returncode != 0 or run.launch.timed_out:
            result.failures.append(f"{variant}: {run.failure or 'failed'}")
            continue
        dumps[variant] = _read_dumps(run.run_dir / "audit" / "ledger")
    if result.failures or "base" not in dumps:
        return result
    for name, base in dumps["base"].items():
        per_variant = {}
        for variant in VARIANTS[1:]:
            other = dumps.get(variant, {}).get(name)
            if other is None or other.shape != base.shape:
                continue
            per_variant[variant] = _compare(base, other, t)
        if per_variant:
            result.passes[name] = per_variant
    if not result.passes:
        result.failures.append("no distributions were dumped (is the ledger wired in?)")
    return result


def _variant(stream: Stream, n: int, t: int, variant: str, rng) -> np.ndarray:
    tokens = np.array(stream.tokens[:n], dtype=np.uint16)
    if variant == "base":
        return tokens
    # Replacements are ordinary pieces, never a boundary token that would reshape documents.
    vocab = stream.lut.vocab_size if stream.lut is not None else int(tokens.max()) + 1
    allowed = np.arange(vocab)
    if stream.lut is not None:
        allowed = allowed[~stream.lut.is_boundary]
    positions = [t] if variant == "flip-one" else list(range(t + 1, n))
    for p in positions:
        choice = int(rng.choice(allowed))
        tokens[p] = (
            choice
            if choice != tokens[p]
            else int(allowed[(np.searchsorted(allowed, choice) + 1) % allowed.size])
        )
    return tokens


def _data_dir(path: Path, original: Path, val: np.ndarray) -> Path:
    """A data folder with the given validation stream; training shards linked, not copied."""
    path.mkdir(parents=True, exist_ok=True)
    write_shard(path / shard_name("val", 0), val)
    for shard in split_paths(original, "train"):
        link = path / shard.name
        if not link.exists():
            link.symlink_to(shard)
    return path


def _read_dumps(directory: Path) -> dict[str, np.ndarray]:
    out = {}
    for path in sorted(directory.glob("dist.*.rank0.npy")):
        name = path.name[len("dist.") : -len(".rank0.npy")]
        out[name] = np.load(path, allow_pickle=False)
    return out


def _compare(base: np.ndarray, other: np.ndarray, t: int) -> dict[str, Any]:
    rows = slice(1, t + 1)  # positions 1..t: predicted from tokens before t only
    a, b = base[rows], other[rows]
    both = np.isfinite(a) & np.isfinite(b)
    diff = np.where(both, np.abs(a - b), 0.0)
    # A position dumped in one run and not the other is a difference too.
    mismatch = np.isfinite(a) != np.isfinite(b)
    per_pos = diff.max(axis=1) if diff.size else np.zeros(0)
    per_pos = np.where(mismatch.any(axis=1), MISSING, per_pos) if diff.size else per_pos
    moved = np.flatnonzero(per_pos > TOLERANCE) + 1
    return {
        "max_diff": float(per_pos.max()) if per_pos.size else 0.0,
        "positions_changed": int(moved.size),
        "first_positions": [int(p) for p in moved[:10]],
        "compared": int(per_pos.size),
    }
