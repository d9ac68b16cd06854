"""Raw-image loaders (official CUB-200-2011 and SUN Attribute DB layouts) and the decoded-image
cache, on small generated datasets (tests/_image_layouts.py)."""

from __future__ import annotations

import os
import pickle
import threading

import numpy as np
import pytest
from _image_layouts import copy_tree, first_image, make_cub, make_sun, truncate

from support import one_error_line, one_line_message, zsl
from zslbench.data.images import cache as image_cache
from zslbench.data.images import image_fingerprint, load_image_dataset, resolve_image_source
from zslbench.data.images import real as image_real
from zslbench.data.images.cache import decode_image, resize_linear
from zslbench.data.images.sources import scan_cub, scan_sun
from zslbench.errors import DataError

# the small generated datasets differ from the official counts: a DataWarning each load
pytestmark = pytest.mark.filterwarnings("ignore::zslbench.data.features.xlsa17.DataWarning")


@pytest.fixture(scope="module")
def layouts(tmp_path_factory):
    """Pristine generated layouts; tests copy them before changing anything."""
    root = tmp_path_factory.mktemp("pristine")
    make_cub(root)
    make_sun(root)
    return root


@pytest.fixture
def data_dir(layouts, tmp_path):
    d = tmp_path / "data"
    copy_tree(layouts, d)
    return d


class Counter:
    """decode_image, counted (the cache decodes in threads), optionally killed after n calls."""

    def __init__(self, fail_after=None):
        self.calls = 0
        self.fail_after = fail_after
        self.lock = threading.Lock()

    def __call__(self, path, size):
        with self.lock:
            if self.fail_after is not None and self.calls >= self.fail_after:
                raise KeyboardInterrupt("simulated kill")
            self.calls += 1
        return decode_image(path, size)


@pytest.fixture
def decodes(monkeypatch):
    counter = Counter()
    monkeypatch.setattr(image_cache, "decode_image", counter)
    return counter


# --------------------------------------------------------------------------- CUB


def test_cub_layout(data_dir, decodes):
    assert resolve_image_source("cub", "auto", data_dir) == "images"
    data = load_image_dataset("cub", "auto", data_dir, image_size=20)
    assert (data.name, data.source, data.attr_source) == ("cub", "images", "class_attribute_labels_continuous.txt")
    assert data.n_images == 48 and data.n_classes == 12 and data.attr_dim == 312
    assert isinstance(data.images, np.memmap) and not data.images.flags.writeable
    assert data.images.shape == (48, 20, 20, 3) and data.images.dtype == np.uint8
    root = data_dir / "CUB_200_2011"
    lines = (root / "images.txt").read_text().split()
    files = lines[1::2]
    assert list(data.image_files) == files
    assert data.labels.tolist() == [int(f.split(".")[0]) - 1 for f in files]
    split = [int(v) for v in (root / "train_test_split.txt").read_text().split()[1::2]]
    assert data.splits["train"].tolist() == [i for i, s in enumerate(split) if s == 1]
    assert data.splits["test"].tolist() == [i for i, s in enumerate(split) if s == 0]
    assert data.splits["val"].size == 0
    text = np.loadtxt(root / "attributes" / "class_attribute_labels_continuous.txt", dtype=np.float32)
    np.testing.assert_array_equal(data.attrs, text)
    assert data.fingerprint == image_fingerprint("cub", "auto", data_dir, 20)
    assert decodes.calls == 48
    # every image in the cache is the direct decode (grayscale and CMYK ones included)
    for i in (0, 1, 3, 4, 7):
        np.testing.assert_array_equal(data.images[i], decode_image(root / "images" / files[i], 20))


