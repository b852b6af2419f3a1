"""The canary: its secret source, the folder it is served in, the Ville bound, and a real run
of the tiny test candidate, honest and peeking."""

from __future__ import annotations

import math
import os
from types import SimpleNamespace

import numpy as np
import pytest

from golf_check.harness.runtime import canary_source
from golf_check.harness.runtime.canary import LEDGER, PRINTED, CanaryResult, judge_spans, run_canary
from golf_check.harness.runtime.canary_data import serve, served_dir
from golf_check.harness.runtime.session import load_stream
from golf_check.harness.shards import ByteLUT, load_split, read_shard, shard_name, write_shard
from golf_check.rules.causality import canary_bound

from .conftest import tiny_lm_options

try:  # bubblewrap where the machine allows it, else the audit hooks (--no-sandbox)
    from .conftest import SANDBOX
except ImportError:
    SANDBOX = True


def _toy(n=6000, vocab=300, seed=0):
    """A toy split: BOS (id 1) every so often, Zipfian ordinary tokens (ids 3..vocab-1)."""
    rng = np.random.default_rng(seed)
    boundary = np.zeros(vocab, dtype=bool)
    boundary[:3] = True
    tokens = 3 + (rng.zipf(1.3, size=n) - 1) % (vocab - 3)
    tokens[rng.random(n) < 0.01] = 1
    tokens[0] = 1
    return tokens.astype(np.uint16), boundary


# ----------------------------------------------------------------------------- the source


def test_source_rows_are_distributions_over_the_whole_vocabulary():
    real, boundary = _toy()
    source = canary_source.make_source(real, boundary, key=11)
    for context in (0, 1, 5, 299):
        row = source.row(context)
        assert row.sum() == pytest.approx(1.0, abs=1e-12)
        assert (row[boundary] == 0).all() and (row[~boundary] > 0).all()
    # keyed: another key, other rows
    other = canary_source.make_source(real, boundary, key=12)
    assert not np.allclose(source.row(5), other.row(5))


def test_draw_keeps_the_shape_of_the_real_split_and_knows_each_tokens_probability():
    real, boundary = _toy()
    source = canary_source.make_source(real, boundary, key=3)
    tokens, nats = canary_source.draw(source, real, boundary, key=3, lane=500)
    assert tokens.size == real.size and tokens.dtype == np.uint16
    at_bound = boundary[real]
    assert np.array_equal(tokens[at_bound], real[at_bound])  # same documents, same markers
    assert not boundary[tokens[~at_bound]].any() and (nats[at_bound] == 0).all()
    # recompute -ln p of every token from the source's full rows
    starts, _ = canary_source._lanes(at_bound, 500)
    no_context = set(int(s) for s in starts if s == 0 or not at_bound[s - 1])
    for t in range(1, tokens.size):
        if at_bound[t]:
            continue
        dist = source.unigram if t in no_context else source.row(int(tokens[t - 1]))
        assert nats[t] == pytest.approx(-math.log(dist[tokens[t]]), rel=1e-9)
    # the real split's unigram, not a small alphabet: as many distinct tokens, same leaders
    assert np.unique(tokens).size > 0.8 * np.unique(real).size
    top_real = set(np.argsort(-np.bincount(real, minlength=300))[:5])
    top_canary = set(np.argsort(-np.bincount(tokens, minlength=300))[:5])
    assert len(top_real & top_canary) >= 3


def test_the_sampler_draws_from_the_distribution_it_reports():
    real, boundary = _toy(n=3000)
    source = canary_source.make_source(real, boundary, key=5)
    template = np.full(200_001, 7, dtype=np.uint16)  # one long document, restarts every lane
    tokens, _ = canary_source.draw(source, template, boundary, key=5)
    counts = np.zeros((300, 300))
    np.add.at(counts, (tokens[:-1].astype(int), tokens[1:].astype(int)), 1)
    context = int(np.argmax(counts.sum(axis=1)))
    seen = counts[context] / counts[context].sum()
    assert np.abs(seen - source.row(context)).sum() < 0.15  # total variation, ~3k draws


