"""`zslbench table gzsl|czsl`: the results table built from the run records, beside the paper's numbers."""

from __future__ import annotations

from pathlib import Path

import click

from zslbench.commands.common import echo_warnings, results_dir


@click.command("table")
@click.argument("kind", type=click.Choice(["gzsl", "czsl"]))
@click.option(
    "--results",
    type=click.Path(path_type=Path),
    default=None,
    help="Results folder (default: $ZSLBENCH_RESULTS or ./results).",
)
@click.option(
    "--format", "formats", default="csv,md,tex", show_default=True, help="Comma-separated output formats: csv, md, tex."
)
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Output folder (default: <results>/tables).")
def table_cmd(kind: str, results: Path | None, formats: str, out: Path | None) -> None:
    """Build the GZSL or CZSL table from the run records, beside the paper's numbers."""
    import warnings

    from zslbench.report.paper_tables import build_table, parse_formats, write_table

    fmts = parse_formats(formats)
    results = results_dir(results)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = build_table(kind, results)
    echo_warnings(caught)
    if table.empty:
        click.echo(f"no {kind.upper()} run records under {results / 'runs'}: nothing to tabulate")
        return
    paths = write_table(table, out if out is not None else results / "tables", fmts)
    if "md" in fmts:
        click.echo(table.to_markdown())
    for path in paths:
        click.echo(f"wrote {path}")
