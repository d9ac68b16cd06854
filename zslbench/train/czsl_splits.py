"""Continual-ZSL splits (docs/paper-protocol.md#czsl-protocol, #czsl-images): classes into tasks, images into
train/val/test per class.

Both are pure functions of their seeds.  The task split uses the run seed (the task order
changes per seed, as in the authors' scripts); the image split uses its own seed so that
every run seed sees the same images (the authors' splits are fixed: CUB's official split,
SUN's ``RandomState(42)``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zslbench.errors import DataError


def task_sizes(num_classes: int, num_tasks: int) -> list[int]:
    """Sizes of ``num_tasks`` consecutive chunks that are as equal as possible, smaller first.

    CUB: 200 classes / 10 tasks -> 20 x 10; SUN: 717 / 15 -> 47, 47, 47, then 48 x 12.
    """
    if num_tasks < 1 or num_tasks > num_classes:
        raise DataError(f"cannot split {num_classes} classes into {num_tasks} tasks")
    base, extra = divmod(num_classes, num_tasks)
    return [base] * (num_tasks - extra) + [base + 1] * extra


def task_split(num_classes: int, num_tasks: int, seed: int) -> list[np.ndarray]:
    """``RandomState(seed).permutation(num_classes)`` cut into consecutive chunks (global ids)."""
    perm = np.random.RandomState(seed).permutation(num_classes).astype(np.int64)
    bounds = np.cumsum([0] + task_sizes(num_classes, num_tasks))
    return [perm[bounds[i] : bounds[i + 1]] for i in range(num_tasks)]


@dataclass(frozen=True)
class ImageSplit:
    """Sorted image indices (into the dataset's feature rows) of each part."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    def counts(self) -> dict:
        return {"train": int(self.train.size), "val": int(self.val.size), "test": int(self.test.size)}

    def to_json(self) -> dict:
        return {"train": self.train.tolist(), "val": self.val.tolist(), "test": self.test.tolist()}


def per_class_counts(n: np.ndarray, ratio: tuple[float, float, float]) -> tuple[np.ndarray, ...]:
    """Train/val/test counts for classes with ``n`` images under a train:val:test ``ratio``.

    val and test get ``floor(n * share)`` images, at least 1 each when their share is > 0;
    train gets the rest.  With 10/5/5 and 20 images: 10/5/5; with 1/0/1 and 59 images: 30/0/29.
    """
    total = float(sum(ratio))
    n = np.asarray(n, dtype=np.int64)
    n_val = np.floor(n * (ratio[1] / total) + 1e-9).astype(np.int64)
    n_test = np.floor(n * (ratio[2] / total) + 1e-9).astype(np.int64)
    if ratio[1] > 0:
        n_val = np.maximum(n_val, 1)
    n_test = np.maximum(n_test, 1)
    n_train = n - n_val - n_test
    return n_train, n_val, n_test


def image_split(labels: np.ndarray, num_classes: int, ratio: tuple[float, float, float], seed: int) -> ImageSplit:
    """Split every class's images into train/val/test by ``ratio``, shuffled with ``seed``.

    Uses all images of the dataset (``labels`` has one entry per feature row).  A class needs
    at least one train and one test image (and one val image when the ratio has a val part):
    DataError otherwise.
    """
    labels = np.asarray(labels, dtype=np.int64)
    counts = np.bincount(labels, minlength=num_classes)
    n_train, n_val, _n_test = per_class_counts(counts, ratio)
    short = np.flatnonzero(n_train < 1)
    if short.size:
        need = 2 + (1 if ratio[1] > 0 else 0)
        raise DataError(
            f"class {int(short[0])} has {int(counts[short[0]])} image(s); the continual split "
            f"{'/'.join(f'{r:g}' for r in ratio)} needs at least {need} per class "
            f"({short.size} class(es) too small; use a larger synthetic_scale)"
        )
    perm = np.random.RandomState(seed).permutation(labels.size)
    order = perm[np.argsort(labels[perm], kind="stable")]  # grouped by class, shuffled within
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank = np.arange(labels.size) - np.repeat(starts, counts)  # position within its class
    cls = labels[order]
    is_train = rank < n_train[cls]
    is_val = ~is_train & (rank < (n_train + n_val)[cls])
    is_test = ~is_train & ~is_val
    return ImageSplit(np.sort(order[is_train]), np.sort(order[is_val]), np.sort(order[is_test]))
