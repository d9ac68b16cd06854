"""Continual zero-shot learning on the features track (docs/paper-protocol.md#czsl).

The model is the attribute head of docs/paper-protocol.md#czsl-protocol on fixed image features:
``Lin(A, 256) -> ReLU -> [ClassNorm] -> Lin(256, feature_dim) -> ReLU``, scaled-cosine logits
with gamma = 10 per side.  Tasks arrive one after another; at task t the logits are computed
from the attributes of the classes of tasks <= t (so the ClassNorm statistics cover all seen
classes) and, except for Multi-task, the cross-entropy is restricted to task t's classes.
Before the first task and after every task the whole evaluation set is scored in eval mode
against all classes' attributes (T+1 snapshots), and the continual metrics are computed from
these snapshots (zslbench.metrics.czsl_scores).

`train_czsl` is a pure function of (data, method, classnorm, config, seed, device).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from zslbench.api import CZSLStep
from zslbench.config import CZSLConfig
from zslbench.data.features.types import ZSLData
from zslbench.metrics import czsl_scores, czsl_steps
from zslbench.models import ClassStandardization, normalize_attributes
from zslbench.models.embedders import AttributeEmbedder, kaiming_relu_init_, proper_init_
from zslbench.plugins import BUILTIN, plain_summary, run_options
from zslbench.progress import Progress
from zslbench.train.czsl_splits import ImageSplit, image_split, task_split
from zslbench.train.finite import check_training, czsl_hint
from zslbench.train.gzsl import predict_logits, resolve_device
from zslbench.train.methods import CZSL_METHODS, CZSLMethod, CZSLState
from zslbench.train.methods.base import options_from_config

__all__ = ["CZSL_METHODS", "CZSLResult", "build_czsl_head", "prepare_czsl", "train_czsl"]


def build_czsl_head(attr_dim: int, feature_dim: int, cfg: CZSLConfig, classnorm: bool) -> AttributeEmbedder:
    """The CZSL attribute head; with ClassNorm: CN before the last layer and Eq. (10) init;
    without: no CN and the last layer initialised by ``baseline_last_init`` (kaiming in the
    authors' ``czsl_default``)."""
    hid = cfg.hidden_dim
    layers: list[nn.Module] = [nn.Linear(attr_dim, hid), nn.ReLU()]
    if classnorm:
        layers.append(ClassStandardization(hid, cfg.cn_denominator, cfg.cn_var_unbiased, cfg.cn_momentum, cfg.cn_eps))
    last = nn.Linear(hid, feature_dim)
    if classnorm:
        proper_init_(last, hid, feature_dim)
    elif cfg.baseline_last_init == "kaiming_relu":
        kaiming_relu_init_(last)
    return AttributeEmbedder(nn.Sequential(*layers), last)


@dataclass
class CZSLResult:
    metrics: dict  # mAUC, mH, mJA (percent), forgetting (fraction), + extras
    steps: dict  # per-step arrays of czsl_steps (fractions), t = 0..T
    acc_matrix: np.ndarray  # [T, T]
    class_split: list[list[int]]
    image_split: ImageSplit
    eval_split: str
    task_log: list[dict]  # per task: images, iterations, loss, seconds
    method_summary: dict
    train_seconds: float  # the whole loop, snapshots included
    eval_seconds: float  # the T+1 snapshots
    n_parameters: int
    device: str
    logits_history: np.ndarray | None = field(default=None, repr=False)
    extras: dict = field(default_factory=dict)  # track-specific facts (e.g. the backbone)


@dataclass
class CZSLSetup:
    tasks: list[np.ndarray]
    images: ImageSplit
    eval_idx: np.ndarray
    eval_split: str
    settings: dict


def prepare_czsl(data: ZSLData, cfg: CZSLConfig, seed: int, images: ImageSplit | None = None) -> CZSLSetup:
    """The class split (run seed) and the per-class image split (``image_split_seed``), unless
    ``images`` gives the split (the image track: the dataset's own)."""
    settings = cfg.for_dataset(data.name)
    tasks = task_split(data.n_classes, settings["num_tasks"], seed)
    if images is None:
        images = image_split(data.labels, data.n_classes, settings["split"], cfg.image_split_seed)
    eval_split = settings["eval_split"]
    eval_idx = images.val if eval_split == "val" else images.test
    return CZSLSetup(tasks, images, eval_idx, eval_split, settings)


@dataclass
class CZSLInputs:
    """How a track feeds its images to the model (see CZSLState): the stored rows of the
    training and evaluation images, the encoder and the preprocessing of a batch."""

    train_x: torch.Tensor
    eval_x: torch.Tensor
    encoder: nn.Module
    feature_dim: int
    prepare: Callable[[torch.Tensor], torch.Tensor] | None = None  # rows -> encoder input, or None
    autocast_dtype: torch.dtype | None = None
    extras: dict = field(default_factory=dict)  # facts for the record


def feature_inputs(data: ZSLData, setup: CZSLSetup, cfg: CZSLConfig, dev: torch.device) -> CZSLInputs:
    """The features track: fixed features, nothing to encode."""
    feats = torch.from_numpy(np.ascontiguousarray(data.features[setup.images.train], dtype=np.float32))
    test_x = torch.from_numpy(np.ascontiguousarray(data.features[setup.eval_idx], dtype=np.float32))
    return CZSLInputs(feats.to(dev), test_x.to(dev), nn.Identity(), data.feature_dim)


def _make_state(
    data: ZSLData, setup: CZSLSetup, cfg: CZSLConfig, model, dev, seed, inputs: CZSLInputs | None = None
) -> CZSLState:
    order = np.concatenate(setup.tasks)
    pos_of = np.empty(data.n_classes, dtype=np.int64)
    pos_of[order] = np.arange(order.size)
    task_of_pos = np.concatenate([np.full(len(c), i) for i, c in enumerate(setup.tasks)])
    offsets = np.concatenate(([0], np.cumsum([len(c) for c in setup.tasks]))).tolist()
    attrs = normalize_attributes(torch.from_numpy(data.attrs.astype(np.float32)), cfg.attr_norm)
    train = setup.images.train
    train_pos = pos_of[data.labels[train]]
    train_task = task_of_pos[train_pos]
    if inputs is None:
        inputs = feature_inputs(data, setup, cfg, dev)
    return CZSLState(
        model=model,
        cfg=cfg,
        settings=setup.settings,
        attrs=attrs[torch.from_numpy(order)].to(dev),
        task_of_pos=torch.from_numpy(task_of_pos).to(dev),
        offsets=[int(o) for o in offsets],
        train_x=inputs.train_x,
        train_pos=torch.from_numpy(train_pos).to(dev),
        train_task=torch.from_numpy(train_task).to(dev),
        task_train_idx=[torch.from_numpy(np.flatnonzero(train_task == i)).to(dev) for i in range(len(setup.tasks))],
        gamma=cfg.scale,
        generator=torch.Generator().manual_seed(seed),
        encoder=inputs.encoder,
        prepare=inputs.prepare,
        autocast_dtype=inputs.autocast_dtype,
    )


def _optimizer(state: CZSLState, cfg: CZSLConfig) -> torch.optim.Optimizer:
    """SGD with the spec's groups (docs/paper-protocol.md#czsl-protocol, #pitfall-19): the image network (the
    encoder, when it has parameters) is the "embedder" group; the attribute network gets the
    group ``attr_param_group`` names."""
    if cfg.attr_param_group == "embedder":
        lr, momentum = cfg.embedder_lr, cfg.embedder_momentum
    else:
        lr, momentum = cfg.head_lr, cfg.head_momentum
    groups = []
    encoder_params = [p for p in state.encoder.parameters() if p.requires_grad]
    if encoder_params:
        groups.append({"params": encoder_params, "lr": cfg.embedder_lr, "momentum": cfg.embedder_momentum})
    groups.append({"params": list(state.model.parameters()), "lr": lr, "momentum": momentum})
    return torch.optim.SGD(groups, lr=lr, momentum=momentum)


def train_task(state: CZSLState, method: CZSLMethod, task: int) -> dict:
    """Train on task `task` (0-based) with a fresh optimiser; returns the task's log row."""
    from zslbench.models import scaled_cosine

    cfg = state.cfg
    state.task = task
    method.before_task(state, task)
    idx = method.train_indices(state, task)
    n = idx.numel()
    lo, hi = state.offsets[task], state.offsets[task + 1]
    cap = method.max_iters(state)
    optim = _optimizer(state, cfg)
    state.network.train()
    iters, loss_sum = 0, torch.zeros((), device=state.device)
    done = False
    for epoch in range(cfg.epochs_per_task):
        perm = idx[torch.randperm(n, generator=state.generator).to(idx.device)]
        for b in range(0, n, cfg.batch_size):
            if cap is not None and iters >= cap:
                done = True
                break
            batch = perm[b : b + cfg.batch_size]
            x, pos = state.encode(batch), state.train_pos[batch]
            protos = state.model(state.attrs[:hi])  # the classes of the tasks up to this one
            logits = scaled_cosine(x, protos, state.gamma)
            if method.masked:
                # Masking the other classes to -inf before the cross-entropy is the same as
                # keeping only this task's columns.
                loss = F.cross_entropy(logits[:, lo:hi], pos - lo)
            else:
                loss = F.cross_entropy(logits, pos)
            penalty = method.step_penalty(state, CZSLStep(task, batch, x, pos, logits, loss))
            total = loss if penalty is None else loss + penalty
            optim.zero_grad(set_to_none=True)
            total.backward()
            method.after_backward(state)
            optim.step()
            loss_sum += loss.detach()
            iters += 1
        check_training(
            loss_sum,
            state.params(),
            f"in epoch {epoch + 1} of task {task + 1} (step {iters})",
            czsl_hint(getattr(method, "name", ""), cfg),
        )
        if done:
            break
    method.after_task(state, task)
    return {
        "task": task + 1,
        "classes": hi - lo,
        "train_images": int(n),
        "iterations": iters,
        "mean_loss": float(loss_sum) / max(iters, 1),
    }


def train_czsl(
    data: ZSLData,
    method_name: str,
    cfg: CZSLConfig,
    seed: int,
    classnorm: bool = True,
    device: str = "cpu",
    progress: bool | None = None,
    keep_logits: bool = False,
    inputs_fn=feature_inputs,
    image_split: ImageSplit | None = None,
) -> CZSLResult:
    """One CZSL run.  ``inputs_fn(data, setup, cfg, device) -> CZSLInputs`` is the track's way of
    feeding images (default: the features track); ``image_split`` a fixed split of the images
    (default: the per-class split of the config)."""
    method_cls = CZSL_METHODS.get(method_name)
    dev = resolve_device(device)
    torch.manual_seed(seed)
    setup = prepare_czsl(data, cfg, seed, image_split)
    inputs = inputs_fn(data, setup, cfg, dev)
    model = build_czsl_head(data.attr_dim, inputs.feature_dim, cfg, classnorm).to(dev)
    state = _make_state(data, setup, cfg, model, dev, seed, inputs)
    # a built-in method's options are fields of the run's config; a plugin's, its own
    builtin = method_cls.source == BUILTIN
    options = options_from_config(method_cls.options_cls, cfg) if builtin else run_options("method", method_name, cfg)
    method = method_cls(cfg, setup.settings, options)

    test_y = data.labels[setup.eval_idx].astype(np.int64)
    attrs_global = normalize_attributes(torch.from_numpy(data.attrs.astype(np.float32)), cfg.attr_norm).to(dev)
    T = len(setup.tasks)
    history = np.empty((T + 1, len(test_y), data.n_classes), dtype=np.float32)

    eval_seconds = 0.0

    def snapshot(t: int) -> None:
        nonlocal eval_seconds
        t0 = time.perf_counter()
        test_x = state.encode_all(inputs.eval_x, cfg.inference_batch_size)
        history[t] = predict_logits(model, attrs_global, test_x, cfg.scale, cfg.inference_batch_size).numpy()
        eval_seconds += time.perf_counter() - t0

    tag = f"{method_name}{'+cn' if classnorm else ''}/{data.name}/seed{seed}"
    bar = Progress(T, tag, "task", progress)
    start = time.perf_counter()
    snapshot(0)
    task_log = []
    for t in range(T):
        t0 = time.perf_counter()
        row = train_task(state, method, t)
        row["seconds"] = round(time.perf_counter() - t0, 4)
        snapshot(t + 1)
        row["JA"] = float((history[t + 1].argmax(1) == test_y).mean())
        task_log.append(row)
        bar.update(loss=f"{row['mean_loss']:.3f}", JA=f"{100 * row['JA']:.1f}")
    train_seconds = time.perf_counter() - start
    bar.close()
    if not np.isfinite(history).all():
        raise FloatingPointError(f"non-finite test logits while training {tag}")

    task_lists = [c.tolist() for c in setup.tasks]
    metrics = czsl_scores(history, test_y, setup.tasks, cfg.mauc_range, cfg.forgetting_max_rows)
    steps = czsl_steps(history, test_y, setup.tasks, cfg.forgetting_max_rows)
    acc = steps.pop("A")
    return CZSLResult(
        metrics=metrics,
        steps=steps,
        acc_matrix=acc,
        class_split=task_lists,
        image_split=setup.images,
        eval_split=setup.eval_split,
        task_log=task_log,
        method_summary=plain_summary(method.summary()),
        train_seconds=train_seconds,
        eval_seconds=eval_seconds,
        n_parameters=sum(p.numel() for p in state.params()),
        device=str(dev),
        logits_history=history if keep_logits else None,
        extras=dict(inputs.extras),
    )
