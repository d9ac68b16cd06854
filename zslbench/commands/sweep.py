"""`zslbench sweep` (also spelled `zslbench run --all`): plan, print or run, summarise, and
build the report (tables and plots) from the records."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

import click

from zslbench.commands.common import check_writable, run_options, split_list
from zslbench.config import check_seed, short_repr
from zslbench.errors import ConfigError
from zslbench.executors import EXECUTORS, SlurmOptions, SweepInterrupted, cpu_count, parse_slurm_extra, parse_slurm_time
from zslbench.sweep import KINDS, fmt_seconds, format_plan, plan_sweep, run_sweep, run_threads, time_left

SWEEP_DEFAULTS: dict[str, Any] = {
    "all_runs": False, "executor": "local", "jobs": None, "dry_run": False, "models": None,
    "methods": None, "datasets": None, "seeds": None, "only": None, "slurm_partition": None,
    "slurm_time": "60", "slurm_gpus_per_job": 0, "slurm_cpus_per_job": 1, "slurm_extra": (), "tracks": None,
    "ablate": None,
}


def grid_options(f):
    """The options of a sweep (`zslbench sweep`, and `zslbench run` with --all)."""
    opts = [
        click.option("--executor", type=click.Choice(EXECUTORS), default="local", show_default=True,
                     help="--all: local process pool or SLURM (submitit)."),
        click.option("--jobs", type=int, default=None,
                     help="--all, local: runs at once (default: CPU cores / the runs' threads); never "
                          "changes a run's threads or numbers."),
        click.option("--dry-run", is_flag=True, help="--all: print the plan (done / to run, time left) and stop."),
        click.option("--models", help="--all: GZSL models, comma-separated."),
        click.option("--methods", help="--all: CZSL methods, comma-separated."),
        click.option("--datasets", help="--all: datasets, comma-separated."),
        click.option("--seeds", help="--all: seeds, comma-separated (default: the profile's)."),
        click.option("--only", type=click.Choice(KINDS), default=None, help="--all: only GZSL or only CZSL runs."),
        click.option("--tracks", default=None,
                     help="--all: tracks, comma-separated: gzsl, czsl-features, czsl-images (default all; "
                          "image-track runs where the raw images are in the data folder, on synthetic images "
                          "when named); `features,images` select the CZSL tracks alone."),
        click.option("--ablate", default=None, metavar="OPTION[,OPTION...]",
                     help="--all: beside each run, the same run with one option flipped to each other value "
                          "(choices, bool negation, seen_logit_scale 1.0/0.95, OPTION=VALUE; `preset` flips "
                          "colab <-> code), where it acts; the report shows each option's effect."),
        click.option("--slurm-partition", default=None, help="--executor slurm: partition."),
        click.option("--slurm-time", default="60", show_default=True,
                     help="--executor slurm: time limit per run (minutes or HH:MM:SS)."),
        click.option("--slurm-gpus-per-job", type=int, default=0, show_default=True, help="--executor slurm: GPUs per run."),
        click.option("--slurm-cpus-per-job", type=int, default=1, show_default=True,
                     help="--executor slurm: CPUs allocated per run (a run uses its config's `threads`)."),
        click.option("--slurm-extra", multiple=True, metavar="KEY=VALUE",
                     help="--executor slurm: extra sbatch option, e.g. account=abc or qos=low (repeatable)."),
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


def slurm_options(sweep: dict[str, Any], executor: str, jobs: int | None) -> SlurmOptions | None:
    if executor != "slurm":
        for key in ("slurm_partition", "slurm_time", "slurm_gpus_per_job", "slurm_cpus_per_job", "slurm_extra"):
            if sweep.get(key, SWEEP_DEFAULTS[key]) not in (SWEEP_DEFAULTS[key], None, ()):
                raise ConfigError(f"--{key.replace('_', '-')} needs --executor slurm")
        return None
    if jobs is not None:
        raise ConfigError("--jobs applies to --executor local (SLURM runs one array task per run)")
    for key in ("slurm_gpus_per_job", "slurm_cpus_per_job"):
        if sweep[key] < 0 or (key == "slurm_cpus_per_job" and sweep[key] < 1):
            raise ConfigError(f"--{key.replace('_', '-')} {sweep[key]}: must be >= {1 if 'cpus' in key else 0}")
    return SlurmOptions(sweep.get("slurm_partition"), parse_slurm_time(sweep.get("slurm_time") or "60"),
                        sweep["slurm_gpus_per_job"], sweep["slurm_cpus_per_job"],
                        parse_slurm_extra(sweep.get("slurm_extra") or ()))


def run_all(
    *, profile: str, source: str, data_dir: Path | None, device: str, results: Path | None,
    sets: tuple[str, ...], force: bool, single: dict[str, Any], preset: str | None = None, **sweep: Any,
) -> None:
    """Plan, print or run, summarise, build the report; exits 1 when a run failed and 130 on
    Ctrl-C."""
    for opt, value in single.items():
        if value not in (None, False):
            plural = {"model": "--models", "dataset": "--datasets", "seed": "--seeds"}.get(opt, f"--{opt}s")
            raise ConfigError(f"--{opt} selects a single run; with --all use {plural}")
    jobs = sweep.get("jobs")
    if jobs is not None and jobs < 1:
        raise ConfigError(f"--jobs {jobs}: must be >= 1")
    seeds = []
    for text in split_list(sweep.get("seeds")):
        try:
            seeds.append(check_seed(int(text), "--seeds:"))
        except ValueError:
            raise ConfigError(f"--seeds: {short_repr(text)} is not an integer") from None
    executor = sweep.get("executor") or "local"
    slurm = slurm_options(sweep, executor, jobs)
    plan = plan_sweep(
        profile, models=split_list(sweep.get("models")) or None, methods=split_list(sweep.get("methods")) or None,
        datasets=split_list(sweep.get("datasets")) or None, seeds=seeds or None, only=sweep.get("only"),
        source=source, data_dir=data_dir, device=device, results=results, sets=sets, force=force,
        preset=preset, tracks=split_list(sweep.get("tracks")) or None,
        ablate=split_list(sweep.get("ablate")) or None,
    )
    echo = lambda text: click.echo(text, err=True)  # noqa: E731
    threads = run_threads(plan)
    if executor == "local":
        if jobs is None:  # as many runs at once as their threads fit on the cores
            jobs = max(1, cpu_count() // threads)
        elif jobs * threads > cpu_count() and len(plan.to_run) > 1:
            echo(f"note: {jobs} jobs x {threads} threads per run > {cpu_count()} CPU cores: the runs will "
                 "compete for the cores (the numbers do not change)")
    elif slurm is not None and slurm.cpus_per_job < threads:
        echo(f"note: the runs use {threads} torch threads (config `threads`) but --slurm-cpus-per-job is "
             f"{slurm.cpus_per_job}: the threads will share fewer CPUs (the numbers do not change)")
    parallel = min(jobs or cpu_count(), max(1, len(plan.to_run)))
    if sweep.get("dry_run"):
        click.echo(format_plan(plan, parallel, executor))
        return
    if source == "auto" and any(j.kind == "gzsl" for j in plan.to_run):
        from zslbench.data import resolve_source

        synth = sorted({j.dataset for j in plan.to_run if resolve_source(j.dataset, "auto", data_dir) == "synthetic"})
        if synth:
            echo(f"warning: no xlsa17 files for {', '.join(synth)}; using SYNTHETIC data "
                 "(pass --data-dir or set $ZSLBENCH_DATA for the real data)")
    for note in plan.notes:
        echo(f"note: {note}")
    n = len(plan.to_run)
    echo(f"sweep: {len(plan.jobs)} planned, {plan.count('done')} done already, {n} to run"
         + (f" on {parallel} local job(s), about {fmt_seconds(time_left(plan, parallel))}" if executor == "local" and n else ""))
    try:
        summary = run_sweep(plan, executor, jobs, slurm)
    except SweepInterrupted as exc:
        echo(exc.summary.format())
        echo("interrupted: no partial record was kept; run the same command again to resume "
             "(done runs are skipped)")
        from zslbench.interrupt import exit_interrupted

        exit_interrupted(130)
    echo(summary.format())
    build_report(plan.settings.results, echo)
    if summary.failed or summary.by("interrupted"):  # a run stopped from outside is missing too
        sys.exit(1)


def build_report(results: Path, echo: Callable[[str], None]) -> list[Path]:
    """The tables of every track's table kind (<results>/tables), the variance plots
    (<results>/plots) and the report page (<results>/report) for what is in `results`.  A failure
    here is reported, not raised: the records are safe and `zslbench table` / `plot` / `report`
    can rebuild them later."""
    import warnings

    from zslbench.report.plots import plot_variance
    from zslbench.report.tables import build_table, write_table
    from zslbench.tracks import all_tracks

    results = Path(results)

    def tables() -> list:
        written = []
        for kind in dict.fromkeys(t.table_kind for t in all_tracks()):
            table = build_table(kind, results)
            if not getattr(table, "empty", False):
                written += write_table(table, results / "tables")
        return written

    def plots() -> list:
        return list(plot_variance(results, None, out_dir=results / "plots"))

    def report() -> list:
        from zslbench.report.page import write_report

        files = write_report(results, results / "report")
        echo(f"report: {files.index} (Markdown: {files.markdown})")
        return [files.index, files.markdown, *files.images]

    written: list[Path] = []
    for what, step in (("tables", tables), ("plots", plots), ("report", report)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                written += step()
        except Exception as exc:  # the records are safe; the report can be rebuilt later
            echo(f"warning: building the {what} failed: {type(exc).__name__}: {exc}")
    if written:
        folders = sorted({str(Path(p).parent) for p in written})
        echo(f"report: {len(written)} files written in {', '.join(folders)}")
    return written


@click.command("sweep")
@run_options
@grid_options
def sweep_cmd(profile, preset, source, data_dir, device, results, sets, force, **sweep) -> None:
    """Run the whole grid of every track as a resumable sweep (the same as `zslbench run --all`;
    see README, Sweeps)."""
    from zslbench.presets import get_preset

    get_preset(preset)  # an unknown name fails first
    check_writable(results)
    run_all(profile=profile, source=source, data_dir=data_dir, device=device, results=results, sets=sets,
            force=force, single={}, preset=preset, **sweep)