def test_grayscale_and_cmyk_jpegs_become_rgb(data_dir):
    from PIL import Image

    root = data_dir / "CUB_200_2011"
    modes = {}
    for path in sorted((root / "images").rglob("*.jpg")):
        with Image.open(path) as im:
            modes.setdefault(im.mode, path)
    assert {"L", "CMYK", "RGB"} <= set(modes)
    gray = decode_image(modes["L"], 16)
    assert gray.shape == (16, 16, 3)
    assert (gray[..., 0] == gray[..., 1]).all() and (gray[..., 1] == gray[..., 2]).all()
    cmyk = decode_image(modes["CMYK"], 16)
    assert cmyk.shape == (16, 16, 3) and cmyk.std() > 5  # a picture, not a blank


def test_cub_attributes_from_the_agem_pickle(data_dir):
    attrs = np.random.default_rng(0).random((12, 312))
    (data_dir / "CUB_200_2011" / "CUB_attr_in_order.pickle").write_bytes(pickle.dumps(attrs, protocol=2))
    listing = scan_cub(data_dir / "CUB_200_2011")
    assert listing.attr_source == "CUB_attr_in_order.pickle"
    np.testing.assert_allclose(listing.attrs, attrs.astype(np.float32))
    # also accepted next to the CUB folder; a pickle that would run code is refused
    (data_dir / "CUB_200_2011" / "CUB_attr_in_order.pickle").unlink()

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    (data_dir / "CUB_attr_in_order.pickle").write_bytes(pickle.dumps(Evil()))
    with pytest.raises(DataError, match="refusing to load") as info:
        scan_cub(data_dir / "CUB_200_2011")
    assert "CUB_attr_in_order.pickle" in one_line_message(info)
    (data_dir / "CUB_attr_in_order.pickle").write_bytes(pickle.dumps(attrs[:5]))
    with pytest.raises(DataError, match="5 rows of class attributes but classes.txt lists 12"):
        scan_cub(data_dir / "CUB_200_2011")


def _missing_image(root):
    first_image(root).unlink()


def _attr_rows(root):
    path = root / "attributes" / "class_attribute_labels_continuous.txt"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-1]))


def _label_mismatch(root):
    path = root / "image_class_labels.txt"
    lines = path.read_text().splitlines()
    lines[0] = "1 5"
    path.write_text("\n".join(lines) + "\n")


def _bad_split_value(root):
    path = root / "train_test_split.txt"
    path.write_text(path.read_text().replace("2 0", "2 7", 1))


@pytest.mark.parametrize(
    "damage, needle",
    [
        (lambda r: (r / "train_test_split.txt").unlink(), "train_test_split.txt: missing"),
        (lambda r: (r / "images.txt").unlink(), "images.txt: missing"),
        (lambda r: (r / "classes.txt").unlink(), "classes.txt: missing"),
        (_missing_image, "image file missing"),
        (_attr_rows, "11 rows of class attributes but classes.txt lists 12 classes"),
        (_label_mismatch, "image_class_labels.txt: image 1: class 5"),
        (_bad_split_value, "is not 0 or 1"),
    ],
)
def test_cub_bad_inputs_are_one_line_errors(data_dir, damage, needle):
    root = data_dir / "CUB_200_2011"
    damage(root)
    with pytest.raises(DataError) as info:
        load_image_dataset("cub", "images", data_dir, image_size=16)
    assert needle in one_line_message(info)


def test_truncated_jpeg_is_a_one_line_error_naming_the_file(data_dir):
    bad = first_image(data_dir / "CUB_200_2011")
    truncate(bad, 0.4)
    with pytest.raises(DataError) as info:
        load_image_dataset("cub", "images", data_dir, image_size=16)
    message = one_line_message(info)
    assert str(bad) in message and "cannot decode" in message
    assert not list((data_dir / "cache").rglob("*.npy"))  # no complete cache file
    # not an image at all
    bad.write_bytes(b"this is not a jpeg")
    with pytest.raises(DataError, match="cannot decode"):
        load_image_dataset("cub", "images", data_dir, image_size=16)


