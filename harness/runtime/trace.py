"""Read the audit shim's events and replay what the run did to the validation stream.

``from_events`` takes the events the launcher received live over the trace channel (one
monotonic clock for all processes), in time order; a connection to the rendezvous port that
a process of the run listened on itself becomes a network event (it is not torch's
rendezvous). ``check_integrity`` says what is missing or inconsistent in them: no events
from the main process, a silent stretch before it ended, no exit event, withheld forward
events, shim hooks replaced, Python children started without the shim. ``replay_coverage`` walks the forward passes and updates in order and
answers the black-box questions of the runtime checks:

* which validation positions were used with gradients before the artifact existed;
* which positions an update during evaluation used before any no-grad pass had covered them
  (score-before-update, C3);
* which no-grad windows, after an update, ended on a position that was scored and then used
  by that update (a second scoring of adapted tokens, C4). Sliding windows whose *context* overlaps adapted
  tokens are legal and not counted: only the last predicted position of a window is.

A no-grad forward over input rows ``tokens[s:e]`` covers positions ``[s, e]``: its last
output predicts the token at ``e``. When the call also received the targets (two token
tensors), they map to ``[s+1, e+1)`` themselves. ``load_state_dict`` on the model starts a new
evaluation episode (coverage and adaptation are forgotten), which is how a script resets to
the artifact between its evaluation variants.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class Trace:
    events: list[dict[str, Any]]
    processes: int
    torn_lines: int = 0  # a killed process may leave half a line

    def of(self, *kinds: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("ev") in kinds]

    def opens(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("ev") == "open" and e.get("kind") == kind]


def from_events(events: list[dict[str, Any]] | None, malformed: int = 0) -> Trace:
    events = [e for e in events or [] if math.isfinite(e.get("t", math.nan))]
    events.sort(key=lambda e: e["t"])
    bound = {e.get("port") for e in events if e.get("ev") == "bind"}
    for event in events:
        if event.get("ev") == "rdv" and event.get("port") in bound:
            event.update(ev="net", loopback=True, blocked=False, spoofed_rendezvous=True)
    pids = {e.get("pid") for e in events if e.get("ev") == "start"}
    return Trace(events, len(pids), malformed)


def read_trace(path: Path) -> Trace:
    """The trace file the launcher copied the channel to (one JSON event per line)."""
    events, torn = [], 0
    if path.is_file():
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    torn += 1
                    continue
                if isinstance(event, dict) and isinstance(event.get("t"), (int, float)):
                    events.append(event)
    return from_events(events, torn)


SILENCE_S = 30.0  # the heartbeat comes every 2 s; this much silence is not a busy moment
_FWD_SLACK = 2  # fwd events still in flight when a beat is taken


@dataclass
class Integrity:
    """What is wrong with a run's trace, as (severity, message) pairs."""

    problems: list[tuple[str, str]] = field(default_factory=list)

    def add(self, severity: str, message: str) -> None:
        self.problems.append((severity, message))


def check_integrity(
    trace: Trace,
    *,
    started: float,
    ended: float,
    returncode: int | None,
    timed_out: bool,
    scored: bool,
    expect_forwards: bool,
    dropped: int = 0,
) -> Integrity:
    out = Integrity()
    if dropped:
        out.add("warning", f"{dropped:,} trace events past the harness's limit were not kept")
    starts = [e for e in trace.events if e.get("ev") == "start" and not e.get("forked")]
    if not starts:
        out.add("error", "the audit shim never reported from the candidate's main process")
        return out
    main = starts[0].get("pid")
    mine = [e for e in trace.events if e.get("pid") == main]
    finished = returncode == 0 and not timed_out
    if finished and not any(e.get("ev") == "exit" for e in mine):
        out.add("error", "the main process's trace ended without its exit event")
    last = mine[-1]["t"]
    if finished and ended - last > SILENCE_S and ended - started > SILENCE_S:
        out.add(
            "error",
            f"the main process's trace went silent {ended - last:.0f} s before it ended "
            "(the heartbeat stopped)",
        )
    tampered = sorted({n for e in trace.of("beat") for n in e.get("tampered") or []})
    if tampered:
        out.add("error", "the shim's hooks were replaced: " + ", ".join(tampered))
    received: dict[Any, int] = {}
    for event in trace.events:
        pid = event.get("pid")
        if event.get("ev") == "fwd" and not event.get("part"):
            received[pid] = received.get(pid, 0) + 1
        elif event.get("ev") in ("beat", "exit"):
            mapped = event.get("mapped")
            withheld = isinstance(mapped, int) and mapped > received.get(pid, 0) + _FWD_SLACK
            if withheld and not dropped:
                out.add(
                    "error",
                    f"process {pid} mapped {mapped} forward passes to the validation stream "
                    f"but sent {received.get(pid, 0)} of them",
                )
                break
    for event in trace.of("proc"):
        if event.get("unaudited"):
            out.add(
                "error",
                f"a Python child ran without the audit shim ({event['unaudited']}): {_argv(event)}",
            )
    out.problems.extend(_unseen_children(trace))
    if scored and expect_forwards and not trace.of("fwd"):
        out.add(
            "error" if out.problems else "warning",
            "score lines were printed, but no traced forward pass covered a validation position",
        )
    return out


def _argv(event: dict[str, Any]) -> str:
    argv = event.get("argv")
    text = " ".join(map(str, argv)) if isinstance(argv, list) else str(argv)
    return text[:200]


def _first_arg(start: dict[str, Any]) -> str | None:
    argv = start.get("argv")
    return str(argv[0]) if isinstance(argv, list) and argv else None


