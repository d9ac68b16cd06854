"""The applicability table (zslbench.applicability) checked against real runs.

For every config field, every GZSL model and every CZSL method (with and without ClassNorm):
- a field the table says acts on the run changes what the run computes (its metrics, losses,
  logits, traces, evaluation batches or loaded data) on a tiny run, and changes its run id;
- a field the table says does not act leaves the run's outputs bit-identical and is left out of
  its id and record config.
"""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np
import pytest

import zslbench.train.czsl as czsl_module
import zslbench.train.gzsl as gzsl_module
from zslbench import store
from zslbench.applicability import (
    TABLES,
    acts,
    config_class,
    czsl_traits,
    gzsl_traits,
    missing_entries,
)
from zslbench.data.features.types import ZSLData
from zslbench.models import MODELS
from zslbench.tracks import get_track
from zslbench.train.czsl import CZSL_METHODS, train_czsl
from zslbench.train.gzsl_kinds import train_any

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.mark.parametrize("kind", ["gzsl", "czsl-features", "czsl-images"])
def test_every_config_field_has_exactly_one_entry(kind):
    missing = missing_entries(kind)
    assert not missing, f"config fields without an entry in applicability.TABLES[{kind!r}]: {missing}"
    names = {f.name for f in dataclasses.fields(config_class(kind))}
    extra = sorted(set(TABLES[kind]) - names)
    assert not extra, f"applicability entries for fields {kind} configs do not have: {extra}"
    for name, rule in TABLES[kind].items():
        for key, allowed in rule.items():
            assert isinstance(allowed, tuple) and allowed, (name, key)


# --------------------------------------------------------------------------- tiny runs
def tiny_data(name: str, source: str = "synthetic") -> ZSLData:
    """6 classes (4 seen, 2 unseen) of 8 to 11 images (unbalanced, so that per-class and
    per-sample accuracies differ), features clustered by class, stored class by class."""
    rng = np.random.default_rng(0)
    counts = np.array([10, 8, 9, 8, 11, 8])
    n_cls = counts.size
    labels = np.repeat(np.arange(n_cls), counts)
    feats = (rng.random((n_cls, 12)) * 2)[labels] + 0.3 * rng.random((labels.size, 12))
    idx = np.arange(labels.size)
    seen = labels < 4
    within = idx - np.repeat(np.cumsum(counts) - counts, counts)
    return ZSLData(
        name=name,
        source=source,
        features=feats.astype(np.float32),
        labels=labels,
        attrs=(rng.random((n_cls, 5)) + 0.1).astype(np.float32),
        trainval_idx=idx[seen & (within < 6)],
        test_seen_idx=idx[seen & (within >= 6)],
        test_unseen_idx=idx[~seen],
        seen_classes=np.arange(4),
        unseen_classes=np.arange(4, 6),
        class_names=tuple(map(str, range(n_cls))),
        vintage="synthetic",
        fingerprint=f"tiny-{name}",
    )


GZSL_BASE = dict(
    epochs=4,
    batch_size=8,
    lr=5e-2,
    lr_step_epochs=1,
    lr_gamma=0.5,
    test_batch_size=16,
    hidden_dim=8,
    synthetic_scale=0.1,
    generative_settings="quick",
)
CZSL_BASE = dict(
    tasks_cub=3,
    tasks_sun=3,
    split_cub="1/0/1",
    split_sun="4/2/2",
    epochs_per_task=2,
    batch_size=8,
    inference_batch_size=16,
    hidden_dim=8,
    multitask_max_iters_cub=2,
    multitask_max_iters_sun=2,
    agem_ref_batch=4,
    agem_mem_per_class_cub=2,
    agem_mem_per_class_sun=2,
    head_lr=0.05,
    embedder_lr=0.05,
    synthetic_scale=0.1,
)

