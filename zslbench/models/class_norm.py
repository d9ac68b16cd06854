"""Class standardization, Eq. (9) of the paper (docs/paper-protocol.md#class-norm).

In training mode the statistics are taken across the classes passed in (the rows of
the input: one row per class attribute vector), and running statistics are updated;
in eval mode the running statistics are used, so classes never seen in training
(unseen classes) never contribute statistics.
"""

from __future__ import annotations

import torch
from torch import nn


class ClassStandardization(nn.Module):
    """Standardize a [n_classes, dim] batch of class embeddings across classes.

    denominator="var_colab": divide by (var + eps), as the authors' notebook does.
    denominator="std":       divide by sqrt(var + eps), as BatchNorm and the paper's formula.
    unbiased: use the unbiased variance to normalise in training mode (the notebook);
              BatchNorm normalises with the biased one. Running variance is always
              updated with the unbiased estimate (both sources agree on that).
    affine:   learnable per-dimension scale and shift (the code's first BatchNorm).
    """

    def __init__(
        self,
        dim: int,
        denominator: str = "var_colab",
        unbiased: bool = True,
        momentum: float = 0.1,
        eps: float = 1e-5,
        affine: bool = False,
    ) -> None:
        super().__init__()
        if denominator not in ("var_colab", "std"):
            raise ValueError(f"unknown denominator {denominator!r}")
        self.dim = dim
        self.denominator = denominator
        self.unbiased = unbiased
        self.momentum = momentum
        self.eps = eps
        self.register_buffer("running_mean", torch.zeros(dim))
        self.register_buffer("running_var", torch.ones(dim))
        if affine:
            self.weight = nn.Parameter(torch.ones(dim))
            self.bias = nn.Parameter(torch.zeros(dim))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if self.training:
            n = h.shape[0]
            if n < 2:
                raise ValueError("class standardization needs at least 2 classes in training mode")
            mean = h.mean(dim=0)
            centred = h - mean
            # Two-pass variance from the centred values, which the output needs anyway;
            # several times faster on CPU than Tensor.var(dim=0) over the class axis.
            var_unbiased = (centred * centred).sum(dim=0) / (n - 1)
            var = var_unbiased if self.unbiased else var_unbiased * ((n - 1) / n)
            with torch.no_grad():
                self.running_mean.mul_(1 - self.momentum).add_(mean.detach(), alpha=self.momentum)
                self.running_var.mul_(1 - self.momentum).add_(var_unbiased.detach(), alpha=self.momentum)
        else:
            mean, var = self.running_mean, self.running_var
            centred = h - mean
        if self.denominator == "var_colab":
            out = centred / (var + self.eps)
        else:
            out = centred / torch.sqrt(var + self.eps)
        if self.weight is not None:
            out = out * self.weight + self.bias
        return out

    def extra_repr(self) -> str:
        return (
            f"{self.dim}, denominator={self.denominator}, unbiased={self.unbiased}, "
            f"momentum={self.momentum}, eps={self.eps}, affine={self.weight is not None}"
        )
