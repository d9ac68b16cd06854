"""One run from Python: :func:`run` (GZSL or CZSL), the :class:`Run` it returns, and the checks
and training that `zslbench run` shares with it (the same records and run ids)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zslbench.commands.common import (
    check_dataset_name,
    check_writable,
    clean_stale_temp,
    fail,
    warn_if_synthetic,
    warn_if_synthetic_images,
)
from zslbench.records import RunRecord

if TYPE_CHECKING:
    from zslbench.tracks import RunOutcome


@dataclass
class Run:
    """A recorded run: ``metrics``, ``run_id``, ``record_path``, the whole ``record``, and its
    per-epoch log (``epochs``; CZSL: per task) and variance trace (``trace``) as DataFrames."""

    run_id: str
    record_path: Path
    record: RunRecord = field(repr=False)
    skipped: bool = False  # True: the run was done already and not retrained

    @property
    def metrics(self) -> dict:
        return dict(self.record.get("metrics", {}))

    @property
    def folder(self) -> Path:
        return self.record_path.parent

    def _side(self, *names: str):
        import pandas as pd

        for name in names:
            if (self.folder / name).is_file():
                return pd.read_csv(self.folder / name)
        return pd.DataFrame()

    @property
    def epochs(self):
        """epochs.csv (GZSL: loss, lr, per-sample test H per epoch) or tasks.csv (CZSL)."""
        return self._side("epochs.csv", "tasks.csv")

    @property
    def trace(self):
        """trace.csv: the logit-variance statistics per iteration (empty when not traced)."""
        return self._side("trace.csv")

    def __repr__(self) -> str:
        from zslbench.loggers import run_label

        shown = ", ".join(f"{k}={v:.2f}" for k, v in self.metrics.items() if isinstance(v, (int, float)))
        return f"Run({run_label(self.record)}, run_id={self.run_id!r}, {shown})"


def set_items(sets: Mapping[str, Any] | Iterable[str] | None) -> tuple[str, ...]:
    """`--set` items from a dict (``{"epochs": 3}``) or from ``"key=value"`` texts."""
    if not sets:
        return ()
    if isinstance(sets, str):
        return (sets,)
    if isinstance(sets, Mapping):

        def text(v: Any) -> str:
            return str(v).lower() if isinstance(v, bool) else str(v)

        return tuple(f"{k}={text(v)}" for k, v in sets.items())
    return tuple(str(s) for s in sets)


def prepare_run(track, name, classnorm, dataset, seed, profile, preset, source, data_dir, device, results, sets):
    """(overrides, config, seed) of one run, every check done before any work: the values of
    --set and the preset, options that do not act on the run (exit 2), cuda_tf32 on a CPU,
    flush_denormal=true on CUDA, a results folder that cannot be written."""
    from zslbench.applicability import refuse_inactive
    from zslbench.config import check_seed, get_profile
    from zslbench.devices import check_run_options, for_device

    prof = get_profile(profile)
    explicit = track.parse_run_sets(sets, name)
    overrides = for_device(device, track.with_preset(preset, explicit), track.config_fields())
    cfg = track.make_config(profile, overrides)  # validate values before any work
    src = track.resolve_source(dataset, source, data_dir)
    explicit = [k for k in explicit if "." not in k]  # a plugin's own options act on its runs
    refuse_inactive(track.applicability_table, track.traits(name, classnorm, dataset, src), cfg, explicit)
    check_run_options(device, cfg)
    seed = prof.seeds[0] if seed is None else check_seed(seed, "--seed")
    check_writable(results)
    clean_stale_temp(results)
    return overrides, cfg, seed


def gzsl_run(
    model,
    dataset,
    seed,
    profile,
    preset,
    source,
    data_dir,
    device,
    results,
    sets,
    force,
    method=None,
    loggers=(),
    progress=None,
) -> RunOutcome:
    """One GZSL run (`zslbench run --model M --dataset D`): its RunOutcome."""
    from zslbench.loggers import resolve_loggers
    from zslbench.models import MODELS
    from zslbench.tracks import execute_run, get_track

    DATASETS = get_track("gzsl").datasets()  # the xlsa17 ones and those of plugins

    if source == "images":
        fail("run: --data images is for the CZSL image track (--czsl --track images)")
    if method:
        fail("run: --method needs --czsl (GZSL runs take --model)")
    if not model:
        fail("run: --model is required (see `zslbench list models`)")
    if not dataset:
        fail(f"run: --dataset is required; valid datasets: {', '.join(DATASETS)}")
    MODELS.get(model)
    check_dataset_name(dataset, DATASETS)
    track = get_track("gzsl")
    overrides, _cfg, seed = prepare_run(
        track, model, None, dataset, seed, profile, preset, source, data_dir, device, results, sets
    )
    loggers = resolve_loggers(loggers)
    warn_if_synthetic(dataset, source, data_dir)
    return execute_run(
        track,
        model,
        dataset,
        seed=seed,
        profile=profile,
        source=source,
        data_dir=data_dir,
        device=device,
        results=results,
        overrides=overrides,
        force=force,
        loggers=loggers,
        progress=progress,
    )


def czsl_run(
    method,
    classnorm,
    dataset,
    seed,
    profile,
    preset,
    source,
    data_dir,
    device,
    results,
    sets,
    force,
    track_name="features",
    loggers=(),
    progress=None,
) -> RunOutcome:
    """One continual-ZSL run (`zslbench run --czsl [--track features|images]`): its RunOutcome."""
    from zslbench.loggers import resolve_loggers
    from zslbench.tracks import execute_run, get_track
    from zslbench.tracks.czsl import CZSL_DATASETS, check_czsl_dataset
    from zslbench.train.czsl import CZSL_METHODS

    if not method:
        fail(f"run --czsl: --method is required; valid methods: {', '.join(CZSL_METHODS)}")
    if not dataset:
        fail(f"run --czsl: --dataset is required; valid datasets: {', '.join(CZSL_DATASETS)}")
    CZSL_METHODS.get(method)
    check_czsl_dataset(dataset)
    track = get_track(f"czsl-{track_name}")
    if track_name == "features" and source == "images":
        fail("run --czsl: --data images is for the image track (--track images)")
    if track_name == "images" and source == "xlsa17":
        fail("run --czsl --track images: --data xlsa17 holds features, not images (use auto, images or synthetic)")
    overrides, cfg, seed = prepare_run(
        track, method, classnorm, dataset, seed, profile, preset, source, data_dir, device, results, sets
    )
    loggers = resolve_loggers(loggers)
    if track_name == "images":
        track.extra_identity(cfg, data_dir)  # e.g. a missing checkpoint: one line, before any work
        warn_if_synthetic_images(dataset, source, data_dir)
    else:
        warn_if_synthetic(dataset, source, data_dir)
    return execute_run(
        track,
        method,
        dataset,
        seed=seed,
        classnorm=classnorm,
        profile=profile,
        source=source,
        data_dir=data_dir,
        device=device,
        results=results,
        overrides=overrides,
        force=force,
        loggers=loggers,
        progress=progress,
    )


def run(
    model: str | None = None,
    dataset: str | None = None,
    seed: int | None = None,
    profile: str = "quick",
    preset: str | None = None,
    sets: Mapping[str, Any] | Iterable[str] | None = None,
    data: str = "auto",
    results: str | Path | None = None,
    device: str = "cpu",
    *,
    method: str | None = None,
    cn: bool = True,
    track: str | None = None,
    data_dir: str | Path | None = None,
    force: bool = False,
    log: Iterable[Any] = (),
    progress: bool | None = None,
) -> Run:
    """Train and evaluate one run (or return it when it is done already) and return it as a `Run`.

    ``model=`` makes a GZSL run; ``method=`` (with ``cn`` and ``track="features"`` or
    ``"images"``) a continual-ZSL run.  ``seed`` None: the profile's first seed.  ``sets``:
    config overrides, ``{"epochs": 3}`` or ``["epochs=3"]`` (``zslbench run --set``).  ``data``:
    auto, xlsa17, images or synthetic.  ``log``: logger names (``"tensorboard"``, ``"csv"``,
    ``"mlflow"``) or zslbench.api.RunLogger instances.  The record and run id are those of
    `zslbench run` with the same options; bad input raises zslbench.errors.ZSLBenchError with
    the command line's message."""
    results = None if results is None else Path(results)
    data_dir = None if data_dir is None else Path(data_dir)
    from zslbench.presets import get_preset

    get_preset(preset)
    items = set_items(sets)
    if method is not None or track is not None:
        if model:
            fail("run: model= is for GZSL runs; a CZSL run takes method=")
        outcome = czsl_run(
            method,
            bool(cn),
            dataset,
            seed,
            profile,
            preset,
            data,
            data_dir,
            device,
            results,
            items,
            force,
            track or "features",
            loggers=log,
            progress=progress,
        )
    else:
        outcome = gzsl_run(
            model,
            dataset,
            seed,
            profile,
            preset,
            data,
            data_dir,
            device,
            results,
            items,
            force,
            loggers=log,
            progress=progress,
        )
    return Run(outcome.run_id, Path(outcome.path) / "record.json", outcome.record, outcome.skipped)


def load_plugins(*modules: str) -> list:
    """Import plugin modules (zslbench.api: models, methods, datasets, loggers) as ``--plugin``
    does, after the built-ins; returns what was loaded.  A module already loaded is skipped."""
    from zslbench.plugins import LOADED
    from zslbench.tracks import load_plugins as load

    return load([m for m in modules if m not in LOADED], entry_points=False)
