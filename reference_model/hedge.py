"""The Hedge mixer and its online n-gram experts, all full distributions over the vocabulary.

Each expert gives, before a token is revealed, a probability for EVERY token of the vocabulary:

* neural: the (test-time-trained) model's softmax;
* unigram: add-one counts of the tokens scored so far;
* bigram: counts after the previous token, backing off to the unigram;
* trigram: counts after the hashed pair of previous tokens, backing off to the bigram. Every
  bucket row is a full normalized distribution, ``(c(h, v) + b * p_bigram(v)) / (c(h) + b)``,
  so hash collisions only blur the prediction; they can never put more than probability 1 on
  the vocabulary (https://github.com/openai/parameter-golf/pull/886 shows what the
  target-keyed alternative does).

The mixture ``sum_k w_k p_k`` is a convex combination of distributions, so it is one. The
weights follow Hedge (multiplicative weights, see ``HedgeMixer``) and, like the counts, are
updated only from tokens that are already scored.

Two implementations of the experts:

* ``CountExperts`` (used by the evaluation): torch tables on the model's device, a dense
  ``V x V`` bigram and a fixed ``buckets x V`` trigram table of int32 counts. An update adds
  one to one cell per expert per token (O(1), whatever the stream length). Scoring needs only
  the gold token's probability and the row's normalizer, both closed-form from a few counts
  (the row sums to ``c(h) + b`` over ``c(h) + b``, i.e. to one, by construction), so a scored
  position costs O(1) per expert; full rows are built only where the ledger checks them.
* ``NgramExperts`` over ``SparseCounts`` or ``DenseCounts`` (numpy, full ``(3, n, V)`` arrays):
  the original implementation, kept as the reference the torch tables must match bit for bit
  and as the baseline of ``bench/bench_hedge_scale.py``. ``SparseCounts.add`` re-sorts its whole
  table on every update, so its cost grows with the stream.
"""

from __future__ import annotations

import numpy as np
import torch

_HASH = 2654435761


class SparseCounts:
    """Counts c(context, token) over ``contexts`` x ``vocab`` cells, storing only non-zero ones."""

    def __init__(self, contexts: int, vocab: int) -> None:
        self.contexts, self.vocab = contexts, vocab
        self.keys = np.zeros(0, dtype=np.int64)  # sorted context * vocab + token
        self.values = np.zeros(0, dtype=np.float64)
        self.totals = np.zeros(contexts, dtype=np.float64)

    def add(self, contexts: np.ndarray, tokens: np.ndarray) -> None:
        new = contexts.astype(np.int64) * self.vocab + tokens.astype(np.int64)
        keys, inverse = np.unique(np.concatenate([self.keys, new]), return_inverse=True)
        weights = np.concatenate([self.values, np.ones(new.size)])
        self.keys, self.values = keys, np.bincount(inverse, weights=weights, minlength=keys.size)
        np.add.at(self.totals, contexts.astype(np.int64), 1.0)

    def rows(self, contexts: np.ndarray) -> np.ndarray:
        """Dense count rows (len(contexts), vocab) for the given contexts."""
        contexts = contexts.astype(np.int64)
        out = np.zeros((contexts.size, self.vocab), dtype=np.float64)
        lo = np.searchsorted(self.keys, contexts * self.vocab)
        hi = np.searchsorted(self.keys, (contexts + 1) * self.vocab)
        lengths = hi - lo
        if lengths.sum() == 0:
            return out
        row = np.repeat(np.arange(contexts.size), lengths)
        # positions lo[i] .. hi[i]-1 of every row, flattened
        idx = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        idx += np.repeat(lo, lengths)
        out[row, self.keys[idx] % self.vocab] = self.values[idx]
        return out

    @property
    def nbytes(self) -> int:
        return self.keys.nbytes + self.values.nbytes + self.totals.nbytes


class DenseCounts:
    """The same counts as a dense table: the reference that ``SparseCounts`` must match."""

    def __init__(self, contexts: int, vocab: int) -> None:
        self.table = np.zeros((contexts, vocab), dtype=np.float64)
        self.totals = np.zeros(contexts, dtype=np.float64)

    def add(self, contexts: np.ndarray, tokens: np.ndarray) -> None:
        np.add.at(self.table, (contexts.astype(np.int64), tokens.astype(np.int64)), 1.0)
        np.add.at(self.totals, contexts.astype(np.int64), 1.0)

    def rows(self, contexts: np.ndarray) -> np.ndarray:
        return self.table[contexts.astype(np.int64)]

    @property
    def nbytes(self) -> int:
        return self.table.nbytes + self.totals.nbytes


