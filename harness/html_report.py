"""``--format html``: one self-contained page (verdict, findings with source excerpts, tables,
and for ``verify`` and ``run`` plots of the per-seed scores and times against the budgets).

The page needs nothing at view time: the CSS is inline, the plots are inline SVG drawn by
matplotlib (an optional dependency, the ``html`` extra), there are no scripts, fonts or images
to fetch, and a Content-Security-Policy forbids loading any. Every piece of text that comes
from the input (file names, messages that quote it, log and source excerpts, table cells) goes
through ``html.escape``; only the page's own markup is written raw.
"""

from __future__ import annotations

import html
import io
import math
import os
import re
import stat
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from golf_check.harness import __version__
from golf_check.harness.challenge import EVAL_BUDGET_S, TRAIN_BUDGET_S
from golf_check.harness.errors import InputError
from golf_check.harness.report import (
    Finding,
    RenderOptions,
    Report,
    Table,
    _fmt_cell,
    _location,
    grouped_findings,
    input_errors,
    summary_counts,
)

INSTALL_HINT = "pip install 'golf-check[html]'"
# The plot budgets verify judges against when a report does not carry its own (rules.md).
EXCERPT_RADIUS = 2  # lines shown before and after a finding's line
_EXCERPT_MAX_BYTES = 64 << 20  # never scan further into a file for an excerpt
_EXCERPT_MAX_LINE = 240  # characters of one excerpt line shown
_MAX_EXCERPTS = 200  # files opened for excerpts in one report
_MAX_PLOTTED_FOLDERS = 40


def require_matplotlib() -> None:
    """Refuse ``--format html`` up front, with the install command, when matplotlib is absent."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise InputError(
            f"--format html needs matplotlib, which the core install leaves out: {INSTALL_HINT}"
        ) from None


def _esc(value: Any) -> str:
    return html.escape(_visible(str(value)), quote=True)


def _visible(text: str) -> str:
    """Control and format characters in untrusted text are shown, not obeyed: a right-to-left
    override (a format character, like every bidirectional control) in a file name or log line
    could make the page say something else."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch not in "\t\n" and unicodedata.category(ch) in ("Cc", "Cf"):
            out.append(f"<U+{ord(ch):04X}>")
        else:
            out.append(ch)
    return "".join(out)


# ----------------------------------------------------------------------------- page


def render_html(report: Report, options: RenderOptions | None = None) -> str:
    """The whole report as one HTML document (a string)."""
    require_matplotlib()
    from golf_check.harness.rulebook import load_all

    opts = options or RenderOptions()
    base = opts.base or report.paths_relative_to
    catalogue = load_all().rules
    verdict = report.verdict
    parts: list[str] = []
    title = f"golf-check {report.command}: {verdict.upper()}"
    if report.target:
        title += f" \u2014 {report.target}"

    parts.append(
        f'<header class="verdict v-{verdict}"><h1>golf-check {_esc(report.command)}: '
        f"<span>{verdict.upper()}</span></h1>"
    )
    if report.target:
        parts.append(f'<p class="target"><code>{_esc(report.target)}</code></p>')
    errors_count, *other_counts = summary_counts(report)
    counts = " \u00b7 ".join([f"<b>{errors_count}</b>", *other_counts])
    parts.append(
        f'<p class="counts">{counts} \u00b7 exit code {report.exit_code}'
        f"{_STRICT if report.strict else ''}</p></header>"
    )

    errors = input_errors(report)
    if errors:
        parts.append('<section><h2>Input that could not be read</h2><ul class="errors">')
        parts.extend(f"<li>{_esc(e)}</li>" for e in errors)
        parts.append("</ul></section>")

    parts.append(_findings_section(report, catalogue, base))
    if report.files:
        parts.append(_files_section(report))
    if report.facts:
        parts.append('<section><h2>Facts</h2><dl class="facts">')
        for label, value in report.facts:
            parts.append(f"<dt>{_esc(label)}</dt><dd>{_esc(value)}</dd>")
        parts.append("</dl></section>")
    if report.tables:
        parts.append("<section><h2>Tables</h2>")
        parts.extend(_table(t) for t in report.tables)
        parts.append("</section>")
    if report.command in ("verify", "run"):
        parts.append(_plots_section(report))
    notes = report.all_notes()
    if notes:
        parts.append('<section><h2>Notes</h2><ul class="notes">')
        parts.extend(f"<li>{_esc(n)}</li>" for n in notes)
        parts.append("</ul></section>")
    parts.append(_rules_section(report, catalogue))
    parts.append(f"<footer>golf-check {_esc(__version__)}</footer>")
    return _page(_esc(title), "\n".join(p for p in parts if p))


