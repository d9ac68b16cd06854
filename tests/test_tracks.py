"""The track vocabulary (zslbench.tracks): a track's key, record kind and record track agree with
the records it writes, its naming and time estimates live in its TrackInfo and never in a run
id, and a track written with the attribute names of before is refused in one message."""

from __future__ import annotations

import dataclasses

import pytest

from zslbench import store, tracks
from zslbench.tracks import BUILTIN, Track, TrackInfo, get_track


@pytest.mark.parametrize("track", BUILTIN, ids=lambda track: track.key)
def test_the_record_kind_and_track_give_back_the_track_key(track):
    name = track.default_names()[0]
    classnorm = track.classnorm_grid[-1]
    dataset = track.info.grid_datasets[0]
    identity = track.identity(name, classnorm, dataset, "synthetic", "fp", 1, track.make_config("quick"))
    assert (identity["kind"], identity.get("track")) == (track.record_kind, track.record_track)
    assert store.record_track_key(identity) == store.track_key(track.record_kind, track.record_track) == track.key
    assert tracks.track_of_record(identity) is track
    assert isinstance(track.info, TrackInfo) and track.info.table_kind == track.record_kind


def test_track_info_is_frozen_and_holds_the_estimates():
    info = get_track("czsl-features").info
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.seconds = {}  # type: ignore[misc]
    assert info.default_seconds("paper", "sun") == info.dataset_seconds["paper"]["sun"]
    assert info.default_seconds("paper", "awa1") == info.seconds["paper"]  # a dataset not measured
    assert info.default_seconds("no-such-profile") == info.seconds["paper"]
    assert info.measured_on("paper", "cub") and not info.measured_on("quick", "awa1")


def test_a_track_info_change_leaves_the_run_id_as_it_was():
    gzsl = get_track("gzsl")

    class Renamed(type(gzsl)):  # type: ignore[misc]
        info = dataclasses.replace(
            gzsl.info, description="another", grid_datasets=("awa2",), seconds={"paper": 1.0}, dataset_seconds={}
        )

    args = ("linear", "cub", 1, None, "quick", "synthetic")
    assert tracks.planned_run_id(Renamed(), *args) == tracks.planned_run_id(gzsl, *args)


@pytest.mark.parametrize(
    "old, new",
    [("kind", "record_kind"), ("track", "record_track"), ("seconds", "info.seconds"), ("note", "track_note")],
)
def test_a_track_with_the_old_attribute_names_is_refused(old, new):
    with pytest.raises(TypeError, match=rf"OldTrack: {old} is now {new} \(zslbench.tracks\)"):
        type("OldTrack", (Track,), {"key": "old", old: "x"})
