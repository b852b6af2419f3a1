"""One streaming parser for every record log format (rules.md section 6).

``parse_log(path)`` reads a train log line by line (memory stays bounded for a 1 GB log) and
keeps only the facts the checks need: the score lines of the eval path, the training and
evaluation timers, the size lines, the validation token count, the seed and the
hyperparameter dump. It never trusts a line because of where it is in the file alone:

* unix-timestamp prefixes (``1776143501.933 ``) and torchrun rank prefixes (``[rank0]:``)
  are stripped;
* ``:`` and ``=`` separators and spaces after colons are all accepted;
* the script's own source, echoed into the log between ``====`` rulers, is skipped, and a
  score line must start at column 0 with a plain name, so indented or quoted code, comments
  and f-strings never count;
* ``diagnostic`` / ``pre-quantization`` lines are kept but never chosen as the headline;
* alias lines (``final_int8_zlib_roundtrip_exact`` re-emitting the sliding-window score in
  late-March records) are recognised by their identical numbers;
* untagged ``Total submission size: N`` lines are raw fp totals, not the cap figure.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from golf_check.harness.errors import InputError

# The parser reads about 5 MB/s, so a hostile folder of huge logs could hold a command for
# minutes: one log past MAX_LOG_BYTES, or logs past MAX_TOTAL_LOG_BYTES within one
# `read_budget`, are input errors. The largest real log is about 110 KB.
MAX_LOG_BYTES = 32 * 1024 * 1024
MAX_TOTAL_LOG_BYTES = 64 * 1024 * 1024
_budget_left: ContextVar[list[int] | None] = ContextVar("log_budget_left", default=None)


@contextmanager
def read_budget(total: int | None = None) -> Iterator[None]:
    """Within this block, logs parsed together may add up to ``total`` bytes at most
    (default ``MAX_TOTAL_LOG_BYTES``)."""
    token = _budget_left.set([MAX_TOTAL_LOG_BYTES if total is None else total])
    try:
        yield
    finally:
        _budget_left.reset(token)


def _charge(path: Path, size: int) -> None:
    if size > MAX_LOG_BYTES:
        raise InputError(
            f"{path}: {size:,} bytes is larger than any log golf-check reads "
            f"({MAX_LOG_BYTES >> 20} MiB; real logs are under 1 MiB)"
        )
    left = _budget_left.get()
    if left is None:
        return
    if size > left[0]:
        raise InputError(
            f"{path}: the logs of this input pass {MAX_TOTAL_LOG_BYTES:,} bytes in all; "
            "golf-check reads no more of them"
        )
    left[0] -= size


# A line longer than this is cut: only its first MAX_LINE_BYTES bytes are looked at.
MAX_LINE_BYTES = 64 * 1024
READ_BLOCK = 1024 * 1024
# Bounds that keep memory flat whatever the log holds.
MAX_SCORE_LINES = 2000
MAX_HYPERPARAMETERS = 4000

_NUM = r"[-+]?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|nan|inf)"
_TIMESTAMP = re.compile(rb"^\d{10}\.\d{3} ")
_RANK_PREFIX = re.compile(rb"^\[(?:rank|default)\d+\]:\s?")  # torchrun --tee / rank logs
_RULER = re.compile(r"^={20,}\s*$")
_SCORE = re.compile(
    rf"^(?P<kind>[A-Za-z][A-Za-z0-9_\-.+:/ ]*?)\s+val_loss[:=]\s*(?P<loss>{_NUM})"
    rf"\s+val_bpb[:=]\s*(?P<bpb>{_NUM})(?P<rest>.*)$"
)
_PERIODIC = re.compile(r"^(?:step:)?(\d+)/(\d+)\s")
_KIND_PARAMS = re.compile(r"(?:\s+[A-Za-z_]+:\S+)+$")  # "final_sliding_window_eval stride:64"
_EVAL_TIME_MS = re.compile(r"eval_time:\s*(\d+(?:\.\d+)?)ms")
_ELAPSED_S = re.compile(r"elapsed=\s*(\d+(?:\.\d+)?)s")
_STOPPING = re.compile(r"^stopping_early:.*?train_time:\s*(\d+(?:\.\d+)?)ms\s+step:\s*(\d+)/(\d+)")
_TRAIN_TIME_MS = re.compile(r"train_time:\s*(\d+(?:\.\d+)?)ms")
_STEP_AVG_MS = re.compile(r"step_avg:\s*(\d+(?:\.\d+)?)ms")
_STEP_OF = re.compile(r"^(?:step:)?\s*(\d+)/(\d+)")
_GPTQ_RESERVE = re.compile(r"^gptq:reserving\s+(\d+(?:\.\d+)?)\s*(ms|s)\b")
_GPTQ_HESSIANS = re.compile(r"^GPTQ:collected\s+\d+\s+Hessians in\s+(\d+(?:\.\d+)?)s")
_GPTQ_GENERATED = re.compile(r"^gptq:generated\s+\d+\s+sequences in\s+(\d+(?:\.\d+)?)s")
_TOTAL_EVAL = re.compile(r"^total_eval_time:\s*(\d+(?:\.\d+)?)s")
_NGRAM_PRECOMPUTE = re.compile(r"^ngram_tilt:precompute\b.*?elapsed=(\d+(?:\.\d+)?)s")
_TOTAL_SIZE_TAGGED = re.compile(r"^Total submission size (\S+?):\s*(\d+) bytes")
_TOTAL_SIZE_RAW = re.compile(r"^Total submission size:\s*(\d+) bytes")
_MODEL_SIZE_TAGGED = re.compile(r"^Serialized model \S+?:\s*(\d+) bytes")
_BUDGET_LINE = re.compile(r"^budget:\s*(\d+)/16000000\b")
_CODE_SIZE = re.compile(r"^Code size(?: \(((?:un)?compressed)\))?:\s*(\d+) bytes")
_VAL_TOKENS = re.compile(r"^val_tokens:\s*(\d+)")
_VAL_LOADER_TOKENS = re.compile(r"^val_loader:.*\btokens:\s*(\d+)")
_SEED_LINE = re.compile(r"^seed:\s*(-?\d+)\s*$")
_SEED_IN_NAME = re.compile(r"seed[_\-]?(\d+)", re.IGNORECASE)


def seed_in_name(name: str | None) -> int | None:
    """The seed a file name promises ("train_seed42.log", "seed-1337"), if it names one."""
    m = _SEED_IN_NAME.search(name or "")
    return int(m.group(1)) if m else None


# "ternary_log_1337.txt", "run-42.log": a number right after log/run/train, ending the stem.
_NUMBER_AFTER_LOG = re.compile(r"(?:log|run|train)[_\-](\d{1,9})(?=\.[A-Za-z]+$|$)", re.IGNORECASE)
_TOKENIZER_PATH = re.compile(r"tokenizer_path=(\S+)")
_TOKENIZER_KIND = re.compile(r"tokenizer_kind=(\S+)")
_DATASET = re.compile(r"^train_loader:dataset:(\S+)")
_WORLD_SIZE = re.compile(r"^world_size:\s*(\d+)")
_GPU_ROW = re.compile(r"^\|\s+(\d+)\s+(NVIDIA .+?)\s{2,}(?:On|Off)\s+\|")
MAX_GPUS = 64
_HPARAM = re.compile(r"^\s+([A-Za-z_][\w.]*):\s?(.*?)\s*$")
_HEADER_PAIRS = re.compile(r"^[a-z_][a-z0-9_]*:\S+(?: [a-z_][a-z0-9_]*:\S+)*$")
_HEADER_ONE = re.compile(r"^([a-z_][a-z0-9_]*): (\S+)$")
# Adaptation passes over the evaluation tokens: names with "ttt" or "adapt" in them.
_ADAPTATION_NAME = re.compile(r"ttt|adapt", re.IGNORECASE)
_ADAPTATION_DONE = re.compile(
    r"^(?P<name>[A-Za-z_]*(?:ttt|adapt)[A-Za-z_]*)\s*:\s*(?:done|completed)\b(?P<rest>.*)$",
    re.IGNORECASE,
)
_ADAPTATION_EPOCH = re.compile(
    r"^[A-Za-z_]*(?:ttt|adapt)[A-Za-z_]*(?:_epoch:|:epoch\s+|:\s*epoch\s+)\s*(?P<k>\d+)/(?P<n>\d+)",
    re.IGNORECASE,
)
_IN_MS = re.compile(r"\bin\s+(\d+(?:\.\d+)?)ms")
_SCORING_PASS = re.compile(r"^\s+pass\s+(\d+)\b.*\bscored[=:]\s*\d+")
MAX_ADAPTATION_ENDS = 64
_EXACT_NAME = re.compile(r"([A-Za-z][A-Za-z0-9_]*)_exact\b")
MAX_ECHOED_NAMES = 256
# An echo this long is the whole script (a real train_gpt.py runs to 500+ lines); a shorter
# block (a placeholder, a snippet) says nothing about which lines the script prints.
MIN_ECHOED_SCRIPT_LINES = 200
_PYTHON_START = re.compile(r"^(?:#|import |from |def |class |@|\"\"\"|'''|if __name__)")


@dataclass(frozen=True)
class LogFact:
    """One fact a log line states, described once: the parser reads it into ``RunLog`` and
    ``SeedEvidence.from_log`` copies it, each through a loop over ``LOG_FACTS``.

    A line that starts with ``prefix`` and on which ``pattern`` is found sets ``name`` to
    ``kind`` of the pattern's first group (the last such line wins); ``line`` names the field
    that keeps its line number. Such a line says nothing else, unless ``config_line``: then it
    is also read as old-style header config. ``evidence`` facts get a field on
    ``SeedEvidence`` (unless it declares one itself) and are copied there.
    """

    name: str
    prefix: str
    pattern: re.Pattern[str]
    kind: type = float
    line: str | None = None
    evidence: bool = True
    config_line: bool = False

    @property
    def default(self) -> Any:
        return False if self.kind is bool else None


# The simple facts: one line, one scalar. Facts that several line shapes feed (the artifact
# size, the code size, the seed, the training timer), that keep more than one value (GPU
# rows, score lines, adaptation passes) or that are derived after the whole log is read stay
# hand-written in ``parse_log`` below, with the fields they fill declared on ``RunLog``; so do
# the fallbacks that fill a table fact from elsewhere (val_loader tokens, the config dump).
LOG_FACTS: tuple[LogFact, ...] = (
    LogFact(
        "total_eval_time_s",
        "total_eval_time",
        _TOTAL_EVAL,
        line="total_eval_time_line",
        evidence=False,
    ),  # from_log folds it into eval_time_s
    LogFact("gptq_generate_s", "gptq:", _GPTQ_GENERATED),
    LogFact("gptq_hessian_s", "GPTQ:", _GPTQ_HESSIANS, line="gptq_hessian_line"),
    LogFact("ngram_precompute_s", "ngram_tilt:precompute", _NGRAM_PRECOMPUTE, evidence=False),
    LogFact(
        "eval_timer_started",
        "beginning TTT eval timer",
        re.compile(r"^(beginning TTT eval timer)"),
        bool,
        evidence=False,
    ),
    # untagged "Total submission size: N bytes": raw fp state_dict + code, not the cap figure
    LogFact("raw_total_bytes", "Total submission size", _TOTAL_SIZE_RAW, int),
    LogFact("model_bytes", "Serialized model", _MODEL_SIZE_TAGGED, int),  # the last tagged one
    LogFact("val_tokens", "val_tokens", _VAL_TOKENS, int, line="val_tokens_line"),
    LogFact("tokenizer_path", "val_bpb:", _TOKENIZER_PATH, str, evidence=False),
    LogFact("tokenizer_kind", "val_bpb:", _TOKENIZER_KIND, str, evidence=False),
    LogFact(
        "byte_sidecar", "val_bpb:", re.compile(r"(byte_sidecar:enabled)"), bool, evidence=False
    ),
    LogFact("dataset", "train_loader:", _DATASET, str, evidence=False, config_line=True),
    LogFact("world_size", "world_size", _WORLD_SIZE, int, config_line=True),
)
_FACT_PREFIXES = tuple({f.prefix: None for f in LOG_FACTS})


def with_fact_fields(*, evidence_only: bool):
    """Class decorator, applied under ``@dataclass``: declares a field for each table fact
    (and its line number) that the class does not declare itself."""

    def add(cls):
        annotations = cls.__dict__.get("__annotations__", {})
        for fact in LOG_FACTS:
            if evidence_only and not fact.evidence:
                continue
            for name, kind, default in (
                (fact.name, fact.kind, fact.default),
                (fact.line, int, None),
            ):
                if name is None or name in annotations:
                    continue
                annotations[name] = kind.__name__ if kind is bool else f"{kind.__name__} | None"
                setattr(cls, name, default)
        cls.__annotations__ = annotations
        return cls

    return add


def _table_facts(log: RunLog, line: str, lineno: int) -> bool:
    """Read the table facts ``line`` states; True if it states nothing else."""
    if not line.startswith(_FACT_PREFIXES):
        return False
    said_all = False
    for fact in LOG_FACTS:
        if not line.startswith(fact.prefix):
            continue
        said_all = said_all or not fact.config_line
        m = fact.pattern.search(line)
        if m:
            setattr(log, fact.name, fact.kind(m.group(1)))
            if fact.line is not None:
                setattr(log, fact.line, lineno)
    return said_all


# Lines that mean the evaluation (or training) was still going on. One of these after the
# last score line means the log stops before its final score.
_PROGRESS_PREFIXES = (
    "ttp:",
    "tttg:",
    "ttpp:",
    "ttpr:",
    "ttt_sliding:start",
    "ttt:start",
    "ttt_phased:",
    "beginning TTT eval timer",
    "ngram_tilt:precompute",
    "final_eval_mode",
    "stopping_early",
    "Serialized model",
    "Total submission size",
    "GPTQ:",
    "ttt_lora:",
)

_FAST_PROGRESS = (b"ttp:", b"tttg:", b"ttpp:", b"ttpr:")
# Score lines printed for information only (rules.md 6.1: the 04-04 TTT line was not reported).
_DIAGNOSTIC_KINDS = frozenset({"final_int6_ttt"})

# Keys of the hyperparameter dump that differ between identical configurations.
IGNORED_CONFIG_KEYS = frozenset(
    {
        "seed",
        "run_id",
        "logfile",
        "local_rank",
        "rank",
        "is_main_process",
        "val_tokens",
    }
)
_IGNORED_CONFIG_SUFFIXES = ("_dir", "_path", "_files")
# Settings that describe the data copy or machine rather than the submitted configuration:
# a difference is reported, but does not split runs into different configurations.
PROVENANCE_KEYS = frozenset({"train_shards", "train_loader"})


def is_diagnostic_kind(kind: str) -> bool:
    """Score lines that are printed for information and never reported as the score."""
    k = kind.lower()
    return (
        k.startswith("diagnostic")
        or "pre-quantization" in k
        or "pre_quant" in k
        or k.startswith("post_ema")
        or k in _DIAGNOSTIC_KINDS
    )


@dataclass
class ScoreLine:
    kind: str
    val_loss: float
    val_bpb: float
    line: int
    loss_decimals: int
    bpb_decimals: int
    eval_time_s: float | None = None
    text: str = ""

    @property
    def diagnostic(self) -> bool:
        return is_diagnostic_kind(self.kind)


@dataclass
class AdaptationEnd:
    """A line saying an adaptation pass over the evaluation tokens (TTT) has finished:
    ``ttt:done elapsed=497.4s``, ``ttt: completed in 494473ms``, or a ``ttt_sliding:done``
    score line carrying the pass's own result."""

    name: str
    line: int
    text: str
    elapsed_s: float | None = None
    score: ScoreLine | None = None  # the pass's own figures, when the line prints them
    epochs: int | None = None  # epochs over the split announced before it (ttt_epoch:k/N)


