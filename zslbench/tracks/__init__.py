"""Kinds of runs.  A *track* is one kind of run, in one file of this package:

* ``gzsl`` (:mod:`zslbench.tracks.gzsl`): an attribute embedder on fixed features;
* ``czsl-features`` (:mod:`zslbench.tracks.czsl_features`): continual ZSL, the attribute head on
  fixed features;
* ``czsl-images`` (:mod:`zslbench.tracks.czsl_images`): continual ZSL, a ResNet-18 fine-tuned on
  raw images (the paper's protocol).

The track key is the one name of a kind of run everywhere: in profiles, sweep settings,
``--tracks``, time estimates and (through the record's ``kind`` and ``track``) records.

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

__all__ = [
    "BUILTIN",
    "TRACKS",
    "RunOutcome",
    "Track",
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
    raise ConfigError(f"unknown track {key!r}; valid tracks: {', '.join(t.key for t in TRACKS)}")


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
