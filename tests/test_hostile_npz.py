"""Hostile ``features.npz`` files (zslbench.data.features.npz): members that are not the known
arrays are never read, headers are checked before any data (size, dtype, shape), repeated
indices in a split are refused, and random headers give either the right arrays or one line
naming the array."""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support import zsl
from zslbench.data.features.npz import ARRAYS, load_npz
from zslbench.errors import DataError


def arrays() -> dict:
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(6), 10)
    within = np.tile(np.arange(10), 6)
    seen = labels < 4
    return {
        "features": rng.random((60, 8)).astype(np.float32),
        "labels": labels,
        "attrs": rng.random((6, 5)).astype(np.float32) + 0.1,
        "trainval_idx": np.flatnonzero(seen & (within < 7)),
        "test_seen_idx": np.flatnonzero(seen & (within >= 7)),
        "test_unseen_idx": np.flatnonzero(~seen),
        "class_names": np.array([f"c{i}" for i in range(6)]),
    }


def npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a, allow_pickle=False)
    return buf.getvalue()


def write_npz(root, members: dict[str, bytes], compress: bool = True):
    """features.npz of the dataset "mine" with these raw members (name -> bytes of the .npy)."""
    path = root / "mine" / "features.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def good_members(**replace: bytes) -> dict[str, bytes]:
    members = {f"{k}.npy": npy_bytes(v) for k, v in arrays().items()}
    members.update({f"{k}.npy": v for k, v in replace.items()})
    return members


def test_members_other_than_the_arrays_are_never_read(tmp_path):
    bomb = b"\x93NUMPY\x01\x00" + b"\xff" * 64  # not even a readable header
    write_npz(tmp_path, {**good_members(), "zzz_unknown.npy": bomb})
    data = load_npz("mine", tmp_path)
    assert data.n_classes == 6


def test_an_unknown_member_that_inflates_costs_no_memory(tmp_path):
    big = npy_bytes(np.zeros(64 << 20, dtype=np.uint8))  # 64 MB of zeros, about 64 KB compressed
    path = write_npz(tmp_path, {**good_members(), "zzz_bomb.npy": big})
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        load_npz("mine", tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, peak


def test_a_header_that_promises_more_than_the_member_holds_is_refused_before_reading(tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)})
    write_npz(tmp_path, good_members(features=header.getvalue() + b"\0" * 64))
    with pytest.raises(DataError, match=r"array 'features': the header declares shape \(1000000, 1000000\)"):
        load_npz("mine", tmp_path)


def test_the_size_bound_is_checked_on_the_headers(tmp_path, monkeypatch):
    write_npz(tmp_path, good_members())
    monkeypatch.setenv("ZSLBENCH_NPZ_MAX_BYTES", "1K")
    with pytest.raises(
        DataError, match=r"array 'features': .*more than the limit of 1024 \(\$ZSLBENCH_NPZ_MAX_BYTES\)"
    ):
        load_npz("mine", tmp_path)
    monkeypatch.setenv("ZSLBENCH_NPZ_MAX_BYTES", "1M")
    assert load_npz("mine", tmp_path).n_classes == 6


def test_values_beyond_float32_are_refused(tmp_path):
    a = arrays()
    a["attrs"] = a["attrs"].astype(np.float64)
    a["attrs"][1, 2] = 1e300
    write_npz(tmp_path, {f"{k}.npy": npy_bytes(v) for k, v in a.items()})
    with pytest.raises(DataError, match=r"array 'attrs': value 1e\+300 \(row 1, column 2\) does not fit in float32"):
        load_npz("mine", tmp_path)


@pytest.mark.parametrize("split", ["trainval_idx", "test_seen_idx", "test_unseen_idx"])
def test_repeated_indices_in_a_split_are_refused_naming_the_array(tmp_path, split):
    a = arrays()
    a[split] = np.concatenate([a[split], a[split][:1]])
    write_npz(tmp_path, {f"{k}.npy": npy_bytes(v) for k, v in a.items()})
    with pytest.raises(DataError, match=rf"array '{split}': index {a[split][0]} appears 2 times"):
        load_npz("mine", tmp_path)


def test_the_cli_says_one_line_for_a_repeated_index(tmp_path):
    a = arrays()
    a["trainval_idx"] = np.concatenate([a["trainval_idx"], a["trainval_idx"]])
    write_npz(tmp_path, {f"{k}.npy": npy_bytes(v) for k, v in a.items()})
    plugin = tmp_path / "mine_plugin.py"
    plugin.write_text("from zslbench.api import register_dataset\nregister_dataset('mine')\n")
    proc = zsl(
        "--plugin", "mine_plugin", "data", "check", "--dataset", "mine", "--data-dir", str(tmp_path), cwd=tmp_path
    )  # python -m puts the working folder on the path
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "array 'trainval_idx': index 0 appears 2 times" in proc.stdout + proc.stderr


# --------------------------------------------------------------------------- random headers

DTYPES = ["<f4", "<f8", ">f8", "<i8", "<i4", "|u1", "|b1", "<U3", "|S2", "|O", "<c8", "|V4", "<M8[s]", "[('a', '<i4')]"]


VALID_SHAPES = {k: v.shape for k, v in arrays().items()}


@st.composite
def npy_member(draw, key):
    """The bytes of one .npy member: a header of random shape/dtype (or the valid shape), data of
    random length."""
    kind = draw(st.sampled_from(["header", "garbage", "short_magic"]))
    if kind == "garbage":
        return draw(st.binary(max_size=200))
    if kind == "short_magic":
        return b"\x93NUMPY" + draw(st.binary(max_size=20))
    descr = draw(st.sampled_from(DTYPES))
    shape = draw(st.one_of(st.just(VALID_SHAPES[key]), st.lists(st.integers(0, 70), max_size=3).map(tuple)))
    header = io.BytesIO()
    fields = {
        "descr": eval(descr) if descr.startswith("[") else descr,
        "fortran_order": draw(st.booleans()),
        "shape": shape,
    }
    np.lib.format.write_array_header_1_0(header, fields)
    itemsize = np.dtype(fields["descr"]).itemsize
    n = int(np.prod(shape)) * itemsize
    length = draw(st.sampled_from([n, max(0, n - 1), n + 1, 0]))
    return header.getvalue() + draw(st.binary(min_size=min(length, 64), max_size=min(length, 64))).ljust(length, b"\1")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), compress=st.booleans())
def test_random_headers_give_the_arrays_or_one_line(tmp_path, data, compress):
    key = data.draw(st.sampled_from(ARRAYS))
    member = data.draw(npy_member(key))
    write_npz(tmp_path, good_members(**{key: member}), compress=compress)
    try:
        loaded = load_npz("mine", tmp_path)
    except DataError as exc:
        text = str(exc)
        assert "\n" not in text and "features.npz" in text
        return
    expected = np.lib.format.read_array(io.BytesIO(member), allow_pickle=False)
    got = {
        "features": loaded.features,
        "labels": loaded.labels,
        "attrs": loaded.attrs,
        "trainval_idx": loaded.trainval_idx,
        "test_seen_idx": loaded.test_seen_idx,
        "test_unseen_idx": loaded.test_unseen_idx,
        "class_names": np.array(loaded.class_names),
    }[key]
    if key == "class_names":
        assert list(got) == [str(x) for x in expected]
    else:
        assert np.array_equal(got, expected.astype(got.dtype))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=400))
def test_a_random_file_is_one_line(tmp_path, raw):
    path = tmp_path / "mine" / "features.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    with pytest.raises(DataError) as excinfo:
        load_npz("mine", tmp_path)
    assert "\n" not in str(excinfo.value)
