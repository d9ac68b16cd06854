"""Reader and validator for the xlsa17 ("GBU") release: ``res101.mat`` + ``att_splits.mat``.

Layout (docs/paper-protocol.md#gbu-format): ``<data_dir>/xlsa17/data/<DIR>/{res101.mat,att_splits.mat}``,
``<DIR>`` in AWA1, AWA2, APY, CUB, SUN.  Both vintages of the release are accepted:

* 2018: ``att_splits.mat`` has ``train_loc``/``val_loc`` (they overlap ``test_seen_loc``
  by design; they are kept as they are);
* 2019: no ``train_loc``/``val_loc``.

Every problem with the files raises :class:`~zslbench.errors.DataError` with a single line that
names the file, the key and what is wrong.  Differences from the GBU statistics of
``specs.DATASETS`` are only warned about (:class:`DataWarning`), so that other versions of the
data can still be used.
"""

from __future__ import annotations

import hashlib
import os
import threading
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from zslbench.data.specs import DATASETS, DatasetSpec
from zslbench.data.types import ZSLData
from zslbench.errors import ConfigError, DataError

FEATURES_FILE = "res101.mat"
SPLITS_FILE = "att_splits.mat"
MAIN_SPLITS = ("trainval_loc", "test_seen_loc", "test_unseen_loc")
TUNING_SPLITS = ("train_loc", "val_loc")

_HASH_CHUNK = 1 << 22  # 4 MiB
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"

__all__ = [
    "CheckResult",
    "DataWarning",
    "FEATURES_FILE",
    "SPLITS_FILE",
    "check_all",
    "check_dataset",
    "dataset_dir",
    "file_sha256",
    "find_dataset_dir",
    "get_spec",
    "load_xlsa17",
    "xlsa17_fingerprint",
]


class DataWarning(UserWarning):
    """The data is usable but differs from what the paper used (e.g. GBU counts)."""


# --------------------------------------------------------------------------- names and folders


def get_spec(name: str) -> DatasetSpec:
    """The spec of a dataset by CLI name (case-insensitive); ConfigError for unknown names."""
    key = str(name).strip().lower()
    try:
        return DATASETS[key]
    except KeyError:
        valid = ", ".join(DATASETS)
        raise ConfigError(f"unknown dataset {name!r}; valid names: {valid}") from None


def _check_data_dir(data_dir: str | os.PathLike) -> Path:
    root = Path(data_dir).expanduser()
    if not root.exists():
        raise DataError(f"data directory {root} does not exist")
    if not root.is_dir():
        raise DataError(f"data directory {root} is not a directory (it is a file)")
    return root


def _child_dir(parent: Path, dir_name: str) -> Path | None:
    """``parent/dir_name`` if it is a folder, else a case-insensitive match, else None."""
    exact = parent / dir_name
    if exact.is_dir():
        return exact
    if not parent.is_dir():
        return None
    try:
        for child in sorted(parent.iterdir()):
            if child.name.lower() == dir_name.lower() and child.is_dir():
                return child
    except OSError:
        return None
    return None


def _candidate_dirs(root: Path, dir_name: str) -> list[Path]:
    found = []
    for parent in (root / "xlsa17" / "data", root / "data", root):
        d = _child_dir(parent, dir_name)
        if d is not None and d not in found:
            found.append(d)
    return found


def find_dataset_dir(data_dir: str | os.PathLike | None, name: str) -> Path | None:
    """Like :func:`dataset_dir` but returns None instead of raising when nothing is found."""
    spec = get_spec(name)
    if data_dir is None:
        return None
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        return None
    found = _candidate_dirs(root, spec.dir_name)
    if not found:
        return None
    # Prefer a folder that holds the files (official layout first among equals).
    for want in ((FEATURES_FILE, SPLITS_FILE), (SPLITS_FILE,), (FEATURES_FILE,)):
        for d in found:
            if all((d / f).is_file() for f in want):
                return d
    return found[0]