# A value for every field that differs from the base (checked below).
GZSL_PROBE = {
    "epochs": 3,
    "batch_size": 5,
    "lr": 2e-2,
    "weight_decay": 1e-2,
    "lr_step_epochs": 2,
    "lr_gamma": 0.9,
    "test_batch_size": 7,
    "hidden_dim": 6,
    "scale": 3.0,
    "cn_momentum": 0.5,
    "cn_eps": 0.5,
    "select_epoch": "best_test_H",
    "seen_logit_scale": "0.3",
    "cn_denominator": "std",
    "cn_var_unbiased": False,
    "cn_placement": "penultimate_only",
    "cn_affine_first": True,
    "baseline_last_init": "kaiming_relu",
    "attr_norm": "unit",
    "acc_mode": "per_sample",
    "standardize_feats": True,
    "synthetic_scale": 0.2,
    "synthetic_seed": 3,
    "trace": False,
    "threads": 2,
    "cuda_tf32": True,
    "flush_denormal": False,
    "generative_settings": "paper",
}
CZSL_PROBE = {
    "tasks_cub": 2,
    "tasks_sun": 2,
    "split_cub": "2/1/1",
    "split_sun": "5/1/2",
    "image_split_seed": 7,
    "sun_eval_split": "val",
    "epochs_per_task": 1,
    "batch_size": 5,
    "inference_batch_size": 7,
    "head_lr": 0.2,
    "head_momentum": 0.5,
    "embedder_lr": 0.2,
    "embedder_momentum": 0.5,
    "attr_param_group": "embedder",
    "multitask_max_iters_cub": 3,
    "multitask_max_iters_sun": 3,
    "hidden_dim": 6,
    "scale": 4.0,
    "attr_norm": "unit",
    "cn_denominator": "var_colab",
    "cn_var_unbiased": True,
    "cn_momentum": 0.5,
    "cn_eps": 0.5,
    "baseline_last_init": "torch_default",
    "ewc_lambda": 1000.0,
    "ewc_gamma": 0.1,
    "mas_lambda": 10.0,
    "mas_gamma": 0.1,
    "agem_ref_batch": 2,
    "agem_mem_per_class_cub": 1,
    "agem_mem_per_class_sun": 1,
    "mauc_range": "0..T",
    "forgetting_max_rows": "since_learned",
    "importance_data": "previous_task",
    "fisher_minmax": "none",
    "agem_double_memory": False,
    "agem_ref_attrs": "seen",
    "agem_ref_grad": "clean",
    "synthetic_scale": 0.2,
    "synthetic_seed": 3,
    "threads": 2,
    "cuda_tf32": True,
    "flush_denormal": False,
}
PROBES = {"gzsl": GZSL_PROBE, "czsl-features": CZSL_PROBE}
BASES = {"gzsl": GZSL_BASE, "czsl-features": CZSL_BASE}
# Fields that act through the numeric stack rather than through what the run computes: the
# thread count changes the reduction order of some kernels on some machines (MKL's GEMM on
# AVX-512 Intel CPUs) and none on others, so a tiny run may or may not change here.  They act
# on every run, are in every run id, and the runner honours them (tests/test_numerics.py and
# test_reliability.py check that).
NUMERIC_STACK_FIELDS = {"threads"}
# Fields that act only when on, each on one kind of device: cuda_tf32 on CUDA runs (the tiny
# runs here are CPU runs), flush_denormal on CPU runs (on by default), where it changes a run
# only if its numbers reach the subnormal range, which a tiny run need not do.
# tests/test_devices.py and tests/test_flush_denormal.py check their run ids and refusals.
WHEN_ON_FIELDS = {"cuda_tf32", "flush_denormal"}
# Second bases that flip the config-value conditions of the table.
ALT_BASES = {"gzsl": {"cn_placement": "penultimate_only"}, "czsl-features": {"attr_param_group": "embedder"}}


@pytest.mark.parametrize("kind", ["gzsl", "czsl-features"])
def test_probes_cover_every_field_with_a_different_value(kind):
    cls = config_class(kind)
    base = cls(**BASES[kind]).to_dict()
    assert set(PROBES[kind]) == set(base)
    for name, value in PROBES[kind].items():
        assert value != base[name], name
        cls(**{**BASES[kind], name: value})  # a valid value


