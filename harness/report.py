"""Findings and reports, and the four ways to render them (terminal, JSON, Markdown, SARIF).

Every command builds one ``Report`` and hands it to ``render``. A report holds:

* ``files``: per-file results (``check`` puts each script here, with its findings);
* ``findings``: report-level findings not tied to one script (``verify``'s budget checks);
* ``tables``: generic titled tables (per-seed table, significance test), rendered alike in
  every format, so commands never need a renderer of their own;
* ``facts``: short label/value lines (mean val_bpb, the test used, ...);
* ``data``: extra top-level JSON keys a command's JSON contract promises (``seeds``, ...);
* ``errors``: input that could not be read (one line each; exit code 2);
* ``notes``: honest caveats (what a check could not prove).

Exit codes: 2 if any input could not be read, else 1 if a gate failed (an unsuppressed
error-level finding, or with ``strict`` any warning), else 0.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from golf_check.harness import __version__
from golf_check.harness.rulebook import CONDITIONS, CONFIDENCES, LEVELS, SEVERITIES, Rule

FORMATS = ("text", "concise", "github", "json", "markdown", "sarif", "html")
VERDICTS = ("pass", "warn", "fail", "error")
_MARK = {"pass": "✅", "warn": "⚠️", "fail": "❌", "error": "⛔"}
_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


@dataclass
class Finding:
    rule: str
    condition: str
    severity: str  # error | warning | info
    confidence: str  # high | medium | low
    message: str
    file: str | None = None
    line: int | None = None
    evidence: str | None = None  # a short snippet: the source line, the log line, the figures
    fix: str | None = None  # what to change to comply
    level: str = "static"  # which evidence level produced it (rulebook.LEVELS)
    suppressed: bool = False
    suppression_reason: str | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"bad severity {self.severity!r}")
        if self.confidence not in CONFIDENCES:
            raise ValueError(f"bad confidence {self.confidence!r}")
        if self.condition not in CONDITIONS:
            raise ValueError(f"bad condition {self.condition!r}")
        if self.level not in LEVELS:
            raise ValueError(f"bad evidence level {self.level!r}")

    @classmethod
    def of(cls, rule: Rule, message: str, **kw: Any) -> Finding:
        """A finding for ``rule``, taking its condition and default severity."""
        kw.setdefault("severity", rule.severity)
        kw.setdefault("confidence", "high")
        return cls(rule=rule.id, condition=rule.condition, message=message, **kw)

    @property
    def counts(self) -> bool:
        """Whether this finding affects the verdict (suppressed ones stay visible but do not)."""
        return not self.suppressed

    def fingerprint(self) -> str:
        """Stable across runs and line shifts: rule, file and the evidence text, not the line."""
        basis = "\x1f".join([self.rule, self.file or "", (self.evidence or self.message).strip()])
        return hashlib.sha256(basis.encode()).hexdigest()[:32]

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class FileResult:
    path: str
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None  # set when the file could not be read or parsed
    notes: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        if self.error:
            return "error"
        return verdict_of(self.findings)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "verdict": self.verdict,
            "findings": [f.to_json() for f in self.findings],
        }
        if self.error:
            out["error"] = self.error
        if self.notes:
            out["notes"] = list(self.notes)
        return out


@dataclass
class Table:
    title: str
    columns: list[tuple[str, str]]  # (key in each row, header)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "columns": [{"key": k, "header": h} for k, h in self.columns],
            "rows": self.rows,
        }


@dataclass
class Report:
    command: str  # check | verify | run | ci
    target: str = ""  # what was audited (paths, folder)
    files: list[FileResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    strict: bool = False
    # How to show it, not what it says (never in the JSON): the directory relative paths in
    # the report are relative to (None: the working directory; ``ci``: its repository), and a
    # ``https://host/owner/repo/blob/<sha>/`` prefix that makes locations links in Markdown.
    paths_relative_to: str | None = None
    blob_url: str | None = None

    def all_findings(self) -> list[Finding]:
        out = list(self.findings)
        for f in self.files:
            out.extend(f.findings)
        return out

    def all_notes(self) -> list[str]:
        """The report's notes, then each file's, prefixed with its path."""
        return list(self.notes) + [f"{fr.path}: {n}" for fr in self.files for n in fr.notes]

    @property
    def verdict(self) -> str:
        verdict = verdict_of(self.all_findings())
        if verdict == "pass" and (self.errors or any(f.error for f in self.files)):
            return "error"
        return verdict

    @property
    def exit_code(self) -> int:
        if self.errors or any(f.error for f in self.files):
            return 2
        verdict = verdict_of(self.all_findings())
        if verdict == "fail" or (self.strict and verdict == "warn"):
            return 1
        return 0

    def summary(self) -> dict[str, int]:
        counted = [f for f in self.all_findings() if f.counts]
        return {
            "errors": sum(f.severity == "error" for f in counted),
            "warnings": sum(f.severity == "warning" for f in counted),
            "infos": sum(f.severity == "info" for f in counted),
            "suppressed": sum(f.suppressed for f in self.all_findings()),
            "files": len(self.files),
            "input_errors": len(self.errors) + sum(bool(f.error) for f in self.files),
        }

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "tool": {"name": "golf-check", "version": __version__},
            "command": self.command,
            "target": self.target,
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "strict": self.strict,
            "files": [f.to_json() for f in self.files],
            "findings": [f.to_json() for f in self.findings],
            "summary": self.summary(),
            "tables": [t.to_json() for t in self.tables],
            "facts": [{"label": k, "value": v} for k, v in self.facts],
            "errors": list(self.errors),
            "notes": list(self.notes),
        }
        for key, value in self.data.items():
            if key in out:
                raise ValueError(f"report data key {key!r} clashes with a standard key")
            out[key] = value
        return out


def verdict_of(findings: list[Finding]) -> str:
    """pass, warn or fail for a set of findings (suppressed ones do not count)."""
    counted = [f for f in findings if f.counts]
    if any(f.severity == "error" for f in counted):
        return "fail"
    if any(f.severity == "warning" for f in counted):
        return "warn"
    return "pass"


# --------------------------------------------------------------------------- schema


def report_schema() -> dict[str, Any]:
    text = resources.files("golf_check.harness").joinpath("schemas/report.schema.json").read_text()
    return json.loads(text)


def validate_report_json(doc: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` if ``doc`` is not a valid golf-check report."""
    import jsonschema

    jsonschema.validate(doc, report_schema())


