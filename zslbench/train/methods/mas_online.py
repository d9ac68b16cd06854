"""MAS-online: importances from the gradient of the squared logits, online accumulation,
quadratic penalty (lambda 1e-4, gamma 0.95; see importance.py)."""

from __future__ import annotations

from zslbench.train.methods.base import register
from zslbench.train.methods.importance import OnlineRegularizer


@register
class MASOnline(OnlineRegularizer):
    name = "mas-online"
    description = "online MAS: |grad of squared logits| importances, penalty lambda=1e-4, decay 0.95"
    kind = "mas"

    @property
    def lam(self) -> float:
        return self.cfg.mas_lambda

    @property
    def decay(self) -> float:
        return self.cfg.mas_gamma
