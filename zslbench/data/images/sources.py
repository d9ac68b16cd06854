"""Readers of the official CUB-200-2011 and SUN Attribute DB layouts (the image track).

``scan_cub`` / ``scan_sun`` read and cross-check the list, split and attribute files and check
that every listed image file exists (no decoding), and compare the counts with the official
ones; :mod:`zslbench.data.images.real` loads, fingerprints and checks the images they list.

CUB-200-2011 (``<data-dir>/CUB_200_2011/``): images in the order of ``images.txt``; the class of
an image is its class folder's numeric prefix minus 1 (as the authors' loader does; it must agree
with ``image_class_labels.txt``); the official ``train_test_split.txt`` (1 = train, 0 = test);
312-d class attributes from A-GEM's ``CUB_attr_in_order.pickle`` when it is in the CUB folder or
in the data folder (the file the authors read), else from
``attributes/class_attribute_labels_continuous.txt``.

SUN Attribute DB (``<data-dir>/SUN/``): images in the order of ``SUNAttributeDB/images.mat``
(paths relative to ``images/``); class ids are the ranks of the image folder names (the path
without the file name) in sorted order; class attributes are the per-class means of the
per-image continuous labels (``labels_cv`` of ``attributeLabels_continuous.mat``), L2-normalised;
the split is the authors': for each class in id order, ``RandomState(42).permutation`` of its
image indices (one generator for all classes), the first 10 train, the next 5 val, the rest test.
"""

from __future__ import annotations

import io
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zslbench.errors import DataError

CUB_DIR = "CUB_200_2011"
SUN_DIR = "SUN"
CUB_PICKLE = "CUB_attr_in_order.pickle"
CUB_ATTR_FILE = "attributes/class_attribute_labels_continuous.txt"
CUB_LISTS = ("images.txt", "image_class_labels.txt", "train_test_split.txt", "classes.txt")
SUN_DB = "SUNAttributeDB"
SUN_IMAGES_MAT = "images.mat"
SUN_LABELS_MAT = "attributeLabels_continuous.mat"
SUN_SPLIT = (10, 5)  # per class: train, val; the rest is test
SUN_SPLIT_SEED = 42

#: The official counts (docs/paper-protocol.md#czsl-images); others are accepted with a warning.
OFFICIAL = {
    "cub": {"images": 11788, "classes": 200, "attributes": 312, "train": 5994, "test": 5794},
    "sun": {"images": 14340, "classes": 717, "attributes": 102, "per_class": 20},
}

__all__ = [
    "OFFICIAL",
    "Listing",
    "scan",
    "scan_cub",
    "scan_sun",
]


@dataclass
class Listing:
    """What the list files say, cross-checked; no image decoded."""

    dataset: str
    root: Path  # the dataset folder
    images_dir: Path
    files: list[str]  # image paths relative to images_dir, in list order
    labels: np.ndarray  # [N] int64
    splits: dict  # "train" | "val" | "test" -> int64 indices
    class_names: tuple[str, ...]
    attrs: np.ndarray  # [C, A] float32
    attr_source: str
    sources: list[Path]  # the list/split/attribute files read (fingerprinted by content)
    sizes: np.ndarray  # [N] image file sizes in bytes
    warnings: list[str] = field(default_factory=list)

    def paths(self) -> list[Path]:
        return [self.images_dir / f for f in self.files]


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        raise DataError(f"{path}: missing ({what})")
    return path


