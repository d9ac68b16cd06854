"""``replay``: experience replay with a tiny episodic memory.

After each task, ``per_class`` training images of each of its classes (drawn with the run's
generator) go into a memory; every later task trains on its own images plus the memory, with
the cross-entropy over all classes seen so far.  This is the "ER" baseline of Chaudhry et al.,
"On Tiny Episodic Memories in Continual Learning" (arXiv:1902.10486, 2019), with the memory
mixed into the task's data instead of a separate replay batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from zslbench import api


@dataclass(frozen=True)
class ReplayOptions:
    per_class: int = 5  # images kept per past class


class ExperienceReplay(api.CZSLMethod):
    masked = False  # the stored images' classes take part in the cross-entropy

    def __init__(self, cfg, settings, options=None) -> None:
        super().__init__(cfg, settings, options or ReplayOptions())
        self.memory: list[torch.Tensor] = []

    def train_indices(self, state, t: int) -> torch.Tensor:
        return torch.cat([state.task_train_idx[t], *self.memory])

    def after_task(self, state, t: int) -> None:
        idx = state.task_train_idx[t]
        pos = state.train_pos[idx].cpu()
        for p in torch.unique(pos):
            mine = idx.cpu()[pos == p]
            pick = torch.randperm(len(mine), generator=state.generator)[: self.options.per_class]
            self.memory.append(mine[pick].to(idx.device))

    def summary(self) -> dict:
        return {"memory_images": int(sum(len(m) for m in self.memory)), "per_class": self.options.per_class}
