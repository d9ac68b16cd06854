"""The scaled-cosine head (normalize + scale, NS): logits = gamma^2 cos(z, p)."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def scaled_cosine(feats: torch.Tensor, protos: torch.Tensor, gamma: float) -> torch.Tensor:
    """[B, D] x [C, D] -> [B, C] logits in [-gamma^2, gamma^2]; norms are not detached."""
    return (gamma * F.normalize(feats, dim=1)) @ (gamma * F.normalize(protos, dim=1)).t()
