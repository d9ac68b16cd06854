"""`zslbench report`: one page (HTML and Markdown) that says what was reproduced and how surely.

What it holds, from the run records of a results folder:
- per data section and dataset, the GZSL and CZSL results (zslbench.report.results_section): ours
  (mean ± std, n, the 95 % t interval), the paper's value, and where the comparison means something
  (real data; the CZSL image track) the difference and whether the paper's value lies in our interval;
  the runs behind every row; the notes of `zslbench table`;
- the paper's claims (zslbench.report.claims, shown by report.claims_section), each with a verdict,
  its test, p and n;
- the effect of each option variant (zslbench.report.effects), e.g. from `run --all --ablate`;
- the logit-variance figures (zslbench.report.plots) and the training curves (report.curves).
This module assembles the page from those sections and writes it.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

from zslbench.data.registry import source_info
from zslbench.records import RunRecord
from zslbench.report import readout, stats
from zslbench.report.blocks import Bullets, Cell, Figure, Heading, Para, RunDetails, Table
from zslbench.report.claims import group_records
from zslbench.report.claims_section import claims_blocks
from zslbench.report.effects import Ablation, ablations
from zslbench.report.records import collect
from zslbench.report.results_section import results_blocks
from zslbench.report.shared import SYNTHETIC_BANNER, display_name, source_text
from zslbench.store import atomic_write_bytes, atomic_write_text

TITLE = "zslbench report"


@dataclass
class ReportFiles:
    index: Path
    markdown: Path
    images: list[Path]


# --- option effects ----------------------------------------------------------------------------
def _ablation_blocks(results: Path) -> list:
    found = ablations(results)
    blocks: list = [
        Heading(2, "How much each option moves the numbers", "ablations"),
        Para(
            "Per data section, each option variant is compared with the base variant (the one with the most "
            "runs; on a tie, the fewest options away from the paper's defaults) on the same models, datasets and seeds: the change is variant − base (H and AUSUC for GZSL, "
            "mH and mAUC for CZSL), the mean of the per-seed differences with its 95 % t interval (paired t; "
            "Welch's t where the seeds differ). `zslbench run --all --ablate OPTION` plans such runs."
        ),
    ]
    if not found:
        return blocks + [Para("No option variants beside a base variant in these records.")]
    if any(source_info(a.source).synthetic for a in found):
        blocks.append(Para(SYNTHETIC_BANNER, "banner"))
    for a in found:
        blocks.append(Heading(3, f"{a.change} ({source_text(a.source, a.track)}, {a.kind.upper()})"))
        blocks.append(Para(f"Base variant: `{a.base}`."))
        blocks.append(_ablation_table(a))
        if a.not_flipped:
            blocks.append(
                Para(
                    "Not flipped (base runs only): " + ", ".join(a.not_flipped) + ". `zslbench run "
                    "--ablate` skips a flip where the run already acts with the new value (e.g. "
                    "`seen_logit_scale=1.0` on CUB, where `colab_rule` means 1.0) and lists it in the plan."
                )
            )
    return blocks


def _ablation_table(a: Ablation) -> Table:
    rows = []
    for e in a.effects:
        c = e.comparison
        ci = f"[{c.lo:+.2f}, {c.hi:+.2f}]" if not math.isnan(c.lo) else "—"
        runs = RunDetails(
            f"{len(e.runs_flipped) + len(e.runs_base)} runs",
            [
                f"variant: {', '.join(f'`{i}`' for i in e.runs_flipped)}",
                f"base: {', '.join(f'`{i}`' for i in e.runs_base)}",
            ],
        )
        name = e.name + (f" (same factor {e.same_setting} on both sides: measures nothing)" if e.same_setting else "")
        rows.append(
            [
                Cell(name),
                Cell(display_name(e.dataset)),
                Cell(e.metric),
                Cell(readout.num(c.diff, 2, sign=True)),
                Cell(ci),
                Cell(c.test),
                Cell(stats.fmt_p(c.p)),
                Cell(c.n_text),
                Cell(runs.summary, details=runs),
            ]
        )
    headers = [
        "model" if a.kind == "gzsl" else "method",
        "dataset",
        "metric",
        "change (variant − base)",
        "95 % CI",
        "test",
        "p",
        "n",
        "runs",
    ]
    return Table(headers, rows, numeric={3, 4, 6})


# --- figures -------------------------------------------------------------------------------------
def _figure_blocks(results: Path, out_dir: Path) -> tuple[list, list[Path]]:
    import io

    from zslbench.report.curves import write_curves
    from zslbench.report.plots import variance_figures

    blocks: list = [Heading(2, "Figures", "figures")]
    images: list[Path] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        figures = variance_figures(results)
        records, _ = collect(results, "gzsl")
    if figures:
        blocks.append(Heading(3, "Logit variance during training"))
    for item in figures:
        buf = io.BytesIO()
        item.figure.savefig(buf, format="png", dpi=150, metadata={"Software": "zslbench"})
        path = out_dir / "plots" / f"{item.stem}.png"
        atomic_write_bytes(path, buf.getvalue())
        images.append(path)
        blocks.append(Figure(f"plots/{path.name}", f"logit variance on {display_name(item.dataset)}", item.caption))
    groups: dict[tuple[str, str], list[tuple[str, list[RunRecord]]]] = {}
    for sec, variants in group_records(records, "gzsl").items():
        for _, label, recs in variants:
            for ds in sorted({r["dataset"] for r in recs}):
                groups.setdefault((sec[0], ds), []).append((label, [r for r in recs if r["dataset"] == ds]))
    curves = write_curves(groups, out_dir / "plots", display_name)
    if curves:
        blocks.append(Heading(3, "Training curves (epochs.csv)"))
    for c in curves:
        images.append(c.path)
        seeds = ", ".join(f"{m}: {n}" for m, n in c.models.items())
        variant = c.variant.replace("`", "'")  # a code span in the caption
        caption = (
            f"{display_name(c.dataset)}, {source_text(c.source)}, variant `{variant}`. Left: the test H "
            f"of each epoch, per-sample and uncalibrated (the quantity the authors' code selects its epoch "
            f"on), NOT the calibrated per-class H of the tables, so its level differs from theirs; right: "
            f"the training loss. Thin lines: one seed each; bold: their mean (seeds: {seeds})."
        )
        blocks.append(Figure(f"plots/{c.path.name}", f"training curves on {display_name(c.dataset)}", caption))
    if len(blocks) == 1:
        blocks.append(Para("No GZSL run with a trace.csv or an epochs.csv: nothing to draw."))
    return blocks, images


# --- the page -------------------------------------------------------------------------------------
def _intro(results: Path) -> list:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gz, skipped_gz = collect(results, "gzsl")
        cz, skipped_cz = collect(results, "czsl")
    for message in dict.fromkeys(skipped_gz + skipped_cz):  # a broken record is in both lists: one warning
        warnings.warn(message, stacklevel=2)
    sources = sorted({str(r["data_source"]) for r in gz + cz})
    blocks: list = [
        Heading(1, TITLE),
        Para(readout.provenance(gz + cz)),
        Para(
            f"{len(gz)} GZSL and {len(cz)} CZSL run records from `{results}` (data: {', '.join(sources) or 'none'})"
            + (
                f"; {len(set(skipped_gz) | set(skipped_cz))} unreadable or incomplete record(s) skipped."
                if skipped_gz or skipped_cz
                else "."
            )
        ),
        Bullets(
            [
                f"Ours: the mean over seeds ± the sample standard deviation (n − 1); 95 % CI: the {stats.LEVEL:.0%} "
                "confidence interval of the mean from Student's t distribution with n − 1 degrees of freedom, cut to "
                f"what the metric can be (percent: 0 to 100; Forgetting: 0 to 1); with fewer than {stats.MIN_N} "
                "seeds no interval is given, as it would say little. Units are in the column headers; pp = "
                "percentage points. The runs cell of a row lists its runs and each seed's values.",
                "Paper in our CI: ✔ inside (blue) when the paper's value lies in our interval, ✘ outside (orange) "
                "when not. Verdicts: ✔ supported (blue), ✘ contradicted (orange), ? inconclusive (grey).",
                "Synthetic and real data, and the CZSL features and image tracks, are never in one table; on "
                "synthetic data and on the features track the paper's values are shown for reference only, "
                "without a difference.",
            ]
        ),
    ]
    line = readout.bottom_line(gz + cz)
    if line is not None:
        blocks.insert(2, line)
    if any(source_info(s).synthetic for s in sources):
        blocks.append(Para(SYNTHETIC_BANNER, "banner"))
    return blocks


def build_blocks(results: Path, out_dir: Path) -> tuple[list, list[Path]]:
    results = Path(results)
    blocks = _intro(results)
    start = len(blocks)
    blocks += results_blocks("gzsl", results)
    blocks += results_blocks("czsl", results)
    blocks += claims_blocks(results)
    blocks += _ablation_blocks(results)
    figs, images = _figure_blocks(results, Path(out_dir))
    return readout.add_contents(blocks + figs, start), images


def write_report(results: Path, out_dir: Path | None = None) -> ReportFiles:
    """Write <out_dir>/index.html, report.md and plots/*.png (default out_dir: <results>/report)."""
    from zslbench.errors import ZSLBenchError
    from zslbench.report.html import render_html
    from zslbench.report.markdown import render_markdown

    results = Path(results)
    out_dir = Path(out_dir) if out_dir is not None else results / "report"
    plots = out_dir / "plots"
    if plots.is_dir():  # drawings of an earlier report (this folder's own files only)
        for old in list(plots.glob("variance-*.png")) + list(plots.glob("curves-*.png")):
            old.unlink(missing_ok=True)
    try:
        blocks, images = build_blocks(results, out_dir)
        index, md = out_dir / "index.html", out_dir / "report.md"
        atomic_write_text(index, render_html(blocks, TITLE))
        atomic_write_text(md, render_markdown(blocks))
    except OSError as exc:
        raise ZSLBenchError(f"cannot write the report in {out_dir}: {exc.strerror or exc}") from None
    return ReportFiles(index, md, images)
