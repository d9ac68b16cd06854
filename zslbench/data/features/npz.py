"""A features dataset of one's own: ``<data-dir>/<name>/features.npz``, registered by a plugin
with ``zslbench.api.register_dataset(name)`` (docs/extending.md#datasets).

The arrays (indices 0-based, any feature dimension D and attribute count A):

* ``features`` [N, D] float image features;
* ``labels`` [N] int class of each image, in 0..C-1;
* ``attrs`` [C, A] float class attributes (one non-zero row per class);
* ``trainval_idx``, ``test_seen_idx``, ``test_unseen_idx`` int image indices: the seen classes
  are those of trainval, the unseen ones those of test_unseen, and the two do not overlap;
* ``class_names`` [C] str.

Every problem raises :class:`~zslbench.errors.DataError` with one line naming the file and
the array.  Only these arrays are read (other members of the file are ignored), and each one's
``.npy`` header is checked before its data: a readable header, no object dtype, a data size that
matches the member's size, and all arrays together at most :data:`MAX_BYTES`
(``$ZSLBENCH_NPZ_MAX_BYTES``).  The data's fingerprint is the SHA-256 of the file.
"""

from __future__ import annotations

import math
import os
import zipfile
from pathlib import Path

import numpy as np

from zslbench.data.archives import parse_size
from zslbench.data.features.types import ZSLData
from zslbench.data.features.xlsa17_files import combined_fingerprint, file_sha256
from zslbench.errors import DataError, one_line

NPZ_FILE = "features.npz"
ARRAYS = ("features", "labels", "attrs", "trainval_idx", "test_seen_idx", "test_unseen_idx", "class_names")
SPLITS = ("trainval_idx", "test_seen_idx", "test_unseen_idx")
#: The data of all arrays together may hold at most this many bytes unless $ZSLBENCH_NPZ_MAX_BYTES says otherwise.
MAX_BYTES = 16 << 30
MAX_BYTES_VAR = "ZSLBENCH_NPZ_MAX_BYTES"
_MAX_HEADER = 10000
_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def npz_path(name: str, data_dir: str | os.PathLike) -> Path:
    return Path(data_dir) / name / NPZ_FILE


def npz_fingerprint(name: str, data_dir: str | os.PathLike) -> str:
    path = npz_path(name, data_dir)
    if not path.is_file():
        raise DataError(f"{path}: file not found (dataset {name!r}: docs/extending.md#datasets)")
    return combined_fingerprint({NPZ_FILE: file_sha256(path)})


def _error(path: Path, key: str, problem: str) -> DataError:
    return DataError(f"{path}: array '{key}': {problem}")


def max_bytes() -> int:
    text = os.environ.get(MAX_BYTES_VAR, "").strip()
    return int(parse_size(MAX_BYTES_VAR, text)) if text else MAX_BYTES


def _header(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, key: str) -> int:
    """Check the ``.npy`` header of the member ``info``; the bytes of data it declares."""
    try:
        with zf.open(info) as fh:
            version = np.lib.format.read_magic(fh)
            if version not in _READERS:
                raise ValueError(f"unsupported .npy format version {version[0]}.{version[1]}")
            shape, _fortran, dtype = _READERS[version](fh, max_header_size=_MAX_HEADER)
            offset = fh.tell()
    except Exception as exc:
        raise _error(path, key, f"not a readable .npy header ({one_line(exc) or type(exc).__name__})") from None
    if dtype.hasobject:
        raise _error(path, key, f"dtype {dtype}: Python objects are never loaded")
    if any(d < 0 for d in shape):
        raise _error(path, key, f"shape {shape}: negative dimension")
    nbytes = math.prod(shape) * dtype.itemsize
    if info.file_size - offset != nbytes:
        raise _error(
            path,
            key,
            f"the header declares shape {shape} of {dtype} ({nbytes} bytes of data) "
            f"but the file holds {info.file_size - offset} bytes",
        )
    if len(shape) != (2 if key in ("features", "attrs") else 1):
        want = "a non-empty 2-D array" if key in ("features", "attrs") else "one dimension"
        raise _error(path, key, f"shape {shape}: expected {want}")
    return nbytes