def _data_loader_calls(kind: str, dataset: str, source: str, cfg) -> tuple:
    """What the run's data depends on: load_for_run's call to the synthetic generator (scale,
    seed), or to the xlsa17 reader, whose signature has neither."""
    from zslbench.data.features.xlsa17 import load_xlsa17

    if source == "xlsa17":
        assert not {"scale", "seed", "synthetic_seed"} & set(inspect.signature(load_xlsa17).parameters)
        return ("xlsa17", dataset)
    from zslbench.data.features.synthetic import synthetic_fingerprint

    return ("synthetic", synthetic_fingerprint(dataset, cfg.synthetic_scale, cfg.synthetic_seed))


def _spy_batches(monkeypatch, module) -> list:
    sizes: list[int] = []
    original = module.predict_logits

    def spy(model, attrs, x, gamma, batch_size, **kwargs):
        sizes.append(batch_size)
        return original(model, attrs, x, gamma, batch_size, **kwargs)

    monkeypatch.setattr(module, "predict_logits", spy)
    return sizes


def _outputs(kind: str, run: tuple, cfg, seed: int, monkeypatch) -> tuple:
    """Everything a tiny run computes, as comparable values."""
    name, classnorm, dataset, source = run
    data = tiny_data(dataset, source)
    if kind == "gzsl":
        sizes = _spy_batches(monkeypatch, gzsl_module)
        res = train_any(data, name, cfg, seed, progress=False)  # a model of any kind
        trace = res.trace.to_numpy(dtype=float).tobytes() if len(res.trace) else b""
        return (
            res.metrics,
            res.final_metrics,
            res.oracle_metrics,
            res.selected_epoch,
            res.epoch_log,
            trace,
            tuple(sizes),
            res.n_parameters,
            _data_loader_calls(kind, dataset, source, cfg),
        )
    sizes = _spy_batches(monkeypatch, czsl_module)
    # the metric options reach the metric functions (on a tiny run the forgetting's rows before a
    # task was learned rarely hold its maximum, so its value often cannot show the option)
    metric_args: list = []
    for fn in ("czsl_scores", "czsl_steps"):
        original = getattr(czsl_module, fn)

        def spy(*args, _original=original, **kwargs):
            metric_args.append(tuple(a for a in args if isinstance(a, str)))
            return _original(*args, **kwargs)

        monkeypatch.setattr(czsl_module, fn, spy)
    res = train_czsl(data, name, cfg, seed, classnorm=classnorm, progress=False, keep_logits=True)
    log = [{k: v for k, v in row.items() if k != "seconds"} for row in res.task_log]
    return (
        res.metrics,
        res.logits_history.tobytes(),
        log,
        res.method_summary,
        tuple(sizes),
        res.n_parameters,
        res.eval_split,
        tuple(metric_args),
        _data_loader_calls(kind, dataset, source, cfg),
    )


def _identity(kind: str, run: tuple, cfg) -> dict:
    name, classnorm, dataset, source = run
    if kind == "gzsl":
        return get_track("gzsl").identity(name, None, dataset, source, "fp", 1, cfg)
    return get_track("czsl-features").identity(name, classnorm, dataset, source, "fp", 1, cfg)


def _traits(kind: str, run: tuple) -> dict:
    name, classnorm, dataset, source = run
    return gzsl_traits(name, dataset, source) if kind == "gzsl" else czsl_traits(name, classnorm, dataset, source)


def _runs(kind: str) -> list[tuple]:
    if kind == "gzsl":
        return [(m, None, "cub", "synthetic") for m in MODELS]
    return [(m, cn, "cub", "synthetic") for m in CZSL_METHODS for cn in (False, True)]


def _dataset_dependent(kind: str) -> set[str]:
    return {n for n, rule in TABLES[kind].items() if "dataset" in rule}


def _condition_dependent(kind: str) -> set[str]:
    names = {f.name for f in dataclasses.fields(config_class(kind))}
    return {n for n, rule in TABLES[kind].items() if set(rule) & names}


