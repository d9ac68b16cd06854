"""How learnable the image track's synthetic images are: a small CNN with an attribute head.

A 3-layer CNN embeds each image, an MLP embeds each class's attributes, and the scaled cosine
of the two are the logits (the zero-shot set-up of the paper's head, in small).  It trains with
Adam on the training images of 150 classes of synthetic CUB and reports, after every epoch, the
accuracy on those classes' test images (150-way) and the zero-shot accuracy on the test images
of the other 50 classes (50-way, from their attributes alone).  One torch thread; the load
average is printed with every epoch.

    python benchmarks/probe_synthetic_images.py                # 32 px, half the images, 4 epochs
    python benchmarks/probe_synthetic_images.py --scale 1 --epochs 8
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from zslbench.data.images import load_image_dataset


class Probe(nn.Module):
    def __init__(self, attr_dim: int, dim: int = 128) -> None:
        super().__init__()

        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]

        self.images = nn.Sequential(
            *block(3, 32),
            nn.MaxPool2d(2),
            *block(32, 64),
            nn.MaxPool2d(2),
            *block(64, 128),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(128, dim),
        )
        self.attrs = nn.Sequential(nn.Linear(attr_dim, 256), nn.ReLU(), nn.Linear(256, dim))

    def forward(self, x, a):
        return 10.0 * F.normalize(self.images(x), dim=1) @ F.normalize(self.attrs(a), dim=1).T


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="cub", choices=["cub", "sun"])
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--scale", type=float, default=0.5)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    data = load_image_dataset(args.dataset, "synthetic", None, image_size=args.size, synthetic_scale=args.scale)
    x = torch.tensor(np.asarray(data.images)).permute(0, 3, 1, 2).float() / 255.0
    x = (x - x.mean((0, 2, 3), keepdim=True)) / x.std((0, 2, 3), keepdim=True)
    y = torch.tensor(data.labels)
    a = torch.tensor(data.attrs)
    a = (a - a.mean(0)) / (a.std(0) + 1e-6)
    c = data.n_classes
    n_unseen = c // 4
    unseen = torch.tensor(np.sort(np.random.default_rng(args.seed).choice(c, n_unseen, replace=False)))
    is_seen = torch.ones(c, dtype=torch.bool)
    is_seen[unseen] = False
    seen = torch.nonzero(is_seen).squeeze(1)
    to_seen = torch.full((c,), -1, dtype=torch.long)
    to_seen[seen] = torch.arange(seen.numel())
    to_unseen = torch.full((c,), -1, dtype=torch.long)
    to_unseen[unseen] = torch.arange(n_unseen)
    evals = "test" if data.splits["test"].size else "val"
    train = torch.tensor(data.splits["train"])
    train = train[is_seen[y[train]]]
    test = torch.tensor(data.splits[evals])
    test_s, test_u = test[is_seen[y[test]]], test[~is_seen[y[test]]]
    model = Probe(data.attr_dim)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    print(
        f"synthetic {args.dataset} at {args.size} px, scale {args.scale}: {train.numel()} training "
        f"images of {seen.numel()} classes; {n_unseen} unseen classes"
    )
    t0 = time.time()
    for epoch in range(args.epochs):
        model.train()
        order = train[torch.randperm(train.numel())]
        for i in range(0, order.numel(), 64):
            b = order[i : i + 64]
            loss = F.cross_entropy(model(x[b], a[seen]), to_seen[y[b]])
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            acc_s = (model(x[test_s], a[seen]).argmax(1) == to_seen[y[test_s]]).float().mean().item()
            acc_u = (model(x[test_u], a[unseen]).argmax(1) == to_unseen[y[test_u]]).float().mean().item()
        print(
            f"epoch {epoch + 1}: seen {acc_s:.3f} ({seen.numel()}-way, chance {1 / seen.numel():.3f}), "
            f"zero-shot unseen {acc_u:.3f} ({n_unseen}-way, chance {1 / n_unseen:.3f}) "
            f"[{time.time() - t0:.0f} s, load {os.getloadavg()[0]:.1f}]",
            flush=True,
        )


if __name__ == "__main__":
    main()