@dataclass
@with_fact_fields(evidence_only=False)
class RunLog:
    """What one train log says about its run. Every figure keeps the line it came from.

    The fields of the simple facts (``LOG_FACTS``) are added from the table.
    """

    path: str
    size_bytes: int = 0
    line_count: int = 0
    sha256: str = ""
    non_utf8: bool = False
    ends_with_newline: bool = True
    seed: int | None = None
    seed_source: str | None = None  # "log" or "filename"
    seed_line: int | None = None
    scores: list[ScoreLine] = field(default_factory=list)
    periodic_lines: int = 0
    last_periodic: ScoreLine | None = None
    train_time_ms: float | None = None
    train_time_line: int | None = None
    stopped_early: bool = False
    training_runs: int = 0  # stopping_early lines: more than one means runs were appended
    train_steps: int | None = None
    train_iterations: int | None = None
    step_avg_ms: float | None = None
    gptq_reserve_s: float | None = None
    artifact_bytes: int | None = None  # last tagged "Total submission size <tag>: N bytes"
    artifact_tag: str | None = None
    artifact_line: int | None = None
    code_bytes: int | None = None  # the figure that counts: compressed if both are logged
    code_bytes_uncompressed: int | None = None
    code_bytes_compressed: bool = False  # the counted figure was logged as "(compressed)"
    code_line: int | None = None
    gpus: list[str] = field(default_factory=list)  # nvidia-smi rows printed into the log
    hyperparameters: dict[str, str] = field(default_factory=dict)
    last_progress_line: int | None = None
    source_echo_lines: int = 0
    # The evaluation's story beyond its score lines (bounded): where adaptation passes over
    # the evaluation tokens ended, and scoring passes numbered in the log ("pass 2 ... scored=").
    adaptation_ends: list[AdaptationEnd] = field(default_factory=list)
    scoring_passes: dict[int, int] = field(default_factory=dict)  # pass index -> first line
    adaptation_epochs: int | None = None  # the N of the last "ttt_epoch:k/N" seen
    # Score-line names ending in "_exact" that the echoed source prints (bounded): a script
    # that never prints "<kind>_exact" cannot leave that twin out of its log.
    echoed_exact_kinds: set[str] = field(default_factory=set)

    # ------------------------------------------------------------------ derived facts

    @property
    def is_run_log(self) -> bool:
        """A train log, judged by content: it has score lines or a training timer."""
        return bool(self.scores or self.last_periodic or self.train_time_ms is not None)

    @property
    def final_scores(self) -> list[ScoreLine]:
        return [s for s in self.scores if not s.diagnostic]

    def kinds(self) -> list[str]:
        seen: dict[str, None] = {}
        for s in self.scores:
            seen.setdefault(s.kind, None)
        return list(seen)

    def headline(self, kind: str | None = None) -> ScoreLine | None:
        """The reported score: the last non-diagnostic score line (or the last of ``kind``).

        A trailing line whose numbers repeat an earlier line of another kind is an alias
        (the late-March ``final_int8_zlib_roundtrip_exact``); the original line is returned.
        """
        if kind is not None:
            chosen = [s for s in self.scores if s.kind == kind]
            return chosen[-1] if chosen else None
        finals = self.final_scores
        if not finals:
            return None
        last = finals[-1]
        for earlier in reversed(finals[:-1]):
            if (
                earlier.kind != last.kind
                and earlier.val_loss == last.val_loss
                and earlier.val_bpb == last.val_bpb
            ):
                return earlier
        return last

    def alias_of_headline(self) -> ScoreLine | None:
        """The trailing alias line, when the headline was found behind one."""
        finals = self.final_scores
        head = self.headline()
        if head is not None and finals and finals[-1] is not head:
            return finals[-1]
        return None

    def incomplete_reason(self, kind: str | None = None) -> str | None:
        """Why this log does not end after its final score, or None if it does."""
        head = self.headline(kind)
        if head is None:
            if kind is not None:
                return f"no {kind!r} score line"
            if self.scores:
                return "only diagnostic score lines; no final score line"
            return "no final score line"
        # A later pass that ended with its own score line (a diagnostic TTT pass after the
        # reported sliding score) finished: only progress after every score is a cut log.
        last_score_line = max(s.line for s in self.scores) if self.scores else 0
        if self.last_progress_line and self.last_progress_line > last_score_line:
            return (
                f"the run continued after its last score line (line {self.last_progress_line}) "
                "and the log stops before a final score"
            )
        whole_script = self.source_echo_lines >= MIN_ECHOED_SCRIPT_LINES
        prints_twin = not whole_script or head.kind in self.echoed_exact_kinds
        if (
            kind is None
            and prints_twin
            and not head.kind.endswith("_exact")
            and head.bpb_decimals <= 4
            and any(s.kind == head.kind + "_exact" for s in self.scores) is False
            and any(s.kind.endswith("_exact") for s in self.scores)
        ):
            return f"{head.kind!r} has only {head.bpb_decimals} decimals and no _exact twin"
        return None

    def config(self) -> dict[str, str]:
        """Hyperparameters that define the configuration (seed, run ids and paths removed)."""
        return {
            k: v
            for k, v in self.hyperparameters.items()
            if k not in IGNORED_CONFIG_KEYS and not k.endswith(_IGNORED_CONFIG_SUFFIXES)
        }

    def eval_stages_s(self) -> float | None:
        """Sum of the eval-phase stages that touch validation tokens (rules.md R-EVAL-600).

        Every non-diagnostic score line's own ``eval_time`` (a line and its ``_exact`` twin
        are one stage) plus the n-gram precompute. Used when no ``total_eval_time`` exists.
        """
        stages: dict[str, float] = {}
        for s in self.final_scores:
            # "ttt_sliding:done ... elapsed=" summarises the stage its score line reports.
            if s.eval_time_s is None or s.kind.endswith(":done"):
                continue
            base = s.kind.removesuffix("_exact")
            stages[base] = max(stages.get(base, 0.0), s.eval_time_s)
        if not stages and self.ngram_precompute_s is None:
            return None
        return sum(stages.values()) + (self.ngram_precompute_s or 0.0)


