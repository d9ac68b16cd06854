"""The paper's reported numbers (baselines/*.csv), read from the copy shipped in the package.

A value the paper left as '-' is an empty cell in the CSV and NaN here, never zero.
"""

from __future__ import annotations

import io
from importlib import resources

import pandas as pd

from zslbench.errors import DataError

GZSL_FILE = "paper_gzsl.csv"
CZSL_FILE = "paper_czsl.csv"

# The paper's dataset labels -> our dataset names.
DATASET_KEYS = {"SUN": "sun", "CUB": "cub", "AwA1": "awa1", "AwA2": "awa2", "ALL": "all"}


def _read(name: str) -> pd.DataFrame:
    try:
        text = resources.files("zslbench").joinpath("baselines").joinpath(name).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError) as exc:
        raise DataError(
            f"zslbench/baselines/{name}: the paper's numbers are missing from this install ({exc})"
        ) from None
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    frame["value"] = pd.to_numeric(frame["value"].replace("", None), errors="raise")
    frame["dataset_key"] = frame["dataset"].map(DATASET_KEYS)
    return frame


# The paper's other methods that zslbench also runs: method_key -> our model (the CSV keeps the
# paper's table as printed, its zslbench_model column for the paper's own models).
RUN_METHODS = {"f_clswgan": "f-clswgan"}


def paper_gzsl() -> pd.DataFrame:
    """One row per (method, dataset, metric); `zslbench_model` names our model where there is one."""
    frame = _read(GZSL_FILE)
    for key, model in RUN_METHODS.items():
        frame.loc[(frame["method_key"] == key) & (frame["zslbench_model"] == ""), "zslbench_model"] = model
    return frame


def paper_czsl() -> pd.DataFrame:
    """One row per (method +- ClassNorm, dataset, metric); `classnorm` is a bool here."""
    frame = _read(CZSL_FILE)
    frame["classnorm"] = frame["classnorm"].str.lower().map({"true": True, "false": False})
    return frame


def gzsl_lookup() -> dict[tuple[str, str, str], float]:
    """(our model, dataset, metric) -> the paper's value, for U/S/H, per-dataset and average time."""
    out: dict[tuple[str, str, str], float] = {}
    frame = paper_gzsl()
    for row in frame[frame["zslbench_model"] != ""].itertuples():
        metric = {"avg_train_time_s": "train_seconds", "train_time_s": "train_seconds"}.get(row.metric, row.metric)
        out[(row.zslbench_model, row.dataset_key, metric)] = row.value
    return out


def czsl_lookup() -> dict[tuple[str, bool, str, str], tuple[float, str]]:
    """(our method, classnorm, dataset, metric) -> (the paper's value, its printed relative change)."""
    frame = paper_czsl()
    return {
        (
            r.zslbench_method,
            bool(r.classnorm),
            r.dataset_key,
            r.metric.lower() if r.metric == "Forgetting" else r.metric,
        ): (r.value, r.reported_rel_change)
        for r in frame.itertuples()
    }
