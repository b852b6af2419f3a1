"""``golf-check check PATH...``: read scripts (never run them) and report likely rule breaks."""

from __future__ import annotations

from pathlib import Path

import click

from golf_check.harness.output import emit, format_option, output_option, strict_option
from golf_check.harness.progress import command_counting
from golf_check.harness.rulebook import expand_selection


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--select", default=None, help="Only these rule ids or conditions (C3,DATA.network).")
@click.option("--ignore", default=None, help="Skip these rule ids or conditions.")
@click.option(
    "--env",
    "env",
    multiple=True,
    metavar="KEY=VAL",
    help="Judge the script as run with this environment setting (repeatable).",
)
@click.option(
    "--run-config",
    "run_configs",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="PATH",
    help="Judge the script under the configuration in PATH (repeatable; see below).",
)
@click.option(
    "--stdin-filename",
    default=None,
    metavar="NAME",
    help="The name to report a script read from standard input (PATH -) under.",
)
@format_option()
@strict_option()
@output_option()
def check(
    paths: tuple[Path, ...],
    select: str | None,
    ignore: str | None,
    env: tuple[str, ...],
    run_configs: tuple[Path, ...],
    stdin_filename: str | None,
    fmt: str,
    strict: bool,
    output: str | None,
) -> None:
    """Statically check submission scripts (files or folders) against the challenge rules.

    \b
    Never executes the script: self-extracting wrappers are decoded, not run.
    Suppress a finding with a reason:  # golf-check: ignore[RULE-ID] why it does not apply

    \b
    Gated paths are judged under the configuration the script ran with, not only its
    defaults: a finding on a path that configuration turns on is an error.
    A record folder (README.md, submission.json or logs beside the script) is read for it:
    the environment on its README's run command, submission.json settings, the
    hyperparameters its logs echo (precedence: logs > README > submission.json).
    --env KEY=VAL          set one environment variable (repeatable; wins over all)
    --run-config PATH      a JSON object {"KEY": value}, a README.md (its run command),
                           a .log/.txt log (its echoed hyperparameters), or KEY=VAL lines
                           (`export` and # comments allowed); later files win
    Example: golf-check check --run-config README.md train_gpt.py
    Exit codes: 0 pass, 1 an error-level finding (or any warning with --strict),
    2 unreadable input.
    """
    from golf_check.harness.static.checker import check_paths
    from golf_check.harness.static.inputs import prepare_inputs
    from golf_check.harness.static.runconfig import parse_env_options, parse_run_config_file

    paths, relabel = prepare_inputs(paths, stdin_filename)
    files = [p for p in paths if not p.is_dir()]
    script_name = files[0].name if len(files) == 1 else "train_gpt.py"
    config = None
    for path in run_configs:
        found = parse_run_config_file(path, script_name)
        config = found if config is None else config.merged(found)
    if env:
        options = parse_env_options(env)
        config = options if config is None else config.merged(options)
    with command_counting("checking"):  # a progress bar on stderr when it takes a while
        report = check_paths(
            paths,
            select=expand_selection(select),
            ignore=expand_selection(ignore),
            strict=strict,
            run_config=config,
        )
    relabel(report)
    emit(report, fmt, output)
