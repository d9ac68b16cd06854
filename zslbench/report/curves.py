"""Training curves of the report: per GZSL variant and dataset, H and loss per epoch.

From each run's epochs.csv (written by zslbench.runner: epoch, loss, lr and the test H per
epoch, per-sample and uncalibrated, the quantity the authors' code selects its epoch on).
Each seed is a thin line, the mean over seeds a bold line, one colour and dash per model.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from zslbench.records import RunRecord
from zslbench.report.plots import MODEL_STYLE, OKABE_ITO
from zslbench.store import atomic_write_bytes

H_COLUMN = "test_H_per_sample_uncal"


@dataclass
class CurveFigure:
    source: str
    dataset: str
    variant: str
    path: Path
    models: dict  # model -> number of seeds drawn


def load_epochs(rec: RunRecord) -> pd.DataFrame | None:
    path = Path(rec.get("_dir", "")) / "epochs.csv"
    if not path.is_file():
        return None
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError):
        return None
    if frame.empty or not {"epoch", "loss", H_COLUMN} <= set(frame.columns):
        return None
    return frame


def curve_figure(runs: dict[str, list[pd.DataFrame]], title: str):
    """runs: model -> one epochs frame per seed.  Returns a matplotlib Figure."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    rc = {"font.size": 8, "axes.titlesize": 8.5, "legend.fontsize": 7, "axes.linewidth": 0.6}
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(7.2, 2.8), dpi=110, layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(1, 2)
        extra = iter(OKABE_ITO[5:] + OKABE_ITO)
        for model, frames in runs.items():
            colour, style = MODEL_STYLE.get(model) or (next(extra), "solid")
            for ax, column in zip(axes, (H_COLUMN, "loss")):
                for f in frames:
                    ax.plot(f["epoch"], f[column], color=colour, linewidth=0.6, alpha=0.45)
                mean = pd.concat(frames).groupby("epoch")[column].mean()
                ax.plot(
                    mean.index,
                    mean.values,
                    color=colour,
                    linestyle=style,
                    linewidth=2.0,
                    label=f"{model} (n={len(frames)})",
                )
        axes[0].set_ylabel("test H per epoch (%)\n(per-sample, uncalibrated)")
        axes[1].set_ylabel("training loss (epoch mean)")
        for ax in axes:
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(True, linewidth=0.3, alpha=0.5)
        axes[1].legend(loc="upper right", frameon=False, title="bold: mean; thin: seeds")
        fig.suptitle(title, x=0.01, ha="left", fontsize=8.5)
    return fig


def write_curves(
    groups: dict[tuple[str, str], list[tuple[str, list[RunRecord]]]], out_dir: Path, display: Callable[[str], str]
) -> list[CurveFigure]:
    """groups: {(source, dataset): [(variant label, records)]}; writes one PNG per variant and
    dataset with epochs.csv files under out_dir; returns what was drawn."""
    out = []
    for (source, dataset), variants in groups.items():
        for i, (label, recs) in enumerate(variants):
            runs: dict[str, list[pd.DataFrame]] = {}
            for rec in sorted(recs, key=lambda r: (str(r["model"]), r["seed"])):
                frame = load_epochs(rec)
                if frame is not None:
                    runs.setdefault(str(rec["model"]), []).append(frame)
            if not runs:
                continue
            data = "SYNTHETIC data" if source == "synthetic" else f"{source} data"
            fig = curve_figure(_model_order(runs), f"{display(dataset)}, {data}: {label}")
            path = Path(out_dir) / f"curves-{source}-{dataset}-{i + 1}.png"
            buf = io.BytesIO()
            fig.savefig(buf, format="png", metadata={"Software": "zslbench"})
            atomic_write_bytes(path, buf.getvalue())
            out.append(CurveFigure(source, dataset, label, path, {m: len(f) for m, f in runs.items()}))
    return out


def _model_order(runs: dict) -> dict:
    from zslbench.models import MODELS

    names = list(MODELS)
    return dict(sorted(runs.items(), key=lambda kv: (names.index(kv[0]) if kv[0] in names else 99, kv[0])))