def _unseen_children(trace: Trace) -> list[tuple[str, str]]:
    """Python children the trace announced but never heard from (warning: a child that
    runs without the shim for a reason the shim did not recognise, or never started)."""
    out = []
    starts = [e for e in trace.of("start")]
    for event in trace.of("proc"):
        if not event.get("python") or event.get("unaudited"):
            continue
        pid, t = event.get("pid"), event["t"]
        same = event.get("op") == "os.exec"
        argv = event.get("argv")
        words = set(map(str, argv)) if isinstance(argv, list) else set(str(argv).split())
        heard = any(
            s["t"] >= t
            and (
                (s.get("pid") == pid if same else s.get("ppid") == pid)
                or _first_arg(s) in words  # started through a shell or a launcher
            )
            for s in starts
        )
        if not heard:
            out.append(("warning", f"a Python child never reported to the trace: {_argv(event)}"))
    return out[:5]


@dataclass
class Coverage:
    """Result of replaying forwards and updates against the validation stream."""

    n_tokens: int
    forwards_mapped: int = 0
    nograd_positions: int = 0  # distinct positions covered by no-grad passes, all episodes
    # before the artifact: positions used in gradient-enabled forwards followed by an update
    trained_before_artifact: int = 0
    trained_before_artifact_first: list[int] = field(default_factory=list)
    # during evaluation: positions an update used before a no-grad pass had covered them
    unscored_updates: int = 0
    unscored_update_positions: list[int] = field(default_factory=list)
    updates_in_eval: int = 0
    adapted_positions: int = 0
    # no-grad windows ending on an already-adapted position, and how many distinct positions
    rescored_windows: int = 0
    rescored_positions: int = 0
    rescored_first: list[int] = field(default_factory=list)
    episodes: int = 0


_KEEP = 10  # example positions kept per finding


def replay_coverage(trace: Trace, n_tokens: int, t_artifact: float | None) -> Coverage:
    cov = Coverage(n_tokens)
    size = n_tokens + 2
    covered = np.zeros(size, dtype=bool)
    adapted = np.zeros(size, dtype=bool)
    adapted_scored = np.zeros(size, dtype=bool)  # adapted on after having been scored
    rescored = np.zeros(size, dtype=bool)
    ever_covered = np.zeros(size, dtype=bool)
    trained_early = np.zeros(size, dtype=bool)
    # Spans of gradient-enabled forwards not yet applied, per process. Under data-parallel
    # evaluation a rank's backward can run before another rank has scored the same chunk;
    # the update itself happens at the step, after the gradients were averaged across ranks.
    pending: dict[str, list[tuple[int, int]]] = {}
    steps_seen: set[str] = set()
    unscored_seen = np.zeros(size, dtype=bool)
    in_eval = t_artifact is None  # eval-only runs have no training phase
    episode_started = False
    round_pids: set[str] = set()

    for event in trace.events:
        kind = event.get("ev")
        if not in_eval and t_artifact is not None and event["t"] >= t_artifact:
            in_eval = True
            pending.clear()
            steps_seen.clear()
        if kind == "fwd":
            cov.forwards_mapped += 1
            rows = _rows(event)
            if event.get("grad"):
                pending.setdefault(event.get("pid", ""), []).extend(rows)
                continue
            episode_started = True
            extend = 1 if event.get("ntensors", 1) < 2 else 0
            for s, e in rows:
                e = min(e + extend, size)
                last = e - 1
                if in_eval and adapted_scored[last] and not rescored[last]:
                    rescored[last] = True
                    cov.rescored_windows += 1
                    if len(cov.rescored_first) < _KEEP:
                        cov.rescored_first.append(last)
                covered[s:e] = True
                ever_covered[s:e] = True
        elif kind in ("step", "backward"):
            # The pending forwards reach the state at the optimizer step; a process that has
            # never stepped (a hand-written update) is taken at its backward instead.
            pid = event.get("pid", "")
            if kind == "step":
                steps_seen.add(pid)
                if in_eval:
                    cov.updates_in_eval += 1
            elif pid in steps_seen:
                continue
            spans = pending.pop(pid, [])
            if not spans:
                continue
            if not in_eval:
                for s, e in spans:
                    trained_early[s:e] = True
            else:
                for s, e in spans:
                    fresh = np.flatnonzero(~covered[s:e] & ~unscored_seen[s:e]) + s
                    if fresh.size:
                        unscored_seen[fresh] = True
                        room = _KEEP - len(cov.unscored_update_positions)
                        cov.unscored_update_positions.extend(int(p) for p in fresh[:room])
                    adapted[s:e] = True
                    adapted_scored[s:e] |= covered[s:e]
        elif kind == "reset" and in_eval:
            # Every rank resets at the start of a pass: the first reset of a round starts
            # the new episode, the other ranks' resets join it (a rank resetting twice
            # starts the next round).
            pid = event.get("pid", "")
            if pid in round_pids or not round_pids:
                round_pids = {pid}
                if episode_started:
                    cov.episodes += 1
                    covered[:] = False
                    adapted[:] = False
                    adapted_scored[:] = False
                    rescored[:] = False
                    episode_started = False
            else:
                round_pids.add(pid)
    cov.nograd_positions = int(ever_covered.sum())
    cov.trained_before_artifact = int(trained_early.sum())
    cov.trained_before_artifact_first = [int(p) for p in np.flatnonzero(trained_early)[:_KEEP]]
    cov.unscored_updates = int(unscored_seen.sum())
    cov.adapted_positions = int(adapted.sum())
    cov.rescored_positions = int(rescored.sum())
    cov.episodes += 1
    return cov


def _rows(event: dict[str, Any]) -> list[tuple[int, int]]:
    flat = event.get("rows") or []
    return [(int(flat[i]), int(flat[i + 1])) for i in range(0, len(flat) - 1, 2)]
