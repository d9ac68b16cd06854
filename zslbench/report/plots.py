"""The logit-variance figure (docs/paper-protocol.md#logit-variance): one line per model over training iterations.

Default statistic: `pre_var`, the variance of the logits *before* the scaled-cosine
normalisation, z . p_c, taken over the [minibatch x seen classes] matrix at every training
iteration.  That is the quantity the authors' code traces (`compute_prelogits_stats`, which
stores its std; the variance is its square, so on a log axis the curves have the same shape)
and the one the paper's caption calls "logits variance across a minibatch".  The logits after
normalisation (`post_var`) are bounded by gamma^2 and barely move; they are offered with
`--stat post_var`, as are the standard deviations and the hidden-layer variance.

What is drawn: for each (model, config variant), the per-iteration mean over seeds (line) and
the min-max over seeds (band).  Traces longer than `max_points` iterations are averaged in
bins of k consecutive iterations before drawing (k = ceil(iterations / max_points)); the CSV
beside the figure keeps every iteration (no binning).  One figure per (dataset, data source).
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zslbench.data.registry import source_info
from zslbench.errors import ZSLBenchError
from zslbench.report.records import collect, label_variants, order_variants, sorted_sections, variant_of
from zslbench.store import atomic_write_bytes

STATS = {
    # name: (what it is, y-axis label)
    "pre_var": (
        "variance of the logits before normalisation, z·p over batch × seen classes",
        "logit variance across the minibatch\n(before normalisation)",
    ),
    "pre_std": (
        "standard deviation of the logits before normalisation, z·p over batch × seen classes",
        "logit std across the minibatch\n(before normalisation)",
    ),
    "post_var": (
        "variance of the normalised logits γ²·cos(z, p) the loss sees, over batch × seen classes",
        "logit variance across the minibatch\n(after normalisation)",
    ),
    "post_std": (
        "standard deviation of the normalised logits γ²·cos(z, p) the loss sees",
        "logit std across the minibatch\n(after normalisation)",
    ),
    "hidden_var": (
        "variance across classes of the penultimate attribute embedding, mean over units",
        "hidden-unit variance across classes",
    ),
}
DEFAULT_STAT = "pre_var"
MAX_POINTS = 200

# Okabe & Ito (2008) colour-blind-safe palette, plus distinct line styles for grey-scale print.
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00", "#F0E442", "#000000")
MODEL_STYLE = {
    "linear": ("#E69F00", (0, (1, 1.2))),
    "mlp3": ("#56B4E9", (0, (4, 1.5))),
    "mlp3+eq9": ("#009E73", (0, (4, 1.2, 1, 1.2))),
    "mlp3+eq10": ("#CC79A7", (0, (6, 2))),
    "mlp3+cn": ("#0072B2", "solid"),
}
_EXTRA_STYLES = ((0, (2, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (8, 2)))


@dataclass
class VarianceFigure:
    dataset: str
    source: str
    stat: str
    stem: str  # file name without extension
    figure: Any  # matplotlib.figure.Figure
    data: pd.DataFrame  # full-resolution aggregated traces (the CSV)
    n_seeds: dict  # line label -> number of seeds
    caption: str = ""  # a figure caption, also written as <stem>.caption.txt


def load_traces(results: Path, dataset: str | None = None) -> pd.DataFrame:
    """Every traced GZSL run as long rows: source, dataset, variant, model, seed, iteration, epoch, stats."""
    records, _ = collect(results, "gzsl")
    frames = []
    by_section: dict[tuple, dict] = {}
    for rec in records:
        if dataset is not None and rec["dataset"] != dataset:
            continue
        path = Path(rec["_dir"]) / "trace.csv"
        if not path.exists():
            continue
        try:
            trace = pd.read_csv(path)
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            warnings.warn(f"skipping {path}: unreadable trace ({exc})", stacklevel=2)
            continue
        missing = [c for c in ("iteration", "epoch", *STATS) if c not in trace.columns]
        if missing or trace.empty:
            warnings.warn(f"skipping {path}: no {', '.join(missing) or 'rows'}", stacklevel=2)
            continue
        v = variant_of(rec, "gzsl")
        by_section.setdefault((rec["data_source"], rec["dataset"]), {}).setdefault(v, 0)
        by_section[(rec["data_source"], rec["dataset"])][v] += 1
        trace = trace[["iteration", "epoch", *STATS]].copy()
        trace.insert(0, "seed", rec["seed"])
        trace.insert(0, "model", rec["model"])
        trace.insert(0, "_variant", v)
        trace.insert(0, "dataset", rec["dataset"])
        trace.insert(0, "data_source", rec["data_source"])
        frames.append(trace)
    if not frames:
        return pd.DataFrame(
            columns=["data_source", "dataset", "variant", "model", "seed", "iteration", "epoch", *STATS]
        )
    out = pd.concat(frames, ignore_index=True)
    labels: dict = {}
    for key, counts in by_section.items():
        ordered = order_variants(counts)
        for v, label in label_variants(ordered).items():
            labels[(key, v)] = (ordered.index(v), label)
    out["variant_rank"] = [labels[((s, d), v)][0] for s, d, v in zip(out.data_source, out.dataset, out._variant)]
    out["variant"] = [labels[((s, d), v)][1] for s, d, v in zip(out.data_source, out.dataset, out._variant)]
    return out.drop(columns="_variant")


def aggregate(traces: pd.DataFrame, stat: str) -> pd.DataFrame:
    """Per (source, dataset, variant, model, iteration): seeds, mean, std, min, max of `stat`."""
    if stat not in STATS:
        raise ZSLBenchError(f"--stat: unknown statistic {stat!r}; valid: {', '.join(STATS)}")
    keys = ["data_source", "dataset", "variant_rank", "variant", "model", "iteration"]
    grouped = traces.groupby(keys, sort=True)
    out = grouped.agg(
        epoch=("epoch", "first"),
        n_seeds=(stat, "count"),
        mean=(stat, "mean"),
        std=(stat, "std"),
        min=(stat, "min"),
        max=(stat, "max"),
    ).reset_index()
    out.insert(5, "stat", stat)
    return out


def _bin(frame: pd.DataFrame, max_points: int) -> pd.DataFrame:
    k = max(1, math.ceil(len(frame) / max_points))
    if k == 1:
        return frame
    groups = np.arange(len(frame)) // k
    return frame.groupby(groups).agg(
        iteration=("iteration", "mean"), mean=("mean", "mean"), min=("min", "mean"), max=("max", "mean")
    )


def _model_rank(model: str) -> tuple:
    from zslbench.models import MODELS

    names = list(MODELS)
    return (names.index(model) if model in names else len(names), model)


def variance_figure(agg: pd.DataFrame, dataset: str, source: str, stat: str, max_points: int = MAX_POINTS):
    """One figure from the aggregated traces of one (dataset, source)."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    from zslbench.data.features.specs import DATASETS

    display = DATASETS[dataset].display if dataset in DATASETS else dataset
    lines = sorted(
        agg.groupby(["variant_rank", "variant", "model"]).groups,
        key=lambda key: (key[0], _model_rank(key[2])),
    )
    variant_labels = {key[1]: key[0] for key in lines}
    profiles = {label.split(", ")[0] for label in variant_labels}

    def short(label: str) -> str:  # the options on top of the (shared) profile
        return label.split(", ", 1)[1] if len(profiles) == 1 and ", " in label else label

    rc = {
        "font.size": 7,
        "axes.titlesize": 7.5,
        "axes.labelsize": 7,
        "legend.fontsize": 6.5,
        "xtick.labelsize": 6.5,
        "ytick.labelsize": 6.5,
        "axes.linewidth": 0.6,
        "lines.linewidth": 1.3,
    }
    n_seeds: dict[str, int] = {}
    labels = []
    for rank, variant, model in lines:
        labels.append(model if rank == 0 or len(variant_labels) == 1 else f"{model}, {short(variant)}")
    ncol = 2 if max(len(x) for x in labels) <= 22 else 1
    shown_labels = [_wrap_label(x) for x in labels]
    legend_rows = math.ceil(sum(x.count("\n") + 1 for x in shown_labels) / ncol)
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(3.4, 2.45 + 0.13 * legend_rows), dpi=300, layout="constrained")
        FigureCanvasAgg(fig)  # Agg, no display; pyplot is never used, so no global figure state
        ax = fig.add_subplot()
        extra = iter(zip(OKABE_ITO[5:] + OKABE_ITO, _EXTRA_STYLES * 4))
        for (rank, variant, model), label in zip(lines, labels):
            part = agg[(agg["variant"] == variant) & (agg["model"] == model)].sort_values("iteration")
            colour, style = MODEL_STYLE.get(model) or next(extra)
            if rank > 0:
                style = _EXTRA_STYLES[(rank - 1) % len(_EXTRA_STYLES)]
            seeds = int(part["n_seeds"].max())
            n_seeds[label] = seeds
            shown = _bin(part, max_points)
            ax.fill_between(shown["iteration"], shown["min"], shown["max"], color=colour, alpha=0.22, linewidth=0)
            ax.plot(shown["iteration"], shown["mean"], color=colour, linestyle=style, label=f"{label} (n={seeds})")
        ax.set_yscale("log")
        k = max(1, math.ceil(int(agg.groupby(["variant", "model"]).size().max()) / max_points))
        ax.set_xlabel("training iteration" + (f" (curves averaged in bins of {k})" if k > 1 else ""))
        ax.set_ylabel(STATS[stat][1])
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, which="major", linewidth=0.3, alpha=0.5)
        ax.margins(x=0.01)
        common = f"; profile {profiles.pop()}" if len(profiles) == 1 else ""
        handles = ax.get_lines()
        texts = [f"{text} (n={n_seeds[label]})" for text, label in zip(shown_labels, labels)]
        legend = ax.legend(
            handles,
            texts,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.2),
            ncol=ncol,
            frameon=False,
            handlelength=2.6,
            columnspacing=1.2,
            title=f"line: mean over n seeds; band: min–max over seeds{common}",
        )
        legend.get_title().set_fontsize(6.5)
        ax.set_title(f"{display}, {source_info(source).plot_name}: {_short_stat(stat)}", loc="left")
    return fig, n_seeds


