"""Continual ZSL on the features track: splits, config, method mechanics, end-to-end runs."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import torch

import zslbench.models
from support import zsl_in_process
from zslbench.applicability import acts, czsl_traits
from zslbench.config import CZSLConfig, parse_overrides
from zslbench.data.features.synthetic import make_synthetic
from zslbench.data.features.types import ZSLData
from zslbench.errors import ConfigError, DataError
from zslbench.registry import Registry
from zslbench.tracks import execute_run, get_track, make_config
from zslbench.tracks.czsl import read_acc_matrix, read_steps
from zslbench.train.czsl import CZSL_METHODS, _make_state, build_czsl_head, prepare_czsl, train_task
from zslbench.train.czsl_splits import image_split, per_class_counts, task_sizes, task_split
from zslbench.train.methods.agem import agem_project, agem_project_, sample_per_class
from zslbench.train.methods.base import CZSLMethod, position_logits, register
from zslbench.train.methods.importance import (
    OnlineRegularizer,
    add_penalty_grad,
    compute_importance,
    quadratic_penalty,
)

METHODS = ["sequential", "multitask", "ewc-online", "mas-online", "agem"]

FEATURES = get_track("czsl-features")

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


# ---------------------------------------------------------------------------- splits, config
def test_task_sizes_follow_the_protocol():
    assert task_sizes(200, 10) == [20] * 10
    assert task_sizes(717, 15) == [47, 47, 47] + [48] * 12


def test_task_split_is_a_seeded_permutation_cut_into_chunks():
    tasks = task_split(717, 15, seed=1)
    flat = np.concatenate(tasks)
    np.testing.assert_array_equal(flat, np.random.RandomState(1).permutation(717))
    assert [len(t) for t in tasks] == task_sizes(717, 15)
    assert not np.array_equal(flat, np.concatenate(task_split(717, 15, seed=2)))


def test_image_split_partitions_every_class_in_the_given_proportions():
    labels = np.random.default_rng(0).permutation(np.repeat(np.arange(30), 20))
    split = image_split(labels, 30, (10, 5, 5), seed=42)
    parts = [split.train, split.val, split.test]
    np.testing.assert_array_equal(np.sort(np.concatenate(parts)), np.arange(labels.size))
    for part, k in zip(parts, (10, 5, 5)):
        assert (np.bincount(labels[part], minlength=30) == k).all()
    again = image_split(labels, 30, (10, 5, 5), seed=42)
    np.testing.assert_array_equal(again.test, split.test)
    assert not np.array_equal(image_split(labels, 30, (10, 5, 5), seed=7).test, split.test)
    # CUB: about half and half, no val part
    n_train, n_val, n_test = per_class_counts(np.array([59, 60, 2]), (1, 0, 1))
    assert n_train.tolist() == [30, 30, 1] and n_val.tolist() == [0, 0, 0] and n_test.tolist() == [29, 30, 1]
    with pytest.raises(DataError, match="class 1 has 2 image"):
        image_split(np.array([0, 0, 0, 1, 1]), 2, (10, 5, 5), seed=0)


def test_czsl_config_defaults_profiles_and_validation():
    cfg = CZSLConfig()
    assert (cfg.hidden_dim, cfg.scale, cfg.batch_size, cfg.epochs_per_task) == (256, 10.0, 32, 10)
    assert cfg.for_dataset("cub")["num_tasks"] == 10 and cfg.for_dataset("sun")["num_tasks"] == 15
    assert cfg.for_dataset("sun")["multitask_max_iters"] == 150
    assert cfg.for_dataset("cub")["agem_mem_per_class"] == 10
    quick = make_config("czsl-features", "quick")
    assert (quick.epochs_per_task, quick.synthetic_scale, quick.head_lr) == (1, 0.2, 0.03)
    assert quick.for_dataset("sun")["multitask_max_iters"] == 10
    with pytest.raises(ConfigError, match="awa1"):
        cfg.for_dataset("awa1")
    with pytest.raises(ConfigError, match="mauc_range"):
        CZSLConfig(mauc_range="all")
    with pytest.raises(ConfigError, match="split_sun"):
        CZSLConfig(split_sun="10/5")
    with pytest.raises(ConfigError, match="tasks_cub"):
        CZSLConfig(tasks_cub=1)
    with pytest.raises(ConfigError, match="ewc_gamma"):
        make_config("czsl-features", "paper", parse_overrides(CZSLConfig, ["ewc_gamma=-0.5"]))
    assert parse_overrides(CZSLConfig, ["agem_double_memory=false", "mas_lambda=1e-3"]) == {
        "agem_double_memory": False,
        "mas_lambda": 1e-3,
    }


def test_method_registry_names_and_duplicates():
    assert list(CZSL_METHODS) == METHODS
    assert all(CZSL_METHODS.get(m).description for m in METHODS)

    class Again(CZSLMethod):
        name = "agem"

    with pytest.raises(ValueError, match="already registered"):
        register(Again)
    assert isinstance(CZSL_METHODS, Registry)


def test_head_architecture_and_init():
    cfg = CZSLConfig()
    cn = build_czsl_head(312, 2048, cfg, classnorm=True)
    plain = build_czsl_head(312, 2048, cfg, classnorm=False)
    assert [type(m).__name__ for m in cn.body] == ["Linear", "ReLU", "ClassStandardization"]
    assert [type(m).__name__ for m in plain.body] == ["Linear", "ReLU"]
    assert cn.body[0].out_features == 256 and cn.last.out_features == 2048
    # Eq. (10): U(-b, b), b = sqrt(3 / (256 * 2048)); kaiming: b = sqrt(6 / 256)
    assert cn.last.weight.abs().max() <= (3 / (256 * 2048)) ** 0.5
    assert plain.last.weight.abs().max() > 0.5 * (6 / 256) ** 0.5


# ---------------------------------------------------------------------------- A-GEM
@pytest.mark.parametrize("seed", range(20))
def test_agem_projection_never_points_against_the_reference(seed):
    gen = torch.Generator().manual_seed(seed)
    g, g_ref = torch.randn(50, generator=gen, dtype=torch.float64), torch.randn(50, generator=gen, dtype=torch.float64)
    out = agem_project(g, g_ref)
    assert torch.dot(out, g_ref) >= -1e-10
    if torch.dot(g, g_ref) >= 0:
        assert torch.equal(out, g)
    else:
        assert torch.dot(out, g_ref) == pytest.approx(0.0, abs=1e-10)
        diff = g - out  # only the component along g_ref was removed
        assert torch.allclose(diff, (torch.dot(diff, g_ref) / torch.dot(g_ref, g_ref)) * g_ref)


def test_agem_projection_keeps_an_agreeing_gradient():
    g_ref = torch.tensor([1.0, 0.0])
    g = torch.tensor([0.5, 3.0])
    assert torch.equal(agem_project(g, g_ref), g)
    np.testing.assert_allclose(agem_project(torch.tensor([-2.0, 3.0]), g_ref).numpy(), [0.0, 3.0])


@pytest.mark.parametrize("seed", range(6))
def test_agem_in_place_projection_per_tensor_equals_the_flat_projection(seed):
    gen = torch.Generator().manual_seed(seed)
    shapes = [(3, 4), (4,), (5, 2)]
    grads = [torch.randn(s, generator=gen) for s in shapes]
    refs = [torch.randn(s, generator=gen) for s in shapes]
    flat = agem_project(torch.cat([g.reshape(-1) for g in grads]), torch.cat([r.reshape(-1) for r in refs]))
    before = [g.clone() for g in grads]
    projected = agem_project_(grads, refs)
    torch.testing.assert_close(torch.cat([g.reshape(-1) for g in grads]), flat)
    assert projected == (not all(torch.equal(a, b) for a, b in zip(before, grads)))


def test_agem_memory_takes_k_distinct_items_per_class():
    labels = torch.tensor([0] * 7 + [1] * 3 + [2] * 12)
    idx = sample_per_class(labels, 5, torch.Generator().manual_seed(0))
    assert idx.unique().numel() == idx.numel()
    assert torch.bincount(labels[idx]).tolist() == [5, 3, 5]


# ---------------------------------------------------------------------------- EWC / MAS
def _tiny_importance_problem():
    torch.manual_seed(0)
    model = build_czsl_head(6, 8, CZSLConfig(hidden_dim=5), classnorm=True)
    attrs = torch.rand(7, 6)
    x = torch.rand(20, 8)

    def logits_fn(xb):  # logits over all 7 classes, restricted to the "previous task" 2..4
        return zslbench.models.scaled_cosine(xb, model(attrs), 10.0)[:, 2:5]

    return model, list(model.parameters()), logits_fn, x


@pytest.mark.parametrize(
    "kind, minmax", [("fisher", "trainable_only"), ("fisher", "code"), ("fisher", "none"), ("mas", "none")]
)
def test_importances_are_non_negative(kind, minmax):
    model, params, logits_fn, x = _tiny_importance_problem()
    model.train()
    omega = compute_importance(model, params, logits_fn, x, None, kind, batch_size=6, minmax=minmax)
    flat = torch.cat([o.reshape(-1) for o in omega])
    assert (flat >= 0).all() and flat.max() > 0
    assert [o.shape for o in omega] == [p.shape for p in params]
    if minmax == "trainable_only":
        assert flat.min() == 0 and flat.max() == pytest.approx(1.0)
    assert model.training  # the eval-mode pass restores the mode


def test_fisher_minmax_code_divides_by_the_maximum():
    # The code's minimum runs over every parameter, including a frozen one whose Fisher is 0:
    # in effect (F - 0) / (max - 0).  "trainable_only" subtracts the trainable minimum first.
    torch.manual_seed(0)
    model = torch.nn.Linear(8, 3)  # no ReLU: every weight has a non-zero Fisher
    params = list(model.parameters())
    x = torch.rand(20, 8)
    logits_fn = model
    raw = compute_importance(model, params, logits_fn, x, None, "fisher", batch_size=6, minmax="none")
    flat = torch.cat([r.reshape(-1) for r in raw])
    assert flat.min() > 0  # so that the two normalisations differ
    code = compute_importance(model, params, logits_fn, x, None, "fisher", batch_size=6, minmax="code")
    trainable = compute_importance(model, params, logits_fn, x, None, "fisher", batch_size=6, minmax="trainable_only")
    frozen = torch.zeros(4)  # the Fisher of a frozen parameter, as the code's attribute matrix
    with_frozen = torch.cat([flat, frozen])
    code_minmax = (with_frozen - with_frozen.min()) / (with_frozen.max() - with_frozen.min())
    for c, t, r in zip(code, trainable, raw):
        torch.testing.assert_close(c, r / flat.max())
        torch.testing.assert_close(t, (r - flat.min()) / (flat.max() - flat.min()))
    torch.testing.assert_close(torch.cat([c.reshape(-1) for c in code]), code_minmax[: flat.numel()])
    assert not torch.allclose(torch.cat([c.reshape(-1) for c in code]), torch.cat([t.reshape(-1) for t in trainable]))


def test_fisher_with_labels_outside_the_mask_is_the_code_s_gradient():
    # The code's CE with labels outside the previous task's classes is infinite, but its
    # gradient is finite: it must equal what compute_importance uses.
    model, params, logits_fn, x = _tiny_importance_problem()
    omega = compute_importance(model, params, logits_fn, x, None, "fisher", batch_size=20)
    model.eval()
    logits = logits_fn(x)
    padded = torch.cat([logits, torch.full((20, 1), float("-inf"))], dim=1)  # label column masked
    loss = torch.nn.functional.cross_entropy(padded, torch.full((20,), 3))
    assert torch.isinf(loss)
    grads = torch.autograd.grad(loss, params)
    for o, g in zip(omega, grads):
        torch.testing.assert_close(o, g.pow(2) / 20, rtol=1e-4, atol=1e-6)


def test_penalty_is_zero_at_the_anchor_and_grows_with_distance():
    params = [torch.nn.Parameter(torch.randn(3, 4)), torch.nn.Parameter(torch.randn(5))]
    omega = [torch.rand(3, 4), torch.rand(5)]
    anchor = [p.detach().clone() for p in params]
    assert quadratic_penalty(params, omega, anchor, 10.0) == 0
    step = [torch.randn_like(p) for p in params]
    values = []
    for scale in (0.5, 1.0, 2.0):
        moved = [torch.nn.Parameter(a + scale * s) for a, s in zip(anchor, step)]
        values.append(float(quadratic_penalty(moved, omega, anchor, 10.0).detach()))
    assert 0 < values[0] < values[1] < values[2]
    assert values[2] == pytest.approx(4 * values[1]) and values[1] == pytest.approx(4 * values[0])


def test_penalty_gradient_added_after_backward_equals_autograd_of_the_penalty():
    torch.manual_seed(1)
    params = [torch.nn.Parameter(torch.randn(3, 4)), torch.nn.Parameter(torch.randn(5))]
    omega = [torch.rand(3, 4), torch.rand(5)]
    anchor = [p.detach() + 0.3 * torch.randn_like(p) for p in params]
    expected = torch.autograd.grad(quadratic_penalty(params, omega, anchor, 10.0), params)
    add_penalty_grad(params, omega, anchor, 10.0)  # .grad None: starts from zero
    for p, e in zip(params, expected):
        torch.testing.assert_close(p.grad, e)
    add_penalty_grad(params, omega, anchor, 10.0)  # adds to an existing gradient
    for p, e in zip(params, expected):
        torch.testing.assert_close(p.grad, 2 * e)


def test_position_logits_keep_equals_the_first_columns_of_the_full_logits():
    data = _id_data()
    cfg = CZSLConfig(tasks_cub=4, hidden_dim=8)
    setup = prepare_czsl(data, cfg, seed=0)
    state = _make_state(data, setup, cfg, build_czsl_head(5, 16, cfg, True), torch.device("cpu"), 0)
    x = state.train_x[:7]
    full = position_logits(state, x, 8)  # train mode: CN statistics over all 8 classes
    grads_full = torch.autograd.grad(full[:, :4].logsumexp(1).sum(), state.params())
    part = position_logits(state, x, 8, keep=4)
    assert part.shape == (7, 4)
    torch.testing.assert_close(part, full[:, :4])
    grads_part = torch.autograd.grad(part.logsumexp(1).sum(), state.params())
    for a, b in zip(grads_full, grads_part):
        torch.testing.assert_close(a, b)
    # a different set of classes in the body changes the CN statistics, hence the logits
    assert not torch.allclose(position_logits(state, x, 4), part)


def test_online_accumulation_uses_the_decay():
    reg = CZSL_METHODS.get("ewc-online")(CZSLConfig(ewc_gamma=0.9), {})
    assert isinstance(reg, OnlineRegularizer)
    a, b, c = torch.tensor([1.0, 2.0]), torch.tensor([0.5, 0.0]), torch.tensor([0.0, 1.0])
    reg.accumulate([a])
    torch.testing.assert_close(reg.omega[0], a)
    reg.accumulate([b])
    torch.testing.assert_close(reg.omega[0], 0.9 * a + b)
    reg.accumulate([c])
    torch.testing.assert_close(reg.omega[0], 0.9 * (0.9 * a + b) + c)


@pytest.mark.parametrize("name, lam, decay", [("ewc-online", 10.0, 0.99), ("mas-online", 1e-4, 0.95)])
def test_method_settings_come_from_the_config(name, lam, decay):
    method = CZSL_METHODS.get(name)(CZSLConfig(), {})
    assert (method.lam, method.decay) == (lam, decay)


# ---------------------------------------------------------------------------- which data
def _id_data(n_classes=8, per_class=6) -> ZSLData:
    """A tiny dataset whose feature column 0 is the image index, to see which images trained."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(n_classes), per_class)
    feats = rng.random((labels.size, 16)).astype(np.float32)
    feats[:, 0] = np.arange(labels.size)
    idx = np.arange(labels.size)
    return ZSLData(
        name="cub",
        source="synthetic",
        features=feats,
        labels=labels,
        attrs=rng.random((n_classes, 5)).astype(np.float32),
        trainval_idx=idx,
        test_seen_idx=idx[:0],
        test_unseen_idx=idx[:0],
        seen_classes=np.arange(n_classes),
        unseen_classes=np.arange(0),
        class_names=tuple(map(str, range(n_classes))),
        vintage="synthetic",
        fingerprint="ids",
    )


