"""The ledger API and its C2/C3/C4 checks: an honest twin and an offending twin per check."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from golf_check.harness import ledger
from golf_check.harness.errors import InputError
from golf_check.harness.ledger import LedgerChecker, check_dir, read_ledger, sampled_positions

V = 16
N = 65


@pytest.fixture
def listen(tmp_path, monkeypatch):
    """Switch the ledger on into a fresh folder, checking every distribution."""
    monkeypatch.setenv(ledger.ENV_DIR, str(tmp_path / "ledger"))
    monkeypatch.setenv(ledger.ENV_SAMPLE, "1")
    monkeypatch.delenv(ledger.ENV_DUMP, raising=False)
    monkeypatch.delenv("RANK", raising=False)
    ledger._reset_for_tests()
    yield tmp_path / "ledger"
    ledger._reset_for_tests()


def stream(seed=0):
    return torch.randint(0, V, (N,), generator=torch.Generator().manual_seed(seed))


def honest_scores(tokens, start, end, seed=0):
    logits = torch.randn(end - start, V, generator=torch.Generator().manual_seed(seed + start))
    logp = torch.log_softmax(logits, -1)
    nll = -logp.gather(1, tokens[start:end, None]).squeeze(1)
    return nll, logp


def score_first_pass(tokens, name="ttt", chunk=16):
    ledger.begin(name, tokens)
    for lo in range(1, N, chunk):
        hi = min(N, lo + chunk)
        ledger.scored(lo, hi, *honest_scores(tokens, lo, hi))
        if hi < N:
            ledger.adapting(lo, hi)


def test_silent_without_environment(tmp_path, monkeypatch):
    monkeypatch.delenv(ledger.ENV_DIR, raising=False)
    monkeypatch.chdir(tmp_path)
    ledger._reset_for_tests()
    tokens = stream()
    score_first_pass(tokens)
    assert not ledger.listening() and ledger.verdict() is None
    assert list(tmp_path.iterdir()) == []


def test_honest_score_first_pass_is_clean(listen):
    tokens = stream()
    score_first_pass(tokens)
    verdict = ledger.verdict()
    assert verdict.ok and verdict.status == {"C2": "ok", "C3": "ok", "C4": "ok"}
    assert verdict.passes[0].scored == N - 1 and verdict.passes[0].distributions_checked == N - 1
    assert verdict.summary_line().startswith("ledger: C2 ok C3 ok C4 ok")
    # Out of process, from the files, the same code gives the same verdict.
    assert check_dir(listen).to_json() == verdict.to_json()


def test_events_are_json_lines_with_monotonic_time(listen):
    tokens = stream()
    score_first_pass(tokens)
    lines = (listen / "ledger.rank0.jsonl").read_text().splitlines()
    events = [json.loads(x) for x in lines]
    assert events[0]["event"] == "begin" and events[0]["n_tokens"] == N
    assert {"start", "end", "nll_sum", "count", "c2", "t"} <= set(events[1])
    assert events[2] == {**events[2], "event": "adapting", "start": 1, "end": 17}
    times = [e["t"] for e in events]
    assert times == sorted(times)


def test_adapting_before_scoring_is_c3(listen):
    tokens = stream()
    ledger.begin("ttt", tokens)
    ledger.adapting(1, N)  # train on the whole split first
    ledger.scored(1, N, *honest_scores(tokens, 1, N))
    v = ledger.verdict()
    assert v.status["C3"] == "violated" and v.status["C4"] == "ok"
    messages = {x.message for x in v.violations}
    assert "adapted on positions not yet scored" in messages
    assert "scored after an update that used it" in messages
    assert v.violations[0].positions[:3] == [1, 2, 3] and v.violations[0].count == N - 1


def test_rescoring_is_c4_and_c3(listen):
    tokens = stream()
    ledger.begin("ttt", tokens)
    ledger.scored(1, 33, *honest_scores(tokens, 1, 33))
    ledger.adapting(1, 33)
    ledger.scored(1, 33, *honest_scores(tokens, 1, 33, seed=1))  # the second score is reported
    ledger.scored(33, N, *honest_scores(tokens, 33, N))
    v = ledger.verdict()
    assert v.status["C4"] == "violated" and v.status["C3"] == "violated"
    dup = next(x for x in v.violations if x.condition == "C4")
    assert dup.message == "position scored more than once" and dup.count == 32


def test_missing_and_out_of_range_positions_are_c4(listen):
    tokens = stream()
    ledger.begin("plain", tokens)
    ledger.scored(0, 30, *honest_scores(tokens, 0, 30))  # position 0 has no prefix
    v = ledger.verdict()
    assert v.status["C4"] == "violated"
    kinds = {x.message: x for x in v.violations}
    assert kinds["scored positions outside 1..N-1"].positions == [0]
    assert kinds["positions never scored"].positions[0] == 30
    assert kinds["positions never scored"].count == N - 30


def test_pass_begun_twice_is_c4(listen):
    tokens = stream()
    score_first_pass(tokens, "plain")
    ledger.begin("plain", tokens)
    assert ledger.verdict().status["C4"] == "violated"


def test_unnormalized_distribution_is_c2(listen):
    tokens = stream()
    ledger.begin("hedge", tokens)
    nll, logp = honest_scores(tokens, 1, N)
    mass = logp.exp() + logp.exp().mean(-1, keepdim=True)  # an extra 'expert' mass on top
    bad = torch.log(mass)
    ledger.scored(1, N, -bad.gather(1, tokens[1:, None]).squeeze(1), bad)
    v = ledger.verdict()
    assert v.status == {"C2": "violated", "C3": "ok", "C4": "ok"}
    assert v.violations[0].message.startswith("distribution does not sum to 1")


def test_nll_not_from_the_distribution_is_c2(listen):
    tokens = stream()
    ledger.begin("cache", tokens)
    nll, logp = honest_scores(tokens, 1, N)
    ledger.scored(1, N, nll * 0.5, logp)  # a gold-only probability better than the distribution
    v = ledger.verdict()
    assert v.status["C2"] == "violated"
    assert v.violations[0].message.startswith(
        "scored nll differs from the distribution's gold entry"
    )


def test_c2_unchecked_without_distributions(listen):
    tokens = stream()
    ledger.begin("plain", tokens)
    ledger.scored(1, N, honest_scores(tokens, 1, N)[0])
    assert ledger.verdict().status == {"C2": "unchecked", "C3": "ok", "C4": "ok"}


def test_adapting_outside_a_pass_is_c3(listen):
    ledger.adapting(0, 512)  # e.g. quantization calibrated on validation tokens
    v = ledger.verdict()
    assert v.status["C3"] == "violated"
    assert v.violations[0].pass_name == "(outside any pass)"


def test_sampling_is_deterministic_and_about_the_fraction():
    a = sampled_positions(1, 100_001, 1 / 32)
    pieces = np.concatenate(
        [sampled_positions(lo, lo + 777, 1 / 32) for lo in range(1, 100_001, 777)]
    )
    assert np.array_equal(a, pieces[pieces < 100_001])
    assert 2500 < a.size < 3750
    assert sampled_positions(5, 9, 1).tolist() == [5, 6, 7, 8]
    assert sampled_positions(5, 9, 0).size == 0


def test_sampled_checks_only_look_at_the_sample(tmp_path, monkeypatch):
    monkeypatch.setenv(ledger.ENV_DIR, str(tmp_path))
    monkeypatch.setenv(ledger.ENV_SAMPLE, "0.25")
    ledger._reset_for_tests()
    tokens = stream()
    score_first_pass(tokens)
    checked = ledger.verdict().passes[0].distributions_checked
    ledger._reset_for_tests()
    assert checked == sampled_positions(1, N, 0.25).size < N - 1


def test_rows_on_demand_build_only_the_sampled_rows(tmp_path, monkeypatch):
    """A function of row indices in place of the (n, V) tensor: the ledger asks it for the
    sampled rows only (and for the dumped ones), and checks them like a tensor's."""
    monkeypatch.setenv(ledger.ENV_DIR, str(tmp_path))
    monkeypatch.setenv(ledger.ENV_SAMPLE, "0.25")
    monkeypatch.setenv(ledger.ENV_DUMP, "10")
    ledger._reset_for_tests()
    tokens = stream()
    nll, logp = honest_scores(tokens, 1, N)
    asked = []

    def rows(idx):
        asked.append(np.asarray(idx).copy())
        return logp[torch.as_tensor(idx, dtype=torch.long)]

    ledger.begin("hedge", tokens)
    ledger.scored(1, N, nll, rows)
    sample = sampled_positions(1, N, 0.25) - 1
    assert np.array_equal(asked[0], sample) and np.array_equal(asked[1], np.arange(9))
    v = ledger.verdict()
    assert v.status == {"C2": "ok", "C3": "ok", "C4": "ok"}
    assert v.passes[0].distributions_checked == sample.size

    def bad_rows(idx):  # mass on top of the distribution: caught on the rows built
        return torch.log(rows(idx).exp() + 0.01)

    ledger.begin("bad", tokens)
    ledger.scored(1, N, nll, bad_rows)
    ledger.finish()
    assert ledger.verdict().status["C2"] == "violated"
    assert np.allclose(np.load(tmp_path / "dist.hedge.rank0.npy")[1:10], logp[:9].numpy())


