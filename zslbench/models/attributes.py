"""Attribute normalisation (AN), docs/paper-protocol.md#preprocessing, #pitfall-6."""

from __future__ import annotations

import torch


def normalize_attributes(attrs: torch.Tensor, mode: str) -> torch.Tensor:
    """Normalise class attribute vectors [C, A], applied once to all classes before training.

    sqrtA:       a_c * sqrt(A) / ||a_c||  (the authors' notebook and code)
    unit:        a_c / ||a_c||            (the paper's text)
    standardize: per-attribute z-score across classes (the code's "no AN" ablation arm)
    none:        unchanged
    """
    if mode == "none":
        return attrs.clone()
    if mode == "standardize":
        mean = attrs.mean(dim=0, keepdim=True)
        std = attrs.std(dim=0, keepdim=True)
        return (attrs - mean) / std.clamp_min(1e-12)
    norms = attrs.norm(dim=1, keepdim=True).clamp_min(1e-12)
    if mode == "unit":
        return attrs / norms
    if mode == "sqrtA":
        return attrs * (attrs.shape[1] ** 0.5) / norms
    raise ValueError(f"unknown attribute normalisation {mode!r}")
