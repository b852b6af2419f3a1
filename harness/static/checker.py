"""``golf-check check`` engine: find scripts, model each once, run every static detector.

Which files are checked (documented in docs/static-checker.md):

* a file given on the command line is always checked;
* in a folder (searched recursively, without following symlinked folders), a folder that
  holds ``train_gpt.py`` is a submission: its ``train_gpt.py`` and every helper ``.py`` file
  it needs (``codefiles.needed_code_files``) are checked, other files there are not;
* elsewhere a ``.py`` file is checked if it looks like a training or evaluation script: its
  name starts with ``train``, or it is a self-extracting wrapper, or its (unwrapped) source
  mentions ``val_bpb``, the ``fineweb_`` shards, ``val_tokens`` / ``val_np`` / ``val_data``,
  ``eval_val`` or calls ``.backward(``.

Under which configuration (``runconfig``): a script whose folder documents a run
(README.md, submission.json or logs), named directly or found in a folder, is judged under
the configuration that run used; ``run_config`` (``--env`` / ``--run-config``) is applied on
top, to every script.
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from golf_check.harness import progress
from golf_check.harness.errors import InputError
from golf_check.harness.report import FileResult, Finding, Report, Table
from golf_check.harness.rulebook import load_all
from golf_check.harness.static.codefiles import needed_code_files
from golf_check.harness.static.common import SKIP_DIRS
from golf_check.harness.static.loader import LoadedScript, load_script
from golf_check.harness.static.model import ProgramModel
from golf_check.harness.static.package import ENTRY_POINTS, is_package_folder, join_modules
from golf_check.harness.static.runconfig import (
    RunConfig,
    RunContext,
    applied,
    folder_config,
    is_record_folder,
    track_of,
)

_LOOKS_LIKE_SUBMISSION = re.compile(
    r"val_bpb|fineweb_|val_tokens|val_np|val_data|eval_val|\.backward\("
)


def check_paths(
    paths: Iterable[str | Path],
    select: set[str] | None = None,
    ignore: set[str] | None = None,
    strict: bool = False,
    run_config: RunConfig | None = None,
    repo_path: str | None = None,
) -> Report:
    """Check scripts and folders statically; one ``FileResult`` per script.

    ``run_config`` (``--env`` / ``--run-config``) applies to every script. A script whose
    folder documents a run is also judged under that run's configuration (``runconfig``).
    ``repo_path``
    names the record folder in the repository when ``paths`` are a copy of it (for its track)."""
    paths = [Path(p) for p in paths]
    report = Report(command="check", target=" ".join(str(p) for p in paths), strict=strict)
    scripts: list[Path | _Package] = []
    for path in paths:
        scripts.extend(_discover(path, report))
    configs = _RunConfigs(run_config, report, repo_path)
    seen: set[Path] = set()
    sizes = Table(
        "Scripts checked (code bytes as shipped count toward the 16,000,000-byte cap)",
        [
            ("script", "script"),
            ("shipped_bytes", "bytes shipped"),
            ("decoded_bytes", "bytes decoded"),
            ("wrapper", "self-extracting layers"),
            ("findings", "findings"),
        ],
    )
    progress.expect(len(scripts))
    for script in scripts:
        progress.advance(str(getattr(script, "folder", script)))
        if isinstance(script, _Package):
            context = configs.context(script.folder, None, None)
            for result, loaded in _check_package(script, select, ignore, seen, context):
                report.files.append(result)
                if loaded is not None:
                    sizes.rows.append(_size_row(loaded, result))
            continue
        try:
            key = script.resolve(strict=True)
        except (OSError, RuntimeError):
            report.errors.append(f"{script}: symlink loop or broken symlink, skipped")
            continue
        if key in seen:
            continue
        seen.add(key)
        result, loaded = _check_one(script, select, ignore, str(script), configs.for_script(script))
        report.files.append(result)
        if loaded is not None:
            sizes.rows.append(_size_row(loaded, result))
    if not scripts and not report.errors:
        report.errors.append(f"{report.target}: no Python submission scripts found")
    report.facts.append(("scripts checked", str(len(report.files))))
    if sizes.rows:
        report.tables.append(sizes)
    configs.finish()
    report.notes.append(
        "Static findings are hypotheses read from the source, never from running it; "
        "confidence says how sure each one is. `golf-check run` measures what a run does."
    )
    return report


def check_file(
    path: str | Path,
    select: set[str] | None = None,
    ignore: set[str] | None = None,
    display: str | None = None,
) -> FileResult:
    """Check one script; an unreadable script gives a ``FileResult`` with ``error`` set."""
    path = Path(path)
    return _check_one(path, select, ignore, display or str(path))[0]


@dataclass
class _Package:
    """A runnable package found in a folder: checked as one program (``package.py``)."""

    folder: Path
    files: list[Path]  # entry point first


def _check_package(
    package: _Package,
    select: set[str] | None,
    ignore: set[str] | None,
    seen: set[Path],
    context: RunContext | None = None,
) -> list[tuple[FileResult, LoadedScript | None]]:
    """Check a package's modules joined into one program; one ``FileResult`` per module."""
    out: list[tuple[FileResult, LoadedScript | None]] = []
    modules: list[tuple[str, LoadedScript]] = []
    with _gc_paused():
        for path in package.files:
            key = path.resolve()
            if key in seen:
                continue
            seen.add(key)
            try:
                modules.append((str(path), load_script(path)))
            except InputError as exc:
                out.append((FileResult(str(path), error=str(exc)), None))
        if not modules:
            return out
        program = join_modules(package.folder, modules)
        joined = check_script(program.script, select=select, ignore=ignore, context=context)
    results = [FileResult(display) for display, _ in modules]
    for note in joined.notes:
        results[0].notes.append(note)
    for finding in joined.findings:
        i, line = program.locate(finding.line)
        finding.file, finding.line = results[i].path, line
        finding.message = _local_lines(finding.message, program, i)
        results[i].findings.append(finding)
    out.extend((r, m) for r, (_, m) in zip(results, modules, strict=True))
    return out