# --------------------------------------------------------------------------- rendering


@dataclass
class RenderOptions:
    """How a report is shown; none of this changes what the report says.

    ``width`` None means the terminal's width (``COLUMNS``, then the terminal, then 100).
    ``repo_root`` is where SARIF URIs are made relative to (None: paths are kept as they are,
    already relative to the repository, as ``ci`` writes them). ``base`` is the directory the
    report's relative paths are relative to (None: the working directory). ``blob_url``, a
    ``https://host/owner/repo/blob/<sha>/`` prefix, makes Markdown locations links to the file
    at that commit. ``quiet`` keeps only the findings. ``show_errors`` False leaves input errors
    out of the text output because the caller has already written them to standard error.
    """

    color: bool = False
    width: int | None = None
    quiet: bool = False
    show_errors: bool = True
    repo_root: str | None = None
    base: str | None = None
    blob_url: str | None = None


def render(
    report: Report,
    fmt: str,
    *,
    color: bool | None = None,
    width: int | None = None,
    options: RenderOptions | None = None,
) -> str:
    opts = replace(options or RenderOptions())  # a copy: the caller's options stay as given
    if color is not None:
        opts.color = color
    if width is not None:
        opts.width = width
    if fmt == "json":
        return json.dumps(report.to_json(), indent=2, default=_json_default) + "\n"
    if fmt == "markdown":
        return render_markdown(report, blob_url=opts.blob_url or report.blob_url)
    if fmt == "sarif":
        base = opts.base or report.paths_relative_to
        sarif = render_sarif(report, repo_root=opts.repo_root, base=base)
        return json.dumps(sarif, indent=2, default=_json_default) + "\n"
    if fmt == "text":
        return render_text(report, opts)
    if fmt == "concise":
        return render_concise(report, quiet=opts.quiet)
    if fmt == "github":
        return render_github(report, root=opts.repo_root)
    if fmt == "html":
        from golf_check.harness.html_report import render_html  # matplotlib: only when asked for

        return render_html(report, opts)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