_STRICT = " \u00b7 strict"


# No script, frame, font, image or stylesheet may load from anywhere: the page is complete.
_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'"
)


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        f"{body}\n</main>\n</body>\n</html>\n"
    )


_CSS = """
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#ffffff; --soft:#f6f8fa;
  --red:#cf222e; --amber:#9a6700; --green:#1a7f37; --blue:#0969da; }
* { box-sizing:border-box; }
body { margin:0; background:var(--soft); color:var(--fg);
  font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue","DejaVu Sans",sans-serif; }
main { max-width:1160px; margin:0 auto; padding:24px; }
section { background:var(--bg); border:1px solid var(--line); border-radius:8px;
  padding:16px 20px; margin:16px 0; }
h1 { font-size:22px; margin:0; } h2 { font-size:17px; margin:0 0 12px; }
h3 { font-size:14px; margin:16px 0 8px; overflow-wrap:anywhere; }
code, pre, .mono { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;
  font-size:12.5px; }
a { color:var(--blue); text-decoration:none; } a:hover { text-decoration:underline; }
.verdict { border-radius:8px; padding:16px 20px; color:#fff; }
.verdict p { margin:6px 0 0; } .verdict code { color:#fff; opacity:.92; overflow-wrap:anywhere; }
.v-pass { background:var(--green); } .v-warn { background:#bf8700; }
.v-fail { background:var(--red); } .v-error { background:#82071e; }
.finding { border-left:4px solid var(--line); padding:8px 12px; margin:10px 0;
  background:var(--soft); border-radius:0 6px 6px 0; }
.finding.s-error { border-color:var(--red); } .finding.s-warning { border-color:#d4a72c; }
.finding.s-info { border-color:var(--blue); } .finding.suppressed { opacity:.75; }
.finding .head { display:flex; flex-wrap:wrap; gap:4px 10px; align-items:baseline; }
.badge { font-size:11px; font-weight:600; text-transform:uppercase; padding:1px 7px;
  border-radius:10px; color:#fff; }
.b-error { background:var(--red); } .b-warning { background:#bf8700; }
.b-info { background:var(--blue); } .b-suppressed { background:var(--muted); }
.rule { font-weight:600; } .loc { color:var(--muted); overflow-wrap:anywhere; }
.meta { color:var(--muted); font-size:12px; }
.msg { margin:4px 0; overflow-wrap:anywhere; } .fix { color:var(--green); margin:4px 0; }
pre { margin:6px 0; padding:8px 10px; background:#fff; border:1px solid var(--line);
  border-radius:6px; overflow-x:auto; white-space:pre; }
pre.excerpt { padding:6px 0; } .excerpt span { display:block; padding:0 10px; }
.excerpt .hit { background:#fff1c2; } .excerpt i { font-style:normal; color:var(--muted);
  display:inline-block; min-width:4.5em; text-align:right; padding-right:1em; user-select:none; }
.tablewrap { overflow-x:auto; margin:6px 0 14px; }
table { border-collapse:collapse; font-size:13px; }
th, td { border:1px solid var(--line); padding:4px 8px; text-align:left; white-space:nowrap; }
th { background:var(--soft); } td.num { text-align:right; font-variant-numeric:tabular-nums; }
caption { text-align:left; font-weight:600; padding:4px 0; overflow-wrap:anywhere; }
dl.facts { display:grid; grid-template-columns:max-content 1fr; gap:4px 16px; margin:0; }
dl.facts dt { font-weight:600; } dl.facts dd { margin:0; overflow-wrap:anywhere; }
.plots { display:grid; grid-template-columns:repeat(auto-fit,minmax(420px,1fr)); gap:12px; }
figure { margin:0; } figure svg { width:100%; height:auto; display:block; }
figcaption { color:var(--muted); font-size:12px; }
details > summary { cursor:pointer; font-weight:600; margin:8px 0; }
.rules dt { font-weight:600; margin-top:10px; } .rules dd { margin:2px 0 0 0; }
.rules .explain { white-space:pre-wrap; background:var(--soft); border:none; }
ul { padding-left:20px; } li { overflow-wrap:anywhere; }
footer { color:var(--muted); font-size:12px; text-align:center; margin:8px 0 24px; }
"""