def test_cli_check_exits_2_with_one_line_for_a_bad_image(data_dir):
    bad = first_image(data_dir / "CUB_200_2011")
    truncate(bad, 0.3)
    proc = zsl("data", "check", "--data-dir", str(data_dir), "--dataset", "cub-images")
    one_error_line(proc, bad.name)
    assert "fail" in proc.stdout


# --------------------------------------------------------------------------- SUN


def test_sun_layout(data_dir, decodes):
    import scipy.io

    data = load_image_dataset("sun", "auto", data_dir, image_size=16)
    assert (data.source, data.attr_source) == ("images", "attributeLabels_continuous.mat")
    db = data_dir / "SUN" / "SUNAttributeDB"
    names = [c[0][0] for c in scipy.io.loadmat(db / "images.mat")["images"]]
    cv = scipy.io.loadmat(db / "attributeLabels_continuous.mat")["labels_cv"]
    folders = [n.rsplit("/", 1)[0] for n in names]
    classes = sorted(set(folders))
    assert list(data.class_names) == classes and data.n_classes == 10
    assert any(n.count("/") == 3 for n in names)  # nested class folders: the class is the whole folder
    labels = np.array([classes.index(f) for f in folders])
    assert data.labels.tolist() == labels.tolist()
    assert list(data.image_files) == names
    expected = np.stack([cv[labels == c].mean(0) for c in range(10)])
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(data.attrs, expected, rtol=1e-6)
    # the authors' split: one RandomState(42), classes in id order, 10 / 5 / rest
    rs = np.random.RandomState(42)
    perms = [rs.permutation(np.where(labels == c)[0]) for c in range(10)]
    assert data.splits["train"].tolist() == [int(i) for p in perms for i in p[:10]]
    assert data.splits["val"].tolist() == [int(i) for p in perms for i in p[10:15]]
    assert data.splits["test"].tolist() == [int(i) for p in perms for i in p[15:]]
    assert decodes.calls == 200


@pytest.mark.parametrize(
    "damage, needle",
    [
        (lambda db: (db / "images.mat").unlink(), "images.mat: missing"),
        (lambda db: (db / "attributeLabels_continuous.mat").write_bytes(b"garbage"), "not a readable .mat"),
    ],
)
def test_sun_bad_inputs(data_dir, damage, needle):
    damage(data_dir / "SUN" / "SUNAttributeDB")
    with pytest.raises(DataError) as info:
        scan_sun(data_dir / "SUN")
    assert needle in one_line_message(info)


def test_sun_label_rows_must_match_images(data_dir):
    import scipy.io

    path = data_dir / "SUN" / "SUNAttributeDB" / "attributeLabels_continuous.mat"
    cv = scipy.io.loadmat(path)["labels_cv"]
    scipy.io.savemat(path, {"labels_cv": cv[:-3]})
    with pytest.raises(DataError, match="labels_cv has shape .197, 102. but images.mat lists 200"):
        scan_sun(data_dir / "SUN")


# --------------------------------------------------------------------------- the cache


def test_second_load_decodes_nothing_and_image_size_rebuilds(data_dir, decodes):
    a = load_image_dataset("cub", "images", data_dir, image_size=16)
    assert decodes.calls == 48
    b = load_image_dataset("cub", "images", data_dir, image_size=16)
    assert decodes.calls == 48  # read from the cache
    np.testing.assert_array_equal(a.images, b.images)
    c = load_image_dataset("cub", "images", data_dir, image_size=24)
    assert decodes.calls == 96 and c.images.shape[1:] == (24, 24, 3)
    assert c.fingerprint != a.fingerprint
    caches = sorted(p.name for p in (data_dir / "cache" / "images").glob("*.npy"))
    assert len(caches) == 2 and caches[0].startswith("cub-16px-") and caches[1].startswith("cub-24px-")