@pytest.mark.parametrize("name", ["sequential", "multitask"])
def test_sequential_trains_on_task_t_only_and_multitask_on_tasks_up_to_t(name, monkeypatch):
    data = _id_data()
    cfg = CZSLConfig(tasks_cub=4, epochs_per_task=2, batch_size=4, hidden_dim=8)
    setup = prepare_czsl(data, cfg, seed=3)
    model = build_czsl_head(5, 16, cfg, classnorm=True)
    state = _make_state(data, setup, cfg, model, torch.device("cpu"), 3)
    method = CZSL_METHODS.get(name)(cfg, setup.settings)
    seen_rows: list[torch.Tensor] = []
    original = zslbench.models.scaled_cosine

    def spy(feats, protos, gamma):
        seen_rows.append(feats[:, 0].detach().clone())
        return original(feats, protos, gamma)

    monkeypatch.setattr(zslbench.models, "scaled_cosine", spy)
    train_images = set(setup.images.train.tolist())
    for t in range(4):
        seen_rows.clear()
        row = train_task(state, method, t)
        used = torch.cat(seen_rows).long().tolist()
        classes = np.concatenate(setup.tasks[: t + 1] if name == "multitask" else [setup.tasks[t]])
        expected = {i for i in train_images if data.labels[i] in set(classes.tolist())}
        assert set(used) == expected, t
        assert len(used) == 2 * len(expected)  # two epochs, each image once per epoch
        assert row["train_images"] == len(expected)


