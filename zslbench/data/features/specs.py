"""Facts about the GBU/xlsa17 datasets (docs/paper-protocol.md#gbu-format)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DatasetSpec:
    name: str  # CLI name: sun, cub, awa1, awa2, apy
    dir_name: str  # folder name inside xlsa17/data
    display: str  # name used in tables (SUN, CUB, AwA1, AwA2, aPY)
    n_classes: int
    n_seen: int
    n_unseen: int
    attr_dim: int
    n_images: int
    n_trainval: int
    n_test_seen: int
    n_test_unseen: int
    feature_dim: int = 2048


DATASETS: dict[str, DatasetSpec] = {
    s.name: s
    for s in (
        DatasetSpec("sun", "SUN", "SUN", 717, 645, 72, 102, 14340, 10320, 2580, 1440),
        DatasetSpec("cub", "CUB", "CUB", 200, 150, 50, 312, 11788, 7057, 1764, 2967),
        DatasetSpec("awa1", "AWA1", "AwA1", 50, 40, 10, 85, 30475, 19832, 4958, 5685),
        DatasetSpec("awa2", "AWA2", "AwA2", 50, 40, 10, 85, 37322, 23527, 5882, 7913),
        DatasetSpec("apy", "APY", "aPY", 32, 20, 12, 64, 15339, 5932, 1483, 7924),
    )
}

# The datasets of the paper's GZSL table, in its column order.
PAPER_GZSL_DATASETS = ("sun", "cub", "awa1", "awa2")