def _fmt_cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.8f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _location(f: Finding) -> str:
    if f.file and f.line:
        return f"{f.file}:{f.line}"
    return f.file or ""


def input_errors(report: Report) -> list[str]:
    """Every input that could not be read, one line each (what goes to standard error)."""
    return list(report.errors) + [fr.error for fr in report.files if fr.error]


def summary_counts(report: Report) -> list[str]:
    """The counts every format's summary line shows, in this order: errors, warnings, infos
    and suppressed findings."""
    s = report.summary()
    return [
        f"{s['errors']} error(s)",
        f"{s['warnings']} warning(s)",
        f"{s['infos']} info",
        f"{s['suppressed']} suppressed",
    ]


def terminal_width() -> int:
    """The terminal's width: ``COLUMNS``, then the terminal itself, then 100 when there is none."""
    import shutil

    return max(40, shutil.get_terminal_size((100, 24)).columns)


def _ordered_findings(report: Report) -> list[Finding]:
    """Counted errors, then counted warnings, then infos, then suppressed; stable within each."""

    def rank(f: Finding) -> int:
        if f.suppressed:
            return 3
        return {"error": 0, "warning": 1, "info": 2}[f.severity]

    return sorted(report.all_findings(), key=rank)


def grouped_findings(report: Report) -> tuple[list[Finding], list[Finding], list[Finding]]:
    """The findings in the sections of a report page: failing ones (errors, and warnings under
    ``strict``), the other warnings, then infos and suppressed ones."""
    ordered = _ordered_findings(report)
    failing_severities = {"error", "warning"} if report.strict else {"error"}
    failing = [f for f in ordered if not f.suppressed and f.severity in failing_severities]
    # under ``strict`` every warning fails, and is listed once, with the failing findings
    warnings = (
        []
        if report.strict
        else [f for f in ordered if not f.suppressed and f.severity == "warning"]
    )
    rest = [f for f in ordered if f.suppressed or f.severity == "info"]
    return failing, warnings, rest


# ----------------------------------------------------------------- terminal (rich)