@pytest.mark.parametrize("double", [True, False])
@pytest.mark.parametrize("ref_attrs", ["all_code", "seen"])
def test_agem_memory_and_reference_pass(double, ref_attrs, monkeypatch):
    import zslbench.train.methods.agem as agem_module

    data = _id_data()
    cfg = CZSLConfig(
        tasks_cub=4,
        epochs_per_task=1,
        batch_size=4,
        hidden_dim=8,
        agem_mem_per_class_cub=2,
        agem_double_memory=double,
        agem_ref_attrs=ref_attrs,
        agem_ref_batch=5,
    )
    setup = prepare_czsl(data, cfg, seed=0)
    state = _make_state(data, setup, cfg, build_czsl_head(5, 16, cfg, True), torch.device("cpu"), 0)
    method = CZSL_METHODS.get("agem")(cfg, setup.settings)
    calls = []
    original = agem_module.position_logits

    def spy(st, x, n_cols, **kw):
        calls.append((x.shape[0], n_cols))
        return original(st, x, n_cols, **kw)

    monkeypatch.setattr(agem_module, "position_logits", spy)
    train_task(state, method, 0)
    assert calls == []  # no memory yet during the first task
    mem = method.memory
    # 2 classes x min(2, 3 training images) per draw
    assert mem.numel() == (8 if double else 4)
    assert set(state.train_task[mem].tolist()) == {0}
    row = train_task(state, method, 1)
    assert len(calls) == row["iterations"] > 0
    assert {c[0] for c in calls} == {min(5, mem.numel())}  # min(agem_ref_batch, |M|)
    assert {c[1] for c in calls} == {8 if ref_attrs == "all_code" else 4}  # all 8 classes or tasks <= 2
    assert method.summary()["steps_with_memory"] == row["iterations"]


