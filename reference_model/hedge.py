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

Counts are sparse: 64K trigram buckets x 1024 tokens would be 256 MB dense, but a stream of N
tokens touches at most N cells, so the tables hold only those (sorted keys + counts).
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


class HedgeMixer:
    """Multiplicative weights over experts; weights change only by ``update`` on scored tokens.

    Plain Hedge on each expert's own log loss drifts to the single best expert (the neural
    one), and the gain of mixing is lost. So the loss Hedge sees is the gradient of the
    MIXTURE's log loss, ``-p_k(x) / p_mix(x)`` (exponentiated gradient), which converges to the
    best fixed mixture instead.
    """

    def __init__(self, n_experts: int, eta: float, neural_prior: float = 0.85) -> None:
        w = np.full(n_experts, (1 - neural_prior) / max(n_experts - 1, 1))
        w[0] = neural_prior if n_experts > 1 else 1.0
        self.log_w = np.log(w)
        self.eta = eta

    @property
    def weights(self) -> np.ndarray:
        w = np.exp(self.log_w - self.log_w.max())
        return w / w.sum()

    def mix(self, probs: torch.Tensor) -> torch.Tensor:
        """(K, n, V) expert probabilities -> (n, V) log of the mixture."""
        w = torch.as_tensor(self.weights, dtype=probs.dtype, device=probs.device)
        return torch.log(torch.einsum("k,knv->nv", w, probs).clamp_min(1e-30))

    @staticmethod
    def loss_sums(gold_probs: np.ndarray, mix_gold: np.ndarray) -> np.ndarray:
        """Per expert, the sum over scored tokens of ``-p_k(x) / p_mix(x)``."""
        return -(np.asarray(gold_probs, np.float64) / np.asarray(mix_gold, np.float64)[None]).sum(1)

    def apply(self, loss_sums: np.ndarray, count: float) -> None:
        """One multiplicative step with the mean loss of ``count`` scored tokens."""
        if count <= 0:
            return
        self.log_w -= self.eta * np.asarray(loss_sums, np.float64) / count
        self.log_w -= self.log_w.max()

    def update(self, gold_probs: np.ndarray, mix_gold: np.ndarray) -> None:
        """Update from scored tokens: (K, n) experts' and (n,) the mixture's gold probabilities."""
        self.apply(self.loss_sums(gold_probs, mix_gold), mix_gold.size)
