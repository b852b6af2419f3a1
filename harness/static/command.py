"""``golf-check check PATH...``: read scripts (never run them) and report likely rule breaks."""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli import emit, format_option, output_option, strict_option
from harness.rulebook import expand_selection


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--select", default=None, help="Only these rule ids or conditions (C3,DATA.network).")
@click.option("--ignore", default=None, help="Skip these rule ids or conditions.")
@format_option()
@strict_option()
@output_option()
def check(
    paths: tuple[Path, ...],
    select: str | None,
    ignore: str | None,
    fmt: str,
    strict: bool,
    output: str | None,
) -> None:
    """Statically check submission scripts (files or folders) against the challenge rules.

    \b
    Never executes the script: self-extracting wrappers are decoded, not run.
    Suppress a finding with a reason:  # golf-check: ignore[RULE-ID] why it does not apply
    Exit codes: 0 pass, 1 an error-level finding (or any warning with --strict),
    2 unreadable input.
    """
    from harness.static.checker import check_paths

    report = check_paths(
        paths, select=expand_selection(select), ignore=expand_selection(ignore), strict=strict
    )
    emit(report, fmt, output)
