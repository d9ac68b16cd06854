"""``mlp2-ln``: attributes -> Linear -> LayerNorm -> ReLU -> Linear -> prototypes."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class MLP2LNOptions:
    hidden: int = 512  # width of the hidden layer
    layer_norm: bool = True  # False: the same MLP without LayerNorm


class MLP2LN(nn.Module):
    """Maps class attributes [C, n_attrs] to prototypes [C, feat_dim]."""

    def __init__(self, n_attrs: int, feat_dim: int, options: MLP2LNOptions) -> None:
        super().__init__()
        norm = nn.LayerNorm(options.hidden) if options.layer_norm else nn.Identity()
        self.net = nn.Sequential(
            nn.Linear(n_attrs, options.hidden), norm, nn.ReLU(), nn.Linear(options.hidden, feat_dim)
        )

    def forward(self, attrs: torch.Tensor) -> torch.Tensor:
        return self.net(attrs)
