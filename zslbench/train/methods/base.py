"""The pieces every continual-ZSL method shares: the training state, the hook interface and
the method registry (docs/paper-protocol.md#czsl-methods).

A method is a small class with hooks that the trainer (zslbench.train.czsl) calls:

* ``train_indices(state, t)``: which training images task t trains on;
* ``masked``: whether the cross-entropy is restricted to task t's classes;
* ``max_iters(state)``: a cap on the optimiser steps of one task (None: no cap);
* ``before_task`` / ``after_task``: e.g. importances (EWC, MAS) or memory updates (A-GEM);
* ``penalty(state)``: a term added to the loss of every step;
* ``after_backward(state)``: may change the gradients before the optimiser step (A-GEM).

Tasks are 0-based in code (task ``t`` is the paper's task t+1).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from zslbench import api
from zslbench.config import CZSLConfig, validate


@dataclass
class CZSLState:
    """Everything a method may read while training; tensors live on the training device.

    Classes are addressed by their *position* in the task order ``order`` (the classes of
    task 0, then task 1, ...), so the classes seen after task t are positions
    ``0..offsets[t+1]-1`` and task t's classes are ``offsets[t]..offsets[t+1]-1``.

    Inputs: ``train_x`` holds one row per training image as the track stores it (the features
    track: fixed features on the device; the image track: uint8 images), and
    :meth:`encode` turns a batch of them into features [B, D]: ``prepare`` (e.g. uint8 ->
    normalised float on the device) then ``encoder`` (identity for features, the ResNet-18
    for images).  ``model`` is the attribute head; :meth:`params` are the trainable
    parameters of both, encoder first.
    """

    model: nn.Module
    cfg: CZSLConfig
    settings: dict  # CZSLConfig.for_dataset(...)
    attrs: torch.Tensor  # [C, A] normalised attributes, rows in task order (position)
    task_of_pos: torch.Tensor  # [C] task of each position
    offsets: list[int]  # T+1 boundaries of the tasks' positions
    train_x: torch.Tensor  # [N_train, D] features of the training images
    train_pos: torch.Tensor  # [N_train] class position of each training image
    train_task: torch.Tensor  # [N_train] task of each training image
    task_train_idx: list[torch.Tensor]  # per task: indices into train_x
    gamma: float
    generator: torch.Generator  # CPU generator for every random choice of the method
    task: int = 0
    encoder: nn.Module = field(default_factory=nn.Identity)
    prepare: Callable[[torch.Tensor], torch.Tensor] | None = None
    autocast_dtype: torch.dtype | None = None  # mixed precision of the encoder's forward

    def __post_init__(self) -> None:
        self.network = nn.ModuleList([self.encoder, self.model])  # both, for train()/eval()

    @property
    def num_tasks(self) -> int:
        return len(self.offsets) - 1

    @property
    def device(self) -> torch.device:
        return self.attrs.device

    @property
    def fixed_inputs(self) -> bool:
        """True when the encoder has nothing to train (the features track): encoded inputs
        can then be computed once and kept."""
        return not any(p.requires_grad for p in self.encoder.parameters())

    def params(self) -> list[nn.Parameter]:
        return [p for m in (self.encoder, self.model) for p in m.parameters() if p.requires_grad]

    def encode(self, idx: torch.Tensor) -> torch.Tensor:
        """Features [B, D] of the training images ``idx`` (indices into ``train_x``), in the
        current mode of the encoder."""
        # index_select: several times faster than train_x[idx] for rows of 2048 floats
        return self.encode_rows(self.train_x.index_select(0, idx.to(self.train_x.device)))

    def encode_rows(self, rows: torch.Tensor) -> torch.Tensor:
        x = rows if self.prepare is None else self.prepare(rows)
        if isinstance(self.encoder, nn.Identity):
            return x
        ctx = (
            torch.autocast(self.device.type, dtype=self.autocast_dtype)
            if self.autocast_dtype is not None
            else contextlib.nullcontext()
        )
        with ctx:
            feats = self.encoder(x)
        return feats.float()

    def encode_all(self, rows: torch.Tensor, batch_size: int) -> torch.Tensor:
        """Eval-mode features of every row of ``rows`` (no gradient), batched; the rows
        themselves when there is nothing to encode."""
        if self.prepare is None and isinstance(self.encoder, nn.Identity):
            return rows
        was = self.encoder.training
        self.encoder.eval()
        try:
            with torch.no_grad():
                return torch.cat(
                    [self.encode_rows(rows[i : i + batch_size]) for i in range(0, rows.shape[0], batch_size)]
                )
        finally:
            self.encoder.train(was)


# The hook class and the registry are public (zslbench.api); the built-in methods register
# through the API like a plugin's.
CZSLMethod = api.CZSLMethod
CZSL_METHODS = api.METHODS


def register(cls: type[CZSLMethod]) -> type[CZSLMethod]:
    """Class decorator: register a method under its ``name`` with its ``options_cls``, through
    ``zslbench.api.register_method`` as a plugin's method is (duplicates are an error)."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    return api.register_method(cls.name, cls, options=cls.options_cls)


