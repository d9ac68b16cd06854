"""`zslbench plot variance`: the figures drawn from the run records."""

from __future__ import annotations

from pathlib import Path

import click

from zslbench.commands.common import echo_warnings, fail, results_dir


@click.group("plot")
def plot_group() -> None:
    """Figures from the run records."""


@plot_group.command("variance")
@click.option(
    "--dataset",
    default="all",
    show_default=True,
    help="Dataset to plot (sun, cub, awa1, awa2, apy), or all = every dataset with traces.",
)
@click.option(
    "--results",
    type=click.Path(path_type=Path),
    default=None,
    help="Results folder (default: $ZSLBENCH_RESULTS or ./results).",
)
@click.option(
    "--stat",
    default="pre_var",
    show_default=True,
    help="Traced statistic: pre_var, pre_std, post_var, post_std, hidden_var.",
)
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Output folder (default: <results>/plots).")
def plot_variance_cmd(dataset: str, results: Path | None, stat: str, out: Path | None) -> None:
    """Logit variance per training iteration, one line per model (mean over seeds, min-max band)."""
    import warnings

    from zslbench.data import DATASETS
    from zslbench.report.plots import STATS, plot_variance

    if stat not in STATS:
        fail(f"--stat: unknown statistic {stat!r}; valid: {', '.join(STATS)}")
    if dataset != "all" and dataset not in DATASETS:
        fail(f"--dataset: unknown dataset {dataset!r}; valid: all, {', '.join(DATASETS)}")
    results = results_dir(results)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        written = plot_variance(
            results,
            None if dataset == "all" else dataset,
            stat=stat,
            out_dir=out if out is not None else results / "plots",
        )
    echo_warnings(caught)
    if not written:
        if dataset != "all":
            fail(f"--dataset: no GZSL run with a trace.csv for {dataset} under {results / 'runs'}")
        click.echo(f"no GZSL run with a trace.csv under {results / 'runs'}: nothing to plot")
    for path in written:
        click.echo(f"wrote {path}")
