"""`zslbench run --all`: plan the paper's grid, skip what is done, run the rest, report.

The plan: GZSL 5 models x (sun, cub, awa1, awa2) and CZSL 5 methods x (no-cn, cn) x (cub, sun),
each x the profile's seeds, narrowed by filters.  A run's id is known before it runs (it hashes
the config and the data fingerprint, see :func:`zslbench.runner.gzsl_run_id`), so the plan knows
which runs are done already.  Execution is delegated to :mod:`zslbench.executors`.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import click

from zslbench import store
from zslbench.errors import ConfigError, DataError
from zslbench.executors import (
    EXECUTORS, Job, JobResult, SlurmOptions, SweepInterrupted, SweepSettings, cpu_count,
    parse_slurm_extra, parse_slurm_time,
)
from zslbench.progress import Progress

GZSL_MODELS = ("linear", "mlp3", "mlp3+eq9", "mlp3+eq10", "mlp3+cn")
GZSL_DATASETS = ("sun", "cub", "awa1", "awa2")
CZSL_METHODS = ("sequential", "multitask", "ewc-online", "mas-online", "agem")
CZSL_DATASETS = ("cub", "sun")
KINDS = ("gzsl", "czsl")
CZSL_TRACKS = ("features", "images")

# Seconds per run when no record of the same kind and profile says better: rough averages
# measured on 2 CPU cores (quick: the 80-run grid; paper: an mlp3+cn epoch on SUN is about
# 8 CPU-seconds, and a paper-profile A-GEM run on CUB about 4 minutes).  The CZSL image track
# ("czsl-images"): a quick A-GEM run on CUB took about 60 CPU-seconds; a paper-profile
# sequential+cn run on CUB is projected at about 11 CPU-hours (benchmarks/bench_czsl_images.py).
DEFAULT_SECONDS = {
    "quick": {"gzsl": 8.0, "czsl": 5.0, "czsl-images": 70.0},
    "paper": {"gzsl": 400.0, "czsl": 600.0, "czsl-images": 40000.0},
}


@dataclass
class Plan:
    settings: SweepSettings
    jobs: list[Job]
    seeds: tuple[int, ...]
    notes: list[str] = field(default_factory=list)

    def count(self, state: str) -> int:
        return sum(j.state == state for j in self.jobs)

    @property
    def to_run(self) -> list[Job]:
        return [j for j in self.jobs if j.state == "todo"]


# --------------------------------------------------------------------------- planning
def _czsl_method_names() -> list[str]:
    from zslbench.train.czsl import CZSL_METHODS as registry

    return list(registry)


def _choose(option: str, given: list[str] | None, default: tuple[str, ...], valid: list[str]) -> list[str]:
    if not given:
        return list(default)
    for name in given:
        if name not in valid:
            import difflib

            close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{option}: unknown name {name!r}{hint}; valid: {', '.join(valid)}")
    return list(dict.fromkeys(given))


def image_overrides(items: list[str] | tuple[str, ...]) -> dict:
    """The `--set` items that the CZSL image track's config has."""
    from dataclasses import fields

    from zslbench.config import parse_overrides
    from zslbench.tracks import get_track

    cls = get_track("czsl-images").config_cls
    names = {f.name for f in fields(cls)}
    return parse_overrides(cls, [i for i in items if i.split("=", 1)[0].strip() in names])


def split_overrides(items: list[str] | tuple[str, ...]) -> tuple[dict, dict]:
    """`--set key=value` items -> (GZSL overrides, CZSL overrides).

    A key goes to each kind whose config has it; a key that neither has is an error.  Until the
    CZSL config exists (zslbench.config.CZSLConfig), CZSL runs get the GZSL overrides.
    """
    from dataclasses import fields

    from zslbench import config

    czsl_cls = getattr(config, "CZSLConfig", None)
    gz_fields = {f.name for f in fields(config.GZSLConfig)}
    cz_fields = {f.name for f in fields(czsl_cls)} if czsl_cls else set()
    gz_items, cz_items = [], []
    for item in items:
        key = item.split("=", 1)[0].strip()
        if key in gz_fields:
            gz_items.append(item)
        if key in cz_fields:
            cz_items.append(item)
        if key not in gz_fields and key not in cz_fields and key not in _image_only_fields():
            config.parse_overrides(config.GZSLConfig, [item])  # raises naming the key
    gz = config.parse_overrides(config.GZSLConfig, gz_items)
    if czsl_cls is None:
        return gz, dict(gz)
    return gz, config.parse_overrides(czsl_cls, cz_items)


