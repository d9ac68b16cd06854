"""The Markdown rendering of a table: per section and dataset a small pipe table
(model | from | metrics | time) that reads in an 80-column terminal, the notes under each
section."""

from __future__ import annotations

import math

from zslbench.report.markdown import md_cell
from zslbench.report.paper_tables.cells import (
    czsl_paper_text,
    display,
    is_nan,
    metric_label,
    ours_text,
    paper_text,
    plain,
    rel_text,
    reported_time,
    shows_delta,
)


def _row_label(row) -> str:
    return f"{row.name} ({row.variant})" if row.show_variant else row.name


def _pipe_table(headers: list[str], body: list[list[str]], align: list[str]) -> str:
    from tabulate import tabulate

    return tabulate(
        [[md_cell(c) for c in row] for row in body],
        headers=[md_cell(h) for h in headers],
        tablefmt="pipe",
        colalign=align,
        disable_numparse=True,
    )


def _md_gzsl_block(section, ds: str) -> str:
    headers = ["model", "from", *(metric_label(m) for m in section.metrics), "time (s)"]
    body = []
    for row in section.rows:
        if row.kind == "ours":
            cells = [section.cell(row, ds, m) for m in section.metrics + ("train_seconds",)]
            body.append([_row_label(row), "ours", *(ours_text(c) for c in cells)])
            if any(not is_nan(c["paper"]) for c in cells):
                what = "paper (Δ)" if shows_delta(section.source) else "paper (ref.)"
                body.append(["", what, *(paper_text(c, section, row, ds) for c in cells)])
        else:
            values = section.reported[row.name]
            scores = [values.get((ds, m), math.nan) for m in section.metrics]
            if all(is_nan(x) for x in scores):
                continue
            body.append([_short_name(row.name), "reported", *(plain(x, 1) for x in scores), reported_time(values, ds)])
    return _pipe_table(headers, body, ["left", "left"] + ["right"] * (len(headers) - 2))


def _short_name(label: str) -> str:
    """'DCN (Liu et al., 2018)' -> 'DCN' (the Markdown stays narrow; the LaTeX keeps the citation)."""
    return label.split(" (")[0]


def _md_czsl_block(section, ds: str) -> str:
    headers = ["method", "from", *(metric_label(m) for m in section.metrics)]
    body = []
    for row in section.rows:
        cells = [section.cell(row, ds, m) for m in section.metrics]
        body.append([_row_label(row), "ours", *(ours_text(c) + rel_text(c["rel_change_pct"]) for c in cells)])
        if any(not is_nan(c["paper"]) for c in cells):
            body.append(["", "paper", *(czsl_paper_text(c) for c in cells)])
    return _pipe_table(headers, body, ["left", "left"] + ["right"] * (len(headers) - 2))


def markdown(table) -> str:
    kind = table.kind.upper()
    out = [f"# {kind} results", ""]
    if table.empty:
        out += [f"No {kind} run records.", ""]
        return "\n".join(out)
    out.append(
        f"From {table.n_runs} run record{'s' if table.n_runs != 1 else ''}; one table per data source"
        f"{' and track' if table.kind == 'czsl' else ''} (synthetic and real numbers are never mixed)."
        + (f" {len(table.skipped)} unreadable or incomplete record(s) skipped." if table.skipped else "")
    )
    out.append("")
    for section in table.sections:
        out += [f"## {section.title}", ""]
        ran = [ds for ds in section.datasets if (section.cells.loc[section.cells["dataset"] == ds, "n"] > 0).any()]
        idle = [display(ds) for ds in section.datasets if ds not in ran]
        if idle:
            out += [
                f"No runs of ours on {', '.join(idle)}"
                + (" (their columns in the CSV and LaTeX tables are empty)." if ran else "."),
                "",
            ]
        for ds in ran:
            out += [f"### {display(ds)}", ""]
            block = _md_gzsl_block(section, ds) if table.kind == "gzsl" else _md_czsl_block(section, ds)
            out += [block, ""]
        out += ["Notes:", ""]
        out += [f"{i}. {note}" for i, note in enumerate(section.notes, 1)]
        out.append("")
    return "\n".join(out)