def _decimals(number: str) -> int:
    mantissa = number.lower().split("e")[0]
    return len(mantissa.split(".")[1]) if "." in mantissa else 0


def _float(text: str) -> float:
    return float(text)


def parse_log(path: str | Path) -> RunLog:
    """Parse one train log. Raises ``InputError`` if the file cannot be opened."""
    p = Path(path)
    try:
        fh = open(p, "rb")  # noqa: SIM115 - closed below; binary so bad bytes cannot stop us
    except OSError as exc:
        raise InputError(f"{p}: cannot read log: {exc.strerror}") from None
    try:
        _charge(p, os.fstat(fh.fileno()).st_size)
    except InputError:
        fh.close()
        raise
    log = RunLog(path=str(p))
    digest = hashlib.sha256()
    scores: deque[ScoreLine] = deque(maxlen=MAX_SCORE_LINES)
    in_source = False
    after_ruler = True  # the start of the file behaves like the line after a ruler
    in_hparams = False
    training_started = False
    last_train_time_text: str | None = None
    last_train_time_lineno: int | None = None
    last_train_raw: bytes | None = None
    lineno = 0
    with fh:
        for raw in _raw_lines(fh, digest, log):
            lineno += 1
            if raw[:1].isdigit() and _TIMESTAMP.match(raw):
                raw = raw[15:]
            elif raw[:1] == b"[":
                m = _RANK_PREFIX.match(raw)
                if m:
                    raw = raw[m.end() :]
            # Fast path for the bulk of a long log (per-step training lines, TTT progress):
            # decided on bytes, before decoding, outside echoed source and config dumps.
            if not (in_source or in_hparams or after_ruler):
                if b"train_loss" in raw and (raw[:1].isdigit() or raw.startswith(b"step:")):
                    training_started = True
                    last_train_raw, last_train_time_lineno = raw, lineno
                    continue
                if raw.startswith(_FAST_PROGRESS):
                    log.last_progress_line = lineno
                    continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                log.non_utf8 = True
                line = raw.decode("utf-8", errors="replace")
            if line.endswith("\r"):
                line = line[:-1]

            # The script's own source, echoed between rulers: skip it entirely.
            if line.startswith("====") and _RULER.match(line):
                in_source = False
                in_hparams = False
                after_ruler = True
                continue
            if after_ruler:
                after_ruler = False
                if _PYTHON_START.match(line):
                    in_source = True
            if in_source:
                log.source_echo_lines += 1
                if "_exact" in line and len(log.echoed_exact_kinds) < MAX_ECHOED_NAMES:
                    log.echoed_exact_kinds.update(_EXACT_NAME.findall(line))
                continue

            if in_hparams:
                m = _HPARAM.match(line)
                if m:
                    if len(log.hyperparameters) < MAX_HYPERPARAMETERS:
                        log.hyperparameters[m.group(1)] = m.group(2)
                    continue
                in_hparams = False
            if line.startswith("Hyperparameters:"):
                in_hparams = True
                continue

            first = line[:1]
            if not first or first.isspace():
                if first and "pass " in line and "scored" in line:
                    _scoring_pass(log, line, lineno)
                continue
            if (
                ("done" in line or "complete" in line or "epoch" in line)
                and "tt" in line
                and "val_loss" not in line  # a ":done" line with a score: see _score
            ):
                _adaptation_event(log, line, lineno)

            if "val_loss" in line:
                if _score(log, scores, line, lineno):
                    training_started = True
                    if "train_time:" in line:
                        last_train_time_text, last_train_time_lineno = line, lineno
                        last_train_raw = None
                continue
            if "train_time:" in line:
                if line.startswith("stopping_early"):
                    m = _STOPPING.match(line)
                    if m:
                        log.train_time_ms = _float(m.group(1))
                        log.train_time_line = lineno
                        log.train_steps = int(m.group(2))
                        log.train_iterations = int(m.group(3))
                        log.stopped_early = True
                        log.training_runs += 1
                    log.last_progress_line = lineno
                else:
                    last_train_time_text, last_train_time_lineno = line, lineno
                    last_train_raw = None
                training_started = True
                continue
            if first.isdigit() or line.startswith(("warmup_step", "loop_warmup_step", "step:")):
                training_started = True
                continue
            if line.startswith(_PROGRESS_PREFIXES):
                log.last_progress_line = lineno
                _table_facts(log, line, lineno)
                if line.startswith("Total submission size"):
                    _artifact_size(log, line, lineno)
                continue
            _fact(log, line, lineno, training_started)

    log.line_count = lineno
    if last_train_raw is not None:  # the last timed line came through the fast path
        last_train_time_text = last_train_raw.decode("utf-8", errors="replace")
    log.sha256 = digest.hexdigest()
    log.scores = list(scores)
    if log.train_time_ms is None and last_train_time_text is not None:
        m = _TRAIN_TIME_MS.search(last_train_time_text)
        if m:  # the run finished its iterations before the cap: last logged train_time
            log.train_time_ms = _float(m.group(1))
            log.train_time_line = last_train_time_lineno
            steps = _STEP_OF.match(last_train_time_text)
            if steps:
                log.train_steps, log.train_iterations = int(steps.group(1)), int(steps.group(2))
    if last_train_time_text is not None:
        m = _STEP_AVG_MS.search(last_train_time_text)
        if m:
            log.step_avg_ms = _float(m.group(1))
    if log.step_avg_ms is None and log.train_time_ms and log.train_steps:
        log.step_avg_ms = log.train_time_ms / log.train_steps
    if "seed" in log.hyperparameters and log.seed is None:
        try:
            log.seed = int(log.hyperparameters["seed"])
            log.seed_source = "log"
        except ValueError:
            pass
    if log.seed is None:
        m = _SEED_IN_NAME.search(p.name) or _NUMBER_AFTER_LOG.search(p.name)
        if m:
            log.seed, log.seed_source = int(m.group(1)), "filename"
    hp = log.hyperparameters
    if log.tokenizer_path is None and hp.get("tokenizer_path"):
        log.tokenizer_path = hp["tokenizer_path"]
    if log.dataset is None and hp.get("datasets_dir"):
        log.dataset = hp["datasets_dir"]
    if log.world_size is None and hp.get("world_size", "").isdigit():
        log.world_size = int(hp["world_size"])
    return log


