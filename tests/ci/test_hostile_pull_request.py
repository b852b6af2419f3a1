"""A pull request built to attack the gate: code that runs if anything imports or executes it,
and file names written as Markdown and HTML. The gate must run nothing and inject nothing."""

from __future__ import annotations

import json
import re

import pytest

from golf_check.harness.cli import main

HOSTILE = "@octocat <img src=x> **bold** [c](https:e.invalid).txt"


def _ci(challenge, *args: str) -> int:
    with pytest.raises(SystemExit) as exc:
        main(["ci", "--repo", str(challenge.root), "--base", "main", *args])
    return exc.value.code


def test_hostile_pull_request_executes_nothing_and_injects_nothing(challenge, tmp_path, capsys):
    marker = tmp_path / "pull-request-code-ran"
    payload = f"open({str(marker)!r}, 'w').write('ran')\n"
    challenge.fork()
    folder = challenge.submission()
    # Everything Python would pick up from a working directory or a path entry.
    for rel in ("pip/__main__.py", "pip/__init__.py", "sitecustomize.py", "harness/__init__.py"):
        challenge.write(f"{folder}/{rel}", payload)
        challenge.write(rel, payload)
    challenge.write(f"{folder}/evil.pth", f"import os; {payload}")
    challenge.write(f"{folder}/{HOSTILE}", "not code\n")
    challenge.commit()
    comment = tmp_path / "comment.md"
    head = challenge.git("rev-parse", "HEAD").strip()
    code = _ci(
        challenge,
        "--format",
        "json",
        "--comment-file",
        str(comment),
        "--repo-url",
        "https://github.com/owner/parameter-golf",
    )
    doc = json.loads(capsys.readouterr().out)
    assert code == 1  # files outside the folder, and code beside train_gpt.py, fail the gate
    assert not marker.exists()
    assert any(c["path"] == f"{folder}/{HOSTILE}" for c in doc["pull_request"]["changes"])

    from markdown_it import MarkdownIt

    md = comment.read_text()
    assert "octocat" in md  # the name is shown, as text
    html = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(md)
    assert "<img" not in html
    assert all("bold" not in s for s in re.findall(r"<strong>(.*?)</strong>", html))
    assert "<em>" not in html
    allowed = (
        "https://github.com/golf-check/golf-check/blob/main/docs/rules.md#",
        f"https://github.com/owner/parameter-golf/blob/{head}/",
    )
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs and all(h.startswith(allowed) for h in hrefs), hrefs
    text = re.sub(r"<[^>]+>", "", re.sub(r"<code>.*?</code>", "", html))
    assert not re.search(r"(?<![\w])@[A-Za-z0-9]", text)
    assert not re.search(r"https?://|www\.", text)
