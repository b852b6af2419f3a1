"""What every command shares below the command line: ``option``, which declares an option the
way all of them show it, the report options (``--format``, ``--output``, ``--color``,
``--quiet``, ``--repo-root``, ``--strict``) and ``emit``, which renders a report, writes it and
exits with its code.

The commands import this module; ``harness/cli.py`` only groups the commands and loads each
one when it is used, so nothing here imports a command.
"""

from __future__ import annotations

import os
import sys

import click

from golf_check.harness.errors import InputError
from golf_check.harness.progress import isatty
from golf_check.harness.report import (
    FORMATS,
    RenderOptions,
    Report,
    find_repo_root,
    input_errors,
    render,
)


def option(*param_decls: str, help: str, default: object = None, **settings):
    """A click option that shows its default in ``--help`` whenever it has one."""
    return click.option(
        *param_decls, default=default, show_default=default is not None, help=help, **settings
    )


def options(*decorators):
    """One decorator for several options, listed in the order ``--help`` shows them."""

    def decorate(func):
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return decorate


# Options shared by the commands that render a report.
def format_option():
    return option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default="text",
        callback=_check_format,
        help="Output format: text for a terminal, concise (path:line:col: RULE message), "
        "github (workflow annotations), markdown for a PR comment, json, sarif, "
        "html (one self-contained page with plots).",
    )


def _check_format(ctx: click.Context, param: click.Parameter, value: str) -> str:
    # Refused before any work starts (a `run` takes minutes), not when the report is drawn.
    if value == "html":
        from golf_check.harness.html_report import require_matplotlib

        require_matplotlib()
    return value


def strict_option():
    return click.option(
        "--strict", is_flag=True, help="Treat warnings as failures (exit 1 on any warning)."
    )


def output_option():
    """``--output`` plus the options that change only how a report is shown (``--color``,
    ``--quiet``, ``--repo-root``); ``emit`` reads those from the click context, so a command
    gets all of them from this one decorator without naming them in its signature."""

    def remember(ctx: click.Context, param: click.Parameter, value: object) -> object:
        ctx.meta[f"golf_check.{param.name}"] = value
        return value

    return options(
        option(
            "--output",
            "-o",
            type=click.Path(dir_okay=False, writable=True),
            help="Write the rendered report to this file instead of standard output.",
        ),
        option(
            "--color",
            type=click.Choice(["auto", "always", "never"]),
            default="auto",
            expose_value=False,
            callback=remember,
            help="Colour the text output; auto honours NO_COLOR and FORCE_COLOR.",
        ),
        click.option(
            "--quiet",
            "-q",
            is_flag=True,
            expose_value=False,
            callback=remember,
            help="Print the findings only: no header, tables, notes or summary.",
        ),
        option(
            "--repo-root",
            type=click.Path(file_okay=False),
            expose_value=False,
            callback=remember,
            help="SARIF and github-annotation paths are relative to this folder [default: the "
            "git top level of the input, else the working directory].",
        ),
    )


def chosen(name: str) -> object:
    """What the command line gave for one of ``output_option``'s display options (``color``,
    ``quiet``, ``repo_root``); None outside a command."""
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get(f"golf_check.{name}") if ctx is not None else None


def use_color(choice: str, to_terminal: bool) -> bool:
    """--color always/never win; auto: NO_COLOR (any value) off, FORCE_COLOR on, else a tty."""
    if choice in ("always", "never"):
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return to_terminal


def render_options(report: Report, fmt: str, output: str | None = None) -> RenderOptions:
    """The display options the user chose on the command line (see ``output_option``)."""
    options = RenderOptions(
        color=fmt == "text"
        and use_color(chosen("color") or "auto", output is None and isatty(sys.stdout)),
        quiet=bool(chosen("quiet")),
        # On a terminal, input errors go to standard error only (emit writes them there).
        show_errors=output is not None,
        base=report.paths_relative_to,
    )
    if fmt in ("sarif", "github"):  # GitHub resolves both against the repository root
        root = chosen("repo_root")
        options.repo_root = os.path.abspath(root) if root else find_repo_root(_input(report))
    return options


def _input(report: Report) -> str:
    """A path the report was made from: where the repository root is looked for."""
    if report.paths_relative_to:
        return report.paths_relative_to
    if report.files:
        return report.files[0].path
    first = report.target.split(" ")[0] if report.target else ""
    return first if first and os.path.exists(first) else "."


def emit(report: Report, fmt: str, output: str | None = None) -> None:
    """Render ``report``, write it, and exit with the report's exit code.

    Input errors always go to standard error as one line each, whatever the format, so a
    script reading standard output gets the report and nothing else.
    """
    for message in input_errors(report):
        click.echo(f"golf-check: error: {message}", err=True)
    options = render_options(report, fmt, output)
    text = render(report, fmt, options=options)
    if output:
        try:
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise InputError(f"cannot write report to {output}: {exc.strerror}") from None
    else:
        # click.echo drops escape codes on a pipe unless told the colour was asked for.
        click.echo(text, nl=False, color=options.color)
    sys.exit(report.exit_code)