_LINE_REF = re.compile(r"\b(lines?) (\d+)\b")


def _local_lines(message: str, program, module: int) -> str:
    """Rewrite ``line N`` of the joined program as the line in its own module."""

    def local(match: re.Match) -> str:
        i, line = program.locate(int(match.group(2)))
        where = "" if i == module else f" of {Path(program.modules[i][0]).name}"
        return f"{match.group(1)} {line}{where}"

    return _LINE_REF.sub(local, message)


def _check_one(
    path: Path,
    select: set[str] | None,
    ignore: set[str] | None,
    display: str,
    context_of=None,
) -> tuple[FileResult, LoadedScript | None]:
    with _gc_paused():
        try:
            script = load_script(path)
        except InputError as exc:
            return FileResult(display, error=str(exc)), None
        context = context_of(script) if context_of is not None else None
        result = check_script(
            script, select=select, ignore=ignore, display=display, context=context
        )
        return result, script


class _RunConfigs:
    """The run context of each checked script: its track, and the configuration its record
    folder documents (read once per folder) with the user's ``--env`` / ``--run-config`` on
    top; afterwards, the report's run-configuration table and notes."""

    def __init__(self, explicit: RunConfig | None, report: Report, repo_path: str | None) -> None:
        self.explicit = explicit
        self.repo_path = repo_path
        self.report = report
        self.table = Table(
            "Run configuration: settings judged as the record ran (not the script's defaults)",
            [
                ("script", "script"),
                ("setting", "setting"),
                ("value", "value"),
                ("default", "default"),
                ("source", "source"),
                ("other sources", "other sources"),
            ],
        )
        self._notes: list[str] = []
        self._contexts: list[tuple[str, RunContext]] = []

    def for_script(self, path: Path):
        return lambda script: self.context(path.parent, path, script.source)

    def context(self, folder: Path, path: Path | None, source: str | None) -> RunContext | None:
        track, why = track_of(path or folder / "__main__.py", self.repo_path)
        config = None
        # A script whose folder documents a run (README command, submission.json, logs) is
        # judged as it ran, whether the folder or the file was named: a record's
        # ``train_gpt.py`` checked on its own is the same submission.
        if is_record_folder(folder):
            config = folder_config(folder, path, source)
            for note in config.notes:
                if note not in self._notes:
                    self._notes.append(note)
        if self.explicit:
            config = self.explicit if config is None else config.merged(self.explicit)
        if config is None and track is None:
            return None
        context = RunContext(config=config, track=track, track_source=why)
        self._contexts.append((str(path or folder), context))
        return context

    def finish(self) -> None:
        for script, context in self._contexts:
            for row in context.rows:
                changed, disputed = row.pop("changed"), row.pop("disputed")
                if changed or disputed:
                    self.table.rows.append({"script": script, **row})
        if self.table.rows:
            self.report.tables.append(self.table)
        self.report.notes.extend(self._notes)


@contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector while one script is checked.

    Parsing and modelling allocate tens of thousands of small objects without reference
    cycles; the collector's repeated full scans of them cost about a fifth of the check
    time. Memory is still freed by reference counting, and the collector resumes after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def check_script(
    script: LoadedScript,
    select: set[str] | None = None,
    ignore: set[str] | None = None,
    display: str | None = None,
    context: RunContext | None = None,
) -> FileResult:
    """Run every static detector over an already loaded script, under ``context`` (the run
    configuration and track) when given."""
    with applied(context):
        result, model = _run_detectors(script, select, ignore, display)
    if context is None:
        return result
    if context.track:
        result.notes.append(
            f"{context.track} track ({context.track_source}): the 600 s training limit "
            "does not apply"
        )
    if context.config and model.env.configured:
        context.rows = model.env.rows()
        changed = sum(1 for row in context.rows if row["changed"])
        result.notes.append(
            f"judged as the record ran: {changed} setting(s) differ from the script's "
            "defaults (see the run configuration table)"
        )
        # The same check under the defaults says which findings the configuration turned on.
        with applied(RunContext(track=context.track, track_source=context.track_source)):
            base, _ = _run_detectors(script, select, ignore, display)
        _mark_configured(result, base, model)
    return result


def _switch_names(described: str) -> list[str]:
    """Setting names in ``X (default '0'), setting y (default False), z)``."""
    described = described.strip().removesuffix(")")
    while True:  # drop the parenthesized defaults, innermost first
        stripped = re.sub(r"\([^()]*\)", "", described)
        if stripped == described:
            break
        described = stripped
    names = []
    for item in described.split(","):
        words = item.replace("/", " ").split()
        if words and re.fullmatch(r"[A-Za-z_]\w*", words[-1]):
            names.append(words[-1])
    return names


def _mark_configured(result: FileResult, base: FileResult, model: ProgramModel) -> None:
    """Say, on each finding, how the run configuration changed it: an error on a path that is
    off by default names the settings that turned it on, and where each came from."""
    before = {(f.rule, f.line): f for f in base.findings}
    for finding in result.findings:
        finding.message = finding.message.replace(
            "(off by default; switched on by", "(off as the record ran; switched on by"
        )
        old = before.get((finding.rule, finding.line))
        if finding.severity != "error" or (old is not None and old.severity == "error"):
            continue
        if old is None:
            finding.message += " (found only under the configuration the record ran with)"
            continue
        names = _switch_names(old.message.rpartition("(off by default; switched on by")[2])
        sources = [s for s in (model.env.source_of(n) for n in names) if s]
        how = ", ".join(sources) or "settings in the run configuration table"
        finding.message += f" (off by default; on as the record ran: {how})"


def _run_detectors(
    script: LoadedScript,
    select: set[str] | None,
    ignore: set[str] | None,
    display: str | None,
) -> tuple[FileResult, ProgramModel]:
    registry = load_all()
    display = display or str(script.path)
    result = FileResult(display)
    if script.layers:
        result.notes.append(
            f"self-extracting wrapper decoded ({' + '.join(script.layers)}); "
            "line numbers refer to the decoded source"
        )
    model = ProgramModel(script, display)
    chosen = {"select": select, "ignore": ignore, "notes": result.notes}
    findings = _dedupe(registry.run("static", model, **chosen))
    # then the reviewers (suppression comments) judge what the detectors found
    findings.extend(registry.review("static", model, findings, **chosen))
    findings.sort(key=lambda f: (f.line or 0, f.rule))
    result.findings = findings
    return result, model


