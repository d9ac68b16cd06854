"""Decoding and the decoded-image cache of the image track.

Every image is decoded with Pillow, turned upright by its EXIF orientation (as ``cv2.imread``
does), made 3-channel RGB (grayscale, CMYK, palette and RGBA images included; CMYK converted
with OpenCV's formula), resized to
``S x S`` exactly as the authors' ``cv2.resize(..., INTER_LINEAR)`` does it (see
:func:`resize_linear`; no crop, no antialiasing), and
stored in one uint8 ``[N, S, S, 3]`` ``.npy`` file under ``<data-dir>/cache/images/``, named
by the dataset, the size and the fingerprint of the source files and the preprocessing.  Later
loads memory-map the file read-only: no JPEG is decoded twice.

The build is atomic and resumable: it writes ``<name>.npy.partial`` block by block and, after
each block is flushed to disk, records how many images are done in ``<name>.npy.partial.json``;
a build that was killed resumes from the last recorded block (or starts over when the partial
file does not match).  Only a complete, flushed file is renamed to ``<name>.npy``, so a cache
file under the final name is always complete.  A lock file serialises concurrent builds of the
same cache (a second process waits, then reads the finished file).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from zslbench.errors import DataError, one_line

#: Bumped whenever decoding or resizing changes (part of every cache key).
PREPROCESS_VERSION = 2
PREPROCESS = f"pillow-rgb-exif/cv2-inter-linear/v{PREPROCESS_VERSION}"
CACHE_SUBDIR = ("cache", "images")
BLOCK = 256  # images per flushed block

__all__ = [
    "BLOCK",
    "CACHE_ENV",
    "PREPROCESS",
    "build_or_open",
    "cache_folder",
    "cache_path",
    "decode_image",
    "decode_workers",
    "resize_linear",
]


_COEF_BITS = 11  # OpenCV's INTER_RESIZE_COEF_BITS
_COEF_SCALE = np.float32(1 << _COEF_BITS)


def _axis(n_src: int, n_dst: int, clamp: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per destination index: the two source indices and their fixed-point weights, as OpenCV
    computes them for INTER_LINEAR (float32 positions, each weight rounded half to even to
    11 bits; horizontally the position is clamped to the image, vertically only the indices)."""
    scale = 1.0 / (n_dst / n_src)  # OpenCV: 1 / inv_scale
    f = ((np.arange(n_dst) + 0.5) * scale - 0.5).astype(np.float32)
    lo = np.floor(f).astype(np.int64)
    f = f - lo.astype(np.float32)
    if clamp:
        left = lo < 0
        f[left], lo[left] = 0, 0
        right = lo >= n_src - 1
        f[right], lo[right] = 0, n_src - 1
    w0 = np.rint((np.float32(1) - f) * _COEF_SCALE).astype(np.int32)
    w1 = np.rint(f * _COEF_SCALE).astype(np.int32)
    return np.clip(lo, 0, n_src - 1), np.clip(lo + 1, 0, n_src - 1), w0, w1


def resize_linear(image: np.ndarray, size: int) -> np.ndarray:
    """[H, W, 3] uint8 -> [size, size, 3] uint8 with bilinear interpolation computed as OpenCV's
    ``cv2.resize(..., interpolation=INTER_LINEAR)`` does for 8-bit images (half-pixel centres,
    no antialiasing, 11-bit fixed-point weights, its vectorised rounding): bit-identical to
    OpenCV 4.14 on every shape compared (``benchmarks/compare_opencv.py``)."""
    h, w = image.shape[:2]
    y0, y1, b0, b1 = _axis(h, size, clamp=False)
    x0, x1, a0, a1 = _axis(w, size, clamp=True)
    # horizontal pass over every source row (gathered as uint8), kept with 4 fewer bits (OpenCV
    # packs the sums to int16 there)
    rows = np.multiply(image[:, x0], a0[None, :, None], dtype=np.int32)
    rows += np.multiply(image[:, x1], a1[None, :, None], dtype=np.int32)
    rows >>= 4
    # vertical pass: each product's high 16 bits, then a rounding shift by 2
    out = rows[y0]
    out *= b0[:, None, None]
    out >>= 16
    low = rows[y1]
    low *= b1[:, None, None]
    low >>= 16
    out += low
    out += 2
    out >>= 2
    np.clip(out, 0, 255, out=out)
    return out.astype(np.uint8)


def _cmyk_to_rgb(cmyk: np.ndarray, adobe: bool) -> np.ndarray:
    """CMYK -> RGB as OpenCV's JPEG reader does it (on libjpeg's raw values, which Pillow has
    inverted for Adobe files): ``R = K - ((255 - C) * K >> 8)``, and so on."""
    raw = cmyk.astype(np.int32)
    if adobe:
        raw = 255 - raw
    k = raw[..., 3:4]
    return (k - (((255 - raw[..., :3]) * k) >> 8)).astype(np.uint8)


def decode_image(path: str | os.PathLike, size: int) -> np.ndarray:
    """Decode one image file into [size, size, 3] uint8 RGB; DataError (one line) when the file
    is missing, truncated or not an image Pillow can read."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.load()  # the whole file: truncation shows here
            adobe = "adobe" in im.info
            im = ImageOps.exif_transpose(im)  # as cv2.imread does with an EXIF orientation
            if im.mode == "CMYK":
                arr = _cmyk_to_rgb(np.asarray(im), adobe)
            else:
                arr = np.asarray(im if im.mode == "RGB" else im.convert("RGB"))
    except FileNotFoundError:
        raise DataError(f"{path}: image file missing") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise DataError(
            f"{path}: cannot decode the image ({one_line(exc) or type(exc).__name__}); "
            "the file is truncated or corrupted"
        ) from None
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise DataError(f"{path}: unexpected decoded shape {arr.shape}")
    return resize_linear(arr, size)


def decode_workers() -> int:
    """Decoding threads: Pillow releases the GIL while decoding, so one per available core
    (at most 4)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


