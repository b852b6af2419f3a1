"""Evaluation: four legal passes over the validation stream, each reported on its own line.

* ``quantized``: the round-tripped weights, non-overlapping windows;
* ``quantized_sliding_window``: windows every ``eval_stride`` tokens, each scoring only its
  last ``eval_stride`` positions, so every position has at least ``L - stride`` tokens of context;
* ``quantized_ttt``: score-first test-time training on top of sliding: the stream is cut into
  chunks; chunk k is scored under ``inference_mode`` first, then the model takes SGD steps on
  chunk k, then chunk k+1 is scored. The last chunk is never trained on
  (https://github.com/openai/parameter-golf/pull/549);
* ``quantized_ttt_hedge`` (the headline): the same, with the TTT model mixed with online
  n-gram experts by a Hedge mixer (hedge.py), whose counts and weights also update only after
  a chunk is scored (by every rank: each rank then learns from all ranks' statistics, in
  position order, so every rank holds the same counts and weights as one process would).

Position p is the index of the target token (predicted from tokens[:p]); positions 1..N-1 are
each scored exactly once per pass, and every pass tells the ledger what it scored and what it
adapted on.
"""

from __future__ import annotations

import math
import time
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import torch

from golf_check.harness import ledger
from golf_check.harness.shards import bits_per_byte
from golf_check.reference_model import inject
from golf_check.reference_model.config import Config
from golf_check.reference_model.data import ValData
from golf_check.reference_model.hedge import OnlineMixture
from golf_check.reference_model.model import GPT

PASSES = ("quantized", "quantized_sliding_window", "quantized_ttt", "quantized_ttt_hedge")


@dataclass
class PassResult:
    name: str
    nll_sum: float
    tokens: int
    bytes: int
    eval_ms: float

    @property
    def val_loss(self) -> float:
        return self.nll_sum / self.tokens

    @property
    def val_bpb(self) -> float:
        return bits_per_byte(self.nll_sum, self.bytes)

    def line(self) -> str:
        return f"{self.name} val_loss:{self.val_loss:.8f} val_bpb:{self.val_bpb:.8f} eval_time:{self.eval_ms:.0f}ms"


class Dist:
    """Rank and world size, and the collectives the passes need (no-ops on one process)."""

    def __init__(self, rank: int = 0, world: int = 1) -> None:
        self.rank, self.world = rank, world

    def sum(self, values: list[float], device) -> list[float]:
        if self.world == 1:
            return values
        t = torch.tensor(values, dtype=torch.float64, device=device)
        torch.distributed.all_reduce(t)
        return t.tolist()

    def average_grads(self, model: torch.nn.Module) -> None:
        if self.world == 1:
            return
        for p in model.parameters():
            if p.grad is not None:
                torch.distributed.all_reduce(p.grad)
                p.grad /= self.world

    def barrier(self) -> None:
        if self.world > 1:
            torch.distributed.barrier()

    def share(self, items: list) -> list:
        """This rank's contiguous share of ``items``."""
        return self.shares(items)[self.rank]

    def shares(self, items: list) -> list[list]:
        """Every rank's contiguous share of ``items``, in rank order."""
        per = math.ceil(len(items) / self.world)
        return [items[r * per : (r + 1) * per] for r in range(self.world)]

    def gather(self, t: torch.Tensor, lengths: list[int]) -> torch.Tensor:
        """Concatenate, along the last dimension and in rank order, every rank's ``t`` (rank r
        holds ``lengths[r]`` columns): the same tensor on every rank."""
        if self.world == 1:
            return t
        padded = t.new_zeros(*t.shape[:-1], max(lengths))
        padded[..., : t.shape[-1]] = t
        parts = [torch.empty_like(padded) for _ in range(self.world)]
        torch.distributed.all_gather(parts, padded)
        return torch.cat([p[..., :n] for p, n in zip(parts, lengths, strict=True)], -1)


def make_blocks(lo: int, hi: int, seq_len: int, stride: int) -> list[tuple[int, int]]:
    """Cut positions [lo, hi) into scoring blocks. The block starting at position 1 is a whole
    window (those positions have no earlier context to gain); later ones are ``stride`` long."""
    blocks, b = [], lo
    while b < hi:
        e = min(hi, b + (seq_len if b == 1 else stride))
        blocks.append((b, e))
        b = e
    return blocks


def autocast(device: torch.device):
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return nullcontext()