def test_min_window_is_the_least_surprising_run():
    nats = np.array([0.0, 5, 1, 1, 9, 0.5, 0.5])
    assert canary_source.min_window_sum(nats, 2) == pytest.approx(1.0)
    assert canary_source.min_window_sum(nats, 6) == pytest.approx(17.0)
    assert canary_source.min_window_sum(nats, 99) == pytest.approx(17.0)


# ----------------------------------------------------------------------------- the bound


def test_no_causal_scorer_beats_the_bound_and_a_peeking_one_does():
    """Ville: even the source itself mixed with an adaptive bigram learner stays above the
    bound on every key; a scorer that gives the target a quarter of its mass falls under."""
    real, boundary = _toy(n=3000)
    alpha = 1e-3
    lowest = math.inf
    for key in range(20):
        source = canary_source.make_source(real, boundary, key=key)
        tokens, nats = canary_source.draw(source, real, boundary, key=key)
        counts = np.ones((300, 300))
        counts[:, boundary] = 0
        total = 0.0
        for t in range(1, tokens.size):
            a, b = int(tokens[t - 1]), int(tokens[t])
            learned = counts[a] / counts[a].sum()
            truth = np.exp(-nats[t]) if nats[t] > 0 else 1.0
            q = 0.5 * truth + 0.5 * learned[b] if not boundary[b] else 1.0
            total += -math.log(q)
            counts[a, b] += 1
        ideal = float(nats[1:].sum())
        lowest = min(lowest, total - (ideal - math.log(1 / alpha)))
        peek = float(np.sum(-np.log(0.25 + 0.75 * np.exp(-nats[1:]))))
        assert peek < ideal - math.log(1 / alpha)
    assert lowest > 0


def test_the_result_says_what_it_judged():
    printed = CanaryResult(
        True, alpha=1e-3, scored=1000, judged=PRINTED, val_loss=3.097, ideal_nats=3100.0
    )
    assert printed.bound_nats == pytest.approx(3100 - math.log(1000))
    assert not printed.violated and "the loss the script printed" in printed.summary()
    cheat = CanaryResult(
        True, alpha=1e-3, scored=1000, judged=LEDGER, ledger_nats=2000.0, ideal_nats=3100.0
    )
    assert cheat.violated and "VIOLATED" in cheat.summary() and "ledger" in cheat.summary()
    assert cheat.to_json()["observed_nats"] == 2000.0
    assert "inconclusive" in CanaryResult(True, reason="x").summary()


def test_ledger_spans_are_judged_once_per_position():
    nats = np.array([0.0] + [2.0] * 9)
    clean = CanaryResult(True, alpha=1e-3, val_loss=1.0)
    judge_spans(clean, [(1, 5, 8.5), (5, 10, 10.5)], nats)
    assert clean.judged == LEDGER and clean.scored == 9 and clean.ideal_nats == 18.0
    assert clean.observed_nats == 19.0 and not clean.violated
    # a rescored span: the ledger holds both scores, so the printed loss is what is judged
    twice = CanaryResult(True, alpha=1e-3, val_loss=1.0)
    judge_spans(twice, [(1, 10, 18.0), (1, 10, 9.0)], nats)
    assert twice.judged == PRINTED and twice.scored == 9 and twice.observed_nats == 9.0
    assert twice.violated  # 9 nats against a bound of 18 - ln 1000


# ----------------------------------------------------------------------------- the folder


