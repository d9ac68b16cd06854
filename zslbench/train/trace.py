"""Per-iteration logit-variance traces (PAPER_SPEC section 6 and section 9 item 9).

Statistics are written into a preallocated tensor on the training device, so tracing
never forces a device synchronisation inside the training loop.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

TRACE_COLUMNS = (
    "loss",
    "pre_mean", "pre_std", "pre_var",  # raw z . p_c over [batch x seen classes], before NS
    "post_mean", "post_std", "post_var",  # gamma^2 cos(z, p_c), the logits the loss sees
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
        feats: torch.Tensor,
        protos: torch.Tensor,
        logits: torch.Tensor,
        hidden: torch.Tensor,
        gamma: float,
    ) -> None:
        if not self.enabled:
            return
        post = logits.detach()
        # z . p = |z| |p| cos(z, p): the pre-NS logits without another matmul.
        pre = post * (feats.norm(dim=1, keepdim=True) * protos.detach().norm(dim=1)) / (gamma * gamma)
        pre_var, pre_mean = torch.var_mean(pre)
        post_var, post_mean = torch.var_mean(post)
        hidden_var = hidden.detach().var(dim=0).mean()
        row = self.buf[self.n]
        row[0] = loss.detach()
        row[1], row[2], row[3] = pre_mean, pre_var.sqrt(), pre_var
        row[4], row[5], row[6] = post_mean, post_var.sqrt(), post_var
        row[7] = hidden_var
        self.epochs[self.n] = epoch
        self.n += 1

    def to_frame(self) -> pd.DataFrame:
        values = self.buf[: self.n].double().cpu().numpy()
        frame = pd.DataFrame(values, columns=list(TRACE_COLUMNS))
        frame.insert(0, "epoch", self.epochs[: self.n])
        frame.insert(0, "iteration", np.arange(self.n, dtype=np.int64))
        return frame
