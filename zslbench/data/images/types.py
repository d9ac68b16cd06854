"""The in-memory form of a raw-image continual-ZSL dataset (the CZSL image track).

The image track fine-tunes a ResNet-18 on raw images (docs/paper-protocol.md#czsl-images, #czsl-protocol).  Its
data stage hands the trainer one :class:`ImageData`: every image decoded and resized once
into a uint8 array (a memory-mapped cache on disk for real data), the class labels, the class
attributes and the per-class train/val/test split of the source.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from zslbench.data.registry import DATA_SOURCES, IMAGES

IMAGE_DATASETS = ("cub", "sun")  # the CZSL datasets; their folders: cub-images, sun-images
IMAGE_SOURCES = ("auto", *DATA_SOURCES.choices(IMAGES))  # "images": the official archives' layouts


@dataclass(frozen=True, eq=False)
class ImageData:
    """A raw-image dataset with 0-based class ids.

    images:   [N, S, S, 3] uint8, RGB channel order, resized to S = image_size (no crop);
              a read-only ``np.memmap`` of the decoded-image cache for real data.
    labels:   [N] int64 class ids in 0..C-1 (CUB: class folder prefix minus 1; SUN: rank of
              the class folder name in sorted order).
    attrs:    [C, A] float32 class attribute vectors as the source gives them (CUB 312-d,
              SUN 102-d per-class mean of the per-image continuous labels, L2-normalised);
              attribute normalisation happens in the model stage.
    splits:   "train", "val", "test" -> int64 image indices (CUB: the official
              train_test_split.txt, "val" empty; SUN: 10/5/5 per class with RandomState(42)).
    fingerprint: hex digest of the source files and the preprocessing (image_size).
    attr_source: which file the attributes came from (e.g. "class_attribute_labels_continuous.txt",
              "CUB_attr_in_order.pickle", "attributeLabels_continuous.mat", "synthetic").
    """

    name: str  # "cub" | "sun"
    source: str  # "images" | "synthetic"
    images: np.ndarray
    labels: np.ndarray
    attrs: np.ndarray
    splits: dict
    class_names: tuple[str, ...]
    fingerprint: str
    attr_source: str
    image_size: int
    image_files: tuple[str, ...] = ()
    meta: dict = field(default_factory=dict)

    @property
    def n_classes(self) -> int:
        return int(self.attrs.shape[0])

    @property
    def attr_dim(self) -> int:
        return int(self.attrs.shape[1])

    @property
    def n_images(self) -> int:
        return int(self.images.shape[0])

    def summary(self) -> dict:
        return {
            "dataset": self.name,
            "source": self.source,
            "classes": self.n_classes,
            "attributes": self.attr_dim,
            "attr_source": self.attr_source,
            "images": self.n_images,
            "image_size": self.image_size,
            **{f"{k}_images": len(v) for k, v in self.splits.items()},
        }
