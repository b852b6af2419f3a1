"""``golf-check data demo``: build (or find) the offline demo dataset and tokenizer."""

from __future__ import annotations

import time

import click

from golf_check.harness.extras import require_run_extra
from golf_check.harness.output import emit, format_option, output_option
from golf_check.harness.report import Report


@click.group()
def data() -> None:
    """Datasets for audited runs."""


@data.command()
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder to build into (default: ~/.cache/golf-check/demo-<python>, or $GOLF_CHECK_CACHE).",
)
@click.option("--force", is_flag=True, help="Rebuild even if a valid cached copy exists.")
@format_option()
@output_option()
def demo(out: str | None, force: bool, fmt: str, output: str | None) -> None:
    """Build the demo dataset: stdlib docstrings, a 1024-piece BPE tokenizer, FineWeb-format
    shards. Offline and deterministic; cached after the first build."""
    require_run_extra("data demo")
    from golf_check.harness.demo_data import ensure_demo_data

    t0 = time.perf_counter()
    demo_data = ensure_demo_data(out, force=force)
    seconds = time.perf_counter() - t0
    report = Report(command="data demo", target=str(demo_data.root))
    report.facts += [
        ("data", str(demo_data.data_dir)),
        ("tokenizer", str(demo_data.tokenizer_path)),
        ("train tokens", f"{demo_data.train_tokens:,}"),
        ("val tokens", f"{demo_data.val_tokens:,}"),
        ("time", f"{seconds:.1f}s"),
    ]
    report.data["demo"] = {
        "root": str(demo_data.root),
        "data_dir": str(demo_data.data_dir),
        "tokenizer_path": str(demo_data.tokenizer_path),
        "train_tokens": demo_data.train_tokens,
        "val_tokens": demo_data.val_tokens,
    }
    report.notes.append(
        "Use it: DATA_PATH=<data> TOKENIZER_PATH=<tokenizer> python -m golf_check.reference_model "
        "(golf-check run finds it by itself)."
    )
    emit(report, fmt, output)
