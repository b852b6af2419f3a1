"""The Hedge mixer's experts: sparse counts give exactly the dense distributions, normalized."""

from __future__ import annotations

import numpy as np
import torch

from reference_model.hedge import DenseCounts, HedgeMixer, NgramExperts, SparseCounts
from reference_model.inject import TargetKeyedCache, entropy_expert


def test_sparse_counts_match_dense_rows():
    rng = np.random.default_rng(0)
    sparse, dense = SparseCounts(50, 40), DenseCounts(50, 40)
    for _ in range(5):  # several merges, with repeated cells
        ctx, tok = rng.integers(0, 50, 300), rng.integers(0, 40, 300)
        sparse.add(ctx, tok)
        dense.add(ctx, tok)
    query = np.array([0, 3, 3, 49, 17, 25])
    assert np.array_equal(sparse.rows(query), dense.rows(query))
    assert np.array_equal(sparse.totals, dense.totals)


def test_sparse_trigram_table_is_small():
    # 64K buckets x 1024 tokens is 512 MB as dense float64; a 30K-token stream fills 30K cells.
    rng = np.random.default_rng(0)
    table = SparseCounts(65536, 1024)
    table.add(rng.integers(0, 65536, 30_000), rng.integers(0, 1024, 30_000))
    assert table.nbytes < 2 * 1024 * 1024


def test_expert_distributions_identical_to_dense_and_normalized():
    vocab, buckets = 64, 512
    rng = np.random.default_rng(1)
    tokens = rng.integers(0, vocab, 3000).astype(np.uint16)
    tokens[1000:1400] = tokens[200:600]  # repetition the caches should pick up
    sparse = NgramExperts(vocab, buckets, prior=2.0, counts=SparseCounts)
    dense = NgramExperts(vocab, buckets, prior=2.0, counts=DenseCounts)
    for lo in range(1, 3000, 500):
        hi = min(lo + 500, tokens.size)
        a, b = sparse.distributions(tokens, lo, hi), dense.distributions(tokens, lo, hi)
        assert np.array_equal(a, b)
        assert np.allclose(a.sum(-1), 1.0, atol=1e-12) and (a > 0).all()
        sparse.update(tokens, lo, hi)
        dense.update(tokens, lo, hi)


def test_experts_use_only_counted_tokens():
    tokens = np.array([1, 5, 5, 5, 5, 5, 5, 5], dtype=np.uint16)
    experts = NgramExperts(8, 64, prior=1.0)
    before = experts.distributions(tokens, 4, 5)
    assert np.allclose(before, 1 / 8)  # nothing counted yet: uniform, whatever the target
    experts.update(tokens, 1, 4)
    after = experts.distributions(tokens, 4, 5)
    assert (after[:, 0, 5] > 1 / 8).all()


def test_hedge_mixture_is_a_distribution_and_learns():
    mixer = HedgeMixer(3, eta=1.0)
    probs = torch.softmax(torch.randn(3, 10, 7, dtype=torch.float64), -1)
    assert torch.allclose(mixer.mix(probs).exp().sum(-1), torch.ones(10, dtype=torch.float64))
    w0 = mixer.weights.copy()
    gold = np.array([[0.1] * 5, [0.9] * 5, [0.1] * 5])  # expert 1 predicts well
    mix = (mixer.weights[:, None] * gold).sum(0)
    mixer.update(gold, mix)
    assert mixer.weights[1] > w0[1] and np.isclose(mixer.weights.sum(), 1.0)


def test_injected_experts_are_not_distributions():
    probs = torch.softmax(torch.randn(4, 32), -1)
    # exp(-H) for every token sums to V exp(-H) > 1 unless the distribution is uniform.
    assert (entropy_expert(probs).sum(-1) > 1.01).all()
    tokens = np.tile(np.arange(6, dtype=np.uint16), 50)
    # With hash collisions (few buckets) the count ratios of the candidates no longer sum to 1
    # (https://github.com/openai/parameter-golf/pull/886).
    cache = TargetKeyedCache(32, 16)
    cache.update(tokens, 1, 200)
    blended = cache.blend(tokens, 200, 204, probs)
    assert not torch.allclose(blended.sum(-1), torch.ones(4), atol=1e-3)
