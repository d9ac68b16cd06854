"""The table model: a :class:`Table` of :class:`Section` s (one per data source and CZSL track)
of :class:`Row` s, the tidy frame of our cells behind each section (the CSV), and the files
written from it."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from zslbench.errors import ZSLBenchError
from zslbench.report.paper_tables.cells import FORMATS
from zslbench.report.paper_tables.latex import latex
from zslbench.report.paper_tables.markdown import markdown
from zslbench.store import atomic_write_text


@dataclass
class Row:
    kind: str  # "ours" or "reported"
    name: str  # our model / method row name, or the paper's method label
    variant: str = ""  # variant label (ours)
    show_variant: bool = False


@dataclass
class Section:
    kind: str
    source: str
    track: str | None
    title: str
    datasets: tuple[str, ...]
    metrics: tuple[str, ...]
    rows: list[Row]
    cells: pd.DataFrame  # tidy rows of ours (the CSV)
    notes: list[str]
    reported: dict = field(default_factory=dict)  # method label -> {(dataset, metric): value}

    def cell(self, row: Row, dataset: str, metric: str) -> dict | None:
        key = (row.variant, row.name, dataset, metric)
        return self._index.get(key)

    def __post_init__(self) -> None:
        name_col = "model" if self.kind == "gzsl" else "row"
        self._index = {(r["variant"], r[name_col], r["dataset"], r["metric"]): r for r in self.cells.to_dict("records")}


@dataclass
class Table:
    kind: str
    sections: list[Section]
    skipped: list[str]
    n_runs: int

    @property
    def empty(self) -> bool:
        return not self.sections

    def frame(self) -> pd.DataFrame:
        if not self.sections:
            return pd.DataFrame(columns=GZSL_COLUMNS if self.kind == "gzsl" else CZSL_COLUMNS)
        return pd.concat([s.cells for s in self.sections], ignore_index=True)

    def to_csv(self) -> str:
        frame = self.frame()
        for col in frame.columns:
            if not pd.api.types.is_numeric_dtype(frame[col]):  # text (object or string dtype)
                frame[col] = frame[col].map(csv_text)
        buf = io.StringIO()
        frame.to_csv(buf, index=False, float_format="%.10g", lineterminator="\n")
        return buf.getvalue()

    def to_markdown(self) -> str:
        return markdown(self)

    def to_latex(self) -> str:
        return latex(self)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value):
    """A CSV cell: a text that a spreadsheet would read as a formula (it starts with = + - @, a
    tab or a CR) gets a leading ', as spreadsheets do themselves; numbers, and texts that are
    numbers ("-1.5", "+22%"), stay as they are."""
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return value
    try:
        float(value[:-1] if value.endswith("%") else value)
        return value
    except ValueError:
        return "'" + value


GZSL_COLUMNS = [
    "data_source",
    "variant",
    "profile",
    "model",
    "dataset",
    "metric",
    "mean",
    "std",
    "n",
    "n_max",
    "fewer_seeds",
    "seeds",
    "paper",
    "delta",
    "options",
]
CZSL_COLUMNS = [
    "data_source",
    "track",
    "variant",
    "profile",
    "method",
    "classnorm",
    "row",
    "dataset",
    "metric",
    "mean",
    "std",
    "n",
    "n_max",
    "fewer_seeds",
    "seeds",
    "rel_change_pct",
    "paper",
    "paper_rel_change",
    "delta",
    "options",
]


def parse_formats(text: str | None) -> tuple[str, ...]:
    if not text:
        return FORMATS
    items = [t.strip().lower() for t in text.split(",") if t.strip()]
    bad = [t for t in items if t not in FORMATS]
    if bad or not items:
        raise ZSLBenchError(f"--format: {', '.join(bad) or repr(text)} is not one of {', '.join(FORMATS)}")
    return tuple(dict.fromkeys(items))


def write_table(table: Table, out_dir: Path, formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Write `<kind>.<fmt>` for each format into out_dir (atomically); returns the paths."""
    out_dir = Path(out_dir)
    render = {"csv": table.to_csv, "md": table.to_markdown, "tex": table.to_latex}
    paths = []
    for fmt in formats:
        path = out_dir / f"{table.kind}.{fmt}"
        try:
            atomic_write_text(path, render[fmt]())
        except OSError as exc:
            raise ZSLBenchError(f"cannot write {path}: {exc.strerror or exc}") from None
        paths.append(path)
    return paths
