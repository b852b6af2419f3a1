"""``verify_path``: recompute a record folder's (or run report's) budgets and claims.

It only reads files. For a folder it finds every run log by content (any name, any
subfolder), reads each seed from the log itself, groups the logs by configuration, picks
the group the submission's claim is about, applies every log-level rule through
``check_seeds``' machinery and builds the report: a per-seed table with pass/fail marks,
the claim beside the recomputed mean, the significance tests, and the JSON contract keys.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from golf_check.harness import progress
from golf_check.harness.errors import InputError
from golf_check.harness.evidence import canonical
from golf_check.harness.evidence import stats as st
from golf_check.harness.evidence.checks import build_evidence, run_detectors
from golf_check.harness.evidence.logparse import PROVENANCE_KEYS, RunLog, parse_log, read_budget
from golf_check.harness.evidence.model import Baseline, Claims, EvidenceSet, SeedEvidence
from golf_check.harness.evidence.runreport import is_run_report, load_json_document, read_run_report
from golf_check.harness.evidence.submission import (
    find_submission_file,
    load_submission,
    read_claims,
)
from golf_check.harness.report import Finding, Report, Table, verdict_of
from golf_check.harness.rulebook import load_all
from golf_check.harness.static.common import SKIP_DIRS

LOG_SUFFIXES = {".log", ".txt", ".out", ".err", ""}
MAX_DEPTH = 4
MAX_FILES = 5000


@dataclass
class FolderEvidence:
    """The seeds found in a folder, before judging."""

    root: Path
    logs: list[RunLog] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def verify_path(
    path: str | Path,
    *,
    baseline: str | float | None = None,
    policy: str = "readme",
    headline: str | None = None,
    strict: bool = False,
) -> Report:
    """Verify a record folder, a single train log, or a ``golf-check run`` JSON report."""
    if policy not in st.POLICIES:
        raise InputError(f"unknown policy {policy!r}; choose {' or '.join(st.POLICIES)}")
    target = Path(path)
    if not target.exists():
        raise InputError(f"{target}: no such file or directory")
    base = load_baseline(baseline, headline=headline) if baseline is not None else None
    report = Report(command="verify", target=str(target), strict=strict)
    # Findings name files relative to the record folder (or the log's folder).
    report.paths_relative_to = str((target if target.is_dir() else target.parent).resolve())
    if not (target.is_dir() or target.is_file()):  # a FIFO or device would block a read
        raise InputError(f"{target}: not a regular file or folder")
    with read_budget():  # one record's logs together stay within the parser's bounds
        if target.is_dir():
            _verify_folder(report, target, base, policy, headline)
        elif target.name == "submission.json":
            _verify_folder(report, target.parent, base, policy, headline)
        elif target.suffix.lower() == ".json":
            doc = load_json_document(target)
            if not is_run_report(doc):
                raise InputError(
                    f"{target}: not a golf-check run report (expected an object with "
                    '"command": "run" and a "seeds" list)'
                )
            _verify_run_report(report, target, doc, base, policy, headline)
        else:
            _verify_single_log(report, target, base, policy, headline)
    _locate_every_finding(report, target)
    return report


def _locate_every_finding(report: Report, target: Path) -> None:
    """Every finding gets a file and a line: GitHub code scanning rejects a whole SARIF
    upload when one result has no location. A folder-level finding points at
    submission.json line 1 (else the first log), a finding on a single file at that file."""
    if target.is_dir():
        seeds = report.data.get("seeds") or []
        if (target / "submission.json").is_file() or not seeds:
            home = "submission.json"
        else:
            home = seeds[0].get("log") or "submission.json"
    else:
        home = target.name
    for finding in report.all_findings():
        if not finding.file:
            finding.file = home
        if not finding.line:
            finding.line = 1


def verify_paths(
    paths: list[str | Path],
    *,
    baseline: str | float | None = None,
    policy: str = "readme",
    headline: str | None = None,
    strict: bool = False,
) -> Report:
    """``verify A [B ...]``: one folder as ``verify_path`` does; several folders, or a folder
    holding record folders (``records/``), folder by folder with a verdict each.

    Logs of different records are never pooled into one mean: each record folder is judged
    on its own, its findings keep their paths under the folder, and a summary table lists
    every folder's verdict, mean and claim. The exit code is the worst folder's.
    """
    if not paths:
        raise InputError("verify: give a record folder, a train log or a run report")
    options = dict(baseline=baseline, policy=policy, headline=headline, strict=strict)
    if len(paths) == 1:
        target = Path(paths[0])
        folders = record_folders_under(target) if target.is_dir() else []
        if not folders:
            return verify_path(target, **options)
        shown = [(f, f.relative_to(target)) for f in folders]
        return _verify_each(str(target), shown, options, parent=target)
    for p in paths:
        if not Path(p).exists():
            raise InputError(f"{p}: no such file or directory")
    return _verify_each(", ".join(map(str, paths)), [(Path(p), Path(p)) for p in paths], options)


def record_folders_under(target: Path) -> list[Path]:
    """The record folders inside ``target`` when ``target`` is not one itself (no
    submission.json, no run log of its own): children, or grandchildren under a track folder
    (``records/track_10min_16mb/<record>``)."""
    if _looks_like_record(target):
        return []
    found: list[Path] = []

    def walk(folder: Path, depth: int) -> None:
        for child in sorted(folder.iterdir()):
            if not child.is_dir() or child.is_symlink() or child.name.startswith("."):
                continue
            if child.name in SKIP_DIRS:
                continue
            if _looks_like_record(child):
                found.append(child)
            elif depth < 2 and len(found) < MAX_FILES:
                walk(child, depth + 1)

    try:
        walk(target, 0)
    except OSError as exc:
        raise InputError(f"{target}: cannot list the folder: {exc.strerror or exc}") from None
    # Only a folder of submissions is split: a record whose logs sit in a logs/ subfolder
    # (and has no submission.json) is still one record.
    if not any((f / "submission.json").is_file() for f in found):
        return []
    return found


def _looks_like_record(folder: Path) -> bool:
    """A submission.json, or a run log, directly in the folder."""
    if (folder / "submission.json").is_file():
        return True
    try:
        entries = sorted(folder.iterdir())[:200]
    except OSError:
        return False
    with read_budget():
        for entry in entries:
            if entry.suffix.lower() not in (".log", ".txt", ".out") or not entry.is_file():
                continue
            if entry.name.lower().startswith(("readme", "requirements")):
                continue
            try:
                if parse_log(entry).is_run_log:
                    return True
            except InputError:
                continue
    return False


def _verify_each(
    target: str,
    folders: list[tuple[Path, Path]],
    options: dict[str, Any],
    parent: Path | None = None,
) -> Report:
    report = Report(command="verify", target=target, strict=options["strict"])
    if parent is not None:  # findings are named relative to the parent folder
        report.paths_relative_to = str(parent.resolve())
    rows, per_folder = [], []
    progress.expect(len(folders))
    for folder, shown in folders:
        prefix = shown.as_posix().rstrip("/")
        progress.advance(prefix)
        try:
            sub = verify_path(folder, **options)
        except InputError as exc:
            report.errors.append(str(exc))
            rows.append({"folder": prefix, "verdict": "error", "note": str(exc)[:160]})
            continue
        # verify_path names files relative to the folder (or a log's own folder).
        base = prefix if folder.is_dir() else shown.parent.as_posix()
        for finding in sub.all_findings():
            name = finding.file or "submission.json"
            finding.file = name if base in ("", ".") else f"{base}/{name}"
            finding.line = finding.line or 1
            report.findings.append(finding)
        report.errors.extend(f"{prefix}: {e}" for e in sub.errors)
        report.notes.extend(f"{prefix}: {n}" for n in sub.notes)
        for table in sub.tables:
            table.title = f"{prefix}: {table.title}"
            report.tables.append(table)
        counts = sub.summary()
        rows.append(
            {
                "folder": prefix,
                "verdict": sub.verdict,
                "seeds": len(sub.data.get("seeds") or []),
                "mean_val_bpb": _short(sub.data.get("mean_val_bpb")),
                "claimed_val_bpb": sub.data.get("claimed_val_bpb"),
                "errors": counts["errors"],
                "warnings": counts["warnings"],
            }
        )
        per_folder.append({"folder": prefix, "verdict": sub.verdict, **sub.data})
    verdicts = [r["verdict"] for r in rows]
    report.tables.insert(
        0,
        Table(
            title=f"Record folders ({len(rows)}), each verified on its own",
            columns=[
                ("folder", "folder"),
                ("verdict", "verdict"),
                ("seeds", "seeds"),
                ("mean_val_bpb", "mean val_bpb"),
                ("claimed_val_bpb", "claimed"),
                ("errors", "errors"),
                ("warnings", "warnings"),
            ],
            rows=rows,
        ),
    )
    report.facts.append(("record folders", str(len(rows))))
    report.facts.append(
        ("verdicts", ", ".join(f"{verdicts.count(v)} {v}" for v in sorted(set(verdicts))))
    )
    report.notes.insert(
        0,
        "each record folder is verified on its own: logs of different folders are never "
        "averaged together",
    )
    report.data["folders"] = per_folder
    return report


# --------------------------------------------------------------------------- inputs


def find_run_logs(root: Path) -> FolderEvidence:
    """Every run log under ``root`` (decided by content), refusing escaping symlinks."""
    found = FolderEvidence(root=root)
    real_root = root.resolve()
    seen_real: set[Path] = set()
    by_hash: dict[str, RunLog] = {}
    count = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        depth = len(Path(dirpath).relative_to(root).parts)
        for d in dirnames:
            sub = Path(dirpath) / d
            if sub.is_symlink() and not sub.resolve().is_relative_to(real_root):
                rel = sub.relative_to(root).as_posix()
                found.errors.append(
                    f"{rel}: refusing a symlink that points outside the folder ({sub.resolve()})"
                )
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in SKIP_DIRS and not d.startswith(".") and depth < MAX_DEPTH
        )
        for name in sorted(filenames):
            candidate = Path(dirpath) / name
            rel = candidate.relative_to(root).as_posix()
            if Path(name).suffix.lower() not in LOG_SUFFIXES or name.lower().startswith("readme"):
                continue
            if candidate.is_symlink():
                real = candidate.resolve()
                if not real.is_relative_to(real_root):
                    found.errors.append(
                        f"{rel}: refusing a symlink that points outside the folder ({real})"
                    )
                    continue
            if not candidate.is_file():
                continue
            real = candidate.resolve()
            if real in seen_real:
                continue
            seen_real.add(real)
            count += 1
            if count > MAX_FILES:
                found.errors.append(f"{root}: more than {MAX_FILES} candidate files; stopped")
                return found
            try:
                log = parse_log(candidate)
            except InputError as exc:
                found.errors.append(str(exc))
                continue
            if not log.is_run_log:
                continue
            log.path = rel
            if log.sha256 in by_hash:
                found.duplicates.append((rel, by_hash[log.sha256].path))
                continue
            by_hash[log.sha256] = log
            found.logs.append(log)
    return found


def load_baseline(spec: str | float | Path, *, headline: str | None = None) -> Baseline:
    """``--baseline``: a number (bpb), a record folder or log, or a run report."""
    if isinstance(spec, (int, float)):
        return Baseline(label=f"{float(spec):g} bpb", value_bpb=float(spec))
    text = str(spec).strip()
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is not None:
        if not 0 < value < 20:
            raise InputError(f"--baseline {text}: not a plausible val_bpb")
        return Baseline(label=f"{value:g} bpb", value_bpb=value)
    path = Path(text)
    if not path.exists():
        raise InputError(f"--baseline {text}: not a number and no such file or folder")
    if not (path.is_dir() or path.is_file()):
        raise InputError(f"--baseline {text}: not a regular file or folder")
    seeds: list[SeedEvidence]
    if path.is_dir():
        found = find_run_logs(path)
        groups = _group_by_config([SeedEvidence.from_log(g, headline=headline) for g in found.logs])
        claims = None
        sub = path / "submission.json"
        if sub.is_file():
            doc, _ = load_submission(sub)
            claims = read_claims(doc) if doc else None
        seeds, _ = _choose_group(groups, claims)
    elif path.suffix.lower() == ".json":
        doc = load_json_document(path)
        if not is_run_report(doc):
            raise InputError(f"--baseline {text}: not a golf-check run report")
        seeds = read_run_report(path, doc, headline).seeds
    else:
        seeds = [SeedEvidence.from_log(parse_log(path), headline=headline)]
    scored = [s for s in seeds if s.val_bpb is not None and s.val_loss is not None]
    if not scored:
        raise InputError(f"--baseline {text}: no scored seed found")
    return Baseline(
        label=path.name or text,
        val_loss=[s.val_loss for s in scored],
        val_bpb=[s.val_bpb for s in scored],
    )


# --------------------------------------------------------------------------- grouping


def _config_key(seed: SeedEvidence, common: set[str]) -> tuple:
    """The settings every log prints, plus the code size the log counted: logs of another
    version of the script (train_v0.txt, train_v2.txt ...) are another configuration."""
    settings = tuple(
        sorted(
            (k, v)
            for k, v in seed.hyperparameters.items()
            if k in common and k not in PROVENANCE_KEYS
        )
    )
    return settings, seed.code_bytes


def _group_by_config(seeds: list[SeedEvidence]) -> list[list[SeedEvidence]]:
    """Seeds split by the settings all logs print; in first-seen order."""
    with_config = [s for s in seeds if s.hyperparameters]
    common = (
        set.intersection(*(set(s.hyperparameters) for s in with_config)) if with_config else set()
    )
    groups: dict[tuple, list[SeedEvidence]] = {}
    for seed in seeds:
        groups.setdefault(_config_key(seed, common), []).append(seed)
    return list(groups.values())


def _claim_fit(group: list[SeedEvidence], claims: Claims) -> tuple[bool, int]:
    """(the group's mean is the claim, how many per-seed claims its logs reproduce)."""
    values = [s.val_bpb for s in group if s.val_bpb is not None]
    mean_ok = (
        bool(values)
        and claims.val_bpb is not None
        and (abs(st.mean(values) - claims.val_bpb) <= st.claim_tolerance(claims.val_bpb_decimals))
    )
    per_seed = 0
    for s in group:
        claimed = claims.per_seed.get(s.seed, {}).get("val_bpb") if s.seed is not None else None
        if (
            claimed is not None
            and s.val_bpb is not None
            and abs(claimed - s.val_bpb) <= st.claim_tolerance(8)
        ):
            per_seed += 1
    return mean_ok, per_seed


def _logs_named_by_seed_claims(
    seeds: list[SeedEvidence], claims: Claims
) -> list[SeedEvidence] | None:
    """The logs whose headlines are the per-seed figures submission.json lists, if every
    listed seed has exactly such a log."""
    wanted = {k: v["val_bpb"] for k, v in claims.per_seed.items() if "val_bpb" in v}
    if len(wanted) < 2:
        return None
    chosen = []
    for seed, claimed in wanted.items():
        tol = st.claim_tolerance(len(repr(float(claimed)).split(".")[-1]))
        match = [
            s
            for s in seeds
            if s.seed == seed and s.val_bpb is not None and abs(s.val_bpb - claimed) <= tol
        ]
        if len(match) != 1:
            return None
        chosen.append(match[0])
    return [s for s in seeds if s in chosen]


def _choose_group(
    groups: list[list[SeedEvidence]], claims: Claims | None
) -> tuple[list[SeedEvidence], list[SeedEvidence]]:
    """(seeds the claim is about, other runs in the folder).

    With one configuration that is every log. With several (an original run and a
    compliance rerun, say) it is the configuration whose logs reproduce the claim; only if
    no single configuration does, but all logs together do, are they judged together (and
    EVIDENCE.same-config reports the mix).
    """
    everyone = [s for g in groups for s in g]
    if len(groups) <= 1:
        return everyone, []
    if claims is not None:
        named = _logs_named_by_seed_claims(everyone, claims)
        if named:
            return named, [s for s in everyone if s not in named]
        best, best_fit = None, (False, 0)
        for group in groups:
            fit = _claim_fit(group, claims)
            if fit > best_fit:
                best, best_fit = group, fit
        if best is not None and best_fit[0]:
            return best, [s for s in everyone if s not in best]
        if _claim_fit(everyone, claims)[0]:
            return everyone, []
        if best is not None:
            return best, [s for s in everyone if s not in best]
        # No figure reproduces the claim: the group of exactly the seeds it lists is its run.
        listed = [g for g in groups if claims.seeds and {s.seed for s in g} == set(claims.seeds)]
        if len(listed) == 1:
            return listed[0], [s for s in everyone if s not in listed[0]]
    largest = max(groups, key=lambda g: (len({s.seed for s in g}), -groups.index(g)))
    if len({s.seed for s in largest}) >= 3:
        return largest, [s for s in everyone if s not in largest]
    return everyone, []


def _seed_tol(claimed: float, log_decimals: int) -> float:
    """A per-seed claim and a log line agree within half a unit of the coarser of the two."""
    return st.claim_vs_printed_tolerance(_printed_decimals(claimed), log_decimals)


def _printed_decimals(value: float) -> int:
    text = repr(float(value))
    return len(text.split(".")[1]) if "." in text and "e" not in text else 8


def _follow_claimed_lines(
    logs: list[RunLog], seeds: list[SeedEvidence], claims: Claims, family: str | None
) -> None:
    """Per seed, the score line submission.json claims, when it is not the log's last one.

    A log may print later passes (a diagnostic TTT run, a broken extra eval) after the line
    the record reports. An earlier final line becomes the seed's score only when it is on
    the record's eval path: its kind is the last line of another seed whose last line is
    its claim, or every seed's claim is its line of that kind. The line must carry at least
    the claim's precision (a claim is not copied from a rounded progress summary), and
    diagnostic and ``:done`` summary lines are never chosen.
    """
    claimed_of = {
        id(s): claims.per_seed.get(s.seed, {}).get("val_bpb") if s.seed is not None else None
        for s in seeds
    }
    on_path: set[str] = set()
    for seed in seeds:
        claimed = claimed_of[id(seed)]
        if claimed is None or seed.val_bpb is None:
            continue
        if abs(seed.val_bpb - claimed) <= _seed_tol(claimed, seed.bpb_decimals):
            on_path.add(seed.headline_kind or "")
            seed.headline_reason = (seed.headline_reason or "") + (
                "; it is the figure submission.json claims for this seed"
            )
    candidates = {
        i: _claimed_line(log, seed, claimed_of[id(seed)])
        for i, (log, seed) in enumerate(zip(logs, seeds, strict=True))
    }
    with_claims = [i for i, s in enumerate(seeds) if claimed_of[id(s)] is not None]
    agreed = {c.kind for c in candidates.values() if c is not None}
    everywhere = (
        len(agreed) == 1
        and len(with_claims) >= 2
        and all(candidates[i] is not None or seeds[i].headline_kind in agreed for i in with_claims)
    )
    for i, chosen in candidates.items():
        if chosen is None or not (chosen.kind in on_path or everywhere):
            continue
        log, seed = logs[i], seeds[i]
        replaced = SeedEvidence.from_log(log, headline=chosen.kind, tokenizer_family=family)
        if replaced.headline_line != chosen.line or replaced.val_bpb is None:
            continue
        if not replaced.complete and seed.complete:  # the later pass ended the log properly
            replaced.complete, replaced.incomplete_reason = True, None
        replaced.headline_reason = (
            f"the {chosen.kind} line is the val_bpb submission.json claims for seed "
            f"{seed.seed} and the record's eval path; the later {seed.headline_kind} line "
            f"(L{seed.headline_line}, val_bpb {seed.val_bpb}) is a pass off that path"
        )
        seeds[i] = replaced


def _claimed_line(log: RunLog, seed: SeedEvidence, claimed: float | None):
    """The last final score line before the seed's headline that is the claimed figure."""
    if claimed is None or seed.val_bpb is None or seed.headline_line is None:
        return None
    if abs(seed.val_bpb - claimed) <= _seed_tol(claimed, seed.bpb_decimals):
        return None
    precision = _printed_decimals(claimed)
    matches = [
        line
        for line in log.final_scores
        if line.line < seed.headline_line
        and not line.kind.endswith(":done")
        and line.bpb_decimals >= min(precision, 8)
        and abs(line.val_bpb - claimed) <= _seed_tol(claimed, line.bpb_decimals)
    ]
    return matches[-1] if matches else None


def _follow_claimed_kind(
    logs: list[RunLog], judged: list[SeedEvidence], claims: Claims, family: str | None
) -> list[SeedEvidence]:
    """The score line kind whose per-seed mean is the claim, when the last lines' is not.

    Without per-seed claims the mean is what names the eval path: if the logs' last lines
    do not average to the claim but every log's line of one other final kind does, that
    kind is the record's eval path and the later lines are passes off it.
    """
    if claims.val_bpb is None or claims.per_seed or len(judged) < 2:
        return judged
    tol = st.claim_tolerance(claims.val_bpb_decimals)
    current = [s.val_bpb for s in judged if s.val_bpb is not None]
    if current and abs(st.mean(current) - claims.val_bpb) <= tol:
        return judged
    by_path = {log.path: log for log in logs}
    mine = [by_path.get(s.log) for s in judged]
    if any(log is None for log in mine):
        return judged
    kinds = set.intersection(*({x.kind for x in log.final_scores} for log in mine))
    for kind in sorted(kinds):
        redone = [
            SeedEvidence.from_log(log, headline=kind, tokenizer_family=family) for log in mine
        ]
        values = [s.val_bpb for s in redone]
        if None in values or abs(st.mean(values) - claims.val_bpb) > tol:
            continue
        for old, new in zip(judged, redone, strict=True):
            new.seed, new.seed_source = old.seed, old.seed_source
            new.headline_reason = (
                f"the {kind} lines average to the claimed val_bpb; the log's last line "
                f"({old.headline_kind}, L{old.headline_line}) is a pass off the claimed eval path"
            )
            if old.complete and not new.complete:
                new.complete, new.incomplete_reason = True, None
        return redone
    return judged


def _trust_scripts_without_exact_twin(folder: Path, seeds: list[SeedEvidence]) -> None:
    """A 4-decimal headline without an _exact twin is complete if the shipped script never
    prints that twin (the log then holds all the script prints)."""
    script = folder / "train_gpt.py"
    pending = [s for s in seeds if s.incomplete_reason and "no _exact twin" in s.incomplete_reason]
    if not pending or not script.is_file():
        return
    try:
        from golf_check.harness.static.loader import load_script

        source = load_script(script).source
    except InputError:
        return
    for seed in pending:
        if f"{seed.headline_kind}_exact" not in source:
            seed.complete, seed.incomplete_reason = True, None
            seed.notes.append(
                f"train_gpt.py prints no {seed.headline_kind}_exact line: "
                f"{seed.bpb_decimals} decimals is all the log can hold"
            )


def _family(logs: list[RunLog]) -> str | None:
    for log in logs:
        hp = log.hyperparameters
        caseops = log.byte_sidecar or hp.get("caseops_enabled", "").lower() == "true"
        if log.tokenizer_kind == "byte":
            return "byte260"
        fam = canonical.family_from_hints(
            log.tokenizer_path, log.dataset, caseops, hp.get("vocab_size")
        )
        if fam:
            return fam
    for log in logs:
        fam = canonical.family_from_tokens(log.val_tokens)
        if fam:
            return fam
    return None


# --------------------------------------------------------------------------- commands


def _verify_folder(
    report: Report, folder: Path, base: Baseline | None, policy: str, headline: str | None
) -> None:
    found = find_run_logs(folder)
    report.errors.extend(found.errors)
    doc, claims = None, None
    sub = find_submission_file(folder) or folder / "submission.json"
    if sub.name != "submission.json":
        report.notes.append(f"the claims are read from {sub.name} (no submission.json)")
    if sub.is_symlink() and not sub.resolve().is_relative_to(folder.resolve()):
        report.errors.append(f"{sub.name}: refusing a symlink that points outside the folder")
    elif sub.is_file():
        doc, problem = load_submission(sub)
        if problem:
            report.errors.append(problem)
        else:
            claims = read_claims(doc)
    if not found.logs:
        why = f" ({'; '.join(found.errors)})" if found.errors else ""
        raise InputError(
            f"{folder}: no run log found (no file with score lines or a training timer){why}"
        )
    if not any(log.headline(headline) for log in found.logs):
        reasons = "; ".join(f"{log.path}: {log.incomplete_reason(headline)}" for log in found.logs)
        raise InputError(f"{folder}: no log has a final score line, nothing to verify ({reasons})")
    family = _family(found.logs)
    seeds = [
        SeedEvidence.from_log(log, headline=headline, tokenizer_family=family) for log in found.logs
    ]
    for log in found.logs:
        if log.seed_source == "filename":
            report.notes.append(f"{log.path}: the log does not print its seed; taken from the name")
        if log.non_utf8:
            report.notes.append(f"{log.path}: non-UTF-8 bytes (read with replacement)")
    if headline is None and claims is not None:
        _follow_claimed_lines(found.logs, seeds, claims, family)
    _trust_scripts_without_exact_twin(folder, seeds)
    judged, others = _choose_group(_group_by_config(seeds), claims)
    if headline is None and claims is not None:
        judged = _follow_claimed_kind(found.logs, judged, claims, family)
    evidence = build_evidence(
        judged,
        claimed=claims,
        tokenizer_family=family,
        baseline=base,
        policy=policy,
        folder=folder,
        submission=doc,
        headline=headline,
        other_runs=others,
        duplicate_logs=found.duplicates,
    )
    _judge(report, evidence)
    if others:
        report.notes.append(
            f"{len(others)} other run(s) in the folder use a different configuration and are "
            "not part of the claim; they are checked for budgets only"
        )
        report.notes.extend(_how_groups_differ(judged, others))
        other_ev = build_evidence(others, tokenizer_family=family, headline=headline)
        report.findings.extend(
            _not_in_the_claim(f)
            for f in run_detectors(other_ev, report.notes)
            if load_all().rules[f.rule].judges_other_runs
        )
        report.tables.append(
            _seed_table("Other runs in the folder (not in the claim)", other_ev, report)
        )
    if not (folder / "train_gpt.py").is_file():
        report.notes.append("no train_gpt.py in the folder: artifact bytes come from the logs only")


def _how_groups_differ(judged: list[SeedEvidence], others: list[SeedEvidence]) -> list[str]:
    """One line per other configuration group: its logs and how it differs from the claim's."""
    if not judged:
        return []
    ref = judged[0]
    lines = []
    for group in _group_by_config(others):
        first = group[0]
        diffs = [
            f"{k} {first.hyperparameters[k]} (claimed group: {ref.hyperparameters[k]})"
            for k in sorted(set(first.hyperparameters) & set(ref.hyperparameters))
            if k not in PROVENANCE_KEYS and first.hyperparameters[k] != ref.hyperparameters[k]
        ]
        if first.code_bytes != ref.code_bytes and None not in (first.code_bytes, ref.code_bytes):
            diffs.insert(0, f"code {first.code_bytes:,} bytes (claimed group: {ref.code_bytes:,})")
        logs = ", ".join(s.log or "?" for s in group)
        lines.append(f"other configuration ({logs}): " + ("; ".join(diffs[:5]) or "differs"))
    return lines


def _not_in_the_claim(finding: Finding) -> Finding:
    """A run the claim is not about cannot fail the record: its findings stay visible as
    warnings (a real anomaly in a compliance rerun is still worth a reviewer's look)."""
    finding.message = f"not in the claim: {finding.message}"
    if finding.severity == "error":
        finding.severity = "warning"
    return finding


def _verify_single_log(
    report: Report, path: Path, base: Baseline | None, policy: str, headline: str | None
) -> None:
    log = parse_log(path)
    if not log.is_run_log:
        raise InputError(f"{path}: not a run log (no score lines and no training timer)")
    family = _family([log])
    seed = SeedEvidence.from_log(
        log, display_path=path.name, headline=headline, tokenizer_family=family
    )
    if seed.val_bpb is None:
        raise InputError(f"{path}: {seed.incomplete_reason}; nothing to verify")
    evidence = build_evidence(
        [seed], tokenizer_family=family, baseline=base, policy=policy, headline=headline
    )
    _judge(report, evidence)


def _verify_run_report(
    report: Report,
    path: Path,
    doc: dict[str, Any],
    base: Baseline | None,
    policy: str,
    headline: str | None,
) -> None:
    run = read_run_report(path, doc, headline)
    report.errors.extend(run.errors)
    report.notes.extend(run.notes)
    if not run.seeds:
        report.errors.append(f"{path}: the run report lists no seeds")
    family = canonical.family_from_tokens(
        next((s.val_tokens for s in run.seeds if s.val_tokens), None)
    )
    evidence = build_evidence(
        run.seeds,
        claimed=run.claims,
        tokenizer_family=family,
        baseline=base,
        policy=policy,
        headline=headline,
        split=run.split,
    )
    if run.split is not None:
        report.notes.append(
            f"the run used non-canonical data ({run.split.tokens:,} validation tokens): byte "
            "and token counts are checked against what golf-check measured, not the tables"
        )
    _judge(report, evidence)


# --------------------------------------------------------------------------- report


def _judge(report: Report, ev: EvidenceSet) -> None:
    report.findings.extend(run_detectors(ev, report.notes))
    scored = ev.scored
    bpb = [s.val_bpb for s in scored]
    loss = [s.val_loss for s in scored if s.val_loss is not None]
    mean_bpb, std_bpb = st.mean(bpb), st.std(bpb)
    mean_loss = st.mean(loss) if len(loss) == len(scored) else None
    claimed = ev.claimed.val_bpb if ev.claimed else None
    kinds = sorted({s.headline_kind for s in scored if s.headline_kind})

    report.tables.insert(0, _seed_table("Per-seed evidence (recomputed from the logs)", ev, report))
    report.tables.insert(1, _claim_table(ev, mean_bpb, std_bpb, mean_loss))
    sig = st.significance_results(ev)
    if sig:
        report.tables.insert(2, _significance_table(sig, ev))

    facts = [
        ("seeds judged", f"{len(scored)} scored of {len(ev.seeds)} log(s)"),
        ("headline line", ", ".join(kinds) or "none"),
    ]
    if mean_bpb is not None:
        spread = f" ± {std_bpb:.6f} (std, n-1)" if std_bpb is not None else ""
        facts.append(("mean val_bpb", f"{mean_bpb:.8f}{spread}"))
    if claimed is not None:
        facts.append((f"claimed val_bpb ({ev.claimed.val_bpb_key})", f"{claimed}"))
    if ev.tokenizer_family:
        facts.append(("tokenizer family", ev.tokenizer_family))
    if ev.baseline is not None:
        facts.append(("baseline", ev.baseline.label))
        facts.append(("gating policy", ev.policy))
    headline_bpb, basis = _claimed_figure(ev, mean_bpb)
    if headline_bpb is not None and basis and not basis.startswith("the mean"):
        facts.append(("the claim is", basis))
    report.facts.extend(facts)
    report.data.update(
        seeds=[s.to_json() for s in ev.seeds],
        headline_val_bpb=headline_bpb,
        headline_basis=basis,
        mean_val_bpb=mean_bpb,
        std_val_bpb=std_bpb,
        mean_val_loss=mean_loss,
        claimed_val_bpb=claimed,
        headline_kind=kinds[0] if len(kinds) == 1 else (kinds or None),
        significance=[r.to_json() for r in sig],
        other_runs=[s.to_json() for s in ev.other_runs],
    )
    if any(s.source == "measured" for s in ev.seeds):
        report.notes.append("figures are the harness's measurements; logs are cross-checked")


def _claimed_figure(ev: EvidenceSet, mean_bpb: float | None) -> tuple[float | None, str | None]:
    """The recomputed figure the claim stands for, and what it is.

    Since the 3-seed rule the claim is the mean of the seeds; early records claimed the
    submitted run's own score and added seeds for significance. Both are reproduced from the
    logs; EVIDENCE.claim-mismatch says which one a claim is when it is not the mean.
    """
    scored = ev.scored
    claimed = ev.claimed.val_bpb if ev.claimed else None
    if mean_bpb is None:
        return None, None
    n = len(scored)
    if claimed is None:
        return mean_bpb, f"the mean of {n} seed(s) (no claim)"
    decimals = ev.claimed.val_bpb_decimals
    printed = min(s.bpb_decimals for s in scored)
    # the tolerance of EVIDENCE.claim-mismatch, last-digit slips included
    tol = st.claim_vs_printed_tolerance(decimals, printed) + st.last_digit_slack(decimals)
    if abs(mean_bpb - claimed) <= tol:
        return mean_bpb, f"the mean of {n} seed(s)"
    runs = [s for s in scored if abs(s.val_bpb - claimed) <= tol]
    if runs and n > 1:
        best = "the best" if runs[0].val_bpb == min(s.val_bpb for s in scored) else "one"
        return runs[0].val_bpb, f"one run's score: {runs[0].label}, {best} of {n} seeds"
    return mean_bpb, f"the mean of {n} seed(s); the claim is not reproduced"


def _mark(findings: list[Finding]) -> str:
    return {"fail": "❌ fail", "warn": "⚠️ warn", "pass": "✅ pass"}[verdict_of(findings)]


def _seed_table(title: str, ev: EvidenceSet, report: Report) -> Table:
    rows = []
    for s in ev.seeds:
        mine = [f for f in report.findings if f.file and f.file == s.log]
        implied = (
            canonical.implied_bytes(s.val_loss, s.val_bpb, s.val_tokens)
            if s.val_loss is not None and s.val_bpb is not None and s.val_tokens
            else None
        )
        rows.append(
            {
                "seed": "?" if s.seed is None else str(s.seed),
                "log": s.log,
                "headline": s.headline_kind,
                "val_bpb": _short(s.val_bpb),
                "claimed_bpb": _short(s.claimed.get("val_bpb")),
                "val_loss": s.val_loss,
                "train_time_s": None if s.train_time_s is None else f"{s.train_time_s:.3f}",
                "eval_time_s": s.eval_time_s,
                "artifact_bytes": s.artifact_bytes,
                "val_tokens": s.val_tokens,
                "implied_bytes": None if implied is None else f"{implied / 1e6:.3f} M",
                "complete": s.complete,
                "check": _mark(mine) if s.complete else "❌ incomplete",
                "line": None if s.headline_line is None else f"L{s.headline_line}",
                "why": _why_short(s),
                "reason": s.headline_reason,
            }
        )
    rows.extend(_claimed_seeds_without_rows(ev))
    return Table(
        title=title,
        columns=[
            ("seed", "seed"),
            ("log", "log"),
            ("line", "line"),
            ("why", "line chosen"),
            ("val_bpb", "val_bpb"),
            ("claimed_bpb", "claimed"),
            ("train_time_s", "train s"),
            ("eval_time_s", "eval s"),
            ("artifact_bytes", "artifact B"),
            ("val_tokens", "val tokens"),
            ("implied_bytes", "implied B"),
            ("check", "check"),
        ],
        rows=rows,
    )


def _why_short(seed: SeedEvidence) -> str | None:
    """The table's short form of ``headline_reason`` (the JSON keeps the sentence)."""
    reason = seed.headline_reason or ""
    if not reason:
        return None
    if "(--headline)" in reason:
        return "--headline"
    if "off that path" in reason:
        return "claimed line"
    if "average to the claimed" in reason:
        return "claimed mean"
    short = "behind alias" if "alias" in reason else "last line"
    return short + (" = claim" if "claims for this seed" in reason else "")


def _claimed_seeds_without_rows(ev: EvidenceSet) -> list[dict[str, Any]]:
    """A row for every seed submission.json claims that no judged log holds."""
    if ev.claimed is None:
        return []
    present = {s.seed for s in ev.seeds}
    rows = []
    for seed in sorted(set(ev.claimed.seeds) | set(ev.claimed.per_seed)):
        if seed in present:
            continue
        elsewhere = [s.log for s in ev.other_runs if s.seed == seed]
        rows.append(
            {
                "seed": str(seed),
                "log": ", ".join(elsewhere) if elsewhere else "no log found",
                "claimed_bpb": _short(ev.claimed.per_seed.get(seed, {}).get("val_bpb")),
                "why": "claimed",
                "check": "⚠️ other configuration" if elsewhere else "⚠️ no log",
            }
        )
    return rows


def _claim_table(
    ev: EvidenceSet, mean_bpb: float | None, std_bpb: float | None, mean_loss: float | None
) -> Table:
    c = ev.claimed or Claims()
    rows = [
        {"figure": "mean val_bpb", "recomputed": mean_bpb, "claimed": c.val_bpb},
        {"figure": "mean val_loss", "recomputed": mean_loss, "claimed": c.val_loss},
        {"figure": "std val_bpb (n-1)", "recomputed": std_bpb, "claimed": c.val_bpb_std},
        {
            "figure": "distinct seeds",
            "recomputed": len({s.seed for s in ev.scored if s.seed is not None}),
            "claimed": len(c.seeds) if c.seeds else None,
        },
        {
            "figure": "max artifact bytes",
            "recomputed": max(
                (s.artifact_bytes for s in ev.seeds if s.artifact_bytes), default=None
            ),
            "claimed": c.bytes_total,
        },
    ]
    return Table(
        title="Claim vs evidence",
        columns=[("figure", "figure"), ("recomputed", "recomputed"), ("claimed", "claimed")],
        rows=rows,
    )


def _significance_table(results: list[st.SignificanceResult], ev: EvidenceSet) -> Table:
    rows = []
    for r in results:
        rows.append(
            {
                "policy": r.policy + (" (gates)" if r.gates else ""),
                "test": r.test,
                "metric": r.metric,
                "threshold": f"p < {r.alpha}"
                + (f", improvement >= {r.margin:.5g}" if r.margin else ""),
                "n": f"{r.n_new} vs {r.n_base if r.n_base is not None else '-'}",
                "means": f"{_g(r.mean_new)} vs {_g(r.mean_base)}",
                "stds": f"{_g(r.std_new)} vs {_g(r.std_base)}",
                "t": None if r.t is None else f"{r.t:.3f}",
                "df": None if r.df is None else f"{r.df:.2f}",
                "p": None if r.p is None else f"{r.p:.4g}",
                "result": "pass"
                if r.passed
                else ("n/a: " + r.reason if r.passed is None else "fail"),
            }
        )
    return Table(
        title=f"Significance against {ev.baseline.label if ev.baseline else 'baseline'}",
        columns=[
            ("policy", "policy"),
            ("test", "test"),
            ("metric", "metric"),
            ("threshold", "threshold"),
            ("n", "n"),
            ("means", "means"),
            ("stds", "stds"),
            ("t", "t"),
            ("df", "df"),
            ("p", "p"),
            ("result", "result"),
        ],
        rows=rows,
    )


def _short(value: float | None) -> str | None:
    """Six decimals for the terminal table; JSON ``seeds`` keeps full precision."""
    return None if value is None else f"{value:.6f}"


def _g(value: float | None) -> str:
    return "-" if value is None else f"{value:.6f}"
