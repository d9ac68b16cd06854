"""f-CLSWGAN (Xian, Lorenz, Schiele, Akata, CVPR 2018) as a generative GZSL model of zslbench
(docs/f-clswgan.md): a conditional WGAN-GP generates image features from class attributes,
guided by a frozen softmax over the seen classes; a softmax over all classes is trained on
the real seen features and synthetic unseen features and scores the test features.

What the authors' released code does is followed step by step (the networks, their init, the
optimisers, the batches, the per-dataset settings of their GZSL scripts); its hidden choices are
options: ``preprocessing`` (min-max, as the scripts), ``classifier_select`` (the final
classifier's epoch: its last, or the best H on the test set as the code prints), and the run's
``select_epoch`` (the GAN epoch: the last, or the best test H, as read off the code's output).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from zslbench import api

# The authors' GZSL scripts; AwA2 and aPY have none and take AwA1's settings.
PAPER_SETTINGS = {
    "cub": {"nepoch": 56, "lr": 1e-4, "syn_num": 300},
    "sun": {"nepoch": 40, "lr": 2e-4, "syn_num": 400},
    "awa1": {"nepoch": 30, "lr": 1e-5, "syn_num": 1800},
}
PAPER_FALLBACK = "awa1"  # awa2, apy and any other dataset
# A smoke-scale profile: learns on the synthetic data in a few seconds.
QUICK_SETTINGS = {
    "nepoch": 8,
    "lr": 3e-3,
    "syn_num": 50,
    "nz": 16,
    "ngh": 256,
    "ndh": 256,
    "classifier_epochs": 2,
    "pretrain_epochs": 3,
}
SELECTIONS = ("trainer", "final", "best_test_H")

# Seconds one CPU run takes at one thread, for the sweep's estimates.  Quick: measured in the
# quick grid (2-core Xeon, two runs at once).  Paper: CUB measured whole (two runs of the
# authors' 56 GAN epochs at once, one thread each, on the 2-core Xeon: 7,785 s and 7,721 s of
# training; two later seeds with nothing else running: 7,150 s and 7,119 s), the other datasets
# scaled from it by training images x GAN epochs (the networks are the same size; not measured).
_CUB_SECONDS, _CUB_IMAGES_EPOCHS = 7750.0, 7057 * 56
PAPER_SECONDS = {
    ds: round(
        _CUB_SECONDS * n * PAPER_SETTINGS.get(ds, PAPER_SETTINGS[PAPER_FALLBACK])["nepoch"] / _CUB_IMAGES_EPOCHS, -2
    )
    for ds, n in {"cub": 7057, "sun": 10320, "awa1": 19832, "awa2": 23527, "apy": 5932}.items()
}
ESTIMATED_SECONDS = {"paper": PAPER_SECONDS, "quick": {"sun": 21.0, "cub": 11.0, "awa1": 24.0, "awa2": 28.0}}


@dataclass(frozen=True)
class CLSWGANOptions:
    """f-CLSWGAN's options.  0 (or "") means the value of the run's settings: the authors'
    script for the dataset (``generative_settings=paper``) or the quick profile's."""

    nepoch: int = 0  # GAN epochs
    lr: float = 0.0  # Adam lr of generator and critic
    syn_num: int = 0  # synthetic features per unseen class (also the final classifier's batch)
    nz: int = 0  # noise size (0: the number of attributes, as the scripts)
    ngh: int = 0  # generator hidden width (paper: 4096)
    ndh: int = 0  # critic hidden width (paper: 4096)
    cls_weight: float = 0.01  # weight of the frozen classifier's loss in the generator's loss
    batch: int = 64
    critic_iter: int = 5
    lambda1: float = 10.0  # gradient penalty weight
    classifier_lr: float = 1e-3
    classifier_epochs: int = 0  # final classifier (paper: 25)
    pretrain_epochs: int = 0  # the frozen seen-class classifier (paper: 50)
    pretrain_lr: float = 1e-3
    pretrain_batch: int = 100
    preprocessing: str = "minmax"  # "minmax" (the scripts: fit on trainval, / trainval max) or "none"
    classifier_select: str = "trainer"  # "trainer" (the run's select_epoch), "final", "best_test_H"


