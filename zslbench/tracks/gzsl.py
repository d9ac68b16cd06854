"""The GZSL track: an attribute embedder on fixed xlsa17 (or synthetic) features, scored by
S/U/H (docs/paper-protocol.md#models, #gzsl-training, #evaluation, #logit-variance)."""

from __future__ import annotations

import io
from datetime import datetime, timezone

from zslbench.api import BUILTIN
from zslbench.config import PITFALL_OPTIONS, GZSLConfig
from zslbench.errors import ConfigError
from zslbench.plugins import run_identity, run_provenance
from zslbench.tracks.base import FeatureData, Track, preset_fields, rows_csv, run_under_numerics
from zslbench.tracks.info import TrackInfo

# The sweep's grid: the paper's five models and f-CLSWGAN, the reference generative baseline of
# its GZSL table, on its four GZSL datasets (aPY runs when named).
GZSL_MODELS = ("linear", "mlp3", "mlp3+eq9", "mlp3+eq10", "mlp3+cn", "f-clswgan")
GZSL_DATASETS = ("sun", "cub", "awa1", "awa2")


def builtin_model_options(name: str, cfg) -> dict:
    """``{"model_options": {...}, "model_settings": {...}}`` for a built-in model registered with
    an options dataclass (f-CLSWGAN): its options, and the per-dataset and quick settings they
    resolve to, are part of the run id; nothing for the other models."""
    import dataclasses

    from zslbench.models import MODELS
    from zslbench.plugins import run_options

    entry = MODELS.get(name)
    if entry.source != BUILTIN or not dataclasses.is_dataclass(entry.options):
        return {}
    out = {"model_options": dataclasses.asdict(run_options("model", name, cfg))}
    settings = getattr(entry.build_fn, "SETTINGS", None)  # what its 0-valued options resolve to
    if settings:
        out["model_settings"] = settings
    return out


class GZSLTrack(FeatureData, Track):
    key = "gzsl"
    record_kind = "gzsl"
    record_track = None
    config_cls = GZSLConfig
    profiles = {"quick": {"epochs": 4, "lr": 3e-3, "synthetic_scale": 0.15, "generative_settings": "quick"}}
    name_field = "model"
    classnorm_grid = (None,)
    applicability_table = "gzsl"
    info = TrackInfo(
        description="GZSL: an attribute embedder on fixed xlsa17 (or synthetic) features",
        name_option="--models",
        grid_datasets=GZSL_DATASETS,
        table_kind="gzsl",
        # seconds per run (train + evaluation), measured on a 2-core Intel Xeon, one thread per
        # run, two runs at once: paper, the mean of the 20 runs of `run --all --profile paper
        # --only gzsl --seeds 1 --data synthetic` of the five models (docs/reproduce.md#how-long-it-takes);
        # quick, the quick grid of the main job (`run --all --profile quick`)
        seconds={"quick": 2.0, "paper": 96.0},
        # per dataset: paper, the sweep's mean train_seconds with subnormals flushed (the default
        # since; bit-identical metrics) plus 5 s of evaluation (2.6-8.3 s measured; the sweep with
        # today's defaults gave 214, 51, 51 and 59 s); quick, the main job's mean training time of
        # the five models plus 0.3 s (f-CLSWGAN declares its own)
        dataset_seconds={
            "paper": {"sun": 224.0, "cub": 50.0, "awa1": 50.0, "awa2": 60.0},
            "quick": {"sun": 5.7, "cub": 1.4, "awa1": 1.0, "awa2": 1.1},
        },
    )

    def names(self) -> list[str]:
        from zslbench.models import MODELS

        return MODELS.names()

    def name_seconds(self, name: str, profile: str, dataset: str) -> float | None:
        from zslbench.models import MODELS

        if name not in MODELS:
            return None
        per_dataset = MODELS.get(name).seconds.get(profile, {})
        return per_dataset.get(dataset)

    def default_names(self) -> list[str]:
        """The paper's models, then those of the loaded plugins."""
        from zslbench.models import MODELS

        return list(GZSL_MODELS) + [m for m in MODELS if MODELS.get(m).source != BUILTIN]

    def datasets(self) -> tuple[str, ...]:
        from zslbench.api import FEATURE_DATASETS
        from zslbench.data import DATASETS

        return (*DATASETS, *FEATURE_DATASETS)  # the xlsa17 ones, then those of plugins

    def check(self, name: str, dataset: str) -> None:
        from zslbench.models import MODELS

        MODELS.get(name)  # fail early on an unknown name
        if dataset not in self.datasets():
            raise ConfigError(f"unknown dataset {dataset!r}; valid names: {', '.join(self.datasets())}")

    def pitfall_options(self) -> tuple[str, ...]:
        return PITFALL_OPTIONS

    def traits(self, name, classnorm, dataset, source):
        from zslbench.applicability import gzsl_traits

        return gzsl_traits(name, dataset, source)

    def identity(self, name, classnorm, dataset, source, fingerprint, seed, cfg):
        """What a GZSL run id hashes.  The config holds only the fields that act on the run
        (zslbench.applicability)."""
        from zslbench.applicability import active_config

        return {
            "kind": "gzsl",
            "model": name,
            "dataset": dataset,
            "data_source": source,
            "data_fingerprint": fingerprint,
            "seed": int(seed),
            "config": active_config("gzsl", self.traits(name, None, dataset, source), cfg),
            **run_identity("model", name, cfg),  # a plugin's model: its source and options
            **builtin_model_options(name, cfg),  # a built-in model with options of its own
        }

    def train(self, name, classnorm, data, seed, cfg, device, progress, data_dir=None):
        from zslbench.train.gzsl_kinds import train_any

        # cfg.threads, whatever launched the run: the numbers depend on the run id, not the launcher
        return run_under_numerics(
            cfg, device, lambda: train_any(data, name, cfg, seed, device=device, progress=progress)
        )

    def record(self, run_id, identity, profile, data, cfg, result):
        from zslbench.environment import data_content_sha256
        from zslbench.models import MODELS

        result, env = result
        defaults = GZSLConfig()
        active = identity["config"]
        record = {
            "run_id": run_id,
            **identity,
            "classnorm": MODELS.get(identity["model"]).class_norm,
            **run_provenance("model", identity["model"]),
            "profile": profile,
            **preset_fields("gzsl", active),
            "data_vintage": data.vintage,
            "data_summary": data.summary(),
            "data_content_sha256": data_content_sha256(data),
            "metrics": result.metrics,
            "selected_epoch": result.selected_epoch,
            "metrics_final_epoch": result.final_metrics,
            "metrics_oracle_best_test_H": result.oracle_metrics,
            "oracle_epoch": result.oracle_epoch,
            "non_default_options": {
                k: getattr(cfg, k)
                for k in self.pitfall_options()
                if k in active and getattr(cfg, k) != getattr(defaults, k)
            },
            "train_seconds": round(result.train_seconds, 3),
            "eval_seconds": round(result.eval_seconds, 3),
            "n_parameters": result.n_parameters,
            **({"model_extra": result.extra} if result.extra else {}),
            "env": env,
            "created_at": datetime.now(timezone.utc).isoformat(),
        }
        files = {"epochs.csv": rows_csv(result.epoch_log)}
        if cfg.trace and "trace" in active:
            buf = io.StringIO()
            result.trace.to_csv(buf, index=False, float_format="%.8g")
            files["trace.csv"] = buf.getvalue()
        return record, files
