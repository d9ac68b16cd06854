"""A sweep from Python (:func:`sweep`, the options of `zslbench run --all`) and what
`zslbench sweep` shares with it: planning, running on an executor, the summary and the report
built from the records."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from zslbench.commands.common import check_writable, clean_stale_temp, split_list
from zslbench.config import check_seed, short_repr
from zslbench.errors import ConfigError
from zslbench.executors import SlurmOptions, cpu_count, parse_slurm_extra, parse_slurm_time

SWEEP_DEFAULTS: dict[str, Any] = {
    "all_runs": False,
    "executor": "local",
    "jobs": None,
    "dry_run": False,
    "models": None,
    "methods": None,
    "datasets": None,
    "seeds": None,
    "only": None,
    "slurm_partition": None,
    "slurm_time": "60",
    "slurm_gpus_per_job": 0,
    "slurm_cpus_per_job": 1,
    "slurm_extra": (),
    "tracks": None,
    "ablate": None,
}


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
    return SlurmOptions(
        sweep.get("slurm_partition"),
        parse_slurm_time(sweep.get("slurm_time") or "60"),
        sweep["slurm_gpus_per_job"],
        sweep["slurm_cpus_per_job"],
        parse_slurm_extra(sweep.get("slurm_extra") or ()),
    )


def build_report(results: Path, echo: Callable[[str], None]) -> list[Path]:
    """The tables of every track's table kind (<results>/tables), the variance plots
    (<results>/plots) and the report page (<results>/report) for what is in `results`.  A failure
    here is reported, not raised: the records are safe and `zslbench table` / `plot` / `report`
    can rebuild them later."""
    import warnings

    from zslbench.report.paper_tables import build_table, write_table
    from zslbench.report.plots import plot_variance
    from zslbench.tracks import all_tracks

    results = Path(results)

    def tables() -> list:
        written = []
        for kind in dict.fromkeys(track.info.table_kind for track in all_tracks()):
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


@dataclass
class SweepOutcome:
    """What a sweep did: its plan, the summary of the runs (None for a dry run), the local jobs
    at once, the executor, the report files written, and the plan as text (dry run)."""

    plan: Any  # zslbench.sweep.Plan
    summary: Any  # zslbench.sweep.SweepSummary | None
    parallel: int
    executor: str
    report_files: list
    plan_text: str = ""

    @property
    def ok(self) -> bool:
        return self.summary is None or not (self.summary.failed or self.summary.by("interrupted"))


def _stderr(text: str) -> None:
    click.echo(text, err=True)


def plan_and_run(
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
    echo: Callable[[str], None] = _stderr,
    **sweep: Any,
) -> SweepOutcome:
    """Plan, print the plan (dry run) or run it, summarise, build the report.  Raises
    zslbench.executors.SweepInterrupted on Ctrl-C (its ``summary`` says what ran)."""
    from zslbench.loggers import resolve_loggers
    from zslbench.sweep import (
        beyond_time_limit,
        fmt_seconds,
        format_plan,
        plan_sweep,
        run_sweep,
        run_threads,
        time_left,
    )

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
    loggers = resolve_loggers(log)
    plan = plan_sweep(
        profile,
        models=split_list(sweep.get("models")) or None,
        methods=split_list(sweep.get("methods")) or None,
        datasets=split_list(sweep.get("datasets")) or None,
        seeds=seeds or None,
        only=sweep.get("only"),
        source=source,
        data_dir=data_dir,
        device=device,
        results=results,
        sets=sets,
        force=force,
        preset=preset,
        tracks=split_list(sweep.get("tracks")) or None,
        ablate=split_list(sweep.get("ablate")) or None,
        loggers=loggers,
    )
    threads = run_threads(plan)
    if executor == "local":
        if jobs is None:  # as many runs at once as their threads fit on the cores
            jobs = max(1, cpu_count() // threads)
        elif jobs * threads > cpu_count() and len(plan.to_run) > 1:
            echo(
                f"note: {jobs} jobs x {threads} threads per run > {cpu_count()} CPU cores: the runs will "
                "compete for the cores (the numbers do not change)"
            )
    elif slurm is not None and slurm.cpus_per_job < threads:
        echo(
            f"note: the runs use {threads} torch threads (config `threads`) but --slurm-cpus-per-job is "
            f"{slurm.cpus_per_job}: the threads will share fewer CPUs (the numbers do not change)"
        )
    parallel = min(jobs or cpu_count(), max(1, len(plan.to_run)))
    if slurm is not None:
        too_long = beyond_time_limit(plan, slurm.time_min)
        if too_long:
            plan.notes.append(too_long)
    if sweep.get("dry_run"):
        from zslbench.sweep.plan import data_sources

        text = "\n".join([*data_sources(plan), format_plan(plan, parallel, executor)])
        return SweepOutcome(plan, None, parallel, executor, [], text)
    if source == "auto" and any(j.kind == "gzsl" for j in plan.to_run):
        from zslbench.data import resolve_source

        synth = sorted({j.dataset for j in plan.to_run if resolve_source(j.dataset, "auto", data_dir) == "synthetic"})
        if synth:
            echo(
                f"warning: no xlsa17 files for {', '.join(synth)}; using SYNTHETIC data "
                "(pass --data-dir or set $ZSLBENCH_DATA for the real data)"
            )
    for note in plan.notes:
        echo(f"note: {note}")
    n = len(plan.to_run)
    echo(
        f"sweep: {len(plan.jobs)} planned, {plan.count('done')} done already, {n} to run"
        + (
            f" on {parallel} local job(s), about {fmt_seconds(time_left(plan, parallel))}"
            if executor == "local" and n
            else ""
        )
    )
    clean_stale_temp(plan.settings.results)
    summary = run_sweep(plan, executor, jobs, slurm)
    echo(summary.format())
    files = build_report(plan.settings.results, echo)
    return SweepOutcome(plan, summary, parallel, executor, files)


def _as_list(value: str | Iterable[Any] | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return ",".join(str(v) for v in value)


def sweep(
    profile: str = "quick",
    *,
    models: Iterable[str] | str | None = None,
    methods: Iterable[str] | str | None = None,
    datasets: Iterable[str] | str | None = None,
    seeds: Iterable[int] | str | None = None,
    only: str | None = None,
    tracks: Iterable[str] | str | None = None,
    ablate: Iterable[str] | str | None = None,
    jobs: int | None = None,
    executor: str = "local",
    preset: str | None = None,
    sets: Mapping[str, Any] | Iterable[str] | None = None,
    data: str = "auto",
    data_dir: str | Path | None = None,
    results: str | Path | None = None,
    device: str = "cpu",
    force: bool = False,
    log: Iterable[Any] = (),
    dry_run: bool = False,
    slurm: Mapping[str, Any] | None = None,
) -> SweepOutcome:
    """Run the grid as a resumable sweep, as `zslbench run --all` does (the same plan, run ids,
    records, summary and report), and return a `SweepOutcome` (``.summary``, ``.plan``).  Lists
    may be given as Python lists or comma-separated text; ``slurm``: ``{"partition": ...,
    "time": "60", "gpus_per_job": 0, "cpus_per_job": 1, "extra": ["account=abc"]}`` with
    ``executor="slurm"``.  Runs that fail are in ``summary.failed``; bad input raises
    zslbench.errors.ZSLBenchError."""
    from zslbench.library.runs import set_items
    from zslbench.presets import get_preset

    get_preset(preset)
    results = None if results is None else Path(results)
    check_writable(results)
    options = {f"slurm_{k}": (tuple(v) if k == "extra" else v) for k, v in (slurm or {}).items()}
    unknown = sorted(set(options) - set(SWEEP_DEFAULTS))
    if unknown:
        raise ConfigError(f"slurm: unknown option(s) {', '.join(k[6:] for k in unknown)}")
    return plan_and_run(
        profile=profile,
        source=data,
        data_dir=None if data_dir is None else Path(data_dir),
        device=device,
        results=results,
        sets=set_items(sets),
        force=force,
        single={},
        preset=preset,
        log=log,
        executor=executor,
        jobs=jobs,
        dry_run=dry_run,
        models=_as_list(models),
        methods=_as_list(methods),
        datasets=_as_list(datasets),
        seeds=_as_list(seeds),
        only=only,
        tracks=_as_list(tracks),
        ablate=_as_list(ablate),
        **{**{k: v for k, v in SWEEP_DEFAULTS.items() if k.startswith("slurm_")}, **options},
    )