def resolve(options: CLSWGANOptions | None, dataset: str, n_attrs: int, settings: str) -> CLSWGANOptions:
    """The options a run trains with: every 0 replaced by the settings' value."""
    options = options or CLSWGANOptions()
    if options.preprocessing not in ("minmax", "none"):
        raise ValueError(f"f-clswgan.preprocessing={options.preprocessing!r}: expected minmax or none")
    if options.classifier_select not in SELECTIONS:
        raise ValueError(
            f"f-clswgan.classifier_select={options.classifier_select!r}: expected one of {', '.join(SELECTIONS)}"
        )
    if settings == "quick":
        base = dict(QUICK_SETTINGS)
    else:
        base = {
            **PAPER_SETTINGS.get(dataset, PAPER_SETTINGS[PAPER_FALLBACK]),
            "ngh": 4096,
            "ndh": 4096,
            "classifier_epochs": 25,
            "pretrain_epochs": 50,
        }
    base.setdefault("nz", n_attrs)
    values: dict[str, Any] = {k: (v if getattr(options, k) == 0 else getattr(options, k)) for k, v in base.items()}
    out = replace(options, **values)
    for key in (
        "nepoch",
        "syn_num",
        "nz",
        "ngh",
        "ndh",
        "batch",
        "critic_iter",
        "classifier_epochs",
        "pretrain_epochs",
        "pretrain_batch",
    ):
        if getattr(out, key) < 1:
            raise ValueError(f"f-clswgan.{key}={getattr(out, key)!r}: expected a positive number")
    for key in ("lr", "classifier_lr", "pretrain_lr"):
        if not getattr(out, key) > 0:
            raise ValueError(f"f-clswgan.{key}={getattr(out, key)!r}: expected a positive number")
    return out


# --------------------------------------------------------------------------- the networks
def _init_linear(layer: nn.Linear, gen: torch.Generator) -> None:
    """The authors' init: weight N(0, 0.02), bias 0."""
    with torch.no_grad():
        layer.weight.copy_(torch.randn(layer.weight.shape, generator=gen) * 0.02)
        layer.bias.zero_()


class Generator(nn.Module):
    """[noise z, attributes a] -> Linear(nz + A, ngh), LeakyReLU(0.2), Linear(ngh, D), ReLU."""

    def __init__(self, n_attrs: int, nz: int, ngh: int, feat_dim: int, gen: torch.Generator) -> None:
        super().__init__()
        self.fc1 = nn.Linear(nz + n_attrs, ngh)
        self.fc2 = nn.Linear(ngh, feat_dim)
        for layer in (self.fc1, self.fc2):
            _init_linear(layer, gen)

    def forward(self, z: torch.Tensor, attrs: torch.Tensor) -> torch.Tensor:
        hidden = F.leaky_relu(self.fc1(torch.cat([z, attrs], dim=1)), 0.2)
        return F.relu(self.fc2(hidden))


class Critic(nn.Module):
    """[feature x, attributes a] -> Linear(D + A, ndh), LeakyReLU(0.2), Linear(ndh, 1)."""

    def __init__(self, n_attrs: int, ndh: int, feat_dim: int, gen: torch.Generator) -> None:
        super().__init__()
        self.fc1 = nn.Linear(feat_dim + n_attrs, ndh)
        self.fc2 = nn.Linear(ndh, 1)
        for layer in (self.fc1, self.fc2):
            _init_linear(layer, gen)

    def forward(self, x: torch.Tensor, attrs: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.leaky_relu(self.fc1(torch.cat([x, attrs], dim=1)), 0.2))


def gradient_penalty(
    critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, attrs: torch.Tensor, alpha: torch.Tensor
) -> torch.Tensor:
    """WGAN-GP: mean over the batch of (||d critic / d x||_2 - 1)^2 at x = alpha real + (1 - alpha)
    fake, one alpha [N, 1] per sample; differentiable (create_graph) for the critic's update."""
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    out = critic(mixed, attrs)
    (grad,) = torch.autograd.grad(out.sum(), mixed, create_graph=True)
    return ((grad.norm(2, dim=1) - 1) ** 2).mean()