def _image_only_fields() -> set[str]:
    from dataclasses import fields

    from zslbench import config
    from zslbench.tracks import get_track

    return {f.name for f in fields(get_track("czsl-images").config_cls)} - {f.name for f in fields(config.CZSLConfig)}


def plan_sweep(
    profile: str = "paper",
    *,
    models: list[str] | None = None,
    methods: list[str] | None = None,
    datasets: list[str] | None = None,
    seeds: list[int] | None = None,
    only: str | None = None,
    source: str = "auto",
    data_dir: Path | None = None,
    device: str = "cpu",
    results: Path | None = None,
    sets: list[str] | tuple[str, ...] = (),
    force: bool = False,
    preset: str | None = None,
    tracks: list[str] | None = None,
    ablate: list[str] | None = None,
) -> Plan:
    """The grid narrowed by the filters, each run marked done or todo.  ``preset`` is expanded
    under the ``sets``; an option that does not act on a run is left out of its id
    (zslbench.applicability), so a ``--set`` applies to the runs it acts on only.

    CZSL tracks (``tracks``, default features and images): image-track runs are planned where
    the real images are in the data folder; synthetic image-track runs only when ``tracks``
    names the image track explicitly.  ``ablate``: options flipped beside each run
    (zslbench.ablation)."""
    from zslbench.config import get_profile, make_gzsl_config
    from zslbench.data import DATASETS
    from zslbench.models import MODELS
    from zslbench.tracks import get_track, planned_run_id

    prof = get_profile(profile)
    if only is not None and only not in KINDS:
        raise ConfigError(f"--only {only!r}: expected gzsl or czsl")
    if only == "gzsl" and methods:
        raise ConfigError("--methods selects CZSL runs, but --only gzsl excludes them")
    if only == "czsl" and models:
        raise ConfigError("--models selects GZSL runs, but --only czsl excludes them")
    seeds_t = tuple(dict.fromkeys(int(s) for s in seeds)) if seeds else tuple(prof.seeds)
    if any(s < 0 for s in seeds_t):
        raise ConfigError(f"--seeds: seeds must be >= 0, got {','.join(map(str, seeds_t))}")
    from zslbench.presets import with_preset

    tracks_t = _choose("--tracks", tracks, CZSL_TRACKS, list(CZSL_TRACKS))
    gz_over, cz_over = split_overrides(sets)
    im_over = image_overrides(sets) if "images" in tracks_t else {}
    explicit = {"gzsl": set(gz_over), "czsl-features": set(cz_over), "czsl-images": set(im_over)}
    gz_over, cz_over = with_preset("gzsl", preset, gz_over), with_preset("czsl", preset, cz_over)
    if "images" in tracks_t:
        im_over = with_preset("czsl", preset, im_over)
    make_gzsl_config(profile, gz_over)  # bad values fail before any work
    from zslbench.devices import check_cuda_tf32

    check_cuda_tf32(device, any(o.get("cuda_tf32") for o in (gz_over, cz_over, im_over)))
    # absolute: SLURM tasks (and anything else) must find the same folders from anywhere
    results = (Path(results) if results is not None else store.default_results_dir()).absolute()
    data_dir = Path(data_dir).expanduser().absolute() if data_dir is not None else None
    settings = SweepSettings(profile, source, data_dir, device, results, gz_over, cz_over, force, im_over)

    want_gzsl = only in (None, "gzsl") and not (methods and not models and only is None)
    want_czsl = only in (None, "czsl") and not (models and not methods and only is None)
    gz_models = _choose("--models", models, GZSL_MODELS, MODELS.names())
    cz_methods = _choose("--methods", methods, CZSL_METHODS, _czsl_method_names())
    all_ds = list(DATASETS)
    if datasets:
        datasets = _choose("--datasets", datasets, (), all_ds)
    gz_ds = [d for d in (datasets or GZSL_DATASETS)]
    cz_ds = [d for d in (datasets or CZSL_DATASETS) if d in CZSL_DATASETS]
    if datasets and want_czsl and only == "czsl" and not cz_ds:
        raise ConfigError(f"--datasets: CZSL runs exist for {', '.join(CZSL_DATASETS)} only")

    notes: list[str] = []
    jobs: list[Job] = []
    gz_track, cz_track = get_track("gzsl"), get_track("czsl-features")
    im_track = get_track("czsl-images")
    explicit_images = bool(tracks) and "images" in tracks_t

    def state_of(rid: str) -> str:
        return "todo" if force or not store.is_done(results, rid) else "done"

    order = list(dict.fromkeys([*gz_ds, *cz_ds]))  # group by dataset: workers reuse loaded data
    for ds in order:
        if want_gzsl and ds in gz_ds:
            for model in gz_models:
                for seed in seeds_t:
                    rid = planned_run_id(gz_track, model, ds, seed, None, profile, source, data_dir, gz_over)
                    jobs.append(Job("gzsl", model, ds, seed, None, rid, state_of(rid)))
        if want_czsl and ds in cz_ds and "features" in tracks_t:
            for method in cz_methods:
                for cn in (False, True):
                    for seed in seeds_t:
                        rid = planned_run_id(cz_track, method, ds, seed, cn, profile, source, data_dir, cz_over)
                        jobs.append(Job("czsl", method, ds, seed, cn, rid, state_of(rid)))
        if want_czsl and ds in cz_ds and "images" in tracks_t:
            if source == "synthetic" and not explicit_images:
                continue  # synthetic image-track runs only when asked for by name
            src = im_track.resolve_source(ds, source, data_dir)
            if src != "images" and not explicit_images:
                notes.append(f"CZSL image track on {ds}: no raw images in the data folder, left out "
                             f"(`zslbench data fetch --dataset {ds}-images`, or --tracks images to run "
                             "it on synthetic images)")
                continue
            try:
                im_track.extra_identity(im_track.make_config(profile, im_over), data_dir)
            except DataError as exc:  # e.g. the ImageNet checkpoint is not in the data folder
                if explicit_images:
                    raise
                notes.append(f"CZSL image track on {ds} left out: {exc}")
                continue
            for method in cz_methods:
                for cn in (False, True):
                    for seed in seeds_t:
                        rid = planned_run_id(im_track, method, ds, seed, cn, profile, source, data_dir, im_over)
                        jobs.append(Job("czsl", method, ds, seed, cn, rid, state_of(rid), track="images"))
    if not jobs:
        raise ConfigError("no runs match the filters (--only/--models/--methods/--datasets)")
    _check_sets_act(jobs, explicit, profile, source, data_dir, settings)
    if ablate:
        from zslbench.ablation import ablation_jobs, parse_options

        options = parse_options(ablate, {get_track(j.track_key).config_cls for j in jobs})
        extra = ablation_jobs(jobs, options, settings, preset, explicit, state_of)
        notes.append(f"--ablate {','.join(options)}: {len(extra)} runs beside the {len(jobs)} of the grid")
        jobs += extra
    return Plan(settings, jobs, seeds_t, notes)


