"""Synthetic datasets: GBU shapes, determinism, realism and learnability; source selection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import zslbench.data.features.synthetic as synth
from zslbench.data import DATASETS, default_data_dir, load_dataset, resolve_source
from zslbench.data.features.synthetic import (
    GENERATOR_VERSION,
    clear_cache,
    make_synthetic,
    synthetic_fingerprint,
)
from zslbench.errors import ConfigError

NAMES = list(DATASETS)


def per_class_accuracy(pred: np.ndarray, true: np.ndarray) -> float:
    classes = np.unique(true)
    return float(np.mean([np.mean(pred[true == c] == c) for c in classes]))


def class_means(x: np.ndarray, y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    order = np.argsort(y, kind="stable")
    ys = y[order]
    starts = np.searchsorted(ys, classes)
    counts = np.searchsorted(ys, classes, side="right") - starts
    assert (counts > 0).all()
    sums = np.add.reduceat(x[order].astype(np.float64), starts, axis=0)
    return sums / counts[:, None]


def nearest(x: np.ndarray, protos: np.ndarray, classes: np.ndarray) -> np.ndarray:
    d2 = (protos**2).sum(1)[None, :] - 2.0 * x.astype(np.float64) @ protos.T
    return classes[np.argmin(d2, axis=1)]


def check_structure(d, spec) -> None:
    n_img = d.features.shape[0]
    assert d.features.shape == (n_img, spec.feature_dim)
    assert d.features.dtype == np.float32 and d.features.flags.c_contiguous
    assert d.labels.shape == (n_img,) and d.labels.dtype == np.int64
    assert d.attrs.shape == (spec.n_classes, spec.attr_dim) and d.attrs.dtype == np.float32
    assert d.n_classes == spec.n_classes and d.attr_dim == spec.attr_dim
    assert len(d.class_names) == spec.n_classes == len(set(d.class_names))
    assert d.class_names[0] == f"{spec.name}_synth_000"
    assert d.source == "synthetic" and d.vintage == "synthetic"
    assert d.train_idx is None and d.val_idx is None
    # classes: a partition of 0..C-1 with the GBU seen/unseen counts
    assert d.seen_classes.dtype == np.int64 and d.unseen_classes.dtype == np.int64
    assert len(d.seen_classes) == spec.n_seen and len(d.unseen_classes) == spec.n_unseen
    both = np.sort(np.r_[d.seen_classes, d.unseen_classes])
    assert np.array_equal(both, np.arange(spec.n_classes))
    # splits: disjoint, covering every image, sorted int64
    idx = [d.trainval_idx, d.test_seen_idx, d.test_unseen_idx]
    assert all(i.dtype == np.int64 and np.all(np.diff(i) > 0) for i in idx)
    assert np.array_equal(np.sort(np.concatenate(idx)), np.arange(n_img))
    tv, ts, tu = (d.labels[i] for i in idx)
    assert np.array_equal(np.unique(tv), d.seen_classes)
    assert np.array_equal(np.unique(ts), d.seen_classes)
    assert np.array_equal(np.unique(tu), d.unseen_classes)
    assert np.bincount(tv, minlength=spec.n_classes)[d.seen_classes].min() >= 2
    # realism: non-negative features and attributes, unit-norm attribute vectors
    assert d.features.min() >= 0.0 and np.isfinite(d.features).all()
    assert 0.05 < float((d.features == 0).mean()) < 0.9
    assert d.attrs.min() >= 0.0
    np.testing.assert_allclose(np.linalg.norm(d.attrs, axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_full_scale_matches_gbu_counts(name):
    spec = DATASETS[name]
    d = make_synthetic(name)
    check_structure(d, spec)
    assert d.summary() == {
        "dataset": name,
        "source": "synthetic",
        "vintage": "synthetic",
        "classes": spec.n_classes,
        "seen": spec.n_seen,
        "unseen": spec.n_unseen,
        "attributes": spec.attr_dim,
        "images": spec.n_images,
        "trainval": spec.n_trainval,
        "test_seen": spec.n_test_seen,
        "test_unseen": spec.n_test_unseen,
    }
    # attributes are correlated (low-rank structure), unlike independent noise
    a = d.attrs.astype(np.float64)
    sv = np.linalg.svd(a - a.mean(0), compute_uv=False) ** 2
    assert sv[:10].sum() / sv.sum() > 0.5
    assert d.meta == {
        "generator": "zslbench.data.synthetic",
        "generator_version": GENERATOR_VERSION,
        "scale": 1.0,
        "seed": 0,
    }


@pytest.mark.parametrize("name,scale", [("sun", 0.1), ("cub", 0.05), ("awa2", 0.01), ("apy", 0.3)])
def test_small_scale_shrinks_counts_keeping_every_class(name, scale):
    spec = DATASETS[name]
    d = make_synthetic(name, scale=scale)
    check_structure(d, spec)
    s = d.summary()
    for key, full, minimum in (
        ("trainval", spec.n_trainval, 2 * spec.n_seen),
        ("test_seen", spec.n_test_seen, spec.n_seen),
        ("test_unseen", spec.n_test_unseen, spec.n_unseen),
    ):
        assert s[key] == max(round(full * scale), minimum), key
    # the class structure does not depend on scale
    full = make_synthetic(name)
    assert np.array_equal(d.attrs, full.attrs)
    assert np.array_equal(d.unseen_classes, full.unseen_classes)


def test_deterministic_and_cached():
    a = make_synthetic("cub", scale=0.2, seed=3)
    assert make_synthetic("CUB", scale=0.2, seed=3) is a  # the same object from the cache
    fresh = synth._generate(DATASETS["cub"], 0.2, 3)  # regenerated from scratch
    fields = ("features", "labels", "attrs", "trainval_idx", "test_seen_idx", "test_unseen_idx")
    for field in fields:
        assert np.array_equal(getattr(a, field), getattr(fresh, field)), field
    assert fresh.fingerprint == a.fingerprint
    other = make_synthetic("cub", scale=0.2, seed=4)
    assert not np.array_equal(other.attrs, a.attrs)
    assert not np.array_equal(other.unseen_classes, a.unseen_classes)
    assert other.fingerprint != a.fingerprint
    assert make_synthetic("cub", scale=0.3, seed=3).fingerprint != a.fingerprint
    assert make_synthetic("sun", scale=0.2, seed=3).fingerprint != a.fingerprint
    assert a.fingerprint == synthetic_fingerprint("cub", 0.2, 3)
    assert synthetic_fingerprint("cub", 1, 0) == synthetic_fingerprint("cub", 1.0, 0)
    assert a.meta["seed"] == 3 and a.meta["scale"] == 0.2


def test_full_size_sun_is_generated():
    """Its speed is measured by benchmarks/bench_load.py, not here."""
    d = synth._generate(DATASETS["sun"], 1.0, 0)  # bypasses the cache
    assert d.features.shape == (14340, 2048) and d.features.dtype == np.float32


@pytest.mark.parametrize("name", ["sun", "cub", "awa1"])
def test_unseen_classes_recognisable_from_attributes(name):
    """Ridge regression attributes -> class-mean features on seen classes predicts unseen
    prototypes; nearest prototype on test_unseen is well above chance but not perfect."""
    d = make_synthetic(name)
    x, y = d.features, d.labels
    seen, unseen = d.seen_classes, d.unseen_classes
    means = class_means(x[d.trainval_idx], y[d.trainval_idx], seen)
    a = d.attrs.astype(np.float64) * np.sqrt(d.attr_dim)
    a = np.hstack([a, np.ones((a.shape[0], 1))])
    w = np.linalg.solve(a[seen].T @ a[seen] + np.eye(a.shape[1]), a[seen].T @ means)
    protos = a[unseen] @ w
    zsl = per_class_accuracy(nearest(x[d.test_unseen_idx], protos, unseen), y[d.test_unseen_idx])
    chance = 1.0 / len(unseen)
    assert max(0.3, 3 * chance) < zsl < 0.9, zsl
    # seen classes: nearest class mean (from trainval) on test_seen, among seen classes (an
    # oracle with every class's mean: high, but not perfect)
    ncm = per_class_accuracy(nearest(x[d.test_seen_idx], means, seen), y[d.test_seen_idx])
    assert 5.0 / len(seen) < ncm < 0.99, ncm
    # unseen classes do not pull every image: a test image is on average as close (cosine) to
    # the mean of another unseen class as to the mean of another seen class
    test = np.concatenate([d.test_seen_idx, d.test_unseen_idx])
    all_means = class_means(x, y, np.arange(d.n_classes))
    all_means /= np.linalg.norm(all_means, axis=1, keepdims=True)
    xt = x[test].astype(np.float64)
    cos = (xt / np.linalg.norm(xt, axis=1, keepdims=True)) @ all_means.T
    cos[np.arange(test.size), y[test]] = np.nan  # not its own class
    gap = np.nanmean(cos[:, unseen]) - np.nanmean(cos[:, seen])
    assert abs(gap) < 0.02, gap
    own = np.mean(((xt / np.linalg.norm(xt, axis=1, keepdims=True)) * all_means[y[test]]).sum(1))
    assert own > np.nanmean(cos) + 0.15  # an image is much closer to its own class's mean
    # shuffling the attributes of the unseen classes destroys the transfer
    perm = np.roll(np.arange(len(unseen)), 1)
    pred = nearest(x[d.test_unseen_idx], protos[perm], unseen)
    wrong = per_class_accuracy(pred, y[d.test_unseen_idx])
    assert wrong < zsl / 3


def test_disk_cache(tmp_path, monkeypatch):
    clear_cache()
    a = make_synthetic("apy", scale=0.05, seed=1, cache_dir=tmp_path)
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].suffix == ".npz"  # no temp files left behind
    clear_cache()
    calls = []
    real = synth._generate
    monkeypatch.setattr(synth, "_generate", lambda *args: calls.append(args) or real(*args))
    b = make_synthetic("apy", scale=0.05, seed=1, cache_dir=tmp_path)
    assert calls == []  # read from disk
    assert b is not a and b.fingerprint == a.fingerprint
    assert np.array_equal(a.features, b.features) and np.array_equal(a.labels, b.labels)
    assert b.meta == a.meta and b.class_names == a.class_names
    # a damaged cache file is regenerated (and rewritten)
    files[0].write_bytes(b"not an npz")
    clear_cache()
    c = make_synthetic("apy", scale=0.05, seed=1, cache_dir=tmp_path)
    assert len(calls) == 1 and np.array_equal(c.features, a.features)
    assert sorted(p.name for p in tmp_path.iterdir()) == [files[0].name]
    clear_cache()


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"name": "imagenet"}, "valid names"),
        ({"name": "sun", "scale": 0}, "positive"),
        ({"name": "sun", "scale": float("nan")}, "positive"),
        ({"name": "sun", "scale": "big"}, "number"),
        ({"name": "sun", "seed": -1}, ">= 0"),
        ({"name": "sun", "seed": 1.5}, "integer"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        make_synthetic(**kwargs)


# --------------------------------------------------------------------------- zslbench.data


def test_load_dataset_synthetic(tmp_path):
    d = load_dataset("cub", source="synthetic", data_dir=tmp_path, scale=0.1, synthetic_seed=2)
    assert d is make_synthetic("cub", scale=0.1, seed=2)
    # auto without the files falls back to synthetic
    assert resolve_source("cub", "auto", tmp_path / "missing") == "synthetic"
    assert resolve_source("cub", "AUTO", tmp_path) == "synthetic"
    assert load_dataset("cub", data_dir=tmp_path / "missing", scale=0.1, synthetic_seed=2) is d
    # only the splits file: still synthetic
    (tmp_path / "xlsa17" / "data" / "CUB").mkdir(parents=True)
    (tmp_path / "xlsa17" / "data" / "CUB" / "att_splits.mat").write_bytes(b"x")
    assert resolve_source("cub", "auto", tmp_path) == "synthetic"
    assert resolve_source("cub", "xlsa17", tmp_path) == "xlsa17"


def test_load_dataset_errors(tmp_path):
    with pytest.raises(ConfigError, match="valid names: sun, cub, awa1, awa2, apy"):
        load_dataset("imagenet")
    with pytest.raises(ConfigError, match="valid sources"):
        load_dataset("sun", source="web")
    from zslbench.errors import DataError

    with pytest.raises(DataError, match="does not exist"):
        load_dataset("sun", source="xlsa17", data_dir=tmp_path / "missing")


def test_default_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("ZSLBENCH_DATA", str(tmp_path / "d"))
    assert default_data_dir() == tmp_path / "d"
    monkeypatch.delenv("ZSLBENCH_DATA")
    p = default_data_dir()
    assert isinstance(p, Path) and "zslbench" in str(p)
    assert not (tmp_path / "d").exists()  # nothing is created
