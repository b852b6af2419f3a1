"""`--format html`: one self-contained page with the verdict, findings and their source
excerpts, tables and (verify, run) per-seed plots; inert whatever the input's names hold."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

from golf_cli import golf_check

from golf_check.harness.html_report import render_html  # noqa: E402
from golf_check.harness.report import Finding, Report  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "tests" / "fixtures" / "records" / "2026-04-09_A2_Muon097_3Seed"
TWINS = ROOT / "tests" / "static" / "twins"
ILLEGAL = TWINS / "C3.pretrain-on-val" / "illegal_logged_epochs.py"  # finding at line 29
TINY_LM = ROOT / "tests" / "runtime" / "candidates" / "tiny_lm.py"
HOSTILE = "<img src=x onerror=alert(1)> \"q\" 'a' </script><script>alert(2)</script>"
# Every tag the page itself writes, and those matplotlib's SVG uses; anything else is injected.
PAGE_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "main",
    "header",
    "h1",
    "h2",
    "h3",
    "p",
    "span",
    "b",
    "i",
    "code",
    "pre",
    "section",
    "ul",
    "li",
    "div",
    "a",
    "details",
    "summary",
    "table",
    "caption",
    "tr",
    "th",
    "td",
    "dl",
    "dt",
    "dd",
    "figure",
    "figcaption",
    "footer",
}
SVG_TAGS = {"svg", "defs", "g", "path", "text", "use", "clippath", "rect", "clipPath"}
# The aria labels of the two plots of a folder, in page order.
PLOTS = ["val_bpb per seed", "train and eval time per seed against the budgets"]


class Page(HTMLParser):
    """Every element, attribute and piece of text of a page, as a browser's parser sees it."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for t, attrs in self.tags if t == tag]

    @property
    def ids(self) -> list[str]:
        return [a["id"] for _, a in self.tags if a.get("id")]


def golf(*args, cwd=None, env=None, timeout=300) -> subprocess.CompletedProcess:
    return golf_check(*args, cwd=cwd or ROOT, env=env, timeout=timeout)


def assert_inert(page: Page) -> None:
    """Only the page's own elements, no event handlers, nothing fetched at view time."""
    for tag, attrs in page.tags:
        assert tag in PAGE_TAGS | SVG_TAGS, f"unexpected <{tag}> in the page"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event handler {name} on <{tag}>"
            assert name not in ("src", "srcset", "action", "formaction", "background")
            if name in ("href", "xlink:href") and tag != "a":
                assert value.startswith("#"), f"<{tag} {name}={value!r}> points outside"
            if name == "href" and tag == "a":
                assert value.startswith(("#", "https://github.com/openai/parameter-golf"))
    for attrs in page.named("style") + [a for _, a in page.tags if a.get("style")]:
        assert "url(http" not in str(attrs)


def test_verify_report_has_verdict_findings_excerpts_tables_and_plots(tmp_path):
    out = tmp_path / "report.html"
    done = golf("verify", RECORD, "--format", "html", "-o", out)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    text = out.read_text(encoding="utf-8")
    page = Page(text)
    assert_inert(page)
    # In that order: verdict, findings, per-seed table, plots, the rules explained.
    marks = [
        "golf-check verify: <span>WARN</span>",
        "<h2>Findings</h2>",
        "Per-seed evidence (recomputed from the logs)",
        "<h2>Per-seed plots</h2>",
        "<h2>Rules referenced</h2>",
    ]
    positions = [text.index(m) for m in marks]
    assert positions == sorted(positions)
    # The log excerpt around the finding's line 152, that line marked.
    assert '<span class="hit"><i>152</i>stopping_early: wallclock_cap train_time: 588052ms' in text
    assert "<i>150</i>" in text and "<i>154</i>" in text
    # Two plots, each an inline SVG with drawn marks and its legend: the claim and the budgets.
    svgs = page.named("svg")
    assert [s["aria-label"] for s in svgs] == PLOTS
    body = "".join(page.text)
    assert "claimed 1.07983" in body and "mean of 3 seed(s) 1.07983" in body
    assert "budget 600 s (each)" in body
    for seed in ("seed 0", "seed 1234", "seed 42"):
        assert seed in body
    # Every in-page link lands on an element of the page, and no id is used twice.
    ids = page.ids
    assert len(ids) == len(set(ids))
    hrefs = [a.get("href") or a.get("xlink:href") for _, a in page.tags]
    for href in (h for h in hrefs if h and h.startswith("#")):
        assert href[1:] in ids, f"dangling link {href}"
    rule_links = [a["href"] for a in page.named("a") if a["href"].startswith("#rule-")]
    assert "#rule-BUDGET.gptq-in-train" in rule_links


