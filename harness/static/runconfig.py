"""The configuration a record ran with, and the track it was submitted to.

A script is judged under its defaults unless golf-check knows how it was run. For a record
folder that configuration is read from three places (``folder_config``):

* the run command in its README: the environment assignments in front of the command that
  runs the script (``A=1 B=2 torchrun ... train_gpt.py``, ``env A=1 ...``), ``export A=1``
  lines before it, backslash continuations, fenced or not; the first such command is the
  one used (a README that also shows an eval-only or ablation command lists it later);
* ``submission.json``: top-level scalar fields, and those of an ``env`` / ``hyperparameters``
  / ``config`` object, whose names are settings of the script;
* the hyperparameters its logs echo: ``key: value`` dumps (one per line) and lines made only
  of ``key:value`` / ``key=value`` tokens; lines that repeat the script's own source (logs
  often echo it) are skipped. A key several logs disagree on is not used.

Precedence, lowest first: submission.json, README run command, logs, ``--run-config`` files
(in the order given), ``--env``. The logs win over the README because they record the run
that produced the claimed score, while a README command is prose that can drift from it; a
setting the sources disagree on is reported with both values. The user's own ``--env`` and
``--run-config`` win over everything found in the folder.

The active configuration reaches ``settings.Settings`` through a context variable
(``applied``), so the program model needs no parameter for it.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from golf_check.harness.errors import InputError

NON_RECORD_TRACK = "track_non_record_16mb"
_NON_RECORD_VALUE = re.compile(r"non[_\- ]?record|unlimited", re.IGNORECASE)
_ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)
_LAUNCHERS = {"torchrun", "python", "python3", "accelerate", "deepspeed", "uv", "srun", "bash"}
_NESTED = {"env", "environment", "hyperparameters", "config", "settings", "run_config", "args"}
_MAX_FILE_BYTES = 4_000_000  # logs and READMEs beyond this are read only this far
_DUMP_LINE = re.compile(r"^\s+([A-Za-z_]\w*):\s+(\S.*?)\s*$")
_TOKEN = re.compile(r"^([A-Za-z_]\w*)[:=]([^\s:=]+)$")
_LOG_SUFFIXES = (".log", ".txt")

# Origins, lowest precedence first.
SUBMISSION, README, LOG, FILE, CLI = "submission.json", "README", "log", "--run-config", "--env"
_RANK = {SUBMISSION: 0, README: 1, LOG: 2, FILE: 3, CLI: 4}


@dataclass(frozen=True)
class ConfigSetting:
    """One setting as a source states it: ``TTT_ENABLED=1`` from ``README.md:84``."""

    key: str
    value: object  # a string for environment-style sources, a parsed literal for logs/json
    source: str  # ``file:line`` (or ``--env``)
    origin: str  # one of the origins above

    @property
    def env_style(self) -> bool:
        """An environment assignment (``KEY=VAL`` text), not an echoed attribute value."""
        return self.origin in (README, FILE, CLI) and isinstance(self.value, str)


@dataclass
class RunConfig:
    """Settings from every source, lowest precedence first, and what was noticed on the way."""

    entries: list[ConfigSetting] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Keys the logs disagree on (reported only when the key is one of the script's settings).
    disputed: dict[str, list[ConfigSetting]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.entries or self.disputed)

    def merged(self, other: RunConfig | None) -> RunConfig:
        """This configuration with ``other`` on top (``other`` wins)."""
        if other is None:
            return self
        return RunConfig(
            [*self.entries, *other.entries],
            [*self.notes, *other.notes],
            {**self.disputed, **other.disputed},
        )


@dataclass
class RunContext:
    """What a check knows about how a script was run: its configuration and its track."""

    config: RunConfig | None = None
    track: str | None = None  # "non-record" when the 600 s training limit does not apply
    track_source: str = ""
    rows: list[dict] = field(default_factory=list)  # filled by Settings: what was applied


_CURRENT: ContextVar[RunContext | None] = ContextVar("golf_check_run_context", default=None)


@contextmanager
def applied(context: RunContext | None) -> Iterator[None]:
    """Make ``context`` the one ``Settings`` reads while a program model is built."""
    token = _CURRENT.set(context)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current() -> RunContext | None:
    return _CURRENT.get()


# --------------------------------------------------------------------------- parsing


def parse_env_options(options: tuple[str, ...] | list[str]) -> RunConfig:
    """``--env KEY=VAL`` options; a malformed one is an ``InputError``."""
    config = RunConfig()
    for option in options:
        match = _ASSIGN.match(option.strip())
        if not match:
            raise InputError(f"--env {option!r}: expected KEY=VALUE")
        config.entries.append(ConfigSetting(match[1], match[2], "--env", CLI))
    return config


def parse_run_config_file(path: Path, script_name: str | None = None) -> RunConfig:
    """A ``--run-config`` file: a JSON object, a README (its run command), a log (its echoed
    hyperparameters), or ``KEY=VALUE`` lines (``export`` and comments allowed)."""
    text = _read(path, required=True)
    name = path.name
    stripped = text.lstrip()
    if path.suffix.lower() == ".json" or stripped.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InputError(f"{path}: not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise InputError(f"{path}: a run configuration in JSON must be an object")
        entries = [ConfigSetting(k, v, name, FILE) for k, v in _json_settings(data)]
        return RunConfig(entries)
    if path.suffix.lower() == ".md":
        config = readme_config(path, script_name)
        return RunConfig(
            [ConfigSetting(e.key, e.value, e.source, FILE) for e in config.entries],
            config.notes,
        )
    if path.suffix.lower() in _LOG_SUFFIXES and not _looks_like_assignments(text):
        config = logs_config([path], source_lines=set())
        return RunConfig(
            [ConfigSetting(e.key, e.value, e.source, FILE) for e in config.entries],
            config.notes,
            config.disputed,
        )
    entries = []
    for _start, tokens in _logical_lines(text):
        if tokens and tokens[0][0] in ("export", "env"):
            tokens = tokens[1:]
        for key, value, line in _leading_assignments(tokens):
            entries.append(ConfigSetting(key, value, f"{name}:{line}", FILE))
    if not entries and stripped:
        raise InputError(f"{path}: no KEY=VALUE settings found")
    return RunConfig(entries)


def readme_config(path: Path, script_name: str | None) -> RunConfig:
    """Environment assignments on the README's first command that runs ``script_name`` (or,
    when no command names it, any ``train*.py`` run by a launcher), plus the ``export`` lines
    before it."""
    text = _read(path)
    if not text:
        return RunConfig()
    text = text.replace("\\_", "_")  # markdown-escaped names: MAX\_WALLCLOCK\_SECONDS
    commands = _run_commands(text, path.name, script_name)
    if not commands and script_name is not None:  # a README written for train_gpt.py
        commands = _run_commands(text, path.name, None)
    if not commands:
        return RunConfig()
    first_line, entries = commands[0]
    notes = []
    if len(commands) > 1:
        notes.append(
            f"{path.name}: {len(commands)} run commands; the first (line {first_line}) is "
            "taken as the submitted one"
        )
    # ``SEED=$SEED`` inside a loop says nothing about the value.
    return RunConfig([e for e in entries if "$" not in str(e.value)], notes)


def logs_config(logs: list[Path], source_lines: set[str]) -> RunConfig:
    """Hyperparameters the logs echo; a key the logs disagree on is left out (``disputed``)."""
    seen: dict[str, list[ConfigSetting]] = {}
    for log in logs:
        text = _read(log)
        per_log: dict[str, ConfigSetting] = {}
        for lineno, line in enumerate(text.splitlines(), 1):
            if line.strip() in source_lines:
                continue  # the script's own source, echoed at the top of the log
            for key, raw in _log_pairs(line):
                per_log.setdefault(
                    key, ConfigSetting(key, _literal(raw), f"{log.name}:{lineno}", LOG)
                )
        for key, entry in per_log.items():
            seen.setdefault(key, []).append(entry)
    config = RunConfig()
    for key, entries in seen.items():
        values = {_normal(e.value) for e in entries}
        if len(values) == 1:
            config.entries.append(entries[0])
        else:
            config.disputed[key] = entries
    return config


def submission_config(path: Path) -> RunConfig:
    """Setting-like fields of submission.json (scalars; matched to the script's settings later)."""
    data = _json_object(path)
    if data is None:
        return RunConfig()
    return RunConfig(
        [ConfigSetting(k, v, f"{path.name}", SUBMISSION) for k, v in _json_settings(data)]
    )


def folder_config(folder: Path, script: Path | None, source: str | None = None) -> RunConfig:
    """The configuration a record folder's script ran with, from every source in the folder."""
    config = RunConfig()
    submission = folder / "submission.json"
    if submission.is_file():
        config = config.merged(submission_config(submission))
    readme = folder / "README.md"
    if readme.is_file():
        config = config.merged(readme_config(readme, script.name if script else None))
    for shell in sorted(folder.glob("*.sh")):  # a run script beside the README counts the same
        config = config.merged(readme_config(shell, script.name if script else None))
    logs = sorted(p for p in _log_files(folder) if p.is_file())
    if logs:
        lines = {line.strip() for line in (source or "").splitlines() if line.strip()}
        config = config.merged(logs_config(logs, lines))
    return config


def is_record_folder(folder: Path) -> bool:
    """A folder that documents a run: README.md, submission.json or logs beside the script."""
    return (
        (folder / "README.md").is_file()
        or (folder / "submission.json").is_file()
        or any(True for _ in _log_files(folder))
    )


def track_of(script: Path, repo_path: str | None = None) -> tuple[str | None, str]:
    """``("non-record", why)`` when the script belongs to the non-record track, else (None, "").
    ``repo_path`` is the record folder's path in the repository when the checked copy lives
    elsewhere (``ci`` checks a temporary copy)."""
    parts = set(script.parts) | set(Path(repo_path).parts if repo_path else ())
    try:
        parts |= set(script.resolve().parts)
    except (OSError, RuntimeError):
        pass
    if NON_RECORD_TRACK in parts:
        return "non-record", f"under records/{NON_RECORD_TRACK}/"
    data = _json_object(script.parent / "submission.json")
    if data is not None:
        track = data.get("track")
        if isinstance(track, str) and _NON_RECORD_VALUE.search(track):
            return "non-record", f'submission.json declares "track": {track!r}'
        if data.get("non_record_reason"):
            return "non-record", "submission.json gives a non_record_reason"
    return None, ""


# --------------------------------------------------------------------------- helpers


def _run_commands(
    text: str, name: str, script_name: str | None
) -> list[tuple[int, list[ConfigSetting]]]:
    """Each command that runs the script: its line and its settings (exports before it first)."""
    exports: list[ConfigSetting] = []
    commands: list[tuple[int, list[ConfigSetting]]] = []
    for lineno, tokens in _logical_lines(text):
        words = [t for t, _ in tokens]
        if words and words[0] == "export":
            for key, value, line in _leading_assignments(tokens[1:]):
                exports.append(ConfigSetting(key, value, f"{name}:{line}", README))
            continue
        assigns = list(_leading_assignments(tokens))
        rest = words[len(assigns) :]
        if rest[:1] == ["env"]:
            more = list(_leading_assignments(tokens[len(assigns) + 1 :]))
            assigns += more
            rest = rest[1 + len(more) :]
        if not rest or not _runs_script(rest, script_name):
            continue
        found = [ConfigSetting(k, v, f"{name}:{line}", README) for k, v, line in assigns]
        commands.append((lineno, [*exports, *found]))
    return commands


def _log_files(folder: Path) -> Iterator[Path]:
    for pattern in ("*.log", "*.txt", "logs/*.log", "logs/*.txt"):
        for path in folder.glob(pattern):
            if path.name.lower() not in ("requirements.txt", "license.txt", "notes.txt"):
                yield path


def _read(path: Path, required: bool = False) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_FILE_BYTES)
    except OSError as exc:
        if required:
            raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
        return ""
    return data.decode("utf-8", errors="replace")