# ----------------------------------------------------------------------------- findings


def _findings_section(report: Report, catalogue: dict[str, Any], base: str | None) -> str:
    failing, warnings, rest = grouped_findings(report)
    if not (failing or warnings or rest):
        return "<section><h2>Findings</h2><p>No findings.</p></section>"
    reader = _ExcerptReader(report, base)
    out = ["<section><h2>Findings</h2>"]
    if failing:
        out.append(f"<h3>Failing ({len(failing)})</h3>")
        out.extend(_finding(f, catalogue, reader) for f in failing)
    if warnings:
        out.append(f"<h3>Warnings ({len(warnings)})</h3>")
        out.extend(_finding(f, catalogue, reader) for f in warnings)
    if rest:
        out.append(f"<details><summary>Info and suppressed ({len(rest)})</summary>")
        out.extend(_finding(f, catalogue, reader) for f in rest)
        out.append("</details>")
    out.append("</section>")
    return "\n".join(out)


def _rule_anchor(rule_id: str) -> str:
    return "rule-" + re.sub(r"[^A-Za-z0-9._-]", "_", rule_id)


def _finding(f: Finding, catalogue: dict[str, Any], reader: _ExcerptReader) -> str:
    kind = "suppressed" if f.suppressed else f.severity
    classes = f"finding s-{f.severity}" + (" suppressed" if f.suppressed else "")
    rule = (
        f'<a class="rule mono" href="#{_esc(_rule_anchor(f.rule))}">{_esc(f.rule)}</a>'
        if f.rule in catalogue
        else f'<span class="rule mono">{_esc(f.rule)}</span>'
    )
    head = [f'<span class="badge b-{kind}">{_esc(kind)}</span>', rule]
    if f.file:
        head.append(f'<code class="loc">{_esc(_location(f))}</code>')
    head.append(f'<span class="meta">{_esc(f.confidence)} confidence, {_esc(f.level)}</span>')
    out = [f'<div class="{classes}"><div class="head">{" ".join(head)}</div>']
    out.append(f'<p class="msg">{_esc(f.message)}</p>')
    excerpt = reader.excerpt(f)
    if excerpt:
        lines = []
        for number, text in excerpt:
            hit = ' class="hit"' if number == f.line else ""
            lines.append(f"<span{hit}><i>{number}</i>{_esc(text)}</span>")
        out.append('<pre class="excerpt">' + "".join(lines) + "</pre>")
    elif f.evidence and f.evidence.strip():
        shown = "\n".join(_clip(x) for x in f.evidence.strip().splitlines()[:6])
        out.append(f"<pre>{_esc(shown)}</pre>")
    if f.suppressed:
        out.append(f'<p class="meta">Suppressed: {_esc(f.suppression_reason or "no reason")}</p>')
    elif f.fix:
        out.append(f'<p class="fix">Fix: {_esc(f.fix)}</p>')
    out.append("</div>")
    return "".join(out)


def _clip(line: str) -> str:
    line = line.rstrip("\r\n")
    return line if len(line) <= _EXCERPT_MAX_LINE else line[: _EXCERPT_MAX_LINE - 1] + "\u2026"