def _wrap_label(label: str, width: int = 44) -> str:
    """A long legend entry broken after its commas, so that it fits the figure's width."""
    out = [""]
    for part in label.split(", "):
        if out[-1] and len(out[-1]) + 2 + len(part) > width:
            out[-1] += ","
            out.append(part)
        else:
            out[-1] = f"{out[-1]}, {part}" if out[-1] else part
    return "\n".join(out)


def _short_stat(stat: str) -> str:
    return {
        "pre_var": "logit variance (pre-norm.)",
        "pre_std": "logit std (pre-norm.)",
        "post_var": "logit variance (post-norm.)",
        "post_std": "logit std (post-norm.)",
        "hidden_var": "hidden variance",
    }[stat]


def variance_figures(
    results: Path, dataset: str | None = None, stat: str = DEFAULT_STAT, max_points: int = MAX_POINTS
) -> list[VarianceFigure]:
    """The figures for one dataset (or every traced dataset): one per (dataset, data source)."""
    if stat not in STATS:
        raise ZSLBenchError(f"--stat: unknown statistic {stat!r}; valid: {', '.join(STATS)}")
    traces = load_traces(results, dataset)
    if traces.empty:
        return []
    agg = aggregate(traces, stat)
    out = []
    datasets = sorted(agg["dataset"].unique(), key=_ds_rank)
    for ds in datasets:
        here = agg[agg["dataset"] == ds]
        sources = [s[0] for s in sorted_sections({(s,) for s in here["data_source"].unique()})]
        for source in sources:
            part = here[here["data_source"] == source]
            stem = f"variance-{ds}" + (f"-{source}" if len(sources) > 1 else "")
            if stat != DEFAULT_STAT:
                stem += f"-{stat}"
            fig, n_seeds = variance_figure(part, ds, source, stat, max_points)
            data = part.drop(columns="variant_rank").reset_index(drop=True)
            caption = _caption(ds, source, stat, data, max_points)
            out.append(VarianceFigure(ds, source, stat, stem, fig, data, n_seeds, caption))
    return out