def _json_object(path: Path) -> dict | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(_read(path))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _json_settings(data: dict) -> Iterator[tuple[str, object]]:
    for key, value in data.items():
        if isinstance(value, dict) and key.lower() in _NESTED:
            for inner, item in value.items():
                if _scalar(item):
                    yield str(inner), item
        elif _scalar(value):
            yield str(key), value


def _scalar(value: object) -> bool:
    return isinstance(value, bool | int | float) or (isinstance(value, str) and len(value) < 200)


def _logical_lines(text: str) -> Iterator[tuple[int, list[tuple[str, int]]]]:
    """Shell-like logical lines (backslash continuations joined), each word with its line."""
    pending: list[tuple[str, int]] = []
    start = 0
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip().strip("`").strip()
        if line.startswith("```") or line.startswith("~~~"):
            continue
        continued = line.endswith("\\")
        line = line.rstrip("\\").rstrip()
        if not pending:
            start = lineno
        pending.extend((word, lineno) for word in _words(line))
        if continued:
            continue
        if pending:
            yield start, pending
        pending = []
    if pending:
        yield start, pending


def _words(line: str) -> list[str]:
    try:
        return shlex.split(line, comments=True)
    except ValueError:  # unbalanced quotes: fall back to whitespace
        return line.split()