def _read_lines(path: Path, what: str) -> list[tuple[int, list[str]]]:
    _require(path, what)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        text = path.read_text(encoding="latin-1")
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({' '.join(str(exc.strerror or exc).split())})") from None
    return [(n, line.split()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def _id_table(path: Path, what: str) -> dict[int, str]:
    """``<id> <value>`` lines -> {id: value}; DataError naming the file and line."""
    table: dict[int, str] = {}
    rows = _read_lines(path, what)
    for n, parts in rows:
        if len(parts) != 2 or not parts[0].isdigit():
            raise DataError(f"{path}:{n}: expected '<id> <value>', got {' '.join(parts)[:80]!r}")
        table[int(parts[0])] = parts[1]
    if not table:
        raise DataError(f"{path}: empty ({what})")
    if len(table) != len(rows):
        seen: set[int] = set()
        for n, parts in rows:
            if int(parts[0]) in seen:
                raise DataError(f"{path}:{n}: id {parts[0]} listed twice")
            seen.add(int(parts[0]))
    return table


def _stat_sizes(images_dir: Path, files: list[str], listed_in: Path) -> np.ndarray:
    sizes = np.empty(len(files), dtype=np.int64)
    missing = []
    base = str(images_dir)
    stat, join = os.stat, os.path.join
    for i, f in enumerate(files):
        try:
            sizes[i] = stat(join(base, f)).st_size
        except OSError:
            missing.append(f)
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise DataError(f"{images_dir / missing[0]}: image file missing{more}; listed in {listed_in}")
    return sizes


class _NumpyOnly(pickle.Unpickler):
    """Unpickles plain numbers, lists and numpy arrays only (no arbitrary code)."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("copy_reg", "_reconstructor"),
        ("copyreg", "_reconstructor"),
        ("__builtin__", "object"),
        ("builtins", "object"),
        ("_codecs", "encode"),  # how protocol-2 pickles made by Python 3 store an array's bytes
    }

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        if module == "numpy":
            return getattr(np, name)
        if module.startswith("numpy"):
            import importlib

            for candidate in ("numpy._core.multiarray", "numpy.core.multiarray"):
                try:
                    return getattr(importlib.import_module(candidate), name)
                except (ImportError, AttributeError):
                    continue
        return super().find_class(module, name)


def _read_pickle(path: Path) -> np.ndarray:
    try:
        obj = _NumpyOnly(io.BytesIO(path.read_bytes()), encoding="latin1").load()
        arr = np.asarray(obj, dtype=np.float64)
    except Exception as exc:
        raise DataError(
            f"{path}: not a pickled array of class attributes ({' '.join(str(exc).split()) or type(exc).__name__})"
        ) from None
    return arr


def _cub_attrs(root: Path, n_classes: int) -> tuple[np.ndarray, str, Path]:
    for candidate in (root / CUB_PICKLE, root.parent / CUB_PICKLE):
        if candidate.is_file():
            arr, source, path = _read_pickle(candidate), CUB_PICKLE, candidate
            break
    else:
        path = _require(root / CUB_ATTR_FILE, "class attributes of CUB-200-2011")
        rows = []
        for n, parts in _read_lines(path, "class attributes"):
            try:
                rows.append([float(v) for v in parts])
            except ValueError:
                raise DataError(f"{path}:{n}: not a row of numbers") from None
            if len(rows[-1]) != len(rows[0]):
                raise DataError(f"{path}:{n}: {len(rows[-1])} values, the first row has {len(rows[0])}")
        arr, source = np.asarray(rows, dtype=np.float64), "class_attribute_labels_continuous.txt"
    if arr.ndim != 2 or arr.shape[0] != n_classes or arr.shape[1] < 1:
        raise DataError(
            f"{path}: {arr.shape[0] if arr.ndim else 0} rows of class attributes but "
            f"classes.txt lists {n_classes} classes"
        )
    if not np.isfinite(arr).all():
        raise DataError(f"{path}: class attributes contain NaN or infinite values")
    return arr.astype(np.float32), source, path


def scan_cub(root: Path) -> Listing:
    """Read and cross-check ``<data-dir>/CUB_200_2011`` (no decoding)."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: CUB-200-2011 folder missing (get it with 'zslbench data fetch --dataset cub-images')")
    what = "part of the official CUB-200-2011 layout"
    images = _id_table(root / "images.txt", what)
    labels_t = _id_table(root / "image_class_labels.txt", what)
    split_t = _id_table(root / "train_test_split.txt", what)
    classes_t = _id_table(root / "classes.txt", what)
    images_dir = root / "images"
    if not images_dir.is_dir():
        raise DataError(f"{images_dir}: missing ({what})")
    ids = sorted(images)
    for name, table in (("image_class_labels.txt", labels_t), ("train_test_split.txt", split_t)):
        if set(table) != set(ids):
            extra = sorted(set(table) ^ set(ids))[0]
            raise DataError(f"{root / name}: image ids differ from images.txt (e.g. id {extra})")
    class_ids = sorted(classes_t)
    if class_ids != list(range(1, len(class_ids) + 1)):
        raise DataError(f"{root / 'classes.txt'}: class ids must be 1..{len(class_ids)}")
    n_classes = len(class_ids)
    files, labels, is_train = [], [], []
    for i in ids:
        rel = images[i]
        folder = rel.split("/", 1)[0]
        prefix = folder.split(".", 1)[0]
        if "/" not in rel or not prefix.isdigit():
            raise DataError(f"{root / 'images.txt'}: image {i}: {rel!r} is not '<NNN.class>/<file>'")
        label = int(prefix) - 1
        if not 0 <= label < n_classes:
            raise DataError(
                f"{root / 'images.txt'}: image {i}: class {label + 1} not in classes.txt ({n_classes} classes)"
            )
        if labels_t[i] != str(label + 1) and (not labels_t[i].isdigit() or int(labels_t[i]) != label + 1):
            raise DataError(
                f"{root / 'image_class_labels.txt'}: image {i}: class {labels_t[i]} but its "
                f"folder {folder!r} says {label + 1}"
            )
        if split_t[i] not in ("0", "1"):
            raise DataError(f"{root / 'train_test_split.txt'}: image {i}: {split_t[i]!r} is not 0 or 1")
        files.append(rel)
        labels.append(label)
        is_train.append(split_t[i] == "1")
    attrs, attr_source, attr_path = _cub_attrs(root, n_classes)
    labels_a = np.asarray(labels, dtype=np.int64)
    train = np.asarray(is_train, dtype=bool)
    sizes = _stat_sizes(images_dir, files, root / "images.txt")
    listing = Listing(
        dataset="cub",
        root=root,
        images_dir=images_dir,
        files=files,
        labels=labels_a,
        splits={
            "train": np.flatnonzero(train).astype(np.int64),
            "val": np.zeros(0, dtype=np.int64),
            "test": np.flatnonzero(~train).astype(np.int64),
        },
        class_names=tuple(classes_t[k] for k in class_ids),
        attrs=attrs,
        attr_source=attr_source,
        sources=[root / n for n in CUB_LISTS] + [attr_path],
        sizes=sizes,
    )
    _count_warnings(listing)
    return listing


def _mat_strings(value, path: Path, key: str) -> list[str]:
    arr = np.asarray(value, dtype=object).reshape(-1)
    out = []
    for item in arr:
        while isinstance(item, np.ndarray) and item.dtype == object and item.size == 1:
            item = item.reshape(-1)[0]
        if isinstance(item, np.ndarray) and item.dtype.kind == "U" and item.size == 1:
            item = str(item.reshape(-1)[0])
        if not isinstance(item, str):
            raise DataError(f"{path}: '{key}' is not a cell array of file names")
        out.append(item.replace("\\", "/"))
    return out


def _loadmat(path: Path, key: str):
    import scipy.io

    _require(path, "part of the SUN Attribute DB layout")
    try:
        mat = scipy.io.loadmat(str(path))
    except NotImplementedError:
        raise DataError(f"{path}: MATLAB v7.3 file; expected the SUN Attribute DB's v5 .mat") from None
    except Exception as exc:
        raise DataError(f"{path}: not a readable .mat file ({' '.join(str(exc).split())})") from None
    if key not in mat:
        raise DataError(f"{path}: no variable '{key}' (found: {', '.join(k for k in mat if not k.startswith('__'))})")
    return mat[key]


def sun_split(labels: np.ndarray, n_classes: int) -> dict:
    """The authors' per-class split: one ``RandomState(42)``, classes in id order."""
    rs = np.random.RandomState(SUN_SPLIT_SEED)
    n_train, n_val = SUN_SPLIT
    train, val, test = [], [], []
    for c in range(n_classes):
        perm = rs.permutation(np.flatnonzero(labels == c))
        train += perm[:n_train].tolist()
        val += perm[n_train : n_train + n_val].tolist()
        test += perm[n_train + n_val :].tolist()
    return {k: np.asarray(v, dtype=np.int64) for k, v in (("train", train), ("val", val), ("test", test))}


def scan_sun(root: Path) -> Listing:
    """Read and cross-check ``<data-dir>/SUN`` (no decoding)."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: SUN folder missing (get it with 'zslbench data fetch --dataset sun-images')")
    db = root / SUN_DB
    images_mat = db / SUN_IMAGES_MAT
    labels_mat = db / SUN_LABELS_MAT
    files = _mat_strings(_loadmat(images_mat, "images"), images_mat, "images")
    cv = np.asarray(_loadmat(labels_mat, "labels_cv"))
    if cv.ndim != 2 or cv.shape[0] != len(files):
        raise DataError(f"{labels_mat}: labels_cv has shape {cv.shape} but {images_mat.name} lists {len(files)} images")
    try:
        cv = cv.astype(np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{labels_mat}: labels_cv is not numeric") from None
    if not np.isfinite(cv).all():
        raise DataError(f"{labels_mat}: labels_cv contains NaN or infinite values")
    images_dir = root / "images"
    if not images_dir.is_dir():
        raise DataError(f"{images_dir}: missing (part of the SUN Attribute DB layout)")
    for f in files:
        if f.startswith("/") or ".." in f.split("/") or "/" not in f:
            raise DataError(f"{images_mat}: image name {f!r} is not '<class folder>/<file>'")
    folders = [f.rsplit("/", 1)[0] for f in files]
    class_names = tuple(sorted(set(folders)))
    index = {c: i for i, c in enumerate(class_names)}
    labels = np.asarray([index[c] for c in folders], dtype=np.int64)
    n_classes = len(class_names)
    order = np.argsort(labels, kind="stable")
    starts = np.searchsorted(labels[order], np.arange(n_classes))
    counts = np.bincount(labels, minlength=n_classes)[:, None]
    attrs = np.add.reduceat(cv[order], starts, axis=0) / counts  # per-class means
    norms = np.linalg.norm(attrs, axis=1, keepdims=True)
    if (norms == 0).any():
        bad = class_names[int(np.flatnonzero(norms[:, 0] == 0)[0])]
        raise DataError(f"{labels_mat}: class {bad!r} has all-zero attributes (cannot L2-normalise)")
    sizes = _stat_sizes(images_dir, files, images_mat)
    listing = Listing(
        dataset="sun",
        root=root,
        images_dir=images_dir,
        files=files,
        labels=labels,
        splits=sun_split(labels, n_classes),
        class_names=class_names,
        attrs=(attrs / norms).astype(np.float32),
        attr_source=SUN_LABELS_MAT,
        sources=[images_mat, labels_mat],
        sizes=sizes,
    )
    _count_warnings(listing)
    return listing


def _count_warnings(listing: Listing) -> None:
    off = OFFICIAL[listing.dataset]
    n, c, a = len(listing.files), len(listing.class_names), listing.attrs.shape[1]
    found = []
    if n != off["images"]:
        found.append(f"{n} images (official: {off['images']})")
    if c != off["classes"]:
        found.append(f"{c} classes (official: {off['classes']})")
    if a != off["attributes"]:
        found.append(f"{a} attributes (official: {off['attributes']})")
    if listing.dataset == "cub":
        tr, te = listing.splits["train"].size, listing.splits["test"].size
        if (tr, te) != (off["train"], off["test"]):
            found.append(f"{tr}/{te} train/test images (official: {off['train']}/{off['test']})")
    else:
        per = np.bincount(listing.labels, minlength=c)
        if (per != off["per_class"]).any():
            found.append(f"{per.min()}-{per.max()} images per class (official: {off['per_class']})")
    empty = np.flatnonzero(np.bincount(listing.labels, minlength=c) == 0)
    if empty.size:
        found.append(f"{empty.size} class(es) without images (e.g. {listing.class_names[empty[0]]!r})")
    if found:
        listing.warnings.append(f"{listing.root}: " + "; ".join(found))


def scan(dataset: str, data_root: Path) -> Listing:
    if dataset == "cub":
        return scan_cub(Path(data_root) / CUB_DIR)
    return scan_sun(Path(data_root) / SUN_DIR)
