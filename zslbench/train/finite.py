"""Stopping a run whose training diverged.

After every epoch the trainers check the epoch's summed loss and every weight: a non-finite
loss, or a weight that is non-finite or beyond WEIGHT_LIMIT in magnitude, stops the run with one
line naming the epoch (and task) and the option that most likely caused it.  Such a run is not
recorded: it has no result (a sweep lists it as failed, with its log).

The check costs one device synchronisation per epoch and reads the weights only, so it changes
no number of a run that does not diverge.  Why a magnitude limit and not only non-finite
values: the scaled-cosine heads normalise their prototypes, so a head whose weights run away
(EWC-online with ``fisher_minmax=none`` and a large ``ewc_lambda``) still gives finite losses
and scores, which mean nothing.  In quick-profile runs on synthetic data (GZSL linear, mlp3 and
mlp3+cn; CZSL features track sequential, EWC-online, MAS-online, A-GEM and Multi-task, seed 1)
the largest weight stayed below 0.33 in magnitude, and a tiny MAS-online run with a probe
setting that still completes reached 6.1e8; WEIGHT_LIMIT is far above both, and far below the
1e19 where float32 squares overflow (the runaway EWC-online heads pass it on their way to 1e30).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch

from zslbench.errors import ZSLBenchError

WEIGHT_LIMIT = 1e12


class TrainingDiverged(ZSLBenchError):
    """A run's loss or weights became non-finite or ran away: one line, exit 2."""


def check_training(loss_sum: torch.Tensor, params: Iterable[torch.Tensor], where: str, hint: str) -> None:
    """TrainingDiverged unless `loss_sum` is finite and every weight in `params` is finite and at
    most WEIGHT_LIMIT in magnitude.  `where` says when ("in epoch 3 of task 2"), `hint` what to
    change."""
    with torch.no_grad():
        peaks = [p.detach().abs().max() for p in params if p.numel()]
        peak = torch.stack(peaks).max() if peaks else torch.zeros((), device=loss_sum.device)
        ok = torch.isfinite(loss_sum) & (peak <= WEIGHT_LIMIT)  # a NaN peak fails the comparison
        if bool(ok):
            return
        loss, top = float(loss_sum), float(peak)
    if not math.isfinite(loss):
        what = f"the loss became {loss}"
    elif not math.isfinite(top):
        what = f"a weight became {top}"
    else:
        what = f"a weight reached {top:.3g} (beyond {WEIGHT_LIMIT:g})"
    raise TrainingDiverged(f"training diverged: {what} {where}; likely cause: {hint}; the run is not recorded")


def gzsl_hint(cfg: Any) -> str:
    return f"the learning rate (lr={cfg.lr:g}): lower it with --set lr=..."


def czsl_hint(method: str, cfg: Any) -> str:
    """The option most likely behind a diverging CZSL run of `method`."""
    lr = cfg.embedder_lr if cfg.attr_param_group == "embedder" else cfg.head_lr
    if method == "ewc-online" and cfg.fisher_minmax == "none":
        return (
            f"fisher_minmax=none leaves the Fisher importances unscaled, and with ewc_lambda={cfg.ewc_lambda:g} "
            "the penalty's steps overshoot: set fisher_minmax=trainable_only or a smaller ewc_lambda"
        )
    if method == "ewc-online":
        return f"ewc_lambda={cfg.ewc_lambda:g} (or the learning rate {lr:g}): lower it"
    if method == "mas-online":
        return f"mas_lambda={cfg.mas_lambda:g} (or the learning rate {lr:g}): lower it"
    return f"the learning rate of the attribute network ({lr:g}, group {cfg.attr_param_group}): lower it"
