"""Progress on long work, always on standard error (standard output is the report's alone).

Two users:

* ``golf-check run``: a ``RunMonitor`` shows one row per seed (then the flip test's and the
  canary's runs): the phase (waiting, launching, training, evaluating, done), the step or
  validation position reached, and the time against the training and evaluation budgets. It
  learns them live from the candidate's log lines and trace events, through the launcher's
  callbacks. On a terminal it is a rich live display; elsewhere (a pipe, CI, ``TERM=dumb``)
  plain lines without control codes, one per phase change and at most one status line every
  ``PLAIN_INTERVAL_S`` in between. ``-q`` turns it off.
* ``check`` and ``verify`` on many inputs: the command opens ``counting(...)`` and the engine
  calls ``expect`` and ``advance``; a transient progress bar appears only on a terminal and
  only once the work has taken longer than ``TICKER_DELAY_S``.

What the candidate prints is hostile input: only numbers parsed from it reach the screen, and
a callback never raises into the launcher's reader threads.
"""

from __future__ import annotations

import math
import os
import re
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from golf_check.harness.challenge import EVAL_BUDGET_S, TRAIN_BUDGET_S

LIVE, PLAIN, OFF = "live", "plain", "off"
PLAIN_INTERVAL_S = 15.0  # a plain status line at most this often between phase changes
TICKER_DELAY_S = 1.0  # check/verify: no display for work shorter than this
DELAY_VAR = "GOLF_CHECK_PROGRESS_DELAY"
_PARSE_CHARS = 4096  # only the start of a (possibly megabyte-long) line is searched

# Training progress as training scripts print it: "step:20/100 ...", "20/100 train_loss:...".
_STEP = re.compile(r"(?:^|\bstep[:=\s]\s*)(\d{1,12})\s*/\s*(\d{1,12})\b")
_VAL_LOSS = re.compile(r"\bval_loss[:=\s]\s*(\d{1,6}(?:\.\d{1,12})?)")
_VAL_BPB = re.compile(r"\bval_bpb[:=\s]\s*(\d{1,6}(?:\.\d{1,12})?)")


def isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def choose_mode(quiet: bool, stream: TextIO | None = None) -> str:
    """LIVE on an interactive terminal, PLAIN lines elsewhere, OFF with ``-q``.

    CI services and ``TERM=dumb`` get plain lines even on a pseudo-terminal: their logs keep
    every cursor movement as text. ``NO_COLOR`` is about colour, so it only greys the live
    display (see ``color``)."""
    if quiet:
        return OFF
    stream = stream if stream is not None else sys.stderr
    if not isatty(stream) or os.environ.get("CI") or os.environ.get("TERM") == "dumb":
        return PLAIN
    return LIVE


def _console(color: bool):
    from rich.console import Console

    # without colour, no styling at all: only the cursor movement of the live redraw
    return Console(
        file=sys.stderr, color_system="auto" if color else None, highlight=False, emoji=False
    )


def _clock(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 100:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d} min"


# --------------------------------------------------------------------------- run


def run_label(seed: int, name: str | None, parent: str) -> str:
    """The row of one launch: a seed, or one of the run-wide audits' reruns."""
    if name is None:
        return f"seed {seed}"
    if parent == "flip":
        return f"flip test {name}"
    if parent == "canary":
        return "canary"
    return name