class _ExcerptReader:
    """A few lines around a finding, read from the file when it is there and is the file the
    finding was made from.

    Only regular files are read (no FIFOs or devices; the last path component is never
    followed as a symlink), at most ``_EXCERPT_MAX_BYTES`` into each. When the report's paths
    are relative to a folder (``ci``'s repository, ``verify``'s parent folder), a file whose
    real path leaves that folder is not read, so a symlink committed in a pull request cannot
    pull host files into the page. An excerpt is shown only when the finding's evidence is
    one of its lines; without evidence to match, only for log evidence outside ``ci`` (whose
    findings come from git objects, which the work tree may not match). A decoded wrapper's
    line numbers do not match its file, and its evidence then keeps the excerpt out.
    """

    def __init__(self, report: Report, base: str | None) -> None:
        self.command = report.command
        self.base = base
        self.real_base = os.path.realpath(base) if base is not None else None
        self.opened = 0

    def _path(self, name: str) -> str | None:
        root = self.base or os.getcwd()
        path = name if os.path.isabs(name) else os.path.join(root, name)
        if self.real_base is not None:
            real = os.path.realpath(path)
            if os.path.commonpath([self.real_base, real]) != self.real_base:
                return None
        return path

    def excerpt(self, f: Finding) -> list[tuple[int, str]] | None:
        if not f.file or not f.line or f.line < 1 or self.opened >= _MAX_EXCERPTS:
            return None
        evidence = (f.evidence or "").strip().splitlines()
        wanted = evidence[0].strip()[:80] if evidence else ""
        # Without evidence to match, or where the file may not be the one the finding was
        # made from, the line number alone is not trusted.
        must_match = self.command == "ci" or f.level == "static"
        if must_match and not wanted:
            return None
        if not must_match and f.line <= 1:
            return None  # line 1 of a log or JSON file stands for "the file"
        path = self._path(f.file)
        if path is None:
            return None
        self.opened += 1
        window = _read_window(path, f.line, EXCERPT_RADIUS)
        if not window:
            return None
        if must_match:
            hit = next(text for number, text in window if number == f.line).strip()
            if not hit or (wanted not in hit and hit not in wanted):
                return None
        return window


def _read_window(path: str, line: int, radius: int) -> list[tuple[int, str]] | None:
    first, last = max(1, line - radius), line + radius
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            out: list[tuple[int, str]] = []
            number, scanned = 0, 0
            while number < last and scanned < _EXCERPT_MAX_BYTES:
                raw = fh.readline(_EXCERPT_MAX_LINE * 4)
                if not raw:
                    break
                scanned += len(raw)
                # A line longer than the cap: skip the rest of it so numbering stays right.
                while not raw.endswith(b"\n") and scanned < _EXCERPT_MAX_BYTES:
                    rest = fh.readline(1 << 16)
                    if not rest:
                        break
                    scanned += len(rest)
                    if rest.endswith(b"\n"):
                        break
                number += 1
                if number >= first:
                    out.append((number, _clip(raw.decode("utf-8", errors="replace"))))
    except OSError:
        return None
    finally:
        os.close(fd)
    if not any(n == line for n, _ in out):
        return None
    return out


# ----------------------------------------------------------------------------- tables


def _files_section(report: Report) -> str:
    rows = [
        f'<tr><td><span class="badge b-{_VERDICT_BADGE[fr.verdict]}">{fr.verdict}</span></td>'
        f'<td><code>{_esc(fr.path)}</code></td><td class="num">{len(fr.findings)}</td>'
        f"<td>{_esc(fr.error or '')}</td></tr>"
        for fr in report.files
    ]
    return (
        f'<section><h2>Verdict per script ({len(report.files)})</h2><div class="tablewrap">'
        "<table><tr><th>verdict</th><th>script</th><th>findings</th><th>error</th></tr>"
        + "".join(rows)
        + "</table></div></section>"
    )


_VERDICT_BADGE = {"pass": "info", "warn": "warning", "fail": "error", "error": "error"}


