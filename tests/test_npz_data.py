"""A features dataset of one's own (``<data-dir>/<name>/features.npz``, zslbench.data.features.npz):
loaded with any feature dimension, refused with one line naming the array when broken, and its
fingerprint follows its contents."""

from __future__ import annotations

import numpy as np
import pytest

from zslbench.data.features.npz import check_npz, load_npz, npz_fingerprint
from zslbench.errors import DataError


def arrays(dim: int = 40) -> dict:
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(6), 10)
    within = np.tile(np.arange(10), 6)
    seen = labels < 4
    return {
        "features": rng.random((60, dim)).astype(np.float32),
        "labels": labels,
        "attrs": rng.random((6, 9)).astype(np.float32),
        "trainval_idx": np.flatnonzero(seen & (within < 7)),
        "test_seen_idx": np.flatnonzero(seen & (within >= 7)),
        "test_unseen_idx": np.flatnonzero(~seen),
        "class_names": np.array([f"c{i}" for i in range(6)]),
    }


def write(root, values: dict, name: str = "mine"):
    path = root / name / "features.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **values)
    return path


def test_a_valid_npz_loads_with_its_own_feature_dimension(tmp_path):
    write(tmp_path, arrays(dim=40))
    data = load_npz("mine", tmp_path)
    assert data.feature_dim == 40 and data.n_classes == 6 and data.attr_dim == 9
    assert data.seen_classes.tolist() == [0, 1, 2, 3] and data.unseen_classes.tolist() == [4, 5]
    assert data.source == "npz" and check_npz("mine", tmp_path).status == "ok"


def _broken(case: str) -> dict:
    a = arrays()
    if case == "shape":
        a["labels"] = a["labels"][:-1]
    elif case == "nan":
        a["features"][3, 2] = np.nan
    elif case == "no_attributes":
        a["attrs"][2] = 0.0
    elif case == "no_attr_row":
        a["labels"][5] = 6
    elif case == "overlap":
        a["test_unseen_idx"] = np.concatenate([a["test_unseen_idx"], a["trainval_idx"][:1]])
    elif case == "missing":
        del a["class_names"]
    return a


@pytest.mark.parametrize(
    "case, array, needle",
    [
        ("shape", "labels", "shape (59,)"),
        ("nan", "features", "NaN"),
        ("no_attributes", "attrs", "class 2 ('c2') has no attributes"),
        ("no_attr_row", "labels", "label 6 of image 5 has no class"),
        ("overlap", "test_unseen_idx", "also a seen class"),
        ("missing", "class_names", "missing"),
    ],
)
def test_a_broken_npz_is_refused_with_one_line_naming_the_array(tmp_path, case, array, needle):
    write(tmp_path, _broken(case))
    with pytest.raises(DataError) as exc:
        load_npz("mine", tmp_path)
    message = str(exc.value)
    assert "\n" not in message and f"array '{array}'" in message and needle in message
    result = check_npz("mine", tmp_path)
    assert result.status == "fail" and result.message == message


def test_the_fingerprint_follows_the_contents(tmp_path):
    path = write(tmp_path, arrays())
    before = npz_fingerprint("mine", tmp_path)
    assert load_npz("mine", tmp_path).fingerprint == before
    a = arrays()
    a["features"][0, 0] += 1.0
    path.unlink()
    write(tmp_path, a)
    assert npz_fingerprint("mine", tmp_path) != before