def test_dump_writes_the_first_positions_distributions(listen, monkeypatch):
    monkeypatch.setenv(ledger.ENV_DUMP, "20")
    ledger._reset_for_tests()
    tokens = stream()
    score_first_pass(tokens, "a")
    score_first_pass(tokens, "b")
    ledger.finish()
    dump = np.load(listen / "dist.rank0.npy")
    assert dump.shape == (20, V) and dump.dtype == np.float32
    assert np.isnan(dump[0]).all()  # position 0 is never scored
    expected = honest_scores(tokens, 1, 17)[1][:19].numpy()
    assert np.allclose(dump[1:17], expected)
    assert (listen / "dist.a.rank0.npy").exists() and (listen / "dist.b.rank0.npy").exists()


def test_wrong_nll_length_is_a_programming_error(listen):
    tokens = stream()
    ledger.begin("p", tokens)
    with pytest.raises(ValueError, match="nll values"):
        ledger.scored(1, 10, torch.zeros(3))


def test_read_ledger_merges_ranks_in_time_order(tmp_path):
    r0 = [
        {"event": "begin", "pass": "p", "n_tokens": 9, "t": 1.0, "rank": 0},
        {"event": "scored", "pass": "p", "start": 1, "end": 5, "nll_sum": 1.0, "t": 2.0, "rank": 0},
    ]
    r1 = [
        {"event": "scored", "pass": "p", "start": 5, "end": 9, "nll_sum": 1.0, "t": 1.5, "rank": 1},
        {"event": "adapting", "pass": "p", "start": 1, "end": 9, "t": 3.0, "rank": 1},
    ]
    (tmp_path / "ledger.rank0.jsonl").write_text("\n".join(json.dumps(e) for e in r0) + "\n")
    # A killed process can leave a torn last line: skipped.
    (tmp_path / "ledger.rank1.jsonl").write_text(
        "\n".join(json.dumps(e) for e in r1) + '\n{"event": "sco'
    )
    events = read_ledger(tmp_path)
    assert [e["t"] for e in events] == [1.0, 1.5, 2.0, 3.0]
    v = LedgerChecker().feed_all(events).verdict()
    assert v.ok and v.passes[0].scored == 8


