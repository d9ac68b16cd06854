"""The files of ``zslbench table``: the GZSL and CZSL tables with the paper's numbers beside
ours, run records -> tidy CSV, Markdown and LaTeX (booktabs).  (The HTML report's own tables
are built in `zslbench.report.results_section` and `zslbench.report.blocks`.)

One table section per data source (and CZSL track): synthetic and real numbers are never
mixed.  Inside a section, our rows are (model or method, config variant); runs are averaged
over seeds only within a variant (see `zslbench.report.records`).  The paper's numbers come
from `zslbench/baselines/` and stand beside ours.

Layout of the files:
- `<kind>.csv`: tidy, one row per (section, variant, model, dataset, metric) of ours, with
  mean, std, n, the paper's value and the difference.  Missing cells are rows with n = 0 and
  empty numbers.  The paper's other methods are not repeated here (they are in baselines/).
- `<kind>.md`: per section and dataset, a small table (model | from | metrics | time), so that
  it reads in an 80-column terminal; notes under each section.
- `<kind>.tex`: per section, one booktabs `table*` laid out like the paper's table.

The modules: `cells` (constants, a cell's statistics and text), `model` (Table, Section, Row,
the files written), `build` (records -> table), `notes` (the prose under each section),
`markdown` and `latex` (the renderings).
"""

from zslbench.report.paper_tables.build import build_czsl_table, build_gzsl_table, build_table
from zslbench.report.paper_tables.cells import (
    CZSL_DATASETS,
    CZSL_METHOD_ORDER,
    FORMATS,
    GZSL_DATASETS,
    cell_stats,
    table_metrics,
)
from zslbench.report.paper_tables.latex import tex_escape
from zslbench.report.paper_tables.model import Row, Section, Table, parse_formats, write_table

__all__ = [
    "CZSL_DATASETS",
    "CZSL_METHOD_ORDER",
    "FORMATS",
    "GZSL_DATASETS",
    "Row",
    "Section",
    "Table",
    "build_czsl_table",
    "build_gzsl_table",
    "build_table",
    "cell_stats",
    "parse_formats",
    "table_metrics",
    "tex_escape",
    "write_table",
]