def _raw_lines(fh, digest, log: RunLog):
    """Yield the file's lines (without the newline) reading 1 MB blocks.

    A line longer than ``MAX_LINE_BYTES`` is cut to its first ``MAX_LINE_BYTES`` bytes, so
    memory stays bounded whatever the file holds (a 1 GB line of NUL bytes included).
    """
    pending = b""
    chunk = b""
    while True:
        chunk = fh.read(READ_BLOCK)
        if not chunk:
            break
        digest.update(chunk)
        log.size_bytes += len(chunk)
        parts = chunk.split(b"\n")
        if pending:
            parts[0] = pending + parts[0][:MAX_LINE_BYTES]
        for part in parts[:-1]:
            yield part[:MAX_LINE_BYTES] if len(part) > MAX_LINE_BYTES else part
        pending = parts[-1][:MAX_LINE_BYTES]
    log.ends_with_newline = not pending
    if pending:
        yield pending


def _score(log: RunLog, scores: deque[ScoreLine], line: str, lineno: int) -> bool:
    """Record a score line; return True if it is a periodic (training-time) one."""
    periodic = _PERIODIC.match(line)
    m = _SCORE.match(line) if not periodic else None
    if periodic:
        pm = re.search(rf"val_loss[:=]\s*({_NUM})\s+val_bpb[:=]\s*({_NUM})", line)
        if pm:
            log.periodic_lines += 1
            log.last_periodic = ScoreLine(
                kind="periodic",
                val_loss=_float(pm.group(1)),
                val_bpb=_float(pm.group(2)),
                line=lineno,
                loss_decimals=_decimals(pm.group(1)),
                bpb_decimals=_decimals(pm.group(2)),
                text=line[:200],
            )
            if "train_time:" in line:
                log.last_progress_line = lineno
        return True
    if not m:
        return False
    kind = _KIND_PARAMS.sub("", m.group("kind")).strip()
    if "/" in kind or not kind:
        return False
    rest = m.group("rest")
    eval_time = None
    et = _EVAL_TIME_MS.search(rest)
    if et:
        eval_time = _float(et.group(1)) / 1000.0
    else:
        el = _ELAPSED_S.search(rest)
        if el:
            eval_time = _float(el.group(1))
    score = ScoreLine(
        kind=kind,
        val_loss=_float(m.group("loss")),
        val_bpb=_float(m.group("bpb")),
        line=lineno,
        loss_decimals=_decimals(m.group("loss")),
        bpb_decimals=_decimals(m.group("bpb")),
        eval_time_s=eval_time,
        text=line[:200],
    )
    scores.append(score)
    if kind.endswith((":done", ":completed")) and _ADAPTATION_NAME.search(kind):
        _add_adaptation_end(log, kind.rsplit(":", 1)[0], lineno, line, eval_time, score)
    return False