def test_changed_source_files_change_the_fingerprint(data_dir, decodes):
    fp = image_fingerprint("cub", "images", data_dir, 16)
    img = first_image(data_dir / "CUB_200_2011")
    img.write_bytes(img.read_bytes() + b"\0")  # another size: another image file
    # the load always computes it afresh (the planner's value is memoised per process while
    # the list files and the image folder are unchanged)
    fp2 = load_image_dataset("cub", "images", data_dir, image_size=16).fingerprint
    assert fp2 != fp
    image_real._FP_MEMO.clear()
    assert image_fingerprint("cub", "images", data_dir, 16) == fp2
    path = data_dir / "CUB_200_2011" / "train_test_split.txt"
    path.write_text(path.read_text().replace("1 1", "1 0", 1) + "\n")  # a list file: noticed
    assert image_fingerprint("cub", "images", data_dir, 16) not in (fp, fp2)


def test_killed_build_leaves_no_usable_cache_and_resumes(data_dir, monkeypatch):
    monkeypatch.setattr(image_cache, "BLOCK", 8)
    killer = Counter(fail_after=20)
    monkeypatch.setattr(image_cache, "decode_image", killer)
    with pytest.raises(KeyboardInterrupt):
        load_image_dataset("cub", "images", data_dir, image_size=16)
    folder = data_dir / "cache" / "images"
    assert not list(folder.glob("*.npy"))  # nothing under the final name
    assert len(list(folder.glob("*.npy.partial"))) == 1
    resumed = Counter()
    monkeypatch.setattr(image_cache, "decode_image", resumed)
    data = load_image_dataset("cub", "images", data_dir, image_size=16)
    assert resumed.calls == 48 - 16  # two blocks of 8 were flushed and recorded before the kill
    assert not list(folder.glob("*.partial*"))
    fresh = data_dir.parent / "fresh"
    copy_tree(data_dir / "CUB_200_2011", fresh / "CUB_200_2011")
    ref = load_image_dataset("cub", "images", fresh, image_size=16)
    np.testing.assert_array_equal(data.images, ref.images)


def test_a_partial_file_that_does_not_match_is_rebuilt(data_dir, monkeypatch, decodes):
    monkeypatch.setattr(image_cache, "BLOCK", 8)
    fp = image_fingerprint("cub", "images", data_dir, 16)
    folder = data_dir / "cache" / "images"
    folder.mkdir(parents=True)
    partial = folder / f"cub-16px-{fp}.npy.partial"
    np.lib.format.open_memmap(partial, mode="w+", dtype=np.uint8, shape=(3, 16, 16, 3))
    (folder / f"cub-16px-{fp}.npy.partial.json").write_text('{"key": "%s", "done": 2}' % fp)
    data = load_image_dataset("cub", "images", data_dir, image_size=16)
    assert decodes.calls == 48 and data.n_images == 48


def test_a_damaged_cache_file_is_rebuilt(data_dir, decodes):
    data = load_image_dataset("cub", "images", data_dir, image_size=16)
    path = data_dir / "cache" / "images" / f"cub-16px-{data.fingerprint}.npy"
    del data
    truncate(path, 0.5)
    again = load_image_dataset("cub", "images", data_dir, image_size=16)
    assert decodes.calls == 96 and again.images.shape == (48, 16, 16, 3)


# --------------------------------------------------------------------------- resizing


def test_resize_linear_matches_opencv_inter_linear_rules():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(8, 6, 3), dtype=np.uint8)
    # exact 2x downscale: half-pixel centres fall between two pixels: the 2x2 block means
    half = resize_linear(np.repeat(np.repeat(img, 2, 0), 2, 1)[:8, :8], 4)
    blocks = np.repeat(np.repeat(img, 2, 0), 2, 1)[:8, :8].astype(np.float64).reshape(4, 2, 4, 2, 3).mean((1, 3))
    np.testing.assert_array_equal(half, np.floor(blocks + 0.5).astype(np.uint8))
    # constant images stay constant; same size is the identity; upscaling keeps the range
    const = np.full((7, 5, 3), 123, np.uint8)
    assert (resize_linear(const, 9) == 123).all()
    assert np.array_equal(resize_linear(img[:6, :6], 6), img[:6, :6])
    up = resize_linear(img, 32)
    assert up.shape == (32, 32, 3) and up.min() >= img.min() and up.max() <= img.max()
    # corners of an upscale are the corner pixels (edges clamped, no antialiasing)
    assert np.array_equal(up[0, 0], img[0, 0]) and np.array_equal(up[-1, -1], img[-1, -1])