class Watch:
    """What is known about one launch of the candidate, updated live from its output."""

    def __init__(
        self, monitor: RunMonitor, label: str, work_dir: Path | None, positions: int | None
    ):
        self.monitor = monitor
        self.label = label
        self.work_dir = str(work_dir.resolve()) + os.sep if work_dir is not None else None
        self.positions_total = positions
        self.phase = "waiting"
        self.started: float | None = None
        self.phase_started: float | None = None
        self.train_s: float | None = None  # launch to evaluation starting
        self.ended: float | None = None
        self.step: int | None = None
        self.steps_total: int | None = None
        self.opt_steps = 0
        self.written: set[str] = set()  # files the run wrote into its working folder
        self.val_loss: str | None = None
        self.val_bpb: str | None = None
        self.position: int | None = None
        self.outcome: str | None = None
        self.task: Any = None  # the live display's row

    # -- callbacks (the launcher's reader threads)

    def begin(self) -> None:
        self.started = time.monotonic()
        self._enter("launching")

    def line(self, t: float, text: str) -> None:
        try:
            self._line(text[:_PARSE_CHARS])
        except Exception:  # noqa: BLE001 - a display problem must never stop the log
            pass

    def event(self, event: dict) -> None:
        try:
            self._event(event)
        except Exception:  # noqa: BLE001 - likewise for the trace
            pass

    def finish(self, returncode: int | None, timed_out: bool, start_error: str | None) -> None:
        self.ended = time.monotonic()
        if start_error:
            self.outcome = "could not start"
        elif timed_out:
            self.outcome = "killed at the timeout"
        elif returncode not in (0, None):
            self.outcome = f"exited with status {returncode}"
        self._enter("failed" if self.outcome else "done")

    # -- parsing

    def _line(self, text: str) -> None:
        m = _STEP.search(text)
        if m and "val_tokens" not in text:
            step, total = int(m.group(1)), int(m.group(2))
            if 0 < total and step <= total:
                self.step, self.steps_total = step, total
                if self.phase == "launching":
                    self._enter("training")
        m = _VAL_LOSS.search(text)
        if m:
            self.val_loss = f"{float(m.group(1)):.4f}"
        m = _VAL_BPB.search(text)
        if m:
            self.val_bpb = f"{float(m.group(1)):.4f}"
        if text.startswith("stopping_early") and self.phase == "training":
            self._artifact_next()
        self.monitor.changed(self)

    def _event(self, event: dict) -> None:
        ev = event.get("ev")
        if ev in ("step", "backward"):
            if ev == "step":
                self.opt_steps += 1
            if self.phase == "launching":
                self._enter("training")
        elif ev in ("open", "save") and self.work_dir is not None:
            # Evaluation starts when a file the run wrote into its folder is read back (the
            # artifact); a log opened for appending at every line is written, never read.
            path = event.get("path")
            if not isinstance(path, str) or not path.startswith(self.work_dir):
                return
            if ev == "save" or event.get("w") is True:
                if len(self.written) < 10_000:
                    self.written.add(path)
                return
            if path in self.written and self.phase == "training":
                self._artifact_next()
        elif ev == "fwd" and not event.get("grad"):
            rows = event.get("rows") or []
            ends = [int(e) for e in rows[1::2] if isinstance(e, int)]
            if ends:
                self.position = max(self.position or 0, max(ends))
                # an evaluation-only rerun (flip test, canary) never trains
                if self.phase == "launching":
                    self._enter("evaluating")
        else:
            return
        self.monitor.changed(self)

    def _artifact_next(self) -> None:
        """The script says training stopped: what follows is serialization and evaluation."""
        if self.started is not None and self.train_s is None:
            self.train_s = time.monotonic() - self.started
            self._enter("evaluating")

    def _enter(self, phase: str) -> None:
        if phase == self.phase:
            return
        self.phase = phase
        self.phase_started = time.monotonic()
        self.monitor.phase_changed(self)

    # -- what is shown

    def detail(self) -> str:
        parts = []
        if self.phase == "training" or (self.step is not None and self.phase != "evaluating"):
            if self.step is not None:
                parts.append(f"step {self.step}/{self.steps_total}")
            elif self.opt_steps:
                parts.append(f"optimizer step {self.opt_steps}")
        if self.phase == "evaluating" and self.position is not None:
            total = f"/{self.positions_total}" if self.positions_total else ""
            parts.append(f"position {self.position}{total}")
        if self.val_bpb is not None:
            parts.append(f"val_bpb {self.val_bpb}")
        elif self.val_loss is not None:
            parts.append(f"val_loss {self.val_loss}")
        if self.outcome:
            parts.append(self.outcome)
        return ", ".join(parts)

    def clock(self) -> str:
        if self.started is None:
            return ""
        now = self.ended if self.ended is not None else time.monotonic()
        train_budget, eval_budget = self.monitor.budgets
        if self.phase in ("launching", "training"):
            return f"{_clock(now - self.started)} / {train_budget:g} s train"
        if self.phase == "evaluating" and self.phase_started is not None:
            return f"{_clock(now - self.phase_started)} / {eval_budget:g} s eval"
        return _clock(now - self.started)

    def status(self) -> str:
        return ", ".join(p for p in (self.phase, self.detail(), self.clock()) if p)

    def bar(self) -> tuple[float | None, float]:
        """(total, completed) for the live bar; a None total pulses."""
        if self.phase == "training" and self.steps_total:
            return float(self.steps_total), float(self.step or 0)
        if self.phase == "evaluating" and self.positions_total and self.position is not None:
            return float(self.positions_total), float(min(self.position, self.positions_total))
        if self.phase in ("done", "failed"):
            return 1.0, 1.0
        return None, 0.0


