"""Building the tables from run records: records grouped into sections and variants, one
cell per (row, dataset, metric) with its statistics over seeds beside the paper's number."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from zslbench.api import BUILTIN
from zslbench.errors import ZSLBenchError
from zslbench.records import RunRecord
from zslbench.report import baselines as paper
from zslbench.report.paper_tables.cells import (
    CZSL_DATASETS,
    CZSL_METHOD_ORDER,
    GZSL_DATASETS,
    cell_stats,
    shows_delta,
    table_metrics,
)
from zslbench.report.paper_tables.model import CZSL_COLUMNS, GZSL_COLUMNS, Row, Section, Table
from zslbench.report.paper_tables.notes import czsl_notes, czsl_title, gzsl_notes, gzsl_title
from zslbench.report.paper_tables.sources import label_plugin_rows
from zslbench.report.records import (
    Variant,
    collect,
    fmt_items,
    label_variants,
    order_variants,
    section_of,
    sorted_sections,
    variant_of,
)


def _seconds(record: RunRecord) -> float:
    """A record's training time; NaN for a record that has none (it still counts for its metrics)."""
    value = record.get("train_seconds")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


def build_table(kind: str, results: Path) -> Table:
    if kind == "gzsl":
        return build_gzsl_table(results)
    if kind == "czsl":
        return build_czsl_table(results)
    raise ZSLBenchError(f"table: unknown kind {kind!r}; expected gzsl or czsl")


def _group(records: list[RunRecord], kind: str):
    """section -> (ordered variants, labels, {variant: [records]})."""
    out = {}
    by_section: dict[tuple, list[RunRecord]] = {}
    for rec in records:
        by_section.setdefault(section_of(rec, kind), []).append(rec)
    for sec in sorted_sections(by_section):
        recs = by_section[sec]
        by_variant: dict[Variant, list[RunRecord]] = {}
        for rec in recs:
            by_variant.setdefault(variant_of(rec, kind), []).append(rec)
        variants = order_variants({v: len(r) for v, r in by_variant.items()})
        out[sec] = (variants, label_variants(variants), by_variant)
    return out


def _model_order() -> list[str]:
    from zslbench.models import MODELS

    return [m for m in MODELS if MODELS.get(m).source == BUILTIN]  # plugins' rows: when run


def build_gzsl_table(results: Path) -> Table:
    records, skipped = collect(results, "gzsl")
    records = label_plugin_rows(records, "model")
    lookup = paper.gzsl_lookup()
    GZSL_METRICS = table_metrics("gzsl")
    sections = []
    for sec, (variants, labels, by_variant) in _group(records, "gzsl").items():
        source = sec[0]
        recs = [r for v in variants for r in by_variant[v]]
        # the paper's datasets on its data sources; a dataset of a plugin's own (npz) shows alone
        paper_ds = (
            GZSL_DATASETS
            if source in ("xlsa17", "synthetic")
            else tuple(d for d in GZSL_DATASETS if any(r["dataset"] == d for r in recs))
        )
        datasets = paper_ds + tuple(sorted({r["dataset"] for r in recs} - set(GZSL_DATASETS)))
        rows_spec: list[tuple[Variant, str]] = []
        order = _model_order()
        for i, v in enumerate(variants):
            present = {r["model"] for r in by_variant[v]}
            models = order if i == 0 else [m for m in order if m in present]
            models = models + sorted(present - set(order))
            rows_spec += [(v, m) for m in models]
        cells = []
        for v, model in rows_spec:
            mine = [r for r in by_variant[v] if r["model"] == model]
            for ds in datasets:
                here = [r for r in mine if r["dataset"] == ds]
                for metric in GZSL_METRICS + ("train_seconds",):
                    values = [r["metrics"][metric] if metric in GZSL_METRICS else _seconds(r) for r in here]
                    cells.append(
                        _cell(
                            source,
                            v,
                            labels[v],
                            model,
                            ds,
                            metric,
                            values,
                            here,
                            lookup.get((model, ds, metric), math.nan),
                        )
                    )
            cells.append(
                _cell(
                    source,
                    v,
                    labels[v],
                    model,
                    "all",
                    "train_seconds",
                    [_seconds(r) for r in mine],
                    mine,
                    lookup.get((model, "all", "train_seconds"), math.nan),
                )
            )
        frame = pd.DataFrame(cells, columns=GZSL_COLUMNS)
        n_max = _mark_fewer(frame, GZSL_METRICS)
        show = len(variants) > 1
        rows = [Row("ours", m, labels[v], show) for v, m in rows_spec]
        rows += [Row("reported", name) for name in _reported_gzsl()]
        section = Section(
            "gzsl",
            source,
            None,
            gzsl_title(source),
            datasets,
            GZSL_METRICS,
            rows,
            frame,
            notes=[],
            reported=_reported_gzsl(),
        )
        section.notes = gzsl_notes(section, variants, labels, by_variant, n_max)
        sections.append(section)
    return Table("gzsl", sections, skipped, len(records))


