"""Raw-image data of the CZSL image track: the official CUB-200-2011 and SUN Attribute DB
layouts under the data folder, or synthetic stand-ins of the same shapes.

The public functions (all cheap to import; Pillow and scipy load only when real data is read):

* :func:`resolve_image_source`: which source ``load_image_dataset`` will use;
* :func:`image_fingerprint`: the fingerprint the loaded data will carry, without decoding;
* :func:`load_image_dataset`: an :class:`~zslbench.data.images.types.ImageData`;
* :func:`backbone_checkpoint`: the path of the ImageNet ResNet-18 checkpoint.

The modules: ``types`` (ImageData), ``sources`` (reading the official layouts), ``real`` (the
real images: fingerprint, load, check), ``cache`` (decoding and the decoded-image cache),
``synthetic`` (the synthetic images), ``synthetic_files`` (synthetic datasets written as files
and archives), ``check`` (``zslbench data check`` for the image data), ``fetch``
(``zslbench data fetch`` for the images and the checkpoint).
"""

from __future__ import annotations

import os
from pathlib import Path

from zslbench.data.images.types import IMAGE_DATASETS, IMAGE_SOURCES, ImageData
from zslbench.errors import ConfigError, DataError

#: Folders under the data folder, as the official archives unpack (see data fetch).
CUB_DIR = "CUB_200_2011"
SUN_DIR = "SUN"
#: The name of each image dataset for ``zslbench data fetch/check``.
FETCH_NAMES = {"cub": "cub-images", "sun": "sun-images"}
BACKBONE_DIR = "resnet18-imagenet"
BACKBONE_FILE = "resnet18-f37072fd.pth"
DEFAULT_IMAGE_SIZE = 256

__all__ = [
    "BACKBONE_DIR",
    "BACKBONE_FILE",
    "CUB_DIR",
    "DEFAULT_IMAGE_SIZE",
    "FETCH_NAMES",
    "SUN_DIR",
    "backbone_checkpoint",
    "dataset_root",
    "image_fingerprint",
    "layout_present",
    "load_image_dataset",
    "resolve_image_source",
]


def _data_root(data_dir: str | os.PathLike | None) -> Path:
    from zslbench.data import default_data_dir

    return Path(default_data_dir() if data_dir is None else data_dir).expanduser()


def _dataset(name: str) -> str:
    key = str(name).strip().lower()
    if key.endswith("-images"):
        key = key[: -len("-images")]
    if key not in IMAGE_DATASETS:
        raise ConfigError(f"unknown image dataset {name!r}; valid names: {', '.join(IMAGE_DATASETS)}")
    return key


def _source(source: str) -> str:
    src = str(source).strip().lower()
    if src not in IMAGE_SOURCES:
        raise ConfigError(f"unknown image data source {source!r}; valid sources: {', '.join(IMAGE_SOURCES)}")
    return src


def _image_size(value: object) -> int:
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 8:
        raise ConfigError(f"image_size must be an integer >= 8, got {value!r}")
    return int(value)


def dataset_root(dataset: str, data_dir: str | os.PathLike | None = None) -> Path:
    """``<data-dir>/CUB_200_2011`` or ``<data-dir>/SUN``."""
    key = _dataset(dataset)
    return _data_root(data_dir) / (CUB_DIR if key == "cub" else SUN_DIR)


def layout_present(dataset: str, data_dir: str | os.PathLike | None = None) -> bool:
    """Whether the dataset's official layout is in the data folder (its list file and image
    folder; the loader checks the rest)."""
    key = _dataset(dataset)
    root = dataset_root(key, data_dir)
    if key == "cub":
        return (root / "images.txt").is_file() and (root / "images").is_dir()
    return (root / "SUNAttributeDB" / "images.mat").is_file() and (root / "images").is_dir()


def resolve_image_source(dataset: str, source: str = "auto", data_dir: str | os.PathLike | None = None) -> str:
    """ "images" or "synthetic": "auto" means real images when the dataset's official layout is
    in the data folder (default :func:`zslbench.data.default_data_dir`), else synthetic."""
    key = _dataset(dataset)
    src = _source(source)
    if src != "auto":
        return src
    return "images" if layout_present(key, data_dir) else "synthetic"


def image_fingerprint(
    dataset: str,
    source: str = "auto",
    data_dir: str | os.PathLike | None = None,
    image_size: int = DEFAULT_IMAGE_SIZE,
    synthetic_scale: float = 1.0,
    synthetic_seed: int = 0,
) -> str:
    """The ``fingerprint`` that :func:`load_image_dataset` with the same arguments will carry,
    computed without decoding any image (real data: the list, split and attribute files'
    contents and the image files' names and sizes; synthetic: the generator's parameters)."""
    key = _dataset(dataset)
    size = _image_size(image_size)
    src = resolve_image_source(key, source, data_dir)
    if src == "synthetic":
        from zslbench.data.images.synthetic import synthetic_image_fingerprint

        return synthetic_image_fingerprint(key, size, synthetic_scale, synthetic_seed)
    from zslbench.data.images.real import source_fingerprint

    return source_fingerprint(key, _data_root(data_dir), size)


def load_image_dataset(
    dataset: str,
    source: str = "auto",
    data_dir: str | os.PathLike | None = None,
    image_size: int = DEFAULT_IMAGE_SIZE,
    synthetic_scale: float = 1.0,
    synthetic_seed: int = 0,
    progress: bool | None = None,
) -> ImageData:
    """Load ``dataset`` ("cub" or "sun") from real images or synthetic ones.

    Real images are decoded once into a memory-mapped cache under ``<data-dir>/cache/`` (built
    with a progress bar when ``progress`` is True, or None on a terminal); later loads read the
    cache.  ``synthetic_scale`` and ``synthetic_seed`` apply to synthetic data only.  With
    ``source="auto"`` the caller sees the source used in ``data.source`` and should say so when
    it is "synthetic".
    """
    key = _dataset(dataset)
    size = _image_size(image_size)
    src = resolve_image_source(key, source, data_dir)
    if src == "synthetic":
        from zslbench.data.images.synthetic import make_synthetic_images

        return make_synthetic_images(key, size, synthetic_scale, synthetic_seed)
    from zslbench.data.images.real import load_real_images

    return load_real_images(key, _data_root(data_dir), size, progress=progress)


def backbone_checkpoint(data_dir: str | os.PathLike | None = None) -> Path:
    """``<data-dir>/resnet18-imagenet/resnet18-f37072fd.pth`` (torchvision's ImageNet ResNet-18);
    DataError with how to get it when it is missing."""
    path = _data_root(data_dir) / BACKBONE_DIR / BACKBONE_FILE
    if not path.is_file():
        where = "" if data_dir is None else f" --data-dir {data_dir}"
        raise DataError(
            f"{path}: the ImageNet ResNet-18 checkpoint is missing; get it with "
            f"'zslbench data fetch --dataset resnet18-imagenet{where}' "
            "(or pass --set backbone_weights=none to train from scratch)"
        )
    return path