def _leading_assignments(tokens: list[tuple[str, int]]) -> Iterator[tuple[str, str, int]]:
    for word, line in tokens:
        match = _ASSIGN.match(word)
        if not match:
            return
        yield match[1], match[2], line


def _runs_script(words: list[str], script_name: str | None) -> bool:
    """Whether a command line runs the script (``torchrun ... train_gpt.py``)."""
    if script_name is not None:
        return any(Path(w).name == script_name for w in words)
    return Path(words[0]).name in _LAUNCHERS and any(
        w.endswith(".py") and Path(w).name.startswith("train") for w in words
    )


def _looks_like_assignments(text: str) -> bool:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return bool(lines) and all(_ASSIGN.match(ln.removeprefix("export ").strip()) for ln in lines)


def _log_pairs(line: str) -> Iterator[tuple[str, str]]:
    """``key: value`` dump lines and lines made only of ``key:value`` / ``key=value`` tokens."""
    dump = _DUMP_LINE.match(line)
    if dump:
        yield dump[1], dump[2]
        return
    words = line.split()
    if not words or len(words) > 40:
        return
    pairs = [_TOKEN.match(w) for w in words]
    if all(pairs):
        for pair in pairs:
            yield pair[1], pair[2]  # type: ignore[index]


def _literal(text: str) -> object:
    """A log value as the Python value it prints (``True``, ``3``, ``0.5``), else the text."""
    if text in ("True", "False"):
        return text == "True"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _env_text(value: object) -> str:
    """A value as the environment text that sets it (booleans as ``1`` / ``0``)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _normal(value: object) -> object:
    """A comparable form: ``True`` == ``"1"`` == ``1``, ``"0.50"`` == ``0.5``."""
    if isinstance(value, bool):
        return float(value)
    text = str(value).strip().lower()
    if text in ("true", "yes", "on"):
        return 1.0
    if text in ("false", "no", "off"):
        return 0.0
    try:
        return float(text)
    except ValueError:
        return text


def same_value(a: object, b: object) -> bool:
    return _normal(a) == _normal(b)


def coerce(value: object, default: object) -> object:
    """``value`` (env text or a logged literal) as the type of the setting's ``default``;
    ``None`` when it cannot be read as that type."""
    if isinstance(default, bool):
        if isinstance(value, bool | int | float):
            return bool(value)
        text = str(value).strip().lower()
        if text in ("true", "yes", "on"):
            return True
        if text in ("false", "no", "off", ""):
            return False
        try:
            return bool(int(float(text)))
        except ValueError:
            return None
    if isinstance(default, int | float):
        if isinstance(value, bool):
            return type(default)(value)
        try:
            number = float(str(value))
        except ValueError:
            return None
        return int(number) if isinstance(default, int) and number.is_integer() else number
    if isinstance(default, str):
        return _env_text(value) if isinstance(value, bool) else str(value)
    return value if isinstance(value, str) else _env_text(value)