def _cases(kind: str):
    """(run, base overrides, fields to probe): every field on every run on CUB; the
    dataset-dependent fields on SUN too; the condition-dependent ones on the alternative base;
    the source-dependent ones on xlsa17 (identity only: no files here)."""
    fields_all = list(PROBES[kind])
    for run in _runs(kind):
        yield run, {}, fields_all
        name, cn, _, _ = run
        yield (name, cn, "sun", "synthetic"), {}, sorted(_dataset_dependent(kind))
        yield run, ALT_BASES[kind], sorted(_condition_dependent(kind))


def _case_id(kind: str, run: tuple, alt: dict) -> str:
    return f"{kind}-{run[0]}{'' if run[1] is None else ('+cn' if run[1] else '-cn')}-{run[2]}{'-alt' if alt else ''}"


CASES = [(kind, run, alt, names) for kind in ("gzsl", "czsl-features") for run, alt, names in _cases(kind)]


def test_the_cases_cover_every_model_method_and_field():
    for kind in ("gzsl", "czsl-features"):
        runs = {(run[0], run[1]) for k, run, _, _ in CASES if k == kind}
        assert runs == {(r[0], r[1]) for r in _runs(kind)}
        probed = {n for k, _, _, names in CASES if k == kind for n in names}
        assert probed == set(TABLES[kind])


@pytest.mark.slow
@pytest.mark.parametrize("kind, run, alt, names", CASES, ids=[_case_id(c[0], c[1], c[2]) for c in CASES])
def test_every_field_acts_exactly_where_the_table_says(kind, run, alt, names, monkeypatch):
    cls = config_class(kind)
    checked = {"acts": 0, "inert": 0, "when_on": 0}
    base_values = {**BASES[kind], **alt}
    base = cls(**base_values)
    traits = _traits(kind, run)
    base_id = store.make_run_id(_identity(kind, run, base))
    outputs_base = {1: _outputs(kind, run, base, 1, monkeypatch)}
    for name in names:
        if name in WHEN_ON_FIELDS:
            checked["when_on"] += 1
            continue
        probe = cls(**{**base_values, name: PROBES[kind][name]})
        probe_identity = _identity(kind, run, probe)
        where = f"{kind} field {name} on {run} (base {alt or 'default'})"
        if acts(kind, name, traits, base):
            checked["acts"] += 1
            assert name in probe_identity["config"], where
            assert store.make_run_id(probe_identity) != base_id, where
            if name in NUMERIC_STACK_FIELDS:
                continue
            # acts: some tiny run computes something else (a few seeds, for the fields
            # whose effect depends on the run, e.g. which epoch has the best test H)
            for seed in (1, 2, 3, 4):
                if seed not in outputs_base:
                    outputs_base[seed] = _outputs(kind, run, base, seed, monkeypatch)
                if _outputs(kind, run, probe, seed, monkeypatch) != outputs_base[seed]:
                    break
            else:
                pytest.fail(f"{where}: the table says it acts, but no tiny run changed")
        else:
            checked["inert"] += 1
            assert name not in probe_identity["config"], where
            assert store.make_run_id(probe_identity) == base_id, where
            assert _outputs(kind, run, probe, 1, monkeypatch) == outputs_base[1], (
                f"{where}: the table says it does not act, but the run changed"
            )
    assert checked["acts"] + checked["inert"] + checked["when_on"] == len(names)


@pytest.mark.parametrize("kind", ["gzsl", "czsl-features"])
def test_synthetic_data_options_do_not_act_on_xlsa17_runs(kind):
    cls = config_class(kind)
    run = (_runs(kind)[0][0], _runs(kind)[0][1], "cub", "xlsa17")
    base = cls(**BASES[kind])
    for name in ("synthetic_scale", "synthetic_seed"):
        probe = cls(**{**BASES[kind], name: PROBES[kind][name]})
        assert not acts(kind, name, _traits(kind, run), base)
        assert _identity(kind, run, probe) == _identity(kind, run, base)
        assert _data_loader_calls(kind, "cub", "xlsa17", probe) == _data_loader_calls(kind, "cub", "xlsa17", base)
        synthetic = (run[0], run[1], "cub", "synthetic")
        assert _identity(kind, synthetic, probe) != _identity(kind, synthetic, base)