def test_multitask_steps_are_capped_per_task():
    data = _id_data()
    cfg = CZSLConfig(tasks_cub=4, epochs_per_task=5, batch_size=2, hidden_dim=8, multitask_max_iters_cub=3)
    setup = prepare_czsl(data, cfg, seed=3)
    state = _make_state(data, setup, cfg, build_czsl_head(5, 16, cfg, True), torch.device("cpu"), 3)
    method = CZSL_METHODS.get("multitask")(cfg, setup.settings)
    assert [train_task(state, method, t)["iterations"] for t in range(4)] == [3, 3, 3, 3]


# ---------------------------------------------------------------------------- end to end
# Tiny settings so that the 10 runs stay fast; the protocol (10 tasks of 20 classes, the
# per-class image split, T+1 snapshots) is unchanged.
TINY = {
    "epochs_per_task": 1,
    "synthetic_scale": 0.1,
    "hidden_dim": 32,
    "multitask_max_iters_cub": 8,
    "agem_ref_batch": 32,
    "agem_mem_per_class_cub": 2,
}


@pytest.mark.slow
@pytest.mark.parametrize("classnorm", [True, False], ids=["cn", "no-cn"])
@pytest.mark.parametrize("method", METHODS)
def test_every_method_writes_a_complete_record_on_synthetic_cub(method, classnorm, tmp_path):
    out = execute_run(
        FEATURES,
        method,
        "cub",
        seed=1,
        classnorm=classnorm,
        profile="quick",
        source="synthetic",
        results=tmp_path,
        overrides=TINY,
        progress=False,
    )
    folder = out.path
    assert (folder / "done").exists() and not out.skipped
    rec = json.loads((folder / "record.json").read_text())
    for key in (
        "run_id",
        "kind",
        "track",
        "method",
        "classnorm",
        "dataset",
        "data_source",
        "data_fingerprint",
        "seed",
        "profile",
        "config",
        "metrics",
        "train_seconds",
        "task_seconds",
        "env",
        "created_at",
        "class_split",
        "image_split",
        "non_default_options",
    ):
        assert key in rec, key
    assert (rec["kind"], rec["track"], rec["method"], rec["classnorm"]) == ("czsl", "features", method, classnorm)
    assert "features track" in rec["track_note"] and rec["data_source"] == "synthetic"
    m = rec["metrics"]
    for key in ("mAUC", "mH", "mJA"):
        assert 0.0 <= m[key] <= 100.0
    assert -1.0 <= m["forgetting"] <= 1.0
    assert sorted(c for task in rec["class_split"] for c in task) == list(range(200))
    assert [len(t) for t in rec["class_split"]] == [20] * 10 and len(rec["task_seconds"]) == 10
    split = json.loads((folder / "image_split.json").read_text())
    assert len(split["train"]) + len(split["test"]) == rec["data_summary"]["images"]
    full = make_config("czsl-features", "quick", TINY).to_dict()
    traits = czsl_traits(method, classnorm, "cub", "synthetic")
    assert rec["config"] == {k: v for k, v in full.items() if acts("czsl-features", k, traits, full)}
    assert "tasks_sun" not in rec["config"] and ("cn_momentum" in rec["config"]) == classnorm
    assert rec["preset"] == "code"
    steps = read_steps(folder)
    assert steps["t"].tolist() == list(range(11))
    assert m["mJA"] == pytest.approx(100 * steps["JA"][1:].mean())
    assert m["mH"] == pytest.approx(100 * steps["H"][1:10].mean())
    acc = read_acc_matrix(folder)
    assert acc.shape == (10, 10) and ((0 <= acc) & (acc <= 1)).all()
    tasks = pd.read_csv(folder / "tasks.csv")
    assert tasks["task"].tolist() == list(range(1, 11))
    if method == "multitask" and classnorm:
        assert m["mJA"] > 3 * 100 / 200  # learns: chance is 0.5%
    if method == "agem":  # after every task, two draws of min(2, n) training images per class
        labels = make_synthetic("cub", scale=TINY["synthetic_scale"]).labels
        per_class = np.bincount(labels[split["train"]], minlength=200)
        assert rec["method_summary"]["memory_size"] == 2 * np.minimum(per_class, 2).sum()
    # a done run is skipped
    again = execute_run(
        FEATURES,
        method,
        "cub",
        seed=1,
        classnorm=classnorm,
        profile="quick",
        source="synthetic",
        results=tmp_path,
        overrides=TINY,
        progress=False,
    )
    assert again.skipped and again.run_id == out.run_id