def test_exif_orientation_is_applied(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(1)
    pixels = np.repeat(np.repeat(rng.integers(0, 256, (3, 5, 3), dtype=np.uint8), 8, 0), 8, 1)  # 24 x 40
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    path = tmp_path / "rotated.jpg"
    Image.fromarray(pixels).save(path, quality=100, exif=exif)
    out = decode_image(path, 16)
    upright = resize_linear(np.rot90(pixels, k=-1).copy(), 16)  # 40 x 24, turned clockwise
    assert np.abs(out.astype(int) - upright.astype(int)).mean() < 8
    assert np.abs(out.astype(int) - resize_linear(pixels, 16).astype(int)).mean() > 20


def test_concurrent_loads_build_the_cache_once(data_dir, decodes):
    results, errors = [], []

    def load():
        try:
            results.append(load_image_dataset("sun", "images", data_dir, image_size=12))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)  # a bound for a hung test only
    assert not errors and len(results) == 2
    assert decodes.calls == 200  # one build; the second load waited for it and read the file
    np.testing.assert_array_equal(results[0].images, results[1].images)


def test_unofficial_counts_are_a_data_warning(data_dir):
    from zslbench.data.features.xlsa17 import DataWarning

    with pytest.warns(DataWarning, match=r"48 images \(official: 11788\)"):
        data = load_image_dataset("cub", "images", data_dir, image_size=12)
    assert "12 classes (official: 200)" in data.meta["warnings"][0]