def _table(table: Table) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for _, h in table.columns)
    body = []
    for row in table.rows:
        cells = []
        for key, _ in table.columns:
            value = row.get(key)
            numeric = _num(value) is not None
            cls = ' class="num"' if numeric else ""
            cells.append(f"<td{cls}>{_esc(_fmt_cell(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<div class="tablewrap"><table><caption>{_esc(table.title)}</caption>'
        f"<tr>{head}</tr>{''.join(body)}</table></div>"
    )


# ----------------------------------------------------------------------------- plots


def _num(value: Any) -> float | None:
    """A finite number from report data, or None (strings like "600.038" count)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _seed_label(seed: Any) -> str:
    # Plot text is drawn by matplotlib, which reads $...$ as mathematics: keep it to a plain
    # label made of safe characters.
    if isinstance(seed, int) and not isinstance(seed, bool):
        return str(seed)
    text = re.sub(r"[^A-Za-z0-9_.+-]", "?", str(seed))[:16]
    return text or "?"


def _plot_groups(report: Report) -> list[tuple[str | None, dict[str, Any]]]:
    """(folder name or None, the data holding ``seeds`` and the claim) for each plot pair."""
    data = report.data if isinstance(report.data, dict) else {}
    folders = data.get("folders")
    if isinstance(folders, list):
        groups = [
            (str(f.get("folder", "")), f) for f in folders if isinstance(f, dict) and f.get("seeds")
        ]
        return groups
    if isinstance(data.get("seeds"), list) and data["seeds"]:
        return [(None, data)]
    return []


def _budgets(report: Report) -> tuple[float, float]:
    run = report.data.get("run") if isinstance(report.data, dict) else None
    run = run if isinstance(run, dict) else {}
    train = _num(run.get("train_budget_s")) or TRAIN_BUDGET_S
    evaluate = _num(run.get("eval_budget_s")) or EVAL_BUDGET_S
    return train, evaluate


def _plots_section(report: Report) -> str:
    groups = _plot_groups(report)
    if not groups:
        return ""
    train_budget, eval_budget = _budgets(report)
    out = ["<section><h2>Per-seed plots</h2>"]
    shown = groups[:_MAX_PLOTTED_FOLDERS]
    for index, (folder, data) in enumerate(shown):
        seeds = [s for s in data.get("seeds") or [] if isinstance(s, dict)]
        if folder is not None:
            out.append(f"<h3>{_esc(folder)}</h3>")
        claimed = _num(data.get("claimed_val_bpb"))
        svg_bpb = _bpb_plot(seeds, claimed, f"g{index}a")
        svg_time = _time_plot(seeds, train_budget, eval_budget, f"g{index}b")
        out.append('<div class="plots">')
        if svg_bpb:
            caption = "val_bpb per seed"
            caption += ", with the claimed val_bpb" if claimed is not None else ""
            caption += " and the mean of the seeds"
            out.append(
                f'<figure class="plot plot-bpb">{svg_bpb}<figcaption>{caption}'
                "</figcaption></figure>"
            )
        if svg_time:
            out.append(
                f'<figure class="plot plot-time">{svg_time}<figcaption>training and evaluation '
                f"time per seed against the budgets ({train_budget:g} s, {eval_budget:g} s)"
                "</figcaption></figure>"
            )
        if not svg_bpb and not svg_time:
            out.append("<p>No seed has a score or a time to plot.</p>")
        out.append("</div>")
    if len(groups) > len(shown):
        out.append(f"<p>Plots of the first {len(shown)} of {len(groups)} folders only.</p>")
    out.append("</section>")
    return "\n".join(out)


_BLUE, _ORANGE, _GREEN, _GREY, _RED = "#0969da", "#d1670a", "#2da44e", "#6e7781", "#cf222e"


# Fixed margins: constrained layout would cost as much again as drawing the figure.
_MARGINS = {"left": 0.18, "right": 0.98, "top": 0.9, "bottom": 0.1}


def _style() -> dict[str, Any]:
    return {
        "svg.fonttype": "none",  # text stays text: small, selectable, drawn in the page's font
        "svg.hashsalt": "golf-check",  # the same report gives the same SVG ids
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans", "Helvetica", "Arial"],
        "font.size": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": "#8c959f",
        "axes.grid": True,
        "grid.color": "#e5e8eb",
        "grid.linewidth": 0.8,
        "axes.axisbelow": True,
        "xtick.color": "#424a53",
        "ytick.color": "#424a53",
        "legend.frameon": False,
    }


@contextmanager
def _plot_axes() -> Iterator[tuple[Any, Any]]:
    """A figure of the page's plot size and style, and its one axes (the style holds while
    the plot is drawn and saved)."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_style()):
        fig = Figure(figsize=(5.6, 3.3))
        fig.subplots_adjust(**_MARGINS)
        yield fig, fig.add_subplot()


