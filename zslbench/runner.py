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
from zslbench.data.types import ZSLData
from zslbench.models import MODELS
from zslbench.numerics import data_content_sha256, numeric_context


@dataclass
class RunOutcome:
    run_id: str
    path: Path
    record: dict
    skipped: bool  # True when the run was already done and not retrained


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
    from zslbench.data import DATASETS, fingerprint

    MODELS.get(model)
    cfg = make_gzsl_config(profile, overrides)
    key = dataset.strip().lower()
    if key not in DATASETS:
        from zslbench.errors import ConfigError

        raise ConfigError(f"unknown dataset {dataset!r}; valid names: {', '.join(DATASETS)}")
    src = resolve_source(key, source, data_dir)
    fp = fingerprint(key, src, data_dir, scale=cfg.synthetic_scale, seed=cfg.synthetic_seed)
    return store.make_run_id(_identity(model, key, src, fp, seed, cfg))


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
    from zslbench.train.gzsl import train_gzsl

    MODELS.get(model)  # fail early on an unknown name
    cfg = make_gzsl_config(profile, overrides)
    results = Path(results) if results is not None else store.default_results_dir()
    if data is None:
        data = load_for_run(dataset, source, data_dir, cfg)
    identity = gzsl_identity(model, data, seed, cfg)
    run_id = store.make_run_id(identity)
    folder = store.run_dir(results, run_id)
    if store.is_done(results, run_id) and not force:
        done = read_done(folder)
        if done is not None:
            return RunOutcome(run_id, folder, done, skipped=True)

    # cfg.threads, whatever launched the run: the numbers depend on the run id, not the launcher
    with numeric_context(cfg.threads, device):
        result = train_gzsl(data, model, cfg, seed, device=device, progress=progress)
        env = store.environment(result.device)
    defaults = GZSLConfig()
    active = identity["config"]
    record = {
        "run_id": run_id,
        **identity,
        "classnorm": MODELS.get(model).class_norm,
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
    path = store.write_run(results, run_id, record, files)
    return RunOutcome(run_id, path, record, skipped=False)


def read_done(folder: Path) -> dict | None:
    """The record of a done run, or None (with a warning) when it cannot be used: retrain then."""
    import warnings

    from zslbench.errors import RecordError

    try:
        return store.read_record(folder / store.RECORD_FILE)
    except RecordError as exc:
        warnings.warn(f"{exc}; training the run again", stacklevel=3)
        return None


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
    kind = original.get("kind")
    if kind == "gzsl":
        config_cls = GZSLConfig
    elif kind == "czsl":
        from zslbench.config import CZSLConfig as config_cls
    else:
        raise RecordError(f"{record_path}: unknown record kind {kind!r}")
    unknown = sorted(set(original["config"]) - set(config_cls.__dataclass_fields__))
    if unknown:
        raise RecordError(f"{record_path}: config has fields this zslbench does not know: {', '.join(unknown)}")
    tolerances_for(original["metrics"], atol, rtol)  # bad --atol/--rtol fail before training
    overrides = dict(original["config"])
    if kind == "czsl" and "preset" not in original:
        overrides = legacy_czsl_config(overrides)
    if "threads" not in overrides:  # a record from before `threads` was a config field
        threads = (original.get("env") or {}).get("threads")
        if isinstance(threads, int) and threads >= 1:
            overrides["threads"] = threads  # replay with the thread count it ran with
    common = dict(
        seed=int(original["seed"]), profile=original.get("profile", "paper"), source=original["data_source"],
        data_dir=data_dir, device=device, results=results, overrides=overrides, force=True,
        progress=progress,
    )
    if kind == "gzsl":
        outcome = run_gzsl(original["model"], original["dataset"], **common)
    else:
        from zslbench.czsl_runner import run_czsl

        outcome = run_czsl(original["method"], original["dataset"], classnorm=bool(original["classnorm"]), **common)
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
