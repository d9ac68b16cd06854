import math

import pytest
import torch

from zslbench.config import GZSLConfig
from zslbench.models import MODELS, ClassStandardization, normalize_attributes, scaled_cosine
from zslbench.models.embedders import proper_init_
from zslbench.registry import Registry


def test_registry_rejects_duplicates_and_names_choices():
    reg = Registry("thing")
    reg.register("a", 1)
    with pytest.raises(ValueError, match="already registered"):
        reg.register("a", 2)
    from zslbench.errors import ConfigError

    with pytest.raises(ConfigError, match="valid things: a"):
        reg.get("b")


def test_model_names_are_the_contract():
    assert MODELS.names() == ["linear", "mlp3", "mlp3+eq9", "mlp3+eq10", "mlp3+cn", "f-clswgan"]
    assert [MODELS.get(n).kind for n in MODELS] == ["prototype"] * 5 + ["generative"]


@pytest.mark.parametrize("denominator", ["var_colab", "std"])
@pytest.mark.parametrize("unbiased", [True, False])
def test_class_standardization_train_mode_standardizes_across_classes(denominator, unbiased):
    torch.manual_seed(0)
    h = torch.randn(30, 8) * 3 + 5
    cs = ClassStandardization(8, denominator=denominator, unbiased=unbiased, eps=0.0).train()
    out = cs(h)
    var = h.var(0, unbiased=unbiased)
    denom = var if denominator == "var_colab" else var.sqrt()
    expected = (h - h.mean(0)) / denom
    torch.testing.assert_close(out, expected)
    if denominator == "std":
        torch.testing.assert_close(out.mean(0), torch.zeros(8), atol=1e-5, rtol=0)
        torch.testing.assert_close(out.var(0, unbiased=unbiased), torch.ones(8), atol=1e-4, rtol=0)


def test_class_standardization_running_stats_and_eval_mode():
    torch.manual_seed(0)
    cs = ClassStandardization(4, denominator="std", momentum=0.1, eps=0.0)
    h = torch.randn(10, 4) + 2
    cs.train()(h)
    torch.testing.assert_close(cs.running_mean, 0.1 * h.mean(0))
    torch.testing.assert_close(cs.running_var, 0.9 + 0.1 * h.var(0, unbiased=True))
    # eval mode: uses the running statistics, independent of the batch
    cs.eval()
    x = torch.randn(3, 4)
    torch.testing.assert_close(cs(x), (x - cs.running_mean) / cs.running_var.sqrt())
    torch.testing.assert_close(cs(x[:1]), cs(x)[:1])  # one row alone gives the same answer


def test_unseen_classes_never_enter_the_statistics_during_training():
    """Training passes only seen-class attributes; eval on all classes uses running stats."""
    torch.manual_seed(0)
    cfg = GZSLConfig()
    model = MODELS.get("mlp3+cn").build(16, 32, cfg)
    seen = torch.rand(20, 16)
    unseen = torch.rand(5, 16) * 100  # wildly different: would shift any statistic they entered
    model.train()
    model(seen)
    cs_modules = [m for m in model.modules() if isinstance(m, ClassStandardization)]
    assert len(cs_modules) == 2  # the notebook's placement by default
    snapshot = [(m.running_mean.clone(), m.running_var.clone()) for m in cs_modules]
    model.eval()
    with torch.no_grad():
        both = model(torch.cat([seen, unseen]))
        alone = model(seen)
    for m, (mean, var) in zip(cs_modules, snapshot):
        torch.testing.assert_close(m.running_mean, mean)
        torch.testing.assert_close(m.running_var, var)
    torch.testing.assert_close(both[:20], alone)  # eval output of seen rows does not see the unseen rows


def test_penultimate_only_placement_has_one_cn_before_v():
    cfg = GZSLConfig(cn_placement="penultimate_only")
    model = MODELS.get("mlp3+eq9").build(16, 32, cfg)
    mods = list(model.body)
    assert sum(isinstance(m, ClassStandardization) for m in mods) == 1
    assert isinstance(mods[-1], ClassStandardization)


def test_first_cn_affine_option():
    model = MODELS.get("mlp3+cn").build(16, 32, GZSLConfig(cn_affine_first=True))
    cs = [m for m in model.modules() if isinstance(m, ClassStandardization)]
    assert cs[0].weight is not None and cs[1].weight is None


def test_eq10_init_has_the_specified_variance():
    torch.manual_seed(0)
    layer = torch.nn.Linear(1024, 2048)
    proper_init_(layer, 1024, 2048)
    v = 1.0 / (1024 * 2048)
    bound = math.sqrt(3 * v)
    assert layer.weight.abs().max() <= bound
    assert abs(layer.weight.var().item() / v - 1) < 0.01  # 2M samples: sampling error ~0.1%


def test_models_use_eq10_only_where_named():
    torch.manual_seed(0)
    cfg = GZSLConfig()
    v = 1.0 / (cfg.hidden_dim * 2048)
    for name in [n for n in MODELS if MODELS.get(n).kind == "prototype"]:
        last = MODELS.get(name).build(102, 2048, cfg).last.weight
        ratio = last.var().item() / v
        if MODELS.get(name).proper_init:
            assert abs(ratio - 1) < 0.02, name
        elif MODELS.get(name).deep:
            # torch default U(+-1/sqrt(fan_in)): variance 1/(3*1024), far larger than Eq. (10)'s
            assert abs(last.var().item() * 3 * 1024 - 1) < 0.02, name


def test_kaiming_baseline_init_option():
    torch.manual_seed(0)
    last = MODELS.get("mlp3").build(102, 2048, GZSLConfig(baseline_last_init="kaiming_relu")).last.weight
    assert abs(last.var().item() * 1024 / 2 - 1) < 0.02  # kaiming: variance 2 / fan_in


def test_linear_honours_baseline_last_init():
    # The authors' code re-draws linear's layer with kaiming_uniform_(fan_in, relu): bound
    # sqrt(6 / 312) = 0.139 on CUB, against PyTorch's default 1 / sqrt(312) = 0.057.
    weights = {}
    for init in ("torch_default", "kaiming_relu"):
        torch.manual_seed(0)
        weights[init] = MODELS.get("linear").build(312, 2048, GZSLConfig(baseline_last_init=init)).last.weight
    default, kaiming = weights["torch_default"], weights["kaiming_relu"]
    assert default.abs().max() <= 1 / math.sqrt(312) < kaiming.abs().max() <= math.sqrt(6 / 312)
    assert abs(kaiming.var().item() * 312 / 2 - 1) < 0.02  # variance 2 / fan_in
    assert abs(default.var().item() * 3 * 312 - 1) < 0.02  # variance 1 / (3 fan_in)


def test_attribute_normalisation_modes():
    a = torch.rand(7, 12) + 0.1
    torch.testing.assert_close(normalize_attributes(a, "sqrtA").norm(dim=1), torch.full((7,), math.sqrt(12)))
    torch.testing.assert_close(normalize_attributes(a, "unit").norm(dim=1), torch.ones(7))
    z = normalize_attributes(a, "standardize")
    torch.testing.assert_close(z.mean(0), torch.zeros(12), atol=1e-5, rtol=0)
    torch.testing.assert_close(normalize_attributes(a, "none"), a)


def test_scaled_cosine_is_gamma_squared_cosine():
    z = torch.tensor([[1.0, 0.0], [3.0, 4.0]])
    p = torch.tensor([[2.0, 0.0], [0.0, 5.0]])
    out = scaled_cosine(z, p, 5.0)
    torch.testing.assert_close(out, torch.tensor([[25.0, 0.0], [15.0, 20.0]]))
