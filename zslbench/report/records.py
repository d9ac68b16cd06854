"""Records for reports: loading, checking, and grouping them into sections and config variants.

Two rules keep a report honest:
- a *section* holds one data source (and, for CZSL, one track): synthetic and real numbers
  never share a table, a figure or a mean;
- inside a section, runs are averaged only with runs of the same *variant*: the same profile,
  the same complete config (the `trace` switch aside) and the same data vintage.  Runs that
  differ in any option become separately labelled rows.

A record's config holds only the fields that act on its run (zslbench.applicability); for
grouping, the other fields are filled in from its profile and preset, so that runs of different
models or methods made with the same options form one variant.  Records written before presets
existed (no ``preset`` field) hold every field, and never share a variant with newer ones.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zslbench import store
from zslbench.data.registry import source_info
from zslbench.errors import ZSLBenchError
from zslbench.metrics.registry import METRICS
from zslbench.records import RunRecord

# Config fields that cannot change a result and so do not split a variant.
IGNORED_CONFIG = frozenset({"trace"})

# The fields a record needs to be reported; its metrics: the track's table columns (metrics.registry).
REQUIRED_KEYS = {
    "gzsl": ("model", "dataset", "data_source", "seed"),
    "czsl": ("method", "classnorm", "dataset", "data_source", "seed"),
}


def collect(results: Path, kind: str) -> tuple[list[RunRecord], list[str]]:
    """The done records of `kind` under `results`, and one message per record that was skipped.

    Unreadable records (store.iter_records) and records lacking the fields a report needs are
    skipped; each message names the record.  The messages are also issued as warnings.
    """
    results = Path(results)
    if not results.is_dir():
        raise ZSLBenchError(f"--results: {results} is not a folder")
    skipped: list[str] = []
    records: list[RunRecord] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = list(store.iter_records(results, kind))
    skipped += [str(w.message) for w in caught]
    keys, metrics = REQUIRED_KEYS[kind], METRICS.columns(kind)
    for rec in found:
        missing = [k for k in keys if k not in rec] + [
            f"metrics.{m}" for m in metrics if not _is_number(rec.get("metrics", {}).get(m))
        ]
        if missing:
            where = Path(rec.get("_dir", "?")) / store.RECORD_FILE
            skipped.append(f"skipping {where}: no usable {', '.join(missing)}")
            continue
        records.append(rec)
    for message in skipped:
        warnings.warn(message, stacklevel=2)
    return records, skipped


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def section_of(rec: RunRecord, kind: str) -> tuple[str, ...]:
    if kind == "czsl":
        return (str(rec["data_source"]), str(rec.get("track", "features")))
    return (str(rec["data_source"]),)


def sorted_sections(sections) -> list:
    return sorted(sections, key=lambda s: (source_info(s[0]).order, s))


def reference_config(key: str, profile: str, preset: str | None = None) -> dict | None:
    """The config a profile (and preset) gives a run of track `key` (profile 'paper' = the
    paper-faithful defaults), if known."""
    from zslbench.tracks import get_track

    try:
        track = get_track(key)
        return track.make_config(profile, track.with_preset(preset, None) if preset else None).to_dict()
    except (ZSLBenchError, TypeError):
        return None


def _pitfall_names(kind: str) -> tuple[str, ...]:
    from zslbench import config

    return tuple(getattr(config, "CZSL_PITFALL_OPTIONS" if kind == "czsl" else "PITFALL_OPTIONS", ()))


def _diff(cfg: dict, ref: dict | None) -> tuple[tuple[str, Any], ...]:
    if ref is None:
        return ()
    return tuple((k, cfg[k]) for k in sorted(cfg) if k not in IGNORED_CONFIG and (k not in ref or ref[k] != cfg[k]))


@dataclass(frozen=True, eq=False)
class Variant:
    """One configuration of runs; `key` is what must be equal for runs to be averaged."""

    key: str = field(repr=False)
    profile: str
    vintage: str | None
    preset: str | None  # the records' preset label; None: records from before presets
    profile_diff: tuple  # (field, value) differing from the profile's config: --set overrides
    paper_diff: tuple  # (field, value) differing from the paper-faithful defaults
    pitfalls: tuple  # the record's non_default_options (docs/paper-protocol.md#pitfalls)
    config: tuple  # the whole config, sorted items (for footnotes)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Variant) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    @property
    def is_default(self) -> bool:
        return not self.pitfalls and not self.profile_diff


# A variant of a section, its label and its records (zslbench.report.claims.group_records).
VariantGroup = tuple[Variant, str, list[RunRecord]]


def variant_of(rec: RunRecord, kind: str) -> Variant:
    cfg = dict(rec.get("config") or {})
    acting = set(cfg)  # the fields that act on the run (the record's config)
    profile = str(rec.get("profile", "?"))
    vintage = rec.get("data_vintage")
    preset = rec.get("preset")
    ref_kind = store.record_track_key(rec)
    paper_ref = reference_config(ref_kind, "paper")
    if preset is not None:
        base = str(preset).split("+")[0]
        prof_ref = reference_config(ref_kind, profile, base)
        cfg = {**(prof_ref or {}), **cfg}  # the fields that do not act on the run
    else:
        prof_ref = reference_config(ref_kind, profile)
    kept = {k: v for k, v in cfg.items() if k not in IGNORED_CONFIG}
    key = json.dumps([profile, vintage, preset is not None, kept], sort_keys=True, default=str)
    pitfalls = rec.get("non_default_options") if preset is None else None
    if pitfalls is None:  # derive it from the config
        names = set(_pitfall_names(kind))
        pitfalls = {k: v for k, v in _diff(cfg, paper_ref) if k in names}
    return Variant(
        key=key,
        profile=profile,
        vintage=vintage,
        preset=None if preset is None else str(preset),
        profile_diff=_diff(cfg, prof_ref if prof_ref is not None else paper_ref),
        paper_diff=_diff({k: v for k, v in cfg.items() if k in acting}, paper_ref),
        pitfalls=tuple(sorted(pitfalls.items())),
        config=tuple(sorted(cfg.items())),
    )


def fmt_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def fmt_items(items) -> str:
    return ", ".join(f"{k}={fmt_value(v)}" for k, v in items)


def order_variants(variants: dict[Variant, int]) -> list[Variant]:
    """Default-option variants first, then the ones with most runs; ties by label."""
    return sorted(variants, key=lambda v: (not v.is_default, -variants[v], v.profile, v.key))


def label_variants(variants: list[Variant]) -> dict[Variant, str]:
    """Short, unique labels: the profile plus the options set on top of it."""
    labels: dict[Variant, str] = {}
    for v in variants:
        head = [v.profile, f"preset {v.preset}" if v.preset is not None else "record from before presets"]
        parts = head + [f"{k}={fmt_value(val)}" for k, val in v.profile_diff]
        labels[v] = ", ".join(parts)
    by_label: dict[str, list[Variant]] = {}
    for v, label in labels.items():
        by_label.setdefault(label, []).append(v)
    for label, group in by_label.items():
        if len(group) > 1:
            for v in group:
                extra = f"data {v.vintage}" if len({g.vintage for g in group}) > 1 else f"config {_short(v.key)}"
                labels[v] = f"{label}, {extra}"
    return labels


def _short(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:6]
