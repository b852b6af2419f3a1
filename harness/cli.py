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

from golf_check.harness import __version__
from golf_check.harness.errors import InputError

# name -> (module, attribute); the module defines a click command.
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("golf_check.harness.static.command", "check"),
    "verify": ("golf_check.harness.evidence.command", "verify"),
    "run": ("golf_check.harness.runtime.command", "run"),
    "ci": ("golf_check.harness.ci.command", "ci"),
    "data": ("golf_check.harness.data_command", "data"),
    "rules": ("golf_check.harness.rules_command", "rules"),
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
@click.pass_context
def cli(ctx: click.Context) -> None:
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

    `check` reads its defaults from [tool.golf-check] in the nearest pyproject.toml.
    """
    if ctx.invoked_subcommand == "check":
        from golf_check.harness.config import check_defaults, find_config

        path = find_config()
        if path is not None:
            check = ctx.command.get_command(ctx, "check")
            ctx.default_map = {"check": check_defaults(path, check)}


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
