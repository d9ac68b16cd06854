"""``bilinear-emb``: an embedding model with a feature side (``kind="embedding"``).

Both sides are mapped into a shared space of width ``dim``: class attributes by
``W_a`` (prototypes), image features by ``W_x`` (``embed_features``); the trainer scores them by
the scaled cosine, in training and evaluation, so both maps learn.  With
``feature_side=False`` it is its prototype-only twin: ``W_a`` maps attributes to the feature
space and the features are used as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class BilinearOptions:
    dim: int = 256  # width of the shared space
    feature_side: bool = True  # False: no W_x, the features as they are


class BilinearEmbedding(nn.Module):
    def __init__(self, n_attrs: int, feat_dim: int, options: BilinearOptions) -> None:
        super().__init__()
        width = options.dim if options.feature_side else feat_dim
        self.W_a = nn.Linear(n_attrs, width)
        self.W_x = nn.Linear(feat_dim, width) if options.feature_side else None

    def forward(self, attrs: torch.Tensor) -> torch.Tensor:
        """Class prototypes [C, width]."""
        return self.W_a(attrs)

    def embed_features(self, x: torch.Tensor) -> torch.Tensor:
        """Image features [N, feat_dim] -> [N, width]."""
        return x if self.W_x is None else self.W_x(x)