class NgramExperts:
    """Unigram, bigram and hashed-trigram experts over a token stream, updated online."""

    names = ("unigram", "bigram", "trigram")

    def __init__(self, vocab: int, buckets: int, prior: float, counts=SparseCounts) -> None:
        self.vocab, self.buckets, self.prior = vocab, buckets, prior
        self.unigram = np.zeros(vocab, dtype=np.float64)
        self.bigram = counts(vocab, vocab)
        self.trigram = counts(buckets, vocab)

    def bucket(self, prev2: np.ndarray, prev1: np.ndarray) -> np.ndarray:
        key = prev2.astype(np.uint64) * np.uint64(self.vocab + 1) + prev1.astype(np.uint64)
        return ((key * np.uint64(_HASH)) & np.uint64(0xFFFFFFFF)) % np.uint64(self.buckets)

    def _contexts(self, tokens: np.ndarray, start: int, end: int):
        pos = np.arange(start, end)
        prev1 = tokens[pos - 1].astype(np.int64)
        # Position 1 has no token two back: a sentinel id outside the vocabulary.
        prev2 = np.where(pos >= 2, tokens[np.maximum(pos - 2, 0)].astype(np.int64), self.vocab)
        return prev1, self.bucket(prev2, prev1)

    def update(self, tokens: np.ndarray, start: int, end: int) -> None:
        """Count the targets of positions [start, end) (call only after they are scored)."""
        prev1, bucket = self._contexts(tokens, start, end)
        targets = tokens[start:end].astype(np.int64)
        np.add.at(self.unigram, targets, 1.0)
        self.bigram.add(prev1, targets)
        self.trigram.add(bucket, targets)

    def distributions(self, tokens: np.ndarray, start: int, end: int) -> np.ndarray:
        """(3, end-start, vocab) probabilities for positions [start, end), from prefix counts only."""
        prev1, bucket = self._contexts(tokens, start, end)
        uni = (self.unigram + 1.0) / (self.unigram.sum() + self.vocab)
        b = self.prior
        bi = (self.bigram.rows(prev1) + b * uni[None, :]) / (self.bigram.totals[prev1][:, None] + b)
        tri = (self.trigram.rows(bucket) + b * bi) / (self.trigram.totals[bucket][:, None] + b)
        return np.stack([np.broadcast_to(uni, bi.shape), bi, tri])


def _zeros(shape: tuple[int, ...], device: torch.device) -> torch.Tensor:
    """A zeroed int32 count table. On CPU it comes from calloc'd memory, whose pages the OS
    maps only when first written: a 64K x 1024 trigram table is 256 MiB, but a short stream
    touches only its buckets' rows (one 4 KiB page per bucket at V=1024)."""
    if device.type == "cpu":
        return torch.from_numpy(np.zeros(shape, dtype=np.int32))
    return torch.zeros(shape, dtype=torch.int32, device=device)