CACHE_ENV = "ZSLBENCH_IMAGE_CACHE"


def cache_folder(data_root: Path) -> Path:
    """``$ZSLBENCH_IMAGE_CACHE`` when set (e.g. for a read-only data folder), else
    ``<data-dir>/cache/images``."""
    env = os.environ.get(CACHE_ENV, "").strip()
    return Path(env).expanduser() if env else Path(data_root).joinpath(*CACHE_SUBDIR)


def cache_path(data_root: Path, dataset: str, size: int, fingerprint: str) -> Path:
    return cache_folder(data_root) / f"{dataset}-{size}px-{fingerprint}.npy"


def _open_complete(path: Path, shape: tuple[int, ...]) -> np.ndarray | None:
    """The finished cache, memory-mapped read-only; None (and the file removed) when unusable."""
    if not path.is_file():
        return None
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError):
        arr = None
    if arr is not None and arr.shape == shape and arr.dtype == np.uint8:
        return arr
    with contextlib.suppress(OSError):  # a read-only folder: the build reports it
        path.unlink(missing_ok=True)
    return None


def _read_state(state: Path, key: str) -> int:
    try:
        info = json.loads(state.read_text())
    except (OSError, ValueError):
        return 0
    if not isinstance(info, dict) or info.get("key") != key:
        return 0
    done = info.get("done")
    return done if isinstance(done, int) and done >= 0 else 0


def build_or_open(
    files: Sequence[Path],
    size: int,
    path: Path,
    key: str,
    *,
    progress: bool | None = None,
    desc: str = "decoding images",
    workers: int | None = None,
    decode: Callable[[Path, int], np.ndarray] | None = None,
) -> np.ndarray:
    """The decoded images of ``files`` as a read-only memmap [N, size, size, 3], built first when
    the cache file ``path`` does not exist (see the module docstring)."""
    shape = (len(files), size, size, 3)
    done_arr = _open_complete(path, shape)
    if done_arr is not None:
        return done_arr
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(
            f"{path.parent}: cannot create the image cache folder "
            f"({one_line(exc.strerror or exc)}); set {CACHE_ENV} to a writable folder"
        ) from None
    decode = decode or decode_image
    try:
        return _build(files, size, path, key, shape, progress, desc, workers, decode)
    except OSError as exc:
        raise DataError(
            f"{path}: cannot write the image cache ({one_line(exc.strerror or exc)}); "
            f"free some space or set {CACHE_ENV} to a writable folder"
        ) from None


def _allocate(path: Path) -> None:
    """Reserve the disk blocks of the (sparse) file: a full disk is an OSError here rather than
    a SIGBUS while writing through the memory map."""
    import errno

    if not hasattr(os, "posix_fallocate"):
        return
    with open(path, "rb+") as fh:
        try:
            os.posix_fallocate(fh.fileno(), 0, os.fstat(fh.fileno()).st_size)
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                raise


def _build(files, size, path, key, shape, progress, desc, workers, decode) -> np.ndarray:
    from zslbench.locks import FileLock
    from zslbench.progress import Progress
    from zslbench.store import atomic_write_text

    with FileLock(path.with_name(path.name + ".lock"), remove=False):
        done_arr = _open_complete(path, shape)  # built by another process meanwhile
        if done_arr is not None:
            return done_arr
        partial = path.with_name(path.name + ".partial")
        state = path.with_name(path.name + ".partial.json")
        start = _read_state(state, key) if partial.is_file() else 0
        mm = None
        if start:
            try:
                mm = np.load(partial, mmap_mode="r+", allow_pickle=False)
                if mm.shape != shape or mm.dtype != np.uint8 or start > len(files):
                    mm, start = None, 0
            except (OSError, ValueError, EOFError):
                mm, start = None, 0
        if mm is None:
            start = 0
            state.unlink(missing_ok=True)
            mm = np.lib.format.open_memmap(partial, mode="w+", dtype=np.uint8, shape=shape)
            try:
                _allocate(partial)
            except OSError:
                del mm
                partial.unlink(missing_ok=True)
                raise
        bar = Progress(len(files) - start, desc, "img", enabled=progress)
        workers = decode_workers() if workers is None else max(1, int(workers))
        pool = None
        if workers > 1:
            from concurrent.futures import ThreadPoolExecutor

            pool = ThreadPoolExecutor(max_workers=workers)
        try:
            for lo in range(start, len(files), BLOCK):
                hi = min(lo + BLOCK, len(files))
                block = files[lo:hi]
                results = pool.map(lambda p: decode(p, size), block) if pool else map(lambda p: decode(p, size), block)
                for i, img in enumerate(results, start=lo):
                    mm[i] = img
                    bar.update()
                mm.flush()
                atomic_write_text(state, json.dumps({"key": key, "done": hi}) + "\n")
            mm.flush()
            with open(partial, "rb+") as fh:
                os.fsync(fh.fileno())
            del mm
            os.replace(partial, path)
            state.unlink(missing_ok=True)
        finally:
            bar.close()
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
    arr = _open_complete(path, shape)
    if arr is None:  # pragma: no cover - the file was just written
        raise DataError(f"{path}: the image cache could not be read back after building it")
    return arr
