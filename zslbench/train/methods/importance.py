"""Parameter importances and the online quadratic penalty of EWC-online and MAS-online
(docs/paper-protocol.md#czsl-methods, #pitfall-11).

When task t >= 2 starts (0-based t >= 1), the importance of every parameter is measured in
eval mode on the logits over all classes, restricted to the previous task's classes:

* EWC: the squared gradient of the cross-entropy (mean over the batch), summed over the
  batches and divided by the number of samples; then normalised (``fisher_minmax``): the
  authors' code min-max normalises over all ``model.parameters()``, which include the frozen
  attribute matrix whose Fisher is 0, so its minimum is 0 and it divides by the maximum
  (``"code"``); ``"trainable_only"`` min-max normalises over the trainable weights only;
  ``"none"`` keeps the raw Fisher.  With ``importance_data="current_task_code"`` (the authors' code) the
  batches are the *current* task's images, whose labels lie outside the previous task's
  classes: their cross-entropy is infinite, but its gradient is finite and equals the
  gradient of logsumexp over the previous task's logits, which is what is computed here.
  ``"previous_task"`` uses the previous task's images and labels instead.
* MAS: the absolute gradient of the sum (over the batch and the classes) of the squared
  logits, summed over batches and divided by the number of samples; no normalisation.

The images are visited in a random order drawn from the run's generator, in batches of the
CZSL batch size, as the code's shuffling training loader does (docs/paper-protocol.md#pitfall-20):
the Fisher sums squared batch-mean gradients, so which images share a batch matters.

Online accumulation: ``omega = gamma * omega + omega_current``; the anchor is the weights at
the start of the task; the penalty is ``lambda * sum(omega * (theta - anchor)^2)`` (no 1/2).
Its gradient, ``2 lambda omega (theta - anchor)``, is added to the cross-entropy's gradient
after the backward pass (``add_penalty_grad``) rather than backpropagated through the penalty.
"""

from __future__ import annotations

from typing import cast

import torch
from torch import nn
from torch.nn import functional as F

from zslbench.train.methods.base import BuiltinMethod, CZSLState


def compute_importance(
    model: nn.Module,
    params: list[nn.Parameter],
    logits_fn,
    x: torch.Tensor,
    targets: torch.Tensor | None,
    kind: str,
    batch_size: int,
    minmax: str = "none",
    generator: torch.Generator | None = None,
) -> list[torch.Tensor]:
    """Per-parameter importances (one tensor per parameter, same shapes).

    ``logits_fn(x_batch)`` returns the restricted logits [B, K] (the previous task's classes);
    ``x`` is what it takes in batches of ``batch_size`` rows (features, or image indices).
    ``kind``: "fisher" (squared CE gradient; ``targets`` are positions in 0..K-1, or None for
    labels outside the K classes, see the module docstring) or "mas" (abs gradient of the sum
    of squared logits).  ``minmax``: "code", "trainable_only" or "none" (module docstring).
    ``generator``: the rows are visited in the order ``torch.randperm(n, generator=generator)``
    (one draw); None keeps their order.  The model is put in eval mode and restored afterwards.
    """
    if kind not in ("fisher", "mas"):
        raise ValueError(f"unknown importance kind {kind!r}")
    if minmax not in ("code", "trainable_only", "none"):
        raise ValueError(f"unknown Fisher normalisation {minmax!r}")
    was_training = model.training
    model.eval()
    total = [torch.zeros_like(p) for p in params]
    n = x.shape[0]
    order = None if generator is None else torch.randperm(n, generator=generator).to(x.device)
    try:
        for i in range(0, n, batch_size):
            rows = slice(i, i + batch_size) if order is None else order[i : i + batch_size]
            logits = logits_fn(x[rows])
            if kind == "mas":
                loss = logits.pow(2).sum()
            elif targets is None:
                loss = torch.logsumexp(logits, dim=1).mean()
            else:
                loss = F.cross_entropy(logits, targets[rows])
            grads = torch.autograd.grad(loss, params, allow_unused=True)
            for acc, g in zip(total, grads):
                if g is not None:
                    acc.add_(g.pow(2) if kind == "fisher" else g.abs())
    finally:
        model.train(was_training)
    total = [t / max(n, 1) for t in total]
    if minmax != "none":
        flat = torch.cat([t.reshape(-1) for t in total])
        hi = flat.max()
        # "code": the minimum over the code's parameters is the 0 of its frozen attribute matrix
        lo = flat.min() if minmax == "trainable_only" else flat.new_zeros(())
        span = hi - lo
        total = [(t - lo) / span if span > 0 else torch.zeros_like(t) for t in total]
    return total


