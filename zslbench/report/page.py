"""`zslbench report`: one page (HTML and Markdown) that says what was reproduced and how surely.

What it holds, from the run records of a results folder:
- per data section and dataset, the GZSL and CZSL results: ours (mean ± std, n, the 95 % t
  interval), the paper's value, and where the comparison means something (real data; the CZSL
  image track) the difference and whether the paper's value lies in our interval; the runs behind
  every row; the notes of `zslbench table`;
- the paper's claims (zslbench.report.claims), each with a verdict, its test, p and n;
- the effect of each option variant (zslbench.report.effects), e.g. from `run --all --ablate`;
- the logit-variance figures (zslbench.report.plots) and the training curves (report.curves).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

from zslbench.report import stats
from zslbench.report.blocks import Bullets, Cell, Figure, Fold, Heading, Para, RunDetails, Table
from zslbench.report.claims import ClaimResult, evaluate, group_records
from zslbench.report.effects import Ablation, ablations, row_name
from zslbench.report.records import collect, fmt_items
from zslbench.store import atomic_write_bytes, atomic_write_text

TITLE = "zslbench report"
SYNTHETIC_BANNER = ("SYNTHETIC data: the numbers, verdicts and effects computed on it show that the pipeline "
                    "works; they say NOTHING about the paper's claims or numbers.")
VERDICT_CELL = {
    stats.SUPPORTED: ("✔ supported", "good"),
    stats.CONTRADICTED: ("✘ contradicted", "bad"),
    stats.INCONCLUSIVE: ("? inconclusive", "neutral"),
    stats.NO_VERDICT: ("– no verdict", "neutral"),
}


@dataclass
class ReportFiles:
    index: Path
    markdown: Path
    images: list[Path]


def _display(ds: str) -> str:
    from zslbench.data.features.specs import DATASETS

    return DATASETS[ds].display if ds in DATASETS else ds


def _source_text(source: str, track: str | None = None) -> str:
    text = {"synthetic": "SYNTHETIC data", "xlsa17": "xlsa17 features", "images": "raw images"}.get(source, source)
    return f"{text}, {track} track" if track else text


def comparable(source: str, kind: str, track: str | None) -> bool:
    """Whether our numbers may be set against the paper's: real data, and for CZSL the image track."""
    return source != "synthetic" and (kind == "gzsl" or track == "images")


def _digits(metric: str) -> int:
    return 3 if metric == "forgetting" else 1


# --- the runs behind a row -----------------------------------------------------------------------
def run_details(recs: list[dict], variant) -> RunDetails:
    from zslbench.numerics import numeric_key

    recs = sorted(recs, key=lambda r: (r["seed"], str(r.get("run_id"))))
    presets = sorted({str(r.get("preset", "(written before presets)")) for r in recs})
    envs = sorted({numeric_key(r.get("env")) for r in recs}, key=str)
    prints = sorted({str(r.get("data_fingerprint", "?")) for r in recs})
    lines = [
        "runs: " + ", ".join(f"`{r.get('run_id')}` (seed {r['seed']})" for r in recs),
        f"profile `{variant.profile}`, preset " + ", ".join(f"`{p}`" for p in presets),
        "options differing from the defaults: " + (f"`{fmt_items(variant.paper_diff)}`" if variant.paper_diff else "none"),
        "numeric environment: " + "; ".join(f"`{e}`" for e in envs),
        "data fingerprint: " + ", ".join(f"`{p}`" for p in prints),
    ]
    return RunDetails(f"{len(recs)} run{'s' if len(recs) != 1 else ''}", lines)


# --- result tables ------------------------------------------------------------------------------
def _interval(cell: dict) -> stats.Summary:
    n, mean, std = int(cell["n"]), float(cell["mean"]), float(cell["std"])
    if n < 2 or math.isnan(std):
        return stats.Summary(mean, std, n, math.nan, math.nan)
    half = stats.t_quantile(n - 1) * std / math.sqrt(n)
    return stats.Summary(mean, std, n, mean - half, mean + half)