class Evaluator:
    def __init__(self, cfg: Config, val: ValData, state: dict, device, dist: Dist, log) -> None:
        self.cfg, self.val, self.state, self.device, self.dist, self.log = (
            cfg,
            val,
            state,
            device,
            dist,
            log,
        )
        self.tokens_t = torch.from_numpy(val.tokens.astype(np.int64)).to(device)
        self.inject = cfg.golf_inject

    def fresh_model(self) -> GPT:
        """The artifact's model, as loaded: every pass starts from exactly this state."""
        model = GPT(self.cfg).to(self.device)
        model.load_state_dict(self.state)
        model.eval()
        return model

    # -- scoring

    @torch.inference_mode()
    def neural_logits(self, model: GPT, blocks: list[tuple[int, int]]) -> torch.Tensor:
        """Logits (n_positions, V) for the positions of ``blocks`` (consecutive), in order."""
        L = self.cfg.eval_seq_len
        starts = [max(0, e - 1 - L) for _, e in blocks]
        windows = torch.stack([self.tokens_t[a : a + L] for a in starts])
        with autocast(self.device):
            logits = model.logits(windows)
        rows = [
            logits[i, b - a - 1 : e - a - 1]
            for i, ((b, e), a) in enumerate(zip(blocks, starts, strict=True))
        ]
        return torch.cat(rows).float()

    def score_blocks(self, model: GPT, blocks, mixture=None, cache=None):
        """Score ``blocks``; returns (nll_sum, n, hedge statistics). Calls ``ledger.scored``."""
        start, end = blocks[0][0], blocks[-1][1]
        targets = self.tokens_t[start:end]
        logits = self.neural_logits(model, blocks)
        if self.inject == "slot":
            ledger.adapting(start, end)  # the bias is fit on these very targets
            logits = inject.slot_logits(logits, targets)
        logp = torch.log_softmax(logits, dim=-1)
        hedge_stats = None
        if mixture is not None:
            extra = [inject.entropy_expert(logp.exp())] if self.inject == "entropy-expert" else []
            # The mixture's gold probabilities only; full rows just where the ledger checks.
            nll, rows, hedge_stats = mixture.score(start, end, logp, extra)
            logp = rows
            if cache is not None:  # target-in-key: blends every full row
                full = rows(torch.arange(end - start, device=self.device)).exp()
                logp = torch.log(cache.blend(self.val.tokens, start, end, full).clamp_min(1e-30))
                nll = -logp.gather(1, targets[:, None]).squeeze(1)
        else:
            nll = -logp.gather(1, targets[:, None]).squeeze(1)
        ledger.scored(start, end, nll, logp if ledger.listening() else None)
        return float(nll.double().sum()), end - start, hedge_stats

    # -- adaptation

    def ttt_train(self, model: GPT, opt, lo: int, hi: int, epochs: int) -> None:
        """SGD on the targets of positions [lo, hi) (already scored; the caller told the ledger).

        Rows of ``eval_seq_len`` targets, ``ttt_batch`` rows per step; a shorter last row gets
        its own forward in the same step, weighted by its token count."""
        L = self.cfg.eval_seq_len
        full = (hi - lo) // L
        all_starts = [lo + i * L for i in range(full)]
        # Every rank takes the same number of steps (the gradient all-reduce needs it).
        per_step = self.cfg.ttt_batch * self.dist.world
        groups = [
            self.dist.share(all_starts[i : i + per_step]) for i in range(0, full, per_step)
        ] or [[]]
        tail = (
            (lo + full * L, hi) if (hi - lo) % L and self.dist.rank == self.dist.world - 1 else None
        )
        model.train()
        with torch.enable_grad():
            for _ in range(epochs):
                for g, group in enumerate(groups):
                    opt.zero_grad(set_to_none=True)
                    pieces = [(b, b + L) for b in group]
                    if tail is not None and g == len(groups) - 1:
                        pieces.append(tail)
                    n = sum(e - b for b, e in pieces)
                    loss = torch.zeros((), device=self.device)
                    if group:
                        x = torch.stack([self.tokens_t[b - 1 : b - 1 + L] for b in group])
                        y = torch.stack([self.tokens_t[b : b + L] for b in group])
                        with autocast(self.device):
                            loss = loss + model(x, y) * (len(group) * L / n)
                    if len(pieces) > len(group):
                        b, e = pieces[-1]
                        with autocast(self.device):
                            loss = loss + model(
                                self.tokens_t[b - 1 : e - 1][None], self.tokens_t[b:e][None]
                            ) * ((e - b) / n)
                    if pieces:
                        loss.backward()
                    self.dist.average_grads(model)
                    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                    opt.step()
        model.eval()

    # -- the passes

    def run_pass(self, name: str) -> PassResult:
        cfg, val = self.cfg, self.val
        t0 = time.perf_counter()
        ledger.begin(name, val.tokens)
        model = self.fresh_model()
        chunked = name in ("quantized_ttt", "quantized_ttt_hedge")
        stride = cfg.eval_seq_len if name == "quantized" else cfg.eval_stride
        mixture = cache = opt = None
        if chunked:
            opt = torch.optim.SGD(model.parameters(), lr=cfg.ttt_lr, momentum=cfg.ttt_momentum)
        if name == "quantized_ttt_hedge":
            mixture = OnlineMixture(
                self.tokens_t,
                cfg.vocab_size,
                cfg.hedge_buckets,
                cfg.hedge_prior,
                cfg.hedge_eta,
                extra_experts=int(self.inject == "entropy-expert"),
            )
            if self.inject == "target-in-key":
                cache = inject.TargetKeyedCache(cfg.vocab_size, cfg.hedge_buckets)
        if chunked and self.inject == "train-before-score":
            ledger.adapting(1, val.n)  # the whole split, before any of it is scored
            self.ttt_train(model, opt, 1, val.n, max(cfg.ttt_epochs, 2))
        if self.inject == "network" and name == PASSES[0]:
            inject.attempt_network(self.log)

        chunk = cfg.ttt_chunk_tokens if chunked else val.n
        bounds = list(range(1, val.n, chunk)) + [val.n]
        nll_sum = 0.0
        n_scored = 0
        for k in range(len(bounds) - 1):
            lo, hi = bounds[k], bounds[k + 1]
            last = k == len(bounds) - 2
            chunk_nll, chunk_n, stats = self.score_chunk(model, lo, hi, stride, mixture, cache)
            adapt = chunked and not last
            if adapt:
                self.dist.barrier()  # every rank has scored its share of the chunk
                ledger.adapting(lo, hi)
                self.adapt(model, opt, lo, hi, mixture, cache, stats)
                if self.inject == "rescore":  # report the score from after adapting on it
                    chunk_nll, chunk_n, _ = self.score_chunk(
                        model, lo, hi, stride, mixture, cache
                    )
            nll_sum += chunk_nll
            n_scored += chunk_n
        nll_sum, n_scored = self.dist.sum([nll_sum, float(n_scored)], self.device)
        elapsed = (time.perf_counter() - t0) * 1000
        return PassResult(name, nll_sum, int(n_scored), val.bytes_between(1, val.n), elapsed)

    def score_chunk(self, model, lo, hi, stride, mixture, cache):
        """Score this rank's share of [lo, hi). The hedge statistics come back gathered from
        every rank, in position order (the same tensors on every rank)."""
        shares = self.dist.shares(make_blocks(lo, hi, self.cfg.eval_seq_len, stride))
        blocks = shares[self.dist.rank]
        nll_sum, n, gold, mix = 0.0, 0, [], []
        for i in range(0, len(blocks), self.cfg.eval_batch):
            s, c, stats = self.score_blocks(
                model, blocks[i : i + self.cfg.eval_batch], mixture, cache
            )
            nll_sum, n = nll_sum + s, n + c
            if stats is not None:
                gold.append(stats[0])
                mix.append(stats[1])
        stats = None
        if mixture is not None:
            lengths = [sum(e - b for b, e in share) for share in shares]
            k = mixture.mixer.log_w.numel()
            if gold:
                gold, mix = torch.cat(gold, 1), torch.cat(mix)
            else:  # this rank had no blocks of the chunk
                gold = torch.zeros(k, 0, dtype=torch.float64, device=self.device)
                mix = torch.zeros(0, dtype=torch.float64, device=self.device)
            stats = (self.dist.gather(gold, lengths), self.dist.gather(mix, lengths))
        return nll_sum, n, stats

    def adapt(self, model, opt, lo, hi, mixture, cache, stats) -> None:
        if mixture is not None:
            mixture.learn(lo, hi, *stats)
        if cache is not None:
            cache.update(self.val.tokens, lo, hi)
        self.ttt_train(model, opt, lo, hi, self.cfg.ttt_epochs)
