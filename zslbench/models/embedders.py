"""Attribute embedders P: attributes [C, A] -> class prototypes [C, D] (docs/paper-protocol.md#variants).

Models (DESIGN section 3): linear, mlp3, mlp3+eq9, mlp3+eq10, mlp3+cn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from zslbench import api
from zslbench.models.class_norm import ClassStandardization


class AttributeEmbedder(nn.Module):
    """`body` maps attributes to the penultimate representation h; `last` (V) maps h to
    prototypes, followed by a ReLU (kept from the authors' code for every variant)."""

    def __init__(self, body: nn.Module, last: nn.Linear) -> None:
        super().__init__()
        self.body = body
        self.last = last

    def forward(self, attrs: torch.Tensor, return_hidden: bool = False):
        hidden = self.body(attrs)
        protos = F.relu(self.last(hidden))
        return (protos, hidden) if return_hidden else protos


class PrototypeModel(nn.Module):
    """A plugin's model (zslbench.api.register_model) as the trainer calls it: ``return_hidden``
    gives the prototypes as the hidden representation too (the trainer cannot see inside the
    model), unless the model takes ``return_hidden`` itself."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, attrs: torch.Tensor, return_hidden: bool = False):
        if return_hidden and _takes_return_hidden(self.inner):
            return self.inner(attrs, return_hidden=True)
        protos = self.inner(attrs)
        return (protos, protos) if return_hidden else protos


def _takes_return_hidden(module: nn.Module) -> bool:
    import inspect

    return "return_hidden" in inspect.signature(module.forward).parameters


def as_trainable(model: nn.Module) -> nn.Module:
    """The model as the GZSL trainer calls it (a built-in embedder as it is)."""
    return model if isinstance(model, AttributeEmbedder) else PrototypeModel(model)


def proper_init_(layer: nn.Linear, hidden_dim: int, out_dim: int) -> None:
    """Eq. (10): V ~ U(-b, b) with b = sqrt(3 v), v = 1 / (d_h d_z); bias keeps its default."""
    bound = math.sqrt(3.0 / (hidden_dim * out_dim))
    with torch.no_grad():
        layer.weight.uniform_(-bound, bound)


def kaiming_relu_init_(layer: nn.Linear) -> None:
    """The code's ablation init for the "without Eq. (10)" arms: kaiming_uniform_(fan_in, relu)."""
    nn.init.kaiming_uniform_(layer.weight, mode="fan_in", nonlinearity="relu")


@dataclass(frozen=True)
class ModelSpec:
    name: str
    deep: bool
    class_norm: bool  # Eq. (9)
    proper_init: bool  # Eq. (10)
    description: str

    def build(self, attr_dim: int, out_dim: int, cfg) -> AttributeEmbedder:
        """Build the embedder; `cfg` supplies hidden_dim and the CN/init options."""
        if not self.deep:
            layer = nn.Linear(attr_dim, out_dim)
            if cfg.baseline_last_init == "kaiming_relu":  # the code re-draws it this way
                kaiming_relu_init_(layer)
            return AttributeEmbedder(nn.Identity(), layer)
        hid = cfg.hidden_dim
        layers: list[nn.Module] = [nn.Linear(attr_dim, hid), nn.ReLU(), nn.Linear(hid, hid)]
        if self.class_norm:

            def cs(affine: bool = False) -> ClassStandardization:
                return ClassStandardization(
                    hid, cfg.cn_denominator, cfg.cn_var_unbiased, cfg.cn_momentum, cfg.cn_eps, affine
                )

            if cfg.cn_placement == "colab_two":
                layers += [cs(cfg.cn_affine_first), nn.ReLU(), cs()]
            else:  # penultimate_only: one CN right before V, as the paper's figure
                layers += [nn.ReLU(), cs()]
        else:
            layers += [nn.ReLU()]
        last = nn.Linear(hid, out_dim)
        if self.proper_init:
            proper_init_(last, hid, out_dim)
        elif cfg.baseline_last_init == "kaiming_relu":
            kaiming_relu_init_(last)
        return AttributeEmbedder(nn.Sequential(*layers), last)


MODELS = api.MODELS  # filled through the public API (zslbench.api), like a plugin's models
for _spec in (
    ModelSpec("linear", False, False, False, "p = ReLU(W a), one linear layer"),
    ModelSpec("mlp3", True, False, False, "3-layer MLP with AN + NS"),
    ModelSpec("mlp3+eq9", True, True, False, "3-layer MLP + class standardization, Eq. (9)"),
    ModelSpec("mlp3+eq10", True, False, True, "3-layer MLP + the init of Eq. (10)"),
    ModelSpec("mlp3+cn", True, True, True, "3-layer MLP + ClassNorm, Eq. (9) + Eq. (10)"),
):
    api.register_model(
        _spec.name,
        _spec.build,
        options=api.TRAINER_CONFIG,
        description=_spec.description,
        deep=_spec.deep,
        class_norm=_spec.class_norm,
        proper_init=_spec.proper_init,
    )