class CountExperts:
    """Unigram, bigram and hashed-trigram experts over the stream ``tokens`` (int64, on the
    model's device), updated online. Same distributions, bit for bit, as ``NgramExperts``:
    the same float64 operations on the same (exactly converted) integer counts."""

    names = NgramExperts.names

    def __init__(self, tokens: torch.Tensor, vocab: int, buckets: int, prior: float) -> None:
        # (V + 1)^2 * _HASH must stay below 2^63 for the int64 hash to equal the uint64 one.
        if (vocab + 1) ** 2 * _HASH >= 2**63:
            raise ValueError(f"vocabulary of {vocab} is too large for the trigram hash")
        self.tokens = tokens
        self.device = tokens.device
        self.vocab, self.buckets, self.prior = vocab, buckets, prior
        self.counted = 0  # tokens counted so far: the unigram's total, kept on the host
        self.unigram = torch.zeros(vocab, dtype=torch.int64, device=self.device)
        self.bigram = _zeros((vocab, vocab), self.device)
        self.bigram_totals = torch.zeros(vocab, dtype=torch.int64, device=self.device)
        self.trigram = _zeros((buckets, vocab), self.device)
        self.trigram_totals = torch.zeros(buckets, dtype=torch.int64, device=self.device)

    def contexts(self, pos: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Previous token and trigram bucket of absolute positions ``pos`` (int64)."""
        prev1 = self.tokens[pos - 1]
        # Position 1 has no token two back: a sentinel id outside the vocabulary.
        prev2 = torch.where(pos >= 2, self.tokens[(pos - 2).clamp_min(0)], self.vocab)
        key = prev2 * (self.vocab + 1) + prev1
        return prev1, ((key * _HASH) & 0xFFFFFFFF) % self.buckets

    def _unigram(self) -> torch.Tensor:
        """(V,) float64: the add-one unigram of the tokens counted so far."""
        return (self.unigram.double() + 1.0) / float(self.counted + self.vocab)

    def _back_off(self, uni, prev1, bucket, bi_counts, tri_counts):
        """Bigram and trigram probabilities from their counts after the contexts ``prev1`` and
        ``bucket`` (one row of counts each), each backing off to the order below it."""
        b = self.prior
        bi = (bi_counts.double() + b * uni) / (self.bigram_totals[prev1].double()[:, None] + b)
        tri = (tri_counts.double() + b * bi) / (self.trigram_totals[bucket].double()[:, None] + b)
        return bi, tri

    def gold(self, start: int, end: int) -> torch.Tensor:
        """(3, end-start) float64: each expert's probability of the actual token at positions
        [start, end), from prefix counts only."""
        pos = torch.arange(start, end, device=self.device)
        prev1, bucket = self.contexts(pos)
        cols = self.tokens[start:end, None]
        uni = self._unigram()[cols]
        bi_counts = self.bigram[prev1[:, None], cols]
        tri_counts = self.trigram[bucket[:, None], cols]
        bi, tri = self._back_off(uni, prev1, bucket, bi_counts, tri_counts)
        return torch.stack([uni, bi, tri])[:, :, 0]

    def rows(self, pos: torch.Tensor) -> torch.Tensor:
        """(3, len(pos), V) float64: the full distributions at absolute positions ``pos``."""
        uni, bi, tri = self.row_parts(pos)
        return torch.stack([uni.expand_as(bi), bi, tri])

    def row_parts(self, pos: torch.Tensor):
        """``rows`` unstacked: the unigram (V,) shared by all positions, bigram and trigram
        (len(pos), V). The same operations as ``gold``, on whole table rows (cheaper)."""
        pos = pos.to(self.device, torch.int64)
        prev1, bucket = self.contexts(pos)
        uni = self._unigram()
        bi_counts = self.bigram.index_select(0, prev1)
        tri_counts = self.trigram.index_select(0, bucket)
        return uni, *self._back_off(uni, prev1, bucket, bi_counts, tri_counts)

    def update(self, start: int, end: int) -> None:
        """Count the targets of positions [start, end) (call only after they are scored).
        One cell per expert per token: the cost does not depend on what was counted before."""
        pos = torch.arange(start, end, device=self.device)
        prev1, bucket = self.contexts(pos)
        targets = self.tokens[start:end]
        ones64 = torch.ones(end - start, dtype=torch.int64, device=self.device)
        ones32 = torch.ones(end - start, dtype=torch.int32, device=self.device)
        self.unigram.index_add_(0, targets, ones64)
        self.counted += end - start
        self.bigram.view(-1).index_add_(0, prev1 * self.vocab + targets, ones32)
        self.bigram_totals.index_add_(0, prev1, ones64)
        self.trigram.view(-1).index_add_(0, bucket * self.vocab + targets, ones32)
        self.trigram_totals.index_add_(0, bucket, ones64)


class HedgeMixer:
    """Multiplicative weights over experts; weights change only by ``update`` on scored tokens.

    Plain Hedge on each expert's own log loss drifts to the single best expert (the neural
    one), and the gain of mixing is lost. So the loss Hedge sees is the gradient of the
    MIXTURE's log loss, ``-p_k(x) / p_mix(x)`` (exponentiated gradient), which converges to the
    best fixed mixture instead. The log-weights are a float64 tensor on the model's device.
    """

    def __init__(self, n_experts: int, eta: float, neural_prior: float = 0.85, device="cpu"):
        w = np.full(n_experts, (1 - neural_prior) / max(n_experts - 1, 1))
        w[0] = neural_prior if n_experts > 1 else 1.0
        self.log_w = torch.tensor(np.log(w), dtype=torch.float64, device=device)
        self.eta = eta

    @property
    def weights(self) -> torch.Tensor:
        w = torch.exp(self.log_w - self.log_w.max())
        return w / w.sum()

    @staticmethod
    def combine(weights: torch.Tensor, parts) -> torch.Tensor:
        """``sum_k w_k parts[k]``, added in expert order: gold probabilities and full rows are
        mixed by the same operations, so a row's gold entry is the very number scored."""
        out = parts[0] * weights[0]
        for k in range(1, len(parts)):
            out = out + parts[k] * weights[k]
        return out

    def mix_gold(self, gold: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
        """(K, n) experts' gold probabilities -> (n,) the mixture's."""
        w = self.weights if weights is None else weights
        gold = torch.as_tensor(gold, dtype=torch.float64, device=w.device)
        return self.combine(w, gold)

    def mix(self, probs, weights: torch.Tensor | None = None) -> torch.Tensor:
        """K expert probability tensors (K, n, V) -> (n, V) log of the mixture."""
        w = self.weights if weights is None else weights
        return torch.log(self.combine(w, probs).clamp_min(1e-30))

    def update(self, gold_probs: torch.Tensor, mix_gold: torch.Tensor) -> None:
        """One multiplicative step from scored tokens, (K, n) experts' and (n,) the mixture's
        gold probabilities: the mean over them of each expert's ``-p_k(x) / p_mix(x)``."""
        count = mix_gold.shape[-1]
        if count <= 0:
            return
        gold = torch.as_tensor(gold_probs, dtype=torch.float64)
        mix = torch.as_tensor(mix_gold, dtype=torch.float64, device=gold.device)
        loss_sums = -(gold / mix[None]).sum(1)
        self.log_w = self.log_w - self.eta * loss_sums.to(self.log_w.device) / count
        self.log_w = self.log_w - self.log_w.max()


class OnlineMixture:
    """The neural expert, the count experts and their Hedge mixer over one evaluation pass.

    ``score`` turns the model's log-distributions at positions [start, end) into the mixture's
    nll there, plus a function that builds the full mixture rows on demand (for the ledger's
    sampled C2 check), plus the statistics Hedge learns from. ``learn`` is called once a whole
    chunk is scored by every rank: it takes the statistics of all ranks in position order, so
    each rank applies the same update as one process would, then counts the chunk's tokens.
    """

    def __init__(self, tokens: torch.Tensor, vocab: int, buckets: int, prior: float, eta: float,
                 extra_experts: int = 0) -> None:
        self.tokens = tokens
        self.experts = CountExperts(tokens, vocab, buckets, prior)
        self.mixer = HedgeMixer(1 + len(CountExperts.names) + extra_experts, eta,
                                device=tokens.device)

    def score(self, start: int, end: int, neural_logp: torch.Tensor, extra=()):
        """``neural_logp`` (n, V); ``extra``: more (n, V) expert probabilities (fault injection
        only). Returns (nll float64 (n,), rows(idx) -> (len(idx), V) log-mixture, (gold, mix))."""
        targets = self.tokens[start:end, None]
        neural_gold = neural_logp.gather(1, targets).squeeze(1).double().exp()
        gold = [neural_gold[None], self.experts.gold(start, end)]
        gold += [e.gather(1, targets).squeeze(1).double()[None] for e in extra]
        gold = torch.cat(gold)
        weights = self.mixer.weights  # the rows are built with the weights of this scoring
        mix = self.mixer.mix_gold(gold, weights)

        def rows(idx) -> torch.Tensor:
            idx = torch.as_tensor(idx, dtype=torch.int64, device=neural_logp.device)
            probs = [neural_logp.index_select(0, idx).double().exp()]
            probs += self.experts.row_parts(idx + start)
            probs += [e.index_select(0, idx).double() for e in extra]
            return self.mixer.mix(probs, weights)

        return -torch.log(mix.clamp_min(1e-30)), rows, (gold, mix)

    def learn(self, start: int, end: int, gold: torch.Tensor, mix: torch.Tensor) -> None:
        """Hedge step on the scored chunk's statistics ((K, n) and (n,), every rank's, in
        position order), then count the chunk [start, end)."""
        self.mixer.update(gold, mix)
        self.experts.update(start, end)
