"""Render a golf-check pull-request comment (Markdown) as a standalone HTML page.

A layout preview, not GitHub's renderer: CommonMark plus GitHub's tables and strikethrough
(markdown-it, which rich already installs), in a column as wide as a GitHub comment, so a
headless browser screenshot shows how tall the comment is and whether anything overflows.

    python docs/github/preview_comment.py comment.md comment.html
    chromium --headless --no-sandbox --hide-scrollbars --window-size=820,1400 \
        --screenshot=comment.png comment.html
"""

from __future__ import annotations

import sys
from pathlib import Path

from markdown_it import MarkdownIt

# Close to GitHub's comment styles: system fonts, 14 px, 780 px column, bordered tables that
# scroll sideways instead of widening the page.
STYLE = """
body { margin: 0; background: #fff; }
.comment { box-sizing: border-box; width: 780px; margin: 16px; padding: 16px;
  border: 1px solid #d0d7de; border-radius: 6px; color: #1f2328;
  font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif,
  "Noto Color Emoji"; }
h2 { font-size: 1.5em; border-bottom: 1px solid #d0d7de; padding-bottom: .3em; margin-top: 0; }
h3 { font-size: 1.25em; }
code { font: 85% ui-monospace, "DejaVu Sans Mono", monospace; background: #eff1f3;
  padding: .2em .4em; border-radius: 6px; }
a { color: #0969da; text-decoration: none; }
table { display: block; max-width: 100%; overflow: auto; border-collapse: collapse; }
th, td { border: 1px solid #d0d7de; padding: 6px 13px; }
details { margin: 8px 0; }
summary { cursor: pointer; }
"""


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[-3], file=sys.stderr)
        return 2
    markdown = Path(argv[1]).read_text(encoding="utf-8")
    body = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    html = (
        '<!doctype html><meta charset="utf-8"><title>golf-check comment</title>'
        f"<style>{STYLE}</style><div class=comment>{body.render(markdown)}</div>"
    )
    Path(argv[2]).write_text(html, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
