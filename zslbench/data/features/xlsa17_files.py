"""Where the xlsa17 files are and what they are: the dataset folders of the release
(``<data_dir>/xlsa17/data/<DIR>/``, ``<DIR>`` in AWA1, AWA2, APY, CUB, SUN; also ``data/<DIR>``
and ``<DIR>``), the SHA-256 of a file (cached per file version), and the fingerprint of a
dataset computed from its two files' hashes without parsing them."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from zslbench.data.features.specs import DATASETS, DatasetSpec
from zslbench.errors import ConfigError, DataError

FEATURES_FILE = "res101.mat"
SPLITS_FILE = "att_splits.mat"

_HASH_CHUNK = 1 << 22  # 4 MiB


# --------------------------------------------------------------------------- names and folders


def get_spec(name: str) -> DatasetSpec:
    """The spec of a dataset by CLI name (case-insensitive); ConfigError for unknown names."""
    key = str(name).strip().lower()
    try:
        return DATASETS[key]
    except KeyError:
        valid = ", ".join(DATASETS)
        raise ConfigError(f"unknown dataset {name!r}; valid names: {valid}") from None


def check_data_dir(data_dir: str | os.PathLike) -> Path:
    root = Path(data_dir).expanduser()
    if not root.exists():
        raise DataError(f"data directory {root} does not exist")
    if not root.is_dir():
        raise DataError(f"data directory {root} is not a directory (it is a file)")
    return root


def _child_dir(parent: Path, dir_name: str) -> Path | None:
    """``parent/dir_name`` if it is a folder, else a case-insensitive match, else None."""
    exact = parent / dir_name
    if exact.is_dir():
        return exact
    if not parent.is_dir():
        return None
    try:
        for child in sorted(parent.iterdir()):
            if child.name.lower() == dir_name.lower() and child.is_dir():
                return child
    except OSError:
        return None
    return None


def _candidate_dirs(root: Path, dir_name: str) -> list[Path]:
    found = []
    for parent in (root / "xlsa17" / "data", root / "data", root):
        d = _child_dir(parent, dir_name)
        if d is not None and d not in found:
            found.append(d)
    return found


def find_dataset_dir(data_dir: str | os.PathLike | None, name: str) -> Path | None:
    """Like :func:`dataset_dir` but returns None instead of raising when nothing is found."""
    spec = get_spec(name)
    if data_dir is None:
        return None
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        return None
    found = _candidate_dirs(root, spec.dir_name)
    if not found:
        return None
    # Prefer a folder that holds the files (official layout first among equals).
    for want in ((FEATURES_FILE, SPLITS_FILE), (SPLITS_FILE,), (FEATURES_FILE,)):
        for d in found:
            if all((d / f).is_file() for f in want):
                return d
    return found[0]


def dataset_dir(data_dir: str | os.PathLike, name: str) -> Path:
    """The folder of dataset ``name``.

    Looks for ``<data_dir>/xlsa17/data/<DIR>`` (the layout of the official zip, preferred),
    then ``<data_dir>/data/<DIR>`` and ``<data_dir>/<DIR>``; ``<DIR>`` is e.g. ``SUN``.
    """
    spec = get_spec(name)
    root = check_data_dir(data_dir)
    found = find_dataset_dir(root, spec.name)
    if found is None:
        d = spec.dir_name
        raise DataError(
            f"{root}: no folder for dataset '{spec.name}' (looked for xlsa17/data/{d}, data/{d} "
            f"and {d}); unpack xlsa17.zip there or run 'zslbench data fetch'"
        )
    return found


# --------------------------------------------------------------------------- hashing


_hash_cache: dict[tuple[str, int, int], str] = {}
_hash_lock = threading.Lock()


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file, streamed in chunks; cached per (path, size, mtime) in this process."""
    p = Path(path).resolve()
    st = p.stat()
    key = (str(p), st.st_size, st.st_mtime_ns)
    with _hash_lock:
        hit = _hash_cache.get(key)
    if hit is not None:
        return hit
    h = hashlib.sha256()
    with open(p, "rb") as fh:
        while True:
            chunk = fh.read(_HASH_CHUNK)
            if not chunk:
                break
            h.update(chunk)
    digest = h.hexdigest()
    with _hash_lock:
        _hash_cache[key] = digest
    return digest


def combined_fingerprint(digests: dict[str, str]) -> str:
    text = "".join(f"{name}:{digests[name]}\n" for name in sorted(digests))
    return hashlib.sha256(("xlsa17\n" + text).encode()).hexdigest()


def xlsa17_fingerprint(name: str, data_dir: str | os.PathLike, *, splits_file: str = SPLITS_FILE) -> str:
    """The fingerprint that ``load_xlsa17(name, data_dir)`` gives its data, from the file hashes
    only (nothing is parsed; hashes are cached per process)."""
    spec = get_spec(name)
    folder = dataset_dir(data_dir, spec.name)
    feat_path, sp = folder / FEATURES_FILE, folder / splits_file
    for path in (feat_path, sp):
        if not path.is_file():
            raise DataError(f"{path}: file not found")
    return combined_fingerprint({feat_path.name: file_sha256(feat_path), sp.name: file_sha256(sp)})
