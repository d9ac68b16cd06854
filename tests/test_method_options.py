"""The options of the CZSL methods on the command line: run ids, plans and error lines pinned.

Each plan is the full output of one `zslbench run --all --dry-run` (its run ids, labels and
time estimates) and must stay byte-identical: where a method's options are declared is not
part of any run's identity.  The plans cover the paper grid, and the quick CZSL grid of both
tracks with every method option set away from its default and an ablation of some of them.
Each error case is one `--set` of a method option that must be refused in one line.

Regenerate the stored values (only when a change of identity is intended):
    python tests/test_method_options.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

PLANS = Path(__file__).parent / "fixtures" / "plans"
ERRORS = PLANS / "method_option_errors.json"

METHOD_SETS = [
    "ewc_lambda=3",
    "ewc_gamma=0.5",
    "mas_lambda=0.01",
    "mas_gamma=0.5",
    "importance_data=previous_task",
    "fisher_minmax=none",
    "agem_ref_batch=16",
    "agem_mem_per_class_cub=2",
    "agem_mem_per_class_sun=3",
    "agem_double_memory=false",
    "agem_ref_attrs=seen",
    "agem_ref_grad=clean",
    "multitask_max_iters_cub=7",
    "multitask_max_iters_sun=9",
]
PLAN_CASES = {
    "paper": [],
    "paper-explicit": ["--profile", "paper"],
    "czsl-method-options": [
        "--profile",
        "quick",
        "--only",
        "czsl",
        "--tracks",
        "czsl-features,czsl-images",
        "--seeds",
        "1",
        *[a for item in METHOD_SETS for a in ("--set", item)],
        "--ablate",
        "agem_ref_grad,fisher_minmax,ewc_lambda=1,mas_gamma=0.9",
    ],
}
ONE_RUN = ["run", "--czsl", "--dataset", "cub", "--profile", "quick", "--data", "synthetic"]
ERROR_CASES = {
    "does not act on the method": [*ONE_RUN, "--method", "sequential", "--set", "ewc_lambda=3"],
    "acts with ClassNorm only": [*ONE_RUN, "--method", "agem", "--no-cn", "--set", "agem_ref_attrs=seen"],
    "other dataset": [*ONE_RUN, "--method", "multitask", "--set", "multitask_max_iters_sun=3"],
    "negative": [*ONE_RUN, "--method", "ewc-online", "--set", "ewc_lambda=-1"],
    "not a number": [*ONE_RUN, "--method", "mas-online", "--set", "mas_gamma=lots"],
    "not a choice": [*ONE_RUN, "--method", "agem", "--set", "agem_ref_grad=fresh"],
    "above its bound": [*ONE_RUN, "--method", "agem", "--set", "agem_ref_batch=2000000"],
    "not positive": [*ONE_RUN, "--method", "agem", "--set", "agem_mem_per_class_cub=0"],
    "misspelt": [*ONE_RUN, "--method", "ewc-online", "--set", "ewc_lamda=3"],
    "sweep, nowhere": [
        "run",
        "--all",
        "--dry-run",
        "--only",
        "czsl",
        "--methods",
        "sequential",
        "--set",
        "mas_lambda=1",
    ],
}


def _zsl(args: list[str], results: Path) -> tuple[int, str]:
    """`zslbench ARGS --results RESULTS` in this process: (exit code, stdout + stderr with the
    results folder written as RESULTS)."""
    import contextlib
    import io

    from zslbench.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(
                [*args, "--data", "synthetic", "--results", str(results)]
                if "--all" in args
                else [*args, "--results", str(results)]
            )
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, (out.getvalue() + err.getvalue()).replace(str(results), "RESULTS")


def plan(name: str, results: Path) -> str:
    code, text = _zsl(["run", "--all", "--dry-run", *PLAN_CASES[name]], results)
    assert code == 0, text
    return text


def error_lines(results: Path) -> dict[str, list]:
    return {name: list(_zsl(args, results)) for name, args in ERROR_CASES.items()}


@pytest.mark.parametrize("name", sorted(PLAN_CASES))
def test_the_plan_is_byte_identical(name, tmp_path, monkeypatch):
    monkeypatch.setenv("ZSLBENCH_DATA", str(tmp_path / "data"))
    assert plan(name, tmp_path / "r") == (PLANS / f"{name}.txt").read_text()


def test_a_refused_method_option_says_so_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("ZSLBENCH_DATA", str(tmp_path / "data"))
    want = json.loads(ERRORS.read_text())
    got = error_lines(tmp_path / "r")
    assert sorted(got) == sorted(want)
    for name, (code, text) in got.items():
        assert code == 2 and text.count("\n") == 1 and "Traceback" not in text, (name, text)
        assert [code, text] == want[name], name


# --- the options classes of the built-in methods ------------------------------------------


def _builtin_methods() -> dict:
    from zslbench.train.methods import CZSL_METHODS

    return {n: CZSL_METHODS.get(n) for n in CZSL_METHODS if CZSL_METHODS.get(n).source == "built-in"}


def test_each_builtin_method_registers_the_options_that_act_on_it_alone():
    """A built-in method's options class holds exactly the config fields whose applicability
    rule names that method; every such field belongs to a method."""
    import dataclasses

    from zslbench.applicability import CZSL_ACTS_ON

    owned: dict[str, set] = {}
    for name, cls in _builtin_methods().items():
        declared = {f.name for f in dataclasses.fields(cls.options_cls)} if cls.options_cls else set()
        acting = {k for k, rule in CZSL_ACTS_ON.items() if name in rule.get("method", ())}
        assert declared == acting, name
        for key in declared:
            owned.setdefault(key, set()).add(name)
    ruled = {k for k, rule in CZSL_ACTS_ON.items() if "method" in rule}
    assert set(owned) == ruled and "ewc_lambda" in ruled
    assert owned["importance_data"] == {"ewc-online", "mas-online"}


def test_the_options_class_is_the_configs_fields_and_refuses_what_the_config_refuses():
    import dataclasses

    from zslbench.config import CZSLConfig
    from zslbench.errors import ConfigError

    config = {f.name: f for f in dataclasses.fields(CZSLConfig)}
    for cls in _builtin_methods().values():
        if cls.options_cls is None:
            continue
        assert dataclasses.fields(cls.options_cls)[0].name in config and cls.options_cls.__module__ == cls.__module__
        for f in dataclasses.fields(cls.options_cls):
            assert (f.type, f.default, dict(f.metadata)) == (
                config[f.name].type,
                config[f.name].default,
                dict(config[f.name].metadata),
            )
    ewc, agem = _builtin_methods()["ewc-online"].options_cls, _builtin_methods()["agem"].options_cls
    for cls, bad in (
        (ewc, {"ewc_lambda": -1.0}),
        (agem, {"agem_ref_grad": "fresh"}),
        (agem, {"agem_ref_batch": 10**7}),
    ):
        with pytest.raises(ConfigError) as by_options:
            cls(**bad)
        with pytest.raises(ConfigError) as by_config:
            CZSLConfig(**bad)
        assert str(by_options.value) == str(by_config.value)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ewc().ewc_lambda = 1.0  # type: ignore[misc]


def test_a_builtin_method_is_built_with_the_runs_values(monkeypatch):
    """The trainer gives a built-in method its options from the run's config."""
    import numpy as np

    from zslbench.config import CZSLConfig
    from zslbench.data import load_dataset
    from zslbench.train import czsl
    from zslbench.train.methods import CZSL_METHODS

    built = []
    cls = CZSL_METHODS.get("ewc-online")
    init = cls.__init__

    def spy(self, cfg, settings, options=None):
        built.append(options)
        init(self, cfg, settings, options)

    monkeypatch.setattr(cls, "__init__", spy)
    cfg = CZSLConfig(
        tasks_cub=2,
        epochs_per_task=1,
        synthetic_scale=0.05,
        hidden_dim=8,
        batch_size=256,
        ewc_lambda=3.0,
        fisher_minmax="none",
    )
    data = load_dataset("cub", "synthetic", None, scale=cfg.synthetic_scale)
    result = czsl.train_czsl(data, "ewc-online", cfg, seed=1, classnorm=False)
    assert np.isfinite(result.metrics["mH"])
    assert [(o.ewc_lambda, o.ewc_gamma, o.fisher_minmax) for o in built] == [(3.0, 0.99, "none")]


