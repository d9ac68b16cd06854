"""GZSL training of the models that are not prototype models (zslbench.api, ``kind``): embedding
models with a trainable feature side, and generative models (docs/extending.md#three-kinds-of-model).

Both end in test scores over all classes that go through the same scoring as the prototype
models (`zslbench.train.gzsl.score_logits`: S/U/H with and without the seen-class
calibration, AUSUC, ZSL) and the same epoch selection (``select_epoch``).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as F

from zslbench import api, checkpoints
from zslbench.config import GZSLConfig
from zslbench.data.features.types import ZSLData
from zslbench.metrics import gzsl_scores
from zslbench.models import normalize_attributes, scaled_cosine
from zslbench.plugins import run_options
from zslbench.progress import Progress


def train_any(
    data: ZSLData,
    model_name: str,
    cfg: GZSLConfig,
    seed: int,
    device: str = "cpu",
    progress: bool | None = None,
    threads: int | None = None,
):
    """`zslbench.train.gzsl.train_gzsl` for a model of any kind: the prototype models go to it
    unchanged, the others are trained here."""
    from zslbench.train.gzsl import resolve_device, torch_threads, train_gzsl

    kind = api.MODELS.get(model_name).kind
    if kind == "prototype":
        return train_gzsl(data, model_name, cfg, seed, device=device, progress=progress, threads=threads)
    train = train_generative if kind == "generative" else train_embedding
    with torch_threads(threads):
        return train(data, model_name, cfg, seed, resolve_device(device), progress)


def _result(
    metrics_of, final, oracle, oracle_epoch, n_epochs, cfg, log, start, eval_seconds, n_params, dev, extra=None
):
    from zslbench.train.gzsl import GZSLResult

    final_metrics = metrics_of(final)
    oracle_metrics = final_metrics if oracle is None or oracle_epoch == n_epochs else metrics_of(oracle)
    if oracle is None:
        oracle_epoch = n_epochs
    metrics, selected = (final_metrics, n_epochs) if cfg.select_epoch == "final" else (oracle_metrics, oracle_epoch)
    if not all(np.isfinite(v) for v in metrics.values()):
        raise FloatingPointError(f"non-finite metrics: {metrics}")
    return GZSLResult(
        metrics=metrics,
        selected_epoch=selected,
        final_metrics=final_metrics,
        oracle_metrics=oracle_metrics,
        oracle_epoch=oracle_epoch,
        epoch_log=log,
        trace=pd.DataFrame(),
        train_seconds=time.perf_counter() - start,
        eval_seconds=eval_seconds,
        n_parameters=n_params,
        device=str(dev),
        extra=extra or {},
    )


def _test_split(data: ZSLData):
    idx = np.concatenate([data.test_seen_idx, data.test_unseen_idx]).astype(np.int64)
    return idx, data.labels[idx].astype(np.int64)


def test_h(scores: np.ndarray, labels: np.ndarray, data: ZSLData, cfg: GZSLConfig) -> float:
    """Uncalibrated H (percent) of test scores, with the run's accuracy mode."""
    return float(
        gzsl_scores(scores, labels, data.seen_classes, data.unseen_classes, seen_scale=1.0, acc_mode=cfg.acc_mode)["H"]
    )


# --------------------------------------------------------------------------- generative
def train_generative(data: ZSLData, model_name: str, cfg: GZSLConfig, seed: int, dev: torch.device, progress) -> object:
    from zslbench.train.gzsl import score_logits

    spec = api.MODELS.get(model_name)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = spec.build(data.attr_dim, data.feature_dim, run_options("model", model_name, cfg))
    if hasattr(model, "settings"):
        model.settings = cfg.generative_settings
    test_idx, test_y = _test_split(data)
    feats = np.ascontiguousarray(data.features, dtype=np.float32)
    bar = Progress(None, f"{model_name}/{data.name}/seed{seed}", "epoch", progress)

    def report(epoch, n_epochs, **info):
        if n_epochs != bar.total:
            bar.set_total(n_epochs)
        if bar.n == 0 and epoch > 1:  # a run continued after a saved epoch
            bar.start_at(epoch - 1)
        bar.update(epoch - bar.n, **info)

    def ids(values) -> torch.Tensor:
        return torch.from_numpy(np.asarray(values).astype(np.int64))

    task = api.GenerativeTask(
        train_x=torch.from_numpy(feats[data.trainval_idx]),
        train_y=ids(data.labels[data.trainval_idx]),
        attrs=torch.from_numpy(data.attrs.astype(np.float32)),
        seen=ids(data.seen_classes),
        unseen=ids(data.unseen_classes),
        test_x=torch.from_numpy(feats[test_idx]),
        generator=gen,
        device=dev,
        progress=report,
        select_epoch=cfg.select_epoch,
        test_h=lambda s: test_h(np.asarray(s), test_y, data, cfg),
        dataset=data.name,
        checkpoint=checkpoints.current(),
    )
    start = time.perf_counter()
    out = model.fit_predict(task)
    bar.close()
    if isinstance(out, torch.Tensor):
        out = api.GenerativeScores(final=out)
    if not isinstance(out, api.GenerativeScores):
        raise TypeError(f"model {model_name}: fit_predict returned {type(out).__name__}, not GenerativeScores")
    # a run continued from a saved state: its training time is that of all its parts
    start -= float(out.extra.get("seconds_before_resume", 0.0))
    n_epochs = max(len(out.epoch_log), 1)
    expected = (len(test_idx), data.n_classes)

    def metrics_of(scores):
        arr = np.asarray(scores.detach().cpu() if isinstance(scores, torch.Tensor) else scores, dtype=np.float32)
        if arr.shape != expected:
            raise ValueError(f"model {model_name}: scores of shape {arr.shape}; expected {expected}")
        return score_logits(arr, test_y, data, cfg)

    eval_start = time.perf_counter()
    params = sum(p.numel() for p in getattr(model, "parameters", lambda: [])())
    extra = dict(out.extra)
    return _result(
        metrics_of,
        out.final,
        out.oracle,
        out.oracle_epoch or n_epochs,
        n_epochs,
        cfg,
        out.epoch_log,
        start,
        time.perf_counter() - eval_start,
        params,
        dev,
        extra,
    )