def quadratic_penalty(
    params: list[nn.Parameter], omega: list[torch.Tensor], anchor: list[torch.Tensor], lam: float
) -> torch.Tensor:
    """``lam * sum_i omega_i (theta_i - anchor_i)^2`` (no 1/2, as the authors' code)."""
    total = sum((w * (p - a).pow(2)).sum() for p, w, a in zip(params, omega, anchor))
    return lam * cast(torch.Tensor, total)  # a tensor: params is never empty


def add_penalty_grad(
    params: list[nn.Parameter], omega: list[torch.Tensor], anchor: list[torch.Tensor], lam: float
) -> None:
    """Add the gradient of :func:`quadratic_penalty`, ``2 lam omega (theta - anchor)``, to the
    parameters' ``.grad`` in place (a few fused passes instead of autograd through the penalty)."""
    with torch.no_grad():
        diff = torch._foreach_sub([p.detach() for p in params], anchor)
        torch._foreach_mul_(diff, omega)
        grads = []
        for p in params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
            grads.append(p.grad)
        torch._foreach_add_(grads, diff, alpha=2.0 * lam)


class OnlineRegularizer(BuiltinMethod):
    """EWC-online / MAS-online: importance at the start of every task t >= 2, online sum."""

    kind: str = "fisher"

    def __init__(self, cfg, settings, options=None) -> None:
        super().__init__(cfg, settings, options)
        self.omega: list[torch.Tensor] | None = None
        self.anchor: list[torch.Tensor] | None = None

    @property
    def lam(self) -> float:
        raise NotImplementedError

    @property
    def decay(self) -> float:
        raise NotImplementedError

    def current_importance(self, state: CZSLState, t: int) -> list[torch.Tensor]:
        from zslbench.models import scaled_cosine

        lo, hi = state.offsets[t - 1], state.offsets[t]  # the previous task's classes

        def logits_fn(batch: torch.Tensor) -> torch.Tensor:
            # compute_importance runs the model in eval mode, where CN uses its running
            # statistics and every prototype depends on its own class's attributes only: the
            # previous task's columns of the logits over all classes are these.  ``batch``
            # holds training-image indices; the encoder (the ResNet on the image track) is
            # part of the pass, so its parameters get importances too.
            return scaled_cosine(state.encode(batch), state.model(state.attrs[lo:hi]), state.gamma)

        if self.options.importance_data == "current_task_code":
            idx, targets = state.task_train_idx[t], None
        else:
            idx = state.task_train_idx[t - 1]
            targets = state.train_pos[idx] - lo
        return compute_importance(
            state.network,
            state.params(),
            logits_fn,
            idx,
            targets,
            self.kind,
            self.cfg.batch_size,
            minmax=self.options.fisher_minmax if self.kind == "fisher" else "none",
            generator=state.generator,
        )

    def accumulate(self, current: list[torch.Tensor]) -> None:
        if self.omega is None:
            self.omega = [c.clone() for c in current]
        else:
            self.omega = [self.decay * o + c for o, c in zip(self.omega, current)]

    def before_task(self, state: CZSLState, t: int) -> None:
        if t == 0:
            return
        self.accumulate(self.current_importance(state, t))
        self.anchor = [p.detach().clone() for p in state.params()]

    def penalty(self, state: CZSLState) -> torch.Tensor | None:
        # The penalty's gradient is added directly in after_backward (the same gradient as
        # backpropagating quadratic_penalty, at a fraction of the cost); its value is not
        # needed (the task log records the cross-entropy only).
        return None

    def after_backward(self, state: CZSLState) -> None:
        if self.omega is None or self.anchor is None:
            return
        add_penalty_grad(state.params(), self.omega, self.anchor, self.lam)

    def summary(self) -> dict:
        if self.omega is None:
            return {}
        flat = torch.cat([o.reshape(-1) for o in self.omega])
        return {"importance_mean": float(flat.mean()), "importance_max": float(flat.max())}
