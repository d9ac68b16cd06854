"""EWC-online: diagonal Fisher importances, online accumulation, quadratic penalty
(lambda 10, gamma 0.99; see importance.py)."""

from __future__ import annotations

from zslbench.train.methods.base import register
from zslbench.train.methods.importance import OnlineRegularizer


@register
class EWCOnline(OnlineRegularizer):
    name = "ewc-online"
    description = "online EWC: min-max normalised diagonal Fisher, penalty lambda=10, decay 0.99"
    kind = "fisher"

    @property
    def lam(self) -> float:
        return self.cfg.ewc_lambda

    @property
    def decay(self) -> float:
        return self.cfg.ewc_gamma
