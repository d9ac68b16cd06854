"""Hand-made run records for the report tests: the real record format (zslbench.store.write_run),
made-up numbers chosen by the test."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from zslbench import store
from zslbench.tracks import make_config
from zslbench.train.trace import TRACE_COLUMNS

ENV = {
    "python": "3.11",
    "torch": "2.13.0+cpu",
    "numpy": "2",
    "platform": "test",
    "device": "cpu",
    "device_name": "x86_64",
    "threads": 1,
}


def gzsl(
    results: Path,
    model: str,
    dataset: str,
    seed: int,
    h: float,
    *,
    source: str = "xlsa17",
    ausuc: float | None = None,
    train_seconds: float = 10.0,
    device: str = "cpu",
    overrides=None,
    pre_var: tuple[float, float] | None = None,
    epochs: list[float] | None = None,
    preset: str = "colab",
) -> str:
    """One GZSL record with H = h (U = S = h); `pre_var` (first, last epoch level) writes a
    trace.csv, `epochs` (H per epoch) an epochs.csv."""
    cfg = make_config("gzsl", "paper", overrides).to_dict()
    identity = {
        "kind": "gzsl",
        "model": model,
        "dataset": dataset,
        "data_source": source,
        "data_fingerprint": f"{source}-{dataset}-test",
        "seed": seed,
        "config": cfg,
    }
    run_id = store.make_run_id({**identity, "h": h})
    metrics = {"U": h, "S": h, "H": h, "AUSUC": h / 2 if ausuc is None else ausuc, "seen_scale": 1.0}
    record = {
        "run_id": run_id,
        **identity,
        "profile": "paper",
        "preset": preset,
        "data_vintage": "2019" if source == "xlsa17" else "synthetic",
        "metrics": metrics,
        "train_seconds": train_seconds,
        "eval_seconds": 0.1,
        "env": {**ENV, "device": device},
        "created_at": "2026-01-01T00:00:00+00:00",
    }
    files = {}
    if pre_var is not None:
        first, last = pre_var
        n = 6
        level = np.repeat(np.geomspace(first, last, 3), 2)
        frame = pd.DataFrame(
            {
                "iteration": np.arange(n),
                "epoch": np.repeat([1, 2, 3], 2),
                "loss": 1.0,
                "pre_mean": 0.0,
                "pre_std": np.sqrt(level),
                "pre_var": level,
                "post_mean": 0.0,
                "post_std": 1.0,
                "post_var": 1.0,
                "hidden_var": 1.0,
            }
        )
        assert list(frame.columns[2:]) == list(TRACE_COLUMNS)
        buf = io.StringIO()
        frame.to_csv(buf, index=False)
        files["trace.csv"] = buf.getvalue()
    if epochs is not None:
        frame = pd.DataFrame(
            {
                "epoch": range(1, len(epochs) + 1),
                "loss": [2.0 / (i + 1) for i in range(len(epochs))],
                "lr": 1e-3,
                "test_H_per_sample_uncal": epochs,
            }
        )
        files["epochs.csv"] = frame.to_csv(index=False)
    store.write_run(results, run_id, record, files)
    return run_id


def czsl(
    results: Path, method: str, classnorm: bool, dataset: str, seed: int, level: float, forgetting: float = 0.1
) -> str:
    cfg = make_config("czsl-features", "paper").to_dict()
    identity = {
        "kind": "czsl",
        "method": method,
        "classnorm": classnorm,
        "dataset": dataset,
        "data_source": "xlsa17",
        "data_fingerprint": f"xlsa17-{dataset}-test",
        "seed": seed,
        "track": "features",
        "config": cfg,
    }
    run_id = store.make_run_id({**identity, "level": level})
    metrics = {"mAUC": level, "mH": 1.5 * level, "mJA": 2 * level, "forgetting": forgetting}
    record = {
        "run_id": run_id,
        **identity,
        "profile": "paper",
        "preset": "code",
        "data_vintage": "2019",
        "metrics": metrics,
        "train_seconds": 5.0,
        "env": ENV,
        "created_at": "2026-01-01T00:00:00+00:00",
    }
    store.write_run(results, run_id, record)
    return run_id
