"""Results from Python: every run of a results folder as one DataFrame (:func:`load_results`),
the GZSL and CZSL tables as DataFrames (:func:`tables`, the numbers of `zslbench table`), and
the plots as matplotlib Figures (:func:`plot_variance`, :func:`plot_curves`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zslbench.errors import ZSLBenchError

IDENTITY = (
    "run_id",
    "kind",
    "track",
    "model",
    "method",
    "classnorm",
    "dataset",
    "data_source",
    "seed",
    "profile",
    "preset",
    "data_fingerprint",
)
TIMES = ("train_seconds", "eval_seconds", "created_at")


def _folder(path: str | Path) -> Path:
    folder = Path(path)
    if not folder.is_dir():
        raise ZSLBenchError(f"--results: {folder} is not a folder")
    return folder


def _cell(value: Any) -> Any:
    return value if value is None or isinstance(value, (bool, int, float, str)) else json.dumps(value, sort_keys=True)


def load_results(path: str | Path):
    """One row per done run under ``path`` (a results folder): the identity fields (run_id,
    kind, track, model or method, classnorm, dataset, data_source, seed, profile, preset), the
    options that differ from the run's profile (``option.<field>``; ``options``: all of them as
    text) and the result-relevant ones that differ from the paper's defaults
    (``non_default.<field>``), the metrics (``S``, ``U``, ``H`` ... or ``mAUC``, ``mH`` ...),
    ``selected_epoch``, the times, and the environment (``env.<field>``).  Unreadable records
    are skipped with a warning."""
    import warnings

    import pandas as pd

    from zslbench import store
    from zslbench.report.records import fmt_items, variant_of

    rows = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        records = list(store.iter_records(_folder(path)))
    for w in caught:
        warnings.warn(str(w.message), stacklevel=2)
    for rec in records:
        row: dict[str, Any] = {k: rec.get(k) for k in IDENTITY}
        try:
            diff = variant_of(rec, str(rec.get("kind"))).profile_diff
        except Exception:  # a record of a track the reports do not know: no options shown
            diff = ()
        row["options"] = fmt_items(diff)
        row.update({f"option.{k}": _cell(v) for k, v in diff})
        row.update({f"non_default.{k}": _cell(v) for k, v in (rec.get("non_default_options") or {}).items()})
        row.update({k: v for k, v in (rec.get("metrics") or {}).items() if not isinstance(v, (dict, list))})
        row["selected_epoch"] = rec.get("selected_epoch")
        row.update({k: rec.get(k) for k in TIMES})
        row.update({f"env.{k}": _cell(v) for k, v in (rec.get("env") or {}).items()})
        row["record_path"] = str(Path(rec["_dir"]) / store.RECORD_FILE)
        rows.append(row)
    if not rows:
        return pd.DataFrame(columns=[*IDENTITY, "options"])
    frame = pd.DataFrame(rows).dropna(axis=1, how="all")
    groups = (
        [c for c in IDENTITY if c in frame],
        ["options"],
        [c for c in frame if c.startswith("option.")],
        [c for c in frame if c.startswith("non_default.")],
    )
    placed = [c for g in groups for c in g]
    tail = [
        *(c for c in ("selected_epoch", *TIMES) if c in frame),
        *(c for c in frame if c.startswith("env.")),
        "record_path",
    ]
    metrics = [c for c in frame if c not in placed and c not in tail]
    frame = frame[[*placed, *metrics, *tail]]
    order = [c for c in ("kind", "track", "model", "method", "classnorm", "dataset", "seed") if c in frame]
    return frame.sort_values(order, na_position="first").reset_index(drop=True)


def tables(path: str | Path) -> dict:
    """``{"gzsl": DataFrame, "czsl": DataFrame}``: the rows of ``zslbench table --kind gzsl`` /
    ``czsl`` (its CSV: one row per cell, mean, std, n, seeds, the paper's number, delta) for the
    records under ``path``; an empty frame where there are none."""
    import warnings

    from zslbench.report.paper_tables import build_table

    folder = _folder(path)
    out = {}
    for kind in ("gzsl", "czsl"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[kind] = build_table(kind, folder).frame()
    return out


def plot_variance(path: str | Path, dataset: str | None = None, stat: str = "pre_var") -> list:
    """The logit-variance plots (the figure of `zslbench plot`) as matplotlib Figures, one per
    dataset and data source traced under ``path``."""
    from zslbench.report.plots import variance_figures

    return [item.figure for item in variance_figures(_folder(path), dataset, stat)]


def plot_curves(path: str | Path, dataset: str | None = None, models: list[str] | None = None):
    """The training curves (test H and loss per epoch; a thin line per seed, a bold mean per
    model) of the GZSL runs under ``path`` on ``dataset`` (default: the first one found), as one
    matplotlib Figure; None when there are no epochs to draw."""
    from zslbench import store
    from zslbench.report.curves import curve_figure, load_epochs

    runs: dict[str, list] = {}
    shown = None
    for rec in store.iter_records(_folder(path), "gzsl"):
        if models and rec.get("model") not in models:
            continue
        ds = rec.get("dataset")
        if (dataset or shown) not in (None, ds):
            continue
        frame = load_epochs(rec)
        if frame is not None:
            shown = ds
            runs.setdefault(str(rec["model"]), []).append(frame)
    if not runs:
        return None
    return curve_figure(runs, f"GZSL training curves on {shown}")
