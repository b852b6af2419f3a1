"""``golf-check ci``: gate a submission pull request in one command and one exit code."""

from __future__ import annotations

import click

from golf_check.harness.ci.gate import gate_pull_request
from golf_check.harness.ci.pull_request import DEFAULT_MAX_FILE_BYTES
from golf_check.harness.errors import InputError
from golf_check.harness.output import emit, format_option, option, output_option, strict_option
from golf_check.harness.report import Report, blob_url, render


def _write(path: str, text: str, what: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise InputError(f"cannot write the {what} to {path}: {exc.strerror}") from None


@click.command()
@option(
    "--repo",
    type=click.Path(file_okay=False),
    default=".",
    help="The challenge repository checkout (with the pull request's commits fetched).",
)
@option(
    "--base",
    help="The branch the pull request targets [default: origin/main, else main]. "
    "The diff starts at the merge-base of BASE and HEAD.",
)
@option("--head", help="The pull request's head commit [default: HEAD].")
@option(
    "--repo-url",
    envvar="GOLF_CHECK_REPO_URL",
    help="https URL of the repository on GitHub; the comment then links each finding to its "
    "file and line at the head commit.",
)
@format_option()
@output_option()
@option(
    "--comment-file",
    type=click.Path(dir_okay=False),
    help="Also write the Markdown summary (a pull-request comment) to this file.",
)
@option(
    "--sarif-file",
    type=click.Path(dir_okay=False),
    help="Also write SARIF 2.1.0 (for GitHub code scanning) to this file.",
)
@option(
    "--max-file-bytes",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_FILE_BYTES,
    help="Largest file a pull request may commit (declared binaries: up to 16,000,000).",
)
@strict_option()
def ci(
    repo: str,
    base: str | None,
    head: str | None,
    repo_url: str | None,
    fmt: str,
    output: str | None,
    comment_file: str | None,
    sarif_file: str | None,
    max_file_bytes: int,
    strict: bool,
) -> None:
    """Gate a submission pull request: it must add exactly one new record folder, holding a
    clean package (no symlinks, checkpoints or oversized files, a log per claimed seed), and
    pass `check` on its scripts and `verify` on the folder. Nothing submitted is executed.

    Files are read from git objects of HEAD, never from the work tree. Exit 0 pass, 1 a gate
    failed, 2 unreadable input (not a git repository, unknown ref, empty diff).
    """
    try:
        report = gate_pull_request(repo, base, head, strict=strict, max_file_bytes=max_file_bytes)
    except InputError as exc:
        # The workflow still gets a comment and a SARIF log saying why nothing was gated.
        failed = Report(command="ci", target=repo, errors=[str(exc)], strict=strict)
        _write_extras(failed, comment_file, sarif_file)
        raise
    # Paths in the report are the repository's; links point at the gated commit.
    report.paths_relative_to = repo
    report.blob_url = blob_url(repo_url, report.data.get("pull_request", {}).get("head"))
    _write_extras(report, comment_file, sarif_file)
    emit(report, fmt, output)


def _write_extras(report: Report, comment_file: str | None, sarif_file: str | None) -> None:
    if comment_file:
        _write(comment_file, render(report, "markdown"), "pull-request comment")
    if sarif_file:
        _write(sarif_file, render(report, "sarif"), "SARIF log")
