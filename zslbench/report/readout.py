"""How the report's numbers read: each metric's unit and range, intervals that stay inside what a
metric can be (and a word instead of an interval for too few seeds), signed zeros, the notes that
belong to the columns a report table has, the page's provenance line, the bottom line on synthetic
data, and the table of contents."""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone

from zslbench.metrics import registry as metric_registry
from zslbench.metrics.registry import METRICS
from zslbench.records import RunRecord
from zslbench.report import stats
from zslbench.report.blocks import Contents, Heading, Para

# a metric's unit -> (unit in a header, lowest, highest value it can take)
PERCENT = ("%", 0.0, 100.0)
FRACTION = ("fraction 0–1", 0.0, 1.0)


def metric_range(metric: str) -> tuple[str, float, float]:
    """The header unit and range of a metric, from its unit in the metric registry (percent for a
    metric nobody registered)."""
    unit = METRICS.get(metric).unit if metric in METRICS else metric_registry.PERCENT
    return FRACTION if unit == metric_registry.FRACTION else PERCENT


def unit_text(metrics) -> str:
    """The unit(s) of a column holding these metrics, e.g. "%" or "%; Forgetting: fraction 0–1"."""
    percent = [m for m in metrics if metric_range(m) is PERCENT]
    other = [m for m in metrics if metric_range(m) is not PERCENT]
    parts = ["%"] if percent else []
    parts += [f"{METRICS.heading(m)}: {metric_range(m)[0]}" for m in other]
    return "; ".join(parts) if other and percent else (parts[0] if parts else "")


def num(x: float, digits: int, sign: bool = False) -> str:
    """x with `digits` decimals, never "-0.000": a value that rounds to zero reads as zero."""
    text = f"{x:+.{digits}f}" if sign else f"{x:.{digits}f}"
    return f"{0:.{digits}f}" if float(text) == 0 else text


def interval_summary(mean: float, std: float, n: int, metric: str) -> stats.Summary:
    """The 95 % t interval of the mean, cut to the metric's range; NaN bounds below MIN_N seeds."""
    if n < stats.MIN_N or math.isnan(std):
        return stats.Summary(mean, std, n, math.nan, math.nan)
    _, low, high = metric_range(metric)
    half = stats.t_quantile(n - 1) * std / math.sqrt(n)
    return stats.Summary(mean, std, n, max(low, mean - half), min(high, mean + half))


def interval_text(s: stats.Summary, digits: int) -> str:
    if s.n < stats.MIN_N or math.isnan(s.lo):
        what = "one seed" if s.n == 1 else f"{s.n} seeds"
        return f"— ({what}: an interval needs {stats.MIN_N})"
    return f"[{num(s.lo, digits)}, {num(s.hi, digits)}]"


# --- notes ---------------------------------------------------------------------------------------
# notes of `zslbench table` about columns the report's tables do not have
TABLE_ONLY_NOTES = ("time (s):", "(+x%)", "paper (Δ):", "paper (ref.):", "paper: the paper's number")


def page_notes(notes, comparable: bool, kind: str) -> list[str]:
    """A section's notes for the report: those about columns it has, and its own paper note."""
    kept = [n for n in notes if not n.startswith(TABLE_ONLY_NOTES)]
    csv = "baselines/paper_gzsl.csv" if kind == "gzsl" else "baselines/paper_czsl.csv"
    if comparable:
        paper = (
            f"paper: the paper's number (`{csv}`); Δ (ours − paper) in percentage points "
            "(Forgetting: in its own unit); paper in our CI: whether the paper's number lies in our interval."
        )
    else:
        paper = (
            f"paper (reference only): the paper's number (`{csv}`), shown beside ours without a "
            "difference: these numbers are not comparable with it."
        )
    at = 2 if kept else 0
    return kept[:at] + [paper] + kept[at:]


# --- header ----------------------------------------------------------------------------------
def provenance(records: list[RunRecord], now: datetime | None = None) -> str:
    """Which harness wrote the page, when, and which commits and dates the runs are from."""
    from importlib.metadata import PackageNotFoundError, version

    from zslbench.store import git_commit

    try:
        harness = version("zslbench")
    except PackageNotFoundError:
        harness = "(not installed)"

    now = now or datetime.now(timezone.utc)
    commits = sorted({str((r.get("env") or {}).get("git_commit") or "unknown") for r in records})
    dates = sorted(str(r.get("created_at", ""))[:10] for r in records if r.get("created_at"))
    text = (
        f"Generated {now.strftime('%Y-%m-%d %H:%M UTC')} by zslbench {harness} (commit `{git_commit() or 'unknown'}`)."
    )
    if records:
        text += (
            f" The runs were made with commit{'s' if len(commits) > 1 else ''} "
            + ", ".join(f"`{c}`" for c in commits)
            + (f", from {dates[0]} to {dates[-1]}." if dates else ".")
        )
    return text


def bottom_line(records: list[RunRecord]) -> Para | None:
    """The bottom line when synthetic runs are present: none of the paper's numbers is reproduced by them."""
    synthetic = [r for r in records if r.get("data_source") == "synthetic"]
    if not synthetic:
        return None
    if len(synthetic) == len(records):
        text = (
            "Bottom line: every run on this page is on SYNTHETIC data, so this page reproduces none of the "
            "paper's numbers; it shows that the pipeline runs end to end."
        )
    else:
        text = (
            f"Bottom line: {len(synthetic)} of the {len(records)} runs on this page are on SYNTHETIC data "
            "and reproduce none of the paper's numbers; only the sections on real data can."
        )
    return Para(text, "banner")


# --- contents --------------------------------------------------------------------------------
def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def add_contents(blocks: list, at: int) -> list:
    """Anchors for the level-2 and level-3 headings, and a list of links to them inserted at `at`."""
    seen: set[str] = {b.anchor for b in blocks if isinstance(b, Heading) and b.anchor}
    items = []
    for b in blocks:
        if not isinstance(b, Heading) or b.level not in (2, 3):
            continue
        if not b.anchor:
            base, i = slug(b.text), 2
            b.anchor = base
            while b.anchor in seen:
                b.anchor, i = f"{base}-{i}", i + 1
            seen.add(b.anchor)
        items.append((b.level, b.text, b.anchor))
    if not items:
        return blocks
    return blocks[:at] + [Contents(items)] + blocks[at:]
