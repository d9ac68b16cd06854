"""zslbench's ResNet-18 against torchvision's own implementation: the outputs and gradients that
torchvision's ``resnet18`` computes for fixed weights and a fixed input, stored in
tests/fixtures/resnet18_reference.npz, regenerated from torchvision's source with

    pip download --no-deps torchvision==0.29.1 -d /tmp/tv
    PYTHONPATH=. python tests/fixtures/make_resnet_reference.py /tmp/tv/torchvision-0.29.1-*.whl

The weights and the input are generated from seeds by that script's functions (nothing large is
stored); both models compute in float64.  Tolerance: relative 1e-9 (and absolute 1e-9 of each
array's largest value): float64 carries about 16 digits, and another CPU, instruction set or
thread count sums the convolutions in another order, which moves the results by about 1e-14
relative after the 20 layers; a changed layer (a stride, a padding, a missing ReLU or
BatchNorm) moves them by 1e-3 or more.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from zslbench.models.resnet import ResNet18, ResNetEmbedder

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RTOL = 1e-9


def _script():
    spec = importlib.util.spec_from_file_location("make_resnet_reference", FIXTURES / "make_resnet_reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


SCRIPT = _script()


@pytest.fixture(scope="module")
def reference() -> dict:
    with np.load(SCRIPT.FIXTURE, allow_pickle=False) as ref:
        return {k: ref[k] for k in ref.files}


@pytest.fixture(scope="module")
def ours() -> dict:
    return SCRIPT.measure(ResNet18())


def test_the_reference_is_torchvision_s_and_small(reference):
    assert str(reference["source"]).endswith(":torchvision/models/resnet.py")
    assert SCRIPT.FIXTURE.stat().st_size < 100_000


def test_the_same_parameters_and_buffers_in_the_same_order(reference, ours):
    assert list(ours["param_names"]) == list(reference["param_names"])
    assert list(ours["buffer_names"]) == list(reference["buffer_names"])


@pytest.mark.parametrize(
    "key",
    [
        "eval_logits",
        "eval_features",
        "train_logits",
        "train_features",
        "loss",
        "grad_summary",
        "input_grad_summary",
        "running_stats",
    ],
)
def test_outputs_and_gradients_equal_torchvision_s(reference, ours, key):
    ref, got = reference[key], ours[key]
    assert got.shape == ref.shape and got.dtype == ref.dtype == np.float64
    scale = float(np.abs(ref).max())
    assert scale > 0
    np.testing.assert_allclose(got, ref, rtol=RTOL, atol=RTOL * scale, err_msg=key)


def test_the_image_embedder_is_the_pooled_features(reference):
    """The image track's embedder (the ResNet without fc) gives the reference's features."""
    import torch

    resnet = ResNet18().double()
    resnet.load_state_dict(SCRIPT.reference_weights(resnet.state_dict()), strict=True)
    embedder = ResNetEmbedder(resnet).eval()
    with torch.no_grad():
        feats = embedder(SCRIPT.reference_input()).numpy()
    ref = reference["eval_features"]
    np.testing.assert_allclose(feats, ref, rtol=RTOL, atol=RTOL * float(np.abs(ref).max()))
