"""The xlsa17 loader against the genuine att_splits.mat files of ../shared/data/xlsa17.

The genuine files have no image features, so every test data folder gets a ``res101.mat``
written here, with per-image labels consistent with the splits: test_unseen images are labelled
round-robin with a fixed set of unseen classes, trainval and test_seen images round-robin with the
other (seen) classes.  The genuine files are only read (copied by symlink into tmp folders).
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import scipy.io as sio
from _xlsa17_files import MAIN, SHARED, consistent_labels

from zslbench.data import DATASETS, load_dataset, resolve_source
from zslbench.data.features.xlsa17 import (
    CheckResult,
    DataWarning,
    check_all,
    check_dataset,
    dataset_dir,
    file_sha256,
    load_xlsa17,
)
from zslbench.errors import ConfigError, DataError

pytestmark = pytest.mark.skipif(
    not (SHARED / "manifest.json").is_file(),
    reason=f"genuine xlsa17 att_splits files not found at {SHARED}",
)


# --------------------------------------------------------------------------- helpers


def read_mat(path: Path) -> dict:
    return {k: v for k, v in sio.loadmat(path).items() if not k.startswith("__")}


def res101(labels1: np.ndarray, dim: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    feats = rng.random((dim, labels1.size), dtype=np.float32)
    return {"features": feats, "labels": labels1.astype(np.float64)[:, None]}


@dataclass
class Built:
    """A data dir holding one dataset with the genuine splits file and generated features."""

    name: str
    root: Path  # the data_dir to pass to the loader
    folder: Path  # <root>/xlsa17/data/<DIR>
    splits_src: Path  # the genuine file
    labels1: np.ndarray
    res101_path: Path  # the generated full-size (2048-d) res101.mat


def make_dir(root: Path, dir_name: str) -> Path:
    folder = root / "xlsa17" / "data" / dir_name
    folder.mkdir(parents=True)
    return folder


def link(src: Path, dst: Path) -> None:
    try:
        os.symlink(src, dst)
    except OSError:  # no symlinks (e.g. some Windows setups): copy instead
        dst.write_bytes(src.read_bytes())


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """Factory: build (once per session) a data dir for (dataset, splits file)."""
    cache: dict[tuple[str, str], Built] = {}
    features: dict[str, tuple[Path, np.ndarray]] = {}
    base = tmp_path_factory.mktemp("xlsa17_genuine")

    def get(name: str, splits_file: str = "att_splits.mat") -> Built:
        key = (name, splits_file)
        if key not in cache:
            spec = DATASETS[name]
            src = SHARED / spec.dir_name / splits_file
            root = base / f"{name}-{splits_file.replace('.', '_')}"
            folder = make_dir(root, spec.dir_name)
            link(src, folder / "att_splits.mat")
            if name not in features:  # both vintages share the same image order
                labels1 = consistent_labels(read_mat(src), spec.n_unseen)
                path = folder / "res101.mat"
                sio.savemat(path, res101(labels1, 2048))
                features[name] = (path, labels1)
            else:
                link(features[name][0], folder / "res101.mat")
            path, labels1 = features[name]
            cache[key] = Built(name, root, folder, src, labels1, path)
        return cache[key]

    yield get
    # the big generated files are not kept between sessions
    for path, _ in features.values():
        path.unlink(missing_ok=True)


def variant(
    tmp_path: Path,
    b: Built,
    splits: dict | bytes | None = None,
    feats: dict | bytes | None = None,
) -> Path:
    """A data dir like ``b`` with att_splits.mat and/or res101.mat replaced (dict: savemat)."""
    folder = make_dir(tmp_path, DATASETS[b.name].dir_name)
    for fname, content, original in (
        ("att_splits.mat", splits, b.splits_src),
        ("res101.mat", feats, b.res101_path),
    ):
        if content is None:
            link(original, folder / fname)
        elif isinstance(content, bytes):
            (folder / fname).write_bytes(content)
        else:
            sio.savemat(folder / fname, content)
    return tmp_path


def expect_error(data_dir: Path, name: str, file: str, key: str | None, *words: str) -> str:
    with pytest.raises(DataError) as info:
        load_xlsa17(name, data_dir)
    msg = str(info.value)
    assert "\n" not in msg
    assert file in msg, msg
    if key is not None:
        assert f"'{key}'" in msg, msg
    for w in words:
        assert w.lower() in msg.lower(), msg
    # check_dataset reports the same problem without raising
    res = check_dataset(name, data_dir)
    assert res.status == "fail" and res.message == msg
    return msg


# --------------------------------------------------------------------------- genuine files

GENUINE = [
    ("awa1", "att_splits.mat", "2018"),
    ("awa2", "att_splits.mat", "2018"),
    ("awa2", "att_splits.2019.mat", "2019"),
    ("cub", "att_splits.mat", "2019"),
    ("sun", "att_splits.mat", "2018"),
    ("sun", "att_splits.2019.mat", "2019"),
    ("apy", "att_splits.mat", "2019"),
]


@pytest.mark.parametrize("name,splits_file,vintage", GENUINE)
def test_genuine_splits_load(built, name, splits_file, vintage):
    b = built(name, splits_file)
    spec = DATASETS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)  # GBU counts: no warning expected
        data = load_xlsa17(name, b.root)
    raw = read_mat(b.splits_src)

    assert data.source == "xlsa17" and data.vintage == vintage and data.name == name
    assert data.summary() == {
        "dataset": name,
        "source": "xlsa17",
        "vintage": vintage,
        "classes": spec.n_classes,
        "seen": spec.n_seen,
        "unseen": spec.n_unseen,
        "attributes": spec.attr_dim,
        "images": spec.n_images,
        "trainval": spec.n_trainval,
        "test_seen": spec.n_test_seen,
        "test_unseen": spec.n_test_unseen,
    }
    # dtypes, layouts and 0-based conversions
    assert data.features.dtype == np.float32 and data.features.flags.c_contiguous
    assert data.features.shape == (spec.n_images, 2048)
    feats = sio.loadmat(b.res101_path, variable_names=["features"])["features"]
    assert np.array_equal(data.features[:5], feats[:, :5].T)
    assert data.labels.dtype == np.int64 and np.array_equal(data.labels, b.labels1 - 1)
    assert data.attrs.dtype == np.float32 and data.attrs.shape == (spec.n_classes, spec.attr_dim)
    np.testing.assert_allclose(data.attrs, raw["att"].T, rtol=1e-6)
    for key, idx in (
        ("trainval_loc", data.trainval_idx),
        ("test_seen_loc", data.test_seen_idx),
        ("test_unseen_loc", data.test_unseen_idx),
    ):
        assert idx.dtype == np.int64
        assert np.array_equal(idx, raw[key].ravel().astype(np.int64) - 1)
    if vintage == "2018":
        assert np.array_equal(data.train_idx, raw["train_loc"].ravel().astype(np.int64) - 1)
        assert np.array_equal(data.val_idx, raw["val_loc"].ravel().astype(np.int64) - 1)
        # by design of the 2018 vintage, train/val cover trainval + test_seen (not an error)
        both = np.union1d(data.train_idx, data.val_idx)
        assert np.array_equal(both, np.union1d(data.trainval_idx, data.test_seen_idx))
    else:
        assert data.train_idx is None and data.val_idx is None
    # classes
    assert np.array_equal(data.seen_classes, np.unique(data.labels[data.test_seen_idx]))
    assert np.array_equal(data.unseen_classes, np.unique(data.labels[data.test_unseen_idx]))
    assert not np.intersect1d(data.seen_classes, data.unseen_classes).size
    assert len(data.class_names) == spec.n_classes
    assert all(isinstance(n, str) and n for n in data.class_names)
    manifest = json.loads((SHARED / "manifest.json").read_text())
    rel = f"{spec.dir_name}/{splits_file}"
    first3 = manifest["files"][rel]["keys"]["allclasses_names"]["first3"]
    assert data.class_names[:3] == tuple(first3)
    # fingerprint: sha256 of both files, stable, and the att_splits digest is the published one
    assert data.meta["sha256"]["att_splits.mat"] == manifest["files"][rel]["sha256"]
    assert data.meta["has_original_att"] is True
    assert len(data.fingerprint) == 64
    assert load_xlsa17(name, b.root).fingerprint == data.fingerprint
    # the check gives the same numbers
    res = check_dataset(name, b.root)
    assert res.status == "ok", res.message
    assert (res.vintage, res.classes, res.seen, res.unseen, res.images) == (
        vintage,
        spec.n_classes,
        spec.n_seen,
        spec.n_unseen,
        spec.n_images,
    )
    assert res.fingerprint == data.fingerprint


def test_vintages_share_arrays_and_differ_in_fingerprint(built):
    new = load_xlsa17("sun", built("sun", "att_splits.2019.mat").root)
    old = load_xlsa17("sun", built("sun", "att_splits.mat").root)
    assert np.array_equal(new.attrs, old.attrs)
    assert np.array_equal(new.trainval_idx, old.trainval_idx)
    assert np.array_equal(new.features, old.features)
    assert new.class_names == old.class_names
    assert new.fingerprint != old.fingerprint


def test_full_size_sun_loads(built):
    """Its speed is measured by benchmarks/bench_load.py, not here."""
    b = built("sun")
    data = load_xlsa17("sun", b.root)
    assert data.features.shape == (14340, 2048)


def test_binary_attributes_file_loads_with_warning(built):
    b = built("awa2")
    target = b.folder / "binaryAtt_splits.mat"
    if not target.exists():
        link(SHARED / "AWA2" / "binaryAtt_splits.mat", target)
    with pytest.warns(DataWarning, match="not L2-normalised"):
        data = load_xlsa17("awa2", b.root, splits_file="binaryAtt_splits.mat")
    assert data.vintage == "2018"  # has train_loc/val_loc
    assert set(np.unique(data.attrs)) <= {0.0, 1.0}
    assert data.meta["has_original_att"] is False


# --------------------------------------------------------------------------- folders


def test_dataset_dir_layouts(tmp_path):
    for layout in ("xlsa17/data/CUB", "data/CUB", "CUB"):
        root = tmp_path / layout.replace("/", "_")
        (root / layout).mkdir(parents=True)
        assert dataset_dir(root, "cub") == root / layout
    # official layout preferred when several exist
    root = tmp_path / "several"
    for layout in ("CUB", "data/CUB", "xlsa17/data/CUB"):
        (root / layout).mkdir(parents=True)
    assert dataset_dir(root, "cub") == root / "xlsa17" / "data" / "CUB"
    # ...unless only another one holds the files
    (root / "CUB" / "att_splits.mat").write_bytes(b"x")
    (root / "CUB" / "res101.mat").write_bytes(b"x")
    assert dataset_dir(root, "cub") == root / "CUB"


def test_dataset_dir_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        dataset_dir(tmp_path / "nope", "sun")
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataError, match="not a directory"):
        dataset_dir(tmp_path / "file", "sun")
    with pytest.raises(DataError, match="SUN"):
        dataset_dir(tmp_path, "sun")
    with pytest.raises(ConfigError, match="valid names: sun, cub, awa1, awa2, apy"):
        dataset_dir(tmp_path, "imagenet")


def test_check_all(tmp_path, built):
    assert check_all(tmp_path) == []
    with pytest.raises(DataError, match="does not exist"):
        check_all(tmp_path / "missing")
    # a data dir with CUB (good) and APY (features missing)
    cub = built("cub")
    link(cub.folder, tmp_path / "CUB")
    (tmp_path / "xlsa17" / "data" / "APY").mkdir(parents=True)
    link(SHARED / "APY" / "att_splits.mat", tmp_path / "xlsa17" / "data" / "APY" / "att_splits.mat")
    results = check_all(tmp_path)
    assert [r.dataset for r in results] == ["cub", "apy"]
    assert all(isinstance(r, CheckResult) for r in results)
    ok, bad = results
    assert ok.status == "ok" and ok.images == 11788
    assert bad.status == "fail" and "res101.mat" in bad.message and "not found" in bad.message
    # what the splits file says is known even though the features are missing
    got = (bad.classes, bad.attributes, bad.trainval, bad.images, bad.seen)
    assert got == (32, 64, 5932, None, None)
    named = check_all(tmp_path, ["sun"])
    assert named[0].status == "fail" and named[0].classes is None
    assert set(named[0].as_dict()) >= {"dataset", "vintage", "status", "message", "test_unseen"}


def test_load_dataset_auto_picks_xlsa17(built):
    b = built("cub")
    assert resolve_source("cub", "auto", b.root) == "xlsa17"
    assert resolve_source("sun", "auto", b.root) == "synthetic"
    data = load_dataset("cub", data_dir=b.root, scale=0.1)  # scale ignored for real data
    assert data.source == "xlsa17" and data.features.shape[0] == 11788


def test_hash_is_cached_per_file_version(tmp_path, monkeypatch):
    import zslbench.data.features.xlsa17_files as mod

    p = tmp_path / "f.bin"
    p.write_bytes(b"abc" * 1000)
    first = file_sha256(p)

    def boom(*a, **k):
        raise AssertionError("rehashed")

    monkeypatch.setattr(mod.hashlib, "sha256", boom)
    assert file_sha256(p) == first  # cached
    os.utime(p, ns=(0, 12345))
    with pytest.raises(AssertionError, match="rehashed"):
        file_sha256(p)  # new mtime: hashed again


# --------------------------------------------------------------------------- broken variants
# CUB (smallest N) for the split files and the features; small-D features where res101 changes.


@pytest.fixture(scope="session")
def cub(built):
    b = built("cub")
    return b, read_mat(b.splits_src)


def small_res(b: Built, dim: int = 8, **changes) -> dict:
    d = res101(b.labels1, dim)
    d.update(changes)
    return d


def edited(splits: dict, **changes) -> dict:
    out = {k: v.copy() for k, v in splits.items()}
    for k, v in changes.items():
        if v is None:
            out.pop(k)
        else:
            out[k] = v
    return out


def col(values) -> np.ndarray:
    return np.asarray(values).reshape(-1, 1)


def test_missing_files(tmp_path, cub):
    b, _ = cub
    d = variant(tmp_path, b)
    (d / "xlsa17/data/CUB/res101.mat").unlink()
    expect_error(d, "cub", "res101.mat", None, "not found")
    (d / "xlsa17/data/CUB/att_splits.mat").unlink()
    expect_error(d, "cub", "att_splits.mat", None, "not found")


@pytest.mark.parametrize("key", ["att", "allclasses_names", *MAIN])
def test_missing_split_keys(tmp_path, cub, key):
    b, s = cub
    d = variant(tmp_path, b, splits=edited(s, **{key: None}))
    msg = expect_error(d, "cub", "att_splits.mat", key, "missing")
    assert "keys present" in msg


@pytest.mark.parametrize("key", ["features", "labels"])
def test_missing_feature_keys(tmp_path, cub, key):
    b, _ = cub
    res = small_res(b)
    res.pop(key)
    expect_error(variant(tmp_path, b, feats=res), "cub", "res101.mat", key, "missing")


def hdf5_like() -> bytes:
    text = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 ."
    head = text.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02" + b"IM"
    return head.ljust(512, b"\x00") + b"\x89HDF\r\n\x1a\n" + b"\x00" * 2000


@pytest.mark.parametrize(
    "which,content,words",
    [
        ("att_splits.mat", "truncated", ["cannot read"]),
        ("att_splits.mat", "garbage", ["cannot read"]),
        ("att_splits.mat", "empty", ["empty"]),
        ("att_splits.mat", "hdf5", ["v7.3", "not supported"]),
        ("res101.mat", "truncated", ["cannot read"]),
        ("res101.mat", "corrupt-compressed", ["cannot read"]),
        ("res101.mat", "hdf5", ["v7.3", "re-save"]),
    ],
)
def test_unreadable_files(tmp_path, cub, which, content, words):
    b, _s = cub
    if which == "att_splits.mat":
        raw = b.splits_src.read_bytes()  # zlib-compressed variables (MATLAB file)
    else:
        buf = tmp_path / "small.mat"
        sio.savemat(buf, small_res(b), do_compression=(content == "corrupt-compressed"))
        raw = buf.read_bytes()
    if content == "truncated":
        data = raw[: len(raw) // 2]
    elif content == "garbage":
        data = np.random.default_rng(1).bytes(4096)
    elif content == "empty":
        data = b""
    elif content == "hdf5":
        data = hdf5_like()
    else:  # flip bytes inside the compressed stream of the first variable
        arr = bytearray(raw)
        for i in range(300, 340):
            arr[i] ^= 0xFF
        data = bytes(arr)
    kw = {"splits" if which == "att_splits.mat" else "feats": data}
    expect_error(variant(tmp_path, b, **kw), "cub", which, None, *words)


def test_wrong_dtypes(tmp_path, cub):
    b, s = cub
    names = s["allclasses_names"]
    bad = np.empty(names.shape, dtype=object)
    for i in range(names.shape[0]):
        bad[i, 0] = np.array([1.0])  # numbers instead of names
    cases = [
        ({"att": np.array(["not numbers"])}, None, "att", "numeric"),
        ({"trainval_loc": np.array(["1 2 3"])}, None, "trainval_loc", "numeric"),
        ({"allclasses_names": bad}, None, "allclasses_names", "not a string"),
        (None, {"features": "oops"}, "features", "numeric"),
        (None, {"labels": np.array([[np.array([1.0])]], dtype=object)}, "labels", "numeric"),
    ]
    for i, (sp, rs, key, word) in enumerate(cases):
        d = variant(
            tmp_path / str(i),
            b,
            splits=None if sp is None else edited(s, **sp),
            feats=None if rs is None else small_res(b, **rs),
        )
        file = "att_splits.mat" if sp is not None else "res101.mat"
        expect_error(d, "cub", file, key, word)


def test_wrong_shapes(tmp_path, cub):
    b, s = cub
    n = b.labels1.size
    feats = res101(b.labels1, 8)["features"]
    cases = [
        ({"att": s["att"][:, :, None].repeat(2, axis=2)}, None, "att", "2-D"),
        ({"att": s["att"][:, :-1]}, None, "att", "allclasses_names has 200"),
        ({"att": np.ascontiguousarray(s["att"].T)}, None, "att", "transposed"),
        ({"original_att": s["original_att"][:-1]}, None, "original_att", "differs"),
        ({"trainval_loc": s["trainval_loc"][:-1].reshape(2, -1)}, None, "trainval_loc", "vector"),
        (None, {"features": feats[:, :-1]}, "features", f"'labels' has {n}"),
        (None, {"features": np.ascontiguousarray(feats.T)}, "features", "transposed"),
        (None, {"features": feats[:, :, None].repeat(2, axis=2)}, "features", "2-D"),
        (None, {"labels": np.ones((2, n))}, "labels", "vector"),
    ]
    for i, (sp, rs, key, word) in enumerate(cases):
        d = variant(
            tmp_path / str(i),
            b,
            splits=None if sp is None else edited(s, **sp),
            feats=None if rs is None else small_res(b, **rs),
        )
        file = "att_splits.mat" if sp is not None else "res101.mat"
        expect_error(d, "cub", file, key, word)


def test_index_problems(tmp_path, cub):
    b, s = cub
    n = b.labels1.size
    tv = s["trainval_loc"].ravel().astype(np.float64)
    ts = s["test_seen_loc"].ravel()
    tu = s["test_unseen_loc"].ravel()
    dup = tv.copy()
    dup[1] = dup[0]
    over = tv.copy()
    over[0] = n + 1
    zero = tv.copy()
    zero[5] = 0
    frac = tv.copy()
    frac[3] = 2.5
    cases = [
        ({"trainval_loc": col(over)}, "trainval_loc", ["out of range", str(n)]),
        ({"test_seen_loc": col(np.r_[ts[:-1], 0])}, "test_seen_loc", ["out of range"]),
        ({"trainval_loc": col(zero)}, "trainval_loc", ["out of range"]),
        ({"trainval_loc": col(dup)}, "trainval_loc", ["duplicate"]),
        ({"trainval_loc": col(frac)}, "trainval_loc", ["non-integer"]),
        ({"trainval_loc": col(np.r_[tv, ts[0]])}, "test_seen_loc", ["both", "disjoint"]),
        ({"test_unseen_loc": col(np.r_[tu, tv[0]])}, "test_unseen_loc", ["both"]),
        ({"test_unseen_loc": col(np.r_[tu, ts[0]])}, "test_unseen_loc", ["both"]),
        ({"test_unseen_loc": np.zeros((0, 0))}, "test_unseen_loc", ["empty"]),
        ({"trainval_loc": np.zeros((0, 1), dtype=np.uint16)}, "trainval_loc", ["empty"]),
    ]
    for i, (change, key, words) in enumerate(cases):
        d = variant(tmp_path / str(i), b, splits=edited(s, **change))
        expect_error(d, "cub", "att_splits.mat", key, *words)


def test_tuning_split_problems(tmp_path, built):
    b = built("awa1")
    s = read_mat(b.splits_src)
    tr = s["train_loc"].ravel()
    d = variant(tmp_path / "dup", b, splits=edited(s, train_loc=col(np.r_[tr, tr[0]])))
    expect_error(d, "awa1", "att_splits.mat", "train_loc", "duplicate")
    val = col(np.r_[s["val_loc"].ravel(), 40000])
    d = variant(tmp_path / "range", b, splits=edited(s, val_loc=val))
    expect_error(d, "awa1", "att_splits.mat", "val_loc", "out of range")
    # a lone train_loc: warned about and ignored (2019 vintage)
    d = variant(tmp_path / "lone", b, splits=edited(s, val_loc=None))
    with pytest.warns(DataWarning, match="val_loc"):
        data = load_xlsa17("awa1", d)
    assert data.vintage == "2019" and data.train_idx is None


def test_class_conflicts(tmp_path, cub):
    b, s = cub
    lab = b.labels1 - 1
    tv = s["trainval_loc"].ravel().astype(np.int64)
    ts = s["test_seen_loc"].ravel().astype(np.int64)
    tu = s["test_unseen_loc"].ravel().astype(np.int64)
    # an unseen-class image moved into trainval
    moved = edited(s, trainval_loc=col(np.r_[tv, tu[0]]), test_unseen_loc=col(tu[1:]))
    d = variant(tmp_path / "a", b, splits=moved)
    msg = expect_error(d, "cub", "att_splits.mat", "trainval_loc", "unseen class", f"image {tu[0]}")
    assert s["allclasses_names"][lab[tu[0] - 1], 0][0] in msg
    # a seen-class image moved into test_unseen
    moved = edited(s, test_seen_loc=col(ts[1:]), test_unseen_loc=col(np.r_[tu, ts[0]]))
    d = variant(tmp_path / "b", b, splits=moved)
    expect_error(d, "cub", "att_splits.mat", "test_unseen_loc", "seen class", f"image {ts[0]}")
    # a test_seen class without trainval images
    c = lab[ts[0] - 1]
    keep = tv[lab[tv - 1] != c]
    d = variant(tmp_path / "c", b, splits=edited(s, trainval_loc=col(keep)))
    expect_error(d, "cub", "att_splits.mat", "test_seen_loc", "no trainval images")
    # a trainval class without test_seen images
    keep = ts[lab[ts - 1] != c]
    d = variant(tmp_path / "d", b, splits=edited(s, test_seen_loc=col(keep)))
    expect_error(d, "cub", "att_splits.mat", "trainval_loc", "no test_seen images")


def test_label_problems(tmp_path, cub):
    b, _ = cub
    cases = [(201, ["outside 1..200"]), (0, ["outside"]), (3.5, ["non-integer"])]
    for i, (value, words) in enumerate(cases):
        labels = b.labels1.astype(np.float64)
        labels[7] = value
        d = variant(tmp_path / str(i), b, feats=small_res(b, labels=labels[:, None]))
        expect_error(d, "cub", "res101.mat", "labels", *words)


def test_non_finite_values(tmp_path, cub):
    b, s = cub
    for i, bad in enumerate([np.nan, np.inf, -np.inf]):
        res = small_res(b)
        res["features"][3, 10] = bad
        d = variant(tmp_path / f"f{i}", b, feats=res)
        msg = expect_error(d, "cub", "res101.mat", "features", "non-finite", "image 11")
        assert "(4, 11)" in msg  # MATLAB (row, column) of the stored [D x N] matrix
    att = s["att"].copy()
    att[2, 5] = np.nan
    d = variant(tmp_path / "a", b, splits=edited(s, att=att))
    expect_error(d, "cub", "att_splits.mat", "att", "non-finite", "attribute 3 of class 6")
    att = s["att"].copy()
    att[:, 9] = 0
    d = variant(tmp_path / "z", b, splits=edited(s, att=att))
    expect_error(d, "cub", "att_splits.mat", "att", "all-zero")
    orig = s["original_att"].copy()
    orig[0, 0] = np.inf
    d = variant(tmp_path / "o", b, splits=edited(s, original_att=orig))
    expect_error(d, "cub", "att_splits.mat", "original_att", "non-finite")


def test_count_differences_only_warn(tmp_path, cub):
    b, s = cub
    tu = s["test_unseen_loc"].ravel()
    d = variant(tmp_path, b, splits=edited(s, test_unseen_loc=col(tu[:-10]), original_att=None))
    with pytest.warns(DataWarning) as record:
        data = load_xlsa17("cub", d)
    texts = [str(w.message) for w in record]
    assert any("test_unseen 2957 (GBU 2967)" in t for t in texts), texts
    assert any("10 of 11788 images are in none" in t for t in texts), texts
    assert data.summary()["test_unseen"] == 2957
    assert data.meta["has_original_att"] is False
    res = check_dataset("cub", d)
    assert res.status == "warn" and "GBU" in res.message and "none of" in res.message
    assert res.test_unseen == 2957


def test_fingerprint_without_loading_matches_the_loaded_data(built):
    from zslbench.data import fingerprint

    b = built("cub")
    assert fingerprint("cub", "auto", b.root) == load_dataset("cub", data_dir=b.root).fingerprint
    assert (
        fingerprint("cub", "synthetic", b.root, scale=0.05, seed=3)
        == load_dataset("cub", "synthetic", b.root, scale=0.05, synthetic_seed=3).fingerprint
    )