def render_text(report: Report, options: RenderOptions | None = None, **kw: Any) -> str:
    from rich.console import Console
    from rich.padding import Padding
    from rich.text import Text

    opts = options or RenderOptions(**kw)
    width = opts.width or terminal_width()
    buf = io.StringIO()
    console = Console(
        file=buf,
        width=width,
        force_terminal=opts.color,
        no_color=not opts.color,
        # Basic colours only: they work on every terminal that shows colour at all.
        color_system="standard" if opts.color else None,
        highlight=False,
        soft_wrap=False,
    )
    verdict = report.verdict
    style = {"pass": "bold green", "warn": "bold yellow", "fail": "bold red", "error": "bold red"}

    def hanging(text: Text, indent: int) -> None:
        # Wrapped lines stay under their first line's indent instead of starting at column 0.
        console.print(Padding(text, (0, 0, 0, indent), expand=False))

    if not opts.quiet:
        head = Text(f"golf-check {report.command}: ")
        head.append(verdict.upper(), style=style[verdict])
        if report.target:
            head.append(f"  {report.target}", style="dim")
        console.print(head)

    if opts.show_errors:
        for message in report.errors:
            console.print(Text(f"error: {message}", style="bold red"))

    if not opts.quiet:
        for label, value in report.facts:
            hanging(Text.assemble((f"{label}: ", "bold"), str(value)), 2)
        for table in report.tables:
            _print_table(console, table, width)

    def print_findings(findings: list[Finding], indent: int) -> None:
        for f in findings:
            line = Text()
            loc = f"L{f.line} " if f.line else ""
            line.append(loc, style="dim")
            sev_style = "dim" if f.suppressed else _SEVERITY_STYLE[f.severity]
            line.append(f"{f.severity}", style=sev_style)
            line.append(f" {f.rule}", style="bold")
            line.append(f" [{f.confidence}, {f.level}] ", style="dim")
            line.append(f.message)
            if f.suppressed:
                line.append(f"  (suppressed: {f.suppression_reason or 'no reason'})", style="dim")
            hanging(line, indent)
            if f.evidence:
                for ev in f.evidence.strip().splitlines()[:4]:
                    excerpt = Text(f"│ {ev}", style="dim", no_wrap=True, overflow="ellipsis")
                    console.print(Padding(excerpt, (0, 0, 0, indent + 4), expand=False))
            if f.fix and not f.suppressed:
                hanging(Text(f"fix: {f.fix}", style="green"), indent + 4)

    for fr in report.files:
        if opts.quiet and not fr.findings and not (fr.error and opts.show_errors):
            continue
        t = Text(f"{fr.path}: ")
        t.append(fr.verdict.upper(), style=style[fr.verdict])
        console.print(t)
        if fr.error and opts.show_errors:
            hanging(Text(f"error: {fr.error}", style="red"), 4)
        print_findings(fr.findings, 4)
        if not opts.quiet:
            for note in fr.notes:
                hanging(Text(f"note: {note}", style="dim"), 4)

    if report.findings:
        if not opts.quiet:
            console.print(Text("findings:", style="bold"))
        print_findings(report.findings, 2)

    if not opts.quiet:
        for note in report.notes:
            hanging(Text(f"note: {note}", style="dim"), 0)
        counts = ", ".join(summary_counts(report))
        console.print(Text(f"{counts}; exit {report.exit_code}", style="bold"))
    # Rich pads wrapped lines to the full width; trailing blanks only get in the way.
    return "".join(_TRAILING_BLANKS.sub(r"\1", line) for line in buf.getvalue().splitlines(True))


_TRAILING_BLANKS = re.compile(r"[ ]+((?:\x1b\[[0-9;]*m)*\n?)$")


def _print_table(console: Any, table: Table, width: int) -> None:
    """A table that fits the width; when it cannot fit without wrapping a row, one block per row.

    A wrapped row in a terminal is unreadable (the cells of one row spread over several lines
    beside each other), so a table too wide for the terminal is shown as ``header: value``
    lines instead, the way a narrow terminal can still read it.
    """
    from rich.text import Text

    cells = [[_fmt_cell(row.get(key)) for key, _ in table.columns] for row in table.rows]
    headers = [header for _, header in table.columns]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    gap = "  "
    console.print(Text(table.title, style="italic"))
    if sum(widths) + len(gap) * (len(widths) - 1) <= width:
        console.print(
            Text(
                gap.join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(),
                style="bold",
            ),
            no_wrap=True,
            crop=False,
        )
        console.print(Text(gap.join("─" * w for w in widths), style="dim"), no_wrap=True)
        for row in cells:
            line = gap.join(_align(v, w) for v, w in zip(row, widths, strict=True)).rstrip()
            console.print(Text(line), no_wrap=True, crop=False)
        console.print()
        return
    for row in cells:
        for header, value in zip(headers, row, strict=True):
            console.print(Text.assemble("  ", (f"{header}: ", "bold"), value))
        console.print()


def _align(value: str, width: int) -> str:
    # Figures line up on the right, words on the left.
    numeric = value.replace(",", "").replace(".", "").replace("-", "").replace("%", "")
    return value.rjust(width) if numeric.isdigit() else value.ljust(width)


