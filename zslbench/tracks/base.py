"""What every kind of run shares: the :class:`Track` interface, one run end to end
(:func:`execute_run`), its id before it runs (:func:`planned_run_id`), and the helpers the
tracks use (the feature data side, the record's preset label, CSV side files).

A track owns everything that decides a run of its kind: its config class and per-profile values,
its grid (names x ClassNorm on/off), which ``--set`` keys it takes, where its data comes from,
what its run id hashes, how it trains, its record and how a record is read back into a run.
How the CLI, the sweep and the reports name the track and time its runs is not part of a run:
that is the track's :class:`~zslbench.tracks.info.TrackInfo` (``Track.info``).  The words
(track key, record kind, record track) are those of the glossary in :mod:`zslbench.tracks`.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar

from zslbench import store
from zslbench.checkpoints import checkpointing
from zslbench.config import check_seed, get_profile, parse_overrides
from zslbench.errors import ConfigError, RecordError
from zslbench.plugins import attach_options, is_option_key, parse_option
from zslbench.records import RunRecord
from zslbench.tracks.info import TrackInfo


@dataclass
class RunOutcome:
    run_id: str
    path: Path
    record: RunRecord
    skipped: bool  # True when the run was already done and not retrained


# class attributes a track set before TrackInfo held its naming: where each one went
RENAMED = {
    "kind": "record_kind",
    "track": "record_track",
    "description": "info.description",
    "name_option": "info.name_option",
    "grid_datasets": "info.grid_datasets",
    "table_kind": "info.table_kind",
    "seconds": "info.seconds",
    "dataset_seconds": "info.dataset_seconds",
    "note": "track_note",
}


class Track:
    """One kind of run.  Subclasses set the class attributes and implement the methods that
    raise NotImplementedError; the rest have defaults that fit most tracks."""

    key: ClassVar[str] = ""  # the track key: "gzsl", "czsl-features", "czsl-images"
    record_kind: ClassVar[str] = ""  # its records' "kind": "gzsl" | "czsl" (also --only, the presets)
    record_track: ClassVar[str | None] = None  # its records' "track" (CZSL: "features" | "images")
    config_cls: ClassVar[type] = object
    # per-profile config values (a profile not listed: the config's defaults)
    profiles: ClassVar[Mapping[str, Mapping[str, Any]]] = {}
    name_field: ClassVar[str] = "model"  # the record field holding the model/method name
    classnorm_grid: ClassVar[tuple] = (None,)  # (None,): ClassNorm is part of the name
    applicability_table: ClassVar[str] = ""  # zslbench.applicability.TABLES key: the fields that act
    info: ClassVar[TrackInfo]  # how the CLI, the sweep and the reports name it (not part of a run)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        old = sorted(set(vars(cls)) & set(RENAMED))
        if old:
            raise TypeError(
                f"{cls.__name__}: " + "; ".join(f"{name} is now {RENAMED[name]}" for name in old) + " (zslbench.tracks)"
            )

    # --- names and config ---
    def names(self) -> list[str]:
        """The models (GZSL) or methods (CZSL) this track runs, in the sweep's order."""
        raise NotImplementedError

    def default_names(self) -> list[str]:
        """The names the sweep runs when none are given."""
        return self.names()

    def datasets(self) -> tuple[str, ...]:
        """Every dataset this track can run on."""
        raise NotImplementedError

    def check(self, name: str, dataset: str) -> None:
        """ConfigError for an unknown model/method or a dataset this track does not run on."""
        raise NotImplementedError

    def make_config(self, profile: str = "paper", overrides: Mapping[str, Any] | None = None):
        """The config of a run: the profile's values for this track, then the overrides."""
        get_profile(profile)  # an unknown profile fails here
        values = {**self.profiles.get(profile, {}), **(overrides or {})}
        options = {k: values.pop(k) for k in [k for k in values if is_option_key(k)]}  # a plugin's
        unknown = sorted(set(values) - {f.name for f in fields(self.config_cls)})
        if unknown:
            raise ConfigError(f"unknown {self.key} option(s): {', '.join(unknown)}")
        return attach_options(self.config_cls(**values), options)

    def config_fields(self) -> set[str]:
        return {f.name for f in fields(self.config_cls)}

    def parse_sets(self, items) -> dict:
        """The `--set key=value` items whose key this track's config has, typed."""
        names = self.config_fields()
        own = set(self.names())
        out = parse_overrides(self.config_cls, [i for i in items if i.split("=", 1)[0].strip() in names])
        for item in items:
            key, _, text = item.partition("=")
            if is_option_key(key.strip()) and key.strip().split(".", 1)[0] in own:
                out[key.strip()] = parse_option(key.strip(), text.strip())
        return out

    def parse_run_sets(self, items, name: str) -> dict:
        """The `--set` items of one run of `name`, typed; a model's or method's own option
        (``<name>.<option>``) only for that model or method."""
        plain = [i for i in items if not is_option_key(i.split("=", 1)[0].strip())]
        out = parse_overrides(self.config_cls, plain)
        for item in items:
            key, _, text = item.partition("=")
            key = key.strip()
            if is_option_key(key):
                value = parse_option(key, text.strip())
                if key.split(".", 1)[0] != name:
                    raise ConfigError(f"--set {key}: this option does not act on {self.name_field} {name}")
                out[key] = value
        return out

    def with_preset(self, preset: str | None, overrides: Mapping[str, Any] | None) -> dict:
        """The preset's fields that this track's config has, then `overrides` on top."""
        from zslbench.presets import get_preset

        names = self.config_fields()
        fields_ = {k: v for k, v in get_preset(preset).fields(self.record_kind).items() if k in names}
        return {**fields_, **(overrides or {})}

    # --- the grid ---
    def grid(self, names: list[str]) -> Iterator[tuple[str, bool | None]]:
        """(name, classnorm) of every run on one dataset and seed."""
        for name in names:
            for cn in self.classnorm_grid:
                yield name, cn

    def availability(self, dataset: str, source: str, data_dir: Path | None, cfg, named: bool) -> str | None:
        """None when the sweep plans this track's runs on `dataset`; else the note saying why not
        (``named``: the track was named in --tracks)."""
        return None

    def pitfall_options(self) -> tuple[str, ...]:
        """Result-relevant options a record lists under ``non_default_options`` when not default."""
        return ()

    def acts(self, option: str, traits: Mapping[str, Any], cfg) -> bool:
        """Whether a config field acts on a run with these traits (zslbench.applicability; a
        track without a table there: every field acts)."""
        if not self.applicability_table:
            return True
        from zslbench.applicability import acts

        return acts(self.applicability_table, option, traits, cfg)

    def set_accepted(self, option: str, traits: Mapping[str, Any], cfg) -> bool:
        """Whether an explicit ``--set`` of `option` is accepted for a run: it acts, or only its
        own value keeps it from acting (zslbench.applicability.set_accepted)."""
        if is_option_key(option):  # a plugin's option: acts on its own model's or method's runs
            return option.split(".", 1)[0] == traits.get(self.name_field)
        if not self.applicability_table:
            return True
        from zslbench.applicability import set_accepted

        return set_accepted(self.applicability_table, option, traits, cfg)

    def traits(self, name: str, classnorm: bool | None, dataset: str, source: str) -> dict:
        """The run's traits for zslbench.applicability."""
        raise NotImplementedError

    # --- data ---
    def resolve_source(self, dataset: str, source: str, data_dir: Path | None) -> str:
        raise NotImplementedError

    def fingerprint(self, dataset: str, source: str, data_dir: Path | None, cfg) -> str:
        raise NotImplementedError

    def data_key(self, cfg) -> tuple:
        """What the loaded data depends on besides dataset and source (a worker's data cache key;
        tracks that load the same data return the same key)."""
        return ("zsl", cfg.synthetic_scale, cfg.synthetic_seed)

    def load(self, dataset: str, source: str, data_dir: Path | None, cfg, progress: bool | None = None):
        raise NotImplementedError

    def identity(
        self, name: str, classnorm: bool | None, dataset: str, source: str, fingerprint: str, seed: int, cfg
    ) -> dict:
        """What the run id hashes."""
        raise NotImplementedError

    def extra_identity(self, cfg, data_dir: Path | None) -> dict:
        """Further identity fields that are not in the config (e.g. a checkpoint's hash)."""
        return {}

    # --- training and the record ---
    def train(
        self,
        name: str,
        classnorm: bool | None,
        data,
        seed: int,
        cfg,
        device: str,
        progress: bool | None,
        data_dir: Path | None = None,
    ):
        raise NotImplementedError

    def record(self, run_id: str, identity: dict, profile: str, data, cfg, result) -> tuple[RunRecord, dict[str, str]]:
        """(record, {file name: text}) of a finished run."""
        raise NotImplementedError

    def name_seconds(self, name: str, profile: str, dataset: str) -> float | None:
        """What one run of model/method `name` takes where its own cost is known apart from the
        track's (the sweep's estimates only); None: the track's figures apply."""
        return None

    def run_args(self, record: Mapping[str, Any]) -> tuple[str, bool | None]:
        """(name, classnorm) of the run a record describes."""
        if self.name_field not in record:
            raise RecordError(f"the {self.record_kind} record names no {self.name_field}: it cannot be rerun")
        cn = record.get("classnorm") if self.classnorm_grid != (None,) else None
        return str(record[self.name_field]), None if cn is None else bool(cn)


