"""What golf-check measures about one seed's run, on its own clock and from the files.

* the artifact: every file the run wrote into its working folder and read back during its
  evaluation (from the trace: written, then opened again after the last such file was
  finished), sizes from the file system; never chosen by date. Without a read-back in the
  trace, the largest model file of the best name class (compressed, then raw weights);
* side files: every non-code file the run read from the script's folder (weights shipped
  beside the script); they count toward the cap like the artifact;
* the code that counts: the script itself plus every code file from the script's folder that
  any process of the run opened, imported or handed to a compiler (from the trace);
* training time, strict (process start to artifact written) and convention (first optimizer
  step to the last training step or training-shard read before the artifact);
* evaluation time: artifact written to the harness time of the final score line;
* the score line itself, parsed by ``harness.evidence.logparse`` from the timestamped log.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from golf_check.harness.runtime.launcher import LaunchResult
from golf_check.harness.runtime.trace import Trace

# Model files by preference: a compressed artifact beats a raw checkpoint of the same run.
_COMPRESSED = (".ptz", ".zst", ".zstd", ".xz", ".lzma", ".br", ".gz", ".zlib", ".lrz", ".bz2")
_MODEL = (".pt", ".pth", ".bin", ".ckpt", ".safetensors", ".npz", ".int8", ".int6")
_NOT_ARTIFACT = (".log", ".txt", ".json", ".jsonl", ".md", ".csv", ".py", ".npy", ".tmp")
CODE_SUFFIXES = (".py", ".cpp", ".cc", ".cu", ".cuh", ".c", ".h", ".hpp")


@dataclass
class Artifact:
    path: Path  # the file evaluation read last (the model), for the report
    model_bytes: int  # all the files together
    written_at: float  # harness monotonic clock: when the last of them was finished
    files: list[Path] = field(default_factory=list)
    basis: str = "read back by the run"


def _written_at(path: Path, trace: Trace, launch: LaunchResult) -> float:
    """The file's mtime on the harness clock, never earlier than the trace's last write."""
    written = path.stat().st_mtime - launch.wall_offset
    resolved = str(path.resolve())
    for event in trace.events:  # a write, rename or torch.save of this file
        ev = event.get("ev")
        wrote = ev in ("save", "mod") or (ev == "open" and event.get("w"))
        if wrote and event.get("path") == resolved and event["t"] <= launch.ended:
            written = max(written, event["t"])
    return min(written, launch.ended)


def _rank(p: Path) -> tuple[int, int]:
    suffix = p.suffix.lower()
    klass = 2 if suffix in _COMPRESSED else 1 if suffix in _MODEL else 0
    return klass, p.stat().st_size


def find_artifact(
    work_dir: Path, trace: Trace, launch: LaunchResult, name: str | None
) -> Artifact | None:
    """The files that make up the run's artifact, or None when it wrote none."""
    if name:
        path = work_dir / name
        if not path.is_file():
            return None
        return Artifact(
            path, path.stat().st_size, _written_at(path, trace, launch), [path], "--artifact"
        )
    files = {
        str(p.resolve()): p
        for p in work_dir.rglob("*")
        if p.is_file() and not p.is_symlink() and not p.name.endswith(".log")
    }
    reads: dict[str, list[float]] = {}
    for event in trace.opens("run"):
        if event.get("path") in files:
            reads.setdefault(event["path"], []).append(event["t"])
    written = {path: _written_at(files[path], trace, launch) for path in reads}
    read_back = {p: [t for t in ts if t >= written[p]] for p, ts in reads.items()}
    read_back = {p: ts for p, ts in read_back.items() if ts}
    if read_back:
        # Evaluation starts when the last file it reads back was finished; a file read
        # back only before then (a raw checkpoint quantized into the artifact) is not in it.
        primary = max(read_back, key=lambda p: (written[p], max(read_back[p])))
        start = written[primary]
        chosen = sorted(p for p, ts in read_back.items() if max(ts) >= start)
        paths = [files[p] for p in chosen]
        total = sum(p.stat().st_size for p in paths)
        return Artifact(files[primary], total, start, paths)
    candidates = [p for p in files.values() if not p.name.endswith(_NOT_ARTIFACT)]
    if not candidates:
        return None
    best = max(candidates, key=_rank)
    return Artifact(
        best,
        best.stat().st_size,
        _written_at(best, trace, launch),
        [best],
        "largest model file (no read-back in the trace)",
    )


@dataclass
class SideFiles:
    """Non-code files read from the script's folder at run time."""

    files: list[Path] = field(default_factory=list)
    total_bytes: int = 0


def side_files(trace: Trace, script_dir: Path | None) -> SideFiles:
    if script_dir is None:
        return SideFiles()
    root = script_dir.resolve()
    found: dict[Path, int] = {}
    for event in trace.opens("side"):
        path = Path(event.get("path", ""))
        try:
            if path.is_file() and root in path.resolve().parents:
                found[path.resolve()] = path.stat().st_size
        except OSError:
            continue
    return SideFiles(sorted(found), sum(found.values()))


