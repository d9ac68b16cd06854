"""EWC-online: diagonal Fisher importances, online accumulation, quadratic penalty
(lambda 10, gamma 0.99; see importance.py)."""

from __future__ import annotations

from zslbench.train.methods.base import config_options, register
from zslbench.train.methods.importance import OnlineRegularizer

# penalty weight and decay of the importances, which images the Fisher is measured on, its scaling
EWCOnlineOptions = config_options(
    __name__, "EWCOnlineOptions", "ewc_lambda", "ewc_gamma", "importance_data", "fisher_minmax"
)


@register
class EWCOnline(OnlineRegularizer):
    name = "ewc-online"
    description = "online EWC: min-max normalised diagonal Fisher, penalty lambda=10, decay 0.99"
    kind = "fisher"
    options_cls = EWCOnlineOptions

    @property
    def lam(self) -> float:
        return self.options.ewc_lambda

    @property
    def decay(self) -> float:
        return self.options.ewc_gamma
