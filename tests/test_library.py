"""The Python API (zslbench.run, sweep, load_results, tables, plots): the same records and run
ids as the command line, the package's exceptions instead of exits, DataFrames equal to the
`zslbench table` CSVs."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

import zslbench
from support import cli_env, zsl_in_process
from zslbench.errors import ConfigError, ZSLBenchError

TINY = {"epochs": 2, "synthetic_scale": 0.05}
TINY_CLI = ["--set", "epochs=2", "--set", "synthetic_scale=0.05"]


def test_import_zslbench_stays_cheap():
    code = (
        "import sys, zslbench; heavy = [m for m in ('torch', 'pandas', 'matplotlib', 'zslbench.library') "
        "if m in sys.modules]; print(heavy); print(callable(zslbench.run), 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(), check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "True False"]


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError):
        zslbench.no_such_function  # noqa: B018


@pytest.mark.slow
def test_api_run_and_cli_run_give_the_same_run_id_and_metrics(tmp_path, capsys, one_thread):
    run = zslbench.run(
        model="mlp3+cn",
        dataset="sun",
        seed=2,
        profile="quick",
        sets=TINY,
        data="synthetic",
        results=tmp_path / "api",
        progress=False,
    )
    code, out, err = zsl_in_process(
        capsys,
        "run",
        "--model",
        "mlp3+cn",
        "--dataset",
        "sun",
        "--seed",
        "2",
        "--profile",
        "quick",
        *TINY_CLI,
        "--data",
        "synthetic",
        "--results",
        tmp_path / "cli",
    )
    assert code == 0, err
    cli_record = tmp_path / "cli" / "runs" / run.run_id / "record.json"
    assert cli_record.is_file(), out  # the CLI wrote the run under the API's run id
    from zslbench import store

    assert store.read_record(cli_record)["metrics"] == run.metrics
    assert run.record_path == tmp_path / "api" / "runs" / run.run_id / "record.json"
    assert not run.skipped and run.metrics["H"] == run.record["metrics"]["H"]
    assert list(run.epochs["epoch"]) == [1, 2]
    assert {"epoch", "pre_var", "post_var"} <= set(run.trace.columns) and len(run.trace) > 0
    again = zslbench.run(
        model="mlp3+cn", dataset="sun", seed=2, profile="quick", sets=TINY, data="synthetic", results=tmp_path / "api"
    )
    assert again.skipped and again.run_id == run.run_id and again.metrics == run.metrics


@pytest.mark.slow
def test_api_czsl_run_and_cli_run_agree(tmp_path, capsys, one_thread):
    run = zslbench.run(
        method="sequential",
        cn=False,
        dataset="cub",
        profile="quick",
        data="synthetic",
        sets={"synthetic_scale": 0.05},
        results=tmp_path / "api",
        progress=False,
    )
    code, _, err = zsl_in_process(
        capsys,
        "run",
        "--czsl",
        "--method",
        "sequential",
        "--no-cn",
        "--dataset",
        "cub",
        "--profile",
        "quick",
        "--data",
        "synthetic",
        "--set",
        "synthetic_scale=0.05",
        "--results",
        tmp_path / "cli",
    )
    assert code == 0, err
    from zslbench import store

    assert store.read_record(tmp_path / "cli" / "runs" / run.run_id / "record.json")["metrics"] == run.metrics
    assert run.record["kind"] == "czsl" and run.record["classnorm"] is False
    assert "task" in run.epochs.columns and run.trace.empty


@pytest.mark.parametrize(
    "kwargs, cli",
    [
        ({"model": "nope", "dataset": "sun"}, ["--model", "nope", "--dataset", "sun"]),
        ({"dataset": "sun"}, ["--dataset", "sun"]),
        ({"model": "linear", "dataset": "sunn"}, ["--model", "linear", "--dataset", "sunn"]),
        (
            {"model": "linear", "dataset": "sun", "sets": {"no_such_field": 1}},
            ["--model", "linear", "--dataset", "sun", "--set", "no_such_field=1"],
        ),
        ({"method": "sequential", "dataset": "awa1"}, ["--czsl", "--method", "sequential", "--dataset", "awa1"]),
        (
            {"model": "linear", "dataset": "sun", "log": ["nolog"]},
            ["--model", "linear", "--dataset", "sun", "--log", "nolog"],
        ),
    ],
)
def test_bad_input_raises_the_cli_message_never_system_exit(tmp_path, capsys, kwargs, cli):
    with pytest.raises(ZSLBenchError) as caught:
        zslbench.run(profile="quick", results=tmp_path, **kwargs)
    code, _, err = zsl_in_process(capsys, "run", "--profile", "quick", "--results", tmp_path, *cli)
    assert code == 2
    assert err.strip().splitlines()[-1] == f"zslbench: error: {caught.value}"


def test_sweep_bad_input_raises(tmp_path):
    with pytest.raises(ConfigError, match="--jobs 0: must be >= 1"):
        zslbench.sweep(jobs=0, results=tmp_path)
    with pytest.raises(ConfigError, match="slurm: unknown option"):
        zslbench.sweep(slurm={"partitio": "x"}, results=tmp_path)


def test_sweep_dry_run_returns_the_plan(tmp_path):
    out = zslbench.sweep(
        "quick",
        models=["linear"],
        datasets="sun",
        seeds=[1, 2],
        only="gzsl",
        data="synthetic",
        results=tmp_path,
        dry_run=True,
    )
    assert out.summary is None and len(out.plan.jobs) == 2 and "linear" in out.plan_text
    assert not (tmp_path / "runs").exists()


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """A small quick sweep (two models and one CZSL method with and without ClassNorm, two
    seeds, on CUB) through the Python API, on two local jobs, with the CSV logger."""
    results = tmp_path_factory.mktemp("swept")
    out = zslbench.sweep(
        "quick",
        models="linear,mlp3+cn",
        methods=["sequential"],
        datasets=["cub"],
        seeds=[1, 2],
        data="synthetic",
        sets={"epochs": 2},
        jobs=2,
        results=results,
        log=["csv"],
    )
    assert out.ok and len(out.summary.by("trained")) == 8, out.summary.format()
    return results


def _table_csv(results, kind, out):
    code = subprocess.run(
        [
            sys.executable,
            "-m",
            "zslbench",
            "table",
            kind,
            "--results",
            str(results),
            "--format",
            "csv",
            "--out",
            str(out),
        ],
        env=cli_env(),
        capture_output=True,
        text=True,
    )
    assert code.returncode == 0, code.stderr
    return pd.read_csv(out / f"{kind}.csv")


@pytest.mark.slow
def test_tables_equal_the_table_command_csvs(swept, tmp_path):
    frames = zslbench.tables(swept)
    for kind in ("gzsl", "czsl"):
        csv = _table_csv(swept, kind, tmp_path)
        ours = frames[kind]
        assert list(ours.columns) == list(csv.columns) and len(ours) == len(csv)
        # through the CSV's own text form (10 significant digits): number for number
        again = pd.read_csv(__import__("io").StringIO(ours.to_csv(index=False, float_format="%.10g")))
        pd.testing.assert_frame_equal(again, csv, check_exact=True)
    assert (frames["gzsl"]["n"].dropna() > 0).any()


@pytest.mark.slow
def test_load_results_has_one_row_per_run_and_the_table_means(swept, tmp_path):
    runs = zslbench.load_results(swept)
    assert len(runs) == 8 and runs["run_id"].is_unique
    assert {
        "kind",
        "model",
        "method",
        "dataset",
        "seed",
        "H",
        "mH",
        "train_seconds",
        "env.torch",
        "option.epochs",
    } <= set(runs.columns)
    assert set(runs["option.epochs"].dropna()) == {2}
    table = zslbench.tables(swept)["gzsl"]
    ours = table[table["n"] > 0].dropna(subset=["mean"])
    checked = 0
    for cell in ours.itertuples():
        here = runs[(runs["model"] == cell.model) & (runs["dataset"] == cell.dataset)]
        if cell.metric in here and len(here) == cell.n:
            assert here[cell.metric].mean() == pytest.approx(cell.mean, rel=1e-12, abs=1e-12)
            checked += 1
    assert checked >= 4


@pytest.mark.slow
def test_plots_are_figures(swept):
    from matplotlib.figure import Figure

    figures = zslbench.plot_variance(swept)
    assert figures and all(isinstance(f, Figure) for f in figures)
    curves = zslbench.plot_curves(swept, "cub")
    assert isinstance(curves, Figure) and len(curves.axes) == 2
    assert zslbench.plot_curves(swept, "sun") is None


@pytest.mark.slow
def test_a_sweep_on_the_pool_logs_every_run(swept):
    ids = sorted(zslbench.load_results(swept)["run_id"])
    assert sorted(p.stem for p in (swept / "logs" / "csv").glob("*.csv")) == ids
    czsl = zslbench.load_results(swept).query("kind == 'czsl'")["run_id"].iloc[0]
    assert {"task", "H", "mean_loss"} <= set(pd.read_csv(swept / "logs" / "csv" / f"{czsl}.csv").columns)
