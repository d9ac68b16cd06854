"""Helpers shared by the commands: argument checks and the stderr warnings."""

from __future__ import annotations

import os
from pathlib import Path

import click

from zslbench.data.registry import DATA_SOURCES
from zslbench.errors import ZSLBenchError


def fail(message: str) -> None:
    """Exit 2 with one line on stderr (zslbench.cli.main turns the error into that)."""
    raise ZSLBenchError(message)


def split_list(value: str | None) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


def check_dataset_name(name: str, valid) -> None:
    if name not in valid:
        import difflib

        close = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        fail(f"--dataset: unknown dataset {name!r}{hint}; valid datasets: {', '.join(valid)}")


def check_writable(results: Path | None) -> None:
    from zslbench.store import default_results_dir

    target = Path(results) if results is not None else default_results_dir()
    probe = target
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        fail(f"--results: {probe} is a file, not a folder")
    if probe.exists() and not os.access(probe, os.W_OK | os.X_OK):
        fail(f"--results: {probe} is not writable")


def clean_stale_temp(results: Path | None) -> None:
    """Remove the temporary folders that killed runs left in ``<results>/runs`` (only those whose
    writer is gone: :func:`zslbench.store.clean_stale_temp`)."""
    from zslbench.store import clean_stale_temp as clean
    from zslbench.store import default_results_dir

    try:
        clean(Path(results) if results is not None else default_results_dir())
    except OSError:
        pass  # an unreadable runs folder is reported where it is written


def warn_if_synthetic_images(dataset: str, source: str, data_dir: Path | None) -> None:
    """The image track's `--data auto` without the raw images: say so on stderr."""
    if source != "auto":
        return
    from zslbench.data.images import resolve_image_source

    if resolve_image_source(dataset, "auto", data_dir) == "synthetic":
        click.echo(
            f"warning: no raw {dataset} images found; using SYNTHETIC images "
            f"(`zslbench data fetch --dataset {dataset}-images`, or pass --data-dir)",
            err=True,
        )


def warn_if_synthetic(dataset: str, source: str, data_dir: Path | None) -> None:
    """`--data auto` without the real files falls back to synthetic data: say so on stderr."""
    if source != "auto":
        return
    from zslbench.data import resolve_source

    if resolve_source(dataset, "auto", data_dir) == "synthetic":
        click.echo(
            f"warning: no xlsa17 files for {dataset} found; using SYNTHETIC data "
            "(pass --data-dir or set $ZSLBENCH_DATA for the real data)",
            err=True,
        )


def training_options(f):
    """The options every training command takes (`run`, `sweep`), as one decorator."""
    opts = [
        click.option("--profile", default="paper", show_default=True, help="paper or quick."),
        click.option(
            "--preset",
            default=None,
            help="colab (default: the notebook) or code (the authors' trainer); see `zslbench list presets`.",
        ),
        click.option(
            "--data",
            "source",
            type=click.Choice(["auto", *DATA_SOURCES.choices()]),
            default="auto",
            show_default=True,
            help="Data source; auto = the real data where found (xlsa17; raw images for the CZSL "
            "image track), else synthetic.",
        ),
        click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="xlsa17 data folder."),
        click.option("--device", default="cpu", show_default=True, help="cpu or cuda."),
        click.option(
            "--results",
            type=click.Path(path_type=Path),
            default=None,
            help="Results folder (default: $ZSLBENCH_RESULTS or ./results).",
        ),
        click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a config field (repeatable)."),
        click.option("--force", is_flag=True, help="Retrain even when the run is already done."),
        click.option(
            "--log",
            "log",
            multiple=True,
            metavar="LOGGER",
            help="Give each trained run to a tracker too: tensorboard, csv, mlflow or a plugin's "
            "(repeatable; under <results>/logs; docs/notebooks-trackers.md).",
        ),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def results_dir(results: Path | None) -> Path:
    from zslbench.store import default_results_dir

    target = Path(results) if results is not None else default_results_dir()
    if not target.exists():
        fail(f"--results: {target} does not exist (run `zslbench run` first, or pass --results DIR)")
    if not target.is_dir():
        fail(f"--results: {target} is not a folder")
    return target


def echo_warnings(caught) -> None:
    """Each distinct warning once (a report reads the records several times)."""
    for message in dict.fromkeys(str(w.message) for w in caught):
        click.echo(f"zslbench: warning: {message}", err=True)