def _check_sets_act(jobs, explicit, profile, source, data_dir, settings) -> None:
    """A --set must act on at least one planned run (zslbench.applicability)."""
    from zslbench.applicability import czsl_traits, gzsl_traits, set_accepted
    from zslbench.tracks import get_track

    pending = set().union(*explicit.values())
    cfgs: dict[str, dict] = {}
    for job in jobs:
        if not pending:
            return
        key = job.track_key
        track = get_track(key)
        if key not in cfgs:
            cfgs[key] = track.make_config(profile, settings.overrides_for(key)).to_dict()
        src = track.resolve_source(job.dataset, source, data_dir)
        traits = (gzsl_traits(job.name, job.dataset, src) if job.kind == "gzsl"
                  else czsl_traits(job.name, job.classnorm, job.dataset, src))
        table = getattr(track, "table", "gzsl")
        pending -= {k for k in explicit.get(key, ()) if set_accepted(table, k, traits, cfgs[key])}
    if pending:
        raise ConfigError(f"--set {', '.join(sorted(pending))}: acts on none of the planned runs")


# --------------------------------------------------------------------------- estimates
def estimate_seconds(plan: Plan) -> dict[tuple[str, str, str], float]:
    """Expected seconds per (track, name, dataset) from the done records of the same track and
    profile (mean train + eval time), else the track's mean, else the per-profile default."""
    from zslbench.tracks import track_key

    per_key: dict[tuple[str, str, str], list[float]] = {}
    per_kind: dict[str, list[float]] = {}
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for rec in store.iter_records(plan.settings.results):
            if rec.get("profile") != plan.settings.profile or "train_seconds" not in rec:
                continue
            kind = track_key(str(rec.get("kind")), rec.get("track"))
            secs = float(rec.get("train_seconds") or 0) + float(rec.get("eval_seconds") or 0)
            name = rec.get("model") if kind == "gzsl" else rec.get("method")
            per_key.setdefault((kind, name, rec.get("dataset")), []).append(secs)
            per_kind.setdefault(kind, []).append(secs)
    defaults = DEFAULT_SECONDS.get(plan.settings.profile, DEFAULT_SECONDS["paper"])
    out = {}
    for job in plan.to_run:
        key = (job.track_key, job.name, job.dataset)
        if key in per_key:
            out[key] = sum(per_key[key]) / len(per_key[key])
        elif job.track_key in per_kind:
            out[key] = sum(per_kind[job.track_key]) / len(per_kind[job.track_key])
        else:
            out[key] = defaults.get(job.track_key, defaults[job.kind])
    return out