def _size_row(loaded: LoadedScript, result: FileResult) -> dict:
    return {
        "script": result.path,
        "shipped_bytes": len(loaded.raw_bytes),
        "decoded_bytes": len(loaded.source.encode()),
        "wrapper": " + ".join(loaded.layers) or "none",
        "findings": sum(f.counts for f in result.findings),
    }


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple] = set()
    out = []
    for f in findings:
        key = (f.rule, f.line, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


# --------------------------------------------------------------------------- discovery


def _discover(path: Path, report: Report) -> list[Path | _Package]:
    if path.is_symlink():
        try:
            path.resolve(strict=True)
        except (OSError, RuntimeError):
            report.errors.append(f"{path}: broken symlink or symlink loop")
            return []
    if not path.exists():
        report.errors.append(f"{path}: no such file or folder")
        return []
    if path.is_file():
        return [path]
    if not path.is_dir():
        report.errors.append(f"{path}: not a regular file or folder")
        return []
    found: list[Path | _Package] = []
    root_real = path.resolve()
    for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for d in list(dirnames):
            if (here / d).is_symlink():
                _check_link(here / d, root_real, report)
                dirnames.remove(d)  # never descend through a symlinked folder
        files = [
            name
            for name in sorted(f for f in filenames if f.endswith(".py"))
            if not (here / name).is_symlink() or _check_link(here / name, root_real, report)
        ]
        if "train_gpt.py" in files:
            needed = _submission_files(here / "train_gpt.py", report)
            found.extend(needed)
            skipped = sorted(set(files) - {p.name for p in needed if p.parent == here})
            if skipped:
                report.notes.append(
                    f"{here}: checked train_gpt.py and the helpers its run needs; not checked "
                    f"(the run does not load them): {', '.join(skipped)}"
                )
            dirnames[:] = []  # helper packages below are covered by the import walk
            continue
        if is_package_folder(here, files):
            found.append(_package_of(here, files, dirnames, root_real, report))
            dirnames[:] = []  # subpackages are part of the same program
            continue
        for name in files:
            candidate = here / name
            if name.startswith("train") or _looks_like_submission(candidate):
                found.append(candidate)
    return found


def _package_of(
    here: Path, files: list[str], dirnames: list[str], root: Path, report: Report
) -> _Package:
    """Every module of a runnable package (entry point first), subpackages included."""
    entry = [here / e for e in ENTRY_POINTS if e in files]
    modules = entry + [here / f for f in files if here / f not in entry]
    for d in dirnames:  # already filtered: no hidden, skipped or symlinked folders
        for sub, subdirs, subfiles in os.walk(here / d, followlinks=False):
            subdirs[:] = sorted(
                s
                for s in subdirs
                if s not in SKIP_DIRS and not s.startswith(".") and not Path(sub, s).is_symlink()
            )
            for name in sorted(subfiles):
                candidate = Path(sub) / name
                if name.endswith(".py") and (
                    not candidate.is_symlink() or _check_link(candidate, root, report)
                ):
                    modules.append(candidate)
    report.notes.append(
        f"{here}: a package run as `python -m`; its {len(modules)} modules are checked as "
        "one program (calls across modules resolve by name)"
    )
    return _Package(here, modules)


def _check_link(link: Path, root: Path, report: Report) -> bool:
    """Whether a symlink inside a checked folder may be followed (only to a file inside it)."""
    try:
        real = link.resolve(strict=True)
    except (OSError, RuntimeError):
        report.errors.append(f"{link}: symlink loop or broken symlink, skipped")
        return False
    if link.is_dir():
        if real == root or root.is_relative_to(real):
            report.errors.append(f"{link}: symlink loop (points back to {real}), skipped")
        return False
    if not real.is_relative_to(root):
        report.notes.append(f"{link}: symlink to a file outside the folder, not followed")
        return False
    return True


def _submission_files(script: Path, report: Report) -> list[Path]:
    try:
        needed = needed_code_files(script)
    except InputError:
        return [script]  # the script's own error is reported when it is checked
    return [p for p in needed.files if p.suffix == ".py"]


def _looks_like_submission(path: Path) -> bool:
    try:
        script = load_script(path)
    except InputError:
        return True  # report the unreadable file rather than skipping it silently
    if script.layers or script.undecoded:  # a wrapper, decoded or not, is never skipped
        return True
    return bool(_LOOKS_LIKE_SUBMISSION.search(script.source))