def _bpb_plot(seeds: list[dict[str, Any]], claimed: float | None, ids: str) -> str | None:
    points = [(_seed_label(s.get("seed")), _num(s.get("val_bpb"))) for s in seeds]
    points = [(label, v) for label, v in points if v is not None]
    if not points:
        return None
    from matplotlib.ticker import ScalarFormatter

    with _plot_axes() as (fig, ax):
        xs = list(range(len(points)))
        ys = [v for _, v in points]
        mean = sum(ys) / len(ys)
        ax.axhline(
            mean,
            color=_GREY,
            linestyle=":",
            linewidth=1.5,
            label=f"mean of {len(ys)} seed(s) {mean:.5f}",
        )
        if claimed is not None:
            ax.axhline(
                claimed,
                color=_ORANGE,
                linestyle="--",
                linewidth=1.8,
                label=f"claimed {claimed:.5f}",
            )
        ax.plot(xs, ys, "o", color=_BLUE, markersize=8, label="seed val_bpb", zorder=3)
        for x, y in zip(xs, ys, strict=True):
            ax.annotate(
                f"{y:.5f}",
                (x, y),
                textcoords="offset points",
                xytext=(0, 9),
                ha="center",
                fontsize=9,
                color="#1f2328",
            )
        values = ys + ([claimed] if claimed is not None else [])
        low, high = min(values), max(values)
        pad = max((high - low) * 0.35, 5e-4)
        ax.set_ylim(low - pad, high + pad * 1.6)
        ax.set_xlim(-0.6, len(xs) - 0.4)
        ax.set_xticks(xs, [f"seed {label}" for label, _ in points])
        formatter = ScalarFormatter(useOffset=False)
        formatter.set_scientific(False)
        ax.yaxis.set_major_formatter(formatter)
        ax.set_ylabel("val_bpb (lower is better)")
        ax.set_title("val_bpb per seed", loc="left", fontsize=11, fontweight="bold")
        ax.grid(axis="x", visible=False)
        ax.legend(loc="upper left", fontsize=8.5, ncols=1)
        return _svg(fig, ids, "val_bpb per seed")


