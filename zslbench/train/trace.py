"""Per-iteration logit-variance traces (docs/paper-protocol.md#logit-variance, #pitfall-9).

Statistics are written into a preallocated tensor on the training device, so tracing
never forces a device synchronisation inside the training loop.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

TRACE_COLUMNS = (
    "loss",
    "pre_mean",
    "pre_std",
    "pre_var",  # raw z . p_c over [batch x seen classes], before NS
    "post_mean",
    "post_std",
    "post_var",  # gamma^2 cos(z, p_c), the logits the loss sees
    "hidden_var",  # variance across classes of the penultimate embedding, mean over dims
)


class TraceBuffer:
    def __init__(self, n_iters: int, device: torch.device, enabled: bool = True) -> None:
        self.enabled = enabled
        self.buf = torch.empty((n_iters if enabled else 0, len(TRACE_COLUMNS)), device=device)
        self.epochs = np.zeros(n_iters if enabled else 0, dtype=np.int64)
        self.n = 0

    @torch.no_grad()
    def record(
        self,
        epoch: int,
        loss: torch.Tensor,
        feats: torch.Tensor | None,
        protos: torch.Tensor,
        logits: torch.Tensor,
        hidden: torch.Tensor,
        gamma: float,
        feat_norms: torch.Tensor | None = None,
    ) -> None:
        """Append one row. `feat_norms` ([B], the L2 norms of the batch features) may be
        given instead of `feats` when the caller has them precomputed."""
        if not self.enabled:
            return
        if feat_norms is None:
            assert feats is not None, "TraceBuffer.record: give feats or feat_norms"
            feat_norms = feats.norm(dim=1)
        post = logits.detach()
        # z . p = |z| |p| cos(z, p): the pre-NS logits without another matmul.
        outer = torch.outer(feat_norms, protos.detach().norm(dim=1))
        pre = post * outer.mul_(1.0 / (gamma * gamma))
        pre_var, pre_mean = torch.var_mean(pre)
        post_var, post_mean = torch.var_mean(post)
        # Variance across classes (unbiased, per dimension), averaged over dimensions;
        # two-pass from the centred values, much faster than Tensor.var(dim=0) on CPU.
        h = hidden.detach()
        centred = h - h.mean(dim=0)
        # (per-dimension sums first: a full-tensor sum would depend on the thread count)
        hidden_var = centred.pow_(2).sum(dim=0).mean() / (h.shape[0] - 1)
        # One write per iteration: the statistics stay on the device, no synchronisation.
        self.buf[self.n] = torch.stack(
            (loss.detach(), pre_mean, pre_var.sqrt(), pre_var, post_mean, post_var.sqrt(), post_var, hidden_var)
        )
        self.epochs[self.n] = epoch
        self.n += 1

    def to_frame(self) -> pd.DataFrame:
        values = self.buf[: self.n].double().cpu().numpy()
        frame = pd.DataFrame(values, columns=list(TRACE_COLUMNS))
        frame.insert(0, "epoch", self.epochs[: self.n])
        frame.insert(0, "iteration", np.arange(self.n, dtype=np.int64))
        return frame
