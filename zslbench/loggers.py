"""Trackers that see every trained run: ``--log csv``, ``--log tensorboard``, ``--log mlflow``
and those registered by plugins (zslbench.api.register_logger).

A logger runs after a run's record is written, from the record and its side files
(epochs.csv and trace.csv for GZSL, tasks.csv for CZSL), so it can change neither a run id nor
a number; when it fails, one warning line goes to stderr and the record stays.  Where each one
writes:

* ``csv``: ``<results>/logs/csv/<run_id>.csv``, one row per epoch (or task) with the run's
  identity and final metrics on every row;
* ``tensorboard``: ``<results>/logs/tensorboard/<run_id>/``, one TensorBoard run per zslbench
  run: per-epoch scalars, the final metrics, the options as hparams;
* ``mlflow``: the tracking store of ``$MLFLOW_TRACKING_URI`` (default: the SQLite store
  ``<results>/logs/mlflow.db``, artifacts in ``<results>/logs/mlartifacts``), experiment
  ``$MLFLOW_EXPERIMENT_NAME`` (default ``zslbench``):
  one MLflow run per zslbench run with its params, per-epoch metrics and record.json as an
  artifact.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from zslbench.api import LOGGERS, LoggedRun, RunLogger, register_logger
from zslbench.errors import ConfigError
from zslbench.records import RunRecord

# the columns of the variance trace that a logger sees, as per-epoch means (prefix "var_")
TRACE_STATS = ("pre_mean", "pre_std", "pre_var", "post_mean", "post_std", "post_var", "hidden_var")
IDENTITY = ("kind", "track", "model", "method", "classnorm", "dataset", "data_source", "seed", "profile", "preset")
# the package each built-in logger needs, and the extra that installs it
NEEDS = {"tensorboard": ("tensorboard", "tensorboard"), "mlflow": ("mlflow", "mlflow")}


def run_label(record: RunRecord) -> str:
    name = record.get("model") or record.get("method") or "?"
    if record.get("kind") == "czsl":
        name = f"{name}{'+cn' if record.get('classnorm') else ''}"
        kind = f"czsl-{record.get('track', 'features')}"
    else:
        kind = str(record.get("kind", "?"))
    return f"{kind} {name} {record.get('dataset', '?')} seed {record.get('seed', '?')}"


def epoch_frame(record: RunRecord, folder: Path):
    """One row per epoch (GZSL: epochs.csv joined with the per-epoch means of trace.csv) or per
    task (CZSL: tasks.csv joined with the metrics after each task, steps.csv), its step in
    column ``step``."""
    import pandas as pd

    folder = Path(folder)
    for name, step in (("epochs.csv", "epoch"), ("tasks.csv", "task")):  # noqa: B007 (step is read after the loop)
        path = folder / name
        if path.is_file():
            frame = pd.read_csv(path)
            break
    else:
        return pd.DataFrame({"step": []})
    if step not in frame.columns:
        frame.insert(0, step, range(1, len(frame) + 1))
    steps = folder / "steps.csv"  # CZSL: the metrics after each task (t=1 after the first)
    if step == "task" and steps.is_file():
        after = pd.read_csv(steps).rename(columns={"t": "task"})
        if "task" in after.columns:
            frame = frame.merge(
                after.drop(columns=[c for c in after if c in frame and c != "task"]), on="task", how="left"
            )
    trace = folder / "trace.csv"
    if step == "epoch" and trace.is_file():
        tr = pd.read_csv(trace)
        stats = [c for c in TRACE_STATS if c in tr.columns]
        if "epoch" in tr.columns and stats:
            means = tr.groupby("epoch")[stats].mean().add_prefix("var_").reset_index()
            frame = frame.merge(means, on="epoch", how="left")
    frame.insert(0, "step", frame[step].astype(int))
    return frame


def run_params(record: RunRecord) -> dict:
    """The run's identity fields and options, flat: numbers and text only.  ``options.<name>``: the
    options of a plugin's model or method, or of a built-in model that has its own (f-CLSWGAN)."""
    fields: Mapping[str, Any] = record  # read by name
    out: dict[str, Any] = {k: fields[k] for k in IDENTITY if fields.get(k) is not None}
    for key, value in sorted((record.get("config") or {}).items()):
        out[f"config.{key}"] = value
    plugin = record.get("plugin") or {}
    options = plugin.get("options") or record.get("model_options") or {}
    for key, value in sorted(options.items()) if isinstance(options, dict) else ():
        out[f"options.{key}"] = value
    return {k: v if isinstance(v, (bool, int, float, str)) else json.dumps(v, sort_keys=True) for k, v in out.items()}


