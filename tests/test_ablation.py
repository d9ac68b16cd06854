"""`run --all --ablate`: which flipped runs are planned beside each run, and that a sweep
trains them with their option and the report shows the option's effect."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from zslbench import store
from zslbench.ablation import flips, parse_options
from zslbench.applicability import czsl_traits, gzsl_traits
from zslbench.config import CZSLConfig, GZSLConfig
from zslbench.errors import ConfigError
from zslbench.presets import PRESETS, with_preset
from zslbench.sweep import plan_sweep
from zslbench.tracks import make_config

ROOT = Path(__file__).resolve().parents[1]


def gz(model: str, options, preset=None, explicit=()):
    cfg = make_config("gzsl", "quick", with_preset("gzsl", preset, {})).to_dict()
    return flips(options, "gzsl", GZSLConfig, "gzsl", gzsl_traits(model, "cub", "synthetic"), cfg, preset, explicit)


def test_alternatives_per_kind_of_option():
    assert [(f.option, f.value, dict(f.overrides)) for f in gz("mlp3+cn", ["select_epoch"])] == [
        ("select_epoch", "best_test_H", {"select_epoch": "best_test_H"})
    ]
    assert [f.value for f in gz("mlp3+cn", ["seen_logit_scale"])] == ["1.0", "0.95"]
    assert [f.value for f in gz("mlp3+cn", ["attr_norm"])] == ["unit", "standardize", "none"]
    assert [f.overrides for f in gz("mlp3+cn", ["cn_affine_first"])] == [{"cn_affine_first": True}]  # bool
    assert [f.overrides for f in gz("mlp3", ["lr=0.01"])] == [{"lr": 0.01}]


def test_only_where_the_option_acts():
    assert gz("mlp3", ["cn_denominator", "cn_affine_first"]) == []  # no ClassNorm in mlp3
    assert gz("mlp3+cn", ["baseline_last_init"]) == []  # Eq. (10) sets its last layer's init
    assert [f.value for f in gz("mlp3", ["baseline_last_init"])] == ["kaiming_relu"]
    cfg = make_config("czsl-features", "quick").to_dict()
    traits = czsl_traits("sequential", False, "cub", "synthetic")
    assert flips(["agem_ref_grad"], "czsl-features", CZSLConfig, "czsl", traits, cfg, None) == []
    traits = czsl_traits("agem", False, "cub", "synthetic")
    assert [f.value for f in flips(["agem_ref_grad"], "czsl-features", CZSLConfig, "czsl", traits, cfg, None)] == [
        "clean"
    ]


def test_preset_flip():
    (flip,) = gz("mlp3+cn", ["preset"])
    assert flip.value == "code" and dict(flip.overrides) == dict(PRESETS["code"].gzsl)
    (flip,) = gz("mlp3+cn", ["preset"], preset="code")
    assert flip.value == "colab"
    # a field set with --set stays as set
    (flip,) = gz("mlp3+cn", ["preset"], explicit={"select_epoch"})
    assert "select_epoch" not in flip.overrides
    # CZSL: both presets give the code's choices, so there is nothing to flip
    cfg = make_config("czsl-features", "quick").to_dict()
    traits = czsl_traits("agem", True, "cub", "synthetic")
    assert flips(["preset"], "czsl-features", CZSLConfig, "czsl", traits, cfg, None) == []


def test_bad_options_fail_with_one_line():
    with pytest.raises(ConfigError, match="unknown option 'select_epochs'.*did you mean 'select_epoch'"):
        parse_options(["select_epochs"], [GZSLConfig])
    with pytest.raises(ConfigError, match="no alternatives known.*lr=VALUE"):
        parse_options(["lr"], [GZSLConfig])
    assert parse_options(["preset", "lr=0.01", "preset"], [GZSLConfig]) == ["preset", "lr=0.01"]


def test_plan_puts_the_flipped_runs_beside_the_grid():
    plan = plan_sweep(
        "quick",
        models=["mlp3+cn"],
        datasets=["cub"],
        seeds=[1, 2],
        source="synthetic",
        results=Path("/nonexistent/results"),
        ablate=["select_epoch", "seen_logit_scale"],
    )
    base = [j for j in plan.jobs if not j.ablation]
    extra = [j for j in plan.jobs if j.ablation]
    # on CUB the default seen_logit_scale=colab_rule already means 1.0: only 0.95 changes anything
    assert len(base) == 2 and len(extra) == 4
    assert sorted({j.ablation for j in extra}) == ["seen_logit_scale=0.95", "select_epoch=best_test_H"]
    assert len({j.run_id for j in plan.jobs}) == 6
    assert {j.seed for j in extra} == {1, 2}
    assert any("--ablate select_epoch,seen_logit_scale: 4 runs" in n for n in plan.notes)
    skipped = [n for n in plan.notes if n.startswith("--ablate: not planned")]
    assert skipped == [
        "--ablate: not planned, as the flipped run would act with the same setting and measure "
        "nothing: seen_logit_scale=1.0 on cub: the run's seen_logit_scale=colab_rule already "
        "resolves to 1.0 there"
    ]
    without = plan_sweep(
        "quick",
        models=["mlp3+cn"],
        datasets=["cub"],
        seeds=[1, 2],
        source="synthetic",
        results=Path("/nonexistent/results"),
    )
    assert [j.run_id for j in without.jobs] == [j.run_id for j in base]  # the grid's ids do not move
    with pytest.raises(ConfigError, match="changes none of the planned runs"):
        plan_sweep(
            "quick",
            models=["mlp3"],
            datasets=["cub"],
            seeds=[1],
            source="synthetic",
            results=Path("/nonexistent/results"),
            ablate=["cn_denominator"],
        )


def test_a_flip_is_planned_only_where_the_resolved_value_changes():
    cfg = GZSLConfig().to_dict()
    traits = gzsl_traits("mlp3+cn", "sun", "synthetic")
    for ds, kept in (("cub", ["seen_logit_scale=0.95"]), ("sun", ["seen_logit_scale=1.0"])):
        skipped: list[str] = []
        found = flips(["seen_logit_scale"], "gzsl", GZSLConfig, "gzsl", traits, cfg, None, dataset=ds, skipped=skipped)
        assert [f.label for f in found] == kept
        assert len(skipped) == 1 and f" on {ds}: " in skipped[0]
    # a run with a constant factor: both alternatives differ from it
    found = flips(
        ["seen_logit_scale"],
        "gzsl",
        GZSLConfig,
        "gzsl",
        traits,
        {**cfg, "seen_logit_scale": "0.9"},
        None,
        dataset="cub",
    )
    assert [f.label for f in found] == ["seen_logit_scale=1.0", "seen_logit_scale=0.95"]


def test_the_dry_run_prints_each_datasets_data_source(tmp_path):
    from click.testing import CliRunner

    from zslbench.cli import cli

    res = CliRunner().invoke(
        cli,
        [
            "run",
            "--all",
            "--dry-run",
            "--only",
            "gzsl",
            "--models",
            "mlp3+cn",
            "--datasets",
            "cub,sun",
            "--seeds",
            "1",
            "--data",
            "auto",
            "--data-dir",
            str(tmp_path / "none"),
            "--results",
            str(tmp_path / "r"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "data: gzsl cub: SYNTHETIC data (not the real data)" in res.output
    assert "data: gzsl sun: SYNTHETIC data (not the real data)" in res.output


@pytest.mark.slow
def test_sweep_trains_the_flips_and_the_report_shows_their_effect(tmp_path):
    results = tmp_path / "results"
    cmd = [
        sys.executable,
        "-m",
        "zslbench",
        "run",
        "--all",
        "--profile",
        "quick",
        "--models",
        "mlp3+cn",
        "--datasets",
        "cub",
        "--seeds",
        "1,2",
        "--data",
        "synthetic",
        "--results",
        str(results),
        "--set",
        "epochs=2",
        "--set",
        "synthetic_scale=0.05",
        "--ablate",
        "select_epoch",
        "--jobs",
        "2",  # not one worker per core: beside the suite's other workers on a large machine
    ]
    env = dict(os.environ, PYTHONPATH=str(ROOT), ZSLBENCH_DATA="/nonexistent-zslbench-data")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    recs = list(store.iter_records(results, "gzsl"))
    assert sorted(r["config"]["select_epoch"] for r in recs) == ["best_test_H", "best_test_H", "final", "final"]
    index = results / "report" / "index.html"
    assert f"report: {index}" in proc.stderr
    md = (results / "report" / "report.md").read_text(encoding="utf-8")
    section = md.split("## How much each option moves the numbers", 1)[1]
    assert "select_epoch: final → best_test_H" in section
    assert "| mlp3+cn | CUB       | H " in section and "| mlp3+cn | CUB       | AUSUC " in section
