"""The canary's secret source: a keyed bigram process over the whole vocabulary.

The stream must look like the real validation split to a script that inspects it (same
length, same document boundaries, the real unigram frequencies over every ordinary token)
while golf-check knows the probability of every token under the process that drew it. The
process, for each position t of a template (the real split):

* a boundary token of the template (BOS, EOS, ...) is copied as is: probability 1;
* the first token after a boundary is drawn from the row of that boundary token;
* every ``lane`` tokens inside a long document the chain restarts from the unigram, with no
  context (this lets the stream be drawn in parallel lanes; the restart points are fixed);
* otherwise x_t ~ mix * row[x_{t-1}] + (1 - mix) * unigram.

The unigram is the real split's own token frequencies (add-0.5 smoothed over the ordinary
tokens), so the histogram, the number of distinct tokens and the Zipfian tail match the real
data. Each context's row is keyed: ``successors`` tokens drawn from the unigram with
Dirichlet(``concentration``) weights, so rows are sparse and skewed the way real next-token
distributions are, and unknown to any script without the key. The exact -ln p of every
token is returned with the stream: its sum over the scored positions is the ideal code
length that the Ville bound starts from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SUCCESSORS = 32  # keyed successors per context
MIX = 0.85  # weight of the keyed row against the unigram
CONCENTRATION = 0.3  # Dirichlet parameter of each row: small = few successors dominate
LANE = 4096  # longest run drawn as one chain; longer documents restart from the unigram


@dataclass(frozen=True)
class Source:
    """Each context's row: ``successors`` (distinct tokens, -1 for an empty slot) with
    ``weights`` (each row sums to 1); rows and the unigram are sampled exactly with Walker's
    alias method, O(1) per token."""

    unigram: np.ndarray  # float64 [V]: 0 on boundary tokens
    successors: np.ndarray  # int64 [V, m]
    weights: np.ndarray  # float64 [V, m]
    mix: float
    uni_alias: tuple[np.ndarray, np.ndarray]  # (probability, alias) over the vocabulary
    row_alias: tuple[np.ndarray, np.ndarray]  # the same per row, [V, m] each

    @property
    def vocab_size(self) -> int:
        return int(self.unigram.size)

    def row(self, context: int) -> np.ndarray:
        """The full next-token distribution after ``context`` (a vector over the vocabulary)."""
        out = (1.0 - self.mix) * self.unigram
        slots = self.successors[context] >= 0
        out[self.successors[context][slots]] += self.mix * self.weights[context][slots]
        return out

    def sample_unigram(self, r: np.ndarray, r2: np.ndarray) -> np.ndarray:
        prob, alias = self.uni_alias
        i = np.minimum((r * prob.size).astype(np.int64), prob.size - 1)
        return np.where(r2 < prob[i], i, alias[i])

    def sample_slot(self, contexts: np.ndarray, r: np.ndarray, r2: np.ndarray) -> np.ndarray:
        prob, alias = self.row_alias
        m = prob.shape[1]
        j = np.minimum((r * m).astype(np.int64), m - 1)
        return np.where(r2 < prob[contexts, j], j, alias[contexts, j])


def alias_table(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker/Vose alias table of the distribution ``p`` (sums to 1)."""
    m = p.size
    scaled = p * m
    prob = np.ones(m)
    alias = np.arange(m)
    small = [i for i in range(m) if scaled[i] < 1.0]
    large = [i for i in range(m) if scaled[i] >= 1.0]
    while small and large:
        s, big = small.pop(), large.pop()
        prob[s], alias[s] = scaled[s], big
        scaled[big] -= 1.0 - scaled[s]
        (small if scaled[big] < 1.0 else large).append(big)
    return prob, alias