def test_the_served_folder_looks_the_same_with_the_canary_in_it(tmp_path):
    data = tmp_path / "fineweb10B_sp1024"
    data.mkdir()
    write_shard(data / shard_name("val", 0), np.arange(1000, dtype=np.uint16))
    write_shard(data / shard_name("val", 1), np.arange(500, dtype=np.uint16))
    write_shard(data / shard_name("train", 0), np.arange(50, dtype=np.uint16))
    os.utime(data / shard_name("val", 0), (1_600_000_000, 1_600_000_000))
    out = tmp_path / "out"
    dest = serve(data, out)
    assert dest == served_dir(data, out) and dest.name == data.name and "canary" not in str(dest)

    def looks(folder):
        return {
            p.name: (p.is_symlink(), p.stat().st_size, p.stat().st_mode, p.stat().st_mtime_ns)
            for p in sorted(folder.iterdir())
        }

    before = looks(dest)
    assert (dest / shard_name("train", 0)).is_symlink()
    assert not (dest / shard_name("val", 0)).is_symlink()
    canary = np.full(1500, 9, dtype=np.uint16)
    assert serve(data, out, canary) == dest
    assert looks(dest) == before  # names, links, sizes, modes, times
    # built afresh for the run: the shards and the links changed together
    names = (shard_name("val", 0), shard_name("train", 0))
    changed = [(dest / name).lstat().st_ctime for name in names]
    assert abs(changed[0] - changed[1]) < 1.0
    assert (read_shard(dest / shard_name("val", 1)) == 9).all()
    header = np.fromfile(dest / shard_name("val", 0), dtype="<i4", count=3)
    assert header.tolist() == [20240520, 1, 1000]
    serve(data, out)
    assert np.array_equal(load_split(dest, "val"), load_split(data, "val"))
    with pytest.raises(ValueError):
        serve(data, out, canary[:10])


# ----------------------------------------------------------------------------- a real run


def _options(small_data, tmp_path, modes):
    return tiny_lm_options(small_data, tmp_path, modes, audits=("trace", "ledger"))


@pytest.mark.parametrize("modes, violated", [("legal", False), ("peek", True)])
def test_canary_catches_a_scorer_that_looks_at_the_target(small_data, tmp_path, modes, violated):
    opts = _options(small_data, tmp_path, modes)
    stream = load_stream(opts)
    result = run_canary(opts, SimpleNamespace(seed=1, artifact=None), stream)
    # the canary split is as long as the real one: tiny_lm scores its positions 1..2047
    assert result.n_tokens == 2048 and result.scored == 2047, result.summary()
    # the trace mapped the run's forwards onto the canary split it was served
    assert result.scored_basis.startswith("trace") and result.judged == PRINTED
    assert "the loss the script printed" in result.summary()
    assert result.violated is violated
    findings = list(canary_bound(SimpleNamespace(canary=result, seed=1, log_rel="x")))
    assert ("C1.canary-bound" in {f.rule for f in findings}) is violated
    # the real split and its index are back in place; the run folder has its plain name
    served = served_dir(opts.data_dir, opts.out_dir)
    assert np.array_equal(load_split(served, "val"), stream.tokens)
    assert np.array_equal(np.load(stream.index_dir / "tokens.npy"), stream.tokens)
    assert (opts.out_dir / "canary" / "trace.jsonl").is_file()
    assert not (opts.out_dir / f"seed{result.run_seed}").exists()


def test_a_ledger_run_is_judged_on_its_ledger(small_data, tmp_path):
    opts = _options(small_data, tmp_path, "ledger,peek")
    result = run_canary(opts, SimpleNamespace(seed=1, artifact=None), load_stream(opts))
    assert result.judged == LEDGER and result.scored == 2047, result.summary()
    assert result.ledger_nats < 0.01 * result.ideal_nats and result.violated


def test_real_and_canary_rows_share_the_vocabulary(small_data):
    """On the demo tokenizer: the canary uses hundreds of distinct ordinary tokens."""
    lut = ByteLUT.from_model(small_data.tokenizer)
    real = load_split(small_data.data_dir, "val")
    source = canary_source.make_source(real, lut.is_boundary, key=1)
    tokens, _ = canary_source.draw(source, real, lut.is_boundary, key=1)
    assert np.unique(tokens).size > 0.8 * np.unique(real).size > 200
