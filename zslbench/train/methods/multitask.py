"""Multi-task: at task t, train on the data of all tasks <= t, without the task mask, for at
most `multitask_max_iters_<dataset>` steps per task (CUB 200, SUN 150), continuing from the
previous weights (docs/paper-protocol.md#czsl-methods, #pitfall-14)."""

from __future__ import annotations

import torch

from zslbench.train.methods.base import BuiltinMethod, CZSLState, config_options, dataset_option, register

# the cap on the steps of one task, per dataset
MultiTaskOptions = config_options(__name__, "MultiTaskOptions", "multitask_max_iters_cub", "multitask_max_iters_sun")


@register
class MultiTask(BuiltinMethod):
    name = "multitask"
    description = "joint training on all tasks <= t, CE over all seen classes, capped steps per task"
    masked = False
    options_cls = MultiTaskOptions

    def train_indices(self, state: CZSLState, t: int) -> torch.Tensor:
        return torch.cat(state.task_train_idx[: t + 1])

    def max_iters(self, state: CZSLState) -> int | None:
        return int(dataset_option(self.options, "multitask_max_iters", self.settings))
