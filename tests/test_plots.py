"""`zslbench plot variance`: figures from the fixture traces."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from support import zsl
from zslbench.report.plots import plot_variance, variance_figures

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "results"


def figures(dataset, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fixture's corrupted record
        return variance_figures(FIXTURE, dataset, **kw)


def fixture_traces(dataset: str, source: str) -> dict:
    """(model, select_epoch) -> list of per-seed trace frames, read directly from the fixture."""
    out: dict = {}
    for folder in sorted((FIXTURE / "runs").iterdir()):
        if not (folder / "done").exists() or not (folder / "trace.csv").exists():
            continue
        try:
            rec = json.loads((folder / "record.json").read_text())
        except json.JSONDecodeError:
            continue
        if rec["kind"] == "gzsl" and rec["dataset"] == dataset and rec["data_source"] == source:
            out.setdefault((rec["model"], rec["config"]["select_epoch"]), []).append(pd.read_csv(folder / "trace.csv"))
    return out


def test_one_line_per_model_and_variant_log_y_and_title():
    (fig,) = figures("sun")
    ax = fig.figure.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == [
        "linear (n=3)",
        "mlp3 (n=3)",
        "mlp3+eq9 (n=2)",
        "mlp3+cn (n=3)",
        "mlp3+cn, preset colab+overrides, select_epoch=best_test_H (n=2)",  # off the preset: labelled
    ]
    assert len(ax.collections) == len(labels)  # one band per line
    assert ax.get_yscale() == "log"
    assert ax.get_title(loc="left") == "SUN, SYNTHETIC data: logit variance (pre-norm.)"
    assert ax.get_xlabel() == "training iteration"
    assert "logit variance across the minibatch" in ax.get_ylabel()
    assert "min–max over seeds" in ax.get_legend().get_title().get_text()
    colours = {line.get_color() for line in ax.get_lines()[:4]}
    assert len(colours) == 4  # models are told apart by colour (and line style)


def test_every_legend_entry_lies_inside_the_figure():
    """A long variant label is broken after its commas rather than cut at the figure's edge."""
    (fig,) = figures("sun")
    figure = fig.figure
    renderer = figure.canvas.get_renderer()
    figure.draw(renderer)
    box = figure.bbox
    legend = figure.axes[0].get_legend()
    texts = legend.get_texts()
    assert [t.get_text().replace(",\n", ", ") for t in texts] == [
        line.get_label() for line in figure.axes[0].get_lines()
    ]
    assert any("\n" in t.get_text() for t in texts)  # the long one was broken
    for text in [*texts, legend.get_title()]:
        extent = text.get_window_extent(renderer)
        assert box.x0 <= extent.x0 and extent.x1 <= box.x1, text.get_text()
        assert box.y0 <= extent.y0 and extent.y1 <= box.y1, text.get_text()


def test_plotted_mean_and_band_are_computed_from_the_traces():
    (fig,) = figures("sun")
    traces = fixture_traces("sun", "synthetic")
    for (model, select), frames in traces.items():
        stacked = np.vstack([f["pre_var"].to_numpy() for f in frames])
        part = fig.data[
            (fig.data["model"] == model)
            & (fig.data["variant"].str.contains("best_test_H") == (select == "best_test_H"))
        ]
        part = part.sort_values("iteration")
        assert part["n_seeds"].tolist() == [len(frames)] * stacked.shape[1]
        np.testing.assert_allclose(part["mean"], stacked.mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(part["min"], stacked.min(axis=0), rtol=1e-12)
        np.testing.assert_allclose(part["max"], stacked.max(axis=0), rtol=1e-12)
        ax = fig.figure.axes[0]
        label = model if select == "final" else f"{model}, preset colab+overrides, select_epoch=best_test_H"
        (line,) = [ln for ln in ax.get_lines() if ln.get_label().startswith(label + " (")]
        np.testing.assert_allclose(line.get_ydata(), stacked.mean(axis=0), rtol=1e-12)


def test_long_traces_are_binned_for_drawing_but_the_csv_keeps_every_iteration():
    (fig,) = figures("sun", max_points=4)
    ax = fig.figure.axes[0]
    assert all(len(line.get_xdata()) <= 4 for line in ax.get_lines())
    assert "bins of 3" in ax.get_xlabel()
    assert fig.data.groupby(["variant", "model"]).size().tolist() == [12] * 5


def test_each_data_source_gets_its_own_figure():
    figs = figures("cub")
    assert [(f.source, f.stem) for f in figs] == [
        ("xlsa17", "variance-cub-xlsa17"),
        ("synthetic", "variance-cub-synthetic"),
    ]
    for f in figs:
        assert set(f.data["data_source"]) == {f.source}
        title = f.figure.axes[0].get_title(loc="left")
        assert title.startswith("CUB, ") and ("xlsa17" in title) == (f.source == "xlsa17")


def test_png_pdf_and_csv_are_written_and_the_png_is_not_blank(tmp_path):
    import matplotlib.image as mpimg

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        paths = plot_variance(FIXTURE, "sun", out_dir=tmp_path)
    assert sorted(p.name for p in paths) == [
        "variance-sun.caption.txt",
        "variance-sun.csv",
        "variance-sun.pdf",
        "variance-sun.png",
    ]
    caption = (tmp_path / "variance-sun.caption.txt").read_text()
    assert "before normalisation" in caption and "min-max over seeds" in caption and "SUN (SYNTHETIC" in caption
    png = tmp_path / "variance-sun.png"
    assert png.stat().st_size > 30_000
    pixels = mpimg.imread(png)
    assert pixels.shape[0] > 600 and pixels.shape[1] > 900  # 3.4 in wide at 300 dpi
    grey = pixels[..., :3].mean(axis=2)
    assert grey.std() > 0.05 and (grey < 0.5).mean() > 0.01  # ink on the page, not a blank canvas
    csv = pd.read_csv(tmp_path / "variance-sun.csv")
    assert list(csv.columns[:6]) == ["data_source", "dataset", "variant", "model", "stat", "iteration"]
    assert len(csv) == 5 * 12 and set(csv["stat"]) == {"pre_var"}


def test_other_statistics():
    (fig,) = figures("sun", stat="post_var")
    assert fig.stem == "variance-sun-post_var"
    assert "after normalisation" in fig.figure.axes[0].get_ylabel()
    traces = fixture_traces("sun", "synthetic")
    expect = np.vstack([f["post_var"].to_numpy() for f in traces[("linear", "final")]]).mean(axis=0)
    got = fig.data[fig.data["model"] == "linear"].sort_values("iteration")["mean"].to_numpy()
    np.testing.assert_allclose(got, expect, rtol=1e-12)
    assert not np.isnan(got).any()


@pytest.mark.parametrize(
    "args, needle",
    [
        (["plot", "variance", "--stat", "logits"], "--stat"),
        (["plot", "variance", "--dataset", "imagenet"], "--dataset"),
        (["plot", "variance", "--dataset", "awa2"], "awa2"),
    ],
)
def test_cli_plot_bad_usage_is_one_line_exit_2(args, needle):
    proc = zsl(*args, "--results", str(FIXTURE))
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and "warning" not in ln]
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in proc.stderr
