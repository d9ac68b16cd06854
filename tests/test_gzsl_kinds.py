"""The three kinds of GZSL model (zslbench.api: prototype, embedding, generative) and
f-CLSWGAN, the built-in generative model (zslbench.models.clswgan)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from zslbench import api, plugins
from zslbench.config import GZSLConfig
from zslbench.data.features.synthetic import make_synthetic
from zslbench.models import clswgan
from zslbench.train.gzsl_kinds import train_any

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "plugin"
pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


# --------------------------------------------------------------------------- f-CLSWGAN pieces
def _slow_penalty(critic, real, fake, attrs, alpha, eps=1e-3):
    """(|grad| - 1)^2 averaged, with the gradient by central differences, sample by sample."""
    total = 0.0
    for i in range(len(real)):
        x = (alpha[i] * real[i] + (1 - alpha[i]) * fake[i]).double()
        grad = []
        for j in range(len(x)):
            step = torch.zeros_like(x)
            step[j] = eps
            up = critic(x[None] + step, attrs[i : i + 1].double()).item()
            down = critic(x[None] - step, attrs[i : i + 1].double()).item()
            grad.append((up - down) / (2 * eps))
        total += (torch.tensor(grad).norm().item() - 1) ** 2
    return total / len(real)


def test_gradient_penalty_matches_finite_differences():
    gen = torch.Generator().manual_seed(0)
    critic = clswgan.Critic(n_attrs=3, ndh=5, feat_dim=4, gen=gen).double()
    with torch.no_grad():  # weights large enough that the gradient norm is far from 1
        for p in critic.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64))
    real, fake = torch.rand(6, 4, generator=gen).double(), torch.rand(6, 4, generator=gen).double()
    attrs, alpha = torch.rand(6, 3, generator=gen).double(), torch.rand(6, 1, generator=gen).double()
    fast = clswgan.gradient_penalty(critic, real, fake, attrs, alpha).item()
    assert fast == pytest.approx(_slow_penalty(critic, real, fake, attrs, alpha), rel=1e-5)
    assert fast > 0.1


def test_minmax_preprocessing_by_hand():
    train = torch.tensor([[0.0, 2.0, 5.0], [4.0, 6.0, 5.0]])
    test = torch.tensor([[8.0, 4.0, 7.0]])
    got_train, got_test = clswgan.minmax_preprocess(train, test)
    # feature ranges 4, 4 and 0 (a constant feature gets range 1); scaled train max is 1
    assert torch.allclose(got_train, torch.tensor([[0.0, 0.0, 0.0], [1.0, 1.0, 0.0]]))
    assert torch.allclose(got_test, torch.tensor([[2.0, 0.5, 2.0]]))  # test may exceed 1


def test_generator_and_critic_shapes_and_init():
    gen = torch.Generator().manual_seed(0)
    g = clswgan.Generator(n_attrs=85, nz=85, ngh=4096, feat_dim=2048, gen=gen)
    d = clswgan.Critic(n_attrs=85, ndh=4096, feat_dim=2048, gen=gen)
    assert (g.fc1.in_features, g.fc1.out_features, g.fc2.out_features) == (170, 4096, 2048)
    assert (d.fc1.in_features, d.fc2.in_features, d.fc2.out_features) == (2133, 4096, 1)
    for layer in (g.fc1, g.fc2, d.fc1):
        assert abs(layer.weight.std().item() - 0.02) < 1e-3 and abs(layer.weight.mean().item()) < 1e-3
        assert not layer.bias.any()
    out = g(torch.randn(3, 85), torch.rand(3, 85))
    assert out.shape == (3, 2048) and (out >= 0).all()  # the ReLU output
    assert d(out, torch.rand(3, 85)).shape == (3, 1)


def test_settings_per_dataset():
    cub = clswgan.resolve(None, "cub", 312, "paper")
    assert (cub.nepoch, cub.lr, cub.syn_num, cub.nz, cub.ngh, cub.ndh) == (56, 1e-4, 300, 312, 4096, 4096)
    assert (cub.cls_weight, cub.batch, cub.critic_iter, cub.lambda1, cub.classifier_lr) == (0.01, 64, 5, 10.0, 1e-3)
    assert (cub.classifier_epochs, cub.pretrain_epochs, cub.preprocessing) == (25, 50, "minmax")
    sun, awa2 = clswgan.resolve(None, "sun", 102, "paper"), clswgan.resolve(None, "awa2", 85, "paper")
    assert (sun.nepoch, sun.lr, sun.syn_num) == (40, 2e-4, 400)
    assert (awa2.nepoch, awa2.lr, awa2.syn_num) == (30, 1e-5, 1800)  # AwA1's script
    explicit = clswgan.resolve(clswgan.CLSWGANOptions(nepoch=3), "cub", 312, "paper")
    assert explicit.nepoch == 3 and explicit.lr == 1e-4


def test_test_set_selection_follows_select_epoch():
    """select_epoch=best_test_H (the code preset) selects both the final classifier's epoch and the
    GAN epoch by test H, as the authors' code prints them; final (the default) selects neither."""
    data = make_synthetic("apy", scale=0.05)
    small = {"f-clswgan.nepoch": 2, "f-clswgan.classifier_epochs": 3, "f-clswgan.pretrain_epochs": 1}
    runs = {}
    for select in ("final", "best_test_H"):
        cfg = plugins.attach_options(
            GZSLConfig(synthetic_scale=0.05, generative_settings="quick", select_epoch=select), small
        )
        runs[select] = train_any(data, "f-clswgan", cfg, seed=1, progress=False)
    honest, faithful = runs["final"], runs["best_test_H"]
    assert honest.extra["classifier_select"] == "final" and honest.selected_epoch == 2
    assert honest.metrics == honest.final_metrics
    assert faithful.extra["classifier_select"] == "best_test_H"
    assert faithful.metrics == faithful.oracle_metrics
    assert faithful.metrics["H_uncal"] == max(row["test_H_uncal"] for row in faithful.epoch_log)