# ----------------------------------------------------------------- one line per finding


def _finding_lines(report: Report, root: str | None = None) -> list[tuple[Finding, str]]:
    """Unsuppressed findings with the path each is reported at. Paths the report keeps
    relative to a record folder (``verify``) are given relative to ``root`` (default: the
    working directory), so an editor or GitHub can open them."""
    fallback = _fallback_location(report)
    out = []
    for f in _ordered_findings(report):
        if f.suppressed:
            continue
        path = f.file or fallback
        if report.paths_relative_to and path and not os.path.isabs(path):
            absolute = os.path.join(report.paths_relative_to, path)
            path = os.path.relpath(absolute, root or os.getcwd())
        out.append((f, path))
    return out


def render_concise(report: Report, *, quiet: bool = False) -> str:
    """``path:line:col: RULE message``, one line per finding, as compilers and ruff print them."""
    lines = []
    for f, path in _finding_lines(report):
        where = f"{path}:{f.line}:1" if f.line else path
        lines.append(f"{where}: {f.rule} [{f.severity}] {_one_line(f.message)}")
    if not quiet:
        s = report.summary()
        counted = s["errors"] + s["warnings"] + s["infos"]
        lines.append(
            f"Found {counted} finding(s): {s['errors']} error(s), {s['warnings']} warning(s)."
            if counted
            else "All checks passed."
        )
    return "".join(line + "\n" for line in lines)


_GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def render_github(report: Report, root: str | None = None) -> str:
    """GitHub Actions workflow commands: ``::error file=...,line=...,title=RULE::message``,
    with paths relative to ``root`` (the repository) where the report's are folder-relative.

    Every value is escaped as the runner expects (``%``, CR and LF in the message; also ``:``
    and ``,`` in properties), so a file name cannot end a command early or start another one.
    """
    out = []
    for f, path in _finding_lines(report, root):
        props = [f"file={_gh_property(path)}"]
        if f.line:
            props.append(f"line={int(f.line)}")
        props.append(f"title={_gh_property(f'golf-check {f.rule}')}")
        message = f.message + (f" Fix: {f.fix}" if f.fix else "")
        out.append(f"::{_GITHUB_LEVEL[f.severity]} {','.join(props)}::{_gh_data(message)}\n")
    for message in input_errors(report):
        out.append(f"::error title=golf-check input error::{_gh_data(message)}\n")
    return "".join(out)


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def _one_line(text: str) -> str:
    return " ".join(text.split())


# ----------------------------------------------------------------- Markdown (PR comment)

# Characters with a meaning inside a line of GitHub-flavoured Markdown (emphasis, code, links,
# tables, strikethrough, math, emoji); a backslash makes each one literal. Block markers (#, -,
# 1.) only act at the start of a line, where untrusted text never stands.
_MD_PUNCTUATION = frozenset("\\`*_[]|~:$")
_WORD_JOINER = "\u2060"  # invisible; breaks @mentions, #refs and autolinks without showing


def _md_escape(text: str) -> str:
    """Untrusted text as inert Markdown: no HTML, emphasis, links, mentions or references.

    HTML's own characters become entities; every Markdown punctuation character is
    backslash-escaped; and an invisible word joiner is put after ``@`` and ``#`` and inside
    ``://`` and ``www.``, because GitHub finds mentions, issue references and bare URLs in the
    rendered text, after escapes are gone. Newlines become spaces (one item, one line).
    """
    out = []
    for ch in " ".join(str(text).splitlines()):
        if ch == "&":
            out.append("&amp;")
        elif ch == "<":
            out.append("&lt;")
        elif ch == ">":
            out.append("&gt;")
        elif ch == '"':
            out.append("&quot;")
        elif ch in _MD_PUNCTUATION:
            out.append("\\" + ch)
        elif ch == "@":
            out.append("@" + _WORD_JOINER)
        else:
            out.append(ch)
    escaped = "".join(out)
    escaped = escaped.replace("#", "#" + _WORD_JOINER)
    escaped = escaped.replace("\\:/", "\\:" + _WORD_JOINER + "/")
    for www in ("www.", "WWW."):
        escaped = escaped.replace(www, www[:3] + _WORD_JOINER + ".")
    return escaped


