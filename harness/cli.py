"""The ``golf-check`` command line.

Each subcommand lives beside the subsystem it drives and is imported only when used, so a
slow import (torch) never delays ``golf-check check``. Every command renders a ``Report``
and exits 0 (pass), 1 (a gate failed) or 2 (usage error or unreadable input).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

import click

from harness import __version__
from harness.errors import InputError
from harness.report import FORMATS, Report, render

# name -> (module, attribute); the module defines a click command.
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("harness.static.command", "check"),
    "verify": ("harness.evidence.command", "verify"),
    "run": ("harness.runtime.command", "run"),
    "ci": ("harness.ci.command", "ci"),
    "data": ("reference_model.command", "data"),
    "rules": ("harness.rules_command", "rules"),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if _module_exists(COMMANDS[name][0])]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS or not _module_exists(COMMANDS[name][0]):
            return None
        module, attr = COMMANDS[name]
        return getattr(importlib.import_module(module), attr)


def _module_exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its parent package is not there
        return False


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="golf-check")
def cli() -> None:
    """Audit Parameter Golf submissions: is this score legal, and is it real?

    \b
    check   read a train_gpt.py (never run it) and report rules it likely breaks
    verify  recompute a record folder's budgets and claims from its logs
    run     run a candidate under audit over several seeds and measure everything
    ci      gate a submission pull request (check + verify on the new folder)
    data    build the offline demo dataset and tokenizer
    rules   list the rules, or explain one: golf-check rules C3.pretrain-on-val

    Exit codes: 0 pass (warnings allowed unless --strict), 1 a gate failed,
    2 usage error or unreadable input.
    """


# Options shared by the commands that render a report.
def format_option(default: str = "text", choices: tuple[str, ...] = FORMATS):
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=default,
        show_default=True,
        help="Output format: text for a terminal, markdown for a PR comment, json, sarif.",
    )


def strict_option():
    return click.option(
        "--strict", is_flag=True, help="Treat warnings as failures (exit 1 on any warning)."
    )


def output_option():
    return click.option(
        "--output",
        "-o",
        type=click.Path(dir_okay=False, writable=True),
        default=None,
        help="Write the rendered report to this file instead of standard output.",
    )


def emit(report: Report, fmt: str, output: str | None = None) -> None:
    """Render ``report``, write it, and exit with the report's exit code."""
    color = fmt == "text" and output is None and sys.stdout.isatty()
    text = render(report, fmt, color=color)
    if output:
        try:
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise InputError(f"cannot write report to {output}: {exc.strerror}") from None
    else:
        click.echo(text, nl=False)
    sys.exit(report.exit_code)


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="golf-check", standalone_mode=False)
    except click.exceptions.Exit as exc:  # --help, --version
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("golf-check: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except InputError as exc:
        click.echo(f"golf-check: error: {exc}", err=True)
        sys.exit(2)
    except (OSError, UnicodeDecodeError) as exc:
        # Bad input that a subsystem did not anticipate still gets one line, not a traceback.
        click.echo(f"golf-check: error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("golf-check: interrupted", err=True)
        sys.exit(130)
    sys.exit(0)


if __name__ == "__main__":
    main()