def logged_run(run_id: str, record: RunRecord, folder: Path, results: Path) -> LoggedRun:
    return LoggedRun(
        run_id, run_label(record), record, Path(folder), Path(results), epoch_frame(record, folder), run_params(record)
    )


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def scalars(run: LoggedRun) -> list[tuple[int, str, float]]:
    """(step, name, value) of every finite per-epoch number."""
    out = []
    for row in run.epochs.to_dict("records"):
        step = int(row["step"])
        out += [(step, k, float(v)) for k, v in row.items() if k not in ("step", "epoch", "task") and _numeric(v)]
    return out


class CSVLogger(RunLogger):
    """``<results>/logs/csv/<run_id>.csv``: the per-epoch values beside the run's identity."""

    def log_run(self, run: LoggedRun) -> None:
        frame = run.epochs.copy()
        for key, value in reversed(list(run.params.items())):
            if not key.startswith("config."):
                frame.insert(0, key, value)
        frame.insert(0, "run_id", run.run_id)
        for key, value in run.metrics.items():
            frame[f"final_{key}"] = value
        folder = run.results / "logs" / "csv"
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{run.run_id}.csv.tmp"
        frame.to_csv(tmp, index=False)
        os.replace(tmp, folder / f"{run.run_id}.csv")


class TensorBoardLogger(RunLogger):
    """``<results>/logs/tensorboard/<run_id>/``: scalars ``epoch/<column>`` per epoch (the
    variance statistics as ``variance/<stat>``), ``final/<metric>``, and the options as hparams."""

    def log_run(self, run: LoggedRun) -> None:
        from torch.utils.tensorboard import SummaryWriter

        logdir = run.results / "logs" / "tensorboard" / run.run_id
        with SummaryWriter(log_dir=str(logdir)) as writer:
            writer.add_text("run", f"{run.label} ({run.run_id})", 0)
            for step, name, value in scalars(run):
                tag = f"variance/{name[4:]}" if name.startswith("var_") else f"epoch/{name}"
                writer.add_scalar(tag, value, step)
            final = {f"final/{k}": float(v) for k, v in run.metrics.items() if _numeric(v)}
            last = int(run.epochs["step"].max()) if len(run.epochs) else 0
            for tag, value in final.items():
                writer.add_scalar(tag, value, last)
            writer.add_hparams(dict(run.params), {f"hparam/{k[6:]}": v for k, v in final.items()}, run_name=".")