# Outputs of OpenCV 4.14 (opencv-python-headless) for the inputs below, recorded once with
# benchmarks/compare_opencv.py's method: cv2.resize(IMG, (s, s), interpolation=INTER_LINEAR)
# and cv2.imread(CMYK_JPEG)[..., ::-1] (a CMYK JPEG written by Pillow).
IMG = [
    248,
    194,
    190,
    207,
    147,
    26,
    237,
    21,
    245,
    211,
    239,
    45,
    5,
    157,
    159,
    60,
    54,
    236,
    109,
    46,
    199,
    82,
    32,
    205,
    36,
    7,
    134,
    222,
    57,
    146,
    8,
    149,
    14,
    15,
    22,
    10,
    144,
    208,
    24,
    24,
    7,
    41,
    11,
    85,
    59,
    104,
    225,
    110,
    226,
    201,
    8,
    159,
    26,
    27,
    163,
    122,
    33,
    41,
    201,
    67,
    70,
    166,
    228,
    40,
    50,
    179,
    0,
    177,
    137,
    63,
    13,
    188,
    255,
    64,
    94,
    8,
    8,
    156,
    25,
    29,
    157,
    146,
    190,
    115,
    219,
    135,
    39,
    100,
    237,
    127,
    72,
    227,
    168,
    21,
    73,
    132,
    16,
    153,
    140,
    107,
    80,
    163,
    61,
    110,
    47,
]
CV2_4 = [
    177,
    137,
    193,
    173,
    78,
    143,
    158,
    104,
    135,
    94,
    124,
    144,
    23,
    144,
    24,
    80,
    97,
    15,
    80,
    83,
    34,
    18,
    90,
    57,
    73,
    160,
    206,
    47,
    102,
    145,
    54,
    76,
    152,
    209,
    74,
    100,
    45,
    134,
    161,
    38,
    98,
    137,
    117,
    125,
    122,
    85,
    150,
    82,
]
CV2_11 = [
    248,
    194,
    190,
    240,
    185,
    160,
    222,
    164,
    86,
    210,
    135,
    46,
    223,
    78,
    145,
    237,
    21,
    245,
    225,
    120,
    154,
    213,
    219,
    63,
    136,
    209,
    86,
    42,
    172,
    138,
    5,
    157,
    159,
    163,
    130,
    211,
    162,
    125,
    191,
    162,
    111,
    143,
    163,
    94,
    116,
    165,
    60,
    171,
    167,
    26,
    227,
    151,
    75,
    163,
    135,
    124,
    98,
    121,
    125,
    110,
    109,
    116,
    141,
    103,
    111,
    153,
    55,
    63,
    216,
    63,
    59,
    209,
    84,
    50,
    194,
    99,
    44,
    182,
    93,
    46,
    185,
    88,
    48,
    188,
    64,
    29,
    160,
    40,
    11,
    131,
    96,
    26,
    130,
    172,
    50,
    136,
    203,
    59,
    138,
    22,
    123,
    74,
    25,
    106,
    72,
    34,
    63,
    66,
    48,
    40,
    62,
    88,
    100,
    68,
    127,
    160,
    73,
    82,
    90,
    70,
    36,
    21,
    67,
    42,
    32,
    72,
    61,
    64,
    80,
    68,
    77,
    83,
    43,
    177,
    49,
    52,
    160,
    42,
    74,
    120,
    24,
    97,
    92,
    11,
    123,
    117,
    18,
    149,
    142,
    25,
    115,
    99,
    31,
    81,
    57,
    37,
    55,
    77,
    47,
    31,
    113,
    57,
    22,
    127,
    62,
    104,
    225,
    110,
    126,
    221,
    91,
    182,
    210,
    45,
    220,
    185,
    10,
    189,
    106,
    18,
    159,
    26,
    27,
    161,
    70,
    30,
    163,
    113,
    32,
    119,
    151,
    45,
    63,
    187,
    61,
    41,
    201,
    67,
    82,
    187,
    185,
    87,
    172,
    173,
    98,
    135,
    141,
    103,
    106,
    115,
    80,
    114,
    106,
    58,
    122,
    97,
    76,
    90,
    113,
    95,
    59,
    128,
    128,
    75,
    114,
    163,
    103,
    93,
    177,
    114,
    84,
    53,
    123,
    208,
    50,
    108,
    202,
    42,
    73,
    186,
    36,
    56,
    169,
    38,
    118,
    150,
    40,
    180,
    131,
    70,
    119,
    138,
    99,
    58,
    146,
    144,
    70,
    131,
    193,
    99,
    111,
    213,
    111,
    103,
    14,
    22,
    162,
    16,
    24,
    162,
    22,
    28,
    160,
    36,
    45,
    155,
    84,
    117,
    136,
    133,
    189,
    117,
    165,
    159,
    88,
    198,
    130,
    58,
    172,
    159,
    78,
    130,
    203,
    111,
    114,
    221,
    124,
    43,
    127,
    162,
    39,
    114,
    159,
    30,
    80,
    150,
    27,
    64,
    142,
    51,
    117,
    135,
    75,
    170,
    129,
    113,
    140,
    119,
    150,
    111,
    109,
    129,
    128,
    98,
    93,
    156,
    87,
    79,
    167,
    83,
    72,
    227,
    168,
    63,
    199,
    161,
    39,
    129,
    145,
    20,
    80,
    133,
    18,
    116,
    136,
    16,
    153,
    140,
    57,
    120,
    150,
    99,
    86,
    161,
    90,
    91,
    121,
    69,
    104,
    68,
    61,
    110,
    47,
]
CMYK_JPEG = (
    "/9j/7gAOQWRvYmUAZAAAAAAA/9sAQwACAQEBAQECAQEBAgICAgIEAwICAgIFBAQDBAYFBgYGBQYGBgcJCAYHCQcG"
    "BggLCAkKCgoKCgYICwwLCgwJCgoK/8AAFAgACAAIBEMRAE0RAFkRAEsRAP/EAB8AAAEFAQEBAQEBAAAAAAAAAAAB"
    "AgMEBQYHCAkKC//EALUQAAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNi"
    "coIJChYXGBkaJSYnKCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SV"
    "lpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+v/aAA4E"
    "QwBNAFkASwAAPwDyP/iHc/6kb/yW/wDrV5H/AMG7n/MC/wC2f9K/SCv38r//2Q=="
)
CMYK_CV2_8 = [
    1,
    1,
    201,
    1,
    31,
    201,
    1,
    61,
    201,
    1,
    92,
    201,
    1,
    120,
    201,
    1,
    151,
    201,
    1,
    181,
    201,
    1,
    211,
    201,
    31,
    1,
    201,
    31,
    31,
    201,
    31,
    61,
    201,
    31,
    92,
    201,
    31,
    120,
    201,
    31,
    151,
    201,
    31,
    181,
    201,
    31,
    211,
    201,
    61,
    1,
    201,
    61,
    31,
    201,
    61,
    61,
    201,
    61,
    92,
    201,
    61,
    120,
    201,
    61,
    151,
    201,
    61,
    181,
    201,
    61,
    211,
    201,
    91,
    1,
    201,
    91,
    31,
    201,
    91,
    61,
    201,
    91,
    92,
    201,
    91,
    120,
    201,
    91,
    151,
    201,
    91,
    181,
    201,
    91,
    211,
    201,
    121,
    1,
    201,
    121,
    31,
    201,
    121,
    61,
    201,
    121,
    92,
    201,
    121,
    120,
    201,
    121,
    151,
    201,
    121,
    181,
    201,
    121,
    211,
    201,
    152,
    1,
    201,
    152,
    31,
    201,
    152,
    61,
    201,
    152,
    92,
    201,
    152,
    120,
    201,
    152,
    151,
    201,
    152,
    181,
    201,
    152,
    211,
    201,
    181,
    1,
    201,
    181,
    31,
    201,
    181,
    61,
    201,
    181,
    92,
    201,
    181,
    120,
    201,
    181,
    151,
    201,
    181,
    181,
    201,
    181,
    211,
    201,
    211,
    1,
    201,
    211,
    31,
    201,
    211,
    61,
    201,
    211,
    92,
    201,
    211,
    120,
    201,
    211,
    151,
    201,
    211,
    181,
    201,
    211,
    211,
    201,
]


