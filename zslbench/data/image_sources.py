"""Loaders for the official CUB-200-2011 and SUN Attribute DB layouts (decoded-image cache)."""

from __future__ import annotations

from pathlib import Path

from zslbench.errors import DataError


def _not_yet(dataset: str, root: Path):
    raise DataError(f"{root}: loading real {dataset.upper()} images is not supported by this "
                    "version yet; use --data synthetic")


def source_fingerprint(dataset: str, root: Path, image_size: int) -> str:
    _not_yet(dataset, root)


def load_real_images(dataset: str, root: Path, image_size: int, progress: bool | None = None):
    _not_yet(dataset, root)