# --------------------------------------------------------------------------- learning
@pytest.mark.slow  # trains f-CLSWGAN's quick profile five times (about a minute of CPU in all)
@pytest.mark.parametrize("dataset, scale", [("sun", 0.12), ("cub", 0.15), ("awa1", 0.06), ("awa2", 0.05), ("apy", 0.1)])
def test_f_clswgan_quick_learns(dataset, scale):
    data = make_synthetic(dataset, scale=scale)
    cfg = GZSLConfig(synthetic_scale=scale, generative_settings="quick")
    result = train_any(data, "f-clswgan", cfg, seed=1, progress=False)
    m = result.metrics
    chance = 100.0 / len(data.unseen_classes)
    assert m["ZSL"] > 2 * chance and m["U_uncal"] > 100.0 / data.n_classes and m["S"] > 100.0 / data.n_classes, m
    assert len(result.epoch_log) == clswgan.QUICK_SETTINGS["nepoch"]
    assert result.extra["model_options_resolved"]["nepoch"] == clswgan.QUICK_SETTINGS["nepoch"]


# --------------------------------------------------------------------------- plugin kinds
@pytest.fixture
def example(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLE))
    before = {reg: set(reg.names()) for reg in (api.MODELS, api.METHODS, api.FEATURE_DATASETS)}
    plugins.load_plugin("zslbench_example")
    yield
    for reg, names in before.items():
        for name in set(reg.names()) - names:
            reg.remove(name)
    plugins.LOADED.pop("zslbench_example", None)
    for mod in [m for m in sys.modules if m.startswith("zslbench_example")]:
        sys.modules.pop(mod)