def _results_table(section, ds: str, runs: dict, variants: dict, kind: str) -> Table:
    comp = comparable(section.source, kind, section.track)
    headers = ["model" if kind == "gzsl" else "method", "metric", "ours (mean ± std)", "n", "95 % CI"]
    headers += ["paper", "Δ (ours − paper)", "paper in our CI"] if comp else ["paper (reference only)"]
    headers.append("runs")
    rows = []
    for row in section.rows:
        if row.kind != "ours":
            continue
        recs = runs.get((row.variant, row.name, ds), [])
        if not recs:
            continue
        name = f"{row.name} ({row.variant})" if row.show_variant else row.name
        details = run_details(recs, variants[row.variant])
        for metric in section.metrics:
            c = section.cell(row, ds, metric)
            if c is None or not c["n"]:
                continue
            d = _digits(metric)
            ci = _interval(c)
            ours = f"{ci.mean:.{d}f}" + (f" ± {ci.std:.{d}f}" if ci.n >= 2 else "")
            ci_text = f"[{ci.lo:.{d}f}, {ci.hi:.{d}f}]" if ci.n >= 2 else "— (one seed)"
            paper = c["paper"]
            has_paper = paper is not None and not (isinstance(paper, float) and math.isnan(paper))
            pd_ = 2 if metric == "forgetting" else 1
            label = {"forgetting": "Forgetting"}.get(metric, metric)
            cells = [Cell(name), Cell(label), Cell(ours), Cell(str(ci.n)), Cell(ci_text)]
            cells.append(Cell(f"{paper:.{pd_}f}" if has_paper else "-"))
            if comp:
                cells.append(Cell(f"{ci.mean - paper:+.{d}f}" if has_paper else ""))
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


def _results_blocks(kind: str, results: Path) -> list:
    from zslbench.report.tables import build_table

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = build_table(kind, results)
        records, _ = collect(results, kind)
    title = "GZSL results" if kind == "gzsl" else "CZSL results"
    blocks: list = [Heading(2, title, kind)]
    if table.empty:
        return blocks + [Para(f"No {kind.upper()} run records.")]
    grouped = group_records(records, kind)
    for section in table.sections:
        key = (section.source,) if kind == "gzsl" else (section.source, section.track)
        variants = {label: v for v, label, _ in grouped.get(key, [])}
        runs: dict = {}
        for v, label, recs in grouped.get(key, []):
            for r in recs:
                runs.setdefault((label, row_name(r, kind), r["dataset"]), []).append(r)
        blocks.append(Heading(3, section.title))
        if section.source == "synthetic":
            blocks.append(Para(SYNTHETIC_BANNER, "banner"))
        elif not comparable(section.source, kind, section.track):
            blocks.append(Para("Features track: not the paper's protocol; the paper's values stand beside ours "
                               "for reference only.", "banner"))
        for ds in section.datasets:
            t = _results_table(section, ds, runs, variants, kind)
            if t.rows:
                blocks += [Heading(4, _display(ds)), t]
        blocks += [Heading(4, "Notes"), Bullets(list(section.notes), ordered=True)]
    return blocks


# --- claims --------------------------------------------------------------------------------------
def _claim_effect(res: ClaimResult) -> tuple[str, str, str, str]:
    """(effect, test, p, n) of the check that decides the verdict."""
    check = res.headline
    if check is None:
        return "—", "—", "—", "—"
    if check.comparison is None:
        s = check.summary
        if check.effect:  # a ratio
            return f"{check.effect} {check.interval} ({check.label})", "—", "—", str(s.n)
        return f"{s.mean:.1f} s ({check.label})", "—", "—", str(s.n)
    c = check.comparison
    d = 3 if check.metric in ("forgetting", "pre_var_drift") else 2
    return f"{c.diff:+.{d}f} ({check.label})", c.test, stats.fmt_p(c.p), c.n_text