def time_left(plan: Plan, parallel: int) -> float:
    est = estimate_seconds(plan)
    total = sum(est[(j.track_key, j.name, j.dataset)] for j in plan.to_run)
    return total / max(1, min(parallel, len(plan.to_run) or 1))


def _fmt_seconds(s: float) -> str:
    s = int(math.ceil(s))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else (f"{m}m{sec:02d}s" if m else f"{sec}s")


def format_plan(plan: Plan, parallel: int, executor: str) -> str:
    from tabulate import tabulate

    n_gz = sum(j.kind == "gzsl" for j in plan.jobs)
    n_cz = len(plan.jobs) - n_gz
    lines = [
        f"plan: {len(plan.jobs)} runs ({n_gz} GZSL, {n_cz} CZSL), profile {plan.settings.profile}, "
        f"seeds {','.join(map(str, plan.seeds))}, results {plan.settings.results}",
    ]
    counts = {s: plan.count(s) for s in ("done", "todo")}
    parts = [f"{counts['done']} done", f"{counts['todo']} to run"]
    lines.append("state: " + ", ".join(parts))
    if plan.to_run:
        where = f"{parallel} parallel job(s)" if executor == "local" else "SLURM (one array task per run)"
        lines.append(f"estimated time left: {_fmt_seconds(time_left(plan, parallel))} on {where} "
                     "(from the records' train_seconds where there are any, else a per-profile default)")
    lines += [f"note: {n}" for n in plan.notes]
    rows = [[j.kind if j.track in (None, "features") else f"{j.kind}/{j.track}",
             j.name + (f" [{j.ablation}]" if j.ablation else ""), "" if j.classnorm is None else ("cn" if j.classnorm else "no-cn"),
             j.dataset, j.seed, j.run_id or "-", j.state] for j in plan.jobs]
    lines.append(tabulate(rows, headers=["kind", "model/method", "cn", "dataset", "seed", "run_id", "state"]))
    return "\n".join(lines)