class RunMonitor:
    """The progress of a whole ``golf-check run``: messages, and one ``Watch`` per launch."""

    def __init__(
        self,
        mode: str,
        budgets: tuple[float, float] = (TRAIN_BUDGET_S, EVAL_BUDGET_S),
        color: bool = True,
        prefix: str = "golf-check run: ",
        interval_s: float = PLAIN_INTERVAL_S,
    ):
        self.mode = mode
        self.budgets = budgets
        self.color = color
        self.prefix = prefix
        self.interval_s = interval_s
        self.lock = threading.RLock()
        self.pending: dict[str, Watch] = {}
        self.active: Watch | None = None
        self.progress: Any = None
        self.stop = threading.Event()
        self.ticker: threading.Thread | None = None
        self.last_line = 0.0

    def __enter__(self) -> RunMonitor:
        if self.mode == LIVE:
            from rich.progress import BarColumn, Progress, TextColumn

            self.progress = Progress(
                TextColumn("[bold]{task.description}"),
                TextColumn("{task.fields[phase]}"),
                BarColumn(bar_width=16),
                _status_column(),
                console=_console(self.color),
                refresh_per_second=4,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self.progress.start()
        elif self.mode == PLAIN:
            self.ticker = threading.Thread(target=self._tick, daemon=True)
            self.ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
        if self.ticker is not None:
            self.ticker.join(timeout=2)

    def say(self, text: str) -> None:
        """One message line (the run folder, a seed's result, the report's path)."""
        if self.mode == OFF:
            return
        with self.lock:
            if self.progress is not None:
                from rich.text import Text

                self.progress.console.print(Text(self.prefix + text), soft_wrap=True)
            else:
                print(self.prefix + text, file=sys.stderr, flush=True)

    def plan(self, seeds: list[int]) -> None:
        """Rows for every seed up front, so the display shows what is still to come."""
        for seed in seeds:
            self._row(run_label(seed, None, ""), None, None)

    def watch(
        self, seed: int, name: str | None, parent: str, work_dir: Path | None, positions: int | None
    ) -> Watch:
        """A new launch starts (session.run_seed)."""
        label = run_label(seed, name, parent)
        w = self._row(label, work_dir, positions)
        with self.lock:
            self.active = w
        w.begin()
        return w

    def _row(self, label: str, work_dir: Path | None, positions: int | None) -> Watch:
        with self.lock:
            w = Watch(self, label, work_dir, positions)
            shown = self.pending.pop(label, None)
            if shown is not None:
                w.task = shown.task  # a planned seed, or a relaunch under the same name: its row
            self.pending[label] = w
            if self.progress is not None and w.task is None:
                w.task = self.progress.add_task(label, total=None, phase=w.phase, watch=w)
        return w

    # -- from the watches

    def phase_changed(self, w: Watch) -> None:
        if self.mode == PLAIN and w.phase != "waiting":
            with self.lock:
                self._status_line(w)
        self.changed(w)

    def changed(self, w: Watch) -> None:
        if self.progress is None or w.task is None:
            return
        total, completed = w.bar()
        self.progress.update(w.task, total=total, completed=completed, phase=w.phase, watch=w)

    def _tick(self) -> None:
        """Plain mode: a status line when nothing was said for ``interval_s``."""
        while not self.stop.wait(min(1.0, self.interval_s)):
            with self.lock:
                w = self.active
                quiet_for = time.monotonic() - self.last_line
                if w is None or w.ended is not None or quiet_for < self.interval_s:
                    continue
                self._status_line(w)

    def _status_line(self, w: Watch) -> None:
        """Plain mode: one launch's status as a line (under the lock; it restarts the quiet
        interval)."""
        self.last_line = time.monotonic()
        print(f"{self.prefix}{w.label}: {w.status()}", file=sys.stderr, flush=True)


def _status_column():
    """The live display's column of detail and clock (rich is imported only for a display)."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class StatusColumn(ProgressColumn):
        """Detail and clock, computed at each refresh so the clock runs between events."""

        max_refresh = 0.25

        def render(self, task):
            w = task.fields.get("watch")
            if w is None:
                return Text("")
            text = ", ".join(p for p in (w.detail(), w.clock()) if p)
            # one line per row, whatever the width: a wrapped row breaks the live redraw
            return Text(text, style="dim", no_wrap=True, overflow="ellipsis")

    return StatusColumn()


# --------------------------------------------------------------------------- check / verify


class _Ticker:
    def __init__(self, verb: str, color: bool, delay_s: float):
        self.verb = verb
        self.color = color
        self.lock = threading.Lock()
        self.total: int | None = None
        self.done = 0
        self.current = ""
        self.progress: Any = None
        self.task: Any = None
        self.closed = False
        self.timer = threading.Timer(delay_s, self._show)
        self.timer.daemon = True
        self.timer.start()

    def _show(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
        from rich.table import Column

        with self.lock:
            if self.closed:
                return
            self.progress = Progress(
                TextColumn(self.verb),
                BarColumn(bar_width=24),
                MofNCompleteColumn(table_column=Column(no_wrap=True)),
                # the file name takes what width is left, cut with an ellipsis
                TextColumn(
                    "{task.fields[current]}",
                    markup=False,
                    table_column=Column(ratio=1, no_wrap=True, overflow="ellipsis"),
                ),
                console=_console(self.color),
                transient=True,  # gone when the report is printed
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self.task = self.progress.add_task(
                self.verb, total=self.total, completed=self.done, current=self.current
            )
            self.progress.start()

    def expect(self, total: int) -> None:
        with self.lock:
            self.total = total
            if self.progress is not None:
                self.progress.update(self.task, total=total)

    def advance(self, name: str) -> None:
        with self.lock:
            if self.current:
                self.done += 1
            # the folder and the file: record folders all hold a train_gpt.py
            self.current = "/".join(name.replace(os.sep, "/").rstrip("/").split("/")[-2:])
            if self.progress is not None:
                self.progress.update(self.task, completed=self.done, current=self.current)

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self.timer.cancel()
            if self.progress is not None:
                self.progress.stop()
                self.progress = None


_current: _Ticker | None = None


def stderr_display() -> tuple[str, bool]:
    """(mode, colour) of the progress on standard error, as the command's ``-q`` and
    ``--color`` (and ``NO_COLOR``, ``FORCE_COLOR``) ask."""
    from golf_check.harness.output import chosen, use_color

    mode = choose_mode(bool(chosen("quiet")), sys.stderr)
    return mode, use_color(chosen("color") or "auto", isatty(sys.stderr))


def command_counting(verb: str):
    """``counting`` as a command's options ask: only on a terminal, never with ``-q``, in
    colour as ``--color``, ``NO_COLOR`` and ``FORCE_COLOR`` say."""
    mode, color = stderr_display()
    return counting(verb, mode == LIVE, color, ticker_delay())


def ticker_delay() -> float:
    """Seconds of work before ``check``/``verify`` show progress: GOLF_CHECK_PROGRESS_DELAY,
    else ``TICKER_DELAY_S``."""
    text = os.environ.get(DELAY_VAR)
    if text is None or not text.strip():
        return TICKER_DELAY_S
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        from golf_check.harness.errors import InputError

        raise InputError(f"{DELAY_VAR}={text!r}: give a number of seconds, 0 or more")
    return value


@contextmanager
def counting(verb: str, enabled: bool, color: bool = True, delay_s: float = TICKER_DELAY_S):
    """While open, ``expect``/``advance`` feed a progress bar that appears on standard error
    after ``delay_s`` (never when ``enabled`` is false: not a terminal, or ``-q``)."""
    global _current
    if not enabled:
        yield
        return
    ticker = _Ticker(verb, color, delay_s)
    previous, _current = _current, ticker
    try:
        yield
    finally:
        _current = previous
        ticker.close()


def expect(total: int) -> None:
    """The engine knows how many inputs it will go through."""
    if _current is not None:
        _current.expect(total)


def advance(name: str) -> None:
    """The engine starts on the next input (the previous one is done)."""
    if _current is not None:
        _current.advance(name)