def _html_escape(text: str) -> str:
    """Untrusted text inside our own HTML (``<summary>``), where Markdown is not read."""
    import html

    text = " ".join(str(text).splitlines())
    text = text.replace("@", "@" + _WORD_JOINER).replace("#", "#" + _WORD_JOINER)
    text = text.replace("://", ":" + _WORD_JOINER + "//")
    for www in ("www.", "WWW."):
        text = text.replace(www, www[:3] + _WORD_JOINER + ".")
    return html.escape(text, quote=True)


def _md_code(text: str) -> str:
    """Untrusted text in a code span: shown as typed, nothing in it is interpreted.

    The fence is one backtick longer than any run inside, and padded with spaces when the text
    starts or ends with a backtick, which is how CommonMark lets a code span hold backticks.
    Not for table cells (GitHub splits table rows on ``|`` before it finds code spans).
    """
    text = " ".join(str(text).splitlines()) or " "
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or text.strip() != text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_SAFE_REPO_URL = re.compile(r"https://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._-]+){2,}")
_SHA = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")


def blob_url(repo_url: str | None, sha: str | None) -> str | None:
    """``<repo_url>/blob/<sha>/`` when both look right, else None (locations stay plain text)."""
    if not repo_url or not sha:
        return None
    repo_url = repo_url.rstrip("/")
    if not _SAFE_REPO_URL.fullmatch(repo_url) or not _SHA.fullmatch(sha):
        return None
    return f"{repo_url}/blob/{sha}/"


def _md_location(f: Finding, blob: str | None) -> str:
    if not f.file:
        return ""
    from urllib.parse import quote

    shown = _md_code(_location(f))
    if blob is None or f.file.startswith(("/", "..")):
        return shown
    anchor = f"#L{int(f.line)}" if f.line else ""
    return f"[{shown}]({blob}{quote(f.file.replace(chr(92), '/'), safe='/')}{anchor})"


