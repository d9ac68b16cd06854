"""Write the ``toyfeat`` dataset: ``<data-dir>/toyfeat/features.npz``.

12 classes with 16 random attributes each; an image's 64-d feature is a fixed random map of its
class's attributes plus noise (so the attributes tell the classes apart, and a model can learn
it).  Classes 0-7 are seen (20 training and 10 test images each), 8-11 unseen (30 test images
each).  Usage: ``python -m zslbench_example.make_data [DATA_DIR]``; without DATA_DIR (or with an empty one) it writes
into zslbench's own data folder (``$ZSLBENCH_DATA``, else the user cache folder), where
``zslbench data check`` and ``zslbench run`` look without ``--data-dir``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from zslbench import api

N_CLASSES, N_SEEN, N_ATTRS, DIM, PER_CLASS = 12, 8, 16, 64, 30


def make(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    attrs = rng.random((N_CLASSES, N_ATTRS)).astype(np.float32)
    mix = rng.normal(size=(N_ATTRS, DIM)).astype(np.float32)
    labels = np.repeat(np.arange(N_CLASSES), PER_CLASS)
    feats = np.maximum(attrs[labels] @ mix + 0.3 * rng.normal(size=(len(labels), DIM)), 0).astype(np.float32)
    within = np.tile(np.arange(PER_CLASS), N_CLASSES)
    seen = labels < N_SEEN
    return {
        "features": feats,
        "labels": labels,
        "attrs": attrs,
        "trainval_idx": np.flatnonzero(seen & (within < 20)),
        "test_seen_idx": np.flatnonzero(seen & (within >= 20)),
        "test_unseen_idx": np.flatnonzero(~seen),
        "class_names": np.array([f"class{c:02d}" for c in range(N_CLASSES)]),
    }


def write(data_dir: str | Path, seed: int = 0) -> Path:
    path = Path(data_dir) / "toyfeat" / "features.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **make(seed))
    return path


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1:
        sys.exit("usage: python -m zslbench_example.make_data [DATA_DIR]")
    print(write(args[0] if args and args[0].strip() else api.default_data_dir()))


if __name__ == "__main__":
    main()
