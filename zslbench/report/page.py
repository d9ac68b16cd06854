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

from zslbench.data.registry import source_info
from zslbench.metrics.registry import METRICS
from zslbench.report import leaning, readout, stats
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
    text = source_info(source).report_name
    return f"{text}, {track} track" if track else text


def comparable(source: str, kind: str, track: str | None) -> bool:
    """Whether our numbers may be set against the paper's: real data, and for CZSL the image track."""
    return not source_info(source).synthetic and (kind == "gzsl" or track == "images")


# --- the runs behind a row -----------------------------------------------------------------------
def run_details(recs: list[dict], variant, metrics=()) -> RunDetails:
    from zslbench.environment import numeric_key

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
    for r in recs if metrics else ():
        values = (r.get("metrics") or {})
        lines.append(f"seed {r['seed']}: " + ", ".join(
            f"{METRICS.heading(m)} {readout.num(values[m], METRICS.digits(m))}" for m in metrics if isinstance(values.get(m), (int, float))))
    return RunDetails(f"{len(recs)} run{'s' if len(recs) != 1 else ''}", lines)


# --- result tables ------------------------------------------------------------------------------
def _interval(cell: dict, metric: str) -> stats.Summary:
    return readout.interval_summary(float(cell["mean"]), float(cell["std"]), int(cell["n"]), metric)


def _results_table(section, ds: str, runs: dict, variants: dict, kind: str) -> Table:
    comp = comparable(section.source, kind, section.track)
    unit = readout.unit_text([m for m in section.metrics if any(
        (c := section.cell(r, ds, m)) is not None and c["n"] for r in section.rows if r.kind == "ours")])
    delta_unit = unit.replace("%", "pp", 1) if unit.startswith("%") else unit
    headers = ["model" if kind == "gzsl" else "method", "metric", f"ours, mean ± std ({unit})", "n (seeds)",
               f"95 % CI ({unit})"]
    headers += ([f"paper ({unit})", f"Δ (ours − paper; {delta_unit})", "paper in our CI"] if comp
                else [f"paper (reference only; {unit})"])
    headers.append("runs")
    rows = []
    for row in section.rows:
        if row.kind != "ours":
            continue
        recs = runs.get((row.variant, row.name, ds), [])
        if not recs:
            continue
        name = f"{row.name} ({row.variant})" if row.show_variant else row.name
        details = run_details(recs, variants[row.variant], section.metrics)
        for metric in section.metrics:
            c = section.cell(row, ds, metric)
            if c is None or not c["n"]:
                continue
            d = METRICS.digits(metric)
            ci = _interval(c, metric)
            ours = readout.num(ci.mean, d) + (f" ± {readout.num(ci.std, d)}" if ci.n >= 2 else "")
            ci_text = readout.interval_text(ci, d)
            paper = c["paper"]
            has_paper = paper is not None and not (isinstance(paper, float) and math.isnan(paper))
            pd_ = METRICS.paper_digits(metric)
            label = METRICS.heading(metric)
            cells = [Cell(name), Cell(label), Cell(ours), Cell(str(ci.n)), Cell(ci_text)]
            cells.append(Cell(f"{paper:.{pd_}f}" if has_paper else "-"))
            if comp:
                cells.append(Cell(readout.num(ci.mean - paper, d, sign=True) if has_paper else ""))
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
    from zslbench.report.tables.sources import labelled_records

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = build_table(kind, results)
        records, _ = collect(results, kind)
    records = labelled_records(records, kind)  # the rows' names, plugin rows labelled as in the table
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
        if source_info(section.source).synthetic:
            blocks.append(Para(SYNTHETIC_BANNER, "banner"))
        elif not comparable(section.source, kind, section.track):
            blocks.append(Para("Features track: not the paper's protocol; the paper's values stand beside ours "
                               "for reference only.", "banner"))
        for ds in section.datasets:
            t = _results_table(section, ds, runs, variants, kind)
            if t.rows:
                blocks += [Heading(4, _display(ds)), t]
        notes = readout.page_notes(section.notes, comparable(section.source, kind, section.track), kind)
        blocks += [Heading(4, "Notes"), Bullets(notes, ordered=True)]
    return blocks


# --- claims --------------------------------------------------------------------------------------
def _claim_digits(metric: str) -> int:
    """Digits of a claim's difference: 2, or the metric's own where it has more; 3 for the logit-variance drift."""
    return 3 if metric == "pre_var_drift" else max(2, METRICS.digits(metric))


