"""Small generated datasets in the official CUB-200-2011 / SUN Attribute DB layouts for the tests
(written with zslbench.data.images.synthetic_files), and ways to damage them."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

from zslbench.data.images.synthetic_files import write_cub_layout, write_sun_layout

CUB_KW = {"classes": 12, "per_class": 4, "image_size": 24, "grayscale": 2, "cmyk": 1}
SUN_KW = {"classes": 10, "per_class": 20, "image_size": 24, "grayscale": 2, "cmyk": 1}


def make_cub(root: Path, **kw) -> Path:
    return write_cub_layout(root, **{**CUB_KW, **kw})


def make_sun(root: Path, **kw) -> Path:
    return write_sun_layout(root, **{**SUN_KW, **kw})


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def truncate(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def first_image(root: Path) -> Path:
    return sorted((root / "images").rglob("*.jpg"))[0]


def tgz(path: Path, members: dict[str, Path]) -> Path:
    """A .tgz with each folder/file of ``members`` under its archive name."""
    with tarfile.open(path, "w:gz") as tar:
        for arcname, src in members.items():
            tar.add(src, arcname=arcname)
    return path


def cub_archive(path: Path, cub_root: Path) -> Path:
    return tgz(path, {"CUB_200_2011": cub_root})


def sun_archives(folder: Path, sun_root: Path) -> list[Path]:
    return [
        tgz(folder / "SUNAttributeDB_Images.tar.gz", {"images": sun_root / "images"}),
        tgz(folder / "SUNAttributeDB.tar.gz", {"SUNAttributeDB": sun_root / "SUNAttributeDB"}),
    ]