def test_feature_side_learns_and_differs_from_its_twin(example):
    data = make_synthetic("cub", scale=0.15)
    spec = api.MODELS.get("bilinear-emb")
    assert spec.kind == "embedding"
    torch.manual_seed(1)
    before = spec.build(data.attr_dim, data.feature_dim, spec.make_options({}))
    cfg = GZSLConfig(epochs=3, lr=2e-3, synthetic_scale=0.15)
    seen = {}

    real_build = spec.build_fn

    def keep(*args):
        seen["model"] = real_build(*args)
        return seen["model"]

    object.__setattr__(spec, "build_fn", keep)
    try:
        with_side = train_any(data, "bilinear-emb", cfg, seed=1, progress=False)
    finally:
        object.__setattr__(spec, "build_fn", real_build)
    assert not torch.equal(seen["model"].W_x.weight.detach(), before.W_x.weight.detach())  # W_x learned
    twin_cfg = plugins.attach_options(
        GZSLConfig(epochs=3, lr=2e-3, synthetic_scale=0.15), {"bilinear-emb.feature_side": False}
    )
    twin = train_any(data, "bilinear-emb", twin_cfg, seed=1, progress=False)
    assert with_side.metrics["H"] != twin.metrics["H"]


def test_small_generative_plugin_is_scored_like_the_others(example):
    data = make_synthetic("cub", scale=0.15)
    result = train_any(data, "mean-gen", GZSLConfig(synthetic_scale=0.15), seed=1, progress=False)
    m = result.metrics
    assert {"S", "U", "H", "ZSL", "AUSUC", "S_uncal", "U_uncal", "H_uncal", "seen_scale"} <= set(m)
    assert m["ZSL"] > 3 * 100.0 / len(data.unseen_classes), m


class _Devise(torch.nn.Module):
    """A feature-side model registered as a prototype model: W_x never gets a gradient."""

    def __init__(self, n_attrs, feat_dim, options):
        super().__init__()
        self.W_a = torch.nn.Linear(n_attrs, feat_dim)
        self.W_x = torch.nn.Linear(feat_dim, feat_dim)

    def forward(self, attrs):
        return self.W_a(attrs)


def test_parameter_without_gradient_is_refused():
    entry = api.ModelEntry("devise-x", _Devise, None, "", False, False, False, "test")
    problem = plugins.model_problem(entry)
    assert problem is not None and "W_x" in problem and "no gradient" in problem and "\n" not in problem
    ok_fn = lambda a, f, o: torch.nn.Linear(a, f)
    assert plugins.model_problem(api.ModelEntry("lin", ok_fn, None, "", False, False, False, "test")) is None


def test_cli_refuses_a_plugin_with_a_dead_parameter(tmp_path):
    import subprocess

    (tmp_path / "deadplug.py").write_text(
        "import torch\nfrom zslbench import api\n\n"
        "class M(torch.nn.Module):\n"
        "    def __init__(self, a, f, o):\n"
        "        super().__init__()\n"
        "        self.W_a = torch.nn.Linear(a, f)\n"
        "        self.W_x = torch.nn.Linear(f, f)\n\n"
        "    def forward(self, attrs):\n"
        "        return self.W_a(attrs)\n\n"
        "api.register_model('dead-x', M)\n"
    )
    env = {**__import__("os").environ, "PYTHONPATH": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "zslbench", "validate", "--plugin", "deadplug"], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "W_x" in lines[0] and "Traceback" not in proc.stderr


def test_f_clswgan_records_its_options_and_replays(tmp_path):
    import json
    import subprocess

    base = [
        sys.executable,
        "-m",
        "zslbench",
        "run",
        "--model",
        "f-clswgan",
        "--dataset",
        "apy",
        "--profile",
        "quick",
        "--data",
        "synthetic",
        "--set",
        "synthetic_scale=0.05",
        "--set",
        "f-clswgan.nepoch=2",
        "--results",
        str(tmp_path / "r"),
    ]
    proc = subprocess.run(base, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    (path,) = (tmp_path / "r" / "runs").glob("*/record.json")
    record = json.loads(path.read_text())
    assert record["model_options"]["nepoch"] == 2 and record["model_settings"]["quick"]["nepoch"] == 8
    assert record["model_extra"]["model_options_resolved"]["ngh"] == 256 and record["n_parameters"] > 0
    assert "epochs" not in record["config"] and record["config"]["generative_settings"] == "quick"
    replay = subprocess.run(
        [sys.executable, "-m", "zslbench", "run", "--from-record", str(path), "--results", str(tmp_path / "again")],
        capture_output=True,
        text=True,
    )
    assert replay.returncode == 0, replay.stderr
    assert "match the record exactly" in replay.stdout
