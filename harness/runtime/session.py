"""One audited run: every seed in turn, then the run-wide audits (flip test, canary).

Layout of the output folder (``--out``)::

    report.json                 the multi-seed report (what ``golf-check verify`` reads)
    valindex/                   the validation stream and its K-gram index, for the shim
    seed<S>/train_seed<S>.log   the candidate's output, each line stamped with the harness clock
    seed<S>/trace.jsonl         the shim's events, as the harness received them live
    seed<S>/report.json         that seed's own report
    seed<S>/work/               the candidate's working directory (its artifact lands here)
    seed<S>/cache/              compiler caches (triton, inductor)
    seed<S>/audit/ledger/       the ledger, when the script is instrumented

Only ``work``, ``cache`` and ``audit/ledger`` are writable for the candidate: the sandbox
mounts the rest of the output folder read-only, so the logs, the trace and the reports are
the harness's alone. Nothing outside the output folder is written.
"""

from __future__ import annotations

import math
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from golf_check.harness.challenge import EVAL_BUDGET_S, TRAIN_BUDGET_S
from golf_check.harness.digest import file_sha256
from golf_check.harness.errors import InputError
from golf_check.harness.evidence.logparse import RunLog, ScoreLine, parse_log
from golf_check.harness.ledger import LedgerVerdict
from golf_check.harness.report import Finding
from golf_check.harness.runtime import launcher, measure, sandbox, trace
from golf_check.harness.runtime.canary_data import serve, served_dir
from golf_check.harness.runtime.target import Target
from golf_check.harness.shards import ByteLUT, load_split

SHIM_DIR = Path(__file__).with_name("shim")
AUDITS = ("trace", "ledger", "flip", "canary")
# Where a candidate may write besides its own folder without it being reported.
_default_limits = sandbox.default_limits  # the field "sandbox" below shadows the module
_SCRATCH = ("/tmp/", "/var/tmp/", "/dev/shm/", "/dev/", "/proc/")


@dataclass
class RunOptions:
    target: Target
    seeds: list[int]
    data_dir: Path
    tokenizer: Path | None
    out_dir: Path
    nproc: int = 1
    env: dict[str, str] = field(default_factory=dict)
    audits: tuple[str, ...] = AUDITS
    timeout_s: float | None = None
    train_budget_s: float = TRAIN_BUDGET_S
    eval_budget_s: float = EVAL_BUDGET_S
    artifact_name: str | None = None
    sandbox: bool = True
    timing_gate: str = "strict"  # which training figure gates: strict | convention
    flip_tokens: int = 1024
    canary_tokens: int = 4096
    canary_alpha: float = 1e-3
    invocation_dir: Path = field(default_factory=Path.cwd)
    limits: dict[str, int] = field(default_factory=_default_limits)
    monitor: Any = None  # harness.progress.RunMonitor: the live progress display, if any
    # the validation tokens served to the run instead of the real ones (the canary's)
    served_val: np.ndarray | None = None

    @property
    def seed_timeout_s(self) -> float:
        if self.timeout_s is not None:
            return self.timeout_s
        return self.train_budget_s + self.eval_budget_s + 300.0


@dataclass
class Stream:
    """The validation stream as golf-check itself loaded it."""

    tokens: np.ndarray
    index_dir: Path
    lut: ByteLUT | None
    token_bytes: np.ndarray | None  # bytes of the target at each position (index 0: 0)

    def bytes_of(self, ranges: list[tuple[int, int]]) -> int:
        assert self.token_bytes is not None
        return int(sum(int(self.token_bytes[s:e].sum()) for s, e in ranges))