def test_read_ledger_bad_input(tmp_path):
    with pytest.raises(InputError, match="no ledger"):
        read_ledger(tmp_path)
    (tmp_path / "ledger.rank0.jsonl").write_text('not json\n{"event": "begin"}\n')
    with pytest.raises(InputError, match="malformed ledger line"):
        read_ledger(tmp_path)
    (tmp_path / "ledger.rank0.jsonl").write_bytes(b'[1, 2]\n{"event": "x"}\n')
    with pytest.raises(InputError, match="not a ledger event"):
        read_ledger(tmp_path)


def test_documented_fallback_shim_works_without_golf_check(monkeypatch):
    """The ten-line shim in docs/ledger.md makes every call a no-op when the import fails."""
    import re
    import sys
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "ledger.md").read_text()
    shim = next(
        b for b in re.findall(r"```python\n(.*?)```", doc, re.S) if "except ImportError" in b
    )
    monkeypatch.setitem(sys.modules, "golf_check.harness", None)  # "not installed"
    scope: dict = {}
    exec(shim, scope)
    shimmed = scope["ledger"]
    assert shimmed is not ledger and shimmed.listening() is False
    shimmed.begin("p", [1, 2])
    shimmed.scored(1, 2, [0.5], None)
    shimmed.adapting(1, 2)
    shimmed.finish()


def test_every_rank_begins_the_same_pass():
    begin = {"event": "begin", "pass": "p", "n_tokens": 9}
    ok = LedgerChecker().feed_all([{**begin, "rank": 0}, {**begin, "rank": 1}]).verdict()
    assert ok.status["C4"] != "violated" or all(
        v.message != "pass begun twice" for v in ok.violations
    )
    twice = LedgerChecker().feed_all([{**begin, "rank": 1}, {**begin, "rank": 1}]).verdict()
    assert any(v.message == "pass begun twice" for v in twice.violations)


def test_numpy_distributions_are_checked_alike(listen):
    tokens = stream().numpy()
    nll, logp = honest_scores(torch.from_numpy(tokens), 1, N)
    ledger.begin("np", tokens)
    ledger.scored(1, 33, nll[:32].numpy(), logp[:32].numpy())
    ledger.scored(33, N, nll[32:].numpy(), logp[32:].numpy() + 0.01)  # mass ~1.01
    v = ledger.verdict()
    bad = next(x for x in v.violations if x.condition == "C2" and "sum" in x.message)
    assert bad.positions[0] == 33 and bad.count == N - 33
