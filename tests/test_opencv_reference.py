"""The image track's decoding and resizing against OpenCV itself, the authors' loader:
``cv2.imread(path)`` (BGR, EXIF orientation applied) then ``cv2.resize(..., INTER_LINEAR)``.

zslbench decodes with Pillow and resizes with its own code (zslbench.data.images.cache), meant
to give OpenCV's pixels exactly, so every comparison here is for equality: the same uint8
values, channels reversed (zslbench keeps RGB; ``image_channel_order="bgr_code"`` reverses
them later, as the authors' pixels are BGR).  The images are generated here with Pillow:
RGB, grayscale and CMYK JPEGs, a PNG (RGB, RGBA, palette) under a ``.jpg`` name, JPEGs with
each of the eight EXIF orientations, tiny (1x1, 3x2, 2x3) and huge (4000x3000) images.
"""

from __future__ import annotations

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2", reason="opencv-python-headless (the test extra) is not installed")
Image = pytest.importorskip("PIL.Image")

from zslbench.data.images.cache import decode_image, resize_linear  # noqa: E402

EXIF_ORIENTATION = 0x0112


def picture(h: int, w: int, seed: int = 0) -> np.ndarray:
    """[h, w, 3] uint8: smooth colour waves plus noise (JPEG-like content, cheap at 12 MP)."""
    rng = np.random.default_rng(seed)
    rows = 96 + 80 * np.sin(np.arange(h)[:, None] / 17.0 + np.arange(3))
    cols = 48 + 40 * np.cos(np.arange(w)[:, None] / 23.0 - np.arange(3))
    base = (rows[:, None, :] + cols[None, :, :]).astype(np.uint8)
    return base + rng.integers(0, 24, (h, w, 3), dtype=np.uint8)


def opencv(path, size: int) -> np.ndarray:
    """The authors' pipeline, as RGB."""
    bgr = cv2.imread(str(path))
    assert bgr is not None, path
    return np.ascontiguousarray(cv2.resize(bgr, (size, size), interpolation=cv2.INTER_LINEAR)[..., ::-1])


def assert_same(ours: np.ndarray, theirs: np.ndarray) -> None:
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype == np.uint8
    diff = np.abs(ours.astype(np.int16) - theirs.astype(np.int16))
    assert diff.max() == 0, f"max |diff| {diff.max()}, {100 * (diff > 0).mean():.2f}% of the values differ"


# --------------------------------------------------------------------------- resizing alone
@pytest.mark.parametrize(
    "h, w, size",
    [
        (375, 500, 256),
        (500, 375, 256),
        (333, 500, 224),
        (256, 256, 256),
        (120, 90, 256),  # down, same, up
        (375, 500, 32),
        (77, 300, 64),
        (1000, 20, 64),
        (31, 17, 256),
        (1, 1, 32),
        (3, 2, 32),
        (2, 3, 256),
        (3000, 4000, 256),
    ],
)
def test_resize_equals_cv2_resize_inter_linear(h, w, size):
    rng = np.random.default_rng(h * 7919 + w)
    for image in (rng.integers(0, 256, (h, w, 3), dtype=np.uint8), picture(h, w)):
        assert_same(resize_linear(image, size), cv2.resize(image, (size, size), interpolation=cv2.INTER_LINEAR))


# --------------------------------------------------------------------------- files: decode and resize
@pytest.mark.parametrize("mode", ["RGB", "L", "CMYK"])
def test_jpeg_rgb_grayscale_and_cmyk_decode_as_cv2_imread(tmp_path, mode):
    path = tmp_path / f"{mode}.jpg"
    Image.fromarray(picture(300, 400)).convert(mode).save(path, quality=90)
    for size in (256, 64):
        assert_same(decode_image(path, size), opencv(path, size))


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "P"])
def test_a_png_under_a_jpg_name_decodes_as_cv2_imread(tmp_path, mode):
    """Both readers go by the file's content, not its name; an alpha channel is dropped (not
    composited) and a palette expanded, by both."""
    pixels = picture(90, 130)
    image = Image.fromarray(pixels)
    if mode == "RGBA":
        image = Image.fromarray(np.dstack([pixels, pixels[..., :1]]))
    elif mode == "P":
        image = image.convert("P")
    path = tmp_path / "really_a.png.jpg"
    image.save(path, format="PNG")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert_same(decode_image(path, 64), opencv(path, 64))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_as_cv2_imread_does(tmp_path, orientation):
    """cv2.imread turns an image upright by its EXIF orientation unless told
    IMREAD_IGNORE_ORIENTATION; zslbench does the same (ImageOps.exif_transpose)."""
    pixels = picture(120, 200, seed=orientation)
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = orientation
    path = tmp_path / f"exif{orientation}.jpg"
    Image.fromarray(pixels).save(path, quality=92, exif=exif.tobytes())
    ours = decode_image(path, 64)
    assert_same(ours, opencv(path, 64))
    # not vacuous: ignoring the orientation gives other pixels (except for orientation 1)
    raw = cv2.imread(str(path), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    unturned = cv2.resize(raw, (64, 64), interpolation=cv2.INTER_LINEAR)[..., ::-1]
    assert np.array_equal(ours, unturned) == (orientation == 1)


@pytest.mark.parametrize("h, w", [(1, 1), (3, 2), (2, 3)])
@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_tiny_images(tmp_path, h, w, fmt):
    path = tmp_path / f"tiny{h}x{w}.{fmt.lower()}"
    Image.fromarray(picture(h, w)).save(path, format=fmt)
    for size in (32, 256):
        assert_same(decode_image(path, size), opencv(path, size))


def test_a_huge_jpeg(tmp_path):
    path = tmp_path / "huge.jpg"
    Image.fromarray(picture(3000, 4000)).save(path, quality=85)
    assert_same(decode_image(path, 256), opencv(path, 256))