def _claim_effect(res: ClaimResult) -> tuple[str, str, str, str]:
    """(effect, test, p, n) of the check that decides the verdict."""
    check = res.headline
    if check is None:
        return "—", "—", "—", "—"
    if check.comparison is None:
        s = check.summary
        if s is None:  # a check carries a comparison or a summary (claims.Check)
            return "—", "—", "—", "—"
        if check.effect:  # a ratio
            return f"{check.effect} {check.interval} ({check.label})", "—", "—", str(s.n)
        return f"{s.mean:.1f} s ({check.label})", "—", "—", str(s.n)
    c = check.comparison
    d = _claim_digits(check.metric)
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
             "shown is that of the deciding check (a contradicting one, else the weakest); \"supported when\" says "
             "which sign of a − b the claim predicts, \"checks\" how many differences point each way, and "
             f"\"against it\" every check whose difference points the other way with p < {stats.ALPHA:g}, even one "
             f"with too few seeds for a verdict."),
    ]
    if any(r.synthetic for r in found):
        blocks.append(Para(SYNTHETIC_BANNER, "banner"))
    rows = []
    for r in found:
        verdict, style = VERDICT_CELL[r.verdict]
        effect, test, p, n = _claim_effect(r)
        data = _source_text(r.source, r.track) if r.source else "—"
        contra = leaning.against_text(r) if r.checks else "—"
        rows.append([Cell(r.claim.id), Cell(r.claim.title), Cell(data), Cell(r.variant or "—"), Cell(verdict, style),
                     Cell(leaning.supporting_direction(r.claim)), Cell(effect), Cell(test), Cell(p), Cell(n),
                     Cell(leaning.tally_text(r)), Cell(contra, "bad" if leaning.against(r) else ""), Cell(r.reason)])
    blocks.append(Table(["#", "claim", "data", "variant", "verdict", "supported when", "effect (a − b)", "test", "p",
                         "n", "checks (direction)", "against it (p < 0.05)", "checks"], rows, numeric={8}))
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
            d = _claim_digits(c.metric)
            ci = f"[{cp.lo:+.{d}f}, {cp.hi:+.{d}f}]" if not math.isnan(cp.lo) else "—"
            nums = [f"{cp.diff:+.{d}f}", ci, cp.test, stats.fmt_p(cp.p), cp.n_text]
        elif c.effect and c.summary is not None:  # a ratio
            nums = [c.effect, c.interval, "—", "—", str(c.summary.n)]
        elif c.summary is not None:
            s = c.summary
            ci = f"[{s.lo:.1f}, {s.hi:.1f}] s" if not math.isnan(s.lo) else "—"
            nums = [f"{s.mean:.1f} s", ci, "—", "—", str(s.n)]
        else:  # neither (claims.Check carries one): nothing measured
            nums = ["—"] * 5
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
    if any(source_info(a.source).synthetic for a in found):
        blocks.append(Para(SYNTHETIC_BANNER, "banner"))
    for a in found:
        blocks.append(Heading(3, f"{a.change} ({_source_text(a.source, a.track)}, {a.kind.upper()})"))
        blocks.append(Para(f"Base variant: `{a.base}`."))
        blocks.append(_ablation_table(a))
        if a.not_flipped:
            blocks.append(Para("Not flipped (base runs only): " + ", ".join(a.not_flipped) + ". `zslbench run "
                               "--ablate` skips a flip where the run already acts with the new value (e.g. "
                               "`seen_logit_scale=1.0` on CUB, where `colab_rule` means 1.0) and lists it in the plan."))
    return blocks


def _ablation_table(a: Ablation) -> Table:
    rows = []
    for e in a.effects:
        c = e.comparison
        ci = f"[{c.lo:+.2f}, {c.hi:+.2f}]" if not math.isnan(c.lo) else "—"
        runs = RunDetails(f"{len(e.runs_flipped) + len(e.runs_base)} runs",
                          [f"variant: {', '.join(f'`{i}`' for i in e.runs_flipped)}",
                           f"base: {', '.join(f'`{i}`' for i in e.runs_base)}"])
        name = e.name + (f" (same factor {e.same_setting} on both sides: measures nothing)" if e.same_setting else "")
        rows.append([Cell(name), Cell(_display(e.dataset)), Cell(e.metric), Cell(readout.num(c.diff, 2, sign=True)), Cell(ci),
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
        variant = c.variant.replace("`", "'")  # a code span in the caption
        caption = (f"{_display(c.dataset)}, {_source_text(c.source)}, variant `{variant}`. Left: the test H "
                   f"of each epoch, per-sample and uncalibrated (the quantity the authors' code selects its epoch "
                   f"on), NOT the calibrated per-class H of the tables, so its level differs from theirs; right: "
                   f"the training loss. Thin lines: one seed each; bold: their mean (seeds: {seeds}).")
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
    for message in dict.fromkeys(skipped_gz + skipped_cz):  # a broken record is in both lists: one warning
        warnings.warn(message, stacklevel=2)
    sources = sorted({str(r["data_source"]) for r in gz + cz})
    blocks: list = [
        Heading(1, TITLE),
        Para(readout.provenance(gz + cz)),
        Para(f"{len(gz)} GZSL and {len(cz)} CZSL run records from `{results}` (data: {', '.join(sources) or 'none'})"
             + (f"; {len(set(skipped_gz) | set(skipped_cz))} unreadable or incomplete record(s) skipped."
                if skipped_gz or skipped_cz else ".")),
        Bullets([
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
        ]),
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
    blocks += _results_blocks("gzsl", results)
    blocks += _results_blocks("czsl", results)
    blocks += _claims_blocks(results)
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