def _adaptation_event(log: RunLog, line: str, lineno: int) -> None:
    m = _ADAPTATION_EPOCH.match(line)
    if m:
        log.adaptation_epochs = int(m.group("n"))
        return
    m = _ADAPTATION_DONE.match(line)
    if m:
        rest = m.group("rest")
        elapsed = None
        el = _ELAPSED_S.search(rest) or _IN_MS.search(rest)
        if el:
            elapsed = _float(el.group(1)) / (1000.0 if el.re is _IN_MS else 1.0)
        _add_adaptation_end(log, m.group("name"), lineno, line, elapsed, None)


def _add_adaptation_end(log, name, lineno, line, elapsed, score) -> None:
    if len(log.adaptation_ends) < MAX_ADAPTATION_ENDS:
        log.adaptation_ends.append(
            AdaptationEnd(name, lineno, line[:200], elapsed, score, log.adaptation_epochs)
        )


def _scoring_pass(log: RunLog, line: str, lineno: int) -> None:
    m = _SCORING_PASS.match(line)
    if m and len(log.scoring_passes) < MAX_ADAPTATION_ENDS:
        log.scoring_passes.setdefault(int(m.group(1)), lineno)


def _artifact_size(log: RunLog, line: str, lineno: int) -> None:
    # The untagged line is the raw total, a table fact; the tagged one is the cap figure.
    m = _TOTAL_SIZE_TAGGED.match(line)
    if m:
        log.artifact_tag, log.artifact_bytes = m.group(1), int(m.group(2))
        log.artifact_line = lineno


