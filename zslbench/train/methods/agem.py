"""A-GEM (docs/paper-protocol.md#czsl-methods, #pitfall-12).

* Memory: after each task, ``k`` training images per class of that task (CUB 10, SUN 5) are
  sampled without replacement and stored with their task.  The authors' code fills the
  memory twice per task (two independent draws, so up to 2k items per class, possibly
  repeated): ``agem_double_memory`` (default true, as the code).
* Reference gradient, every step once the memory is non-empty: min(128, |M|) memory items
  drawn at random, a forward pass in train mode, each item's logits masked to its own
  task's classes, cross-entropy -> ``g_ref``.  ``agem_ref_attrs="all_code"`` (default, as the
  code) computes the prototypes from all classes' attributes, so future classes enter the
  ClassNorm statistics; ``"seen"`` uses the seen classes only.
* ``agem_ref_grad="stale_code"`` (default, as the code; docs/paper-protocol.md#pitfall-18): the
  authors' ``compute_ref_grad`` backpropagates the reference loss into ``.grad`` while it still
  holds the previous optimiser step's gradient (the projected one, or at the first step of a
  task the previous task's last one), so their ``g_ref`` is the clean reference gradient plus
  that gradient.  ``"clean"``: the reference gradient alone (A-GEM as published).
* On the image track the reference pass runs the memory images through the ResNet as well
  (train mode, as the code), so ``g_ref`` and the projection cover the backbone's parameters.
* Projection of the flattened gradient of all parameters: kept when ``g . g_ref >= 0``,
  else ``g - (g . g_ref / |g_ref|^2) g_ref`` (computed per parameter tensor, ``agem_project_``).
  A zero ``g_ref`` keeps ``g`` (the code divides by zero there).
"""

from __future__ import annotations

from typing import cast

import torch
from torch.nn import functional as F

from zslbench.train.methods.base import (
    BuiltinMethod,
    CZSLState,
    config_options,
    dataset_option,
    position_logits,
    register,
)

# the memory (per class, per dataset; filled once or twice per task) and the reference pass
AGEMOptions = config_options(
    __name__,
    "AGEMOptions",
    "agem_ref_batch",
    "agem_mem_per_class_cub",
    "agem_mem_per_class_sun",
    "agem_double_memory",
    "agem_ref_attrs",
    "agem_ref_grad",
)


def agem_project(g: torch.Tensor, g_ref: torch.Tensor) -> torch.Tensor:
    """The A-GEM projection: ``g`` if it does not point against ``g_ref``, else its
    projection onto the half-space ``{v : v . g_ref >= 0}`` (so that the dot product is 0)."""
    dot = torch.dot(g, g_ref)
    if dot >= 0:
        return g
    ref_sq = torch.dot(g_ref, g_ref)
    if ref_sq <= 0:
        return g
    return g - (dot / ref_sq) * g_ref


def agem_project_(grads: list[torch.Tensor], refs: list[torch.Tensor]) -> bool:
    """:func:`agem_project` on the flattened concatenation of ``grads`` (and of ``refs``),
    computed per tensor without building the flat vectors; ``grads`` are changed in place.
    Returns whether they were projected."""
    dot = sum(torch.dot(g.reshape(-1), r.reshape(-1)) for g, r in zip(grads, refs))
    if dot >= 0:
        return False
    ref_sq = sum(torch.dot(r.reshape(-1), r.reshape(-1)) for r in refs)
    if ref_sq <= 0:
        return False
    torch._foreach_add_(grads, refs, alpha=-float(dot / ref_sq))
    return True