def minmax_preprocess(train: torch.Tensor, *others: torch.Tensor) -> list[torch.Tensor]:
    """The scripts' ``--preprocessing``: a min-max scaler fitted on ``train`` (a constant feature
    gets range 1), applied to every split, then every split divided by the maximum of the
    scaled ``train`` (so test features may exceed 1)."""
    low = train.min(0).values
    span = train.max(0).values - low
    span = torch.where(span == 0, torch.ones_like(span), span)
    scaled = [(x - low) / span for x in (train, *others)]
    top = scaled[0].max()
    top = top if top > 0 else torch.ones_like(top)
    return [x / top for x in scaled]


# --------------------------------------------------------------------------- batches
class _Walk:
    """Batches of exactly ``size`` rows from a walk through shuffled copies of ``n`` rows: a
    batch that runs over the end takes the rest and the head of the next shuffled pass."""

    def __init__(self, n: int, size: int, gen: torch.Generator) -> None:
        self.n, self.size, self.gen = n, size, gen
        self.perm = torch.randperm(n, generator=gen)
        self.pos = 0

    def next(self) -> torch.Tensor:
        parts, need = [], self.size
        while need > 0:
            take = self.perm[self.pos : self.pos + need]
            parts.append(take)
            need -= len(take)
            self.pos += len(take)
            if self.pos >= self.n:
                self.perm, self.pos = torch.randperm(self.n, generator=self.gen), 0
        return torch.cat(parts)