def _cell(source, v: Variant, label, model, ds, metric, values, recs: list[RunRecord], paper_value) -> dict:
    mean, std, n = cell_stats(values)
    return {
        "data_source": source,
        "variant": label,
        "profile": v.profile,
        "model": model,
        "dataset": ds,
        "metric": metric,
        "mean": mean,
        "std": std,
        "n": n,
        "n_max": 0,
        "fewer_seeds": False,
        "seeds": ";".join(str(s) for s in sorted(r["seed"] for r in recs)),
        "paper": paper_value,
        "delta": mean - paper_value if n and shows_delta(source) else math.nan,
        "options": fmt_items(v.paper_diff),
    }


def _mark_fewer(frame: pd.DataFrame, metrics: tuple[str, ...]) -> int:
    """n_max = the most seeds of any result cell in the section; cells below it are flagged."""
    scored = frame["metric"].isin(metrics)
    n_max = int(frame.loc[scored, "n"].max()) if scored.any() else 0
    frame["n_max"] = n_max
    frame["fewer_seeds"] = (frame["n"] > 0) & (frame["n"] < n_max)
    return n_max


def _reported_gzsl() -> dict:
    """The paper's other methods: label -> {(dataset, metric): value} (metric train_seconds)."""
    GZSL_METRICS = table_metrics("gzsl")
    frame = paper.paper_gzsl()
    frame = frame[frame["zslbench_model"] == ""]
    order = list(dict.fromkeys(frame.loc[frame["metric"].isin(GZSL_METRICS), "method_key"]))
    labels = {}
    for key in order:
        part = frame[frame["method_key"] == key]
        label = part.loc[part["metric"].isin(GZSL_METRICS), "method"].iloc[0]
        values = {}
        for r in part.itertuples():
            metric = "train_seconds" if r.metric in ("avg_train_time_s", "train_time_s") else r.metric
            values[(r.dataset_key, metric)] = r.value
        labels[label] = values
    return labels


def build_czsl_table(results: Path) -> Table:
    records, skipped = collect(results, "czsl")
    records = label_plugin_rows(records, "method")
    lookup = paper.czsl_lookup()
    CZSL_METRICS = table_metrics("czsl")
    sections = []
    for sec, (variants, labels, by_variant) in _group(records, "czsl").items():
        source, track = sec
        recs = [r for v in variants for r in by_variant[v]]
        datasets = CZSL_DATASETS + tuple(sorted({r["dataset"] for r in recs} - set(CZSL_DATASETS)))
        methods = list(CZSL_METHOD_ORDER)
        methods += sorted({r["method"] for r in recs} - set(methods))
        rows_spec: list[tuple[Variant, str, bool]] = []
        for i, v in enumerate(variants):
            present = {(r["method"], bool(r["classnorm"])) for r in by_variant[v]}
            for m in methods:
                for cn in (False, True):
                    if (i == 0 and m in CZSL_METHOD_ORDER) or (m, cn) in present:
                        rows_spec.append((v, m, cn))
        cells = []
        for v, method, cn in rows_spec:
            row = f"{method}{'+cn' if cn else ''}"
            for ds in datasets:
                here = [
                    r
                    for r in by_variant[v]
                    if r["method"] == method and bool(r["classnorm"]) == cn and r["dataset"] == ds
                ]
                base = [r for r in by_variant[v] if r["method"] == method and not r["classnorm"] and r["dataset"] == ds]
                for metric in CZSL_METRICS:
                    mean, std, n = cell_stats([r["metrics"][metric] for r in here])
                    rel = math.nan
                    if cn and n:
                        b_mean, _, b_n = cell_stats([r["metrics"][metric] for r in base])
                        if b_n and b_mean != 0:
                            rel = 100.0 * (mean - b_mean) / abs(b_mean)
                    p_value, p_rel = lookup.get((method, cn, ds, metric), (math.nan, ""))
                    cells.append(
                        {
                            "data_source": source,
                            "track": track,
                            "variant": labels[v],
                            "profile": v.profile,
                            "method": method,
                            "classnorm": cn,
                            "row": row,
                            "dataset": ds,
                            "metric": metric,
                            "mean": mean,
                            "std": std,
                            "n": n,
                            "n_max": 0,
                            "fewer_seeds": False,
                            "seeds": ";".join(str(s) for s in sorted(r["seed"] for r in here)),
                            "rel_change_pct": rel,
                            "paper": p_value,
                            "paper_rel_change": p_rel,
                            "delta": mean - p_value if n and shows_delta(source) else math.nan,
                            "options": fmt_items(v.paper_diff),
                        }
                    )
        frame = pd.DataFrame(cells, columns=CZSL_COLUMNS)
        n_max = _mark_fewer(frame, CZSL_METRICS)
        show = len(variants) > 1
        rows = [Row("ours", f"{m}{'+cn' if cn else ''}", labels[v], show) for v, m, cn in rows_spec]
        section = Section(
            "czsl", source, track, czsl_title(source, track), datasets, CZSL_METRICS, rows, frame, notes=[]
        )
        section.notes = czsl_notes(section, variants, labels, by_variant, n_max)
        sections.append(section)
    return Table("czsl", sections, skipped, len(records))