def config_options(module: str, cls_name: str, *names: str) -> type:
    """The options dataclass ``cls_name`` of a built-in method of ``module``: frozen, with the
    CZSL config fields ``names`` (their types, defaults, bounds and choices as ``CZSLConfig`` declares them), and
    refusing a value the config refuses, with the same line.

    A built-in method's options are fields of the run's config: they keep their plain names on
    the command line (``--set ewc_lambda=3``), in the record's config and in the run id, and the
    applicability table says which runs they act on (zslbench.applicability)."""
    declared = {f.name: f for f in dataclasses.fields(CZSLConfig)}
    unknown = [n for n in names if n not in declared]
    if unknown:
        raise ValueError(f"{cls_name}: no CZSL config field {', '.join(unknown)}")
    specs = [
        (n, declared[n].type, dataclasses.field(default=declared[n].default, metadata=declared[n].metadata))
        for n in names
    ]
    options = dataclasses.make_dataclass(cls_name, specs, frozen=True, namespace={"__post_init__": validate})
    options.__module__ = module  # where it is declared, so that pickle finds it
    return options


def options_from_config(options_cls: type | None, cfg: Any) -> Any:
    """The options of a built-in method for a run: its fields' values in the run's config."""
    if options_cls is None:
        return None
    return options_cls(**{f.name: getattr(cfg, f.name) for f in dataclasses.fields(options_cls)})


def dataset_option(options: Any, name: str, settings: dict) -> Any:
    """The value of a per-dataset option (``<name>_cub``, ``<name>_sun``) for the run's dataset."""
    return getattr(options, f"{name}_{settings['dataset']}")


class BuiltinMethod(CZSLMethod):
    """A built-in method: built without options (``cls(cfg, settings)``), it takes its options'
    values from ``cfg`` (:func:`options_from_config`)."""

    def __init__(self, cfg: Any, settings: dict, options: Any = None) -> None:
        super().__init__(cfg, settings, options if options is not None else options_from_config(self.options_cls, cfg))


def position_logits(
    state: CZSLState, x: torch.Tensor, n_cols: int, keep: int | None = None, x_scaled: bool = False
) -> torch.Tensor:
    """[B, n_cols] logits against the classes at positions 0..n_cols-1, in the model's
    current mode (train mode: the CN statistics are taken over exactly these classes).

    ``keep`` (<= n_cols): return only the first ``keep`` columns.  All n_cols classes still go
    through the model's body (so the CN statistics, and their gradients, are the same), but
    only the kept ones through the last layer: a prototype's last layer, ReLU and
    normalisation depend on its own row only, so the kept columns equal the first ``keep``
    columns of the full logits.  Saves most of the work when a caller masks the other
    columns out anyway (A-GEM's reference pass).

    ``x_scaled``: ``x`` is already ``gamma * F.normalize(features)``, the feature side of
    scaled_cosine (A-GEM keeps its memory that way)."""
    from zslbench.models import scaled_cosine

    model = state.model
    if keep is None or keep >= n_cols:
        protos = model(state.attrs[:n_cols])
    else:
        hidden = model.body(state.attrs[:n_cols])
        protos = F.relu(model.last(hidden[:keep]))
    if x_scaled:  # the prototype side of scaled_cosine
        return x @ (state.gamma * F.normalize(protos, dim=1)).t()
    return scaled_cosine(x, protos, state.gamma)
