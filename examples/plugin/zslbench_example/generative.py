"""``mean-gen``: a small generative model (``kind="generative"``).

It fits a ridge regression from a class's attributes to the mean of its (standardised) training
features, generates ``per_class`` synthetic features for every unseen class around the means it
predicts (Gaussian noise with the seen classes' mean spread), and scores a test feature by a
softmax over the negative squared distances to the class centres: the real seen-class means and
the synthetic unseen-class means.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from zslbench import api


@dataclass(frozen=True)
class MeanGenOptions:
    ridge: float = 1.0  # L2 weight of the regression
    per_class: int = 50  # synthetic features per unseen class
    temperature: float = 1.0


class MeanGenerator:
    def __init__(self, n_attrs: int, feat_dim: int, options: MeanGenOptions) -> None:
        self.options = options

    def fit_predict(self, task: api.GenerativeTask) -> api.GenerativeScores:
        opt = self.options
        x, y, attrs = task.train_x.float(), task.train_y, task.attrs.float()
        mu, sd = x.mean(0), x.std(0).clamp_min(1e-6)
        x = (x - mu) / sd
        seen, unseen = task.seen, task.unseen
        means = torch.stack([x[y == c].mean(0) for c in seen.tolist()])
        spread = torch.stack([x[y == c].std(0, unbiased=False) for c in seen.tolist()]).mean(0)
        a = attrs[seen]
        w = torch.linalg.solve(a.t() @ a + opt.ridge * torch.eye(a.shape[1]), a.t() @ means)
        centres = torch.zeros(len(attrs), x.shape[1])
        centres[seen] = means
        predicted = attrs[unseen] @ w
        noise = torch.randn(len(unseen), opt.per_class, x.shape[1], generator=task.generator)
        centres[unseen] = (predicted.unsqueeze(1) + noise * spread).mean(1)  # the synthetic features' means
        test = (task.test_x.float() - mu) / sd
        scores = torch.softmax(-(torch.cdist(test, centres) ** 2) / (opt.temperature * x.shape[1]), dim=1)
        task.progress(1, 1)
        return api.GenerativeScores(final=scores)