@dataclass
class SeedAudit:
    """Everything known about one seed's run; what runtime and ledger detectors receive."""

    seed: int
    options: RunOptions
    run_dir: Path
    work_dir: Path
    log_path: Path
    log_rel: str  # the log, relative to the multi-seed report
    launch: launcher.LaunchResult
    sandbox: sandbox.Sandbox
    trace: trace.Trace
    runlog: RunLog | None
    headline: ScoreLine | None
    artifact: measure.Artifact | None
    code: measure.CodeFiles
    timing: measure.Timing
    coverage: trace.Coverage | None
    stream: Stream
    side: measure.SideFiles = field(default_factory=measure.SideFiles)
    integrity: trace.Integrity = field(default_factory=trace.Integrity)
    log_intact: bool = True  # the log file still hashes to what the harness wrote
    ledger: LedgerVerdict | None = None
    ledger_error: str | None = None
    ledger_bpb: dict[str, float] = field(default_factory=dict)  # pass -> recomputed val_bpb
    flip: Any = None  # harness.runtime.flip.FlipResult on the seed that ran it
    canary: Any = None  # harness.runtime.canary.CanaryResult likewise
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    expects_artifact: bool = True  # False for evaluation-only reruns (flip test, canary)

    @property
    def artifact_bytes(self) -> int | None:
        if self.artifact is None:
            return None
        return self.artifact.model_bytes + self.code.total_bytes + self.side.total_bytes

    @property
    def failure(self) -> str | None:
        """Why this seed has no usable result, or None."""
        if self.launch.start_error:
            return self.launch.start_error
        if self.launch.timed_out:
            return f"killed after the {self.options.seed_timeout_s:.0f} s timeout"
        if self.launch.memory_killed:
            cap = self.options.limits.get("rss") or 0
            return f"killed: its processes held over {cap / sandbox.GIB:.3g} GiB of memory together"
        if self.launch.returncode not in (0, None):
            return (
                f"exited with status {self.launch.returncode}{_signal_name(self.launch.returncode)}"
            )
        if self.headline is None:
            return "printed no final score line"
        if self.artifact is None and self.expects_artifact:
            return "wrote no artifact into its working directory"
        return None

    @property
    def writable_dirs(self) -> list[Path]:
        """The candidate's own folders: everything else of the output folder is the harness's."""
        return writable_dirs(self.run_dir)

    def in_writable(self, path: str) -> bool:
        return any(path.startswith(str(d.resolve()) + os.sep) for d in self.writable_dirs)

    def outside_writes(self) -> list[dict[str, Any]]:
        """Writes, deletes and renames outside the run's own folders and scratch space."""
        allowed = [tempfile.gettempdir() + os.sep, *_SCRATCH]
        out_dir = str(self.options.out_dir.resolve()) + os.sep
        out = []
        for event in self.trace.events:
            if event.get("ev") == "open" and not event.get("w"):
                continue
            if event.get("ev") not in ("open", "mod"):
                continue
            path = event.get("path", "")
            if self.in_writable(path):
                continue
            if path.startswith(out_dir) or not any(path.startswith(a) for a in allowed):
                out.append(event)
        return out

    def protected_attempts(self) -> list[dict[str, Any]]:
        """Writes into the user's protected folders or the harness's own (refused, but
        attempted)."""
        roots = [str(p) + os.sep for p in self.protected_dirs()]
        return [
            e
            for e in self.trace.events
            if (e.get("ev") == "mod" or (e.get("ev") == "open" and e.get("w")))
            and any(e.get("path", "").startswith(r) for r in roots)
            and not self.in_writable(e.get("path", ""))
        ]

    def protected_dirs(self) -> list[Path]:
        return protected_dirs(self.options) + [self.options.out_dir.resolve()]

    @property
    def stream_is_canonical(self) -> bool:
        """Whether the validation split is one of the challenge's canonical exports."""
        from golf_check.harness.evidence.canonical import family_from_tokens

        return family_from_tokens(int(self.stream.tokens.size)) is not None

    def ledger_violations(self, condition: str) -> list:
        if self.ledger is None:
            return []
        return [v for v in self.ledger.violations if v.condition == condition]

    @property
    def val_tokens(self) -> int | None:
        """Tokens of the stream the headline was scored on: the ledger's pass, else the log."""
        if self.ledger is not None and self.headline is not None and self.ledger_bpb:
            name = self.ledger_pass_for(self.headline.kind)
            for p in self.ledger.passes:
                if p.name == name and p.n_tokens:
                    return p.n_tokens
        return self.runlog.val_tokens if self.runlog else None

    @property
    def cuda_peak_bytes(self) -> int | None:
        peaks = [sum(e.get("cuda_peak_bytes", [])) for e in self.trace.of("exit")]
        peaks = [p for p in peaks if p]
        return max(peaks) if peaks else None

    @property
    def printed_train_s(self) -> float | None:
        if self.runlog is None or self.runlog.train_time_ms is None:
            return None
        return self.runlog.train_time_ms / 1000.0

    @property
    def gating_train_s(self) -> float | None:
        if self.options.timing_gate == "convention":
            return self.timing.train_convention_s
        return self.timing.train_strict_s

    def ledger_pass_for(self, kind: str) -> str | None:
        """The ledger pass behind a score line: same name, else the longest pass name the
        line's kind ends with (``quantized_ttt`` <- ``ttt``), else the last pass."""
        names = list(self.ledger_bpb)
        if not names:
            return None
        if kind in names:
            return kind
        suffixes = [n for n in names if kind.endswith(n)]
        return max(suffixes, key=len) if suffixes else names[-1]


def _signal_name(code: int | None) -> str:
    if code is None or code >= 0:
        return ""
    import signal

    try:
        return f" (killed by {signal.Signals(-code).name})"
    except ValueError:
        return ""


