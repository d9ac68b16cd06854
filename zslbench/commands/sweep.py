"""`zslbench sweep` (also spelled `zslbench run --all`): plan, print or run, summarise, and
build the report (tables and plots) from the records."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from zslbench.commands.common import check_writable, training_options
from zslbench.errors import ConfigError
from zslbench.executors import EXECUTORS, SweepInterrupted
from zslbench.library.sweeps import SWEEP_DEFAULTS, plan_and_run
from zslbench.sweep import KINDS


def grid_options(f):
    """The options of a sweep (`zslbench sweep`, and `zslbench run` with --all)."""
    opts = [
        click.option(
            "--executor",
            type=click.Choice(EXECUTORS),
            default="local",
            show_default=True,
            help="--all: local process pool or SLURM (submitit).",
        ),
        click.option(
            "--jobs",
            type=int,
            default=None,
            help="--all, local: runs at once (default: CPU cores / the runs' threads); never "
            "changes a run's threads or numbers.",
        ),
        click.option("--dry-run", is_flag=True, help="--all: print the plan (done / to run, time left) and stop."),
        click.option("--models", help="--all: GZSL models, comma-separated."),
        click.option("--methods", help="--all: CZSL methods, comma-separated."),
        click.option("--datasets", help="--all: datasets, comma-separated."),
        click.option("--seeds", help="--all: seeds, comma-separated (default: the profile's)."),
        click.option("--only", type=click.Choice(KINDS), default=None, help="--all: only GZSL or only CZSL runs."),
        click.option(
            "--tracks",
            default=None,
            help="--all: tracks, comma-separated: gzsl, czsl-features, czsl-images (default all; "
            "image-track runs where the raw images are in the data folder, on synthetic images "
            "when named); `features,images` select the CZSL tracks alone.",
        ),
        click.option(
            "--ablate",
            default=None,
            metavar="OPTION[,OPTION...]",
            help="--all: beside each run, the same run with one option flipped to each other value "
            "(choices, bool negation, seen_logit_scale 1.0/0.95, OPTION=VALUE; `preset` flips "
            "colab <-> code), where it acts; the report shows each option's effect.",
        ),
        click.option("--slurm-partition", default=None, help="--executor slurm: partition."),
        click.option(
            "--slurm-time",
            default="60",
            show_default=True,
            help="--executor slurm: time limit per run (minutes or HH:MM:SS).",
        ),
        click.option(
            "--slurm-gpus-per-job", type=int, default=0, show_default=True, help="--executor slurm: GPUs per run."
        ),
        click.option(
            "--slurm-cpus-per-job",
            type=int,
            default=1,
            show_default=True,
            help="--executor slurm: CPUs allocated per run (a run uses its config's `threads`).",
        ),
        click.option(
            "--slurm-extra",
            multiple=True,
            metavar="KEY=VALUE",
            help="--executor slurm: extra sbatch option, e.g. account=abc or qos=low (repeatable).",
        ),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def sweep_options(f):
    """`zslbench run`'s --all and the sweep options."""
    f = grid_options(f)
    return click.option("--all", "all_runs", is_flag=True, help="Run the whole grid (GZSL and CZSL) as a sweep.")(f)


def reject_sweep_options(sweep: dict[str, Any]) -> None:
    """Single-run `zslbench run`: the sweep options need --all."""
    for key, default in SWEEP_DEFAULTS.items():
        if key != "all_runs" and sweep.get(key, default) not in (default, None, ()):
            raise ConfigError(f"--{key.replace('_', '-')} needs --all")


def run_all(
    *,
    profile: str,
    source: str,
    data_dir: Path | None,
    device: str,
    results: Path | None,
    sets: tuple[str, ...],
    force: bool,
    single: dict[str, Any],
    preset: str | None = None,
    log=(),
    **sweep: Any,
) -> None:
    """Plan, print or run, summarise, build the report (zslbench.library.sweeps.plan_and_run);
    exits 1 when a run failed and 130 on Ctrl-C."""
    echo = lambda text: click.echo(text, err=True)
    try:
        outcome = plan_and_run(
            profile=profile,
            source=source,
            data_dir=data_dir,
            device=device,
            results=results,
            sets=sets,
            force=force,
            single=single,
            preset=preset,
            log=log,
            echo=echo,
            **sweep,
        )
    except SweepInterrupted as exc:
        echo(exc.summary.format())
        echo("interrupted: no partial record was kept; run the same command again to resume (done runs are skipped)")
        from zslbench.interrupt import exit_interrupted

        exit_interrupted(130)
    if outcome.summary is None:
        click.echo(outcome.plan_text)
        return
    if not outcome.ok:  # a run stopped from outside is missing too
        sys.exit(1)


@click.command("sweep")
@training_options
@grid_options
def sweep_cmd(profile, preset, source, data_dir, device, results, sets, force, log, **sweep) -> None:
    """Run the whole grid of every track as a resumable sweep (the same as `zslbench run --all`;
    see README, Sweeps)."""
    from zslbench.presets import get_preset

    get_preset(preset)  # an unknown name fails first
    check_writable(results)
    run_all(
        profile=profile,
        source=source,
        data_dir=data_dir,
        device=device,
        results=results,
        sets=sets,
        force=force,
        single={},
        preset=preset,
        log=log,
        **sweep,
    )