# --------------------------------------------------------------------------- running
@dataclass
class SweepSummary:
    total: int
    already_done: int
    results: list[JobResult]
    wall_seconds: float = 0.0
    interrupted: bool = False

    def by(self, status: str) -> list[JobResult]:
        return [r for r in self.results if r.status == status]

    @property
    def failed(self) -> list[JobResult]:
        return self.by("failed")

    def format(self) -> str:
        trained, skipped = len(self.by("trained")), len(self.by("skipped"))
        lines = [
            f"sweep {'interrupted' if self.interrupted else 'finished'} in {_fmt_seconds(self.wall_seconds)}: "
            f"{trained} trained, {self.already_done + skipped} skipped (done already), "
            f"{len(self.failed)} failed"
            + (f", {len(self.by('interrupted'))} stopped" if self.by("interrupted") else "")
            + f" (of {self.total} planned)"
        ]
        for r in self.failed:
            lines.append(f"  FAILED {r.job.label}: {r.reason}" + (f" (log: {r.log})" if r.log else ""))
        return "\n".join(lines)


class _Bar:
    """Sweep-level progress: a tqdm bar on a terminal; one line per finished run otherwise."""

    def __init__(self, total: int, enabled: bool | None) -> None:
        self.total, self.n, self.failed = total, 0, 0
        self.bar = Progress(total, "sweep", "run", enabled if total else False)

    def __call__(self, res: JobResult) -> None:
        self.n += 1
        self.failed += res.status == "failed"
        if self.bar.shown:
            self.bar.update(failed=self.failed)
            if res.status == "failed":
                self.bar.write(f"FAILED {res.job.label}: {res.reason}")
        else:
            what = {"trained": f"trained in {res.seconds:.1f}s", "skipped": f"skipped ({res.reason or 'done'})",
                    "failed": f"FAILED: {res.reason}", "interrupted": "stopped"}.get(res.status, res.status)
            print(f"[{self.n}/{self.total}] {res.job.label} [{res.run_id or '-'}]: {what}", file=sys.stderr, flush=True)

    def close(self) -> None:
        self.bar.close()


def run_sweep(
    plan: Plan,
    executor: str = "local",
    jobs: int | None = None,
    slurm: SlurmOptions | None = None,
    progress: bool | None = None,
) -> SweepSummary:
    """Run the plan's missing runs. Raises SweepInterrupted on Ctrl-C (after a clean stop)."""
    from zslbench import executors

    if executor not in EXECUTORS:
        raise ConfigError(f"--executor {executor!r}: expected one of {', '.join(EXECUTORS)}")
    todo = plan.to_run
    start = time.monotonic()
    bar = _Bar(len(todo), progress)
    try:
        if executor == "local":
            out = executors.run_local(todo, plan.settings, jobs, on_result=bar)
        else:
            out = executors.run_slurm(todo, plan.settings, slurm or SlurmOptions(), on_result=bar)
    except SweepInterrupted as exc:
        bar.close()
        exc.summary = SweepSummary(len(plan.jobs), plan.count("done"), exc.results,
                                   time.monotonic() - start, interrupted=True)
        raise
    bar.close()
    return SweepSummary(len(plan.jobs), plan.count("done"), out, time.monotonic() - start)


def run_threads(plan: Plan) -> int:
    """The most torch threads any planned run uses (its config's `threads`)."""
    from zslbench.tracks import get_track

    out = 1
    for key in {j.track_key for j in plan.jobs}:
        cfg = get_track(key).make_config(plan.settings.profile, plan.settings.overrides_for(key))
        out = max(out, cfg.threads)
    return out


def build_report(results: Path, echo: Callable[[str], None]) -> list[Path]:
    """The GZSL/CZSL tables (<results>/tables), the variance plots (<results>/plots) and the
    report page (<results>/report) for what is in `results`. A failure here is reported, not
    raised: the records are safe and `zslbench table` / `plot` / `report` can rebuild them later."""
    import warnings

    from zslbench.report.plots import plot_variance
    from zslbench.report.tables import build_table, write_table

    results = Path(results)

    def tables() -> list:
        written = []
        for kind in KINDS:
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