def render_markdown(report: Report, *, blob_url: str | None = None) -> str:
    """A pull-request comment read in ten seconds: verdict, then what fails, then the detail.

    Every piece of text that comes from the submission (file names, messages that quote it,
    log excerpts, evidence, table cells) goes through ``_md_escape`` or ``_md_code``.
    """
    from golf_check.harness.rulebook import load_all

    rules = load_all().rules
    lines: list[str] = []
    verdict = report.verdict
    lines.append(f"## {_MARK[verdict]} golf-check {report.command}: **{verdict.upper()}**")
    if report.target:
        lines.append(f"\n{_md_code(report.target)}")
    errors_count, *other_counts = summary_counts(report)
    lines.append(f"\n**{errors_count}**, {', '.join(other_counts)} · exit code {report.exit_code}")
    errors = input_errors(report)
    if errors:
        lines.append("\n### ⛔ Input that could not be read\n")
        lines.extend(f"- {_md_escape(e)}" for e in errors)

    def finding_line(f: Finding) -> str:
        rule = rules.get(f.rule)
        rule_ref = f"[`{f.rule}`]({rule.help_uri})" if rule else f"`{_md_escape(f.rule)}`"
        icon = "🔇" if f.suppressed else {"error": "❌", "warning": "⚠️", "info": "ℹ️"}[f.severity]
        parts = [f"- {icon} **{f.severity}** {rule_ref}"]
        loc = _md_location(f, blob_url)
        if loc:
            parts.append(loc)
        text = " ".join(parts) + f": {_md_escape(f.message)}"
        text += f" <sub>({f.confidence} confidence, {f.level})</sub>"
        if f.evidence:
            first = f.evidence.strip().splitlines()[0] if f.evidence.strip() else ""
            if first:
                text += f"<br>{_md_code(first[:200])}"
        if f.suppressed:
            text += f"<br>Suppressed: {_md_escape(f.suppression_reason or 'no reason')}"
        elif f.fix:
            text += f"<br>Fix: {_md_escape(f.fix)}"
        return text

    failing, warnings, rest = grouped_findings(report)
    if failing:
        lines.append(f"\n### Failing ({len(failing)})\n")
        lines.extend(finding_line(f) for f in failing)
    if warnings:
        lines.append(f"\n### Warnings ({len(warnings)})\n")
        lines.extend(finding_line(f) for f in warnings)
    if not (failing or warnings or rest or errors):
        lines.append("\nNo findings.")

    def details(summary: str, body: list[str]) -> None:
        lines.append(f"\n<details><summary>{summary}</summary>\n")
        lines.extend(body)
        lines.append("\n</details>")

    if rest:
        details(f"Info and suppressed findings ({len(rest)})", [finding_line(f) for f in rest])
    if report.files:
        details(
            f"Verdict per script ({len(report.files)})",
            [f"- {_MARK[fr.verdict]} {fr.verdict}: {_md_code(fr.path)}" for fr in report.files],
        )
    if report.facts:
        details(
            "Facts",
            [f"- **{_md_escape(k)}**: {_md_escape(str(v))}" for k, v in report.facts],
        )
    for table in report.tables:
        body = ["| " + " | ".join(_md_escape(h) for _, h in table.columns) + " |"]
        body.append("|" + "---|" * len(table.columns))
        for row in table.rows:
            cells = (_md_escape(_fmt_cell(row.get(k))) for k, _ in table.columns)
            body.append("| " + " | ".join(cells) + " |")
        details(_html_escape(table.title), body)
    notes = report.all_notes()
    if notes:
        details("Notes", [f"- {_md_escape(n)}" for n in notes])
    lines.append(f"\n<sub>golf-check {__version__}</sub>")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------- SARIF 2.1.0


def find_repo_root(start: str | os.PathLike[str] | None) -> str:
    """The git top level above ``start`` (a ``.git`` folder or file), else the working directory."""
    here = Path(os.path.abspath(start or "."))
    if not here.is_dir():
        here = here.parent
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return str(folder)
    return os.getcwd()


def _sarif_uri(path: str, repo_root: str | None, base: str | None) -> tuple[str, bool]:
    """(URI, whether it is relative to the repository root) for a path in the report."""
    from urllib.parse import quote

    posix = path.replace("\\", "/")
    if repo_root is None:
        while posix.startswith("./"):
            posix = posix[2:]
        return quote(posix or "./", safe="/"), True
    absolute = os.path.normpath(os.path.join(base or os.getcwd(), path))
    rel = os.path.relpath(absolute, repo_root)
    if rel == os.curdir:
        return "./", True
    if rel.startswith(os.pardir):
        return Path(absolute).as_uri(), False
    return quote(Path(rel).as_posix(), safe="/"), True


def _fallback_location(report: Report) -> str:
    """Where a finding with no file points: the record folder, else the input path."""
    pr = report.data.get("pull_request") if isinstance(report.data, dict) else None
    if isinstance(pr, dict):
        folders = pr.get("record_folders") or []
        if folders:
            return str(folders[0]).rstrip("/") + "/"
        changes = pr.get("changes") or []
        if changes and isinstance(changes[0], dict) and changes[0].get("path"):
            return str(changes[0]["path"])
        return "records/"
    if report.files:
        return report.files[0].path
    target = report.target.split(" ")[0] if report.target else ""
    return target or "."


