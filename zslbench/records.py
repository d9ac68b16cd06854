"""The run record's fields, as types: what a record.json holds once zslbench.store.read_record has
brought it to the current schema (zslbench.store.migrate) and checked it (zslbench.schema).

At run time a record is a plain dict (these are TypedDicts: no conversion, no copy, the same
JSON bytes written and read).  The types let mypy check the fields the readers (replay, `table`,
`report`, the sweep, the library and the loggers) read as ``rec["name"]`` and the types of what
they get; mypy lets ``rec.get("misspelt")`` through, so tests/test_records.py checks every field
name those readers read from a record.

* :class:`RunRecord`: a record of any built-in track, every field the code knows; the type of
  what zslbench.store.read_record returns and zslbench.store.write_run writes;
* :class:`GZSLRecord`, :class:`CZSLFeaturesRecord`, :class:`CZSLImagesRecord`: the fields each
  built-in track writes (zslbench.tracks);
* a plugin's or a test's track writes fields of its own: its readers use ``Mapping[str, Any]``.

Only ``run_id``, ``metrics`` and ``record_version`` are in every record read back (read_record
refuses a record without the first two; migrate sets the third); any other field may be missing
from a record written by an older zslbench or edited by hand, so each is optional here and read
with ``.get`` where a record may lack it.

The fields each record version added, oldest first (RECORD_VERSION and migrate are in
zslbench.store, beside the writer and the reader):

* 1: the first format;
* 2: ``preset`` in every record (None: made before presets), ``threads`` in every config, and
  ``track`` in every CZSL record;
* 3: ``env.flush_denormal`` in every CPU run's env block.

Some fields came without a version bump, so that older records of the same version lack them:
``data_content_sha256`` (during version 1), ``plugin`` (during 2), ``model_options`` (during 3).
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

# The field that names a built-in track's model (GZSL) or method (CZSL): Track.name_field.
NameField = Literal["model", "method"]


class Env(TypedDict, total=False):
    """A record's ``env`` block (zslbench.store.environment)."""

    python: str
    torch: str
    numpy: str
    platform: str
    device: str
    device_name: str
    threads: int
    numerics: dict[str, Any]  # zslbench.environment.numeric_environment
    git_commit: str | None
    flush_denormal: bool  # CPU runs, since record version 3


class PluginIdentity(TypedDict, total=False):
    """A plugin run's ``plugin`` block (zslbench.plugins.run_identity): part of its run id."""

    module: str
    source_sha256: str
    source_files: dict[str, str]
    distribution: str
    version: str
    options: dict[str, Any]


class RecordCore(TypedDict):
    """The fields every record read back has."""

    run_id: str
    metrics: dict[str, float]  # the track's metrics (zslbench.metrics.registry); NaN: undefined
    record_version: int


class CommonFields(RecordCore, total=False):
    """The fields every built-in track writes: the run id's identity, then what the run gave."""

    # identity (what the run id hashes)
    kind: str  # "gzsl" | "czsl", or a further track's kind
    dataset: str
    data_source: str
    data_fingerprint: str
    seed: int
    config: dict[str, Any]  # the config fields that act on the run (zslbench.applicability)
    classnorm: bool | None
    plugin: PluginIdentity  # a plugin's model or method only
    # provenance
    plugin_distribution: str | None
    plugin_version: str | None
    profile: str
    preset: str | None  # None: a record from before presets
    preset_overrides: dict[str, Any]
    data_vintage: str | None
    data_summary: dict[str, Any]
    data_content_sha256: str
    non_default_options: dict[str, Any]
    train_seconds: float
    eval_seconds: float
    n_parameters: int
    env: Env
    created_at: str
    # set by zslbench.store.iter_records, never written: the run's folder
    _dir: str


class GZSLRecord(CommonFields, total=False):
    """A GZSL run's record (zslbench.tracks.gzsl)."""

    model: str
    model_options: dict[str, Any]  # a built-in model's own options (f-CLSWGAN)
    model_settings: dict[str, Any]
    model_extra: dict[str, Any]
    selected_epoch: int
    metrics_final_epoch: dict[str, float]
    metrics_oracle_best_test_H: dict[str, float]
    oracle_epoch: int


class CZSLFeaturesRecord(CommonFields, total=False):
    """A CZSL run's record (zslbench.tracks.czsl), of the features track."""

    track: str | None  # "features" | "images"
    track_note: str
    method: str
    num_tasks: int
    class_split: list[list[int]]
    image_split: dict[str, Any]
    files: dict[str, str]  # side file of each kind: steps, acc_matrix, tasks, image_split
    method_summary: dict[str, Any]
    task_seconds: list[float]


class CZSLImagesRecord(CZSLFeaturesRecord, total=False):
    """A CZSL run's record of the image track (zslbench.tracks.czsl_images)."""

    attr_source: str
    image_size: int
    backbone: dict[str, Any]
    backbone_sha256: str


class RunRecord(GZSLRecord, CZSLImagesRecord, total=False):
    """A record of any built-in track: every field one of them writes."""
