"""The scoring ledger: a tiny opt-in API a submission calls while it evaluates.

A submission reports what it does to the validation stream, and golf-check checks the four
scoring conditions of https://github.com/openai/parameter-golf/issues/1017 exactly:

* ``begin(name, tokens)``: an evaluation pass over the validation stream starts from the
  artifact's state (one pass per reported score line);
* ``scored(start, end, nll, logprobs=None)``: positions ``[start, end)`` were scored.
  Position p is the index of the TARGET token in the validation stream: it is predicted from
  ``tokens[:p]``, so positions run 1..N-1. ``nll`` holds the nats of each position; the
  optional ``logprobs`` (``(end-start, V)``) are the full log-distributions, for C2;
* ``adapting(start, end)``: called BEFORE any state update (gradient step, cache or mixer
  update, bias fit) that uses the tokens at positions ``[start, end)``.

Everything is a no-op unless ``GOLF_CHECK_LEDGER=<dir>`` is set; then each process appends one
JSON line per event to ``<dir>/ledger.rank<RANK>.jsonl``. ``LedgerChecker`` holds the checks,
and the same class re-checks the files out of process (``check_dir``). docs/ledger.md is the
precise contract.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ENV_DIR = "GOLF_CHECK_LEDGER"
ENV_SAMPLE = "GOLF_CHECK_LEDGER_SAMPLE"
ENV_DUMP = "GOLF_CHECK_LEDGER_DUMP"
DEFAULT_SAMPLE = 1 / 32
SUM_TOLERANCE = 1e-4  # |sum_v p(v) - 1|
GOLD_TOLERANCE = 1e-3  # |(-log p(gold)) - nll| in nats, plus 1e-4 relative
MAX_REPORTED = 10  # offending positions kept per violation
CONDITIONS = ("C2", "C3", "C4")
_SAMPLE_HASH = 2654435761  # Knuth's multiplicative hash: a fixed, chunking-independent sample


def sampled_positions(start: int, end: int, fraction: float) -> np.ndarray:
    """Positions in [start, end) whose distribution is checked: the same set however the
    stream is cut into calls, so two runs check the same positions."""
    pos = np.arange(start, end, dtype=np.int64)
    if fraction >= 1:
        return pos
    if fraction <= 0:
        return pos[:0]
    keyed = (pos * _SAMPLE_HASH) & 0xFFFFFFFF
    return pos[keyed < int(fraction * 2**32)]


def row_statistics(
    logprobs, rows: np.ndarray, targets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """log(sum_v p(v)) and log p(gold) of the given rows, reduced where the tensor lives, so
    only two numbers per row leave an accelerator. ``targets`` holds the gold token per row."""
    if hasattr(logprobs, "detach"):
        import torch

        index = torch.as_tensor(rows, dtype=torch.long, device=logprobs.device)
        lp = logprobs.detach().index_select(0, index).float()
        gold_index = torch.as_tensor(targets, dtype=torch.long, device=lp.device)[:, None]
        lse = torch.logsumexp(lp, dim=1)
        gold = lp.gather(1, gold_index).squeeze(1)
        return lse.double().cpu().numpy(), gold.double().cpu().numpy()
    lp = np.asarray(logprobs)[rows].astype(np.float64)
    top = lp.max(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", over="ignore"):
        lse = (top + np.log(np.exp(lp - top).sum(axis=1, keepdims=True)))[:, 0]
    return lse, lp[np.arange(rows.size), np.asarray(targets, dtype=np.int64)]


def check_distributions(
    lse: np.ndarray, gold_logprob: np.ndarray, nll: np.ndarray, positions: np.ndarray
) -> dict[str, Any]:
    """C2 from per-row statistics: each distribution sums to 1 (``lse`` = log of its sum is
    0) and its gold entry equals the scored nll. ``positions`` name the rows in reports."""
    with np.errstate(invalid="ignore", over="ignore"):
        sum_err = np.abs(np.exp(np.asarray(lse, np.float64)) - 1.0)
        scored_nll = np.asarray(nll, dtype=np.float64)
        gold_err = np.abs(-np.asarray(gold_logprob, np.float64) - scored_nll)
    sum_err[~np.isfinite(sum_err)] = np.inf
    gold_err[~np.isfinite(gold_err)] = np.inf
    bad_sum = sum_err > SUM_TOLERANCE
    bad_gold = gold_err > GOLD_TOLERANCE + 1e-4 * np.abs(scored_nll)
    return {
        "checked": int(positions.size),
        "max_sum_err": float(sum_err.max()) if positions.size else 0.0,
        "max_gold_err": float(gold_err.max()) if positions.size else 0.0,
        "bad_sum": [int(p) for p in positions[bad_sum][:MAX_REPORTED]],
        "bad_sum_count": int(bad_sum.sum()),
        "bad_gold": [int(p) for p in positions[bad_gold][:MAX_REPORTED]],
        "bad_gold_count": int(bad_gold.sum()),
    }


# --------------------------------------------------------------------------- the checker


@dataclass
class Violation:
    condition: str  # C2 | C3 | C4
    pass_name: str
    message: str
    positions: list[int] = field(default_factory=list)  # the first offending positions
    count: int = 0  # how many positions offend in total

    def to_json(self) -> dict[str, Any]:
        return {
            "condition": self.condition,
            "pass": self.pass_name,
            "message": self.message,
            "positions": self.positions,
            "count": self.count,
        }


@dataclass
class PassSummary:
    name: str
    n_tokens: int | None
    scored: int = 0  # scoring events' positions, duplicates included
    nll_sum: float = 0.0
    distributions_checked: int = 0
    adapted: int = 0  # positions adapted on, duplicates included
    tokens_sha256: str | None = None

    @property
    def mean_nll(self) -> float | None:
        return self.nll_sum / self.scored if self.scored else None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "n_tokens": self.n_tokens,
            "scored": self.scored,
            "nll_sum": self.nll_sum,
            "mean_nll": self.mean_nll,
            "distributions_checked": self.distributions_checked,
            "adapted": self.adapted,
            "tokens_sha256": self.tokens_sha256,
        }


@dataclass
class LedgerVerdict:
    status: dict[str, str]  # condition -> ok | violated | unchecked
    violations: list[Violation]
    passes: list[PassSummary]
    events: int

    @property
    def ok(self) -> bool:
        return not self.violations

    def summary_line(self) -> str:
        parts = " ".join(f"{c} {self.status[c]}" for c in CONDITIONS)
        checked = sum(p.distributions_checked for p in self.passes)
        scored = sum(p.scored for p in self.passes)
        tail = f"({len(self.passes)} passes, {scored} positions scored, {checked} distributions checked"
        if self.violations:
            first = self.violations[0]
            tail += f"; first: {first.condition} {first.pass_name}: {first.message}"
        return f"ledger: {parts} {tail})"

    def to_json(self) -> dict[str, Any]:
        return {
            "status": dict(self.status),
            "violations": [v.to_json() for v in self.violations],
            "passes": [p.to_json() for p in self.passes],
            "events": self.events,
        }


class _PassState:
    def __init__(self, name: str, n_tokens: int | None) -> None:
        self.summary = PassSummary(name, n_tokens)
        size = n_tokens if n_tokens is not None else 1024
        self.counts = np.zeros(size, dtype=np.uint8)  # times each position was scored
        self.adapted = np.zeros(size, dtype=bool)  # position's token entered an update
        self.ranks: set[int] = set()  # ranks that began this pass

    def grow(self, end: int) -> None:
        if end > self.counts.size:
            new = max(end, 2 * self.counts.size)
            self.counts = np.concatenate([self.counts, np.zeros(new - self.counts.size, np.uint8)])
            self.adapted = np.concatenate([self.adapted, np.zeros(new - self.adapted.size, bool)])


_OUTSIDE = "(outside any pass)"


class LedgerChecker:
    """Checks C2, C3 and C4 over a stream of ledger events (in order of time).

    C2: every checked distribution sums to 1 and its gold entry equals the scored nll.
    C3: every adapted position was already scored in its pass, and no position is scored
        after an update that used it. Adapting outside any pass (e.g. calibrating the artifact
        on validation tokens) is a violation: nothing was scored yet.
    C4: within a pass every position 1..N-1 is scored exactly once, none out of range.
    """

    def __init__(self) -> None:
        self._passes: dict[str, _PassState] = {}
        self._order: list[str] = []
        self._current: str | None = None
        self._violations: dict[tuple[str, str, str], Violation] = {}
        self._c2_seen = False
        self._events = 0

    # -- feeding

    def feed(self, event: dict[str, Any]) -> None:
        self._events += 1
        kind = event.get("event")
        if kind == "begin":
            self._begin(event)
        elif kind == "scored":
            self._scored(event)
        elif kind == "adapting":
            self._adapting(event)

    def feed_all(self, events) -> LedgerChecker:
        for event in events:
            self.feed(event)
        return self

    def _pass(self, event: dict[str, Any]) -> _PassState | None:
        name = event.get("pass") or self._current
        if name is None:
            return None
        if name not in self._passes:  # scored without begin: a pass of unknown length
            self._passes[name] = _PassState(name, None)
            self._order.append(name)
        return self._passes[name]

    def _begin(self, event: dict[str, Any]) -> None:
        name, rank = event["pass"], event.get("rank", 0)
        if name in self._passes:
            state = self._passes[name]
            # Every rank of a distributed run begins the same pass; one rank beginning it
            # again would hide a second scoring of its tokens.
            if rank in state.ranks or state.summary.n_tokens != int(event["n_tokens"]):
                self._flag("C4", name, "pass begun twice", [], 0)
            state.ranks.add(rank)
            self._current = name
            return
        state = _PassState(name, int(event["n_tokens"]))
        state.summary.tokens_sha256 = event.get("tokens_sha256")
        state.ranks.add(rank)
        self._passes[name] = state
        self._order.append(name)
        self._current = name

    def _range(self, event: dict[str, Any]) -> tuple[int, int]:
        return int(event["start"]), int(event["end"])

    def _scored(self, event: dict[str, Any]) -> None:
        state = self._pass(event)
        name = state.summary.name if state else _OUTSIDE
        if state is None:
            state = self._passes.setdefault(_OUTSIDE, _PassState(_OUTSIDE, None))
            if _OUTSIDE not in self._order:
                self._order.append(_OUTSIDE)
        start, end = self._range(event)
        n = state.summary.n_tokens
        lo, hi = max(start, 1), end if n is None else min(end, n)
        if start < 1 or (n is not None and end > n):
            bad = [p for p in range(start, end) if p < 1 or (n is not None and p >= n)]
            self._flag("C4", name, "scored positions outside 1..N-1", bad, len(bad))
        if hi > lo:
            state.grow(hi)
            seen = np.flatnonzero(state.counts[lo:hi]) + lo
            if seen.size:
                self._flag("C4", name, "position scored more than once", seen, seen.size)
            stale = np.flatnonzero(state.adapted[lo:hi]) + lo
            if stale.size:
                self._flag("C3", name, "scored after an update that used it", stale, stale.size)
            counts = state.counts[lo:hi]
            np.minimum(counts.astype(np.uint16) + 1, 255, out=counts, casting="unsafe")
        summary = state.summary
        summary.scored += max(end - start, 0)
        summary.nll_sum += float(event.get("nll_sum", 0.0))
        c2 = event.get("c2")
        if c2:
            self._c2_seen = True
            summary.distributions_checked += int(c2.get("checked", 0))
            if c2.get("bad_sum_count"):
                msg = f"distribution does not sum to 1 (max error {c2.get('max_sum_err'):.3g})"
                self._flag("C2", name, msg, c2["bad_sum"], c2["bad_sum_count"])
            if c2.get("bad_gold_count"):
                msg = (
                    "scored nll differs from the distribution's gold entry "
                    f"(max {c2.get('max_gold_err'):.3g} nats)"
                )
                self._flag("C2", name, msg, c2["bad_gold"], c2["bad_gold_count"])

    def _adapting(self, event: dict[str, Any]) -> None:
        start, end = self._range(event)
        state = self._pass(event)
        if state is None:
            msg = "adapted on validation tokens outside any evaluation pass, before scoring them"
            self._flag(
                "C3", _OUTSIDE, msg, list(range(start, min(end, start + MAX_REPORTED))), end - start
            )
            return
        name = state.summary.name
        lo, hi = max(start, 0), end
        state.grow(hi)
        unscored = np.flatnonzero(state.counts[lo:hi] == 0) + lo
        if unscored.size:
            self._flag("C3", name, "adapted on positions not yet scored", unscored, unscored.size)
        state.adapted[lo:hi] = True
        state.summary.adapted += max(hi - lo, 0)

    def _flag(self, condition: str, pass_name: str, message: str, positions, count: int) -> None:
        key = (condition, pass_name, message.split(" (")[0])
        found = self._violations.get(key)
        if found is None:
            found = self._violations[key] = Violation(condition, pass_name, message)
        room = MAX_REPORTED - len(found.positions)
        found.positions.extend(int(p) for p in list(positions)[: max(room, 0)])
        found.count += int(count)

    # -- the verdict

    def verdict(self) -> LedgerVerdict:
        violations = list(self._violations.values())
        for name in self._order:
            state = self._passes[name]
            n = state.summary.n_tokens
            if n is None or n < 2:
                continue
            missing = np.flatnonzero(state.counts[1:n] == 0) + 1
            if missing.size:
                violations.append(
                    Violation(
                        "C4",
                        name,
                        "positions never scored",
                        [int(p) for p in missing[:MAX_REPORTED]],
                        int(missing.size),
                    )
                )
        status = {}
        for c in CONDITIONS:
            if any(v.condition == c for v in violations):
                status[c] = "violated"
            elif c == "C2" and not self._c2_seen:
                status[c] = "unchecked"
            elif c == "C4" and not any(self._passes[n].summary.n_tokens for n in self._order):
                status[c] = "unchecked"
            else:
                status[c] = "ok"
        passes = [self._passes[n].summary for n in self._order]
        return LedgerVerdict(status, violations, passes, self._events)


def read_ledger(directory: str | os.PathLike) -> list[dict[str, Any]]:
    """All events of every rank in ``directory``, merged in time order.

    Timestamps are ``time.monotonic()``, one clock for every process on a machine, so events
    of different ranks interleave correctly. A torn last line (a killed process) is skipped.
    """
    from golf_check.harness.errors import InputError

    directory = Path(directory)
    paths = sorted(directory.glob("ledger.rank*.jsonl"))
    if not paths:
        raise InputError(f"{directory}: no ledger.rank*.jsonl files")
    events: list[dict[str, Any]] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise InputError(f"{path}: cannot read ledger: {exc.strerror}") from None
        lines = text.splitlines()
        for i, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                if i == len(lines) - 1:
                    continue
                raise InputError(f"{path}:{i + 1}: malformed ledger line") from None
            if not isinstance(event, dict) or "event" not in event:
                raise InputError(f"{path}:{i + 1}: not a ledger event")
            events.append(event)
    events.sort(key=lambda e: (e.get("t", 0.0), e.get("rank", 0), e.get("seq", 0)))
    return events


def check_dir(directory: str | os.PathLike) -> LedgerVerdict:
    return LedgerChecker().feed_all(read_ledger(directory)).verdict()


# --------------------------------------------------------------------------- the recorder


def _to_numpy(x) -> np.ndarray:
    if hasattr(x, "detach"):  # a torch tensor, possibly on an accelerator
        x = x.detach()
        if x.dtype.is_floating_point and x.dtype.itemsize < 4:
            x = x.float()
        x = x.cpu().numpy()
    return np.asarray(x)


class _Recorder:
    def __init__(self, directory: Path) -> None:
        self.rank = int(os.environ.get("RANK", "0") or 0)
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.path = directory / f"ledger.rank{self.rank}.jsonl"
        self.fh = open(self.path, "a", encoding="utf-8")
        self.sample = float(os.environ.get(ENV_SAMPLE, "") or DEFAULT_SAMPLE)
        self.dump_n = int(os.environ.get(ENV_DUMP, "") or 0)
        self.checker = LedgerChecker()
        self.tokens: np.ndarray | None = None
        self.pass_name: str | None = None
        self.seq = 0
        self.dump: np.ndarray | None = None
        atexit.register(self.close)

    def write(self, event: dict[str, Any]) -> None:
        self.seq += 1
        event.update(t=time.monotonic(), rank=self.rank, seq=self.seq)
        self.fh.write(json.dumps(event, separators=(",", ":")) + "\n")
        self.fh.flush()
        self.checker.feed(event)

    def begin(self, name: str, tokens) -> None:
        self._flush_dump()
        self.tokens = _to_numpy(tokens)
        self.pass_name = name
        digest = hashlib.sha256(np.ascontiguousarray(self.tokens).tobytes()).hexdigest()
        self.write(
            {
                "event": "begin",
                "pass": name,
                "n_tokens": int(self.tokens.size),
                "tokens_sha256": digest,
            }
        )

    def scored(self, start: int, end: int, nll, logprobs) -> None:
        nll_np = _to_numpy(nll).astype(np.float64).reshape(-1)
        if nll_np.size != end - start:
            raise ValueError(
                f"ledger.scored: {nll_np.size} nll values for positions [{start}, {end})"
            )
        event: dict[str, Any] = {
            "event": "scored",
            "pass": self.pass_name,
            "start": int(start),
            "end": int(end),
            "nll_sum": float(nll_np.sum()),
            "count": int(end - start),
        }
        if logprobs is not None and self.tokens is not None:
            rows = sampled_positions(start, end, self.sample) - start
            targets = self.tokens[start:end].astype(np.int64)[rows]
            if callable(logprobs):  # rows on demand: build only the ones checked
                lse, gold = row_statistics(logprobs(rows), np.arange(rows.size), targets)
            else:
                lse, gold = row_statistics(logprobs, rows, targets)
            event["c2"] = check_distributions(lse, gold, nll_np[rows], rows + start)
            if start < self.dump_n:
                stop = min(end, self.dump_n)
                if callable(logprobs):
                    self._record_dump(start, stop, logprobs(np.arange(stop - start)))
                else:
                    self._record_dump(start, stop, logprobs)
        self.write(event)

    def adapting(self, start: int, end: int) -> None:
        self.write(
            {"event": "adapting", "pass": self.pass_name, "start": int(start), "end": int(end)}
        )

    def _record_dump(self, start: int, end: int, logprobs) -> None:
        if self.dump is None:
            vocab = int(logprobs.shape[-1])
            self.dump = np.full((self.dump_n, vocab), np.nan, dtype=np.float32)
        self.dump[start:end] = _to_numpy(logprobs[: end - start]).astype(np.float32)

    def _flush_dump(self) -> None:
        """Write the dumped distributions of the pass just finished: ``dist.<pass>.rank<R>.npy``
        per pass, and ``dist.rank<R>.npy`` always holding the latest pass."""
        if self.dump is None:
            return
        for name in (f"dist.{self.pass_name}.rank{self.rank}.npy", f"dist.rank{self.rank}.npy"):
            tmp = self.directory / (name + ".tmp")
            with open(tmp, "wb") as fh:
                np.save(fh, self.dump)
            os.replace(tmp, self.directory / name)
        self.dump = None

    def close(self) -> None:
        if self.fh.closed:
            return
        self._flush_dump()
        self.fh.close()


_recorder: _Recorder | None = None
_resolved = False


def _get() -> _Recorder | None:
    global _recorder, _resolved
    if not _resolved:
        _resolved = True
        directory = os.environ.get(ENV_DIR)
        if directory:
            _recorder = _Recorder(Path(directory))
    return _recorder


# --------------------------------------------------------------------------- the public API


def listening() -> bool:
    """Whether golf-check is recording; lets a caller skip computing full distributions."""
    return _get() is not None


def begin(name: str, tokens) -> None:
    """An evaluation pass named ``name`` over the validation stream ``tokens`` starts, from the
    artifact's state. Use one pass per reported score line (e.g. ``sliding``, ``ttt``)."""
    rec = _get()
    if rec is not None:
        rec.begin(name, tokens)


def scored(start: int, end: int, nll, logprobs=None) -> None:
    """Positions ``[start, end)`` were scored with per-position nats ``nll``; ``logprobs``,
    shape ``(end-start, V)``, are their full log-distributions (optional, for C2). It may
    also be a function taking row indices (relative to ``start``) and returning those rows'
    log-distributions, called at once, so a caller builds only the rows that are checked."""
    rec = _get()
    if rec is not None:
        rec.scored(start, end, nll, logprobs)


def adapting(start: int, end: int) -> None:
    """Call BEFORE a state update that uses the tokens at positions ``[start, end)``."""
    rec = _get()
    if rec is not None:
        rec.adapting(start, end)


def verdict() -> LedgerVerdict | None:
    """This process's own in-process verdict (None when not listening)."""
    rec = _get()
    return rec.checker.verdict() if rec is not None else None


def finish() -> None:
    """Flush the last pass's distribution dump (also done at exit)."""
    rec = _get()
    if rec is not None:
        rec._flush_dump()


def _reset_for_tests() -> None:
    """Forget the environment decision (tests switch ``GOLF_CHECK_LEDGER`` on and off)."""
    global _recorder, _resolved
    if _recorder is not None:
        _recorder.close()
    _recorder, _resolved = None, False
