"""Names from records in the rendered tables and report: a name cannot break a Markdown table,
become a spreadsheet formula in the CSV, end a LaTeX line, or inject links or HTML into the
report's Markdown captions."""

from __future__ import annotations

import csv
import io

import pytest
from _report_records import gzsl

from zslbench.report.paper_tables import build_table

NAMES = ("lin|ear", "back\\", '=HYPERLINK("http://x")', "@SUM(A1)", "+cmd", "-cmd")


def separators(line: str) -> int:
    """The number of cell separators of a pipe-table row; a backslash escapes the next character."""
    count, escaped = 0, False
    for ch in line:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "|":
            count += 1
    return count


@pytest.fixture()
def hostile_results(tmp_path):
    for i, name in enumerate(NAMES):
        gzsl(tmp_path, name, "sun", 1, 10.0 + i)
        gzsl(tmp_path, name, "sun", 2, 11.0 + i)
    gzsl(tmp_path, "mlp3", "sun", 1, 10.0)  # below the paper's: a negative difference in the CSV
    return tmp_path


def test_markdown_table_rows_keep_their_columns(hostile_results):
    text = build_table("gzsl", hostile_results).to_markdown()
    table_lines = [line for line in text.splitlines() if line.startswith("|")]
    width = separators(table_lines[0])
    assert width >= 5
    for line in table_lines:
        assert separators(line) == width, line
    assert any("lin\\|ear" in line for line in table_lines)


def test_the_tables_use_the_report_markdown_escaping():
    from zslbench.report import markdown as report_md
    from zslbench.report.paper_tables import markdown as table_md

    assert table_md.md_cell is report_md.md_cell
    assert report_md.md_cell("a|b\\\nc") == "a\\|b\\\\ c"


def test_csv_text_cells_cannot_be_formulas_and_numbers_stay_numbers(hostile_results):
    table = build_table("gzsl", hostile_results)
    rows = list(csv.DictReader(io.StringIO(table.to_csv())))
    models = {row["model"] for row in rows}
    assert {'\'=HYPERLINK("http://x")', "'@SUM(A1)", "'+cmd", "'-cmd", "lin|ear"} <= models
    for row in rows:
        for key, value in row.items():
            if value[:1] in ("=", "@", "\t", "\r") or (value[:1] in ("+", "-") and not _is_number(value.rstrip("%"))):
                pytest.fail(f"{key}={value!r} reads as a formula")
    means = [row["mean"] for row in rows if row["mean"]]
    assert means and all(_is_number(m) for m in means)
    assert any(row["delta"].startswith("-") and _is_number(row["delta"]) for row in rows)  # left as it is


def test_negative_numbers_in_text_cells_are_not_prefixed():
    from zslbench.report.paper_tables.model import csv_text

    assert csv_text("-1.5") == "-1.5" and csv_text(-1.5) == -1.5 and csv_text("-cmd") == "'-cmd"
    assert csv_text("+22%") == "+22%" and csv_text("-3%") == "-3%" and csv_text("+A1%") == "'+A1%"
    assert (
        csv_text("=1+1") == "'=1+1"
        and csv_text("\r=x") == "'\r=x"
        and csv_text("\tx") == "'\tx"
        and csv_text("ok") == "ok"
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


@pytest.mark.parametrize("brk", ["\n", "\r", "\r\n", "\u2028", "\x0b", "\x0c", "\x85"])
def test_latex_escape_leaves_no_line_break(brk):
    from zslbench.report.paper_tables.latex import tex_escape

    out = tex_escape(f"a{brk}b%")
    assert out.splitlines() == [out] and out.endswith(r"b\%")


def test_latex_table_of_hostile_names_has_one_line_per_row(hostile_results):
    text = build_table("gzsl", hostile_results).to_latex()
    rows = [line for line in text.splitlines() if "cmd" in line or "ear" in line]
    assert rows and all(line.rstrip().endswith("\\\\") for line in rows if "&" in line)


def test_report_captions_escape_names(tmp_path, capsys):
    from support import zsl_in_process

    name = "m*x_[a](javascript:alert(1))<b>`"
    gzsl(tmp_path, name, "sun", 1, 30.0, source="synthetic", epochs=[10.0, 20.0, 25.0])
    gzsl(tmp_path, name, "sun", 2, 31.0, source="synthetic", epochs=[11.0, 21.0, 26.0])
    code, _out, err = zsl_in_process(capsys, "report", "--results", tmp_path)
    assert code == 0, err
    md = (tmp_path / "report" / "report.md").read_text()
    captions = [line for line in md.splitlines() if line.startswith("*") and "seeds:" in line]
    assert captions, md
    for line in captions:
        assert "<b>" not in line and "m*x" not in line and "[a](" not in line, line
        assert "m\\*x\\_\\[a\\](javascript:alert(1))\\<b\\>" in line, line