@pytest.mark.slow
def test_same_seed_same_numbers_other_seed_other_task_order(tmp_path):
    a = execute_run(
        FEATURES,
        "sequential",
        "cub",
        seed=1,
        profile="quick",
        source="synthetic",
        results=tmp_path / "a",
        overrides=TINY,
        progress=False,
    )
    b = execute_run(
        FEATURES,
        "sequential",
        "cub",
        seed=1,
        profile="quick",
        source="synthetic",
        results=tmp_path / "b",
        overrides=TINY,
        progress=False,
    )
    c = execute_run(
        FEATURES,
        "sequential",
        "cub",
        seed=2,
        profile="quick",
        source="synthetic",
        results=tmp_path / "a",
        overrides=TINY,
        progress=False,
    )
    assert a.run_id == b.run_id and a.record["metrics"] == b.record["metrics"]
    assert (a.path / "steps.csv").read_text() == (b.path / "steps.csv").read_text()
    assert c.run_id != a.run_id and c.record["class_split"] != a.record["class_split"]
    assert c.record["image_split"]["sha256"] == a.record["image_split"]["sha256"]  # images: fixed seed


@pytest.mark.slow
def test_sun_run_records_its_split_and_the_quirk_options(tmp_path):
    overrides = {
        "epochs_per_task": 1,
        "synthetic_scale": 0.15,
        "hidden_dim": 32,
        "agem_double_memory": False,
        "sun_eval_split": "val",
    }
    out = execute_run(
        FEATURES,
        "sequential",
        "sun",
        seed=2,
        profile="quick",
        source="synthetic",
        results=tmp_path,
        overrides=overrides,
        progress=False,
    )
    rec = out.record
    assert [len(t) for t in rec["class_split"]] == [47, 47, 47] + [48] * 12
    # agem_double_memory does not act on sequential: it is left out of the config
    assert rec["non_default_options"] == {"sun_eval_split": "val"}
    assert "agem_double_memory" not in rec["config"] and rec["config"]["sun_eval_split"] == "val"
    counts = rec["image_split"]["counts"]
    # 3-4 images per class at this scale: one val and one test image each
    assert rec["image_split"]["eval_split"] == "val" and counts["val"] == counts["test"] == 717
    assert read_acc_matrix(out.path).shape == (15, 15) and len(read_steps(out.path)) == 16


