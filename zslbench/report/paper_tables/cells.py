"""How a table cell reads: the tables' constants, the statistics of a cell and the text of
its numbers (ours, the paper's, times), shared by the Markdown and LaTeX renderings."""

from __future__ import annotations

import math

import numpy as np

from zslbench.data.registry import source_info
from zslbench.metrics.registry import METRICS
from zslbench.tracks.czsl import CZSL_DATASETS as CZSL_DATASETS  # re-exported for the table modules
from zslbench.tracks.gzsl import GZSL_DATASETS as GZSL_DATASETS  # the paper's columns; apy is added when run

CZSL_METHOD_ORDER = ("ewc-online", "mas-online", "agem", "sequential", "multitask")  # the paper's rows
FORMATS = ("csv", "md", "tex")

MISSING = "—"  # no run of ours
NOT_REPORTED = "-"  # the paper's '-'
APPROX = "≈"  # the paper's average time stands in for a per-dataset time

OTHER_LABEL = {"train_seconds": "time (s)"}  # a metric's own: zslbench.metrics.registry


def metric_label(metric: str) -> str:
    return METRICS.heading(metric, OTHER_LABEL)


def table_metrics(kind: str) -> tuple[str, ...]:
    """The metric columns of a `kind` table (gzsl, czsl), in order."""
    return METRICS.columns(kind)


def display(dataset: str) -> str:
    from zslbench.data.features.specs import DATASETS

    return DATASETS[dataset].display if dataset in DATASETS else dataset


def cell_stats(values: list[float]) -> tuple[float, float, int]:
    """(mean, sample std with n-1, n); NaN where undefined (no values; std of one value)."""
    arr = np.asarray(values, dtype=float)
    n = int(arr.size)
    mean = float(arr.mean()) if n else math.nan
    std = float(arr.std(ddof=1)) if n >= 2 else math.nan
    return mean, std, n


def shows_delta(source: str) -> bool:
    """Whether ours − paper is computed: not on synthetic data, whose numbers say nothing about
    the paper's (its values are shown there for reference only)."""
    return not source_info(source).synthetic


def is_nan(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def num(x: float, digits: int) -> str:
    text = f"{x:.{digits}f}"
    return text.lstrip("-") if float(text) == 0 else text  # never "-0.000"


def signed(x: float, digits: int) -> str:
    text = f"{x:+.{digits}f}"
    return text[1:] if float(text) == 0 else text


def digits(metric: str, value: float | None = None) -> int:
    if metric in METRICS:
        return METRICS.digits(metric)
    if metric == "train_seconds" and value is not None and abs(value) >= 100:
        return 0
    return 1


def ours_text(cell: dict, pm: str = "±") -> str:
    if cell["n"] == 0:
        return MISSING
    d = digits(cell["metric"])
    text = num(cell["mean"], d)
    if cell["n"] >= 2:
        text += f" {pm} {num(cell['std'], d)}"
    if cell["fewer_seeds"]:
        text += f" (n={cell['n']})"
    return text


def rel_text(rel: float) -> str:
    return "" if is_nan(rel) else f" ({rel:+.0f}%)"


def plain(x: float, digits: int) -> str:
    return NOT_REPORTED if is_nan(x) else num(x, digits)


def time_text(x: float) -> str:
    return num(x, digits("train_seconds", x))


def reported_time(values: dict, ds: str) -> str:
    own = values.get((ds, "train_seconds"), math.nan)
    if not is_nan(own):
        return time_text(own)
    avg = values.get(("all", "train_seconds"), math.nan)
    return NOT_REPORTED if is_nan(avg) else APPROX + time_text(avg)


def paper_text(cell: dict, section, row, ds: str) -> str:
    value = cell["paper"]
    approx = ""
    if cell["metric"] == "train_seconds" and is_nan(value):
        value = section.cell(row, "all", "train_seconds")["paper"]
        approx = APPROX
    if is_nan(value):
        return NOT_REPORTED
    d = digits(cell["metric"], value)
    text = approx + num(value, d)
    if cell["n"] and shows_delta(section.source):
        text += f" ({signed(cell['mean'] - value, digits(cell['metric']))})"
    return text


def czsl_paper_text(cell: dict) -> str:
    if is_nan(cell["paper"]):
        return NOT_REPORTED
    text = num(cell["paper"], METRICS.paper_digits(cell["metric"]))
    if cell["paper_rel_change"]:
        text += f" ({cell['paper_rel_change']})"
    return text