def _claims_blocks(results: Path) -> list:
    found = evaluate(results)
    blocks: list = [
        Heading(2, "The paper's claims, checked", "claims"),
        Para(f"Each claim (from `baselines/claims.csv`) is checked on every data section and option variant that "
             f"has runs for it, as one check per dataset, metric and opponent. A check compares the runs with a "
             f"two-sided paired t test over the seeds both sides share (when they share the same seeds or at least "
             f"{stats.MIN_N}), otherwise with Welch's t test; it is supported when p < {stats.ALPHA:g} in the claimed "
             f"direction, contradicted when p < {stats.ALPHA:g} in the other, and inconclusive otherwise or with fewer "
             f"than {stats.MIN_N} seeds (paired) or {stats.MIN_N} runs per side (Welch). A claim is supported when all "
             "its checks are, contradicted when any is. No correction for the number of checks is made. The effect "
             "shown is that of the deciding check (a contradicting one, else the weakest)."),
    ]
    if any(r.synthetic for r in found):
        blocks.append(Para(SYNTHETIC_BANNER, "banner"))
    rows = []
    for r in found:
        verdict, style = VERDICT_CELL[r.verdict]
        effect, test, p, n = _claim_effect(r)
        data = _source_text(r.source, r.track) if r.source else "—"
        rows.append([Cell(r.claim.id), Cell(r.claim.title), Cell(data), Cell(r.variant or "—"), Cell(verdict, style),
                     Cell(effect), Cell(test), Cell(p), Cell(n), Cell(r.reason)])
    blocks.append(Table(["#", "claim", "data", "variant", "verdict", "effect (a − b)", "test", "p", "n", "checks"],
                        rows, numeric={7}))
    for r in found:
        if r.checks:
            blocks.append(_claim_fold(r))
    return blocks


def _claim_fold(r: ClaimResult) -> Fold:
    rows = []
    for c in r.checks:
        verdict, style = VERDICT_CELL[c.verdict]
        runs = RunDetails(f"{len(c.runs_a) + len(c.runs_b)} runs",
                          [f"a: {', '.join(f'`{i}`' for i in c.runs_a) or '—'}",
                           f"b: {', '.join(f'`{i}`' for i in c.runs_b) or '—'}"])
        if c.comparison is not None:
            cp = c.comparison
            d = 3 if c.metric in ("forgetting", "pre_var_drift") else 2
            ci = f"[{cp.lo:+.{d}f}, {cp.hi:+.{d}f}]" if not math.isnan(cp.lo) else "—"
            nums = [f"{cp.diff:+.{d}f}", ci, cp.test, stats.fmt_p(cp.p), cp.n_text]
        elif c.effect:  # a ratio
            nums = [c.effect, c.interval, "—", "—", str(c.summary.n)]
        else:
            s = c.summary
            ci = f"[{s.lo:.1f}, {s.hi:.1f}] s" if not math.isnan(s.lo) else "—"
            nums = [f"{s.mean:.1f} s", ci, "—", "—", str(s.n)]
        rows.append([Cell(c.label), *(Cell(x) for x in nums), Cell(verdict, style), Cell(c.reason),
                     Cell(runs.summary, details=runs)])
    where = _source_text(r.source, r.track) + (f", {r.variant}" if r.variant else "")
    blocks: list = [Para(f"Source: {r.claim.source}." + (f" Note: {r.claim.note}." if r.claim.note else ""))]
    if r.synthetic:
        blocks.append(Para(SYNTHETIC_BANNER, "banner"))
    blocks.append(Table(["check", "a − b", "95 % CI", "test", "p", "n", "verdict", "why", "runs"], rows,
                        numeric={1, 2, 4}))
    if r.not_run:
        blocks.append(Para("Not run: " + "; ".join(r.not_run) + "."))
    return Fold(f"Claim {r.claim.id} on {where}: {VERDICT_CELL[r.verdict][0]}", blocks)


# --- option effects ----------------------------------------------------------------------------
def _ablation_blocks(results: Path) -> list:
    found = ablations(results)
    blocks: list = [
        Heading(2, "How much each option moves the numbers", "ablations"),
        Para("Per data section, each option variant is compared with the base variant (the one with the most "
             "runs; on a tie, the fewest options away from the paper's defaults) on the same models, datasets and seeds: the change is variant − base (H and AUSUC for GZSL, "
             "mH and mAUC for CZSL), the mean of the per-seed differences with its 95 % t interval (paired t; "
             "Welch's t where the seeds differ). `zslbench run --all --ablate OPTION` plans such runs."),
    ]
    if not found:
        return blocks + [Para("No option variants beside a base variant in these records.")]
    if any(a.source == "synthetic" for a in found):
        blocks.append(Para(SYNTHETIC_BANNER, "banner"))
    for a in found:
        blocks.append(Heading(3, f"{a.change} ({_source_text(a.source, a.track)}, {a.kind.upper()})"))
        blocks.append(Para(f"Base variant: `{a.base}`."))
        blocks.append(_ablation_table(a))
    return blocks


