"""Datasets: the xlsa17 files when present, else synthetic stand-ins of the same shapes.

The entry points of the feature datasets are here (:func:`load_dataset`, :func:`resolve_source`,
:func:`fingerprint`).  The folders: ``features/`` (xlsa17 and synthetic features, their types
and specs), ``images/`` (the raw images of the CZSL image track), ``download.py`` and
``archives.py`` (the machinery of every ``zslbench data fetch``).

Heavy modules (scipy) are imported lazily, so importing this package is cheap.
"""

from __future__ import annotations

import os
from pathlib import Path

from zslbench.api import FEATURE_DATASETS
from zslbench.data.features.specs import DATASETS, DatasetSpec
from zslbench.data.features.types import ZSLData
from zslbench.data.registry import DATA_SOURCES, FEATURES
from zslbench.errors import ConfigError

SOURCES = ("auto", *DATA_SOURCES.choices(FEATURES))  # the --data values of the features (zslbench.data.registry)

__all__ = [
    "DATASETS",
    "SOURCES",
    "DatasetSpec",
    "ZSLData",
    "default_data_dir",
    "fingerprint",
    "load_dataset",
    "resolve_source",
]


def default_data_dir() -> Path:
    """``$ZSLBENCH_DATA`` if set, else the platform's user cache folder for zslbench.

    The folder is not created (zslbench.api.default_data_dir, which plugins use too).
    """
    from zslbench.api import default_data_dir as api_default

    return api_default()


def _dataset_name(name: str) -> str:
    key = str(name).strip().lower()
    if key not in DATASETS and key not in FEATURE_DATASETS:
        valid = [*DATASETS, *FEATURE_DATASETS]
        raise ConfigError(f"unknown dataset {name!r}; valid names: {', '.join(valid)}")
    return key


def _npz_source(key: str, source: str) -> str:
    """A registered features dataset (zslbench.api.register_dataset) has one source: npz."""
    if source not in ("auto", "npz"):
        raise ConfigError(f"dataset {key!r} is a features.npz dataset: --data {source} does not apply (use auto)")
    return "npz"


def resolve_source(name: str, source: str = "auto", data_dir: str | os.PathLike | None = None) -> str:
    """The data source that load_dataset will use: "xlsa17" or "synthetic".

    "auto" means xlsa17 when the dataset's folder under ``data_dir`` (default:
    :func:`default_data_dir`) holds both res101.mat and att_splits.mat, else synthetic.
    """
    key = _dataset_name(name)
    src = str(source).strip().lower()
    if key in FEATURE_DATASETS:
        return _npz_source(key, src)
    valid = ("auto", *DATA_SOURCES.choices(FEATURES))  # SOURCES, with the sources registered since
    if src not in valid:
        raise ConfigError(f"unknown data source {source!r}; valid sources: {', '.join(valid)}")
    if src != "auto":
        return src
    from zslbench.data.features.xlsa17 import FEATURES_FILE, SPLITS_FILE, find_dataset_dir

    folder = find_dataset_dir(default_data_dir() if data_dir is None else data_dir, key)
    if folder is None:
        return "synthetic"
    if (folder / FEATURES_FILE).is_file() and (folder / SPLITS_FILE).is_file():
        return "xlsa17"
    return "synthetic"


def load_dataset(
    name: str,
    source: str = "auto",
    data_dir: str | os.PathLike | None = None,
    scale: float = 1.0,
    synthetic_seed: int = 0,
    *,
    synthetic_cache_dir: str | os.PathLike | None = None,
) -> ZSLData:
    """Load dataset ``name`` (sun, cub, awa1, awa2, apy) from the given source.

    ``scale`` and ``synthetic_seed`` apply to synthetic data only (xlsa17 data is always loaded
    in full).  With ``source="auto"`` the caller sees which source was used in ``data.source``
    and should tell the user when it is "synthetic".
    """
    key = _dataset_name(name)
    root = default_data_dir() if data_dir is None else Path(data_dir)
    load = DATA_SOURCES.get(resolve_source(key, source, root)).load
    assert load is not None  # every features source has a loader
    return load(key, root, scale, synthetic_seed, synthetic_cache_dir)


def fingerprint(
    name: str,
    source: str = "auto",
    data_dir: str | os.PathLike | None = None,
    scale: float = 1.0,
    seed: int = 0,
) -> str:
    """The ``fingerprint`` that ``load_dataset(name, source, data_dir, scale, seed)`` will carry,
    computed without loading the data (synthetic: a hash of the generator's parameters; xlsa17:
    the SHA-256 of the two files, cached per process).
    """
    key = _dataset_name(name)
    root = default_data_dir() if data_dir is None else Path(data_dir)
    if key in FEATURE_DATASETS:
        src = _npz_source(key, str(source).strip().lower())
    else:
        src = resolve_source(key, source, root)
    print_of = DATA_SOURCES.get(src).fingerprint
    assert print_of is not None  # every features source has one
    return print_of(key, root, scale, seed)