# --------------------------------------------------------------------------- embedding
def train_embedding(data: ZSLData, model_name: str, cfg: GZSLConfig, seed: int, dev: torch.device, progress) -> object:
    """The paper's trainer (loss, optimiser, schedule, evaluation, epoch selection) with the
    model's ``embed_features`` applied to the features before the scaled cosine."""
    from zslbench.train.gzsl import make_adam, score_logits

    spec = api.MODELS.get(model_name)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    feats = torch.from_numpy(np.ascontiguousarray(data.features, dtype=np.float32))
    if cfg.standardize_feats:
        feats = (feats - feats.mean(0)) / feats.std(0).clamp_min(1e-12)
    attrs = normalize_attributes(torch.from_numpy(data.attrs.astype(np.float32)), cfg.attr_norm).to(dev)
    seen = torch.from_numpy(data.seen_classes.astype(np.int64))
    to_seen = torch.full((data.n_classes,), -1, dtype=torch.int64)
    to_seen[seen] = torch.arange(len(seen))
    train_x = feats[torch.from_numpy(data.trainval_idx.astype(np.int64))].to(dev)
    train_y = to_seen[torch.from_numpy(data.labels[data.trainval_idx].astype(np.int64))].to(dev)
    test_idx, test_y = _test_split(data)
    test_x = feats[torch.from_numpy(test_idx)].to(dev)
    model = spec.build(data.attr_dim, data.feature_dim, run_options("model", model_name, cfg)).to(dev)
    optim = make_adam(model.parameters(), cfg.lr, cfg.weight_decay)
    sched = torch.optim.lr_scheduler.StepLR(optim, step_size=cfg.lr_step_epochs, gamma=cfg.lr_gamma)
    gamma, n = cfg.scale, len(train_y)
    bar = Progress(cfg.epochs, f"{model_name}/{data.name}/seed{seed}", "epoch", progress)
    log: list[dict] = []
    best: tuple[float, int, np.ndarray | None] = (-1.0, 0, None)
    final: np.ndarray | None = None
    eval_seconds = 0.0
    start = time.perf_counter()
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        perm = torch.randperm(n, generator=gen).to(dev)
        loss_sum, steps = 0.0, 0
        for b in range(0, n, cfg.batch_size):
            idx = perm[b : b + cfg.batch_size]
            logits = scaled_cosine(model.embed_features(train_x[idx]), model(attrs[seen.to(dev)]), gamma)
            loss = F.cross_entropy(logits, train_y[idx])
            optim.zero_grad(set_to_none=True)
            loss.backward()
            optim.step()
            loss_sum, steps = loss_sum + float(loss.detach()), steps + 1
        sched.step()
        eval_start = time.perf_counter()
        model.eval()
        with torch.no_grad():
            protos = model(attrs)
            scores = (
                torch.cat(
                    [
                        scaled_cosine(model.embed_features(test_x[i : i + cfg.test_batch_size]), protos, gamma)
                        for i in range(0, len(test_x), cfg.test_batch_size)
                    ]
                )
                .float()
                .cpu()
                .numpy()
            )
        h = test_h(scores, test_y, data, cfg)
        if h >= best[0]:
            best = (h, epoch, scores)
        final = scores
        eval_seconds += time.perf_counter() - eval_start
        log.append({"epoch": epoch, "loss": loss_sum / steps, "lr": optim.param_groups[0]["lr"], "test_H_uncal": h})
        bar.update(loss=f"{loss_sum / steps:.3f}", H=f"{h:.1f}")
    bar.close()
    return _result(
        lambda s: score_logits(s, test_y, data, cfg),
        final,
        best[2],
        best[1],
        cfg.epochs,
        cfg,
        log,
        start,
        eval_seconds,
        sum(p.numel() for p in model.parameters()),
        dev,
    )