def test_html_goes_to_standard_output_without_o():
    done = golf("verify", RECORD, "--format", "html")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("<!DOCTYPE html>") and done.stdout.rstrip().endswith("</html>")
    assert "Content-Security-Policy" in done.stdout and "default-src 'none'" in done.stdout


def test_check_report_shows_the_source_around_each_finding(tmp_path):
    script = tmp_path / "train_gpt.py"
    shutil.copy(ILLEGAL, script)
    done = golf("check", script, "--format", "html", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    page = Page(done.stdout)
    assert_inert(page)
    lines = ILLEGAL.read_text().splitlines()
    assert "ttt_adapt(model, val_tokens)" in lines[28]
    excerpt = done.stdout.split('<pre class="excerpt">', 1)[1].split("</pre>", 1)[0]
    for number in range(27, 31):  # the file ends at line 30
        assert f"<i>{number}</i>" in excerpt
    assert '<span class="hit"><i>29</i>' in excerpt and "ttt_adapt(model, val_tokens)" in excerpt
    assert 'href="#rule-C3.pretrain-on-val"' in done.stdout
    assert "Verdict per script (1)" in done.stdout
    assert "<h2>Per-seed plots</h2>" not in done.stdout  # plots are verify's and run's


def test_no_excerpt_when_the_file_line_is_not_the_finding(tmp_path):
    """A decoded wrapper's line numbers, or a work tree that is not the commit ci read, point
    at other text: the evidence is shown instead of a misleading excerpt."""
    script = tmp_path / "train_gpt.py"
    script.write_text("import os\nprint('something else')\nx = 1\n")
    finding = Finding(
        rule="C3.pretrain-on-val",
        condition="C3",
        severity="error",
        confidence="high",
        message="adapts on validation data",
        file=str(script),
        line=2,
        evidence="ttt_adapt(model, val_tokens)",
    )
    text = render_html(Report(command="check", findings=[finding]))
    assert '<pre class="excerpt">' not in text
    assert "<pre>ttt_adapt(model, val_tokens)</pre>" in text
    finding.evidence = "print('something else')"
    assert '<span class="hit"><i>2</i>print(&#x27;something else&#x27;)</span>' in render_html(
        Report(command="check", findings=[finding])
    )


def test_a_symlink_out_of_the_repository_is_not_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("line one\nTOP-SECRET-TOKEN\nlisted\n")
    repo = tmp_path / "repo"
    (repo / "records").mkdir(parents=True)
    os.symlink(secret, repo / "records" / "train.log")
    os.symlink(tmp_path, repo / "records" / "up")
    findings = [
        Finding(
            rule="BUDGET.train-time",
            condition="BUDGET",
            severity="error",
            confidence="high",
            message="over budget",
            file=name,
            line=2,
            evidence="listed",
            level="log",
        )
        for name in ("records/train.log", "records/up/secret.txt")
    ]
    report = Report(command="ci", findings=findings, paths_relative_to=str(repo))
    text = render_html(report)
    assert "TOP-SECRET-TOKEN" not in text and '<pre class="excerpt">' not in text
    # The same file inside the repository is read.
    (repo / "records" / "train.log").unlink()
    shutil.copy(secret, repo / "records" / "train.log")
    findings[0].evidence = "TOP-SECRET-TOKEN"
    assert "<i>2</i>TOP-SECRET-TOKEN" in render_html(report)


def test_hostile_names_and_log_lines_stay_text(tmp_path):
    # check: a script whose file name is markup.
    folder = tmp_path / "check"
    folder.mkdir()
    script = folder / f"{HOSTILE.replace('/', '_')}.py"
    shutil.copy(TWINS / "DATA.network" / "illegal_hf_download.py", script)
    done = golf("check", script, "--format", "html", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    page = Page(done.stdout)
    assert_inert(page)
    assert script.name in "".join(page.text)

    # verify: a record folder named as markup, whose log line next to a finding is markup too.
    records = tmp_path / "records"
    record = records / HOSTILE.replace("/", "_")
    shutil.copytree(RECORD, record)
    log = record / "train_seed0.log"
    lines = log.read_text().splitlines(keepends=True)
    lines[150] = f"{HOSTILE} <a href=https://e.invalid>x</a> \u202egnp.exe\n"  # line 151
    log.write_text("".join(lines))
    out = tmp_path / "v.html"
    done = golf("verify", records, "--format", "html", "-o", out, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    page = Page(text)
    assert_inert(page)
    body = "".join(page.text)
    assert record.name in body  # folder name as text: headings, tables, locations
    assert f"151{HOSTILE} <a href=https://e.invalid>x</a> <U+202E>gnp.exe" in body
    assert "\u202e" not in text  # the bidi override is shown, never obeyed
    assert [s["aria-label"] for s in page.named("svg")][:2] == PLOTS


def _run_report(train_times: list[float]) -> Report:
    seeds = [
        {"seed": seed, "val_bpb": 1.2 + i / 100, "train_time_s": t, "eval_time_s": 5.0}
        for i, (seed, t) in enumerate(zip([1, "$x^2$"], train_times, strict=True))
    ]
    data = {"seeds": seeds, "run": {"train_budget_s": 50.0, "eval_budget_s": 40.0}}
    return Report(command="run", data=data)


def test_run_plots_use_the_run_budgets_and_mark_a_bar_over_its_budget():
    text = render_html(_run_report([70.0, 30.0]))
    body = "".join(Page(text).text)
    assert "train budget 50 s" in body and "eval budget 40 s" in body
    assert "mean of 2 seed(s) 1.20500" in body and "claimed" not in body  # run claims nothing
    # A seed label is drawn as plain text: matplotlib would read "$x^2$" as mathematics.
    assert "seed ?x?2?" in body
    # The one training bar over 50 s is red, and the legend says what red means.
    assert text.count("fill: #cf222e") == 2 and "over budget" in body
    assert render_html(_run_report([45.0, 30.0])).count("fill: #cf222e") == 0


_BLOCK_MATPLOTLIB = """
import runpy, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ModuleNotFoundError("No module named 'matplotlib'", name=name)
sys.meta_path.insert(0, Block())
sys.argv = ["golf-check", *sys.argv[1:]]
runpy.run_module("golf_check.harness", run_name="__main__")
"""


@pytest.mark.parametrize(
    "args",
    [
        ("check", ILLEGAL),
        ("verify", RECORD),
        ("ci", "--repo", "."),
        ("run", "--seeds", "1", "--out", "{tmp}/out"),
    ],
)
def test_without_matplotlib_html_is_refused_with_the_install_command(tmp_path, args):
    args = [str(a).replace("{tmp}", str(tmp_path)) for a in args]
    out = tmp_path / "r.html"
    done = subprocess.run(
        [sys.executable, "-c", _BLOCK_MATPLOTLIB, *args, "--format", "html", "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "golf-check: error: --format html needs matplotlib, which the core install leaves "
        "out: pip install 'golf-check[html]'"
    ]
    assert not out.exists() and not (tmp_path / "out").exists()  # refused before any work


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")
def test_headless_chromium_renders_the_report_with_its_plots(tmp_path):
    report = tmp_path / "report.html"
    done = golf("verify", RECORD, "--format", "html", "-o", report)
    assert done.returncode == 0, done.stderr
    browser = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    shot = tmp_path / "shot.png"
    subprocess.run(
        [*browser, f"--screenshot={shot}", "--window-size=1280,2000", report.as_uri()],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    dom = subprocess.run(
        [*browser, "--dump-dom", report.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    ).stdout
    page = Page(dom)
    svgs = page.named("svg")
    assert [s.get("aria-label") for s in svgs] == PLOTS
    assert len(page.named("path")) > 20  # the marks, bars, axes and budget lines were kept
    assert "claimed 1.07983" in "".join(page.text)
    assert not page.named("script") and not page.named("img")


@pytest.mark.slow
def test_run_report_plots_scores_and_times_against_its_own_budgets(tmp_path):
    out = tmp_path / "report.html"
    done = golf(
        "run",
        TINY_LM,
        "--seeds",
        "1,2",
        "--audit",
        "trace",
        "--train-budget",
        "50",
        "--eval-budget",
        "40",
        "--out",
        tmp_path / "runs",
        "--format",
        "html",
        "-o",
        out,
        cwd=tmp_path,
        timeout=600,
    )
    assert done.returncode in (0, 1), done.stderr
    page = Page(out.read_text(encoding="utf-8"))
    assert_inert(page)
    assert [s["aria-label"] for s in page.named("svg")] == PLOTS
    body = "".join(page.text)
    assert "train budget 50 s" in body and "eval budget 40 s" in body
    assert "seed 1" in body and "seed 2" in body and "Per-seed scores" in body