def protected_dirs(opts: RunOptions) -> list[Path]:
    """The user's folders the candidate must not change."""
    dirs = [opts.data_dir, opts.target.code_dir, opts.invocation_dir]
    if opts.tokenizer is not None:
        dirs.append(opts.tokenizer.parent)
    scratch = Path(tempfile.gettempdir()).resolve()
    # never / or the temporary directory itself: the candidate needs scratch space
    return [d for d in (d.resolve() for d in dirs) if d != scratch and d not in scratch.parents]


def writable_dirs(run_dir: Path) -> list[Path]:
    return [run_dir / "work", run_dir / "cache", run_dir / "audit" / "ledger"]


def load_stream(opts: RunOptions) -> Stream:
    tokens = np.ascontiguousarray(load_split(opts.data_dir, "val"), dtype=np.uint16)
    if tokens.size < 2:
        raise InputError(f"{opts.data_dir}: the validation split has fewer than 2 tokens")
    from golf_check.harness.runtime.valindex import build_index

    index_dir = build_index(tokens, opts.out_dir / "valindex")
    lut = token_bytes = None
    if opts.tokenizer is not None:
        lut = ByteLUT.from_model(opts.tokenizer)
        token_bytes = np.zeros(tokens.size, dtype=np.int64)
        token_bytes[1:] = lut.stream_bytes(tokens)
    return Stream(tokens, index_dir, lut, token_bytes)


def candidate_env(
    opts: RunOptions, seed: int, run_dir: Path, box: sandbox.Sandbox, stream: Stream
) -> dict[str, str]:
    env = dict(os.environ)
    # every run reads the same served folder, the canary's included (canary_data.py)
    data_path = served_dir(opts.data_dir, opts.out_dir)
    env.pop("GOLF_CHECK_LEDGER", None)
    env.pop("GOLF_CHECK_LEDGER_DUMP", None)
    env.pop("GOLF_CHECK_TRACE_DIR", None)  # the run's trace goes over its channel only
    pythonpath = [str(SHIM_DIR), str(opts.invocation_dir), *map(str, opts.target.extra_pythonpath)]
    if env.get("PYTHONPATH"):
        pythonpath.append(env["PYTHONPATH"])
    cache = run_dir / "cache"
    env.update(
        SEED=str(seed),
        RUN_ID=f"seed{seed}",
        DATA_PATH=str(data_path),
        MAX_WALLCLOCK_SECONDS=f"{opts.train_budget_s:g}",
        PYTHONPATH=os.pathsep.join(pythonpath),
        PYTHONUNBUFFERED="1",  # lines must reach the harness clock when printed
        PYTHONDONTWRITEBYTECODE="1",
        # caches into the run's folder: the rest of the file system is read-only to the run
        TRITON_CACHE_DIR=str(cache / "triton"),
        TORCHINDUCTOR_CACHE_DIR=str(cache / "inductor"),
        CUDA_CACHE_PATH=str(cache / "cuda"),
        XDG_CACHE_HOME=str(cache / "xdg"),
        MPLCONFIGDIR=str(cache / "matplotlib"),
    )
    if opts.tokenizer is not None:
        env["TOKENIZER_PATH"] = str(opts.tokenizer)
    if opts.target.is_reference:
        env.setdefault("PRESET", "tiny")
    env.update(opts.env)  # the user's --env wins over our defaults, not over the audit below
    audit_dir = run_dir / "audit"
    env.update(
        GOLF_CHECK_WORK_DIR=str((run_dir / "work").resolve()),
        GOLF_CHECK_OUT_DIR=str(opts.out_dir.resolve()),
        GOLF_CHECK_DATA_DIR=str(data_path),
        GOLF_CHECK_SCRIPT_DIR=str(opts.target.code_dir),
        GOLF_CHECK_WRITABLE=os.pathsep.join(str(d.resolve()) for d in writable_dirs(run_dir)),
        GOLF_CHECK_PROTECT=os.pathsep.join(
            str(p) for p in [*protected_dirs(opts), opts.out_dir.resolve()]
        ),
        GOLF_CHECK_BLOCK_NET="1" if box.block_in_process else "0",
    )
    if "trace" in opts.audits:
        env["GOLF_CHECK_VALINDEX"] = str(stream.index_dir)
    if opts.tokenizer is not None:
        env["GOLF_CHECK_TOKENIZER"] = str(opts.tokenizer.resolve())
    if "ledger" in opts.audits:
        env["GOLF_CHECK_LEDGER"] = str(audit_dir / "ledger")
    return env