# --------------------------------------------------------------------------- CLI
def _split(value: str | None) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else []


SWEEP_DEFAULTS: dict[str, Any] = {
    "all_runs": False, "executor": "local", "jobs": None, "dry_run": False, "models": None,
    "methods": None, "datasets": None, "seeds": None, "only": None, "slurm_partition": None,
    "slurm_time": "60", "slurm_gpus_per_job": 0, "slurm_cpus_per_job": 1, "slurm_extra": (), "tracks": None,
    "ablate": None,
}


def sweep_options(f):
    """The `zslbench run` options of `--all` (applied as one decorator to keep cli.py small)."""
    opts = [
        click.option("--all", "all_runs", is_flag=True, help="Run the whole grid (GZSL and CZSL) as a sweep."),
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
                     help="--all: CZSL tracks, comma-separated: features,images (default both; image-track "
                          "runs where the raw images are in the data folder)."),
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


def reject_sweep_options(sweep: dict[str, Any]) -> None:
    """Single-run `zslbench run`: the sweep options need --all."""
    for key, default in SWEEP_DEFAULTS.items():
        if key != "all_runs" and sweep.get(key, default) not in (default, None, ()):
            raise ConfigError(f"--{key.replace('_', '-')} needs --all")


def run_all_cli(
    *, profile: str, source: str, data_dir: Path | None, device: str, results: Path | None,
    sets: tuple[str, ...], force: bool, single: dict[str, Any], preset: str | None = None, **sweep: Any,
) -> None:
    """`zslbench run --all ...`: plan, print or run, summarise, build the report; exits 1 when a
    run failed and 130 on Ctrl-C."""
    for opt, value in single.items():
        if value not in (None, False):
            plural = {"model": "--models", "dataset": "--datasets", "seed": "--seeds"}.get(opt, f"--{opt}s")
            raise ConfigError(f"--{opt} selects a single run; with --all use {plural}")
    jobs = sweep.get("jobs")
    if jobs is not None and jobs < 1:
        raise ConfigError(f"--jobs {jobs}: must be >= 1")
    seeds = []
    for text in _split(sweep.get("seeds")):
        try:
            seeds.append(int(text))
        except ValueError:
            raise ConfigError(f"--seeds: {text!r} is not an integer") from None
    executor = sweep.get("executor") or "local"
    if executor != "slurm":
        for key in ("slurm_partition", "slurm_time", "slurm_gpus_per_job", "slurm_cpus_per_job", "slurm_extra"):
            if sweep.get(key, SWEEP_DEFAULTS[key]) not in (SWEEP_DEFAULTS[key], None, ()):
                raise ConfigError(f"--{key.replace('_', '-')} needs --executor slurm")
    elif jobs is not None:
        raise ConfigError("--jobs applies to --executor local (SLURM runs one array task per run)")
    slurm = None
    if executor == "slurm":
        for key in ("slurm_gpus_per_job", "slurm_cpus_per_job"):
            if sweep[key] < 0 or (key == "slurm_cpus_per_job" and sweep[key] < 1):
                raise ConfigError(f"--{key.replace('_', '-')} {sweep[key]}: must be >= {1 if 'cpus' in key else 0}")
        slurm = SlurmOptions(sweep.get("slurm_partition"), parse_slurm_time(sweep.get("slurm_time") or "60"),
                             sweep["slurm_gpus_per_job"], sweep["slurm_cpus_per_job"],
                             parse_slurm_extra(sweep.get("slurm_extra") or ()))
    plan = plan_sweep(
        profile, models=_split(sweep.get("models")) or None, methods=_split(sweep.get("methods")) or None,
        datasets=_split(sweep.get("datasets")) or None, seeds=seeds or None, only=sweep.get("only"),
        source=source, data_dir=data_dir, device=device, results=results, sets=sets, force=force,
        preset=preset,
        tracks=_split(sweep.get("tracks")) or None, ablate=_split(sweep.get("ablate")) or None,
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
         + (f" on {parallel} local job(s), about {_fmt_seconds(time_left(plan, parallel))}" if executor == "local" and n else ""))
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