def _time_plot(
    seeds: list[dict[str, Any]], train_budget: float, eval_budget: float, ids: str
) -> str | None:
    rows = [
        (_seed_label(s.get("seed")), _num(s.get("train_time_s")), _num(s.get("eval_time_s")))
        for s in seeds
    ]
    rows = [r for r in rows if r[1] is not None or r[2] is not None]
    if not rows:
        return None
    from matplotlib.patches import Patch

    with _plot_axes() as (fig, ax):
        xs = list(range(len(rows)))
        width = 0.36
        train = [r[1] or 0.0 for r in rows]
        evals = [r[2] or 0.0 for r in rows]
        bars_t = ax.bar([x - width / 2 for x in xs], train, width, color=_BLUE)
        bars_e = ax.bar([x + width / 2 for x in xs], evals, width, color=_GREEN)
        top = max([train_budget, eval_budget] + train + evals)
        over = False
        for bars, column, budget in ((bars_t, 1, train_budget), (bars_e, 2, eval_budget)):
            for bar, r in zip(bars, rows, strict=True):
                value = r[column]
                if value is not None and value > budget:
                    bar.set_color(_RED)
                    over = True
                x = bar.get_x() + bar.get_width() / 2
                text = "n/a" if value is None else f"{value:.1f}"
                # Inside a tall bar (clear of the budget line), above a short one.
                if bar.get_height() > 0.15 * top:
                    place = {"xytext": (0, -4), "va": "top", "color": "white", "fontweight": "bold"}
                else:
                    place = {"xytext": (0, 3), "va": "bottom", "color": "#1f2328"}
                ax.annotate(
                    text,
                    (x, bar.get_height()),
                    textcoords="offset points",
                    ha="center",
                    fontsize=8.5,
                    **place,
                )
        line = {"linestyle": "--", "linewidth": 1.5}
        if math.isclose(train_budget, eval_budget):
            budgets = [
                ax.axhline(
                    train_budget, color=_RED, label=f"budget {train_budget:g} s (each)", **line
                )
            ]
        else:
            budgets = [
                ax.axhline(
                    train_budget, color=_RED, label=f"train budget {train_budget:g} s", **line
                ),
                ax.axhline(
                    eval_budget, color=_ORANGE, label=f"eval budget {eval_budget:g} s", **line
                ),
            ]
        # Legend patches of their own: a bar container's entry takes its first bar's colour,
        # which is red when that bar is over its budget.
        handles = [*budgets, Patch(color=_BLUE, label="train"), Patch(color=_GREEN, label="eval")]
        if over:
            handles.append(Patch(color=_RED, label="over budget"))
        ax.legend(handles=handles, loc="upper left", fontsize=8.5, ncols=3)
        top *= 1.22 if len(handles) <= 3 else 1.4  # room for the legend above the bars
        ax.set_ylim(0, top)
        ax.set_xticks(xs, [f"seed {r[0]}" for r in rows])
        ax.set_ylabel("seconds")
        ax.set_title("train and eval time per seed", loc="left", fontsize=11, fontweight="bold")
        ax.grid(axis="x", visible=False)
        return _svg(fig, ids, "train and eval time per seed against the budgets")


_XML_PROLOGUE = re.compile(r"^.*?(?=<svg\b)", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_ID = re.compile(r'\bid="([^"]+)"')
_HREF = re.compile(r'href="#([^"]+)"')
_URL = re.compile(r"url\(#([^)]+)\)")


def _svg(fig: Any, ids: str, label: str) -> str:
    """The figure as an inline ``<svg>`` element, its ids prefixed so several plots on one page
    never share an id (a shared one would let a plot pick up another's marker or clip path)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = _XML_PROLOGUE.sub("", buf.getvalue(), count=1)
    svg = _METADATA.sub("", svg)
    svg = _ID.sub(lambda m: f'id="{ids}-{m.group(1)}"', svg)
    svg = _HREF.sub(lambda m: f'href="#{ids}-{m.group(1)}"', svg)
    svg = _URL.sub(lambda m: f"url(#{ids}-{m.group(1)})", svg)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{_esc(label)}" ', 1).strip()


# ----------------------------------------------------------------------------- rules


def _rules_section(report: Report, catalogue: dict[str, Any]) -> str:
    used = sorted({f.rule for f in report.all_findings() if f.rule in catalogue})
    if not used:
        return ""
    out = ['<section><h2>Rules referenced</h2><dl class="rules">']
    for rule_id in used:
        rule = catalogue[rule_id]
        out.append(
            f'<dt id="{_esc(_rule_anchor(rule_id))}"><code>{_esc(rule_id)}</code> '
            f"{_esc(rule.title)}</dt>"
        )
        out.append(f'<dd><pre class="explain">{_esc(rule.explanation.strip())}</pre>')
        sources = [s for s in rule.sources if s.startswith("https://")]
        if sources:
            links = ", ".join(f'<a href="{_esc(s)}">{_esc(s)}</a>' for s in sources)
            out.append(f'<p class="meta">Sources: {links}</p>')
        out.append(f'<p class="meta">More: <code>golf-check rules {_esc(rule_id)}</code></p></dd>')
    out.append("</dl></section>")
    return "\n".join(out)