@dataclass
class CodeFiles:
    files: list[Path] = field(default_factory=list)
    sizes_at_launch: dict[Path, int] = field(default_factory=dict)

    @property
    def total_bytes(self) -> int:
        """Sizes as the run found them (a file edited during the run counts as launched)."""
        total = 0
        for p in self.files:
            if p in self.sizes_at_launch:
                total += self.sizes_at_launch[p]
            elif p.is_file():
                total += p.stat().st_size
        return total


def snapshot_sizes(script: Path | None, script_dir: Path) -> dict[Path, int]:
    """Sizes of the script and the code files at the top of its folder, before the launch."""
    paths = [p for p in script_dir.glob("*") if p.suffix in CODE_SUFFIXES and p.is_file()]
    if script is not None and script.is_file():
        paths.append(script)
    return {p.resolve(): p.stat().st_size for p in paths}


def code_files(
    script: Path | None,
    script_dir: Path | None,
    trace: Trace,
    package: bool = False,
    sizes_at_launch: dict[Path, int] | None = None,
) -> CodeFiles:
    """The script plus every code file from its folder that the run read, imported or
    compiled; for a package (``python -m pkg``), every .py file of the package folder too."""
    found: dict[Path, None] = {}
    if script is not None and script.is_file():
        found[script.resolve()] = None
    if package and script_dir is not None:
        for path in sorted(script_dir.glob("*.py")):
            found[path.resolve()] = None
    if script_dir is None:
        return CodeFiles(list(found), sizes_at_launch or {})
    root = script_dir.resolve()
    paths: list[str] = []
    for event in trace.events:
        ev = event.get("ev")
        if ev == "open" and event.get("kind") == "code":
            paths.append(event["path"])
        elif ev == "exit":
            paths.extend(event.get("code", []))
        elif ev == "code" and isinstance(event.get("files"), list):
            paths.extend(str(f) for f in event["files"])
        elif ev == "proc":
            argv = event.get("argv")
            paths.extend(argv if isinstance(argv, list) else str(argv).split())
    for raw in paths:
        path = _source_of(Path(raw))
        if path is None or path.suffix not in CODE_SUFFIXES:
            continue
        try:
            path = path.resolve()
        except OSError:
            continue
        if path.is_file() and (root == path.parent or root in path.parents):
            found[path] = None
    return CodeFiles(sorted(found), sizes_at_launch or {})


def _source_of(path: Path) -> Path | None:
    """``pkg/__pycache__/mod.cpython-311.pyc`` stands for ``pkg/mod.py``."""
    if path.suffix == ".pyc" and path.parent.name == "__pycache__":
        return path.parent.parent / (path.name.split(".")[0] + ".py")
    return path


@dataclass
class Timing:
    train_strict_s: float | None  # process start -> artifact written
    train_convention_s: float | None  # first optimizer step -> last training activity
    eval_s: float | None  # artifact written -> final score line
    final_score_at: float | None
    first_step_at: float | None
    steps: int


def timing(
    launch: LaunchResult, trace: Trace, artifact: Artifact | None, score_line: int | None
) -> Timing:
    t_art = artifact.written_at if artifact else None
    steps = [e["t"] for e in trace.events if e.get("ev") == "step"]
    train_steps = [t for t in steps if t_art is None or t <= t_art]
    train_reads = [e["t"] for e in trace.opens("train") if t_art is None or e["t"] <= t_art]
    # A compile warm-up whose state is restored afterwards ends with load_state_dict: the
    # convention's training loop starts at the first step after the last such reset.
    resets = [e["t"] for e in trace.of("reset") if train_steps and e["t"] < train_steps[-1]]
    if resets:
        train_steps = [t for t in train_steps if t > resets[-1]]
    first = train_steps[0] if train_steps else None
    convention = None
    if first is not None:
        convention = max(train_steps + train_reads) - first
    final_at = launch.time_of_line(score_line) if score_line is not None else None
    strict = t_art - launch.started if t_art is not None else None
    eval_s = final_at - t_art if (final_at is not None and t_art is not None) else None
    if eval_s is not None and eval_s < 0:
        eval_s = None  # the score came from a different artifact than the one measured
    return Timing(strict, convention, eval_s, final_at, first, len(train_steps))


def gpu_name() -> str | None:
    """The first GPU's model from nvidia-smi, or None on a machine without one."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        out = subprocess.run(
            [exe, "--query-gpu=name,count", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = [line.strip() for line in out.stdout.splitlines() if line.strip()]
    if out.returncode != 0 or not lines:
        return None
    return f"{len(lines)}x {lines[0].split(',')[0].strip()}"


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