def test_cli_czsl_run_and_errors(tmp_path, capsys):
    def zsl(*args):
        return zsl_in_process(capsys, *args)

    code, _, err = zsl("run", "--czsl", "--method", "agem", "--dataset", "awa2")
    assert code == 2 and err.count("\n") == 1 and "awa2" in err and "cub" in err
    code, _, err = zsl("run", "--czsl", "--method", "agem", "--dataset", "cub", "--set", "fisher_minmx=1")
    assert code == 2 and err.count("\n") == 1 and "fisher_minmax" in err
    code, _, err = zsl("run", "--method", "agem", "--dataset", "cub")
    assert code == 2 and "--czsl" in err
    tiny = {k: v for k, v in TINY.items() if not k.startswith(("multitask_", "agem_"))}
    sets = [item for k, v in tiny.items() for item in ("--set", f"{k}={v}")]
    base = (
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
        "--results",
        str(tmp_path),
    )
    # an option that does not act on the run is refused, naming it and the method
    for extra, named in (
        (("--set", "agem_ref_grad=clean"), "method sequential"),
        (("--set", "cn_momentum=0.2"), "without ClassNorm"),
        (("--set", "tasks_sun=5"), "dataset cub"),
    ):
        code, _, err = zsl(*base, *sets, *extra)
        assert code == 2 and err.count("\n") == 1 and extra[1].split("=")[0] in err and named in err, err
    assert not (tmp_path / "runs").exists()
    code, out, err = zsl(*base, *sets)
    assert code == 0, err
    assert "features track" in out and "mAUC=" in out
    (run,) = (tmp_path / "runs").iterdir()
    rec = json.loads((run / "record.json").read_text())
    assert rec["classnorm"] is False and rec["method"] == "sequential"
    full = make_config("czsl-features", "quick", tiny).to_dict()
    traits = czsl_traits("sequential", False, "cub", "synthetic")
    assert rec["config"] == {k: v for k, v in full.items() if acts("czsl-features", k, traits, full)}


