"""What an audited run (`golf-check run`) can only see by running the candidate: seeds that
crash, hang or print no score, processes left behind, writes outside the run's folder, a
sandbox that could not be built, and a score that the run's own per-position losses and
golf-check's byte counts do not reproduce. (The budgets on the harness clock are judged in
time_budget.py; the split scored and the log's timers in evidence_claims.py.)

Runtime and ledger detectors here receive one ``harness.runtime.session.SeedAudit``.
"""

from __future__ import annotations

from collections.abc import Iterator

from golf_check.harness.evidence.levels import audit_finding
from golf_check.harness.report import Finding
from golf_check.harness.rulebook import detector, rule

SEED_FAILED = rule(
    "EVIDENCE.seed-failed",
    "EVIDENCE",
    "Every seed of an audited run must finish, write its artifact and print its score",
    """
A seed that crashes, exceeds the hard timeout, writes no artifact or prints no final score
line has no result, so the run cannot support a record: its score would be averaged over
the seeds that happened to succeed. golf-check runs every seed to the end (or the timeout),
records the exit status and keeps going with the other seeds.

Example:
    seed 42: exited with status 1 (RuntimeError: CUDA out of memory)
""",
    (
        "https://github.com/openai/parameter-golf/blob/main/README.md",
        "https://github.com/openai/parameter-golf/pull/1868",
    ),
)

LEFT_RUNNING = rule(
    "EVIDENCE.process-left-running",
    "EVIDENCE",
    "A run must not leave processes behind after its main process exits",
    """
Everything a submission computes must happen inside its timed run. A daemon that survives
the main process (forked, detached with setsid) can keep computing or touching files after
the run is measured. golf-check finds every process carrying the run's token in its
environment, reports it and kills it.

Example:
    if os.fork() == 0:
        os.setsid(); keep_tuning_in_background()
""",
    ("https://github.com/openai/parameter-golf/blob/main/README.md",),
)

WRITE_OUTSIDE = rule(
    "DATA.write-outside-run",
    "DATA",
    "A run may write only inside its own folder (and scratch space)",
    """
The candidate runs in a fresh working folder. Writing, deleting or renaming files elsewhere
changes the user's machine and can smuggle state between runs (a cache filled by one seed
and read by the next). Writes into the user's protected folders (the data, the script's
folder, the folder golf-check was started from) are refused by the sandbox and are errors;
other writes outside the run's folder and the temporary directory are warnings.

Example:
    open(os.path.expanduser("~/.cache/warm_start.pt"), "wb")
""",
    ("https://github.com/openai/parameter-golf/blob/main/README.md",),
    severity="warning",
)

SANDBOX_FALLBACK = rule(
    "EVIDENCE.sandbox-fallback",
    "EVIDENCE",
    "The candidate must run inside golf-check's bubblewrap sandbox",
    """
golf-check runs the candidate under bubblewrap: new user, pid, network, mount, IPC and UTS
namespaces, where nothing but the loopback is reachable, the file system is read-only except
the run's own folders, and no process outlives its seed. Without bubblewrap (or where it
cannot build its namespaces: macOS, locked-down containers), an untrusted script is refused
unless the user passes --no-sandbox; the bundled reference, and a script run with
--no-sandbox, run under audit hooks inside the candidate that refuse network calls and
protected writes instead. Native code can bypass those hooks, so the result is weaker, and
the report says so. An older bubblewrap without --size or --disable-userns is noted here too.

Example:
    golf-check run train_gpt.py --no-sandbox   # audit hooks only: "no sandbox (--no-sandbox)"
""",
    ("https://github.com/openai/parameter-golf/blob/main/README.md",),
    severity="warning",
)

BPB_RECOMPUTED = rule(
    "EVIDENCE.bpb-recomputed",
    "EVIDENCE",
    "The printed val_bpb must equal the one recomputed from the run's own per-position losses",
    """
When the script reports its per-position losses to the ledger, golf-check recomputes
val_bpb = (sum of nats / ln 2) / (sum of bytes) with its own byte counts: the
SentencePiece byte table applied to the validation stream golf-check loaded itself. A
printed score that differs means the script's byte accounting or its averaging is wrong
(issue #1719: a double-counted space inflated the bytes by about 17%).

Example:
    printed quantized_ttt val_bpb 1.0612; recomputed from the ledger 1.2418
""",
    (
        "https://github.com/openai/parameter-golf/issues/1719",
        "https://github.com/openai/parameter-golf/issues/1017",
    ),
)

AUDIT_INTEGRITY = rule(
    "EVIDENCE.audit-integrity",
    "EVIDENCE",
    "The run's own evidence (log, trace) must be complete and untouched",
    """
golf-check's evidence about a run is the log it captured from the candidate's output and
the events its audit shim sent, live, over a descriptor the harness reads. Both are written
into the harness's folder, which the sandbox mounts read-only for the candidate. The trace
is still cooperative (the shim runs inside the candidate's processes), so what it cannot
prevent it makes visible: the main process must report from start to exit, with a heartbeat
every two seconds; the forward passes the shim counted must all arrive; its hooks must
still be its own; every Python child must run with the shim (``python -I``, ``-S``, ``-E``
or an environment without it is refused as evidence); and a run whose score lines are
printed must show traced forward passes over the validation positions. A log file that no
longer hashes to what the harness wrote is an error too.

Example:
    import golf_check_shim; golf_check_shim._tracer.emit = lambda *a, **k: None
    subprocess.run([sys.executable, "-I", "eval_on_val.py"])
""",
    ("DESIGN.md", "https://github.com/openai/parameter-golf/blob/main/README.md"),
)

