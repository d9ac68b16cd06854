"""Conversion and validation of the metrics' inputs: logits, labels, class ids, seen masks
(numpy arrays, torch tensors on any device, or nested sequences)."""

from __future__ import annotations

from typing import Any

import numpy as np

# Rows processed at a time by the block-wise passes over the logits; chosen so
# that one chunk of a [N, ~700] float32 matrix stays a few megabytes.
CHUNK_ELEMENTS = 1 << 20


# ----------------------------------------------------------------------------
# conversion and validation
# ----------------------------------------------------------------------------
def to_numpy(x: Any) -> np.ndarray:
    """Return ``x`` as a numpy array.

    Torch tensors are detached and moved to the CPU; half-precision tensors
    (float16, bfloat16, which numpy cannot always represent) become float32.
    numpy arrays are returned as they are (no copy); anything else goes
    through :func:`numpy.asarray`.  torch is never imported by this function:
    a tensor is recognised by its ``detach``/``cpu`` methods.
    """
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "detach") and hasattr(x, "cpu") and hasattr(x, "numpy"):
        tensor = x.detach()
        if tensor.is_floating_point() and tensor.element_size() < 4:
            tensor = tensor.float()
        return tensor.cpu().numpy()
    return np.asarray(x)


def as_int_vector(x: Any, name: str) -> np.ndarray:
    """1-D int64 array; float input is accepted only when every value is integral."""
    a = to_numpy(x)
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {a.shape}")
    if a.dtype == np.bool_:
        raise ValueError(f"{name} must hold integer class ids, got booleans")
    if np.issubdtype(a.dtype, np.integer):
        return a.astype(np.int64, copy=False)
    if np.issubdtype(a.dtype, np.floating):
        if a.size and not (np.isfinite(a).all() and (a == np.round(a)).all()):
            raise ValueError(f"{name} must hold integer class ids, got non-integral values")
        return a.astype(np.int64)
    raise ValueError(f"{name} must hold integer class ids, got dtype {a.dtype}")


def as_logits(logits: Any, name: str = "logits", check_finite: bool = True) -> np.ndarray:
    a = to_numpy(logits)
    if a.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array [num_samples, num_classes], got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.floating):
        if np.issubdtype(a.dtype, np.integer) or a.dtype == np.bool_:
            a = a.astype(np.float64)
        else:
            raise ValueError(f"{name} must be numeric, got dtype {a.dtype}")
    if a.shape[1] == 0:
        raise ValueError(f"{name} has no classes (shape {a.shape})")
    if check_finite and not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def as_labels(labels: Any, num_samples: int, num_classes: int) -> np.ndarray:
    y = as_int_vector(labels, "labels")
    if y.shape[0] != num_samples:
        raise ValueError(f"labels has {y.shape[0]} entries but logits has {num_samples} rows")
    if num_samples == 0:
        raise ValueError("there are no samples (empty labels)")
    lo, hi = int(y.min()), int(y.max())
    if lo < 0 or hi >= num_classes:
        raise ValueError(f"labels must be global class ids in [0, {num_classes}), found values in [{lo}, {hi}]")
    return y


def as_class_ids(ids: Any, num_classes: int | None, name: str) -> np.ndarray:
    c = as_int_vector(ids, name)
    if c.size == 0:
        raise ValueError(f"{name} is empty")
    if c.min() < 0 or (num_classes is not None and c.max() >= num_classes):
        bound = f"[0, {num_classes})" if num_classes is not None else "[0, inf)"
        raise ValueError(f"{name} must be class ids in {bound}, found values in [{int(c.min())}, {int(c.max())}]")
    if np.unique(c).size != c.size:
        raise ValueError(f"{name} contains duplicate class ids")
    return c


def as_seen_mask(seen_mask: Any, num_classes: int) -> np.ndarray:
    m = to_numpy(seen_mask)
    if m.ndim != 1 or m.shape[0] != num_classes:
        raise ValueError(f"seen_mask must be a boolean vector over the {num_classes} classes, got shape {m.shape}")
    if m.dtype != np.bool_:
        if not (np.issubdtype(m.dtype, np.number) and np.isin(m, (0, 1)).all()):
            raise ValueError("seen_mask must be boolean (or 0/1), one entry per class")
        m = m.astype(bool)
    return m