@pytest.mark.parametrize("name", ["ewc-online", "mas-online"])
def test_importances_visit_the_task_s_images_in_a_shuffled_order_from_the_run_generator(name):
    # The images are stored class by class (as xlsa17 stores them), so index-order batches are
    # nearly one class each; the authors' loader shuffles.  The importances must equal a pass
    # over the permutation drawn from the run's generator, and differ from an index-order pass.
    from zslbench.models import scaled_cosine

    base = _id_data(n_classes=8, per_class=10)
    rng = np.random.default_rng(1)  # features clustered by class, as real image features are
    feats = (rng.random((8, 16)) * 2)[base.labels] + 0.2 * rng.random(base.features.shape)
    data = dataclasses.replace(base, features=feats.astype(np.float32))
    cfg = CZSLConfig(tasks_cub=4, epochs_per_task=1, batch_size=4, hidden_dim=8, split_cub="1/0/1")
    setup = prepare_czsl(data, cfg, seed=5)
    state = _make_state(data, setup, cfg, build_czsl_head(5, 16, cfg, True), torch.device("cpu"), 5)
    method = CZSL_METHODS.get(name)(cfg, setup.settings)
    train_task(state, method, 0)
    idx = state.task_train_idx[1]
    labels = state.train_pos[idx]
    assert torch.unique_consecutive(labels).numel() == labels.unique().numel() > 1  # class by class
    lo, hi = state.offsets[0], state.offsets[1]
    kind = "fisher" if name == "ewc-online" else "mas"
    minmax = "code" if kind == "fisher" else "none"

    def logits_fn(xb):
        return scaled_cosine(xb, state.model(state.attrs[lo:hi]), state.gamma)

    before = state.generator.get_state()
    got = method.current_importance(state, 1)
    replay = torch.Generator()
    replay.set_state(before)
    perm = torch.randperm(idx.numel(), generator=replay)
    x = state.train_x[idx]
    shuffled = compute_importance(state.model, state.params(), logits_fn, x[perm], None, kind, 4, minmax)
    in_order = compute_importance(state.model, state.params(), logits_fn, x, None, kind, 4, minmax)
    for g, s in zip(got, shuffled):
        torch.testing.assert_close(g, s, rtol=1e-5, atol=1e-7)
    flat = lambda ts: torch.cat([t.reshape(-1) for t in ts])
    rel = (flat(got) - flat(in_order)).abs().sum() / flat(in_order).abs().sum()
    assert rel > 0.05, float(rel)
    # the generator moved on: the next task's importances use a fresh permutation
    assert not torch.equal(state.generator.get_state(), before)


