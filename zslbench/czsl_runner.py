"""One continual-ZSL run (features track) end to end: load data, train, score, write the record.

The features track trains only the attribute head on fixed 2048-d image features; the paper
fine-tuned a ResNet-18 on raw images, so these numbers are NOT comparable with the paper's
CZSL table (docs/paper-protocol.md#czsl-protocol, #pitfall-17).  Every record says so.
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
from zslbench.data.features.types import ZSLData
from zslbench.errors import ConfigError
from zslbench.numerics import data_content_sha256, numeric_context
from zslbench.tracks import FeatureData, RunOutcome, Track, execute_run, planned_run_id, register

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
              cfg: CZSLConfig, table: str = "czsl") -> dict:
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
        "config": active_config(table, czsl_traits(method, classnorm, dataset, source), cfg),
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
    return planned_run_id(FEATURES_TRACK, method, dataset, seed, classnorm, profile, source, data_dir, overrides)


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
    return execute_run(FEATURES_TRACK, method, dataset, seed, classnorm, profile, source, data_dir, device,
                       results, overrides, force, progress, data)


class CZSLTrackBase(Track):
    """What the CZSL tracks share: the methods, the datasets, the record and its files."""

    kind = "czsl"
    note: str = ""
    table: str = "czsl"  # its applicability table (zslbench.applicability.TABLES)

    def names(self) -> list[str]:
        from zslbench.train.czsl import CZSL_METHODS

        return CZSL_METHODS.names()

    def datasets(self) -> tuple[str, ...]:
        return CZSL_DATASETS

    def check(self, name: str, dataset: str) -> None:
        from zslbench.train.czsl import CZSL_METHODS

        CZSL_METHODS.get(name)  # fail early on an unknown name
        check_czsl_dataset(dataset)

    def identity(self, name, classnorm, dataset, source, fingerprint, seed, cfg):
        ident = _identity(name, bool(classnorm), dataset, source, fingerprint, seed, cfg, self.table)
        ident["track"] = self.track
        return ident

    def image_split_record(self, data, cfg, result, split_json: str) -> dict:
        return {
            "file": "image_split.json",
            "seed": cfg.image_split_seed,
            "ratio": getattr(cfg, f"split_{data.name}"),
            "eval_split": result.eval_split,
            "counts": result.image_split.counts(),
            "sha256": hashlib.sha256(split_json.encode()).hexdigest(),
        }

    def record_extras(self, data, cfg, result) -> dict:
        """Track-specific record fields (after the common ones)."""
        return {}

    def record(self, run_id, identity, profile, data, cfg, result):
        from zslbench.runner import preset_fields

        result, env = result
        defaults = type(cfg)()
        active = identity["config"]
        split_json = json.dumps(result.image_split.to_json(), separators=(",", ":"))
        steps_csv = _steps_csv(result.steps)
        acc_csv = _acc_csv(result.acc_matrix)
        record = {
            "run_id": run_id,
            **identity,
            "track_note": self.note,
            "profile": profile,
            **preset_fields("czsl", active),
            "data_vintage": getattr(data, "vintage", data.source),
            "data_summary": data.summary(),
            "data_content_sha256": data_content_sha256(data),
            "metrics": {k: float(v) for k, v in result.metrics.items()},
            "num_tasks": len(result.class_split),
            "class_split": result.class_split,
            "image_split": self.image_split_record(data, cfg, result, split_json),
            "files": {"steps": "steps.csv", "acc_matrix": "acc_matrix.csv", "tasks": "tasks.csv",
                      "image_split": "image_split.json"},
            "method_summary": result.method_summary,
            "non_default_options": {
                k: getattr(cfg, k) for k in self.pitfall_options()
                if k in active and getattr(cfg, k) != getattr(defaults, k)
            },
            "train_seconds": round(result.train_seconds, 3),
            "eval_seconds": round(result.eval_seconds, 3),
            "task_seconds": [row["seconds"] for row in result.task_log],
            "n_parameters": result.n_parameters,
            **self.record_extras(data, cfg, result),
            "env": env,
            "created_at": datetime.now(timezone.utc).isoformat(),
        }
        files = {
            "steps.csv": steps_csv,
            "acc_matrix.csv": acc_csv,
            "tasks.csv": _rows_csv(result.task_log),
            "image_split.json": split_json + "\n",
        }
        return record, files

    def pitfall_options(self) -> tuple[str, ...]:
        return CZSL_PITFALL_OPTIONS


class CZSLFeaturesTrack(FeatureData, CZSLTrackBase):
    key = "czsl-features"
    track = TRACK
    note = TRACK_NOTE
    config_cls = CZSLConfig
    description = "CZSL features track: the attribute head on fixed features (not comparable with the paper)"

    def make_config(self, profile, overrides):
        return make_czsl_config(profile, overrides)

    def train(self, name, classnorm, data, seed, cfg, device, progress, data_dir=None):
        from zslbench.train.czsl import train_czsl

        # cfg.threads (default 1), whatever launched the run: the head's matmuls are small (batch
        # 32), a second thread mostly adds synchronisation, and a thread count fixed by the run id
        # keeps its numbers independent of the launcher (docs/numerics.md).
        with numeric_context(cfg.threads, device, cfg.cuda_tf32):
            result = train_czsl(data, name, cfg, seed, classnorm=bool(classnorm), device=device,
                                progress=progress)
            env = store.environment(result.device)
        return result, env


FEATURES_TRACK = register(CZSLFeaturesTrack())


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