def _read(path: Path) -> dict:
    """The known arrays of ``path``, each header checked before any data is read."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        with zipfile.ZipFile(path) as zf:
            members = {}
            for info in zf.infolist():
                key = info.filename.removesuffix(".npy")
                if key in ARRAYS:
                    members[key] = info
            for key in ARRAYS:
                if key not in members:
                    raise _error(path, key, "missing")
            total, limit = 0, max_bytes()
            for key in ARRAYS:
                total += _header(path, zf, members[key], key)
                if total > limit:
                    raise _error(
                        path,
                        key,
                        f"the arrays up to this one hold {total} bytes of data, more "
                        f"than the limit of {limit} (${MAX_BYTES_VAR})",
                    )
            arrays = {}
            for key in ARRAYS:
                with zf.open(members[key]) as fh:
                    arrays[key] = np.lib.format.read_array(fh, allow_pickle=False, max_header_size=_MAX_HEADER)
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"{path}: not a readable .npz file ({type(exc).__name__}: {one_line(exc)})") from None
    return arrays


def _int_array(path: Path, arrays: dict, key: str) -> np.ndarray:
    a = arrays[key]
    if a.ndim != 1:
        raise _error(path, key, f"shape {a.shape}: expected one dimension")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise _error(path, key, f"dtype {a.dtype}: expected integers")
    return a.astype(np.int64)


def validate(path: Path, arrays: dict) -> tuple:
    """Check the arrays against each other; (features, labels, attrs, splits, names, seen, unseen)."""
    feats, attrs = arrays["features"], arrays["attrs"]
    for key, a in (("features", feats), ("attrs", attrs)):
        if a.ndim != 2 or 0 in a.shape:
            raise _error(path, key, f"shape {a.shape}: expected a non-empty 2-D array")
        if not np.issubdtype(a.dtype, np.number):
            raise _error(path, key, f"dtype {a.dtype}: expected numbers")
        bad = ~np.isfinite(a)
        if bad.any():
            row, col = (int(x) for x in np.argwhere(bad)[0])
            raise _error(path, key, f"{int(bad.sum())} NaN or infinite value(s), e.g. row {row}, column {col}")
        big = np.abs(a.astype(np.float64)) > np.finfo(np.float32).max
        if big.any():
            row, col = (int(x) for x in np.argwhere(big)[0])
            raise _error(path, key, f"value {a[row, col]} (row {row}, column {col}) does not fit in float32")
    n_img, n_cls = feats.shape[0], attrs.shape[0]
    labels = _int_array(path, arrays, "labels")
    if labels.shape != (n_img,):
        raise _error(path, "labels", f"shape {labels.shape}: expected ({n_img},), one per row of 'features'")
    names = arrays["class_names"]
    if names.shape != (n_cls,):
        raise _error(path, "class_names", f"shape {names.shape}: expected ({n_cls},), one per row of 'attrs'")
    outside = (labels < 0) | (labels >= n_cls)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise _error(path, "labels", f"label {int(labels[i])} of image {i} has no class: 'attrs' has {n_cls} rows")
    empty = np.flatnonzero(~np.any(attrs != 0, axis=1))
    if empty.size:
        c = int(empty[0])
        raise _error(path, "attrs", f"class {c} ('{names[c]}') has no attributes (an all-zero row)")
    splits = {}
    for key in SPLITS:
        idx = _int_array(path, arrays, key)
        if idx.size == 0:
            raise _error(path, key, "empty")
        if idx.min() < 0 or idx.max() >= n_img:
            raise _error(
                path, key, f"index {int(idx.max() if idx.max() >= n_img else idx.min())} is outside 0..{n_img - 1}"
            )
        values, counts = np.unique(idx, return_counts=True)
        if (counts > 1).any():
            i = int(np.flatnonzero(counts > 1)[0])
            raise _error(
                path, key, f"index {int(values[i])} appears {int(counts[i])} times: a split lists each image once"
            )
        splits[key] = idx
    seen = np.unique(labels[splits["trainval_idx"]])
    unseen = np.unique(labels[splits["test_unseen_idx"]])
    both = np.intersect1d(seen, unseen)
    if both.size:
        c = int(both[0])
        raise _error(
            path,
            "test_unseen_idx",
            f"class {c} ('{names[c]}') is also a seen class (in 'trainval_idx'): "
            "seen and unseen classes must not overlap",
        )
    stray = np.setdiff1d(np.unique(labels[splits["test_seen_idx"]]), seen)
    if stray.size:
        c = int(stray[0])
        raise _error(path, "test_seen_idx", f"class {c} ('{names[c]}') is not a seen class (none in 'trainval_idx')")
    if np.intersect1d(splits["trainval_idx"], splits["test_seen_idx"]).size:
        raise _error(path, "test_seen_idx", "holds images that are also in 'trainval_idx'")
    return feats, labels, attrs, splits, names, seen, unseen


def load_npz(name: str, data_dir: str | os.PathLike) -> ZSLData:
    """Load and validate ``<data_dir>/<name>/features.npz``."""
    path = npz_path(name, data_dir)
    feats, labels, attrs, splits, names, seen, unseen = validate(path, _read(path))
    return ZSLData(
        name=name,
        source="npz",
        features=np.ascontiguousarray(feats, dtype=np.float32),
        labels=labels,
        attrs=np.ascontiguousarray(attrs, dtype=np.float32),
        trainval_idx=splits["trainval_idx"],
        test_seen_idx=splits["test_seen_idx"],
        test_unseen_idx=splits["test_unseen_idx"],
        seen_classes=seen,
        unseen_classes=unseen,
        class_names=tuple(str(n) for n in names),
        vintage="npz",
        fingerprint=npz_fingerprint(name, data_dir),
    )


def check_npz(name: str, data_dir: str | os.PathLike):
    """``zslbench data check`` of one npz dataset: a CheckResult (status "ok" or "fail")."""
    from zslbench.data.features.xlsa17 import CheckResult

    res = CheckResult(dataset=name, vintage="npz", path=str(npz_path(name, data_dir)))
    try:
        data = load_npz(name, data_dir)
    except DataError as exc:
        res.message = str(exc)
        return res
    res.status, res.message, res.fingerprint = "ok", f"ok (npz, {data.feature_dim}-d features)", data.fingerprint
    res.classes, res.attributes = data.n_classes, data.attr_dim
    res.seen, res.unseen = len(data.seen_classes), len(data.unseen_classes)
    res.images, res.trainval = int(data.features.shape[0]), len(data.trainval_idx)
    res.test_seen, res.test_unseen = len(data.test_seen_idx), len(data.test_unseen_idx)
    return res
