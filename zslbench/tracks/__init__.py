"""Kinds of runs.  A *track* is one kind of run, in one file of this package:

* ``gzsl`` (:mod:`zslbench.tracks.gzsl`): an attribute embedder on fixed features;
* ``czsl-features`` (:mod:`zslbench.tracks.czsl_features`): continual ZSL, the attribute head on
  fixed features;
* ``czsl-images`` (:mod:`zslbench.tracks.czsl_images`): continual ZSL, a ResNet-18 fine-tuned on
  raw images (the paper's protocol).

Each track is two things: a :class:`Track` (:mod:`zslbench.tracks.base`), what a run of its kind
is (config, grid, data, run id, training, record), and its ``info``, a
:class:`~zslbench.tracks.info.TrackInfo` (:mod:`zslbench.tracks.info`), how the command line,
the sweep and the reports name it and time its runs, which no run depends on.

Glossary (each word means this one thing in the tracks, the sweep and the reports):

* **track**: a :class:`Track` object, one kind of run (never a string);
* **track key** (``Track.key``, ``Job.track_key``): the one string naming a track: ``gzsl``,
  ``czsl-features``, ``czsl-images``; used by profiles, sweep settings, ``--tracks`` and time
  estimates.  It is the record kind, then ``-`` and the record track where there is one
  (zslbench.store.track_key);
* **record kind** (``Track.record_kind``; a record's or a job's ``kind``): ``gzsl`` or ``czsl``,
  the family of records that share metrics, presets and the ``--only`` filter;
* **record track** (``Track.record_track``; a record's or a job's ``track``): which CZSL track
  wrote a record, ``features`` or ``images`` (None for GZSL);
* **table kind** (``TrackInfo.table_kind``): the ``zslbench table`` kind whose sections hold a
  track's records;
* **applicability table** (``Track.applicability_table``): the zslbench.applicability table
  saying which config fields act on a run of the track.

:data:`TRACKS` lists the tracks a sweep and the reports know: the built-ins, in this order.  A
further track (a plugin, or a test's toy track) is added by appending an instance of a
:class:`Track` subclass to it; nothing registers itself on import.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zslbench import store
from zslbench.errors import ConfigError, RecordError
from zslbench.tracks.base import RunOutcome, Track, execute_run, planned_run_id
from zslbench.tracks.czsl_features import CZSLFeaturesTrack
from zslbench.tracks.czsl_images import CZSLImagesTrack
from zslbench.tracks.gzsl import GZSLTrack
from zslbench.tracks.info import TrackInfo

__all__ = [
    "BUILTIN",
    "TRACKS",
    "RunOutcome",
    "Track",
    "TrackInfo",
    "all_tracks",
    "execute_run",
    "get_track",
    "load_plugins",
    "make_config",
    "planned_run_id",
    "track_of_record",
]

BUILTIN: tuple[Track, ...] = (GZSLTrack(), CZSLFeaturesTrack(), CZSLImagesTrack())
TRACKS: list[Track] = list(BUILTIN)


def all_tracks() -> list[Track]:
    return list(TRACKS)


def get_track(key: str) -> Track:
    for track in TRACKS:
        if track.key == key:
            return track
    raise ConfigError(f"unknown track {key!r}; valid tracks: {', '.join(track.key for track in TRACKS)}")


def track_of_record(record: Mapping[str, Any]) -> Track:
    """The track of a record (from its ``kind`` and ``track``: zslbench.store.record_track_key)."""
    key = store.record_track_key(record)
    for track in TRACKS:
        if track.key == key:
            return track
    raise RecordError(f"unknown record kind {record.get('kind')!r} / track {record.get('track')!r}")


def make_config(key: str, profile: str = "paper", overrides: Mapping[str, Any] | None = None):
    """The config of a run of track `key` under `profile`, with `overrides` on top."""
    return get_track(key).make_config(profile, overrides)


def load_plugins(modules=(), entry_points: bool = True, check: bool = True) -> list:
    """Load plugins (zslbench.plugins) once the built-in models and methods are registered, so
    that a plugin reusing a built-in name is the one refused."""
    from zslbench import plugins

    if not plugins.plugin_modules(modules, entry_points):
        return []  # nothing to load: the built-ins stay unimported until used
    import zslbench.models
    import zslbench.train.methods  # noqa: F401  (and methods)

    if not check:
        return [plugins.load_plugin(m, check=False) for m in modules]
    return plugins.load_plugins(modules, entry_points)
