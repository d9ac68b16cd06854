"""The one in-memory form of a GZSL dataset that every later stage reads."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, eq=False)
class ZSLData:
    """A GBU-style dataset with 0-based indices and global 0-based class ids.

    features: [N, D] float32 image features (non-negative ResNet-101 features for xlsa17).
    labels:   [N] int64 global class ids in 0..C-1.
    attrs:    [C, A] float32 class attribute vectors as stored (`att` transposed:
              unit L2 norm per class); attribute normalisation happens in the model stage.
    *_idx:    int64 0-based image indices. train_idx/val_idx exist only in the 2018 vintage.
    seen_classes / unseen_classes: sorted int64 global class ids.
    """

    name: str
    source: str  # "xlsa17" | "synthetic"
    features: np.ndarray
    labels: np.ndarray
    attrs: np.ndarray
    trainval_idx: np.ndarray
    test_seen_idx: np.ndarray
    test_unseen_idx: np.ndarray
    seen_classes: np.ndarray
    unseen_classes: np.ndarray
    class_names: tuple[str, ...]
    vintage: str  # "2018" | "2019" | "synthetic"
    fingerprint: str  # hex digest identifying the exact data
    train_idx: np.ndarray | None = None
    val_idx: np.ndarray | None = None
    meta: dict = field(default_factory=dict)

    @property
    def n_classes(self) -> int:
        return int(self.attrs.shape[0])

    @property
    def attr_dim(self) -> int:
        return int(self.attrs.shape[1])

    @property
    def feature_dim(self) -> int:
        return int(self.features.shape[1])

    def summary(self) -> dict:
        return {
            "dataset": self.name,
            "source": self.source,
            "vintage": self.vintage,
            "classes": self.n_classes,
            "seen": len(self.seen_classes),
            "unseen": len(self.unseen_classes),
            "attributes": self.attr_dim,
            "images": int(self.features.shape[0]),
            "trainval": len(self.trainval_idx),
            "test_seen": len(self.test_seen_idx),
            "test_unseen": len(self.test_unseen_idx),
        }
