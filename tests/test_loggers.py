"""Run loggers (--log csv / tensorboard / mlflow and zslbench.api.register_logger): read back with
each tracker's own reader; a logger changes no run id or number and its failure loses no record."""

from __future__ import annotations

import math
import pickle

import pandas as pd
import pytest

import zslbench
from support import zsl_in_process
from zslbench import store
from zslbench.api import LOGGERS, RunLogger, register_logger

TINY = {"epochs": 3, "synthetic_scale": 0.05}
TINY_CLI = ["--set", "epochs=3", "--set", "synthetic_scale=0.05"]


def _run(results, **kwargs):
    return zslbench.run(
        model="mlp3+cn",
        dataset="sun",
        profile="quick",
        sets=TINY,
        data="synthetic",
        results=results,
        progress=False,
        **kwargs,
    )


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """One quick GZSL run with every built-in logger; beside it the same run with none."""
    root = tmp_path_factory.mktemp("logged")
    run = _run(root / "with", log=["csv", "tensorboard", "mlflow"])
    plain = _run(root / "without")
    return run, plain, root / "with"


@pytest.mark.slow
def test_a_logger_changes_no_run_id_and_no_number(logged):
    run, plain, _ = logged
    assert run.run_id == plain.run_id and run.metrics == plain.metrics
    assert (run.folder / "epochs.csv").read_text() == (plain.folder / "epochs.csv").read_text()


@pytest.mark.slow
def test_tensorboard_event_files_hold_every_epoch_h_and_the_variance(logged):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run, _, results = logged
    acc = EventAccumulator(str(results / "logs" / "tensorboard" / run.run_id))
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    h = acc.Scalars("epoch/test_H_per_sample_uncal")
    assert [e.step for e in h] == [1, 2, 3]
    assert [e.value for e in h] == pytest.approx(list(run.epochs["test_H_per_sample_uncal"]), rel=1e-6)
    var = acc.Scalars("variance/pre_var")
    means = run.trace.groupby("epoch")["pre_var"].mean()
    assert [e.step for e in var] == [1, 2, 3] and [e.value for e in var] == pytest.approx(list(means), rel=1e-5)
    assert {"epoch/loss", "variance/post_var", "variance/hidden_var", "final/H"} <= tags
    assert acc.Scalars("final/H")[0].value == pytest.approx(run.metrics["H"], rel=1e-6)
    # the options as hparams: TensorBoard's plugin data holds the run's config
    hparams = acc.PluginTagToContent("hparams")
    assert hparams and any(b"config.lr" in blob for blob in hparams.values())


@pytest.mark.slow
def test_csv_log_has_one_row_per_epoch(logged):
    run, _, results = logged
    frame = pd.read_csv(results / "logs" / "csv" / f"{run.run_id}.csv")
    assert list(frame["epoch"]) == [1, 2, 3] and set(frame["run_id"]) == {run.run_id}
    assert list(frame["loss"]) == pytest.approx(list(run.epochs["loss"]))
    assert frame["var_post_var"].notna().all() and set(frame["final_H"]) == {run.metrics["H"]}


@pytest.mark.slow
def test_mlflow_run_read_back_through_its_client(logged, tmp_path):
    from mlflow.tracking import MlflowClient

    run, _, results = logged
    client = MlflowClient(tracking_uri=f"sqlite:///{results.absolute() / 'logs' / 'mlflow.db'}")
    exp = client.get_experiment_by_name("zslbench")
    (found,) = client.search_runs([exp.experiment_id], filter_string=f"tags.`zslbench.run_id` = '{run.run_id}'")
    assert found.data.params["model"] == "mlp3+cn" and found.data.params["config.epochs"] == "3"
    assert found.data.metrics["final_H"] == pytest.approx(run.metrics["H"])
    history = client.get_metric_history(found.info.run_id, "test_H_per_sample_uncal")
    assert sorted((m.step, m.value) for m in history) == [
        (e, pytest.approx(h)) for e, h in zip(run.epochs["epoch"], run.epochs["test_H_per_sample_uncal"])
    ]
    assert [m.step for m in client.get_metric_history(found.info.run_id, "var_pre_var")] == [1, 2, 3]
    got = client.download_artifacts(found.info.run_id, "record.json", str(tmp_path))
    assert store.read_record(got)["run_id"] == run.run_id