def _ablation_table(a: Ablation) -> Table:
    rows = []
    for e in a.effects:
        c = e.comparison
        ci = f"[{c.lo:+.2f}, {c.hi:+.2f}]" if not math.isnan(c.lo) else "—"
        runs = RunDetails(f"{len(e.runs_flipped) + len(e.runs_base)} runs",
                          [f"variant: {', '.join(f'`{i}`' for i in e.runs_flipped)}",
                           f"base: {', '.join(f'`{i}`' for i in e.runs_base)}"])
        rows.append([Cell(e.name), Cell(_display(e.dataset)), Cell(e.metric), Cell(f"{c.diff:+.2f}"), Cell(ci),
                     Cell(c.test), Cell(stats.fmt_p(c.p)), Cell(c.n_text), Cell(runs.summary, details=runs)])
    headers = ["model" if a.kind == "gzsl" else "method", "dataset", "metric", "change (variant − base)", "95 % CI",
               "test", "p", "n", "runs"]
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
        blocks.append(Figure(f"plots/{path.name}", f"logit variance on {_display(item.dataset)}", item.caption))
    groups: dict = {}
    for sec, variants in group_records(records, "gzsl").items():
        for _, label, recs in variants:
            for ds in sorted({r["dataset"] for r in recs}):
                groups.setdefault((sec[0], ds), []).append((label, [r for r in recs if r["dataset"] == ds]))
    curves = write_curves(groups, out_dir / "plots", _display)
    if curves:
        blocks.append(Heading(3, "Training curves (epochs.csv)"))
    for c in curves:
        images.append(c.path)
        seeds = ", ".join(f"{m}: {n}" for m, n in c.models.items())
        caption = (f"{_display(c.dataset)}, {_source_text(c.source)}, variant `{c.variant}`. Left: the test H "
                   f"of each epoch (per-sample, uncalibrated); right: the training loss. Thin lines: one seed "
                   f"each; bold: their mean (seeds: {seeds}).")
        blocks.append(Figure(f"plots/{c.path.name}", f"training curves on {_display(c.dataset)}", caption))
    if len(blocks) == 1:
        blocks.append(Para("No GZSL run with a trace.csv or an epochs.csv: nothing to draw."))
    return blocks, images


# --- the page -------------------------------------------------------------------------------------
def _intro(results: Path) -> list:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gz, skipped_gz = collect(results, "gzsl")
        cz, skipped_cz = collect(results, "czsl")
    sources = sorted({str(r["data_source"]) for r in gz + cz})
    blocks: list = [
        Heading(1, TITLE),
        Para(f"{len(gz)} GZSL and {len(cz)} CZSL run records from `{results}` (data: {', '.join(sources) or 'none'})"
             + (f"; {len(skipped_gz) + len(skipped_cz)} unreadable or incomplete record(s) skipped." if skipped_gz
                or skipped_cz else ".")),
        Bullets([
            f"Ours: the mean over seeds ± the sample standard deviation (n − 1); 95 % CI: the {stats.LEVEL:.0%} "
            "confidence interval of the mean from Student's t distribution with n − 1 degrees of freedom "
            "(none for a single seed).",
            "Paper in our CI: ✔ inside (blue) when the paper's value lies in our interval, ✘ outside (orange) "
            "when not. Verdicts: ✔ supported (blue), ✘ contradicted (orange), ? inconclusive (grey).",
            "Synthetic and real data, and the CZSL features and image tracks, are never in one table; on "
            "synthetic data and on the features track the paper's values are shown for reference only, "
            "without a difference.",
        ]),
    ]
    if "synthetic" in sources:
        blocks.append(Para(SYNTHETIC_BANNER, "banner"))
    return blocks


def build_blocks(results: Path, out_dir: Path) -> tuple[list, list[Path]]:
    results = Path(results)
    blocks = _intro(results)
    blocks += _results_blocks("gzsl", results)
    blocks += _results_blocks("czsl", results)
    blocks += _claims_blocks(results)
    blocks += _ablation_blocks(results)
    figs, images = _figure_blocks(results, Path(out_dir))
    return blocks + figs, images


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
