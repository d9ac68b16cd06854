"""Sequential: plain fine-tuning on each task with the task-masked cross-entropy."""

from __future__ import annotations

from zslbench.train.methods.base import CZSLMethod, register


@register
class Sequential(CZSLMethod):
    name = "sequential"
    description = "plain fine-tuning, task t's data only, task-masked cross-entropy"
