"""What the two continual-ZSL tracks share (docs/paper-protocol.md#czsl): the methods x ClassNorm on/off
grid on CUB and SUN, the run's identity, its record and its side files (steps.csv,
acc_matrix.csv, tasks.csv, image_split.json)."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import datetime, timezone
from pathlib import Path

from zslbench.api import BUILTIN
from zslbench.config import CZSL_PITFALL_OPTIONS
from zslbench.errors import ConfigError
from zslbench.plugins import run_identity, run_provenance
from zslbench.tracks.base import Track, preset_fields, rows_csv, run_under_numerics

CZSL_METHODS = ("sequential", "multitask", "ewc-online", "mas-online", "agem")
CZSL_DATASETS = ("cub", "sun")
STEP_COLUMNS = ("SA", "UA", "H", "AUSUC", "JA", "F")


def check_czsl_dataset(dataset: str) -> None:
    if dataset not in CZSL_DATASETS:
        raise ConfigError(f"--dataset {dataset!r}: continual ZSL runs on {' and '.join(CZSL_DATASETS)} only")


class CZSLTrackBase(Track):
    """A CZSL track; subclasses give the data side, the config, the training and ``info``."""

    record_kind = "czsl"
    track_note: str = ""  # the record's "track_note"
    name_field = "method"
    classnorm_grid = (False, True)

    def names(self) -> list[str]:
        from zslbench.train.czsl import CZSL_METHODS as registry

        return registry.names()

    def default_names(self) -> list[str]:
        """The paper's methods, then those of the loaded plugins."""
        from zslbench.train.czsl import CZSL_METHODS as registry

        return list(CZSL_METHODS) + [m for m in registry if registry.get(m).source != BUILTIN]

    def datasets(self) -> tuple[str, ...]:
        return CZSL_DATASETS

    def check(self, name: str, dataset: str) -> None:
        from zslbench.train.czsl import CZSL_METHODS as registry

        registry.get(name)  # fail early on an unknown name
        check_czsl_dataset(dataset)

    def traits(self, name, classnorm, dataset, source):
        from zslbench.applicability import czsl_traits

        return czsl_traits(name, bool(classnorm), dataset, source)

    def identity(self, name, classnorm, dataset, source, fingerprint, seed, cfg):
        """What a CZSL run id hashes.  The config holds only the fields that act on the run
        (zslbench.applicability)."""
        from zslbench.applicability import active_config

        return {
            "kind": "czsl",
            "track": self.record_track,
            "method": name,
            "classnorm": bool(classnorm),
            "dataset": dataset,
            "data_source": source,
            "data_fingerprint": fingerprint,
            "seed": int(seed),
            "config": active_config(self.applicability_table, self.traits(name, classnorm, dataset, source), cfg),
            **run_identity("method", name, cfg),  # a plugin's method: its source and options
        }

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

    def pitfall_options(self) -> tuple[str, ...]:
        return CZSL_PITFALL_OPTIONS

    def run_in_context(self, cfg, device, fn):
        """fn() under the run's thread count; (its result, the record's env block)."""
        # cfg.threads, whatever launched the run: a thread count fixed by the run id keeps its
        # numbers independent of the launcher (docs/numerics.md)
        return run_under_numerics(cfg, device, fn)

    def record(self, run_id, identity, profile, data, cfg, result):
        from zslbench.environment import data_content_sha256

        result, env = result
        defaults = type(cfg)()
        active = identity["config"]
        split_json = json.dumps(result.image_split.to_json(), separators=(",", ":"))
        record = {
            "run_id": run_id,
            **identity,
            "track_note": self.track_note,
            **run_provenance("method", identity["method"]),
            "profile": profile,
            **preset_fields("czsl", active),
            "data_vintage": getattr(data, "vintage", data.source),
            "data_summary": data.summary(),
            "data_content_sha256": data_content_sha256(data),
            "metrics": {k: float(v) for k, v in result.metrics.items()},
            "num_tasks": len(result.class_split),
            "class_split": result.class_split,
            "image_split": self.image_split_record(data, cfg, result, split_json),
            "files": {
                "steps": "steps.csv",
                "acc_matrix": "acc_matrix.csv",
                "tasks": "tasks.csv",
                "image_split": "image_split.json",
            },
            "method_summary": result.method_summary,
            "non_default_options": {
                k: getattr(cfg, k)
                for k in self.pitfall_options()
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
            "steps.csv": steps_csv(result.steps),
            "acc_matrix.csv": acc_csv(result.acc_matrix),
            "tasks.csv": rows_csv(result.task_log),
            "image_split.json": split_json + "\n",
        }
        return record, files


def steps_csv(steps: dict) -> str:
    """One row per snapshot t = 0..T (fractions; empty where undefined)."""
    import pandas as pd

    frame = pd.DataFrame({k: steps[k] for k in STEP_COLUMNS})
    frame.insert(0, "t", range(len(frame)))
    buf = io.StringIO()
    frame.to_csv(buf, index=False, float_format="%.8g")
    return buf.getvalue()


def acc_csv(acc) -> str:
    """A[k][j]: rows = after task k (1..T), columns = test images of task j (1..T)."""
    import pandas as pd

    T = acc.shape[0]
    frame = pd.DataFrame(acc, columns=[f"task{j}" for j in range(1, T + 1)])
    frame.insert(0, "after_task", range(1, T + 1))
    buf = io.StringIO()
    frame.to_csv(buf, index=False, float_format="%.8g")
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
