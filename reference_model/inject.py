"""Fault injection: one realistic violation at a time, for testing golf-check itself.

``GOLF_INJECT=<name>`` (or ``--inject <name>``) turns on exactly one of the violations below.
Each does the illegal thing the way real submissions did, and the instrumented code keeps
telling the ledger the truth about it (a rescore calls ``scored`` twice; training before
scoring calls ``adapting`` before ``scored``), so the ledger's checks can catch it; the ones
the ledger cannot see (network, time, size) are for the runtime trace and the log evidence.
docs/reference_model.md lists what each one does, what catches it and what it "gains".
"""

from __future__ import annotations

import socket

import numpy as np
import torch
import torch.nn.functional as F

from golf_check.harness.errors import InputError

INJECTIONS = {
    "train-before-score": "multi-epoch TTT over the whole validation split, then score it (C3)",
    "rescore": "score a chunk, adapt on it, score it again and report the second score (C3, C4)",
    "entropy-expert": "a Hedge 'expert' whose nll is the model's entropy, not a distribution (C2)",
    "target-in-key": "hashed n-gram cache keyed with the target, gold-only count ratios (C2, C1)",
    "slot": "optimize a logit bias on the very positions being scored, then score them (C3, C1)",
    "val-calibration": "choose quantization clipping on validation tokens (C3, data)",
    "network": "an outbound connection attempt during evaluation (network)",
    "over-time": "train past MAX_WALLCLOCK_SECONDS and log a train_time under the cap (budget)",
    "oversize": "append incompressible bytes so the artifact exceeds 16,000,000 bytes (budget)",
}
ARTIFACT_CAP = 16_000_000


def check_name(name: str) -> str:
    if name and name not in INJECTIONS:
        raise InputError(
            f"GOLF_INJECT: unknown injection {name!r} (choose {', '.join(INJECTIONS)})"
        )
    return name


# --- slot: https://github.com/openai/parameter-golf/pull/1240 (flip test), issue #1336


def slot_logits(
    logits: torch.Tensor, targets: torch.Tensor, steps: int = 8, lr: float = 0.1
) -> torch.Tensor:
    """Fit a vocabulary-wide logit bias to the targets of the positions about to be scored."""
    bias = torch.zeros(logits.size(-1), device=logits.device, requires_grad=True)
    opt = torch.optim.Adam([bias], lr=lr)
    base = logits.detach().float()
    with torch.inference_mode(False), torch.enable_grad():
        base = base.clone()
        for _ in range(steps):
            opt.zero_grad()
            F.cross_entropy(base + bias, targets).backward()
            opt.step()
    return base + bias.detach()


# --- entropy-expert: https://github.com/openai/parameter-golf/pull/967


def entropy_expert(neural_probs: torch.Tensor) -> torch.Tensor:
    """The 'probability' exp(-H) given to every token: the same number whatever the target."""
    logp = torch.log(neural_probs.clamp_min(1e-30))
    entropy = -(neural_probs * logp).sum(-1, keepdim=True)
    return torch.exp(-entropy).expand_as(neural_probs)


# --- target-in-key: https://github.com/openai/parameter-golf/pull/779, /pull/886


class TargetKeyedCache:
    """The banned hashed cache: full[hash(ctx, target)] / ctx[hash(ctx)], blended with the model.

    The probability of a candidate token v is computed the way these caches compute the gold
    one, with v in the key; over the vocabulary the result does not sum to 1.
    """

    def __init__(self, vocab: int, buckets: int, alpha: float = 0.4) -> None:
        self.vocab, self.buckets, self.alpha = vocab, buckets, alpha
        self.full = np.zeros(buckets, dtype=np.float64)
        self.ctx = np.zeros(buckets, dtype=np.float64)

    def _ctx_hash(self, tokens: np.ndarray, pos: np.ndarray) -> np.ndarray:
        prev2 = np.where(pos >= 2, tokens[np.maximum(pos - 2, 0)], 0).astype(np.uint64)
        prev1 = tokens[pos - 1].astype(np.uint64)
        return (prev2 * np.uint64(36313) ^ prev1 * np.uint64(27191)) & np.uint64(0xFFFFFFFF)

    def _full_hash(self, ctx: np.ndarray, target: np.ndarray) -> np.ndarray:
        h = ctx ^ (target.astype(np.uint64) * np.uint64(51647))  # the target in the key
        return (h % np.uint64(self.buckets)).astype(np.int64)

    def blend(self, tokens: np.ndarray, start: int, end: int, probs: torch.Tensor) -> torch.Tensor:
        pos = np.arange(start, end)
        ctx = self._ctx_hash(tokens, pos)
        cand = np.arange(self.vocab, dtype=np.uint64)
        full = self.full[self._full_hash(ctx[:, None], cand[None, :])]
        denom = np.maximum(self.ctx[(ctx % np.uint64(self.buckets)).astype(np.int64)], 1.0)
        ratio = np.minimum(full / denom[:, None], 1.0)
        seen = (self.ctx[(ctx % np.uint64(self.buckets)).astype(np.int64)] > 0)[:, None]
        ratio_t = torch.as_tensor(
            np.where(seen, ratio, 0.0), dtype=probs.dtype, device=probs.device
        )
        alpha = torch.as_tensor(
            np.where(seen, self.alpha, 0.0), dtype=probs.dtype, device=probs.device
        )
        return (1 - alpha) * probs + alpha * ratio_t

    def update(self, tokens: np.ndarray, start: int, end: int) -> None:
        pos = np.arange(start, end)
        ctx = self._ctx_hash(tokens, pos)
        np.add.at(self.full, self._full_hash(ctx, tokens[pos]), 1.0)
        np.add.at(self.ctx, (ctx % np.uint64(self.buckets)).astype(np.int64), 1.0)


# --- network: https://github.com/openai/parameter-golf (README FAQ: no network at eval)


def attempt_network(log) -> None:
    """Open a TCP connection, as a download would; to the discard port on loopback, which is
    closed (refused at once) or absent in a network sandbox, so it never hangs or leaves the
    machine. The connect() is what a runtime trace sees."""
    host, port = "127.0.0.1", 9
    try:
        with socket.create_connection((host, port), timeout=0.5):
            log(f"network: connected to {host}:{port}")
    except OSError as exc:
        log(f"network: connect {host}:{port} failed: {type(exc).__name__}")


# --- oversize


def pad_oversize(blob: bytes, code_bytes: int) -> bytes:
    """Append deterministic incompressible bytes until model + code exceed the cap."""
    need = ARTIFACT_CAP + 1 - code_bytes - len(blob)
    if need <= 0:
        return blob
    return blob + np.random.default_rng(0).bytes(need + 4096)
