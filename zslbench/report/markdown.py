"""Render report blocks (zslbench.report.blocks) as Markdown for a terminal or a code host.

The tables are the HTML page's tables, cell for cell; a cell with the runs behind it shows its
summary, and the runs are listed under the table.
"""

from __future__ import annotations

from typing import Any

from zslbench.report.blocks import Bullets, Contents, Figure, Fold, Heading, Para, Table


def one_line(text: object) -> str:
    """`text` with every line break (newline, CR, and the other breaks of str.splitlines) made a space."""
    return " ".join(str(text).splitlines())


def md_cell(text: object) -> str:
    """The text of a Markdown table cell (the one escaping function of every pipe table): one
    line, backslashes and pipes escaped, so that no name can end a cell or a row."""
    return one_line(text).replace("\\", "\\\\").replace("|", "\\|")


_MD_SPECIAL = frozenset("\\*_[]<>|#")


def md_inline(text: object) -> str:
    """Markdown text of one line with `code` spans kept: outside them, the characters that
    start emphasis, links, HTML or tables are escaped."""

    def escape(part: str) -> str:
        return "".join("\\" + c if c in _MD_SPECIAL else c for c in part)

    parts = one_line(text).split("`")
    out = []
    for i, part in enumerate(parts):
        if i % 2 and i == len(parts) - 1:  # an unmatched backtick: a literal one
            out.append("\\`" + escape(part))
        else:
            out.append(f"`{part}`" if i % 2 else escape(part))
    return "".join(out)


def _table(table: Table) -> list[str]:
    from tabulate import tabulate

    body = [[md_cell(c.details.summary if c.details is not None else c.text) for c in row] for row in table.rows]
    align = ["right" if i in table.numeric else "left" for i in range(len(table.headers))]
    out = []
    if table.caption:
        out += [f"**{table.caption}**", ""]
    out.append(
        tabulate(
            body, headers=[md_cell(h) for h in table.headers], tablefmt="pipe", colalign=align, disable_numparse=True
        )
    )
    runs: dict[Any, Any] = {}  # the rows of one model share their runs: list them once
    for row in table.rows:
        for c in row:
            if c.details is not None:
                runs.setdefault((row[0].text, c.details.summary, tuple(c.details.lines)), None)
    if runs:
        out += ["", "Runs behind the rows:", ""]
        for name, summary, lines in runs:
            out.append(f"- {md_cell(name)} ({summary}): " + "; ".join(lines))
    out.append("")
    return out


def _block(b, depth: int = 0) -> list[str]:
    if isinstance(b, Heading):
        anchor = [f'<a id="{b.anchor}"></a>', ""] if b.anchor else []
        return anchor + ["#" * min(6, b.level + depth) + " " + b.text, ""]
    if isinstance(b, Contents):
        return (
            ["## Contents", ""]
            + [("  " if level > 2 else "") + f"- [{md_cell(text)}](#{anchor})" for level, text, anchor in b.entries]
            + [""]
        )
    if isinstance(b, Para):
        return [f"> **{b.text}**" if b.style == "banner" else b.text, ""]
    if isinstance(b, Bullets):
        return [f"{i}. {x}" if b.ordered else f"- {x}" for i, x in enumerate(b.items, 1)] + [""]
    if isinstance(b, Table):
        return _table(b)
    if isinstance(b, Figure):
        return [f"![{md_inline(b.alt)}]({b.src})", "", f"*{md_inline(b.caption)}*", ""]
    if isinstance(b, Fold):
        out = [f"**{b.summary}**", ""]
        for x in b.blocks:
            out += _block(x, depth)
        return out
    raise TypeError(f"unknown report block {type(b).__name__}")


def render_markdown(blocks: list) -> str:
    lines: list[str] = []
    for b in blocks:
        lines += _block(b)
    return "\n".join(lines).rstrip("\n") + "\n"
