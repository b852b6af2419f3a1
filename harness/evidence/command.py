"""``golf-check verify``: recompute a record folder's budgets and claims from its evidence."""

from __future__ import annotations

import click

from golf_check.harness.evidence.stats import POLICIES
from golf_check.harness.output import emit, format_option, output_option, strict_option
from golf_check.harness.progress import command_counting


@click.command()
@click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=False, dir_okay=True, file_okay=True)
)
@click.option(
    "--baseline",
    metavar="PATH|BPB",
    default=None,
    help="Compare against another record folder, a run report, or a val_bpb number.",
)
@click.option(
    "--policy",
    type=click.Choice(POLICIES),
    default="readme",
    show_default=True,
    help="Which significance policy gates: readme (0.005 nats at p<0.01) or leaderboard "
    "(one-sided Welch p<0.25).",
)
@click.option(
    "--headline",
    metavar="LINE-KIND",
    default=None,
    help="Score line kind to read per seed (e.g. quantized_sliding_window) instead of the "
    "last final score line.",
)
@format_option()
@strict_option()
@output_option()
def verify(
    paths: tuple[str, ...],
    baseline: str | None,
    policy: str,
    headline: str | None,
    fmt: str,
    strict: bool,
    output: str | None,
) -> None:
    """Verify a record folder, a train log, or a `golf-check run` JSON report.

    Several paths, or a folder of record folders (records/), are verified folder by
    folder, each with its own verdict; their logs are never averaged together.

    \b
    Reads every run log (found by content), recomputes per seed the headline score,
    training and evaluation time, artifact bytes, validation tokens and byte accounting,
    and checks them and the submission.json claims against the rules. Never runs code.
    """
    from golf_check.harness.evidence.verifier import verify_paths

    with command_counting("verifying"):  # a progress bar on stderr when it takes a while
        report = verify_paths(
            list(paths), baseline=baseline, policy=policy, headline=headline, strict=strict
        )
    emit(report, fmt, output)
