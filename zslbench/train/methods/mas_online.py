"""MAS-online: importances from the gradient of the squared logits, online accumulation,
quadratic penalty (lambda 1e-4, gamma 0.95; see importance.py)."""

from __future__ import annotations

from zslbench.train.methods.base import config_options, register
from zslbench.train.methods.importance import OnlineRegularizer

# penalty weight and decay of the importances, which images they are measured on
MASOnlineOptions = config_options(__name__, "MASOnlineOptions", "mas_lambda", "mas_gamma", "importance_data")


@register
class MASOnline(OnlineRegularizer):
    name = "mas-online"
    description = "online MAS: |grad of squared logits| importances, penalty lambda=1e-4, decay 0.95"
    kind = "mas"
    options_cls = MASOnlineOptions

    @property
    def lam(self) -> float:
        return self.options.mas_lambda

    @property
    def decay(self) -> float:
        return self.options.mas_gamma
