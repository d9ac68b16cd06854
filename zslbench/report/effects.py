"""How much one option moves the numbers: variants compared with the section's base variant.

In each data section the *base* is the variant with the most runs (on a tie, the one with the
fewest options set away from the paper's defaults, then the first in
zslbench.report.records.order_variants).  Every other variant of the
same profile and data vintage whose config differs from the base's is an *ablation*: its runs
are compared, per model (or CZSL row) and dataset, with the base's runs of the same seeds
(zslbench.report.stats.compare: paired t over the seeds, else Welch).  The change is
flipped - base, for the metrics the registry marks for it (zslbench.metrics.registry: H and
AUSUC for GZSL, mH and mAUC for CZSL).  `zslbench run --all --ablate`
plans exactly such runs, but any results folder with option variants gets the same table.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

from zslbench.metrics.registry import METRICS
from zslbench.records import RunRecord
from zslbench.report import stats
from zslbench.report.claims import base_first, by_seed, group_records
from zslbench.report.records import IGNORED_CONFIG, collect, fmt_value


@dataclass
class Effect:
    name: str  # GZSL model or CZSL row (method, +cn)
    dataset: str
    metric: str
    comparison: stats.Comparison
    runs_flipped: list[str] = field(default_factory=list)
    runs_base: list[str] = field(default_factory=list)
    same_setting: str = ""  # e.g. "×1.0": both sides acted with this seen-logit factor (nothing changed)


@dataclass
class Ablation:
    kind: str
    source: str
    track: str | None
    base: str  # the base variant's label
    change: str  # e.g. "select_epoch: final → best_test_H"
    effects: list[Effect]
    not_flipped: list[str] = field(default_factory=list)  # "model on dataset" the base has and the variant not


def row_name(rec: RunRecord, kind: str) -> str:
    if kind == "gzsl":
        return str(rec["model"])
    return f"{rec['method']}{'+cn' if rec.get('classnorm') else ''}"


def describe_change(base, other) -> str:
    """The config fields in which `other` differs from `base`, as "field: old → new"; a switch
    of preset that explains every difference is named as such."""
    a, b = dict(base.config), dict(other.config)
    keys = sorted(k for k in set(a) | set(b) if k not in IGNORED_CONFIG and a.get(k) != b.get(k))
    old = str(base.preset or "").split("+")[0]
    new = str(other.preset or "").split("+")[0]
    if old and new and old != new and _explained_by_presets(keys, old, new):
        return f"preset: {old} → {new}"
    return "; ".join(f"{k}: {_v(a.get(k))} → {_v(b.get(k))}" for k in keys)


def _v(value) -> str:
    return "(unset)" if value is None else fmt_value(value)


def _explained_by_presets(keys: list[str], old: str, new: str) -> bool:
    from zslbench.presets import PRESETS

    if old not in PRESETS or new not in PRESETS:
        return False
    fields = set(PRESETS[old].gzsl) | set(PRESETS[new].gzsl) | set(PRESETS[old].czsl) | set(PRESETS[new].czsl)
    return bool(keys) and set(keys) <= fields


def ablations(results: Path) -> list[Ablation]:
    out: list[Ablation] = []
    merged: dict[tuple, Ablation] = {}
    for kind in ("gzsl", "czsl"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            records, _ = collect(results, kind)
        for sec, variants in group_records(records, kind).items():
            if len(variants) < 2:
                continue
            base_v, base_label, base_recs = base_first(variants)[0]
            for v, _label, recs in variants:
                if v is base_v or v.profile != base_v.profile or v.vintage != base_v.vintage:
                    continue
                change = describe_change(base_v, v)
                if not change:
                    continue
                effects = _effects(kind, recs, base_recs)
                if not effects:
                    continue
                key = (kind, sec, change)
                if key in merged:  # variants with the same change (e.g. on other models) share a table
                    merged[key].effects += effects
                else:
                    merged[key] = Ablation(kind, sec[0], sec[1] if len(sec) > 1 else None, base_label, change, effects)
                    out.append(merged[key])
                merged[key].not_flipped += _not_flipped(kind, recs, base_recs)
    return sorted(out, key=lambda a: (a.kind, a.source, str(a.track), a.change))


def _effects(kind: str, flipped: list[RunRecord], base: list[RunRecord]) -> list[Effect]:
    keys = sorted({(row_name(r, kind), r["dataset"]) for r in flipped}, key=lambda k: (_ds_rank(k[1]), k[0]))
    out = []
    for name, ds in keys:
        mine = [r for r in flipped if row_name(r, kind) == name and r["dataset"] == ds]
        theirs = [r for r in base if row_name(r, kind) == name and r["dataset"] == ds]
        if not theirs or _prints(mine) != _prints(theirs):  # runs on other data files do not pair
            continue
        for metric in METRICS.effects(kind):
            va, ids_a = by_seed(mine, metric)
            vb, ids_b = by_seed(theirs, metric)
            if va and vb:
                out.append(Effect(name, ds, metric, stats.compare(va, vb), ids_a, ids_b, _same_factor(mine, theirs)))
    return out


def _same_factor(mine: list[RunRecord], theirs: list[RunRecord]) -> str:
    """ "×f" when every run on both sides multiplied its seen logits by the same factor f and the
    two sides' configs differ in seen_logit_scale only (such a flip changes nothing)."""
    if (
        not mine
        or not theirs
        or "seen_logit_scale" not in {k for k, v in mine[0]["config"].items() if theirs[0]["config"].get(k) != v}
    ):
        return ""
    factors = {(r.get("metrics") or {}).get("seen_scale") for r in mine + theirs}
    return f"×{fmt_value(factors.pop())}" if len(factors) == 1 and None not in factors else ""


def _not_flipped(kind: str, flipped: list[RunRecord], base: list[RunRecord]) -> list[str]:
    """The rows and datasets the base has where the variant has none, for the rows the variant has."""
    names = {row_name(r, kind) for r in flipped}
    have = {(row_name(r, kind), r["dataset"]) for r in flipped}
    want = {(row_name(r, kind), r["dataset"]) for r in base if row_name(r, kind) in names}
    return [f"{n} on {ds}" for n, ds in sorted(want - have, key=lambda k: (_ds_rank(k[1]), k[0]))]


def _prints(recs: list[RunRecord]) -> set:
    return {r.get("data_fingerprint") for r in recs}


def _ds_rank(ds: str) -> tuple:
    order = ("sun", "cub", "awa1", "awa2", "apy")
    return (order.index(ds) if ds in order else len(order), ds)
