"""Reading and validating the two MAT-files of an xlsa17 dataset: ``att_splits.mat`` (class
attributes and names, the split indices) and ``res101.mat`` (features, labels), each on its own.

Every problem raises :class:`~zslbench.errors.DataError` with a single line that names the file,
the key and what is wrong (:func:`mat_error`).  Checks across the two files are in
:mod:`zslbench.data.features.xlsa17`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zslbench.errors import DataError, one_line

MAIN_SPLITS = ("trainval_loc", "test_seen_loc", "test_unseen_loc")
TUNING_SPLITS = ("train_loc", "val_loc")

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def mat_error(path: Path, key: str | None, problem: str) -> DataError:
    where = f"{path}: key '{key}': " if key else f"{path}: "
    return DataError(one_line(where + problem))


def _is_hdf5(head: bytes) -> bool:
    if head[512:520] == _HDF5_SIGNATURE or head[:8] == _HDF5_SIGNATURE:
        return True
    if len(head) >= 128 and head[124:128] in (b"\x00\x02IM", b"\x02\x00MI"):
        return True  # MAT version 0x0200 = v7.3
    return b"MATLAB 7.3 MAT-file" in head[:116]


def _read_mat(path: Path, keys: tuple[str, ...] | None) -> dict:
    """Read ``keys`` (None: all) from a MAT-file; DataError for missing/unreadable files."""
    from scipy.io import loadmat  # lazy: scipy.io is slow to import

    if not path.exists():
        raise mat_error(path, None, "file not found")
    if not path.is_file():
        raise mat_error(path, None, "not a regular file")
    try:
        with open(path, "rb") as fh:
            head = fh.read(520)
            if not head:
                raise mat_error(path, None, "file is empty")
            if _is_hdf5(head):
                raise mat_error(
                    path,
                    None,
                    "MATLAB v7.3 (HDF5) MAT-files are not supported; re-save it as v7 or older "
                    "(MATLAB: save(file, '-v7', ...)) or use the files of the official xlsa17.zip",
                )
            fh.seek(0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                kwargs = {} if keys is None else {"variable_names": list(keys)}
                data = loadmat(fh, **kwargs)
    except DataError:
        raise
    except MemoryError:
        raise
    except Exception as exc:  # scipy raises many kinds: MatReadError, ValueError, OSError, ...
        raise mat_error(
            path,
            None,
            f"cannot read MAT-file (truncated, corrupted or not a MAT-file): {type(exc).__name__}: {exc}",
        ) from None
    return {k: v for k, v in data.items() if not k.startswith("__")}


def _present_keys(path: Path) -> str:
    try:
        from scipy.io import whosmat

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            names = sorted(n for n, _, _ in whosmat(str(path)))
        return ", ".join(names) if names else "none"
    except Exception:
        return "unknown"


def _require(path: Path, data: dict, key: str, hint: str = "") -> np.ndarray:
    if key not in data:
        extra = f" (expected: {hint})" if hint else ""
        raise mat_error(path, key, f"missing{extra}; keys present: {_present_keys(path)}")
    return data[key]


# --------------------------------------------------------------------------- array checks


def _describe(arr: object) -> str:
    if not isinstance(arr, np.ndarray):
        return type(arr).__name__
    kind = {
        "O": "cell/object",
        "V": "struct",
        "U": "char",
        "S": "char",
        "c": "complex",
    }.get(arr.dtype.kind, str(arr.dtype))
    return f"{kind} array of shape {arr.shape}"


def _numeric(path: Path, key: str, arr: object) -> np.ndarray:
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biuf":
        raise mat_error(path, key, f"expected a real numeric array, got {_describe(arr)}")
    return arr


def _matrix(path: Path, key: str, arr: object, what: str) -> np.ndarray:
    arr = _numeric(path, key, arr)
    if arr.ndim != 2:
        raise mat_error(path, key, f"expected a 2-D {what} matrix, got shape {arr.shape}")
    if arr.size == 0:
        raise mat_error(path, key, f"{what} matrix is empty (shape {arr.shape})")
    return arr


def _vector(path: Path, key: str, arr: object) -> np.ndarray:
    arr = _numeric(path, key, arr)
    if arr.size == 0:
        return arr.reshape(0)
    if arr.ndim > 2 or (arr.ndim == 2 and min(arr.shape) != 1):
        raise mat_error(path, key, f"expected a vector (n x 1), got shape {arr.shape}")
    return arr.reshape(-1)


def _integers(path: Path, key: str, vec: np.ndarray) -> np.ndarray:
    """int64 copy of a numeric vector whose values must be finite integers."""
    if vec.dtype.kind == "f":
        bad = ~np.isfinite(vec)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise mat_error(path, key, f"non-finite value {vec[i]} at entry {i + 1}")
        frac = vec != np.round(vec)
        if frac.any():
            i = int(np.flatnonzero(frac)[0])
            raise mat_error(path, key, f"non-integer value {vec[i]} at entry {i + 1}")
        if vec.size and (vec.max() > 2**62 or vec.min() < -(2**62)):
            raise mat_error(path, key, "values too large for indices")
    return vec.astype(np.int64)


def _finite(path: Path, key: str, arr: np.ndarray, what: str, item: str, entry: str) -> None:
    """Error naming the first non-finite entry of ``arr``, an [items, entries] view of the
    stored [entries x items] matrix (one column per image or class)."""
    ok = np.isfinite(arr)
    if ok.all():
        return
    r, c = (int(v) for v in np.argwhere(~ok)[0])
    n_bad = int(arr.size - np.count_nonzero(ok))
    raise mat_error(
        path,
        key,
        f"{n_bad} non-finite {what} value(s) (NaN/Inf), the first at {entry} {c + 1} of "
        f"{item} {r + 1}, i.e. ({c + 1}, {r + 1}) in the stored matrix",
    )


def _class_names(path: Path, key: str, arr: object) -> tuple[str, ...]:
    if not isinstance(arr, np.ndarray):
        raise mat_error(path, key, f"expected a cell array of strings, got {_describe(arr)}")
    if arr.dtype.kind in "US":  # a char matrix: scipy gives one string per row
        if arr.ndim > 2 or (arr.ndim == 2 and min(arr.shape) > 1):
            raise mat_error(path, key, f"expected one name per row, got shape {arr.shape}")
    elif arr.dtype.kind != "O":
        raise mat_error(path, key, f"expected a cell array of strings, got {_describe(arr)}")
    elif arr.ndim > 2 or (arr.ndim == 2 and min(arr.shape) > 1):
        raise mat_error(path, key, f"expected a (C x 1) cell array, got shape {arr.shape}")
    names = []
    for i, item in enumerate(arr.reshape(-1)):
        value = item
        if isinstance(value, np.ndarray):
            if value.dtype.kind in "US" and value.size == 1:
                value = value.reshape(-1)[0]
            elif value.dtype.kind in "US" and value.size == 0:
                value = ""
            else:
                raise mat_error(path, key, f"entry {i + 1} is not a string ({_describe(value)})")
        if not isinstance(value, str):
            raise mat_error(path, key, f"entry {i + 1} is not a string ({type(value).__name__})")
        value = str(value).strip()
        if not value:
            raise mat_error(path, key, f"entry {i + 1} is an empty class name")
        names.append(value)
    return tuple(names)


# --------------------------------------------------------------------------- the two files


@dataclass
class Splits:
    path: Path
    attrs: np.ndarray  # [C, A] float32
    names: tuple[str, ...]
    locs: dict[str, np.ndarray]  # key -> 0-based int64 (main splits + train/val when present)
    vintage: str
    has_original_att: bool
    notes: list[str] = field(default_factory=list)


def read_splits(path: Path) -> Splits:
    wanted = ("att", "original_att", "allclasses_names") + MAIN_SPLITS + TUNING_SPLITS
    data = _read_mat(path, wanted)
    notes: list[str] = []

    att = _require(path, data, "att", "the class attributes, A x C")
    att = _matrix(path, "att", att, "attribute")
    names = _class_names(
        path, "allclasses_names", _require(path, data, "allclasses_names", "the class names, C x 1 cell")
    )
    n_cls = len(names)
    if att.shape[1] != n_cls:
        hint = ""
        if att.shape[0] == n_cls:
            hint = "; it looks transposed (expected [A x C])"
        raise mat_error(
            path,
            "att",
            f"shape {att.shape} has {att.shape[1]} classes (columns) but allclasses_names has {n_cls} names{hint}",
        )
    attrs = np.ascontiguousarray(att.T, dtype=np.float32)
    _finite(path, "att", attrs, "attribute", "class", "attribute")
    norms = np.linalg.norm(attrs.astype(np.float64), axis=1)
    if (norms == 0).any():
        c = int(np.flatnonzero(norms == 0)[0])
        raise mat_error(path, "att", f"class {c + 1} ('{names[c]}') has an all-zero attribute vector")
    if np.abs(norms - 1.0).max() > 1e-3:
        notes.append(
            f"{path}: key 'att': class attribute vectors are not L2-normalised "
            f"(norms {norms.min():.3g}..{norms.max():.3g}); the xlsa17 'att' has unit norms"
        )

    has_original = "original_att" in data
    if has_original:
        orig = _matrix(path, "original_att", data["original_att"], "attribute")
        if orig.shape != att.shape:
            raise mat_error(path, "original_att", f"shape {orig.shape} differs from att's shape {att.shape}")
        _finite(path, "original_att", orig.T, "attribute", "class", "attribute")

    if len(set(names)) != len(names):
        uniq, counts = np.unique(np.array(names, dtype=object).astype(str), return_counts=True)
        dup = str(uniq[counts > 1][0])
        notes.append(f"{path}: key 'allclasses_names': duplicate class name '{dup}'")

    locs: dict[str, np.ndarray] = {}
    for key in MAIN_SPLITS:
        locs[key] = _read_loc(path, key, _require(path, data, key, "1-based image indices, n x 1"))
    present = [k for k in TUNING_SPLITS if k in data]
    if len(present) == 2:
        for key in TUNING_SPLITS:
            locs[key] = _read_loc(path, key, data[key])
        vintage = "2018"
    else:
        vintage = "2019"
        if present:
            missing = next(k for k in TUNING_SPLITS if k not in data)
            notes.append(
                f"{path}: key '{missing}': missing while '{present[0]}' is present; "
                f"ignoring '{present[0]}' (treated as the 2019 vintage)"
            )

    # The three evaluation splits must be pairwise disjoint.
    for i, a in enumerate(MAIN_SPLITS):
        for b in MAIN_SPLITS[i + 1 :]:
            common = np.intersect1d(locs[a], locs[b], assume_unique=True)
            if common.size:
                raise mat_error(
                    path,
                    b,
                    f"{common.size} image(s) are in both '{a}' and '{b}' "
                    f"(e.g. image {int(common[0]) + 1}); the splits must be disjoint",
                )
    return Splits(path, attrs, names, locs, vintage, has_original, notes)


def _read_loc(path: Path, key: str, arr: object) -> np.ndarray:
    vec = _integers(path, key, _vector(path, key, arr))
    if vec.size == 0:
        raise mat_error(path, key, "split is empty")
    low = int(vec.min())
    if low < 1:
        i = int(np.argmin(vec))
        raise mat_error(path, key, f"index {low} at entry {i + 1} is out of range (indices are 1-based, >= 1)")
    uniq, counts = np.unique(vec, return_counts=True)
    if uniq.size != vec.size:
        dup = int(uniq[counts > 1][0])
        n_dup = int((counts > 1).sum())
        raise mat_error(path, key, f"{n_dup} duplicate index(es) inside the split, e.g. image {dup}")
    return vec - 1


def read_features(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """features float32 [N, D] C-contiguous and 1-based int64 labels [N] (not yet range-checked)."""
    data = _read_mat(path, ("features", "labels"))
    feats = _require(path, data, "features", "D x N matrix, one column per image")
    feats = _matrix(path, "features", feats, "feature")
    labels = _require(path, data, "labels", "N x 1 1-based class ids")
    labels = _integers(path, "labels", _vector(path, "labels", labels))
    n = labels.size
    if n == 0:
        raise mat_error(path, "labels", "no labels (empty vector)")
    if feats.shape[1] != n:
        hint = ""
        if feats.shape[0] == n:
            hint = "; it looks transposed (expected [D x N], one column per image)"
        raise mat_error(
            path,
            "features",
            f"shape {feats.shape} has {feats.shape[1]} images (columns) but 'labels' has {n}{hint}",
        )
    x = np.ascontiguousarray(feats.T, dtype=np.float32)
    del feats, data
    if not x.flags.writeable:
        x = x.copy()
    _finite(path, "features", x, "feature", "image", "dimension")
    return x, labels
