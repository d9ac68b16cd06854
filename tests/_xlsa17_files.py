"""Build xlsa17 dataset files for tests: the genuine att_splits.mat of ../shared/data/xlsa17 plus a
generated res101.mat whose labels agree with the splits.

The genuine files have no image features.  Generated labels: test_unseen images round-robin over
a fixed set of unseen classes, trainval and test_seen images round-robin over the other classes
(shared by tests/test_xlsa17.py and tests/test_fetch.py).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import scipy.io as sio

# ../shared beside the repository; $ZSLBENCH_TEST_XLSA17 points elsewhere (e.g. from a git worktree).
SHARED = Path(
    os.environ.get("ZSLBENCH_TEST_XLSA17") or Path(__file__).resolve().parents[2] / "shared" / "data" / "xlsa17"
)
MAIN = ("trainval_loc", "test_seen_loc", "test_unseen_loc")


def genuine_available() -> bool:
    return (SHARED / "manifest.json").is_file()


def consistent_labels(splits: dict, n_unseen: int) -> np.ndarray:
    """1-based labels [N] such that test_unseen holds exactly ``n_unseen`` classes."""
    n_cls = splits["att"].shape[1]
    locs = {k: splits[k].ravel().astype(np.int64) - 1 for k in MAIN}
    n_img = int(max(v.max() for v in locs.values())) + 1
    unseen = np.unique(np.linspace(0, n_cls - 1, n_unseen).round().astype(np.int64))
    assert unseen.size == n_unseen
    seen = np.setdiff1d(np.arange(n_cls), unseen)
    labels = np.zeros(n_img, dtype=np.int64)
    labels[locs["test_unseen_loc"]] = unseen[np.arange(locs["test_unseen_loc"].size) % unseen.size]
    labels[locs["trainval_loc"]] = seen[np.arange(locs["trainval_loc"].size) % seen.size]
    labels[locs["test_seen_loc"]] = seen[np.arange(locs["test_seen_loc"].size) % seen.size]
    return labels + 1


def res101_bytes(splits_path: Path, n_unseen: int, dim: int, seed: int = 0) -> bytes:
    """A res101.mat (features [dim x N] float32, labels [N x 1]) aligned to ``splits_path``."""
    splits = sio.loadmat(splits_path, variable_names=list(MAIN) + ["att"])
    labels1 = consistent_labels(splits, n_unseen)
    rng = np.random.default_rng(seed)
    feats = rng.random((dim, labels1.size), dtype=np.float32)
    buf = io.BytesIO()
    sio.savemat(buf, {"features": feats, "labels": labels1.astype(np.float64)[:, None]})
    return buf.getvalue()