def _rule_help(rule_id: str, rule: Rule | None) -> dict[str, str]:
    command = f"golf-check rules {rule_id}"
    if rule is None:
        text = f"{rule_id}: run `{command}` for what it checks and why."
        return {"text": text, "markdown": text}
    sources = "\n".join(f"- {s}" for s in rule.sources)
    text = f"{rule.title}\n\n{rule.explanation}"
    markdown = f"**{rule.title}**\n\n{rule.explanation}"
    if rule.sources:
        text += "\n\nSources:\n" + sources
        markdown += "\n\n**Sources**\n\n" + sources
    text += f"\n\nMore: {command}"
    markdown += f"\n\nMore: `{command}` or [the rules reference]({rule.help_uri})."
    return {"text": text, "markdown": markdown}


def render_sarif(
    report: Report, *, repo_root: str | None = None, base: str | None = None
) -> dict[str, Any]:
    """SARIF 2.1.0 as GitHub code scanning takes it: one run, every rule with its help, every
    result with a location relative to the repository root, suppressed results kept visible.

    ``repo_root`` None keeps paths as they are (``ci`` already writes repository paths);
    otherwise each path (relative to ``base`` or the working directory) is made relative to it,
    and a path outside the repository keeps an absolute ``file:`` URI.
    """
    from golf_check.harness.rulebook import load_all

    catalogue = load_all().rules
    findings = report.all_findings()
    used_ids = sorted({f.rule for f in findings})
    rule_index = {rid: i for i, rid in enumerate(used_ids)}
    sarif_rules = []
    for rid in used_ids:
        rule = catalogue.get(rid)
        entry: dict[str, Any] = {"id": rid, "name": rid.replace(".", "_").replace("-", "_")}
        if rule:
            entry.update(
                shortDescription={"text": rule.title},
                fullDescription={"text": rule.explanation.split("\n\n")[0]},
                helpUri=rule.help_uri,
                defaultConfiguration={"level": _SARIF_LEVEL[rule.severity]},
                properties={"condition": rule.condition, "sources": list(rule.sources)},
            )
        else:
            entry["shortDescription"] = {"text": rid}
        entry["help"] = _rule_help(rid, rule)
        sarif_rules.append(entry)

    fallback = _fallback_location(report)
    results = []
    for f in findings:
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "ruleIndex": rule_index[f.rule],
            "level": _SARIF_LEVEL[f.severity],
            "message": {"text": f.message + (f" Fix: {f.fix}" if f.fix else "")},
            "partialFingerprints": {"golfCheckFindingHash/v1": f.fingerprint()},
            "properties": {
                "condition": f.condition,
                "confidence": f.confidence,
                "evidenceLevel": f.level,
            },
        }
        uri, in_repo = _sarif_uri(f.file or fallback, repo_root, base)
        artifact: dict[str, Any] = {"uri": uri}
        if in_repo:
            artifact["uriBaseId"] = "%SRCROOT%"
        location: dict[str, Any] = {"artifactLocation": artifact}
        if f.file and f.line:
            region: dict[str, Any] = {"startLine": max(1, int(f.line))}
            if f.evidence:
                region["snippet"] = {"text": f.evidence}
            location["region"] = region
        elif not f.file:
            result["properties"]["locationIsFallback"] = True
        result["locations"] = [{"physicalLocation": location}]
        if f.suppressed:
            result["suppressions"] = [
                {"kind": "inSource", "justification": f.suppression_reason or ""}
            ]
        results.append(result)

    invocation: dict[str, Any] = {"executionSuccessful": report.exit_code != 2}
    notes = input_errors(report)
    if notes:
        invocation["toolExecutionNotifications"] = [
            {"level": "error", "message": {"text": n}} for n in notes
        ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "golf-check",
                "version": __version__,
                "informationUri": "https://github.com/golf-check/golf-check",
                "rules": sarif_rules,
            }
        },
        "invocations": [invocation],
        "results": results,
    }
    if repo_root is not None:
        root_uri = Path(os.path.abspath(repo_root)).as_uri().rstrip("/") + "/"
        run["originalUriBaseIds"] = {"%SRCROOT%": {"uri": root_uri}}
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    }