def dataset_dir(data_dir: str | os.PathLike, name: str) -> Path:
    """The folder of dataset ``name``.

    Looks for ``<data_dir>/xlsa17/data/<DIR>`` (the layout of the official zip, preferred),
    then ``<data_dir>/data/<DIR>`` and ``<data_dir>/<DIR>``; ``<DIR>`` is e.g. ``SUN``.
    """
    spec = get_spec(name)
    root = _check_data_dir(data_dir)
    found = find_dataset_dir(root, spec.name)
    if found is None:
        d = spec.dir_name
        raise DataError(
            f"{root}: no folder for dataset '{spec.name}' (looked for xlsa17/data/{d}, data/{d} "
            f"and {d}); unpack xlsa17.zip there or run 'zslbench data fetch'"
        )
    return found


# --------------------------------------------------------------------------- hashing


_hash_cache: dict[tuple[str, int, int], str] = {}
_hash_lock = threading.Lock()


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file, streamed in chunks; cached per (path, size, mtime) in this process."""
    p = Path(path).resolve()
    st = p.stat()
    key = (str(p), st.st_size, st.st_mtime_ns)
    with _hash_lock:
        hit = _hash_cache.get(key)
    if hit is not None:
        return hit
    h = hashlib.sha256()
    with open(p, "rb") as fh:
        while True:
            chunk = fh.read(_HASH_CHUNK)
            if not chunk:
                break
            h.update(chunk)
    digest = h.hexdigest()
    with _hash_lock:
        _hash_cache[key] = digest
    return digest


def _combined_fingerprint(digests: dict[str, str]) -> str:
    text = "".join(f"{name}:{digests[name]}\n" for name in sorted(digests))
    return hashlib.sha256(("xlsa17\n" + text).encode()).hexdigest()


def xlsa17_fingerprint(
    name: str, data_dir: str | os.PathLike, *, splits_file: str = SPLITS_FILE
) -> str:
    """The fingerprint that ``load_xlsa17(name, data_dir)`` gives its data, from the file hashes
    only (nothing is parsed; hashes are cached per process)."""
    spec = get_spec(name)
    folder = dataset_dir(data_dir, spec.name)
    feat_path, sp = folder / FEATURES_FILE, folder / splits_file
    for path in (feat_path, sp):
        if not path.is_file():
            raise DataError(f"{path}: file not found")
    return _combined_fingerprint({feat_path.name: file_sha256(feat_path), sp.name: file_sha256(sp)})


# --------------------------------------------------------------------------- MAT-file reading


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _fail(path: Path, key: str | None, problem: str) -> DataError:
    where = f"{path}: key '{key}': " if key else f"{path}: "
    return DataError(_one_line(where + problem))


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
        raise _fail(path, None, "file not found")
    if not path.is_file():
        raise _fail(path, None, "not a regular file")
    try:
        with open(path, "rb") as fh:
            head = fh.read(520)
            if not head:
                raise _fail(path, None, "file is empty")
            if _is_hdf5(head):
                raise _fail(
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
        raise _fail(
            path,
            None,
            f"cannot read MAT-file (truncated, corrupted or not a MAT-file): "
            f"{type(exc).__name__}: {exc}",
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
        raise _fail(path, key, f"missing{extra}; keys present: {_present_keys(path)}")
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
        raise _fail(path, key, f"expected a real numeric array, got {_describe(arr)}")
    return arr


def _matrix(path: Path, key: str, arr: object, what: str) -> np.ndarray:
    arr = _numeric(path, key, arr)
    if arr.ndim != 2:
        raise _fail(path, key, f"expected a 2-D {what} matrix, got shape {arr.shape}")
    if arr.size == 0:
        raise _fail(path, key, f"{what} matrix is empty (shape {arr.shape})")
    return arr


def _vector(path: Path, key: str, arr: object) -> np.ndarray:
    arr = _numeric(path, key, arr)
    if arr.size == 0:
        return arr.reshape(0)
    if arr.ndim > 2 or (arr.ndim == 2 and min(arr.shape) != 1):
        raise _fail(path, key, f"expected a vector (n x 1), got shape {arr.shape}")
    return arr.reshape(-1)


def _integers(path: Path, key: str, vec: np.ndarray) -> np.ndarray:
    """int64 copy of a numeric vector whose values must be finite integers."""
    if vec.dtype.kind == "f":
        bad = ~np.isfinite(vec)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise _fail(path, key, f"non-finite value {vec[i]} at entry {i + 1}")
        frac = vec != np.round(vec)
        if frac.any():
            i = int(np.flatnonzero(frac)[0])
            raise _fail(path, key, f"non-integer value {vec[i]} at entry {i + 1}")
        if vec.size and (vec.max() > 2**62 or vec.min() < -(2**62)):
            raise _fail(path, key, "values too large for indices")
    return vec.astype(np.int64)


def _finite(path: Path, key: str, arr: np.ndarray, what: str, item: str, entry: str) -> None:
    """Error naming the first non-finite entry of ``arr``, an [items, entries] view of the
    stored [entries x items] matrix (one column per image or class)."""
    ok = np.isfinite(arr)
    if ok.all():
        return
    r, c = (int(v) for v in np.argwhere(~ok)[0])
    n_bad = int(arr.size - np.count_nonzero(ok))
    raise _fail(
        path,
        key,
        f"{n_bad} non-finite {what} value(s) (NaN/Inf), the first at {entry} {c + 1} of "
        f"{item} {r + 1}, i.e. ({c + 1}, {r + 1}) in the stored matrix",
    )


def _class_names(path: Path, key: str, arr: object) -> tuple[str, ...]:
    if not isinstance(arr, np.ndarray):
        raise _fail(path, key, f"expected a cell array of strings, got {_describe(arr)}")
    if arr.dtype.kind in "US":  # a char matrix: scipy gives one string per row
        if arr.ndim > 2 or (arr.ndim == 2 and min(arr.shape) > 1):
            raise _fail(path, key, f"expected one name per row, got shape {arr.shape}")
    elif arr.dtype.kind != "O":
        raise _fail(path, key, f"expected a cell array of strings, got {_describe(arr)}")
    elif arr.ndim > 2 or (arr.ndim == 2 and min(arr.shape) > 1):
        raise _fail(path, key, f"expected a (C x 1) cell array, got shape {arr.shape}")
    names = []
    for i, item in enumerate(arr.reshape(-1)):
        value = item
        if isinstance(value, np.ndarray):
            if value.dtype.kind in "US" and value.size == 1:
                value = value.reshape(-1)[0]
            elif value.dtype.kind in "US" and value.size == 0:
                value = ""
            else:
                raise _fail(path, key, f"entry {i + 1} is not a string ({_describe(value)})")
        if not isinstance(value, str):
            raise _fail(path, key, f"entry {i + 1} is not a string ({type(value).__name__})")
        value = str(value).strip()
        if not value:
            raise _fail(path, key, f"entry {i + 1} is an empty class name")
        names.append(value)
    return tuple(names)


# --------------------------------------------------------------------------- the two files


@dataclass
class _Splits:
    path: Path
    attrs: np.ndarray  # [C, A] float32
    names: tuple[str, ...]
    locs: dict[str, np.ndarray]  # key -> 0-based int64 (main splits + train/val when present)
    vintage: str
    has_original_att: bool
    notes: list[str] = field(default_factory=list)


def _read_splits(path: Path) -> _Splits:
    wanted = ("att", "original_att", "allclasses_names") + MAIN_SPLITS + TUNING_SPLITS
    data = _read_mat(path, wanted)
    notes: list[str] = []

    att = _require(path, data, "att", "the class attributes, A x C")
    att = _matrix(path, "att", att, "attribute")
    names = _require(path, data, "allclasses_names", "the class names, C x 1 cell")
    names = _class_names(path, "allclasses_names", names)
    n_cls = len(names)
    if att.shape[1] != n_cls:
        hint = ""
        if att.shape[0] == n_cls:
            hint = "; it looks transposed (expected [A x C])"
        raise _fail(
            path,
            "att",
            f"shape {att.shape} has {att.shape[1]} classes (columns) but allclasses_names has "
            f"{n_cls} names{hint}",
        )
    attrs = np.ascontiguousarray(att.T, dtype=np.float32)
    _finite(path, "att", attrs, "attribute", "class", "attribute")
    norms = np.linalg.norm(attrs.astype(np.float64), axis=1)
    if (norms == 0).any():
        c = int(np.flatnonzero(norms == 0)[0])
        raise _fail(path, "att", f"class {c + 1} ('{names[c]}') has an all-zero attribute vector")
    if np.abs(norms - 1.0).max() > 1e-3:
        notes.append(
            f"{path}: key 'att': class attribute vectors are not L2-normalised "
            f"(norms {norms.min():.3g}..{norms.max():.3g}); the xlsa17 'att' has unit norms"
        )

    has_original = "original_att" in data
    if has_original:
        orig = _matrix(path, "original_att", data["original_att"], "attribute")
        if orig.shape != att.shape:
            raise _fail(
                path, "original_att", f"shape {orig.shape} differs from att's shape {att.shape}"
            )
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
                raise _fail(
                    path,
                    b,
                    f"{common.size} image(s) are in both '{a}' and '{b}' "
                    f"(e.g. image {int(common[0]) + 1}); the splits must be disjoint",
                )
    return _Splits(path, attrs, names, locs, vintage, has_original, notes)


def _read_loc(path: Path, key: str, arr: object) -> np.ndarray:
    vec = _integers(path, key, _vector(path, key, arr))
    if vec.size == 0:
        raise _fail(path, key, "split is empty")
    low = int(vec.min())
    if low < 1:
        i = int(np.argmin(vec))
        raise _fail(
            path, key, f"index {low} at entry {i + 1} is out of range (indices are 1-based, >= 1)"
        )
    uniq, counts = np.unique(vec, return_counts=True)
    if uniq.size != vec.size:
        dup = int(uniq[counts > 1][0])
        n_dup = int((counts > 1).sum())
        raise _fail(path, key, f"{n_dup} duplicate index(es) inside the split, e.g. image {dup}")
    return vec - 1


def _read_features(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """features float32 [N, D] C-contiguous and 1-based int64 labels [N] (not yet range-checked)."""
    data = _read_mat(path, ("features", "labels"))
    feats = _require(path, data, "features", "D x N matrix, one column per image")
    feats = _matrix(path, "features", feats, "feature")
    labels = _require(path, data, "labels", "N x 1 1-based class ids")
    labels = _integers(path, "labels", _vector(path, "labels", labels))
    n = labels.size
    if n == 0:
        raise _fail(path, "labels", "no labels (empty vector)")
    if feats.shape[1] != n:
        hint = ""
        if feats.shape[0] == n:
            hint = "; it looks transposed (expected [D x N], one column per image)"
        raise _fail(
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


# --------------------------------------------------------------------------- joint validation


def _assemble(
    spec: DatasetSpec,
    folder: Path,
    splits: _Splits,
    features: np.ndarray,
    labels1: np.ndarray,
    feat_path: Path,
) -> tuple[ZSLData, list[str]]:
    sp = splits.path
    notes = list(splits.notes)
    n_img = features.shape[0]
    n_cls = len(splits.names)

    bad = (labels1 < 1) | (labels1 > n_cls)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise _fail(
            feat_path,
            "labels",
            f"label {int(labels1[i])} of image {i + 1} is outside 1..{n_cls} "
            f"({n_cls} classes in {sp.name} 'allclasses_names'/'att')",
        )
    labels = labels1 - 1

    for key, idx in splits.locs.items():
        top = int(idx.max()) + 1
        if top > n_img:
            raise _fail(
                sp,
                key,
                f"index {top} is out of range: {feat_path.name} has {n_img} images",
            )

    tv = labels[splits.locs["trainval_loc"]]
    ts = labels[splits.locs["test_seen_loc"]]
    tu = labels[splits.locs["test_unseen_loc"]]
    seen_classes = np.unique(ts)
    unseen_classes = np.unique(tu)
    tv_classes = np.unique(tv)

    def cname(c: int) -> str:
        return f"{c + 1} ('{splits.names[c]}')"

    # A class with images in test_unseen and in trainval/test_seen: decide which side it
    # belongs to by where most of its images are, and name the misplaced images.
    seen_side = np.union1d(tv_classes, seen_classes)
    for c in np.intersect1d(unseen_classes, seen_side):
        c = int(c)
        n_u = int((tu == c).sum())
        n_tv = int((tv == c).sum())
        n_ts = int((ts == c).sum())
        if n_u > n_tv + n_ts:
            key = "trainval_loc" if n_tv else "test_seen_loc"
            pos = splits.locs[key][(tv if n_tv else ts) == c]
            raise _fail(
                sp,
                key,
                f"{n_tv or n_ts} image(s) of unseen class {cname(c)} (a test_unseen class, per "
                f"{feat_path.name} 'labels') are in '{key}', e.g. image {int(pos[0]) + 1}; "
                f"unseen-class images must only be in test_unseen_loc",
            )
        pos = splits.locs["test_unseen_loc"][tu == c]
        raise _fail(
            sp,
            "test_unseen_loc",
            f"{n_u} image(s) of seen class {cname(c)} (it has {n_tv} trainval and {n_ts} "
            f"test_seen images, per {feat_path.name} 'labels') are in 'test_unseen_loc', "
            f"e.g. image {int(pos[0]) + 1}",
        )

    missing = np.setdiff1d(seen_classes, tv_classes)
    if missing.size:
        raise _fail(
            sp,
            "test_seen_loc",
            f"{missing.size} test_seen class(es) have no trainval images, e.g. class "
            f"{cname(int(missing[0]))}",
        )
    extra = np.setdiff1d(tv_classes, seen_classes)
    if extra.size:
        raise _fail(
            sp,
            "trainval_loc",
            f"{extra.size} trainval class(es) have no test_seen images, e.g. class "
            f"{cname(int(extra[0]))}; every seen class needs test_seen images",
        )

    # -- things that are only unusual: warn
    if "train_loc" in splits.locs:
        for key in TUNING_SPLITS:
            leak = np.isin(splits.locs[key], splits.locs["test_unseen_loc"])
            if leak.any():
                notes.append(
                    f"{sp}: key '{key}': {int(leak.sum())} image(s) are test_unseen images"
                )
    in_split = np.zeros(n_img, dtype=bool)
    for key in MAIN_SPLITS:
        in_split[splits.locs[key]] = True
    if not in_split.all():
        notes.append(
            f"{sp}: {int((~in_split).sum())} of {n_img} images are in none of "
            f"trainval_loc/test_seen_loc/test_unseen_loc"
        )
    n_used = seen_classes.size + unseen_classes.size
    if n_used != n_cls:
        notes.append(f"{sp}: {n_cls - n_used} of {n_cls} classes have no images in any split")

    got = {
        "classes": n_cls,
        "seen": int(seen_classes.size),
        "unseen": int(unseen_classes.size),
        "attributes": int(splits.attrs.shape[1]),
        "images": int(n_img),
        "trainval": int(tv.size),
        "test_seen": int(ts.size),
        "test_unseen": int(tu.size),
        "feature dim": int(features.shape[1]),
    }
    expected = {
        "classes": spec.n_classes,
        "seen": spec.n_seen,
        "unseen": spec.n_unseen,
        "attributes": spec.attr_dim,
        "images": spec.n_images,
        "trainval": spec.n_trainval,
        "test_seen": spec.n_test_seen,
        "test_unseen": spec.n_test_unseen,
        "feature dim": spec.feature_dim,
    }
    diff = [f"{k} {got[k]} (GBU {expected[k]})" for k in got if got[k] != expected[k]]
    if diff:
        notes.append(
            f"{folder}: {spec.display} differs from the GBU statistics used by the paper: "
            + ", ".join(diff)
        )

    digests = {feat_path.name: file_sha256(feat_path), sp.name: file_sha256(sp)}
    data = ZSLData(
        name=spec.name,
        source="xlsa17",
        features=features,
        labels=labels,
        attrs=splits.attrs,
        trainval_idx=splits.locs["trainval_loc"],
        test_seen_idx=splits.locs["test_seen_loc"],
        test_unseen_idx=splits.locs["test_unseen_loc"],
        seen_classes=seen_classes.astype(np.int64),
        unseen_classes=unseen_classes.astype(np.int64),
        class_names=splits.names,
        vintage=splits.vintage,
        fingerprint=_combined_fingerprint(digests),
        train_idx=splits.locs.get("train_loc"),
        val_idx=splits.locs.get("val_loc"),
        meta={
            "dir": str(folder),
            "files": {feat_path.name: str(feat_path), sp.name: str(sp)},
            "sha256": digests,
            "has_original_att": splits.has_original_att,
            "warnings": list(notes),
        },
    )
    return data, notes


def _load(
    name: str, data_dir: str | os.PathLike, splits_file: str
) -> tuple[ZSLData, list[str]]:
    spec = get_spec(name)
    folder = dataset_dir(data_dir, spec.name)
    splits = _read_splits(folder / splits_file)
    feat_path = folder / FEATURES_FILE
    features, labels1 = _read_features(feat_path)
    return _assemble(spec, folder, splits, features, labels1, feat_path)


def load_xlsa17(
    name: str, data_dir: str | os.PathLike, *, splits_file: str = SPLITS_FILE
) -> ZSLData:
    """Load and validate one xlsa17 dataset (``name`` as in specs.DATASETS, e.g. ``"sun"``).

    ``splits_file`` may name another file of the same format in the dataset folder (e.g. AWA2's
    ``binaryAtt_splits.mat``).  Raises DataError for any problem with the files, warns
    (:class:`DataWarning`) where the data differs from the GBU statistics.
    """
    data, notes = _load(name, data_dir, splits_file)
    for note in notes:
        warnings.warn(note, DataWarning, stacklevel=2)
    return data


# --------------------------------------------------------------------------- checks


@dataclass
class CheckResult:
    """The outcome of checking one dataset; numbers are None where unknown."""

    dataset: str
    vintage: str | None = None
    status: str = "fail"  # "ok" | "warn" | "fail"
    message: str = ""
    classes: int | None = None
    seen: int | None = None
    unseen: int | None = None
    attributes: int | None = None
    images: int | None = None
    trainval: int | None = None
    test_seen: int | None = None
    test_unseen: int | None = None
    path: str | None = None
    fingerprint: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def check_dataset(
    name: str, data_dir: str | os.PathLike, *, splits_file: str = SPLITS_FILE
) -> CheckResult:
    """Validate one dataset; never raises for data problems (status "fail" instead).

    An unknown dataset name still raises ConfigError.
    """
    spec = get_spec(name)
    res = CheckResult(dataset=spec.name)
    try:
        folder = dataset_dir(data_dir, spec.name)
        res.path = str(folder)
        splits = _read_splits(folder / splits_file)
        res.vintage = splits.vintage
        res.classes = len(splits.names)
        res.attributes = int(splits.attrs.shape[1])
        res.trainval = int(splits.locs["trainval_loc"].size)
        res.test_seen = int(splits.locs["test_seen_loc"].size)
        res.test_unseen = int(splits.locs["test_unseen_loc"].size)
        feat_path = folder / FEATURES_FILE
        features, labels1 = _read_features(feat_path)
        res.images = int(features.shape[0])
        data, notes = _assemble(spec, folder, splits, features, labels1, feat_path)
    except DataError as exc:
        res.status = "fail"
        res.message = str(exc)
        return res
    res.seen = int(data.seen_classes.size)
    res.unseen = int(data.unseen_classes.size)
    res.fingerprint = data.fingerprint
    if notes:
        res.status = "warn"
        res.message = "; ".join(notes)
    else:
        res.status = "ok"
        res.message = f"ok ({data.vintage} vintage)"
    return res


def check_all(
    data_dir: str | os.PathLike, names: list[str] | tuple[str, ...] | None = None
) -> list[CheckResult]:
    """Check the named datasets, or (names=None) every known dataset whose folder exists.

    With names=None, a data_dir that does not exist or is a file raises DataError; an existing
    folder without any dataset gives an empty list.
    """
    if names is not None:
        return [check_dataset(n, data_dir) for n in names]
    root = _check_data_dir(data_dir)
    return [
        check_dataset(n, root) for n in DATASETS if find_dataset_dir(root, n) is not None
    ]
