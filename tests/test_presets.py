"""Presets (--preset colab|code), their records, and option applicability in the CLI and sweeps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support import zsl_in_process as zsl
from zslbench.config import GZSLConfig
from zslbench.presets import PRESETS, preset_label, with_preset
from zslbench.tracks import execute_run, get_track, make_config, planned_run_id

TINY = ["--profile", "quick", "--data", "synthetic", "--set", "epochs=2", "--set", "synthetic_scale=0.05"]


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def only_record(results: Path, exclude=()) -> dict:
    recs = [json.loads(p.read_text()) for p in sorted((results / "runs").glob("*/record.json"))]
    recs = [r for r in recs if r["run_id"] not in exclude]
    assert len(recs) == 1, [r["run_id"] for r in recs]
    return recs[0]


def test_presets_are_valid_configs_and_colab_is_the_default():
    assert GZSLConfig() == make_config("gzsl", "paper", with_preset("gzsl", "colab", None))
    code = make_config("gzsl", "paper", with_preset("gzsl", "code", None))
    assert (
        code.select_epoch,
        code.seen_logit_scale,
        code.cn_denominator,
        code.cn_var_unbiased,
        code.cn_affine_first,
        code.baseline_last_init,
    ) == ("best_test_H", "0.95", "std", False, True, "kaiming_relu")
    # CZSL: both presets are the code's choices, which are the defaults
    for name in PRESETS:
        assert make_config("czsl-features", "paper", with_preset("czsl", name, None)) == make_config(
            "czsl-features", "paper"
        )
    assert preset_label("czsl", make_config("czsl-features", "paper").to_dict()) == ("code", {})


def test_preset_label_names_the_matching_preset_or_the_overrides():
    code = make_config("gzsl", "paper", with_preset("gzsl", "code", None)).to_dict()
    assert preset_label("gzsl", code) == ("code", {})
    assert preset_label("gzsl", GZSLConfig().to_dict()) == ("colab", {})
    assert preset_label("gzsl", {**code, "select_epoch": "final"}) == ("code+overrides", {"select_epoch": "final"})
    # only the fields that act on the run count: linear has no ClassNorm options
    linear = {k: v for k, v in code.items() if not k.startswith("cn_")}
    assert preset_label("gzsl", linear) == ("code", {})


@pytest.mark.slow
def test_cli_preset_code_expands_into_the_record_and_set_overrides_one_field(tmp_path, capsys):
    res = tmp_path / "r"
    code, _, err = zsl(
        capsys,
        "run",
        "--model",
        "mlp3+cn",
        "--dataset",
        "cub",
        "--seed",
        1,
        "--preset",
        "code",
        *TINY,
        "--results",
        res,
    )
    assert code == 0, err
    rec = only_record(res)
    assert rec["preset"] == "code" and "preset_overrides" not in rec
    for key, value in PRESETS["code"].gzsl.items():
        if key == "baseline_last_init":  # mlp3+cn has Eq. (10): the option does not act on it
            assert key not in rec["config"]
        else:
            assert rec["config"][key] == value, key
    assert rec["selected_epoch"] == rec["oracle_epoch"]  # select_epoch=best_test_H acted
    code, _, err = zsl(
        capsys,
        "run",
        "--model",
        "mlp3+cn",
        "--dataset",
        "cub",
        "--seed",
        1,
        "--preset",
        "code",
        *TINY,
        "--set",
        "seen_logit_scale=1.0",
        "--results",
        res,
    )
    assert code == 0, err
    over = only_record(res, exclude={rec["run_id"]})
    assert over["preset"] == "code+overrides" and over["preset_overrides"] == {"seen_logit_scale": "1.0"}
    assert over["config"]["cn_affine_first"] is True
    # the default preset: the notebook's fields, explicit in the record
    code, _, err = zsl(capsys, "run", "--model", "mlp3+cn", "--dataset", "cub", "--seed", 1, *TINY, "--results", res)
    assert code == 0, err
    colab = only_record(res, exclude={rec["run_id"], over["run_id"]})
    assert colab["preset"] == "colab"
    for key, value in PRESETS["colab"].gzsl.items():
        assert colab["config"].get(key, "inactive") == (value if key != "baseline_last_init" else "inactive"), key
    # --from-record reruns a preset run from its record alone and matches it
    code, out, err = zsl(capsys, "run", "--from-record", res / "runs" / rec["run_id"] / "record.json")
    assert code == 0 and "match" in out, (out, err)
    code, _, err = zsl(
        capsys, "run", "--from-record", res / "runs" / rec["run_id"] / "record.json", "--preset", "colab"
    )
    assert code == 2 and "--preset" in err


@pytest.mark.slow
def test_linear_with_and_without_kaiming_init_gives_different_numbers_and_ids(tmp_path, capsys):
    res = tmp_path / "r"
    code, _, err = zsl(capsys, "run", "--model", "linear", "--dataset", "cub", "--seed", 1, *TINY, "--results", res)
    assert code == 0, err
    plain = only_record(res)
    code, _, err = zsl(
        capsys,
        "run",
        "--model",
        "linear",
        "--dataset",
        "cub",
        "--seed",
        1,
        *TINY,
        "--set",
        "baseline_last_init=kaiming_relu",
        "--results",
        res,
    )
    assert code == 0, err
    kaiming = only_record(res, exclude={plain["run_id"]})
    assert kaiming["config"]["baseline_last_init"] == "kaiming_relu"
    assert kaiming["metrics"] != plain["metrics"]
    # an option that does not act on linear is refused, naming it and the model
    code, _, err = zsl(
        capsys, "run", "--model", "linear", "--dataset", "cub", *TINY, "--set", "hidden_dim=64", "--results", res
    )
    assert code == 2 and err.count("\n") == 1 and "hidden_dim" in err and "linear" in err


@pytest.mark.slow
def test_sweep_applies_a_set_only_where_it_acts_and_agrees_with_the_runners(tmp_path):
    from zslbench.sweep import plan_sweep

    sets = ["epochs=2", "synthetic_scale=0.05", "epochs_per_task=1", "hidden_dim=16", "ewc_lambda=5"]
    grid = dict(
        models=["linear"],
        methods=["sequential", "ewc-online"],
        datasets=["cub"],
        seeds=[1],
        source="synthetic",
        results=tmp_path,
    )
    plan = plan_sweep("quick", sets=sets, preset="code", **grid)
    by = {(j.kind, j.name, j.classnorm): j.run_id for j in plan.jobs}
    without = plan_sweep("quick", sets=sets[:-1], preset="code", **grid)
    same = {(j.kind, j.name, j.classnorm): j.run_id == by[(j.kind, j.name, j.classnorm)] for j in without.jobs}
    assert same == {k: k[1] != "ewc-online" for k in by}  # ewc_lambda changes the EWC runs only
    # ewc_lambda does not act on sequential: the run is the one without it
    cz = {"epochs_per_task": 1, "synthetic_scale": 0.05, "hidden_dim": 16}
    assert by[("czsl", "sequential", False)] == planned_run_id(
        get_track("czsl-features"), "sequential", "cub", 1, False, "quick", "synthetic", None, cz
    )
    out = execute_run(
        get_track("czsl-features"),
        "sequential",
        "cub",
        seed=1,
        classnorm=False,
        profile="quick",
        source="synthetic",
        results=tmp_path,
        overrides=with_preset("czsl", "code", {**cz, "ewc_lambda": 5.0}),
        progress=False,
    )
    assert out.run_id == by[("czsl", "sequential", False)] and "ewc_lambda" not in out.record["config"]
    gz = with_preset("gzsl", "code", {"epochs": 2, "synthetic_scale": 0.05, "hidden_dim": 16})
    outg = execute_run(
        get_track("gzsl"),
        "linear",
        "cub",
        seed=1,
        profile="quick",
        source="synthetic",
        results=tmp_path,
        overrides=gz,
        progress=False,
    )
    assert outg.run_id == by[("gzsl", "linear", None)] and outg.record["preset"] == "code"
    assert "hidden_dim" not in outg.record["config"] and outg.record["config"]["baseline_last_init"] == "kaiming_relu"
    again = plan_sweep("quick", sets=sets, preset="code", **grid)
    states = {(j.kind, j.name, j.classnorm): j.state for j in again.jobs}
    assert states[("czsl", "sequential", False)] == "done" and states[("gzsl", "linear", None)] == "done"


def test_a_sweep_set_that_acts_on_no_planned_run_is_refused(tmp_path):
    from zslbench.errors import ConfigError
    from zslbench.sweep import plan_sweep

    common = dict(methods=["agem"], datasets=["cub"], seeds=[1], source="synthetic", results=tmp_path)
    with pytest.raises(ConfigError, match="ewc_lambda"):
        plan_sweep("quick", sets=["ewc_lambda=3"], **common)
    with pytest.raises(ConfigError, match="agem_ref_attrs"):  # acts with ClassNorm only
        plan_sweep("quick", sets=["agem_ref_attrs=seen"], only="czsl", **{**common, "methods": ["sequential"]})
    plan = plan_sweep("quick", sets=["agem_ref_attrs=seen"], **common)
    ids = {j.classnorm: j.run_id for j in plan.jobs}
    default = {j.classnorm: j.run_id for j in plan_sweep("quick", **common).jobs}
    assert ids[False] == default[False] and ids[True] != default[True]


def test_records_from_before_presets_are_migrated_to_their_own_settings():
    from zslbench.store import RECORD_VERSION, migrate

    old = make_config("czsl-features", "paper", {"attr_param_group": "embedder"}).to_dict()
    old.pop("agem_ref_grad")
    old.pop("threads")
    old["fisher_minmax"] = True
    record = {"run_id": "x", "kind": "czsl", "metrics": {}, "config": old, "env": {"threads": 2}, "record_version": 1}
    new = migrate(record)
    cfg = new["config"]
    assert new["record_version"] == RECORD_VERSION and new["preset"] is None and new["track"] == "features"
    assert cfg["fisher_minmax"] == "trainable_only" and cfg["agem_ref_grad"] == "clean"
    assert cfg["attr_param_group"] == "embedder" and cfg["threads"] == 2
    assert record["config"]["fisher_minmax"] is True  # the caller's dict is left alone
    assert migrate({**record, "config": {**old, "fisher_minmax": False}})["config"]["fisher_minmax"] == "none"
    make_config("czsl-features", "paper", cfg)  # a valid config today
    assert migrate(new) == new  # a current record is left as it is