def run_seed(
    opts: RunOptions,
    seed: int,
    stream: Stream,
    env_extra: dict[str, str] | None = None,
    name: str | None = None,
) -> SeedAudit:
    """Run the candidate once for ``seed`` and measure it (no findings yet)."""
    run_dir = opts.out_dir / (name or f"seed{seed}")
    work_dir = run_dir / "work"
    audit_dir = run_dir / "audit"
    writable = writable_dirs(run_dir)
    for d in writable:
        d.mkdir(parents=True, exist_ok=True)
    serve(opts.data_dir, opts.out_dir, opts.served_val)
    try:
        box = sandbox.plan(
            protected_dirs(opts),
            [d.resolve() for d in writable],
            enabled=opts.sandbox,
            harness_owned=[opts.out_dir],
            limits=opts.limits,
            trusted=opts.target.is_reference,
        )
    except sandbox.SandboxUnavailable as exc:
        raise InputError(sandbox.refusal(str(exc))) from None
    env = candidate_env(opts, seed, run_dir, box, stream)
    if env_extra:
        env.update(env_extra)
    log_path = run_dir / f"train_seed{seed}.log"
    command = box.prefix + opts.target.command(opts.nproc)
    sizes = measure.snapshot_sizes(opts.target.script, opts.target.code_dir)
    watch = None
    if opts.monitor is not None:
        watch = opts.monitor.watch(seed, name, opts.out_dir.name, work_dir, int(stream.tokens.size))
    result = launcher.launch(
        command,
        cwd=work_dir,
        env=env,
        log_path=log_path,
        timeout_s=opts.seed_timeout_s,
        token=secrets.token_hex(8),
        trace_path=run_dir / "trace.jsonl",
        on_line=watch.line if watch else None,
        on_event=watch.event if watch else None,
        max_rss_bytes=opts.limits.get("rss"),
    )
    if watch is not None:
        watch.finish(result.returncode, result.timed_out, result.start_error)
    tr = trace.from_events(result.trace_events, result.trace_malformed)
    log_intact = file_sha256(log_path) == result.log_sha256
    runlog = parse_log(log_path) if log_path.is_file() else None
    headline = runlog.headline() if runlog else None
    artifact = measure.find_artifact(work_dir, tr, result, opts.artifact_name)
    code = measure.code_files(
        opts.target.script, opts.target.code_dir, tr, opts.target.is_package, sizes
    )
    side = measure.side_files(tr, opts.target.code_dir)
    integrity = trace.check_integrity(
        tr,
        started=result.started,
        ended=result.ended,
        returncode=result.returncode,
        timed_out=result.timed_out,
        scored=headline is not None,
        expect_forwards="trace" in opts.audits,
        dropped=result.trace_dropped,
    )
    timing = measure.timing(result, tr, artifact, headline.line if headline else None)
    coverage = None
    if "trace" in opts.audits:
        t_art = artifact.written_at if artifact else None
        coverage = trace.replay_coverage(tr, int(stream.tokens.size), t_art)
    log_rel = os.path.relpath(log_path, opts.out_dir)
    audit = SeedAudit(
        seed,
        opts,
        run_dir,
        work_dir,
        log_path,
        log_rel,
        result,
        box,
        tr,
        runlog,
        headline,
        artifact,
        code,
        timing,
        coverage,
        stream,
        side,
        integrity,
        log_intact,
    )
    audit.expects_artifact = not (env_extra or {}).get("EVAL_ONLY")
    if result.log_dropped_bytes:
        audit.notes.append(
            f"output past {launcher.MAX_LOG_BYTES:,} bytes was read and not kept "
            f"({result.log_dropped_bytes:,} bytes): the log holds the first part only"
        )
    if "ledger" in opts.audits:
        _collect_ledger(audit, audit_dir / "ledger")
    return audit


def _collect_ledger(audit: SeedAudit, directory: Path) -> None:
    from golf_check.harness.ledger import LedgerChecker, read_ledger

    if not any(directory.glob("ledger.rank*.jsonl")):
        audit.notes.append(
            "no ledger: the script does not call harness.ledger (black-box audit only)"
        )
        return
    try:
        events = read_ledger(directory)
    except InputError as exc:
        audit.ledger_error = str(exc)
        return
    audit.ledger = LedgerChecker().feed_all(events).verdict()
    if audit.stream.token_bytes is None:
        return
    # val_bpb of each pass, from the ledger's nll sums and golf-check's own byte counts
    ranges: dict[str, list[tuple[int, int]]] = {}
    nats: dict[str, float] = {}
    for event in events:
        if event.get("event") != "scored":
            continue
        name = event.get("pass") or "?"
        ranges.setdefault(name, []).append((int(event["start"]), int(event["end"])))
        nats[name] = nats.get(name, 0.0) + float(event.get("nll_sum", 0.0))
    n = audit.stream.tokens.size
    for name, spans in ranges.items():
        clipped = [(max(s, 1), min(e, n)) for s, e in spans if e > s]
        total_bytes = audit.stream.bytes_of(clipped)
        if total_bytes > 0:
            audit.ledger_bpb[name] = nats[name] / math.log(2.0) / total_bytes