def _fact(log: RunLog, line: str, lineno: int, training_started: bool) -> None:
    """Everything else worth keeping: seed, sizes, timers, tokens, tokenizer, header config."""
    if line.startswith("|"):
        m = _GPU_ROW.match(line)
        if m and len(log.gpus) < MAX_GPUS and int(m.group(1)) == len(log.gpus):
            log.gpus.append(m.group(2).strip())
        return
    if line.startswith("seed:"):
        m = _SEED_LINE.match(line)
        if m and log.seed is None:
            log.seed, log.seed_source, log.seed_line = int(m.group(1)), "log", lineno
        return
    if line.startswith("Code size"):
        m = _CODE_SIZE.match(line)
        if m:
            if m.group(1) == "uncompressed":
                log.code_bytes_uncompressed = int(m.group(2))
            else:
                log.code_bytes = int(m.group(2))
                log.code_bytes_compressed = m.group(1) == "compressed"
                log.code_line = lineno
        return
    if line.startswith("budget:"):
        # The ternary record's cap line: "budget:15995705/16000000 (16.00/16.00MB) FITS".
        m = _BUDGET_LINE.match(line)
        if m:
            log.artifact_tag, log.artifact_bytes = "budget", int(m.group(1))
            log.artifact_line = lineno
        return
    if line.startswith("gptq:"):
        # The reserve is in ms or s and is also kept as config; gptq:generated is a table fact.
        m = _GPTQ_RESERVE.match(line)
        if m:
            value = _float(m.group(1))
            log.gptq_reserve_s = value / 1000.0 if m.group(2) == "ms" else value
            log.hyperparameters.setdefault("gptq_reserve", f"{log.gptq_reserve_s:g}s")
            return
    if line.startswith("val_loader:"):
        # A second source of the val_tokens table fact, used only when val_tokens is absent.
        m = _VAL_LOADER_TOKENS.match(line)
        if m and log.val_tokens is None:
            log.val_tokens, log.val_tokens_line = int(m.group(1)), lineno
        return
    if _table_facts(log, line, lineno):
        return
    if training_started or len(log.hyperparameters) >= MAX_HYPERPARAMETERS:
        return
    # Old-style header config: "train_batch_tokens:524288 train_seq_len:2048 ..."
    if _HEADER_PAIRS.match(line):
        for token in line.split(" "):
            key, _, value = token.partition(":")
            log.hyperparameters.setdefault(key, value)
        return
    m = _HEADER_ONE.match(line)
    if m:
        log.hyperparameters.setdefault(m.group(1), m.group(2))