def make_source(
    real_tokens: np.ndarray,
    is_boundary: np.ndarray,
    key: int,
    successors: int = SUCCESSORS,
    mix: float = MIX,
    concentration: float = CONCENTRATION,
) -> Source:
    vocab = int(is_boundary.size)
    ordinary = ~is_boundary
    counts = np.bincount(np.asarray(real_tokens, dtype=np.int64), minlength=vocab)[:vocab]
    unigram = np.where(ordinary, counts + 0.5, 0.0)
    unigram /= unigram.sum()
    rng = np.random.default_rng(key)
    drawn = rng.choice(vocab, size=(vocab, successors), p=unigram)
    raw = rng.dirichlet(np.full(successors, concentration), size=vocab)
    succ = np.full((vocab, successors), -1, dtype=np.int64)
    weights = np.zeros((vocab, successors))
    prob = np.ones((vocab, successors))
    alias = np.zeros((vocab, successors), dtype=np.int64)
    for c in range(vocab):
        # a successor drawn twice gets the sum of its weights: slots hold distinct tokens
        toks, inverse = np.unique(drawn[c], return_inverse=True)
        w = np.bincount(inverse, weights=raw[c], minlength=toks.size)
        succ[c, : toks.size] = toks
        weights[c, : toks.size] = w / w.sum()
        prob[c], alias[c] = alias_table(weights[c])
    return Source(unigram, succ, weights, float(mix), alias_table(unigram), (prob, alias))


def draw(
    source: Source, template: np.ndarray, is_boundary: np.ndarray, key: int, lane: int = LANE
) -> tuple[np.ndarray, np.ndarray]:
    """A stream shaped like ``template`` and the surprise -ln p of each of its tokens
    (float64; 0 at position 0, which is never scored, and at boundary positions)."""
    template = np.asarray(template)
    n = template.size
    out = np.array(template, dtype=np.uint16)
    nats = np.zeros(n, dtype=np.float64)
    boundary = is_boundary[template.astype(np.int64)]
    starts, lengths = _lanes(boundary, lane)
    if not starts.size:
        return out, nats
    order = np.argsort(-lengths, kind="stable")  # longest first: active lanes are a prefix
    starts, lengths = starts[order], lengths[order]
    # Context of each lane's first token: the boundary token before it, else none (-1).
    before = np.where(starts > 0, starts - 1, 0)
    first_ctx = np.where((starts > 0) & boundary[before], template[before].astype(np.int64), -1)
    rng = np.random.default_rng([key, 1])
    # lengths is sorted descending; active lanes at step k are those with length > k
    active_at = np.searchsorted(-lengths, -np.arange(int(lengths[0])), side="left")
    for k in range(int(lengths[0])):
        a = int(active_at[k])
        pos = starts[:a] + k
        ctx = first_ctx[:a] if k == 0 else out[pos - 1].astype(np.int64)
        has_ctx = ctx >= 0
        c = np.where(has_ctx, ctx, 0)
        r = rng.random((5, a))
        use_row = has_ctx & (r[0] < source.mix)
        slot = source.sample_slot(c, r[1], r[2])
        tok = np.where(use_row, source.successors[c, slot], source.sample_unigram(r[3], r[4]))
        # the row weight of the token: its slot's when the row drew it, else searched
        p_row = np.where(use_row, source.weights[c, slot], 0.0)
        other = np.flatnonzero(has_ctx & ~use_row)
        if other.size:
            hit = source.successors[c[other]] == tok[other, None]
            p_row[other] = (hit * source.weights[c[other]]).sum(axis=1)
        p = np.where(
            has_ctx,
            source.mix * p_row + (1.0 - source.mix) * source.unigram[tok],
            source.unigram[tok],
        )
        out[pos] = tok
        nats[pos] = -np.log(p)
    nats[0] = 0.0
    return out, nats


def _lanes(boundary: np.ndarray, lane: int) -> tuple[np.ndarray, np.ndarray]:
    """Start and length of every run of ordinary positions, cut into pieces of ``lane``."""
    n = boundary.size
    ordinary = ~boundary
    edges = np.diff(np.concatenate([[0], ordinary.astype(np.int8), [0]]))
    run_starts = np.flatnonzero(edges == 1)
    run_ends = np.flatnonzero(edges == -1)
    if not run_starts.size:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    pieces = (run_ends - run_starts + lane - 1) // lane
    starts = np.repeat(run_starts, pieces)
    offset = np.arange(starts.size) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    starts = starts + offset * lane
    ends = np.minimum(starts + lane, np.repeat(run_ends, pieces))
    assert ends.max() <= n
    return starts.astype(np.int64), (ends - starts).astype(np.int64)


def min_window_sum(nats: np.ndarray, count: int) -> float:
    """The smallest total surprise of ``count`` consecutive scorable positions (1..n-1): the
    ideal code length to use when only the number of scored positions is known."""
    body = nats[1:]
    count = int(min(max(count, 0), body.size))
    if count == 0:
        return 0.0
    csum = np.concatenate([[0.0], np.cumsum(body)])
    return float((csum[count:] - csum[:-count]).min())
