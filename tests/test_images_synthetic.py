"""Synthetic raw-image data of the CZSL image track (zslbench.data.images, source "synthetic")."""

from __future__ import annotations

import numpy as np
import pytest

from zslbench.data.images import (
    backbone_checkpoint,
    image_fingerprint,
    load_image_dataset,
    resolve_image_source,
)
from zslbench.data.images.types import ImageData
from zslbench.errors import ConfigError, DataError


def _load(name, size=16, scale=1.0, seed=0, tmp=None):
    return load_image_dataset(name, "synthetic", tmp, image_size=size, synthetic_scale=scale, synthetic_seed=seed)


@pytest.mark.parametrize("name, classes, attrs", [("cub", 200, 312), ("sun", 717, 102)])
def test_real_shapes_and_split_sizes(name, classes, attrs):
    data = _load(name)
    assert isinstance(data, ImageData)
    assert (data.name, data.source, data.attr_source) == (name, "synthetic", "synthetic")
    assert data.n_classes == classes and data.attr_dim == attrs
    assert data.images.dtype == np.uint8 and data.images.shape == (data.n_images, 16, 16, 3)
    assert data.labels.dtype == np.int64 and data.labels.shape == (data.n_images,)
    assert set(np.unique(data.labels)) == set(range(classes))
    assert np.isfinite(data.attrs).all() and data.attrs.dtype == np.float32
    parts = [data.splits[k] for k in ("train", "val", "test")]
    joined = np.concatenate(parts)
    assert joined.size == data.n_images and np.unique(joined).size == data.n_images  # a partition
    per_class = {k: np.bincount(data.labels[v], minlength=classes) for k, v in data.splits.items()}
    if name == "cub":
        assert per_class["val"].sum() == 0
        assert 29 <= per_class["train"].mean() <= 30 and per_class["train"].min() >= 28
        assert 27 <= per_class["test"].mean() <= 29.5
        assert 11_500 <= data.n_images <= 11_900  # the real one: 11,788
    else:
        assert (per_class["train"] == 10).all() and (per_class["val"] == 5).all()
        assert (per_class["test"] == 5).all() and data.n_images == 14_340
        np.testing.assert_allclose(np.linalg.norm(data.attrs, axis=1), 1.0, rtol=1e-5)
    assert data.summary()["images"] == data.n_images


@pytest.mark.parametrize("name", ["cub", "sun"])
def test_scale_keeps_one_train_and_one_eval_image_per_class(name):
    data = _load(name, scale=0.01)
    evals = "test" if name == "cub" else "val"
    for part in ("train", evals):
        counts = np.bincount(data.labels[data.splits[part]], minlength=data.n_classes)
        assert counts.min() >= 1
    assert data.n_images < _load(name, scale=0.5).n_images


def test_deterministic_from_seed_and_fingerprint_without_loading(tmp_path):
    a = _load("cub", scale=0.1, seed=3)
    b = load_image_dataset("cub", "synthetic", tmp_path, image_size=16, synthetic_scale=0.1, synthetic_seed=3)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.attrs, b.attrs)
    assert a.fingerprint == b.fingerprint
    c = _load("cub", scale=0.1, seed=4)
    assert not np.array_equal(a.attrs, c.attrs) and a.fingerprint != c.fingerprint
    assert a.fingerprint == image_fingerprint("cub", "synthetic", tmp_path, 16, 0.1, 3)
    fps = {
        image_fingerprint("cub", "synthetic", None, s, sc, sd)
        for s, sc, sd in [(16, 0.1, 3), (32, 0.1, 3), (16, 0.2, 3), (16, 0.1, 0)]
    }
    assert len(fps) == 4
    assert image_fingerprint("sun", "synthetic", None, 16) != image_fingerprint("cub", "synthetic", None, 16)


def test_arrays_are_read_only():
    data = _load("sun", scale=0.1)
    with pytest.raises(ValueError):
        data.images[0, 0, 0, 0] = 1


