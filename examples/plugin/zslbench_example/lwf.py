"""``lwf``: Learning without Forgetting (Li & Hoiem, "Learning without Forgetting", ECCV 2016 /
TPAMI 2018).

Before each task after the first, a frozen copy of the model is kept.  At every step of the new
task, the copy's outputs on the step's own images for the classes of the earlier tasks, softened
by the temperature ``temperature``, are the targets of a distillation term on the current model's
logits of those classes (the step's own logits: no second forward pass of the model), weighted
by ``lam``:

    lam * mean_i( - sum_c softmax(old_i / T)_c * log_softmax(new_i / T)_c )

The copy runs in eval mode through ``api.czsl_logits``, so neither model's running statistics
move.  The new task's cross-entropy is the trainer's (over the task's classes).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from zslbench import api


@dataclass(frozen=True)
class LwFOptions:
    temperature: float = 2.0  # T of the softened outputs (Li & Hoiem: 2)
    lam: float = 1.0  # weight of the distillation term (Li & Hoiem's lambda_o: 1)

    def __post_init__(self) -> None:
        if not self.temperature > 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")
        if not self.lam >= 0:
            raise ValueError(f"lam must be >= 0, got {self.lam}")


def distillation(new_logits: torch.Tensor, old_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """The mean over the batch of the cross-entropy between the softened old and new outputs."""
    targets = F.softmax(old_logits / temperature, dim=1)
    return -(targets * F.log_softmax(new_logits / temperature, dim=1)).sum(1).mean()


class LearningWithoutForgetting(api.CZSLMethod):
    def __init__(self, cfg, settings, options=None) -> None:
        super().__init__(cfg, settings, options or LwFOptions())
        self.old_model = None
        self.n_distilled = 0
        self.last_term: float | None = None

    def before_task(self, state, t: int) -> None:
        self.old_model = None
        if t > 0:
            self.old_model = copy.deepcopy(state.model).eval()
            for p in self.old_model.parameters():
                p.requires_grad_(False)

    def step_penalty(self, state, step):
        if self.old_model is None:
            return None
        n_old = state.offsets[step.task]  # the classes of the earlier tasks: positions 0..n_old-1
        with torch.no_grad():
            old = api.czsl_logits(state, step.inputs.detach(), n_old, model=self.old_model)
        term = self.options.lam * distillation(step.logits[:, :n_old], old, self.options.temperature)
        self.n_distilled += 1
        self.last_term = float(term.detach())
        return term

    def summary(self) -> dict:
        return {"temperature": self.options.temperature, "lam": self.options.lam, "distilled_steps": self.n_distilled}