class Broken(RunLogger):
    def log_run(self, run):
        raise RuntimeError("tracker\nunreachable")


class Remember(RunLogger):
    seen: list = []

    def log_run(self, run):
        Remember.seen.append((run.run_id, run.label, list(run.epochs["step"]), run.params["dataset"]))


@pytest.mark.slow
def test_a_failing_logger_is_one_warning_line_and_the_record_is_kept(tmp_path, capsys):
    if "broken-test" not in LOGGERS:
        register_logger("broken-test", Broken)
    code, _out, err = zsl_in_process(
        capsys,
        "run",
        "--model",
        "linear",
        "--dataset",
        "sun",
        "--profile",
        "quick",
        "--data",
        "synthetic",
        *TINY_CLI,
        "--results",
        tmp_path,
        "--log",
        "broken-test",
    )
    assert code == 0, err
    lines = [line for line in err.splitlines() if "broken-test" in line]
    assert len(lines) == 1 and "tracker unreachable" in lines[0] and "record is kept" in lines[0]
    (done,) = list(store.iter_records(tmp_path))
    assert done["model"] == "linear" and math.isfinite(done["metrics"]["H"])


@pytest.mark.slow
def test_a_logger_instance_through_the_api_sees_the_epochs(tmp_path):
    Remember.seen.clear()
    run = _run(tmp_path, log=[Remember()])
    assert Remember.seen == [(run.run_id, "gzsl mlp3+cn sun seed 1", [1, 2, 3], "sun")]
    again = _run(tmp_path, log=[Remember()])  # done already: nothing new to log
    assert again.skipped and len(Remember.seen) == 1


def test_unknown_or_missing_logger_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    code, _, err = zsl_in_process(
        capsys, "run", "--model", "linear", "--dataset", "sun", "--results", tmp_path, "--log", "tensorbord"
    )
    assert code == 2 and "unknown logger 'tensorbord' (did you mean 'tensorboard'?)" in err
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else real(name, *a))
    code, _, err = zsl_in_process(
        capsys, "run", "--all", "--profile", "quick", "--only", "gzsl", "--results", tmp_path, "--log", "mlflow"
    )
    assert code == 2 and err.strip().endswith("(pip install 'zslbench[mlflow]')")
    assert not (tmp_path / "runs").exists()


def test_the_logger_choice_travels_with_a_sweep_job():
    """SLURM and pool workers get the pickled settings: the logger names are in them."""
    from zslbench.sweep import plan_sweep

    plan = plan_sweep(
        "quick",
        only="gzsl",
        models=["linear"],
        datasets=["sun"],
        seeds=[1],
        source="synthetic",
        results="/nonexistent-results",
        loggers=("csv", "tensorboard"),
    )
    assert pickle.loads(pickle.dumps(plan.settings)).loggers == ("csv", "tensorboard")


def test_the_params_carry_the_options_of_a_plugin_s_model_and_of_f_clswgan():
    """A plugin's options are under the record's ``plugin`` and a built-in model's own options under
    ``model_options`` (both in the run id): a logger sees them as ``options.<name>``."""
    from zslbench.loggers import run_params

    base = {"run_id": "0" * 16, "kind": "gzsl", "model": "m", "metrics": {}, "config": {"epochs": 3}}
    plugin = run_params({**base, "plugin": {"module": "p", "options": {"width": 64, "act": "relu"}}})
    assert plugin["options.width"] == 64 and plugin["options.act"] == "relu" and plugin["config.epochs"] == 3
    builtin = run_params({**base, "model_options": {"cls_epochs": 0, "minmax": True}})
    assert builtin["options.cls_epochs"] == 0 and builtin["options.minmax"] is True
    assert not [k for k in run_params(base) if k.startswith("options.")]
