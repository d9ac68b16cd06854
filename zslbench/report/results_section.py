"""The result sections of the report page: per data section and dataset, the GZSL or CZSL results (ours
with the 95 % t interval, the paper's value and, where the comparison means something, the difference),
the runs behind every row and the notes of `zslbench table`."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

from zslbench.data.registry import source_info
from zslbench.metrics.registry import METRICS
from zslbench.records import RunRecord
from zslbench.report import readout, stats
from zslbench.report.blocks import Bullets, Cell, Heading, Para, RunDetails, Table
from zslbench.report.claims import group_records
from zslbench.report.effects import row_name
from zslbench.report.records import collect, fmt_items
from zslbench.report.shared import SYNTHETIC_BANNER, comparable, display_name


# --- the runs behind a row -----------------------------------------------------------------------
def run_details(recs: list[RunRecord], variant, metrics=()) -> RunDetails:
    from zslbench.environment import numeric_key

    recs = sorted(recs, key=lambda r: (r["seed"], str(r.get("run_id"))))
    presets = sorted({str(r.get("preset", "(written before presets)")) for r in recs})
    envs = sorted({numeric_key(r.get("env")) for r in recs}, key=str)
    prints = sorted({str(r.get("data_fingerprint", "?")) for r in recs})
    lines = [
        "runs: " + ", ".join(f"`{r.get('run_id')}` (seed {r['seed']})" for r in recs),
        f"profile `{variant.profile}`, preset " + ", ".join(f"`{p}`" for p in presets),
        "options differing from the defaults: "
        + (f"`{fmt_items(variant.paper_diff)}`" if variant.paper_diff else "none"),
        "numeric environment: " + "; ".join(f"`{e}`" for e in envs),
        "data fingerprint: " + ", ".join(f"`{p}`" for p in prints),
    ]
    for r in recs if metrics else ():
        values = r.get("metrics") or {}
        lines.append(
            f"seed {r['seed']}: "
            + ", ".join(
                f"{METRICS.heading(m)} {readout.num(values[m], METRICS.digits(m))}"
                for m in metrics
                if isinstance(values.get(m), (int, float))
            )
        )
    return RunDetails(f"{len(recs)} run{'s' if len(recs) != 1 else ''}", lines)


# --- result tables ------------------------------------------------------------------------------
def _interval(cell: dict, metric: str) -> stats.Summary:
    return readout.interval_summary(float(cell["mean"]), float(cell["std"]), int(cell["n"]), metric)


def _results_table(section, ds: str, runs: dict[tuple, list[RunRecord]], variants: dict, kind: str) -> Table:
    comp = comparable(section.source, kind, section.track)
    unit = readout.unit_text(
        [
            m
            for m in section.metrics
            if any((c := section.cell(r, ds, m)) is not None and c["n"] for r in section.rows if r.kind == "ours")
        ]
    )
    delta_unit = unit.replace("%", "pp", 1) if unit.startswith("%") else unit
    headers = [
        "model" if kind == "gzsl" else "method",
        "metric",
        f"ours, mean ± std ({unit})",
        "n (seeds)",
        f"95 % CI ({unit})",
    ]
    headers += (
        [f"paper ({unit})", f"Δ (ours − paper; {delta_unit})", "paper in our CI"]
        if comp
        else [f"paper (reference only; {unit})"]
    )
    headers.append("runs")
    rows = []
    for row in section.rows:
        if row.kind != "ours":
            continue
        recs = runs.get((row.variant, row.name, ds), [])
        if not recs:
            continue
        name = f"{row.name} ({row.variant})" if row.show_variant else row.name
        details = run_details(recs, variants[row.variant], section.metrics)
        for metric in section.metrics:
            c = section.cell(row, ds, metric)
            if c is None or not c["n"]:
                continue
            d = METRICS.digits(metric)
            ci = _interval(c, metric)
            ours = readout.num(ci.mean, d) + (f" ± {readout.num(ci.std, d)}" if ci.n >= 2 else "")
            ci_text = readout.interval_text(ci, d)
            paper = c["paper"]
            has_paper = paper is not None and not (isinstance(paper, float) and math.isnan(paper))
            pd_ = METRICS.paper_digits(metric)
            label = METRICS.heading(metric)
            cells = [Cell(name), Cell(label), Cell(ours), Cell(str(ci.n)), Cell(ci_text)]
            cells.append(Cell(f"{paper:.{pd_}f}" if has_paper else "-"))
            if comp:
                cells.append(Cell(readout.num(ci.mean - paper, d, sign=True) if has_paper else ""))
                inside = ci.contains(paper) if has_paper else None
                if not has_paper:
                    cells.append(Cell(""))
                elif inside is None:
                    cells.append(Cell("– no interval", "neutral"))
                else:
                    cells.append(Cell("✔ inside", "good") if inside else Cell("✘ outside", "bad"))
            cells.append(Cell(details.summary, details=details))
            rows.append(cells)
    numeric = {2, 3, 4, 5} | ({6} if comp else set())
    return Table(headers, rows, numeric=numeric)


def results_blocks(kind: str, results: Path) -> list:
    from zslbench.report.paper_tables import build_table
    from zslbench.report.paper_tables.sources import labelled_records

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = build_table(kind, results)
        records, _ = collect(results, kind)
    records = labelled_records(records, kind)  # the rows' names, plugin rows labelled as in the table
    title = "GZSL results" if kind == "gzsl" else "CZSL results"
    blocks: list = [Heading(2, title, kind)]
    if table.empty:
        return blocks + [Para(f"No {kind.upper()} run records.")]
    grouped = group_records(records, kind)
    for section in table.sections:
        key = (section.source,) if kind == "gzsl" else (section.source, section.track)
        variants = {label: v for v, label, _ in grouped.get(key, [])}
        runs: dict[tuple, list[RunRecord]] = {}
        for _v, label, recs in grouped.get(key, []):
            for r in recs:
                runs.setdefault((label, row_name(r, kind), r["dataset"]), []).append(r)
        blocks.append(Heading(3, section.title))
        if source_info(section.source).synthetic:
            blocks.append(Para(SYNTHETIC_BANNER, "banner"))
        elif not comparable(section.source, kind, section.track):
            blocks.append(
                Para(
                    "Features track: not the paper's protocol; the paper's values stand beside ours "
                    "for reference only.",
                    "banner",
                )
            )
        for ds in section.datasets:
            dataset_table = _results_table(section, ds, runs, variants, kind)
            if dataset_table.rows:
                blocks += [Heading(4, display_name(ds)), dataset_table]
        notes = readout.page_notes(section.notes, comparable(section.source, kind, section.track), kind)
        blocks += [Heading(4, "Notes"), Bullets(notes, ordered=True)]
    return blocks