def _caption(dataset: str, source: str, stat: str, data: pd.DataFrame, max_points: int) -> str:
    from zslbench.data.features.specs import DATASETS

    display = DATASETS[dataset].display if dataset in DATASETS else dataset
    longest = int(data.groupby(["variant", "model"]).size().max())
    k = max(1, math.ceil(longest / max_points))
    variants = sorted(set(data["variant"]))
    text = (
        f"Logit statistics during training on {display} ({source_info(source).plot_name}"
        f"{', NOT the real features' if source_info(source).synthetic else ''}). "
        f"y (log scale): the {STATS[stat][0]}, at every training iteration. "
        "Line: mean over seeds (n per model in the legend); band: min-max over seeds. "
    )
    if k > 1:
        text += f"Curves averaged in bins of {k} consecutive iterations for drawing; the CSV has every iteration. "
    text += f"Runs: {'; '.join(variants)} (see the run records for every option)."
    return text


def _ds_rank(ds: str) -> tuple:
    order = ("sun", "cub", "awa1", "awa2", "apy")
    return (order.index(ds) if ds in order else len(order), ds)


def plot_variance(
    results: Path,
    dataset: str | None = None,
    stat: str = DEFAULT_STAT,
    out_dir: Path | None = None,
    max_points: int = MAX_POINTS,
) -> list[Path]:
    """Write variance-<dataset>[-<source>][-<stat>].{png,pdf,csv,caption.txt}; returns the paths written."""
    out_dir = Path(out_dir) if out_dir is not None else Path(results) / "plots"
    written = []
    for item in variance_figures(results, dataset, stat, max_points):
        for ext in ("png", "pdf"):
            buf = io.BytesIO()
            item.figure.savefig(buf, format=ext, dpi=300, metadata=_metadata(ext))
            path = out_dir / f"{item.stem}.{ext}"
            _write(path, buf.getvalue())
            written.append(path)
        csv = io.StringIO()
        item.data.to_csv(csv, index=False, float_format="%.8g", lineterminator="\n")
        path = out_dir / f"{item.stem}.csv"
        _write(path, csv.getvalue().encode("utf-8"))
        written.append(path)
        path = out_dir / f"{item.stem}.caption.txt"
        _write(path, (item.caption + "\n").encode("utf-8"))
        written.append(path)
    return written


def _metadata(ext: str) -> dict:
    # No creation date, so that the same traces give the same files.
    return {"Software": "zslbench"} if ext == "png" else {"Creator": "zslbench", "CreationDate": None}


def _write(path: Path, data: bytes) -> None:
    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        raise ZSLBenchError(f"cannot write {path}: {exc.strerror or exc}") from None
