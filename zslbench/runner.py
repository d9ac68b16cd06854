"""One GZSL run end to end: load data, train, score, write the record.

This is the library entry point that the CLI and the sweep executors call.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from zslbench import store
from zslbench.config import PITFALL_OPTIONS, GZSLConfig, make_gzsl_config
from zslbench.data import load_dataset, resolve_source
from zslbench.data.features.types import ZSLData
from zslbench.models import MODELS
from zslbench.numerics import data_content_sha256, numeric_context
from zslbench.tracks import FeatureData, RunOutcome, Track, execute_run, planned_run_id, read_done, register, track_of_record

__all__ = ["RunOutcome", "gzsl_identity", "gzsl_run_id", "load_for_run", "read_done", "rerun_record", "run_gzsl"]


def gzsl_identity(model: str, data: ZSLData, seed: int, cfg: GZSLConfig) -> dict:
    return _identity(model, data.name, data.source, data.fingerprint, seed, cfg)


def _identity(model: str, dataset: str, source: str, fingerprint: str, seed: int, cfg: GZSLConfig) -> dict:
    """What a GZSL run id hashes; the runner and the sweep planner both build it here.  The
    config holds only the fields that act on the run (zslbench.applicability)."""
    from zslbench.applicability import active_config, gzsl_traits

    return {
        "kind": "gzsl",
        "model": model,
        "dataset": dataset,
        "data_source": source,
        "data_fingerprint": fingerprint,
        "seed": int(seed),
        "config": active_config("gzsl", gzsl_traits(model, dataset, source), cfg),
    }


def preset_fields(kind: str, active: dict) -> dict:
    """The record's ``preset`` label (and ``preset_overrides`` when it has some), from the
    fields that act on the run (zslbench.presets)."""
    from zslbench.presets import preset_label

    label, differing = preset_label(kind, active)
    return {"preset": label, **({"preset_overrides": differing} if differing else {})}


def gzsl_run_id(
    model: str,
    dataset: str,
    seed: int = 1,
    profile: str = "paper",
    source: str = "auto",
    data_dir: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> str:
    """The run id that run_gzsl(...) with these arguments will use, computed without training
    or loading the data (only the data fingerprint is computed)."""
    return planned_run_id(GZSL_TRACK, model, dataset, seed, None, profile, source, data_dir, overrides)


def load_for_run(dataset: str, source: str, data_dir: Path | None, cfg) -> ZSLData:
    """The data a run reads; `cfg` (GZSLConfig or CZSLConfig) gives the synthetic scale and seed."""
    src = resolve_source(dataset, source, data_dir)
    return load_dataset(dataset, src, data_dir, scale=cfg.synthetic_scale, synthetic_seed=cfg.synthetic_seed)


def run_gzsl(
    model: str,
    dataset: str,
    seed: int = 1,
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
    """Train `model` on `dataset` with `seed` and write its record, unless it is done already."""
    return execute_run(GZSL_TRACK, model, dataset, seed, None, profile, source, data_dir, device, results,
                       overrides, force, progress, data)


class GZSLTrack(FeatureData, Track):
    key = "gzsl"
    kind = "gzsl"
    track = None
    config_cls = GZSLConfig
    description = "GZSL: an attribute embedder on fixed xlsa17 (or synthetic) features"

    def names(self) -> list[str]:
        return MODELS.names()

    def datasets(self) -> tuple[str, ...]:
        from zslbench.data import DATASETS

        return tuple(DATASETS)

    def check(self, name: str, dataset: str) -> None:
        from zslbench.data import DATASETS
        from zslbench.errors import ConfigError

        MODELS.get(name)  # fail early on an unknown name
        if dataset not in DATASETS:
            raise ConfigError(f"unknown dataset {dataset!r}; valid names: {', '.join(DATASETS)}")

    def make_config(self, profile, overrides):
        return make_gzsl_config(profile, overrides)

    def identity(self, name, classnorm, dataset, source, fingerprint, seed, cfg):
        return _identity(name, dataset, source, fingerprint, seed, cfg)

    def train(self, name, classnorm, data, seed, cfg, device, progress, data_dir=None):
        from zslbench.train.gzsl import train_gzsl

        # cfg.threads, whatever launched the run: the numbers depend on the run id, not the launcher
        with numeric_context(cfg.threads, device, cfg.cuda_tf32):
            result = train_gzsl(data, name, cfg, seed, device=device, progress=progress)
            env = store.environment(result.device)
        return result, env

    def record(self, run_id, identity, profile, data, cfg, result):
        result, env = result
        defaults = GZSLConfig()
        active = identity["config"]
        record = {
            "run_id": run_id,
            **identity,
            "classnorm": MODELS.get(identity["model"]).class_norm,
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
                k: getattr(cfg, k) for k in PITFALL_OPTIONS if k in active and getattr(cfg, k) != getattr(defaults, k)
            },
            "train_seconds": round(result.train_seconds, 3),
            "eval_seconds": round(result.eval_seconds, 3),
            "n_parameters": result.n_parameters,
            "env": env,
            "created_at": datetime.now(timezone.utc).isoformat(),
        }
        files = {"epochs.csv": _csv(result.epoch_log)}
        if cfg.trace:
            buf = io.StringIO()
            result.trace.to_csv(buf, index=False, float_format="%.8g")
            files["trace.csv"] = buf.getvalue()
        return record, files


GZSL_TRACK = register(GZSLTrack())


def _csv(rows: list[dict]) -> str:
    import pandas as pd

    buf = io.StringIO()
    pd.DataFrame(rows).to_csv(buf, index=False)
    return buf.getvalue()


@dataclass
class RerunReport:
    original: dict
    outcome: RunOutcome
    comparison: "Comparison"  # zslbench.replay.Comparison

    @property
    def same_data(self) -> bool:
        return self.comparison.same_data

    @property
    def matches(self) -> bool:
        """Bit-identical metrics and the same data."""
        return self.comparison.verdict == "exact"

    @property
    def differences(self) -> dict:
        """metric -> (recorded, rerun) for every metric that is not bit-identical."""
        return {c.name: (c.recorded, c.rerun) for c in self.comparison.checks if c.status != "exact"}


def rerun_record(
    record_path: Path,
    results: Path,
    data_dir: Path | None = None,
    device: str = "cpu",
    progress: bool | None = None,
    atol: tuple[str, ...] = (),
    rtol: tuple[str, ...] = (),
) -> RerunReport:
    """Rerun the run a record describes, from its stored config, and compare the metrics
    (zslbench.replay: exact, within the tolerances --atol/--rtol, or different)."""
    from zslbench.errors import RecordError
    from zslbench.replay import tolerances_for

    original = store.read_record(Path(record_path))
    try:
        track = track_of_record(original)
    except RecordError as exc:
        raise RecordError(f"{record_path}: {exc}") from None
    config_cls = track.config_cls
    unknown = sorted(set(original["config"]) - set(config_cls.__dataclass_fields__))
    if unknown:
        raise RecordError(f"{record_path}: config has fields this zslbench does not know: {', '.join(unknown)}")
    tolerances_for(original["metrics"], atol, rtol)  # bad --atol/--rtol fail before training
    overrides = dict(original["config"])
    if track.kind == "czsl" and "preset" not in original:
        overrides = legacy_czsl_config(overrides)
    if "threads" not in overrides:  # a record from before `threads` was a config field
        threads = (original.get("env") or {}).get("threads")
        if isinstance(threads, int) and threads >= 1:
            overrides["threads"] = threads  # replay with the thread count it ran with
    name = original["model"] if track.kind == "gzsl" else original["method"]
    classnorm = None if track.kind == "gzsl" else bool(original["classnorm"])
    outcome = execute_run(
        track, name, original["dataset"], int(original["seed"]), classnorm, original.get("profile", "paper"),
        original["data_source"], data_dir, device, results, overrides, True, progress,
    )
    return _compare(original, outcome, atol, rtol)


def legacy_czsl_config(config: dict) -> dict:
    """The config of a CZSL record written before presets, in today's terms: ``fisher_minmax``
    was a bool (true: min-max over the trainable weights) and A-GEM's reference gradient was the
    clean one.  (Their EWC/MAS importances visited the images in index order, which no option
    reproduces.)"""
    config = dict(config)
    if isinstance(config.get("fisher_minmax"), bool):
        config["fisher_minmax"] = "trainable_only" if config["fisher_minmax"] else "none"
    config.setdefault("agem_ref_grad", "clean")
    return config


def _compare(original: dict, outcome: RunOutcome, atol=(), rtol=()) -> RerunReport:
    from zslbench.replay import compare_records

    return RerunReport(original, outcome, compare_records(original, outcome.record, atol, rtol))