def _colour_features(images):
    """Mean colour of the image centre minus that of its border (the image's colour cast
    cancels), and the border's: [N, 6]."""
    im = images.astype(np.float64) / 255.0
    s = im.shape[1]
    centre = im[:, s // 2 - 3 : s // 2 + 3, s // 2 - 3 : s // 2 + 3].mean((1, 2))
    ring = np.ones((s, s), bool)
    ring[2:-2, 2:-2] = False
    border = im[:, ring].mean(1)
    return np.concatenate([centre - border, border], axis=1)


def test_images_depend_on_the_class_and_its_attributes():
    """Cheap probes of what the generator promises: seen classes are recognisable from pixels
    (nearest class mean, far above chance) and unseen classes' look is predictable from their
    attributes (ridge regression from attributes to class-mean colour features, then nearest
    predicted mean, above chance).  A CNN does much better (module docstring); these linear
    probes only guard that the signal is there."""
    data = _load("cub", size=16, scale=0.5)
    y, tr, te = data.labels, data.splits["train"], data.splits["test"]
    x = data.images.reshape(data.n_images, -1).astype(np.float64) / 255.0
    means = np.stack([x[tr][y[tr] == k].mean(0) for k in range(data.n_classes)])
    d = (means**2).sum(1)[None] - 2.0 * x[te] @ means.T  # squared distances, up to a row constant
    seen_acc = float((d.argmin(1) == y[te]).mean())
    assert seen_acc > 0.1, seen_acc  # chance is 0.5%; measured 0.24
    # zero-shot: attributes -> class-mean features learnt on 150 classes, the other 50 classified
    f = _colour_features(data.images)
    unseen = np.random.default_rng(0).choice(data.n_classes, 50, replace=False)
    seen = np.setdiff1d(np.arange(data.n_classes), unseen)
    a = data.attrs.astype(np.float64)
    a = (a - a[seen].mean(0)) / (a[seen].std(0) + 1e-6)
    fm = np.stack([f[tr][y[tr] == k].mean(0) for k in range(data.n_classes)])
    w = np.linalg.solve(a[seen].T @ a[seen] + 100.0 * np.eye(a.shape[1]), a[seen].T @ fm[seen])
    pred = a[unseen] @ w
    mask = np.isin(y[te], unseen)
    d = ((f[te][mask][:, None, :] - pred[None]) ** 2).sum(-1)
    zsl = float((unseen[d.argmin(1)] == y[te][mask]).mean())
    assert zsl > 0.045, zsl  # chance is 2%; measured 0.075


def test_resolve_source(tmp_path):
    assert resolve_image_source("cub", "auto", tmp_path) == "synthetic"
    assert resolve_image_source("sun", "synthetic", tmp_path) == "synthetic"
    assert resolve_image_source("sun", "images", tmp_path) == "images"
    cub = tmp_path / "CUB_200_2011"
    (cub / "images").mkdir(parents=True)
    (cub / "images.txt").write_text("")
    assert resolve_image_source("cub", "auto", tmp_path) == "images"
    assert resolve_image_source("sun", "auto", tmp_path) == "synthetic"
    sun = tmp_path / "SUN"
    (sun / "images").mkdir(parents=True)
    (sun / "SUNAttributeDB").mkdir()
    (sun / "SUNAttributeDB" / "images.mat").write_bytes(b"")
    assert resolve_image_source("sun", "auto", tmp_path) == "images"


def test_default_data_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ZSLBENCH_DATA", str(tmp_path))
    assert resolve_image_source("cub") == "synthetic"
    (tmp_path / "CUB_200_2011" / "images").mkdir(parents=True)
    (tmp_path / "CUB_200_2011" / "images.txt").write_text("")
    assert resolve_image_source("cub") == "images"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"dataset": "awa2"}, "unknown image dataset"),
        ({"dataset": "cub", "source": "xlsa17"}, "unknown image data source"),
        ({"dataset": "cub", "image_size": 4}, "image_size"),
        ({"dataset": "cub", "image_size": 16.0}, "image_size"),
        ({"dataset": "cub", "synthetic_scale": 0}, "scale"),
        ({"dataset": "cub", "synthetic_seed": -1}, "synthetic_seed"),
    ],
)
def test_bad_arguments(kwargs, match, tmp_path):
    kwargs = {"source": "synthetic", "data_dir": tmp_path, "image_size": 16, **kwargs}
    with pytest.raises(ConfigError, match=match):
        load_image_dataset(**kwargs)
    with pytest.raises(ConfigError, match=match):
        image_fingerprint(**kwargs)


def test_backbone_checkpoint(tmp_path):
    with pytest.raises(DataError) as info:
        backbone_checkpoint(tmp_path)
    message = str(info.value)
    assert "\n" not in message
    assert "zslbench data fetch --dataset resnet18-imagenet" in message
    assert "resnet18-f37072fd.pth" in message
    path = tmp_path / "resnet18-imagenet" / "resnet18-f37072fd.pth"
    path.parent.mkdir()
    path.write_bytes(b"x")
    assert backbone_checkpoint(tmp_path) == path


def test_synthetic_archives_command(tmp_path):
    import tarfile

    from zslbench.data.images.synthetic_files import main

    main([str(tmp_path), "--classes", "3", "--per-class", "2", "--image-size", "16"])
    names = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert names == ["CUB_200_2011.tgz", "SUNAttributeDB.tar.gz", "SUNAttributeDB_Images.tar.gz"]
    with tarfile.open(tmp_path / "CUB_200_2011.tgz") as tar:
        members = tar.getnames()
    assert "CUB_200_2011/train_test_split.txt" in members and "attributes.txt" in members
    assert sum(m.endswith(".jpg") for m in members) == 6


def test_only_small_synthetic_sets_stay_in_memory(monkeypatch):
    from zslbench.data.images import synthetic as synthetic_images

    monkeypatch.setattr(synthetic_images, "_MEMO", {})
    small = _load("sun", size=8, scale=0.05)
    assert _load("sun", size=8, scale=0.05).images is small.images  # the same arrays, not rendered again
    monkeypatch.setattr(synthetic_images, "_MEMO_MAX_BYTES", small.images.nbytes - 1)
    synthetic_images._MEMO.clear()
    again = _load("sun", size=8, scale=0.05)
    assert not synthetic_images._MEMO and np.array_equal(again.images, small.images)