@pytest.mark.parametrize("mode", ["stale_code", "clean"])
def test_agem_stale_reference_gradient_adds_the_previous_step_s_gradient(mode, monkeypatch):
    # The authors' compute_ref_grad backpropagates into .grad that still holds the gradient the
    # previous optimiser step used (projected, or at a task's first step the previous task's
    # last one): g_ref(stale) = clean reference gradient + that gradient.
    import zslbench.train.methods.agem as agem_module

    data = _id_data()
    cfg = CZSLConfig(
        tasks_cub=4,
        epochs_per_task=2,
        batch_size=4,
        hidden_dim=8,
        agem_mem_per_class_cub=2,
        agem_ref_batch=5,
        agem_ref_grad=mode,
    )
    setup = prepare_czsl(data, cfg, seed=1)
    state = _make_state(data, setup, cfg, build_czsl_head(5, 16, cfg, True), torch.device("cpu"), 1)
    method = CZSL_METHODS.get("agem")(cfg, setup.settings)
    used: list[list[torch.Tensor]] = []  # per optimiser step: the gradient it used
    refs: list[tuple[int, list[torch.Tensor], list[torch.Tensor]]] = []  # (step, clean, projected against)
    clean_now: list[list[torch.Tensor]] = []
    original_ref, original_proj, original_after = (
        method.reference_gradient,
        agem_module.agem_project_,
        method.after_backward,
    )

    def ref_spy(st):
        g = original_ref(st)
        clean_now.append([t.clone() for t in g])
        return g

    def proj_spy(grads, ref):
        refs.append((len(used), clean_now[-1], [t.clone() for t in ref]))
        return original_proj(grads, ref)

    def after_spy(st):
        original_after(st)
        used.append([p.grad.clone() for p in st.params()])

    method.reference_gradient = ref_spy
    method.after_backward = after_spy
    monkeypatch.setattr(agem_module, "agem_project_", proj_spy)
    first_steps = []
    for t in range(3):
        first_steps.append(len(used))
        train_task(state, method, t)
    assert len(refs) == len(used) - first_steps[1] > 0  # every step after task 1 has a reference
    for step, clean, ref in refs:
        expected = [c + u for c, u in zip(clean, used[step - 1])] if mode == "stale_code" else clean
        for r, e in zip(ref, expected):
            torch.testing.assert_close(r, e, rtol=0, atol=1e-6)
    # at the first step of task 1 the previous gradient is task 0's last one (no memory yet)
    assert refs[0][0] == first_steps[1] and first_steps[1] - 1 < first_steps[1]
    if mode == "stale_code":
        assert any((r[2][0] - r[1][0]).abs().max() > 1e-4 for r in refs)