class FeatureData:
    """The data side of the tracks that read xlsa17 (or synthetic) features: GZSL and the CZSL
    features track load the same data."""

    def resolve_source(self, dataset: str, source: str, data_dir: Path | None) -> str:
        from zslbench.data import resolve_source

        return resolve_source(dataset, source, data_dir)

    def fingerprint(self, dataset: str, source: str, data_dir: Path | None, cfg) -> str:
        from zslbench.data import fingerprint

        return fingerprint(dataset, source, data_dir, scale=cfg.synthetic_scale, seed=cfg.synthetic_seed)

    def load(self, dataset: str, source: str, data_dir: Path | None, cfg, progress: bool | None = None):
        return load_for_run(dataset, source, data_dir, cfg)


def run_under_numerics(cfg, device, fn):
    """fn() under the run's numeric settings (threads, cuda_tf32, flush_denormal:
    zslbench.numerics.numeric_context); (its result, the record's env block).  On a CPU the
    env block's ``flush_denormal`` says whether every one of the run's threads flushed
    subnormal floats at its end (checked on the threads; zslbench.subnormal)."""
    from zslbench.devices import is_cuda
    from zslbench.numerics import numeric_context
    from zslbench.subnormal import FLUSH, thread_modes

    with numeric_context(cfg.threads, device, cfg.cuda_tf32, cfg.flush_denormal):
        result = fn()
        env = store.environment(result.device)
        if not is_cuda(device):
            env["flush_denormal"] = thread_modes(cfg.threads) == FLUSH
    return result, env


