"""Accuracy of `golf-check check` on a labelled corpus of real submissions.

Run: .venv/bin/python bench/bench_corpus.py CORPUS_DIR [--json | --markdown] [--no-rows]
                                             [--update DOC] [--cli GOLF_CHECK]

CORPUS_DIR holds ``labels.json``: a list of entries, each with ``name``, ``label`` (legal or
illegal), ``script`` (path relative to CORPUS_DIR), ``expected_conditions`` (the conditions
an illegal script must fail for), and optionally ``violations``, ``evidence``,
``statically_visible`` (false: the violation cannot be seen in the source, such as eval time;
left out of the illegal count) and a line hint (``line`` or ``lines``: numbers or "A-B").

Each script is checked as ``golf-check check SCRIPT`` would (in-process through
``check_paths``, or through the command given with ``--cli``). Scoring follows
``../shared/tools/corpus_score.py``: a legal script fails on verdict fail or error; an illegal
one is caught when it fails, and caught for the right reason when one of its errors has an
expected condition.

Output: a summary, a confusion table per condition (illegal scripts that expect it, caught
with an error of it, missed; legal scripts with a false error of it; illegal scripts with an
error of it they do not expect), and one row per miss and per false fail: the wrong findings
(rule@line and message), or for a miss the label's hint and the strongest findings short of
an error. ``--markdown`` prints the figures block of docs/accuracy.md (rules and lines only,
never the scripts' code); ``--update DOC`` rewrites that block in DOC in place.

Exit codes: 0 when scored (whatever the figures), 2 on a missing or malformed corpus.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CONDITIONS = ("C1", "C2", "C3", "C4", "DATA", "BUDGET")
LABELS = ("legal", "illegal")
FAILING = ("fail", "error")
BEGIN = "<!-- bench_corpus:begin (generated: bench/bench_corpus.py --update; edit outside) -->"
END = "<!-- bench_corpus:end -->"
_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
_CONFIDENCE_RANK = {"high": 0, "medium": 1, "low": 2}


class CorpusError(Exception):
    """A corpus that cannot be scored; the message is shown as one line."""


@dataclass
class Entry:
    name: str
    label: str
    script: Path
    expected: list[str]
    visible: bool = True
    violations: list[str] = field(default_factory=list)
    evidence: str = ""
    hint_lines: list[int] = field(default_factory=list)


# --------------------------------------------------------------------------- labels


def load_labels(corpus: Path) -> list[Entry]:
    """Read and validate ``corpus/labels.json``; any defect raises one ``CorpusError``."""
    path = corpus / "labels.json"
    if not corpus.is_dir():
        raise CorpusError(f"{corpus}: not a folder")
    if not path.is_file():
        raise CorpusError(f"{path}: no labels.json in the corpus folder")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorpusError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(data, list) or not data:
        raise CorpusError(f"{path}: expected a non-empty JSON list of label entries")
    entries, names = [], set()
    for i, raw in enumerate(data):
        entries.append(_entry(raw, f"{path} entry {i}", corpus))
        if entries[-1].name in names:
            raise CorpusError(f"{path} entry {i}: duplicate name {entries[-1].name!r}")
        names.add(entries[-1].name)
    return entries


def _entry(raw, where: str, corpus: Path) -> Entry:
    if not isinstance(raw, dict):
        raise CorpusError(f"{where}: expected an object")
    for key in ("name", "label", "script"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise CorpusError(f"{where}: missing or empty string field {key!r}")
    if raw["label"] not in LABELS:
        raise CorpusError(f"{where}: label must be legal or illegal, not {raw['label']!r}")
    expected = raw.get("expected_conditions", [])
    if not isinstance(expected, list) or not all(isinstance(c, str) for c in expected):
        raise CorpusError(f"{where}: expected_conditions must be a list of condition names")
    if raw["label"] == "illegal" and not expected:
        raise CorpusError(f"{where} ({raw['name']}): an illegal entry needs expected_conditions")
    violations = raw.get("violations") or []
    if not isinstance(violations, list):
        raise CorpusError(f"{where}: violations must be a list")
    script = corpus / raw["script"]
    if not script.is_file():
        raise CorpusError(f"{where} ({raw['name']}): script {raw['script']} not found in {corpus}")
    return Entry(
        name=raw["name"],
        label=raw["label"],
        script=script,
        expected=list(expected),
        visible=raw.get("statically_visible", True) is not False,
        violations=[str(v) for v in violations],
        evidence=str(raw.get("evidence") or ""),
        hint_lines=_hint_lines(raw, where),
    )


def _hint_lines(raw: dict, where: str) -> list[int]:
    """Line numbers a label points at (``line``/``lines``: 12, [12, 40] or "12-15")."""
    hint = raw.get("lines", raw.get("line"))
    if hint is None:
        return []
    items = hint if isinstance(hint, list) else [hint]
    lines: list[int] = []
    for item in items:
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", str(item))
        if not match:
            raise CorpusError(f"{where}: line hint {item!r} is not a number or range A-B")
        first = int(match.group(1))
        last = int(match.group(2) or first)
        lines.extend(range(first, min(last, first + 20) + 1))
    return lines


# --------------------------------------------------------------------------- checking


def check_in_process(scripts: list[Path]) -> dict[Path, dict]:
    """``golf-check check SCRIPT`` per script, as report JSON dicts."""
    from harness.static.checker import check_paths

    out = {}
    for script in scripts:
        try:
            report = check_paths([script])
        except Exception as exc:  # a checker bug is a result to report, not a reason to stop
            error = f"checker crashed: {type(exc).__name__}: {exc}"
            out[script] = {"verdict": "error", "findings": [], "error": error}
            continue
        if report.files:
            out[script] = report.files[0].to_json()
        else:
            out[script] = {"verdict": "error", "findings": [], "error": "; ".join(report.errors)}
    return out


def check_with_cli(golf_check: str, scripts: list[Path]) -> dict[Path, dict]:
    """The same through an installed command (another version, another interpreter)."""
    out = {}
    for script in scripts:
        try:
            proc = subprocess.run(
                [golf_check, "check", "--format", "json", str(script)],
                capture_output=True,
                text=True,
                timeout=300,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise CorpusError(f"{golf_check}: could not run ({exc})") from None
        try:
            files = json.loads(proc.stdout)["files"]
        except (json.JSONDecodeError, KeyError, TypeError):
            files = []
        if files:
            out[script] = files[0]
        else:
            why = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
            out[script] = {"verdict": "error", "findings": [], "error": why}
    return out


# --------------------------------------------------------------------------- scoring


def _counted(result: dict, severity: str | None = None) -> list[dict]:
    return [
        f
        for f in result.get("findings", [])
        if not f.get("suppressed") and (severity is None or f.get("severity") == severity)
    ]


def _brief(finding: dict) -> dict:
    return {
        "rule": finding.get("rule"),
        "condition": finding.get("condition"),
        "severity": finding.get("severity"),
        "confidence": finding.get("confidence"),
        "line": finding.get("line"),
        "message": " ".join(str(finding.get("message", "")).split()),
    }


def _strongest_short_of_error(result: dict, expected: list[str], limit: int = 3) -> list[dict]:
    """Warnings and infos, those of an expected condition first, then by severity, confidence."""
    rest = [f for f in _counted(result) if f.get("severity") != "error"]
    rest.sort(
        key=lambda f: (
            f.get("condition") not in expected,
            _SEVERITY_RANK.get(f.get("severity"), 9),
            _CONFIDENCE_RANK.get(f.get("confidence"), 9),
            f.get("line") or 0,
        )
    )
    return [_brief(f) for f in rest[:limit]]


def _source_lines(script: Path, lines: list[int]) -> list[dict]:
    try:
        text = script.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    return [{"line": n, "text": text[n - 1].strip()} for n in lines if 0 < n <= len(text)]


def score(entries: list[Entry], results: dict[Path, dict]) -> dict:
    """Summary, per-condition confusion table, and one row per miss and per false fail."""
    seen = {f.get("condition") for r in results.values() for f in _counted(r, "error")}
    seen |= {c for e in entries for c in e.expected}
    conditions = list(CONDITIONS) + sorted(c for c in seen - set(CONDITIONS) if c)
    table = {
        c: {"expected": 0, "caught": 0, "missed": 0, "false_errors": 0, "unexpected_errors": 0}
        for c in conditions
    }
    summary = {
        "legal": 0,
        "legal_failed": 0,
        "legal_unreadable": 0,
        "illegal": 0,
        "illegal_failed": 0,
        "illegal_right_condition": 0,
        "not_statically_visible": 0,
    }
    rows, scripts = [], []
    for e in entries:
        result = results[e.script]
        verdict = result.get("verdict", "error")
        errors = _counted(result, "error")
        got = sorted({f.get("condition") for f in errors if f.get("condition")})
        scripts.append({"name": e.name, "label": e.label, "verdict": verdict, "errors": got})
        row = {
            "name": e.name,
            "script": str(e.script),
            "label": e.label,
            "expected": e.expected,
            "verdict": verdict,
            "error_conditions": got,
        }
        if result.get("error"):
            row["load_error"] = " ".join(str(result["error"]).split())
        if e.label == "legal":
            summary["legal"] += 1
            for c in got:
                table[c]["false_errors"] += 1
            if verdict in FAILING:
                summary["legal_failed"] += 1
                summary["legal_unreadable"] += verdict == "error"
                rows.append({"kind": "false_fail", **row, "findings": [_brief(f) for f in errors]})
            continue
        if not e.visible:
            summary["not_statically_visible"] += 1
            continue
        summary["illegal"] += 1
        for c in got:
            if c not in e.expected:
                table[c]["unexpected_errors"] += 1
        for c in e.expected:
            table[c]["expected"] += 1
            table[c]["caught" if c in got else "missed"] += 1
        caught = verdict == "fail"
        summary["illegal_failed"] += caught
        if caught and set(got) & set(e.expected):
            summary["illegal_right_condition"] += 1
            continue
        rows.append(
            {
                "kind": "miss",
                **row,
                "violations": e.violations,
                "evidence": e.evidence,
                "findings": [_brief(f) for f in errors],  # the wrong-condition errors, if any
                "strongest_other": _strongest_short_of_error(result, e.expected),
                "hint_lines": _source_lines(e.script, e.hint_lines),
            }
        )
    return {"summary": summary, "conditions": table, "rows": rows, "scripts": scripts}


# --------------------------------------------------------------------------- rendering


def _pct(n: int, d: int) -> str:
    return f"{n}/{d}" + (f" ({100 * n / d:.0f}%)" if d else "")


def summary_line(s: dict) -> str:
    return (
        f"legal failed {s['legal_failed']}/{s['legal']}; illegal failed "
        f"{s['illegal_failed']}/{s['illegal']}, for an expected condition "
        f"{s['illegal_right_condition']}/{s['illegal']}"
    )


def _finding_text(f: dict, message: bool = True) -> str:
    head = f"{f['rule']}@{f['line']}"
    if f.get("severity") != "error":
        head += f" ({f['severity']}, {f['confidence']})"
    return f"{head}: {_clip(f['message'])}" if message else head


def _clip(text: str, width: int = 150) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def render_text(scored: dict, corpus: Path, show_rows: bool) -> str:
    s = scored["summary"]
    out = [
        f"corpus {corpus}: {s['legal']} legal, {s['illegal'] + s['not_statically_visible']} "
        f"illegal ({s['not_statically_visible']} not statically visible, left out)",
        summary_line(s),
        "",
        f"{'condition':<10}{'expected':>9}{'caught':>8}{'missed':>8}"
        f"{'false err (legal)':>19}{'unexpected (illegal)':>22}",
    ]
    for c, row in scored["conditions"].items():
        out.append(
            f"{c:<10}{row['expected']:>9}{row['caught']:>8}{row['missed']:>8}"
            f"{row['false_errors']:>19}{row['unexpected_errors']:>22}"
        )
    if s["legal_unreadable"]:
        out.append(f"(legal scripts failed as unreadable: {s['legal_unreadable']})")
    if show_rows and scored["rows"]:
        out.append("")
        for row in scored["rows"]:
            out.extend(_row_text(row))
    return "\n".join(out)


def _row_text(row: dict) -> list[str]:
    if row["kind"] == "false_fail":
        lines = [f"FALSE FAIL {row['name']}: verdict {row['verdict']}"]
        if row.get("load_error"):
            lines.append(f"    unreadable: {_clip(row['load_error'])}")
        lines.extend(f"    {_finding_text(f)}" for f in row["findings"])
        return lines
    want = "/".join(row["expected"])
    lines = [
        f"MISS {row['name']} (want {want}): verdict {row['verdict']}, "
        f"errors {row['error_conditions'] or 'none'}"
    ]
    if row.get("load_error"):
        lines.append(f"    unreadable: {_clip(row['load_error'])}")
    lines.extend(f"    wrong condition: {_finding_text(f)}" for f in row["findings"])
    if row["violations"]:
        lines.append(f"    label: {', '.join(row['violations'])}")
    for hint in row["hint_lines"]:
        lines.append(f"    should flag line {hint['line']}: {_clip(hint['text'], 110)}")
    if not row["hint_lines"] and row["evidence"]:
        lines.append(f"    evidence: {_clip(row['evidence'], 200)}")
    lines.extend(f"    strongest: {_finding_text(f)}" for f in row["strongest_other"])
    if not row["strongest_other"] and not row["findings"]:
        lines.append("    no findings at all")
    return lines


def render_markdown(scored: dict, command: str) -> str:
    """The figures block of docs/accuracy.md: rule ids and lines only, no code from the corpus."""
    s = scored["summary"]
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    out = [
        BEGIN,
        f"Command: `{command}` ({when}, {_revision()}, Python {sys.version.split()[0]}).",
        "",
        "| measure | result |",
        "|---|---:|",
        f"| legal scripts failed (verdict fail or error) | {_pct(s['legal_failed'], s['legal'])} |",
        f"| of which unreadable (verdict error) | {s['legal_unreadable']} |",
        f"| statically visible illegal scripts failed | "
        f"{_pct(s['illegal_failed'], s['illegal'])} |",
        f"| ... failed for an expected condition | "
        f"{_pct(s['illegal_right_condition'], s['illegal'])} |",
        f"| illegal scripts left out (not statically visible) | {s['not_statically_visible']} |",
        "",
        "| condition | illegal scripts expecting it | caught (error of it) | missed | "
        "legal scripts with a false error of it | illegal scripts with an unexpected error of it |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for c, row in scored["conditions"].items():
        out.append(
            f"| {c} | {row['expected']} | {row['caught']} | {row['missed']} | "
            f"{row['false_errors']} | {row['unexpected_errors']} |"
        )
    false_fails = [r for r in scored["rows"] if r["kind"] == "false_fail"]
    misses = [r for r in scored["rows"] if r["kind"] == "miss"]
    out += ["", f"False fails ({len(false_fails)}):", ""]
    if false_fails:
        out += ["| legal script | verdict | errors (rule@line) |", "|---|---|---|"]
        for r in false_fails:
            what = "unreadable: " + _md(r["load_error"]) if r.get("load_error") else ""
            what += _rules_at(r["findings"])
            out.append(f"| {r['name']} | {r['verdict']} | {what} |")
    out += ["", f"Misses ({len(misses)}):", ""]
    if misses:
        out += [
            "| illegal script | wanted | verdict | errors it got (rule@line) "
            "| strongest findings short of an error |",
            "|---|---|---|---|---|",
        ]
        for r in misses:
            got = _rules_at(r["findings"]) or ("unreadable" if r.get("load_error") else "none")
            other = _rules_at(r["strongest_other"], severity=True) or "none"
            out.append(
                f"| {r['name']} | {'/'.join(r['expected'])} | {r['verdict']} | {got} | {other} |"
            )
    out.append(END)
    return "\n".join(out)


def _md(text: str) -> str:
    """A load error as table text: the checker's own words, clipped, pipes escaped."""
    return _clip(text, 90).replace("|", "\\|")


