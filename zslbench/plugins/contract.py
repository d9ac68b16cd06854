"""The contract a plugin's models and methods keep, checked when the plugin loads and by
``zslbench validate``, and the one-line description of what a plugin registered.

A check builds each model or method on a tiny input and returns one line naming what is wrong
(None when nothing is): a model's prototypes must have the expected shape and depend on
trainable parameters, every parameter must receive a gradient in one training step, a
generative model needs ``fit_predict(task)`` and a method's ``summary()`` returns a dict.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from zslbench import api


def _entries_of(source: str) -> tuple[list, list]:
    models = [api.MODELS.get(n) for n in api.MODELS if api.MODELS.get(n).source == source]
    methods = [api.METHODS.get(n) for n in api.METHODS if api.METHODS.get(n).source == source]
    return models, methods


def model_problem(entry: api.ModelEntry) -> str | None:
    """Build the model on a tiny input and check its output: None when it keeps the contract."""
    import torch

    n_cls, n_attrs, feat_dim = 4, 5, 7
    if entry.kind == "generative":
        return generative_problem(entry)
    try:
        model = entry.build(n_attrs, feat_dim, entry.make_options({}))
        out = model(torch.rand(n_cls, n_attrs))
    except Exception as exc:
        return f"model {entry.name}: building it or its forward pass failed: {type(exc).__name__}: {exc}"
    if not isinstance(model, torch.nn.Module):
        return f"model {entry.name}: built a {type(model).__name__}, not a torch.nn.Module"
    width = out.shape[1] if entry.kind == "embedding" and isinstance(out, torch.Tensor) and out.dim() == 2 else feat_dim
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (n_cls, width):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        return (
            f"model {entry.name}: returned {shape} for attributes [{n_cls}, {n_attrs}]; expected [{n_cls}, {feat_dim}]"
        )
    if not out.requires_grad:
        return f"model {entry.name}: its prototypes do not depend on trainable parameters"
    return gradient_problem(entry, model)


def gradient_problem(entry: api.ModelEntry, model: Any) -> str | None:
    """A short training probe (one step of the trainer's loss on random features): None when
    every parameter of the model receives a gradient; else a line naming the first that does not
    (a parameter that never learns, e.g. a feature map of a model registered as a prototype model,
    which the trainer never calls)."""
    import torch
    from torch.nn import functional as F

    n_cls, n_attrs, feat_dim, n = 4, 5, 7, 16
    gen = torch.Generator().manual_seed(0)
    x, y = torch.rand(n, feat_dim, generator=gen), torch.arange(n) % n_cls
    try:
        model.train()
        protos = model(torch.rand(n_cls, n_attrs, generator=gen))
        if entry.kind == "embedding":
            x = model.embed_features(x)
            if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.shape[0] != n or x.shape[1] != protos.shape[1]:
                shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
                return (
                    f"model {entry.name}: embed_features returned {shape} for features [{n}, {feat_dim}]; "
                    f"expected [{n}, {protos.shape[1]}] (the prototypes' width)"
                )
        logits = 5.0 * F.normalize(x, dim=1) @ (5.0 * F.normalize(protos, dim=1)).t()
        F.cross_entropy(logits, y).backward()
    except Exception as exc:
        return f"model {entry.name}: a training step failed: {type(exc).__name__}: {exc}".splitlines()[0]
    for name, p in model.named_parameters():
        if p.requires_grad and (p.grad is None or not bool(p.grad.ne(0).any())):
            hint = (
                "; a model whose image features pass through its own layers registers with "
                "kind='embedding' and embed_features(x)"
                if entry.kind == "prototype"
                else ""
            )
            return f"model {entry.name}: parameter {name} receives no gradient in a training step{hint}"
    return None


def generative_problem(entry: api.ModelEntry) -> str | None:
    """A generative model must build and have ``fit_predict(task)``."""
    try:
        model = entry.build(5, 7, entry.make_options({}))
    except Exception as exc:
        return f"model {entry.name}: building it failed: {type(exc).__name__}: {exc}".splitlines()[0]
    if not callable(getattr(model, "fit_predict", None)):
        return f"model {entry.name}: a generative model needs a method fit_predict(task)"
    return None


def method_problem(cls: type[api.CZSLMethod]) -> str | None:
    from zslbench.config import CZSLConfig

    try:
        method = cls(CZSLConfig(), {}, cls.options_cls() if cls.options_cls else None)
        summary = method.summary()
    except Exception as exc:
        return f"method {cls.name}: building it failed: {type(exc).__name__}: {exc}"
    if not isinstance(summary, dict):
        return f"method {cls.name}: summary() returned {type(summary).__name__}, not a dict"
    return None


def contract_problems(source: str) -> list[str]:
    """One line per broken model or method registered by ``source``."""
    models, methods = _entries_of(source)
    found = [model_problem(e) for e in models] + [method_problem(c) for c in methods]
    return [p for p in found if p]


def describe(source: str) -> list[str]:
    """What a plugin registered, one line each (``zslbench validate``)."""
    models, methods = _entries_of(source)
    lines = [f"model {e.name}: options {_fields(e.options)}" for e in models]
    lines += [f"method {c.name}: options {_fields(c.options_cls)}" for c in methods]
    lines += [f"dataset {n}" for n in api.FEATURE_DATASETS if api.FEATURE_DATASETS.get(n).source == source]
    return lines


def _fields(options: Any) -> str:
    if options is None or options == api.TRAINER_CONFIG:
        return "(none)"
    return ", ".join(f"{f.name}={f.default!r}" for f in dataclasses.fields(options)) or "(none)"
