"""The Hedge mixer's experts: sparse counts and the torch tables give exactly the dense
distributions, normalized; the mixture's rows agree with the scored gold probabilities."""

from __future__ import annotations

import numpy as np
import torch

from golf_check.reference_model.hedge import (
    CountExperts,
    DenseCounts,
    HedgeMixer,
    NgramExperts,
    OnlineMixture,
    SparseCounts,
)
from golf_check.reference_model.inject import TargetKeyedCache, entropy_expert


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


def repetitive_stream(vocab, n, seed=1):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, vocab, n).astype(np.uint16)
    tokens[1000:1400] = tokens[200:600]  # repetition the caches should pick up
    return tokens


def test_torch_experts_identical_to_dense_reference():
    """Gold probabilities and full rows of the torch tables equal, bit for bit, the dense
    numpy reference's distributions, before and after every update."""
    vocab, buckets = 64, 512
    tokens = repetitive_stream(vocab, 3000)
    dense = NgramExperts(vocab, buckets, prior=2.0, counts=DenseCounts)
    fast = CountExperts(torch.from_numpy(tokens.astype(np.int64)), vocab, buckets, prior=2.0)
    for lo in range(1, 3000, 500):
        hi = min(lo + 500, tokens.size)
        ref = dense.distributions(tokens, lo, hi)
        pos = np.arange(lo, hi)
        gold = fast.gold(lo, hi).numpy()
        assert np.array_equal(gold, ref[:, pos - lo, tokens[lo:hi]])
        some = torch.tensor([0, 1, 7, hi - lo - 1]) + lo  # position 1 has no token two back
        assert np.array_equal(fast.rows(some).numpy(), ref[:, some.numpy() - lo])
        dense.update(tokens, lo, hi)
        fast.update(lo, hi)
    # One cell per expert per counted token, nothing else touched.
    assert int(fast.trigram.sum()) == int(fast.trigram_totals.sum()) == 2999
    assert int(fast.bigram.sum()) == fast.counted == int(fast.unigram.sum()) == 2999


def test_torch_trigram_table_on_cpu_costs_only_touched_pages():
    # 64K buckets x 1024 int32 counts is 256 MiB of address space; a short stream writes to
    # at most one 4 KiB page per bucket it uses, and the OS maps nothing else.
    tokens = torch.from_numpy(np.random.default_rng(0).integers(0, 1024, 20_000))
    experts = CountExperts(tokens, 1024, 65536, prior=2.0)
    assert experts.trigram.numel() * 4 == 256 * 2**20
    experts.update(1, 20_000)
    assert int(experts.trigram.sum()) == 19_999


def test_hedge_mixture_is_a_distribution_and_learns():
    mixer = HedgeMixer(3, eta=1.0)
    probs = torch.softmax(torch.randn(3, 10, 7, dtype=torch.float64), -1)
    assert torch.allclose(mixer.mix(probs).exp().sum(-1), torch.ones(10, dtype=torch.float64))
    w0 = mixer.weights.clone()
    gold = torch.tensor([[0.1] * 5, [0.9] * 5, [0.1] * 5], dtype=torch.float64)
    mixer.update(gold, mixer.mix_gold(gold))  # expert 1 predicts well
    assert mixer.weights[1] > w0[1]
    assert torch.isclose(mixer.weights.sum(), torch.tensor(1.0, dtype=torch.float64))


def test_hedge_update_statistics_unchanged():
    """The step is today's: log w -= eta * mean over tokens of -p_k(x) / p_mix(x)."""
    mixer = HedgeMixer(4, eta=0.5)
    rng = np.random.default_rng(3)
    gold = rng.uniform(0.01, 1.0, (4, 50))
    w = mixer.weights.numpy()
    mix = (w[:, None] * gold).sum(0)
    expected = np.log(w) - 0.5 * (-(gold / mix[None]).sum(1)) / 50
    mixer.update(torch.from_numpy(gold), mixer.mix_gold(torch.from_numpy(gold)))
    expected = np.exp(expected - expected.max())
    assert np.allclose(mixer.weights.numpy(), expected / expected.sum(), rtol=1e-12)


def test_online_mixture_rows_match_the_scored_nll():
    """The nll comes from gold probabilities alone; the rows built on demand sum to one and
    hold, at the gold token, exactly that nll."""
    vocab = 64
    tokens = torch.from_numpy(repetitive_stream(vocab, 1500).astype(np.int64))
    mixture = OnlineMixture(tokens, vocab, 256, prior=2.0, eta=0.5)
    logits = torch.randn(1500, vocab, generator=torch.Generator().manual_seed(0))
    logp = torch.log_softmax(logits, -1)
    for lo in range(1, 1500, 400):
        hi = min(lo + 400, 1500)
        nll, rows, (gold, mix) = mixture.score(lo, hi, logp[lo:hi])
        full = rows(np.arange(hi - lo))
        assert torch.allclose(full.exp().sum(-1), torch.ones(hi - lo, dtype=torch.float64))
        assert torch.equal(-full.gather(1, tokens[lo:hi, None]).squeeze(1), nll)
        assert gold.shape == (4, hi - lo) and torch.equal(-torch.log(mix), nll)
        mixture.learn(lo, hi, gold, mix)
    assert mixture.experts.counted == 1499
    assert not torch.equal(mixture.mixer.weights, HedgeMixer(4, 0.5).weights)


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