class MLflowLogger(RunLogger):
    """One MLflow run per zslbench run: params, per-epoch metrics, final metrics, record.json."""

    def log_run(self, run: LoggedRun) -> None:
        from zslbench.locks import FileLock

        logs = (run.results / "logs").absolute()
        # one writer at a time: pool workers share the sqlite file and create the experiment once
        import logging
        import warnings

        quiet = [logging.getLogger(n) for n in ("mlflow", "alembic")]  # the store's set-up chatter
        levels = [q.level for q in quiet]
        try:
            for q in quiet:
                q.setLevel(logging.WARNING)
            with FileLock(logs / ".mlflow.lock", remove=False), warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # the store's own dependencies'
                self._log(run, logs)
        finally:
            for q, level in zip(quiet, levels):
                q.setLevel(level)

    def _log(self, run: LoggedRun, logs: Path) -> None:
        import time

        from mlflow.entities import Metric, Param
        from mlflow.tracking import MlflowClient

        uri = os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{logs / 'mlflow.db'}"
        client = MlflowClient(tracking_uri=uri)
        name = os.environ.get("MLFLOW_EXPERIMENT_NAME") or "zslbench"
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            artifacts = None if os.environ.get("MLFLOW_TRACKING_URI") else (logs / "mlartifacts").as_uri()
            experiment_id = client.create_experiment(name, artifact_location=artifacts)
        else:
            experiment_id = experiment.experiment_id
        tags = {"zslbench.run_id": run.run_id}
        mlrun = client.create_run(experiment_id, run_name=run.label, tags=tags)
        rid = mlrun.info.run_id
        now = int(time.time() * 1000)
        params = [Param(k, str(v)[:500]) for k, v in run.params.items()]
        metrics = [Metric(name.replace("+", "_"), value, now, step) for step, name, value in scalars(run)]
        last = int(run.epochs["step"].max()) if len(run.epochs) else 0
        metrics += [Metric(f"final_{k}", float(v), now, last) for k, v in run.metrics.items() if _numeric(v)]
        for i in range(0, len(params), 100):  # MLflow takes at most 100 params per batch
            client.log_batch(rid, params=params[i : i + 100])
        for i in range(0, len(metrics), 1000):
            client.log_batch(rid, metrics=metrics[i : i + 1000])
        client.log_artifact(rid, str(run.folder / "record.json"))
        client.set_terminated(rid)


for _name, _cls in (("csv", CSVLogger), ("tensorboard", TensorBoardLogger), ("mlflow", MLflowLogger)):
    if _name not in LOGGERS:
        register_logger(_name, _cls)


def resolve_loggers(specs: Iterable[Any]) -> tuple:
    """Check the loggers of a run or sweep before any work: names must be registered and their
    package installed (ConfigError: one line); instances of RunLogger pass as they are.  Returns
    the specs as a tuple (names stay names: each worker builds its own logger)."""
    import importlib.util

    out: list[Any] = []
    for spec in specs or ():
        if isinstance(spec, RunLogger):
            out.append(spec)
            continue
        if not isinstance(spec, str):
            raise ConfigError(f"--log: {spec!r} is neither a logger name nor a zslbench.api.RunLogger")
        for name in [s.strip() for s in spec.split(",") if s.strip()]:
            LOGGERS.get(name)
            if name in NEEDS and importlib.util.find_spec(NEEDS[name][0]) is None:
                raise ConfigError(
                    f"--log {name}: the {NEEDS[name][0]} package is not installed "
                    f"(pip install 'zslbench[{NEEDS[name][1]}]')"
                )
            out.append(name)
    return tuple(dict.fromkeys(out))


def log_run(specs: Iterable[Any], run_id: str, record: RunRecord, folder: Path, results: Path) -> list[str]:
    """Give a recorded run to each logger; a failure is one warning line on stderr (returned too)."""
    warnings_: list[str] = []
    try:
        run = logged_run(run_id, record, folder, results)
    except Exception as exc:  # an unreadable side file: the record is safe
        run, warnings_ = None, [f"warning: loggers skipped for run {run_id}: {type(exc).__name__}: {exc}"]
    for spec in specs if run is not None else ():
        name = spec if isinstance(spec, str) else (spec.name or type(spec).__name__)
        try:
            logger = LOGGERS.get(spec)() if isinstance(spec, str) else spec
            logger.log_run(run)
        except Exception as exc:
            text = " ".join(f"{type(exc).__name__}: {exc}".split())
            warnings_.append(f"warning: logger {name} failed for run {run_id} (its record is kept): {text}")
    for line in warnings_:
        print(line, file=sys.stderr, flush=True)
    return warnings_
