"""One continual-ZSL run (features track) end to end: load data, train, score, write the record.

The features track trains only the attribute head on fixed 2048-d image features; the paper
fine-tuned a ResNet-18 on raw images, so these numbers are NOT comparable with the paper's
CZSL table (PAPER_SPEC section 7.1 and section 9 item 17).  Every record says so.
"""

from __future__ import annotations

import hashlib
import io
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from zslbench import store
from zslbench.config import CZSL_DATASETS, CZSL_PITFALL_OPTIONS, CZSLConfig, make_czsl_config
from zslbench.data import resolve_source
from zslbench.data.types import ZSLData
from zslbench.errors import ConfigError
from zslbench.runner import RunOutcome, load_for_run, preset_fields, read_done
from zslbench.numerics import data_content_sha256, numeric_context

TRACK = "features"
TRACK_NOTE = (
    "features track: fixed 2048-d image features, only the attribute head trains; NOT comparable "
    "with the paper's CZSL table (image track: ResNet-18 fine-tuned on raw images)"
)
CZSL_THREADS = CZSLConfig.threads  # the default thread count of a CZSL run (benchmarks use it)
STEP_COLUMNS = ("SA", "UA", "H", "AUSUC", "JA", "F")


def czsl_identity(method: str, classnorm: bool, data: ZSLData, seed: int, cfg: CZSLConfig) -> dict:
    return _identity(method, classnorm, data.name, data.source, data.fingerprint, seed, cfg)


def _identity(method: str, classnorm: bool, dataset: str, source: str, fingerprint: str, seed: int,
              cfg: CZSLConfig) -> dict:
    """What a CZSL run id hashes; the runner and the sweep planner both build it here.  The
    config holds only the fields that act on the run (zslbench.applicability)."""
    from zslbench.applicability import active_config, czsl_traits

    return {
        "kind": "czsl",
        "track": TRACK,
        "method": method,
        "classnorm": bool(classnorm),
        "dataset": dataset,
        "data_source": source,
        "data_fingerprint": fingerprint,
        "seed": int(seed),
        "config": active_config("czsl", czsl_traits(method, classnorm, dataset, source), cfg),
    }