def adam(params, lr: float) -> torch.optim.Adam:
    """Adam with betas (0.5, 0.999), as the authors' code; the fused kernel where this torch has
    it (the same update in one pass over each parameter)."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999), fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999))


def train_softmax(
    x: torch.Tensor,
    y: torch.Tensor,
    n_classes: int,
    epochs: int,
    lr: float,
    batch: int,
    gen: torch.Generator,
    after_epoch=None,
) -> nn.Linear:
    """A linear log-softmax classifier (Adam, betas (0.5, 0.999)), ceil(n / batch) steps an
    epoch; ``after_epoch(epoch, layer)`` is called after each epoch."""
    layer = nn.Linear(x.shape[1], n_classes).to(x.device)
    _init_linear(layer, gen)
    optim = adam(layer.parameters(), lr)
    walk = _Walk(len(x), min(batch, len(x)), gen)
    steps = math.ceil(len(x) / batch)
    for epoch in range(1, epochs + 1):
        for _ in range(steps):
            idx = walk.next().to(x.device)
            loss = F.nll_loss(F.log_softmax(layer(x[idx]), dim=1), y[idx])
            optim.zero_grad(set_to_none=True)
            loss.backward()
            optim.step()
        if after_epoch is not None:
            after_epoch(epoch, layer)
    return layer


# --------------------------------------------------------------------------- a stopped run
STATE_VERSION = 1  # of what fit_predict saves; another version is not continued


def _saved_state(checkpoint: Any, opt: CLSWGANOptions) -> dict | None:
    """The state a stopped run of these options saved (zslbench.checkpoints), or None."""
    state = None if checkpoint is None else checkpoint.load()
    if state is None or state.get("version") != STATE_VERSION or state.get("options") != asdict(opt):
        return None
    return state


# --------------------------------------------------------------------------- the model
class CLSWGAN:
    """The generative model zslbench builds for a run: ``fit_predict(task)`` does the whole of
    the authors' training and returns the test scores (softmax probabilities over all classes)."""

    # part of every run id (zslbench.tracks.gzsl): a change of these values changes the runs
    SETTINGS = {"paper": PAPER_SETTINGS, "paper_fallback": PAPER_FALLBACK, "quick": QUICK_SETTINGS}

    def __init__(self, n_attrs: int, feat_dim: int, options: CLSWGANOptions | None) -> None:
        self.n_attrs, self.feat_dim = n_attrs, feat_dim
        self.options = options or CLSWGANOptions()
        self.settings = "paper"  # set by the harness from the run's generative_settings
        self.nets: list[nn.Module] = []  # generator, critic, frozen classifier, once trained

    def parameters(self):
        """The trained networks' parameters (the record's ``n_parameters``; the final classifier,
        retrained every GAN epoch, is not counted)."""
        return [p for net in self.nets for p in net.parameters()]

    def fit_predict(self, task: api.GenerativeTask) -> api.GenerativeScores:
        opt = resolve(self.options, task.dataset, self.n_attrs, self.settings)
        dev, gen = task.device, task.generator
        select = task.select_epoch if opt.classifier_select == "trainer" else opt.classifier_select
        train_x = torch.as_tensor(task.train_x, dtype=torch.float32)
        test_x = torch.as_tensor(task.test_x, dtype=torch.float32)
        if opt.preprocessing == "minmax":
            train_x, test_x = minmax_preprocess(train_x, test_x)
        train_x, test_x = train_x.to(dev), test_x.to(dev)
        attrs = torch.as_tensor(task.attrs, dtype=torch.float32).to(dev)
        seen = torch.as_tensor(task.seen, dtype=torch.int64)
        unseen = torch.as_tensor(task.unseen, dtype=torch.int64)
        labels = torch.as_tensor(task.train_y, dtype=torch.int64)
        to_seen = torch.full((len(attrs),), -1, dtype=torch.int64)
        to_seen[seen] = torch.arange(len(seen))
        train_y, train_ys = labels.to(dev), to_seen[labels].to(dev)
        n, n_classes = len(train_x), len(attrs)
        began = time.perf_counter()
        saved = _saved_state(task.checkpoint, opt)

        # 1. the seen-class softmax, trained on the real features, then frozen
        clock = time.perf_counter()
        if saved is None:
            frozen = train_softmax(
                train_x, train_ys, len(seen), opt.pretrain_epochs, opt.pretrain_lr, opt.pretrain_batch, gen
            )
        else:
            frozen = nn.Linear(train_x.shape[1], len(seen)).to(dev)
        frozen.requires_grad_(False)
        pretrain_seconds = time.perf_counter() - clock

        g_net = Generator(self.n_attrs, opt.nz, opt.ngh, self.feat_dim, gen).to(dev)
        d_net = Critic(self.n_attrs, opt.ndh, self.feat_dim, gen).to(dev)
        g_opt = adam(g_net.parameters(), opt.lr)
        d_opt = adam(d_net.parameters(), opt.lr)
        size = min(opt.batch, n)
        self.nets = [g_net, d_net, frozen]
        parts: dict[str, Any] = {"frozen": frozen, "g_net": g_net, "d_net": d_net, "g_opt": g_opt, "d_opt": d_opt}

        def noise(rows: int) -> torch.Tensor:
            return torch.randn(rows, opt.nz, generator=gen).to(dev)

        log, best, seconds = [], (-1.0, 0, None), []
        final_scores, first, before, resumed = None, 1, 0.0, []
        if saved is not None:  # continue after the saved epoch, as if never stopped
            for name, part in parts.items():
                part.load_state_dict(saved[name])
            gen.set_state(saved["generator"])
            log, seconds, pretrain_seconds = saved["log"], saved["seconds"], saved["pretrain_seconds"]
            best = (saved["best_h"], saved["best_epoch"], saved["best_scores"])
            final_scores, first = saved["final_scores"], saved["epoch"] + 1
            before, resumed = saved["elapsed"], [*saved["resumed"], saved["epoch"]]
        for epoch in range(first, opt.nepoch + 1):
            g_net.train()
            clock = time.perf_counter()
            d_sum = g_sum = w_sum = 0.0
            steps = math.ceil(n / opt.batch)
            for _ in range(steps):
                # 2. critic_iter critic updates, each on a fresh random batch
                for _ in range(opt.critic_iter):
                    idx = torch.randperm(n, generator=gen)[:size].to(dev)
                    real, a, ys = train_x[idx], attrs[train_y[idx]], train_ys[idx]
                    with torch.no_grad():
                        fake = g_net(noise(size), a)
                    d_real, d_fake = d_net(real, a).mean(), d_net(fake, a).mean()
                    alpha = torch.rand(size, 1, generator=gen).to(dev)
                    d_loss = d_fake - d_real + opt.lambda1 * gradient_penalty(d_net, real, fake, a, alpha)
                    d_opt.zero_grad(set_to_none=True)
                    d_loss.backward()
                    d_opt.step()
                # 3. one generator update, on the last critic batch's classes, with fresh noise
                fake = g_net(noise(size), a)
                g_loss = -d_net(fake, a).mean() + opt.cls_weight * F.nll_loss(F.log_softmax(frozen(fake), 1), ys)
                g_opt.zero_grad(set_to_none=True)
                g_loss.backward()
                g_opt.step()
                d_sum += float(d_loss.detach())
                g_sum += float(g_loss.detach())
                w_sum += float((d_real - d_fake).detach())
            # 4. synthetic unseen features, and a new softmax over all classes
            gan_seconds, clock = time.perf_counter() - clock, time.perf_counter()
            g_net.eval()
            with torch.no_grad():
                syn_a = attrs[unseen.to(dev)].repeat_interleave(opt.syn_num, dim=0)
                syn_x = g_net(noise(len(syn_a)), syn_a)
            syn_y = unseen.repeat_interleave(opt.syn_num).to(dev)
            all_x, all_y = torch.cat([train_x, syn_x]), torch.cat([train_y, syn_y])
            chosen: dict = {"h": -1.0, "epoch": 0, "scores": None}

            def after_epoch(c_epoch: int, layer: nn.Linear, chosen: dict = chosen) -> None:
                if select != "best_test_H" and c_epoch < opt.classifier_epochs:
                    return
                with torch.no_grad():
                    scores = F.softmax(layer(test_x), dim=1).float().cpu()
                h = task.test_h(scores.numpy()) if select == "best_test_H" else 0.0
                if (select == "best_test_H" and h > chosen["h"]) or chosen["scores"] is None:
                    chosen.update(h=h, epoch=c_epoch, scores=scores)
                if select != "best_test_H":
                    chosen["scores"] = scores

            train_softmax(
                all_x, all_y, n_classes, opt.classifier_epochs, opt.classifier_lr, opt.syn_num, gen, after_epoch
            )
            final_scores = chosen["scores"]
            h_epoch = task.test_h(final_scores.numpy())
            if h_epoch > best[0]:
                best = (h_epoch, epoch, final_scores)
            log.append(
                {
                    "epoch": epoch,
                    "loss_D": d_sum / steps,
                    "loss_G": g_sum / steps,
                    "wasserstein": w_sum / steps,
                    "classifier_epoch": chosen["epoch"] or opt.classifier_epochs,
                    "test_H_uncal": h_epoch,
                }
            )
            seconds.append({"gan": round(gan_seconds, 3), "classifier": round(time.perf_counter() - clock, 3)})
            if task.checkpoint is not None and epoch < opt.nepoch and task.checkpoint.due():
                task.checkpoint.save(
                    {
                        **{name: part.state_dict() for name, part in parts.items()},
                        "version": STATE_VERSION,
                        "options": asdict(opt),
                        "epoch": epoch,
                        "generator": gen.get_state(),
                        "log": log,
                        "seconds": seconds,
                        "pretrain_seconds": pretrain_seconds,
                        "best_h": best[0],
                        "best_epoch": best[1],
                        "best_scores": best[2],
                        "final_scores": final_scores,
                        "elapsed": before + time.perf_counter() - began,
                        "resumed": resumed,
                    }
                )
            task.progress(epoch, opt.nepoch, H=f"{h_epoch:.1f}")
        return api.GenerativeScores(
            final=final_scores,
            oracle=best[2],
            oracle_epoch=best[1],
            epoch_log=log,
            extra={
                "model_options_resolved": asdict(opt),
                "pretrain_seconds": round(pretrain_seconds, 3),
                "epoch_seconds": seconds,
                "classifier_select": select,
                **({"resumed_after_epochs": resumed, "seconds_before_resume": round(before, 3)} if resumed else {}),
            },
        )


api.register_model(
    "f-clswgan",
    CLSWGAN,
    options=CLSWGANOptions,
    kind="generative",
    seconds=ESTIMATED_SECONDS,
    deep=False,
    class_norm=False,
    proper_init=False,
    description="f-CLSWGAN (Xian et al. 2018): WGAN-GP feature generator + softmax on real seen and synthetic "
    "unseen features",
)
