"""Reader and validator for the xlsa17 ("GBU") release: ``res101.mat`` + ``att_splits.mat``.

Layout (docs/paper-protocol.md#gbu-format): ``<data_dir>/xlsa17/data/<DIR>/{res101.mat,att_splits.mat}``,
``<DIR>`` in AWA1, AWA2, APY, CUB, SUN (:mod:`zslbench.data.features.xlsa17_files`).  Both
vintages of the release are accepted:

* 2018: ``att_splits.mat`` has ``train_loc``/``val_loc`` (they overlap ``test_seen_loc``
  by design; they are kept as they are);
* 2019: no ``train_loc``/``val_loc``.

Each file is read and checked on its own by :mod:`zslbench.data.features.mat_files`; this
module checks them against each other and builds the :class:`ZSLData`.  Every problem with the
files raises :class:`~zslbench.errors.DataError` with a single line that names the file, the
key and what is wrong.  Differences from the GBU statistics of ``specs.DATASETS`` are only
warned about (:class:`DataWarning`), so that other versions of the data can still be used.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from zslbench.data.features.mat_files import (
    MAIN_SPLITS,
    TUNING_SPLITS,
    Splits,
    mat_error,
    read_features,
    read_splits,
)
from zslbench.data.features.specs import DATASETS, DatasetSpec
from zslbench.data.features.types import ZSLData
from zslbench.data.features.xlsa17_files import (
    FEATURES_FILE,
    SPLITS_FILE,
    check_data_dir,
    combined_fingerprint,
    dataset_dir,
    file_sha256,
    find_dataset_dir,
    get_spec,
    xlsa17_fingerprint,
)
from zslbench.errors import DataError

__all__ = [
    "FEATURES_FILE",
    "SPLITS_FILE",
    "CheckResult",
    "DataWarning",
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


# --------------------------------------------------------------------------- joint validation


def _check_indices(splits: Splits, labels1: np.ndarray, n_img: int, feat_path: Path) -> np.ndarray:
    """The 0-based labels, after checking that every label names a class and every split index
    an image."""
    sp = splits.path
    n_cls = len(splits.names)
    bad = (labels1 < 1) | (labels1 > n_cls)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise mat_error(
            feat_path,
            "labels",
            f"label {int(labels1[i])} of image {i + 1} is outside 1..{n_cls} "
            f"({n_cls} classes in {sp.name} 'allclasses_names'/'att')",
        )
    for key, idx in splits.locs.items():
        top = int(idx.max()) + 1
        if top > n_img:
            raise mat_error(
                sp,
                key,
                f"index {top} is out of range: {feat_path.name} has {n_img} images",
            )
    return labels1 - 1


def _check_sides(splits: Splits, tv: np.ndarray, ts: np.ndarray, tu: np.ndarray, feat_path: Path) -> None:
    """Seen classes (trainval, test_seen) and unseen classes (test_unseen) must not mix, and
    every seen class needs images in both trainval and test_seen."""
    sp = splits.path
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
            raise mat_error(
                sp,
                key,
                f"{n_tv or n_ts} image(s) of unseen class {cname(c)} (a test_unseen class, per "
                f"{feat_path.name} 'labels') are in '{key}', e.g. image {int(pos[0]) + 1}; "
                f"unseen-class images must only be in test_unseen_loc",
            )
        pos = splits.locs["test_unseen_loc"][tu == c]
        raise mat_error(
            sp,
            "test_unseen_loc",
            f"{n_u} image(s) of seen class {cname(c)} (it has {n_tv} trainval and {n_ts} "
            f"test_seen images, per {feat_path.name} 'labels') are in 'test_unseen_loc', "
            f"e.g. image {int(pos[0]) + 1}",
        )

    missing = np.setdiff1d(seen_classes, tv_classes)
    if missing.size:
        raise mat_error(
            sp,
            "test_seen_loc",
            f"{missing.size} test_seen class(es) have no trainval images, e.g. class {cname(int(missing[0]))}",
        )
    extra = np.setdiff1d(tv_classes, seen_classes)
    if extra.size:
        raise mat_error(
            sp,
            "trainval_loc",
            f"{extra.size} trainval class(es) have no test_seen images, e.g. class "
            f"{cname(int(extra[0]))}; every seen class needs test_seen images",
        )


def _unusual(splits: Splits, n_img: int, n_used: int) -> list[str]:
    """Notes on things that are only unusual: tuning splits holding test_unseen images, images
    in no split, classes without images."""
    sp = splits.path
    n_cls = len(splits.names)
    notes = []
    if "train_loc" in splits.locs:
        for key in TUNING_SPLITS:
            leak = np.isin(splits.locs[key], splits.locs["test_unseen_loc"])
            if leak.any():
                notes.append(f"{sp}: key '{key}': {int(leak.sum())} image(s) are test_unseen images")
    in_split = np.zeros(n_img, dtype=bool)
    for key in MAIN_SPLITS:
        in_split[splits.locs[key]] = True
    if not in_split.all():
        notes.append(
            f"{sp}: {int((~in_split).sum())} of {n_img} images are in none of "
            f"trainval_loc/test_seen_loc/test_unseen_loc"
        )
    if n_used != n_cls:
        notes.append(f"{sp}: {n_cls - n_used} of {n_cls} classes have no images in any split")
    return notes


def _gbu_note(spec: DatasetSpec, folder: Path, got: dict[str, int]) -> list[str]:
    """A note listing where the data's counts differ from the GBU statistics used by the paper."""
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
    if not diff:
        return []
    return [f"{folder}: {spec.display} differs from the GBU statistics used by the paper: " + ", ".join(diff)]


