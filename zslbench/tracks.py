"""Kinds of runs as data, and the one runner core they share.

A *track* is one kind of run: ``gzsl`` (zslbench.runner), ``czsl-features`` (zslbench.czsl_runner)
and ``czsl-images`` (zslbench.czsl_images).  Each is a :class:`Track` in :data:`TRACKS` that
knows its config class, its data loader, what its run id hashes, how to train and what its
record and files hold.  :func:`execute_run` (one run: the CLI, the sweep workers, ``run
--from-record``) and :func:`planned_run_id` (the sweep planner) are the same for all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Mapping

from zslbench import store
from zslbench.registry import Registry


@dataclass
class RunOutcome:
    run_id: str
    path: Path
    record: dict
    skipped: bool  # True when the run was already done and not retrained


class Track:
    """The interface of a kind of run; subclasses live beside their trainers."""

    key: ClassVar[str] = ""  # registry name: "gzsl", "czsl-features", "czsl-images"
    kind: ClassVar[str] = ""  # record "kind": "gzsl" | "czsl"
    track: ClassVar[str | None] = None  # record "track" (CZSL only)
    config_cls: ClassVar[type] = object
    description: ClassVar[str] = ""

    # --- names and config ---
    def names(self) -> list[str]:
        """The models (GZSL) or methods (CZSL) this track runs."""
        raise NotImplementedError

    def datasets(self) -> tuple[str, ...]:
        raise NotImplementedError

    def check(self, name: str, dataset: str) -> None:
        """ConfigError for an unknown model/method or a dataset this track does not run on."""
        raise NotImplementedError

    def make_config(self, profile: str, overrides: Mapping[str, Any] | None):
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

    def identity(self, name: str, classnorm: bool | None, dataset: str, source: str, fingerprint: str,
                 seed: int, cfg) -> dict:
        """What the run id hashes."""
        raise NotImplementedError

    def extra_identity(self, cfg, data_dir: Path | None) -> dict:
        """Further identity fields that are not in the config (e.g. a checkpoint's hash)."""
        return {}

    # --- training and the record ---
    def train(self, name: str, classnorm: bool | None, data, seed: int, cfg, device: str,
              progress: bool | None, data_dir: Path | None = None):
        raise NotImplementedError

    def record(self, run_id: str, identity: dict, profile: str, data, cfg, result) -> tuple[dict, dict]:
        """(record, {file name: text}) of a finished run."""
        raise NotImplementedError


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
        from zslbench.runner import load_for_run

        return load_for_run(dataset, source, data_dir, cfg)


TRACKS: Registry[Track] = Registry("run kind")
_LOADED = False


def _load_builtin() -> None:
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    # Each module registers its track when imported.
    import zslbench.czsl_images  # noqa: F401
    import zslbench.czsl_runner  # noqa: F401
    import zslbench.runner  # noqa: F401


def register(track: Track) -> Track:
    return TRACKS.register(track.key, track)


def get_track(key: str) -> Track:
    _load_builtin()
    return TRACKS.get(key)


def track_key(kind: str, track: str | None = None) -> str:
    """Registry key of a record's (kind, track): gzsl, czsl-features, czsl-images."""
    if kind == "gzsl":
        return "gzsl"
    return f"{kind}-{track or 'features'}"


def track_of_record(record: Mapping[str, Any]) -> Track:
    from zslbench.errors import RecordError

    key = track_key(str(record.get("kind")), record.get("track"))
    _load_builtin()
    if key not in TRACKS:
        raise RecordError(f"unknown record kind {record.get('kind')!r} / track {record.get('track')!r}")
    return TRACKS.get(key)


def read_done(folder: Path) -> dict | None:
    """The record of a done run, or None (with a warning) when it cannot be used: retrain then."""
    import warnings

    from zslbench.errors import RecordError

    try:
        return store.read_record(folder / store.RECORD_FILE)
    except RecordError as exc:
        warnings.warn(f"{exc}; training the run again", stacklevel=3)
        return None


def planned_run_id(
    track: Track, name: str, dataset: str, seed: int = 1, classnorm: bool | None = None,
    profile: str = "paper", source: str = "auto", data_dir: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> str:
    """The run id that :func:`execute_run` with these arguments will use, computed without
    loading the data or training (only the data fingerprint is computed)."""
    dataset = str(dataset).strip().lower()
    track.check(name, dataset)
    cfg = track.make_config(profile, overrides)
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
) -> RunOutcome:
    """Train one run and write its record, unless it is done already (then return that)."""
    track.check(name, dataset if data is None else data.name)
    cfg = track.make_config(profile, overrides)
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
    result = track.train(name, classnorm, data, seed, cfg, device, progress, data_dir)
    record, files = track.record(run_id, identity, profile, data, cfg, result)
    path = store.write_run(results, run_id, record, files)
    return RunOutcome(run_id, path, record, skipped=False)