def czsl_run_id(
    method: str,
    dataset: str,
    seed: int = 1,
    classnorm: bool = True,
    profile: str = "paper",
    source: str = "auto",
    data_dir: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> str:
    """The run id that run_czsl(...) with these arguments will use, without loading the data."""
    from zslbench.data import fingerprint
    from zslbench.train.czsl import CZSL_METHODS

    CZSL_METHODS.get(method)
    check_czsl_dataset(dataset)
    cfg = make_czsl_config(profile, overrides)
    src = resolve_source(dataset, source, data_dir)
    fp = fingerprint(dataset, src, data_dir, scale=cfg.synthetic_scale, seed=cfg.synthetic_seed)
    return store.make_run_id(_identity(method, classnorm, dataset, src, fp, seed, cfg))


def check_czsl_dataset(dataset: str) -> None:
    if dataset not in CZSL_DATASETS:
        raise ConfigError(
            f"--dataset {dataset!r}: continual ZSL runs on {' and '.join(CZSL_DATASETS)} only"
        )


def run_czsl(
    method: str,
    dataset: str,
    seed: int = 1,
    classnorm: bool = True,
    profile: str = "paper",
    source: str = "auto",
    data_dir: Path | None = None,
    device: str = "cpu",
    results: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    force: bool = False,
    progress: bool | None = None,
    data: ZSLData | None = None,
) -> RunOutcome:
    """Train CZSL `method` (± ClassNorm) on `dataset` with `seed` and write its record,
    unless it is done already."""
    from zslbench.train.czsl import CZSL_METHODS, train_czsl

    CZSL_METHODS.get(method)  # fail early on an unknown name
    check_czsl_dataset(dataset if data is None else data.name)
    cfg = make_czsl_config(profile, overrides)
    results = Path(results) if results is not None else store.default_results_dir()
    if data is None:
        data = load_for_run(dataset, source, data_dir, cfg)
    identity = czsl_identity(method, classnorm, data, seed, cfg)
    run_id = store.make_run_id(identity)
    folder = store.run_dir(results, run_id)
    if store.is_done(results, run_id) and not force:
        done = read_done(folder)
        if done is not None:
            return RunOutcome(run_id, folder, done, skipped=True)

    # cfg.threads (default 1), whatever launched the run: the head's matmuls are small (batch
    # 32), a second thread mostly adds synchronisation, and a thread count fixed by the run id
    # keeps its numbers independent of the launcher (README, Numerical reproducibility).
    with numeric_context(cfg.threads, device):
        result = train_czsl(data, method, cfg, seed, classnorm=classnorm, device=device, progress=progress)
        env = store.environment(result.device)
    defaults = CZSLConfig()
    active = identity["config"]
    split_json = json.dumps(result.image_split.to_json(), separators=(",", ":"))
    steps_csv = _steps_csv(result.steps)
    acc_csv = _acc_csv(result.acc_matrix)
    record = {
        "run_id": run_id,
        **identity,
        "track_note": TRACK_NOTE,
        "profile": profile,
        **preset_fields("czsl", active),
        "data_vintage": data.vintage,
        "data_summary": data.summary(),
        "data_content_sha256": data_content_sha256(data),
        "metrics": {k: float(v) for k, v in result.metrics.items()},
        "num_tasks": len(result.class_split),
        "class_split": result.class_split,
        "image_split": {
            "file": "image_split.json",
            "seed": cfg.image_split_seed,
            "ratio": getattr(cfg, f"split_{data.name}"),
            "eval_split": result.eval_split,
            "counts": result.image_split.counts(),
            "sha256": hashlib.sha256(split_json.encode()).hexdigest(),
        },
        "files": {"steps": "steps.csv", "acc_matrix": "acc_matrix.csv", "tasks": "tasks.csv",
                  "image_split": "image_split.json"},
        "method_summary": result.method_summary,
        "non_default_options": {
            k: getattr(cfg, k) for k in CZSL_PITFALL_OPTIONS
            if k in active and getattr(cfg, k) != getattr(defaults, k)
        },
        "train_seconds": round(result.train_seconds, 3),
        "eval_seconds": round(result.eval_seconds, 3),
        "task_seconds": [row["seconds"] for row in result.task_log],
        "n_parameters": result.n_parameters,
        "env": env,
        "created_at": datetime.now(timezone.utc).isoformat(),
    }
    files = {
        "steps.csv": steps_csv,
        "acc_matrix.csv": acc_csv,
        "tasks.csv": _rows_csv(result.task_log),
        "image_split.json": split_json + "\n",
    }
    path = store.write_run(results, run_id, record, files)
    return RunOutcome(run_id, path, record, skipped=False)


def _steps_csv(steps: dict) -> str:
    """One row per snapshot t = 0..T (fractions; empty where undefined)."""
    import pandas as pd

    frame = pd.DataFrame({k: steps[k] for k in STEP_COLUMNS})
    frame.insert(0, "t", range(len(frame)))
    buf = io.StringIO()
    frame.to_csv(buf, index=False, float_format="%.8g")
    return buf.getvalue()


def _acc_csv(acc) -> str:
    """A[k][j]: rows = after task k (1..T), columns = test images of task j (1..T)."""
    import pandas as pd

    T = acc.shape[0]
    frame = pd.DataFrame(acc, columns=[f"task{j}" for j in range(1, T + 1)])
    frame.insert(0, "after_task", range(1, T + 1))
    buf = io.StringIO()
    frame.to_csv(buf, index=False, float_format="%.8g")
    return buf.getvalue()


def _rows_csv(rows: list[dict]) -> str:
    import pandas as pd

    buf = io.StringIO()
    pd.DataFrame(rows).to_csv(buf, index=False)
    return buf.getvalue()


def read_steps(run_folder: Path):
    """The per-step arrays of a CZSL run folder as a DataFrame (t, SA, UA, H, AUSUC, JA, F)."""
    import pandas as pd

    return pd.read_csv(Path(run_folder) / "steps.csv")


def read_acc_matrix(run_folder: Path):
    """The [T, T] task-accuracy matrix of a CZSL run folder as a numpy array."""
    import pandas as pd

    frame = pd.read_csv(Path(run_folder) / "acc_matrix.csv")
    return frame.drop(columns=["after_task"]).to_numpy()
