"""The contract every kind of run keeps, checked for every model and method of every track
through the CLI (`zslbench run`) and read back with zslbench.store:

- every run writes one record with the fields the record format requires, naming what ran;
- the same config and seed give the same run id and bit-identical metrics, in another results
  folder.

The cases come from `zslbench list models` / `zslbench list methods`, so a new model or method
is covered without a change here.  Each run is tiny (quick profile, a few percent of the
synthetic images, one epoch or task pass)."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from support import zsl_in_process
from zslbench import store
from zslbench.cli import cli

# The fields every record has, whatever ran (the model or method field depends on the kind).
RECORD_FIELDS = {
    "run_id",
    "kind",
    "classnorm",
    "dataset",
    "data_source",
    "data_fingerprint",
    "seed",
    "profile",
    "config",
    "metrics",
    "train_seconds",
    "env",
    "created_at",
}
HEADLINE = {"gzsl": ("S", "U", "H", "ZSL", "AUSUC"), "czsl": ("mAUC", "mH", "mJA", "forgetting")}


def _listed(what: str) -> list[str]:
    """The names `zslbench list WHAT` prints (its indented lines' first words)."""
    result = CliRunner().invoke(cli, ["list", what])
    assert result.exit_code == 0, result.output
    return [line.split()[0] for line in result.output.splitlines() if line.startswith("  ") and line.strip()]


COMMON = ["--data", "synthetic", "--profile", "quick", "--seed", "1"]
GZSL_TINY = ["--dataset", "apy", "--set", "synthetic_scale=0.05", "--set", "epochs=2"]
# a generative model trains itself: the trainer's epochs do not act on it
MODEL_TINY = {"f-clswgan": ["--dataset", "apy", "--set", "synthetic_scale=0.05", "--set", "f-clswgan.nepoch=2"]}
CZSL_TINY = ["--dataset", "cub", "--set", "epochs_per_task=1"]
FEATURES_TINY = ["--set", "synthetic_scale=0.05", "--set", "tasks_cub=4", "--set", "hidden_dim=16"]
IMAGES_TINY = ["--set", "synthetic_scale=0.01", "--set", "image_size=16", "--set", "tasks_cub=2"]
# settings that act only on one method (a --set that acts on nothing is refused)
METHOD_TINY = {"multitask": ["--set", "multitask_max_iters_cub=4"], "agem": ["--set", "agem_ref_batch=8"]}


def _cases() -> list:
    cases = []
    for model in _listed("models"):
        args = ["run", "--model", model, *COMMON, *MODEL_TINY.get(model, GZSL_TINY)]
        cases.append(pytest.param(("gzsl", "model", model, args), id=f"gzsl-{model}"))
    for method in _listed("methods"):
        for cn in ("--cn", "--no-cn"):
            args = [
                "run",
                "--czsl",
                "--track",
                "features",
                "--method",
                method,
                cn,
                *COMMON,
                *CZSL_TINY,
                *FEATURES_TINY,
                *METHOD_TINY.get(method, []),
            ]
            cases.append(pytest.param(("czsl", "method", method, args), id=f"features-{method}{cn[1:]}"))
        args = [
            "run",
            "--czsl",
            "--track",
            "images",
            "--method",
            method,
            "--cn",
            *COMMON,
            *CZSL_TINY,
            *IMAGES_TINY,
            *METHOD_TINY.get(method, []),
        ]
        cases.append(
            pytest.param(("czsl", "method", method, args), id=f"images-{method}", marks=pytest.mark.slow)
        )  # a ResNet-18 trains: seconds, not fractions
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def first_runs() -> dict:
    """case args -> the record of its first run (kept for the second test of the case)."""
    return {}


def _run(capsys, args: list[str], results: Path) -> dict:
    code, _, err = zsl_in_process(capsys, *args, "--results", str(results))
    assert code == 0, err
    records = list(store.iter_records(results))
    assert len(records) == 1, [r.get("run_id") for r in records]
    return records[0]


def _first(capsys, tmp_path_factory, first_runs: dict, args: list[str]) -> dict:
    key = tuple(args)
    if key not in first_runs:
        first_runs[key] = _run(capsys, args, tmp_path_factory.mktemp("first"))
    return first_runs[key]


@pytest.mark.parametrize("case", CASES)
def test_every_run_writes_a_record_with_the_contract_fields(case, capsys, tmp_path_factory, first_runs):
    kind, name_field, name, args = case
    rec = _first(capsys, tmp_path_factory, first_runs, args)
    assert RECORD_FIELDS | {name_field} <= set(rec), sorted(RECORD_FIELDS | {name_field} - set(rec))
    assert (rec["kind"], rec[name_field], rec["seed"], rec["profile"]) == (kind, name, 1, "quick")
    assert rec["dataset"] == args[args.index("--dataset") + 1] and rec["data_source"] == "synthetic"
    assert isinstance(rec["classnorm"], bool)
    if "--no-cn" in args:
        assert rec["classnorm"] is False
    assert isinstance(rec["config"], dict) and rec["config"]
    assert isinstance(rec["data_fingerprint"], str) and rec["data_fingerprint"]
    for metric in HEADLINE[kind]:
        assert math.isfinite(rec["metrics"][metric]), metric
    assert rec["train_seconds"] >= 0
    assert rec["env"]["numerics"]["torch"] and rec["env"]["threads"] == rec["config"]["threads"]
    datetime.fromisoformat(rec["created_at"])


@pytest.mark.parametrize("case", CASES)
def test_same_seed_same_numbers(case, capsys, tmp_path_factory, first_runs):
    _, _, _, args = case
    first = _first(capsys, tmp_path_factory, first_runs, args)
    second = _run(capsys, args, tmp_path_factory.mktemp("second"))
    assert second["run_id"] == first["run_id"]
    assert second["metrics"].keys() == first["metrics"].keys()
    for metric, value in first["metrics"].items():  # bit for bit (NaN-safe)
        assert repr(second["metrics"][metric]) == repr(value), metric