def _rules_at(findings: list[dict], severity: bool = False) -> str:
    parts = []
    for f in findings:
        text = f"`{f['rule']}@{f['line']}`"
        parts.append(f"{text} ({f['severity']})" if severity else text)
    return ", ".join(parts)


def _revision() -> str:
    """The commit measured, and whether checker code had uncommitted edits."""
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "harness", "rules"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "revision unknown"
    if not head:
        return "revision unknown"
    return f"commit {head}" + (" plus uncommitted checker edits" if dirty else "")


def update_doc(doc: Path, block: str) -> None:
    try:
        text = doc.read_text(encoding="utf-8")
    except OSError as exc:
        raise CorpusError(f"{doc}: cannot read ({exc.strerror})") from None
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise CorpusError(f"{doc}: no bench_corpus begin/end markers to replace between")
    doc.write_text(text[:start] + block + text[end + len(END) :], encoding="utf-8")


def _command(argv: list[str]) -> str:
    """The command line as typed from the project root (interpreter path made relative)."""
    python = os.path.relpath(sys.executable) if sys.executable else "python"
    if python.startswith("../..") or not python:
        python = "python"
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--update":  # writing the block into a doc is --markdown's output
            skip = True
        if arg == "--update" or arg.startswith("--update="):
            arg = "--markdown"
        kept.append(arg)
    return shlex.join([python, "bench/bench_corpus.py", *kept])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", type=Path, help="folder holding labels.json and the scripts")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--json", action="store_true", help="machine-readable output")
    mode.add_argument("--markdown", action="store_true", help="the docs/accuracy.md block")
    mode.add_argument("--update", type=Path, metavar="DOC", help="rewrite the block in DOC")
    ap.add_argument(
        "--rows",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="one row per miss and false fail (default on)",
    )
    ap.add_argument("--cli", metavar="GOLF_CHECK", help="run this command instead of in-process")
    args = ap.parse_args(argv)
    try:
        entries = load_labels(args.corpus)
        scripts = list(dict.fromkeys(e.script for e in entries))
        started = time.perf_counter()
        if args.cli:
            results = check_with_cli(args.cli, scripts)
        else:
            results = check_in_process(scripts)
        elapsed = time.perf_counter() - started
        scored = score(entries, results)
        if args.json:
            scored["corpus"] = str(args.corpus)
            scored["check_seconds"] = round(elapsed, 2)
            if not args.rows:
                scored.pop("rows")
            print(json.dumps(scored, indent=1))
        elif args.markdown or args.update:
            block = render_markdown(scored, _command(argv))
            if args.update:
                update_doc(args.update, block)
                print(f"{args.update}: figures block updated ({summary_line(scored['summary'])})")
            else:
                print(block)
        else:
            print(render_text(scored, args.corpus, args.rows))
            print(f"\nchecked {len(scripts)} scripts in {elapsed:.1f} s")
    except CorpusError as exc:
        print(f"bench_corpus: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
