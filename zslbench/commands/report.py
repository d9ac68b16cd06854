"""`zslbench report`: the static results page (index.html, report.md) written from the run records."""

from __future__ import annotations

from pathlib import Path

import click

from zslbench.commands.common import echo_warnings, results_dir


@click.command("report")
@click.option(
    "--results",
    type=click.Path(path_type=Path),
    default=None,
    help="Results folder (default: $ZSLBENCH_RESULTS or ./results).",
)
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Output folder (default: <results>/report).")
def report_cmd(results: Path | None, out: Path | None) -> None:
    """One page (index.html, report.md) of the results, the paper's claims checked, and the
    effect of each option variant; static, opens from disk."""
    import warnings

    from zslbench.report.page import write_report

    results = results_dir(results)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        files = write_report(results, out)
    echo_warnings(caught)
    click.echo(f"wrote {files.index}")
    click.echo(f"wrote {files.markdown} and {len(files.images)} image(s) in {files.index.parent / 'plots'}")
