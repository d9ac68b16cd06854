"""The real images of the image track: their fingerprint (without decoding), the
:class:`~zslbench.data.images.types.ImageData` from the decoded-image cache
(:mod:`zslbench.data.images.cache`), and ``check_images`` (``zslbench data check``), which
decodes every image.  The layouts are read by :mod:`zslbench.data.images.sources`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from zslbench.data.images.sources import (
    CUB_ATTR_FILE,
    CUB_DIR,
    CUB_LISTS,
    CUB_PICKLE,
    SUN_DB,
    SUN_DIR,
    SUN_IMAGES_MAT,
    SUN_LABELS_MAT,
    Listing,
    scan,
)
from zslbench.errors import DataError

__all__ = ["ImageCheck", "check_images", "load_real_images", "source_fingerprint"]


def _fingerprint(listing: Listing, image_size: int) -> str:
    from zslbench.data.images.cache import PREPROCESS

    h = hashlib.sha256()
    h.update(
        json.dumps(
            {"dataset": listing.dataset, "image_size": int(image_size), "preprocess": PREPROCESS}, sort_keys=True
        ).encode()
    )
    for src in listing.sources:
        h.update(f"\0{src.name}\0".encode())
        with open(src, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                h.update(block)
    for name, size in zip(listing.files, listing.sizes.tolist()):
        h.update(f"\0{name}\0{size}".encode())
    return h.hexdigest()[:16]


_FP_MEMO: dict[tuple, str] = {}


def _signature(dataset: str, data_root: Path) -> tuple | None:
    """(path, size, mtime) of the list/split/attribute files and of the image folder; None when
    one is missing (then nothing is memoised)."""
    root = Path(data_root) / (CUB_DIR if dataset == "cub" else SUN_DIR)
    if dataset == "cub":
        paths = [root / n for n in CUB_LISTS] + [root / CUB_ATTR_FILE, root / CUB_PICKLE, root.parent / CUB_PICKLE]
    else:
        paths = [root / SUN_DB / SUN_IMAGES_MAT, root / SUN_DB / SUN_LABELS_MAT]
    sig: list[tuple] = []
    for p in [*paths, root / "images"]:
        try:
            st = p.stat()
        except OSError:
            sig.append((str(p), None))
            continue
        sig.append((str(p.resolve()), st.st_size, st.st_mtime_ns))
    return tuple(sig)


def source_fingerprint(dataset: str, data_root: Path, image_size: int) -> str:
    """The fingerprint of the real data (list/split/attribute files' contents, image file names
    and sizes, ``image_size`` and the preprocessing); reads no image.

    Memoised per process while the list/split/attribute files and the image folder keep their
    size and modification time (a sweep asks for it once per planned run)."""
    key = (dataset, int(image_size), _signature(dataset, data_root))
    if key not in _FP_MEMO:
        _FP_MEMO[key] = _fingerprint(scan(dataset, data_root), image_size)
    return _FP_MEMO[key]


def load_real_images(dataset: str, data_root: Path, image_size: int, progress: bool | None = None):
    """An ImageData from the official layout, images from the decoded-image cache; counts other
    than the official ones are a :class:`~zslbench.data.features.xlsa17.DataWarning` (and in ``meta``)."""
    from zslbench.data.images.cache import build_or_open, cache_path
    from zslbench.data.images.types import ImageData

    listing = scan(dataset, data_root)
    if listing.warnings:
        import warnings

        from zslbench.data.features.xlsa17 import DataWarning

        for note in listing.warnings:
            warnings.warn(note, DataWarning, stacklevel=3)
    fp = _fingerprint(listing, image_size)
    path = cache_path(Path(data_root), dataset, image_size, fp)
    images = build_or_open(
        listing.paths(),
        image_size,
        path,
        fp,
        progress=progress,
        desc=f"decoding {dataset.upper()} images ({image_size}px, once)",
    )
    for arr in (listing.labels, listing.attrs, *listing.splits.values()):
        arr.setflags(write=False)
    return ImageData(
        name=dataset,
        source="images",
        images=images,
        labels=listing.labels,
        attrs=listing.attrs,
        splits=listing.splits,
        class_names=listing.class_names,
        fingerprint=fp,
        attr_source=listing.attr_source,
        image_size=int(image_size),
        image_files=tuple(listing.files),
        meta={"cache": str(path), "warnings": list(listing.warnings)},
    )


@dataclass
class ImageCheck:
    dataset: str  # "cub-images" | "sun-images"
    status: str  # ok | warn | fail
    images: int | None = None
    classes: int | None = None
    attributes: int | None = None
    split: str = "-"
    attr_source: str = "-"
    message: str = ""


def check_images(
    dataset: str, data_root: Path, *, decode: bool = True, progress: bool | None = None, log=None
) -> ImageCheck:
    """Check one dataset's layout: lists and attributes consistent, every listed image present
    and (``decode``) decodable; counts other than the official ones are a warning."""
    from zslbench.data.images.cache import decode_image, decode_workers
    from zslbench.progress import Progress

    name = f"{dataset}-images"
    try:
        listing = scan(dataset, data_root)
        if decode:
            paths = listing.paths()
            bar = Progress(len(paths), f"checking {name}", "img", enabled=progress)
            try:
                _decode_all(paths, bar, decode_workers(), decode_image)
            finally:
                bar.close()
    except DataError as exc:
        return ImageCheck(name, "fail", message=str(exc))
    sp = listing.splits
    split = (
        f"{sp['train'].size}/{sp['test'].size}"
        if dataset == "cub"
        else f"{sp['train'].size}/{sp['val'].size}/{sp['test'].size}"
    )
    return ImageCheck(
        name,
        "warn" if listing.warnings else "ok",
        images=len(listing.files),
        classes=len(listing.class_names),
        attributes=int(listing.attrs.shape[1]),
        split=split,
        attr_source=listing.attr_source,
        message="; ".join(listing.warnings),
    )


def _decode_all(paths, bar, workers, decode) -> None:
    """Decode every image (small size: the check is of the files, not of the pixels)."""

    def one(p):
        decode(p, 8)

    if workers > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers) as pool:
            for _ in pool.map(one, paths):
                bar.update()
    else:
        for p in paths:
            one(p)
            bar.update()