def sample_per_class(labels: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """Indices of min(k, n_c) items drawn without replacement from each class of ``labels``."""
    labels = labels.cpu()
    if labels.numel() == 0:
        return torch.zeros(0, dtype=torch.int64)
    shuffled = torch.randperm(labels.numel(), generator=generator)
    order = shuffled[torch.argsort(labels[shuffled], stable=True)]  # grouped, random within
    _, counts = torch.unique_consecutive(labels[order], return_counts=True)
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.arange(labels.numel()) - torch.repeat_interleave(starts, counts)
    return order[rank < k]


@register
class AGEM(BuiltinMethod):
    name = "agem"
    description = "A-GEM: episodic memory per class, reference gradient on 128 items, projection"
    options_cls = AGEMOptions

    def __init__(self, cfg, settings, options=None) -> None:
        super().__init__(cfg, settings, options)
        self.memory = torch.zeros(0, dtype=torch.int64)  # indices into the training images
        self.memory_x: torch.Tensor | None = None  # their features, scaled (see after_task)
        self.n_projected = 0
        self.n_steps = 0
        # the gradient the last optimiser step used (after any projection), for "stale_code"
        self.prev_grad: list[torch.Tensor] | None = None

    def after_task(self, state: CZSLState, t: int) -> None:
        idx = state.task_train_idx[t].cpu()
        k = int(dataset_option(self.options, "agem_mem_per_class", self.settings))
        draws = 2 if self.options.agem_double_memory else 1
        labels = state.train_pos[idx.to(state.train_pos.device)].cpu()
        new = [idx[sample_per_class(labels, k, state.generator)] for _ in range(draws)]
        self.memory = torch.cat([self.memory, *new])
        if state.fixed_inputs:
            # The memory items' features as scaled_cosine scales them (gamma * unit rows), once
            # per task rather than at every reference pass (fixed features only: a trained
            # encoder changes them at every step).
            mem_x = state.encode(self.memory.to(state.device))
            self.memory_x = state.gamma * F.normalize(mem_x, dim=1)

    def reference_gradient(self, state: CZSLState) -> list[torch.Tensor]:
        """The reference gradient, one tensor per parameter (as ``state.params()``)."""
        n = self.memory.numel()
        take = torch.randperm(n, generator=state.generator)[: min(self.options.agem_ref_batch, n)]
        idx = self.memory[take].to(state.device)
        take = take.to(state.device)
        n_cols = state.offsets[-1] if self.options.agem_ref_attrs == "all_code" else state.offsets[state.task + 1]
        own_task = state.train_task[idx]
        # Columns after the last memory task's classes are masked for every item: they enter
        # the CN statistics (body) but need not go through the last layer (see position_logits).
        keep = min(n_cols, state.offsets[int(own_task.max()) + 1])
        if self.memory_x is not None:
            x = self.memory_x.index_select(0, take)
            logits = position_logits(state, x, n_cols, keep=keep, x_scaled=True)
        else:  # a forward of the memory items through the encoder too, in train mode (as the code)
            logits = position_logits(state, state.encode(idx), n_cols, keep=keep)
        mask = state.task_of_pos[:keep].unsqueeze(0) != own_task.unsqueeze(1)
        logits = logits.masked_fill(mask, float("-inf"))
        loss = F.cross_entropy(logits, state.train_pos[idx])
        params = state.params()
        grads = torch.autograd.grad(loss, params, allow_unused=True)
        return [g if g is not None else torch.zeros_like(p) for g, p in zip(grads, params)]

    def after_backward(self, state: CZSLState) -> None:
        params = state.params()
        stale = self.options.agem_ref_grad == "stale_code"
        if self.memory.numel() == 0:
            if stale:
                self.prev_grad = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
            return
        for p in params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        g_ref = self.reference_gradient(state)
        if stale and self.prev_grad is not None:
            torch._foreach_add_(g_ref, self.prev_grad)
        self.n_steps += 1
        # the projection of the flattened gradient, per parameter tensor (no torch.cat per step)
        if agem_project_(cast(list[torch.Tensor], [p.grad for p in params]), g_ref):  # all set by backward
            self.n_projected += 1
        if stale:
            # The trainer sets .grad to None before the next backward pass (zero_grad), so these
            # tensors are not written again: keeping references is enough.
            self.prev_grad = cast(list[torch.Tensor], [p.grad for p in params])

    def summary(self) -> dict:
        return {
            "memory_size": int(self.memory.numel()),
            "projected_steps": self.n_projected,
            "steps_with_memory": self.n_steps,
        }