BPB_TOLERANCE = 1e-5  # relative; the ledger's nll sums are float64 of float32 losses


@detector(SEED_FAILED, level="runtime")
def seed_failed(audit) -> Iterator[Finding]:
    reason = audit.failure
    if reason is None:
        return
    tail = [line.text for line in audit.launch.lines[-3:]]
    yield audit_finding(
        SEED_FAILED,
        audit,
        reason,
        evidence="\n".join(tail) or None,
        level="runtime",
        fix="run the seed alone and read its log; every seed must finish and print its score",
    )


@detector(AUDIT_INTEGRITY, level="runtime")
def audit_integrity(audit) -> Iterator[Finding]:
    if not audit.log_intact:
        yield audit_finding(
            AUDIT_INTEGRITY,
            audit,
            "the log file was changed after golf-check wrote it",
            level="runtime",
            fix="write nothing into the harness's folder; print to stdout",
        )
    for severity, message in audit.integrity.problems:
        yield audit_finding(
            AUDIT_INTEGRITY,
            audit,
            message,
            severity=severity,
            level="runtime",
            fix="run every Python process with the environment golf-check gave the run, and "
            "leave the audit shim in place",
        )


@detector(LEFT_RUNNING, level="runtime")
def left_running(audit) -> Iterator[Finding]:
    if audit.launch.survivors:
        yield audit_finding(
            LEFT_RUNNING,
            audit,
            f"{len(audit.launch.survivors)} process(es) still running after the main process "
            "exited (killed by golf-check)",
            evidence="\n".join(audit.launch.survivors[:4]),
            level="runtime",
            fix="wait for every child process before exiting; do not detach daemons",
        )


@detector(WRITE_OUTSIDE, level="runtime")
def writes_outside(audit) -> Iterator[Finding]:
    protected = [str(p) for p in audit.protected_dirs()]
    hits: dict[str, list[str]] = {"protected": [], "other": []}
    for event in audit.outside_writes() + audit.protected_attempts():
        path = event.get("path", "")
        what = f"{event.get('op', 'open for writing')} {path}"
        kind = "protected" if any(path.startswith(p) for p in protected) else "other"
        if audit.in_writable(path) or what in hits[kind]:
            continue
        hits[kind].append(what)
    did = {
        "protected": "tried to change {n} file(s) in the user's folders or golf-check's own "
        "(refused by the sandbox)",
        "other": "wrote {n} file(s) outside its folder",
    }
    for kind, writes in hits.items():
        if writes:
            yield audit_finding(
                WRITE_OUTSIDE,
                audit,
                did[kind].format(n=len(writes)),
                # the writes the sandbox refused are errors, the others warnings
                severity="error" if kind == "protected" else "warning",
                evidence="\n".join(writes[:4]),
                level="runtime",
                fix="write only into the working directory the run starts in",
            )


@detector(SANDBOX_FALLBACK, level="runtime")
def sandbox_fallback(audit) -> Iterator[Finding]:
    if audit.sandbox.network != "namespace" or audit.sandbox.notes:
        yield Finding.of(
            SANDBOX_FALLBACK,
            f"seed {audit.seed}: " + "; ".join(audit.sandbox.notes),
            level="runtime",
            confidence="high",
        )


@detector(BPB_RECOMPUTED, level="ledger")
def recomputed_bpb(audit) -> Iterator[Finding]:
    head = audit.headline
    if head is None or not audit.ledger_bpb:
        return
    name = audit.ledger_pass_for(head.kind)
    if name is None:
        return
    recomputed = audit.ledger_bpb[name]
    tolerance = max(BPB_TOLERANCE * abs(recomputed), 0.5 * 10.0**-head.bpb_decimals)
    if abs(recomputed - head.val_bpb) > tolerance:
        yield audit_finding(
            BPB_RECOMPUTED,
            audit,
            f"the log prints {head.kind} val_bpb {head.val_bpb}, the ledger's losses over "
            f"golf-check's byte counts give {recomputed:.8f}",
            line=head.line,
            evidence=head.text,
            level="ledger",
            fix="count bytes with the canonical SentencePiece table and divide total nats "
            "by total bytes",
        )


@detector(BPB_RECOMPUTED, level="runtime")
def unrecomputed_bpb(audit) -> Iterator[Finding]:
    """Without a ledger the score is only what the script printed: a script that prints its
    val_loss and val_bpb halved, consistently, would pass every other check."""
    head = audit.headline
    if head is None or audit.failure is not None or audit.ledger_bpb:
        return
    yield audit_finding(
        BPB_RECOMPUTED,
        audit,
        f"val_bpb {head.val_bpb} is what the script printed; it reported no per-position "
        "losses to the ledger, so golf-check could not recompute it (the canary judges the "
        "printed loss too)",
        line=head.line,
        evidence=head.text,
        level="runtime",
        severity="warning",
        fix="report per-position losses to the ledger (docs/ledger.md) so the score is measured",
    )
