"""Tiny in-memory raw-image datasets (ImageData) for the CZSL image-track tests."""

from __future__ import annotations

import numpy as np

from zslbench.data.images.types import ImageData


def make_image_data(
    name: str = "cub", n_classes: int = 8, per_class: int = 6, size: int = 32, attr_dim: int = 12, seed: int = 0
) -> ImageData:
    """Class-dependent uint8 RGB images: each class has its own colour and stripe frequency,
    plus noise; half of every class's images train, the rest test (SUN-like: a val part too)."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(n_classes), per_class)
    colours = rng.integers(0, 256, size=(n_classes, 3))
    yy = np.arange(size)[:, None] * np.ones(size)[None, :]
    images = np.empty((labels.size, size, size, 3), dtype=np.uint8)
    for i, c in enumerate(labels):
        stripes = 0.5 + 0.5 * np.sin(yy * (c + 1) * np.pi / size)
        img = colours[c][None, None, :] * stripes[:, :, None] + rng.normal(0, 12, size=(size, size, 3))
        images[i] = np.clip(img, 0, 255).astype(np.uint8)
    attrs = rng.random((n_classes, attr_dim)).astype(np.float32)
    rank = np.tile(np.arange(per_class), n_classes)
    if name == "sun":
        train = np.flatnonzero(rank < per_class // 2)
        val = np.flatnonzero((rank >= per_class // 2) & (rank < per_class // 2 + per_class // 4))
        test = np.flatnonzero(rank >= per_class // 2 + per_class // 4)
    else:
        train, val, test = np.flatnonzero(rank % 2 == 0), np.zeros(0, dtype=np.int64), np.flatnonzero(rank % 2 == 1)
    return ImageData(
        name=name,
        source="synthetic",
        images=images,
        labels=labels.astype(np.int64),
        attrs=attrs,
        splits={"train": train, "val": val, "test": test},
        class_names=tuple(f"c{i}" for i in range(n_classes)),
        fingerprint=f"test-images-{name}-{n_classes}-{per_class}-{size}-{seed}",
        attr_source="synthetic",
        image_size=size,
    )