def load_for_run(dataset: str, source: str, data_dir: Path | None, cfg):
    """The feature data a run reads; `cfg` gives the synthetic scale and seed."""
    from zslbench.data import load_dataset, resolve_source

    src = resolve_source(dataset, source, data_dir)
    return load_dataset(dataset, src, data_dir, scale=cfg.synthetic_scale, synthetic_seed=cfg.synthetic_seed)


def preset_fields(kind: str, active: dict) -> dict:
    """The record's ``preset`` label (and ``preset_overrides`` when it has some), from the
    fields that act on the run (zslbench.presets)."""
    from zslbench.presets import preset_label

    label, differing = preset_label(kind, active)
    return {"preset": label, **({"preset_overrides": differing} if differing else {})}


def rows_csv(rows: list[dict]) -> str:
    """A list of dicts as CSV text (a record's side file)."""
    import pandas as pd

    buf = io.StringIO()
    pd.DataFrame(rows).to_csv(buf, index=False)
    return buf.getvalue()


def read_done(folder: Path) -> RunRecord | None:
    """The record of a done run, or None (with a warning) when it cannot be used: retrain then."""
    try:
        return store.read_record(folder / store.RECORD_FILE)
    except RecordError as exc:
        warnings.warn(f"{exc}; training the run again", stacklevel=3)
        return None


def planned_run_id(
    track: Track,
    name: str,
    dataset: str,
    seed: int = 1,
    classnorm: bool | None = None,
    profile: str = "paper",
    source: str = "auto",
    data_dir: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    device: str = "cpu",
) -> str:
    """The run id that :func:`execute_run` with these arguments will use, computed without
    loading the data or training (only the data fingerprint is computed)."""
    from zslbench.devices import for_device

    dataset = str(dataset).strip().lower()
    track.check(name, dataset)
    cfg = track.make_config(profile, for_device(device, overrides, track.config_fields()))
    src = track.resolve_source(dataset, source, data_dir)
    fp = track.fingerprint(dataset, src, data_dir, cfg)
    identity = track.identity(name, classnorm, dataset, src, fp, seed, cfg)
    identity.update(track.extra_identity(cfg, data_dir))
    return store.make_run_id(identity)


def execute_run(
    track: Track,
    name: str,
    dataset: str,
    seed: int = 1,
    classnorm: bool | None = None,
    profile: str = "paper",
    source: str = "auto",
    data_dir: Path | None = None,
    device: str = "cpu",
    results: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    force: bool = False,
    progress: bool | None = None,
    data=None,
    loggers=(),
) -> RunOutcome:
    """Train one run and write its record, unless it is done already (then return that).
    ``loggers`` (names or zslbench.api.RunLogger instances) see the run once it is recorded."""
    from zslbench.devices import for_device

    track.check(name, dataset if data is None else data.name)
    check_seed(seed)
    cfg = track.make_config(profile, for_device(device, overrides, track.config_fields()))
    results = Path(results) if results is not None else store.default_results_dir()
    extra = track.extra_identity(cfg, data_dir)  # fails early (e.g. a missing checkpoint)
    if data is None:
        src = track.resolve_source(dataset, source, data_dir)
        data = track.load(dataset, src, data_dir, cfg, progress)
    identity = track.identity(name, classnorm, data.name, data.source, data.fingerprint, seed, cfg)
    identity.update(extra)
    run_id = store.make_run_id(identity)
    folder = store.run_dir(results, run_id)
    if store.is_done(results, run_id) and not force:
        done = read_done(folder)
        if done is not None:
            return RunOutcome(run_id, folder, done, skipped=True)
    with checkpointing(results, run_id, fresh=force) as checkpoint:  # a long run continues where it stopped
        result = track.train(name, classnorm, data, seed, cfg, device, progress, data_dir)
    record, files = track.record(run_id, identity, profile, data, cfg, result)
    path = store.write_run(results, run_id, record, files)
    checkpoint.clear()
    record = store.as_written(record)  # as a later call reads it back (skipped=True)
    if loggers:  # after the record is safe: a logger changes nothing and its failure loses nothing
        from zslbench.loggers import log_run

        log_run(loggers, run_id, record, path, results)
    return RunOutcome(run_id, path, record, skipped=False)