def test_a_builtin_method_built_without_options_takes_the_configs():
    from zslbench.config import CZSLConfig
    from zslbench.train.methods import CZSL_METHODS

    method = CZSL_METHODS.get("agem")(CZSLConfig(agem_ref_grad="clean"), {})
    assert method.options.agem_ref_grad == "clean" and method.options.agem_ref_batch == 128


def test_a_per_dataset_option_comes_from_the_methods_options():
    from zslbench.config import CZSLConfig
    from zslbench.train.methods import CZSL_METHODS

    cfg = CZSLConfig()
    multitask = CZSL_METHODS.get("multitask")
    options = multitask.options_cls(multitask_max_iters_cub=7, multitask_max_iters_sun=9)
    assert [multitask(cfg, cfg.for_dataset(d), options).max_iters(None) for d in ("cub", "sun")] == [7, 9]
    assert multitask(cfg, cfg.for_dataset("sun")).max_iters(None) == 150


def test_a_builtin_methods_option_by_the_plugin_spelling_is_refused_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("ZSLBENCH_DATA", str(tmp_path / "data"))
    code, text = _zsl([*ONE_RUN, "--method", "ewc-online", "--set", "ewc-online.ewc_lambda=3"], tmp_path / "r")
    assert code == 2 and text.count("\n") == 1, text
    assert "built-in method ewc-online" in text and "ewc_lambda, ewc_gamma, importance_data, fisher_minmax" in text


if __name__ == "__main__":
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ZSLBENCH_DATA"] = str(Path(tmp) / "data")
        PLANS.mkdir(parents=True, exist_ok=True)
        for case in PLAN_CASES:
            (PLANS / f"{case}.txt").write_text(plan(case, Path(tmp) / "r"))
        ERRORS.write_text(json.dumps(error_lines(Path(tmp) / "r"), indent=2, sort_keys=True) + "\n")
    sys.exit(0)