def _assemble(
    spec: DatasetSpec,
    folder: Path,
    splits: Splits,
    features: np.ndarray,
    labels1: np.ndarray,
    feat_path: Path,
) -> tuple[ZSLData, list[str]]:
    sp = splits.path
    notes = list(splits.notes)
    n_img = features.shape[0]
    labels = _check_indices(splits, labels1, n_img, feat_path)
    tv = labels[splits.locs["trainval_loc"]]
    ts = labels[splits.locs["test_seen_loc"]]
    tu = labels[splits.locs["test_unseen_loc"]]
    _check_sides(splits, tv, ts, tu, feat_path)
    seen_classes = np.unique(ts)
    unseen_classes = np.unique(tu)

    # -- things that are only unusual: warn
    notes += _unusual(splits, n_img, seen_classes.size + unseen_classes.size)
    got = {
        "classes": len(splits.names),
        "seen": int(seen_classes.size),
        "unseen": int(unseen_classes.size),
        "attributes": int(splits.attrs.shape[1]),
        "images": int(n_img),
        "trainval": int(tv.size),
        "test_seen": int(ts.size),
        "test_unseen": int(tu.size),
        "feature dim": int(features.shape[1]),
    }
    notes += _gbu_note(spec, folder, got)

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
        fingerprint=combined_fingerprint(digests),
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


def _load(name: str, data_dir: str | os.PathLike, splits_file: str) -> tuple[ZSLData, list[str]]:
    spec = get_spec(name)
    folder = dataset_dir(data_dir, spec.name)
    splits = read_splits(folder / splits_file)
    feat_path = folder / FEATURES_FILE
    features, labels1 = read_features(feat_path)
    return _assemble(spec, folder, splits, features, labels1, feat_path)


def load_xlsa17(name: str, data_dir: str | os.PathLike, *, splits_file: str = SPLITS_FILE) -> ZSLData:
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


def check_dataset(name: str, data_dir: str | os.PathLike, *, splits_file: str = SPLITS_FILE) -> CheckResult:
    """Validate one dataset; never raises for data problems (status "fail" instead).

    An unknown dataset name still raises ConfigError.
    """
    spec = get_spec(name)
    res = CheckResult(dataset=spec.name)
    try:
        folder = dataset_dir(data_dir, spec.name)
        res.path = str(folder)
        splits = read_splits(folder / splits_file)
        res.vintage = splits.vintage
        res.classes = len(splits.names)
        res.attributes = int(splits.attrs.shape[1])
        res.trainval = int(splits.locs["trainval_loc"].size)
        res.test_seen = int(splits.locs["test_seen_loc"].size)
        res.test_unseen = int(splits.locs["test_unseen_loc"].size)
        feat_path = folder / FEATURES_FILE
        features, labels1 = read_features(feat_path)
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


def check_all(data_dir: str | os.PathLike, names: list[str] | tuple[str, ...] | None = None) -> list[CheckResult]:
    """Check the named datasets, or (names=None) every known dataset whose folder exists.

    With names=None, a data_dir that does not exist or is a file raises DataError; an existing
    folder without any dataset gives an empty list.
    """
    if names is not None:
        return [check_dataset(n, data_dir) for n in names]
    root = check_data_dir(data_dir)
    return [check_dataset(n, root) for n in DATASETS if find_dataset_dir(root, n) is not None]
