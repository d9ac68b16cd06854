"""The report as data: a list of blocks that the HTML and Markdown writers both render.

Both outputs come from the same blocks, so that they hold the same tables and the same text.
Text may hold `code` spans (backticks), rendered as code in both.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Heading:
    level: int  # 1..4
    text: str
    anchor: str = ""


@dataclass
class Para:
    text: str
    style: str = ""  # "" or "banner" (a loud warning)


@dataclass
class Bullets:
    items: list[str]
    ordered: bool = False


@dataclass
class RunDetails:
    """The runs behind a row: a short summary, and lines saying what the runs were."""

    summary: str
    lines: list[str]


@dataclass
class Cell:
    text: str
    style: str = ""  # "" | "good" | "bad" | "neutral" (colour in HTML; the text says it too)
    details: RunDetails | None = None


@dataclass
class Table:
    headers: list[str]
    rows: list[list[Cell]]
    caption: str = ""
    numeric: set[int] = field(default_factory=set)  # columns aligned right


@dataclass
class Figure:
    src: str  # path relative to the report folder
    alt: str
    caption: str


@dataclass
class Fold:
    """Blocks shown folded in HTML (a <details> element) and under a heading in Markdown."""

    summary: str
    blocks: list


@dataclass
class Contents:
    """Links to the page's headings: (level, text, anchor) each."""

    entries: list


def cell(text: str, style: str = "", details: RunDetails | None = None) -> Cell:
    return Cell(text, style, details)
