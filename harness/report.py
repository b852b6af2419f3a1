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
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any

from harness import __version__
from harness.rulebook import CONDITIONS, CONFIDENCES, LEVELS, SEVERITIES, Rule

FORMATS = ("text", "json", "markdown", "sarif")
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

    def all_findings(self) -> list[Finding]:
        out = list(self.findings)
        for f in self.files:
            out.extend(f.findings)
        return out

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
    text = resources.files("harness").joinpath("schemas/report.schema.json").read_text()
    return json.loads(text)


def validate_report_json(doc: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` if ``doc`` is not a valid golf-check report."""
    import jsonschema

    jsonschema.validate(doc, report_schema())


# --------------------------------------------------------------------------- rendering


def render(report: Report, fmt: str, *, color: bool | None = None, width: int = 110) -> str:
    if fmt == "json":
        return json.dumps(report.to_json(), indent=2, default=_json_default) + "\n"
    if fmt == "markdown":
        return render_markdown(report)
    if fmt == "sarif":
        return json.dumps(render_sarif(report), indent=2, default=_json_default) + "\n"
    if fmt == "text":
        return render_text(report, color=color, width=width)
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


def render_text(report: Report, *, color: bool | None = None, width: int = 110) -> str:
    from rich.console import Console
    from rich.table import Table as RichTable
    from rich.text import Text

    buf = io.StringIO()
    console = Console(
        file=buf,
        width=width,
        force_terminal=bool(color),
        no_color=not color,
        highlight=False,
        soft_wrap=False,
    )
    verdict = report.verdict
    style = {"pass": "bold green", "warn": "bold yellow", "fail": "bold red", "error": "bold red"}
    head = Text(f"golf-check {report.command}: ")
    head.append(verdict.upper(), style=style[verdict])
    if report.target:
        head.append(f"  {report.target}", style="dim")
    console.print(head)

    for message in report.errors:
        console.print(Text(f"error: {message}", style="bold red"))

    for label, value in report.facts:
        console.print(Text.assemble((f"  {label}: ", "bold"), str(value)))

    for table in report.tables:
        rt = RichTable(title=table.title, title_justify="left", show_lines=False)
        for _, header in table.columns:
            rt.add_column(header, overflow="fold")
        for row in table.rows:
            rt.add_row(*(_fmt_cell(row.get(key)) for key, _ in table.columns))
        console.print(rt)

    def print_findings(findings: list[Finding], indent: str) -> None:
        for f in findings:
            line = Text(indent)
            loc = f"L{f.line} " if f.line else ""
            line.append(loc, style="dim")
            sev_style = "dim" if f.suppressed else _SEVERITY_STYLE[f.severity]
            line.append(f"{f.severity}", style=sev_style)
            line.append(f" {f.rule}", style="bold")
            line.append(f" [{f.confidence}, {f.level}] ", style="dim")
            line.append(f.message)
            if f.suppressed:
                line.append(f"  (suppressed: {f.suppression_reason or 'no reason'})", style="dim")
            console.print(line)
            if f.evidence:
                for ev in f.evidence.strip().splitlines()[:4]:
                    console.print(Text(f"{indent}    │ {ev}", style="dim"))
            if f.fix and not f.suppressed:
                console.print(Text(f"{indent}    fix: {f.fix}", style="green"))

    for fr in report.files:
        mark = fr.verdict.upper()
        t = Text(f"{fr.path}: ")
        t.append(mark, style=style[fr.verdict])
        console.print(t)
        if fr.error:
            console.print(Text(f"    error: {fr.error}", style="red"))
        print_findings(fr.findings, "    ")
        for note in fr.notes:
            console.print(Text(f"    note: {note}", style="dim"))

    if report.findings:
        console.print(Text("findings:", style="bold"))
        print_findings(report.findings, "  ")

    for note in report.notes:
        console.print(Text(f"note: {note}", style="dim"))

    s = report.summary()
    console.print(
        Text(
            f"{s['errors']} error(s), {s['warnings']} warning(s), {s['infos']} info, "
            f"{s['suppressed']} suppressed; exit {report.exit_code}",
            style="bold",
        )
    )
    return buf.getvalue()


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Report) -> str:
    from harness.rulebook import load_all

    rules = load_all().rules
    lines: list[str] = []
    verdict = report.verdict
    title = f"## {_MARK[verdict]} golf-check {report.command}: **{verdict.upper()}**"
    lines.append(title)
    if report.target:
        lines.append(f"\n`{report.target}`")
    s = report.summary()
    lines.append(
        f"\n{s['errors']} error(s), {s['warnings']} warning(s), {s['infos']} info, "
        f"{s['suppressed']} suppressed."
    )
    if report.errors:
        lines.append("")
        lines.extend(f"- ⛔ {_md_escape(e)}" for e in report.errors)
    if report.facts:
        lines.append("")
        lines.extend(f"- **{_md_escape(k)}**: {_md_escape(str(v))}" for k, v in report.facts)
    for table in report.tables:
        lines.append(f"\n**{_md_escape(table.title)}**\n")
        lines.append("| " + " | ".join(_md_escape(h) for _, h in table.columns) + " |")
        lines.append("|" + "---|" * len(table.columns))
        for row in table.rows:
            cells = (_md_escape(_fmt_cell(row.get(k))) for k, _ in table.columns)
            lines.append("| " + " | ".join(cells) + " |")

    def finding_line(f: Finding) -> str:
        rule = rules.get(f.rule)
        rule_ref = f"[`{f.rule}`]({rule.help_uri})" if rule else f"`{f.rule}`"
        icon = {"error": "❌", "warning": "⚠️", "info": "ℹ️"}[f.severity]
        if f.suppressed:
            icon = "🔇"
        loc = f" `{_location(f)}`" if f.file else ""
        text = f"- {icon} {rule_ref}{loc} ({f.confidence} confidence, {f.level}): "
        text += _md_escape(f.message)
        if f.suppressed:
            text += f" — suppressed: {_md_escape(f.suppression_reason or 'no reason')}"
        elif f.fix:
            text += f"<br>Fix: {_md_escape(f.fix)}"
        return text

    if report.findings:
        lines.append("\n### Findings\n")
        lines.extend(finding_line(f) for f in report.findings)
    for fr in report.files:
        lines.append(f"\n### {_MARK[fr.verdict]} `{_md_escape(fr.path)}`: {fr.verdict}\n")
        if fr.error:
            lines.append(f"- ⛔ {_md_escape(fr.error)}")
        lines.extend(finding_line(f) for f in fr.findings)
        if not fr.findings and not fr.error:
            lines.append("No findings.")
    if report.notes:
        lines.append("\n<details><summary>Notes</summary>\n")
        lines.extend(f"- {_md_escape(n)}" for n in report.notes)
        lines.append("\n</details>")
    lines.append(f"\n<sub>golf-check {__version__} · exit code {report.exit_code}</sub>")
    return "\n".join(lines) + "\n"


def render_sarif(report: Report) -> dict[str, Any]:
    """SARIF 2.1.0: one run, rules from the catalogue, suppressed results kept visible."""
    from harness.rulebook import load_all

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
        sarif_rules.append(entry)

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
        if f.file:
            location: dict[str, Any] = {"artifactLocation": {"uri": f.file.replace("\\", "/")}}
            if f.line:
                region: dict[str, Any] = {"startLine": int(f.line)}
                if f.evidence:
                    region["snippet"] = {"text": f.evidence}
                location["region"] = region
            result["locations"] = [{"physicalLocation": location}]
        if f.suppressed:
            result["suppressions"] = [
                {"kind": "inSource", "justification": f.suppression_reason or ""}
            ]
        results.append(result)

    invocation: dict[str, Any] = {"executionSuccessful": report.exit_code != 2}
    notes = report.errors + [fr.error for fr in report.files if fr.error]
    if notes:
        invocation["toolExecutionNotifications"] = [
            {"level": "error", "message": {"text": n}} for n in notes
        ]
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
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
        ],
    }