def test_resize_is_bit_identical_to_recorded_opencv_outputs():
    img = np.array(IMG, dtype=np.uint8).reshape(7, 5, 3)
    for size, expected in ((4, CV2_4), (11, CV2_11)):
        assert resize_linear(img, size).reshape(-1).tolist() == expected


def test_cmyk_decode_is_bit_identical_to_a_recorded_opencv_output(tmp_path):
    import base64

    path = tmp_path / "cmyk.jpg"
    path.write_bytes(base64.b64decode(CMYK_JPEG))
    assert decode_image(path, 8).reshape(-1).tolist() == CMYK_CV2_8


def test_cache_folder_from_the_environment_and_unwritable_folders(data_dir, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    monkeypatch.setenv("ZSLBENCH_IMAGE_CACHE", str(elsewhere))
    data = load_image_dataset("cub", "images", data_dir, image_size=12)
    assert [p.name for p in elsewhere.glob("*.npy")] == [f"cub-12px-{data.fingerprint}.npy"]
    assert not (data_dir / "cache").exists()
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("ZSLBENCH_IMAGE_CACHE", str(blocker / "cache"))
    with pytest.raises(DataError, match="ZSLBENCH_IMAGE_CACHE") as info:
        load_image_dataset("cub", "images", data_dir, image_size=12)
    assert "cannot create the image cache folder" in one_line_message(info)
