"""Synthetic stand-ins for the xlsa17 datasets: same names, shapes and split sizes.

The generator, per dataset (everything seeded, vectorised numpy):

1. class structure: a random (seeded) choice of which classes are unseen, and class sizes with an
   imbalance like the real dataset's (none for SUN, strong for AwA and aPY);
2. attributes: a low-rank latent factor model (``k`` factors shared by all attributes) pushed
   through a sigmoid, so attributes are non-negative, correlated and class-specific; stored like
   xlsa17's ``att`` (each class vector has unit L2 norm);
3. features: a fixed random two-layer map (tanh hidden layer) from the standardised attributes to
   2048-d class prototypes, plus per-image noise (a low-rank "nuisance" part and isotropic
   noise), then ReLU, so features are non-negative like pooled ResNet activations.

Unseen classes are therefore recognisable from their attributes alone (a model that learns the
attribute -> feature map on seen classes transfers), while the noise keeps the task far from
trivial.  The class structure depends on (name, seed) only; ``scale`` changes only how many
images are drawn.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
from pathlib import Path

import numpy as np

from zslbench.data.specs import DATASETS, DatasetSpec
from zslbench.data.types import ZSLData
from zslbench.errors import ConfigError

GENERATOR_VERSION = 1

# Minimum images per class in each split (when scale < 1).
MIN_TRAINVAL_PER_CLASS = 2
MIN_TEST_PER_CLASS = 1

# Difficulty per dataset: (signal, noise std, nuisance std, class-size imbalance).
# signal: std of the class prototypes per feature dimension (before ReLU); noise: isotropic
# per-image noise; nuisance: std of the per-image coefficients of a few shared random
# directions; imbalance: spread of class sizes (0 = balanced like SUN's 20 images per class).
# Tuned so that cheap probes (tests/test_synthetic.py) land in a realistic range: clearly above
# chance, far from 100%.
_PARAMS = {
    "sun": (0.23, 1.0, 0.6, 0.0),
    "cub": (0.22, 1.0, 0.6, 0.1),
    "awa1": (0.12, 1.0, 0.6, 0.5),
    "awa2": (0.12, 1.0, 0.6, 0.5),
    "apy": (0.13, 1.0, 0.6, 0.7),
}
_DEFAULT_PARAMS = (0.2, 1.0, 0.6, 0.3)
_HIDDEN = 256  # hidden width of the attribute -> feature map
_NUISANCE_RANK = 16
_FEATURE_SCALE = 0.5  # overall scale: ResNet-101 pooled features have mean ~0.4-0.5

__all__ = ["GENERATOR_VERSION", "clear_cache", "make_synthetic", "synthetic_fingerprint"]


def _spec(name: str) -> DatasetSpec:
    key = str(name).strip().lower()
    if key not in DATASETS:
        raise ConfigError(f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)}")
    return DATASETS[key]


def _check_scale(scale: object) -> float:
    try:
        value = float(scale)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(f"synthetic scale must be a number, got {scale!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"synthetic scale must be a positive number, got {scale!r}")
    return value


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ConfigError(f"synthetic seed must be an integer, got {seed!r}")
    if int(seed) < 0:
        raise ConfigError(f"synthetic seed must be >= 0, got {seed!r}")
    return int(seed)


def _canonical(name: str, scale: float, seed: int) -> str:
    return json.dumps(
        {
            "generator": "zslbench.synthetic",
            "version": GENERATOR_VERSION,
            "name": name,
            "scale": repr(float(scale)),
            "seed": int(seed),
        },
        sort_keys=True,
    )


def synthetic_fingerprint(name: str, scale: float = 1.0, seed: int = 0) -> str:
    """The fingerprint that make_synthetic(name, scale, seed) will carry (no data generated)."""
    spec = _spec(name)
    return hashlib.sha256(
        _canonical(spec.name, _check_scale(scale), _check_seed(seed)).encode()
    ).hexdigest()


def _int_key(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


# --------------------------------------------------------------------------- counts


def _allocate(total: int, weights: np.ndarray, minimum: int) -> np.ndarray:
    """Integers >= minimum, summing to total, roughly proportional to weights."""
    k = weights.size
    total = max(int(total), minimum * k)
    counts = np.full(k, minimum, dtype=np.int64)
    rest = total - minimum * k
    if rest > 0:
        quota = rest * weights / weights.sum()
        base = np.floor(quota).astype(np.int64)
        counts += base
        left = rest - int(base.sum())
        if left > 0:
            # largest fractional parts first; ties broken by class order (stable sort)
            order = np.argsort(-(quota - base), kind="stable")[:left]
            counts[order] += 1
    return counts


def _split_counts(
    spec: DatasetSpec, scale: float, w_seen: np.ndarray, w_unseen: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n_tv = int(round(spec.n_trainval * scale))
    n_ts = int(round(spec.n_test_seen * scale))
    n_tu = int(round(spec.n_test_unseen * scale))
    return (
        _allocate(n_tv, w_seen, MIN_TRAINVAL_PER_CLASS),
        _allocate(n_ts, w_seen, MIN_TEST_PER_CLASS),
        _allocate(n_tu, w_unseen, MIN_TEST_PER_CLASS),
    )


# --------------------------------------------------------------------------- generation


def _generate(
    spec: DatasetSpec,
    scale: float,
    seed: int,
    params: tuple[float, float, float, float] | None = None,
) -> ZSLData:
    name_key = _int_key(spec.name)
    # Class-level structure depends on (name, seed) only; images also on scale.
    rng = np.random.default_rng(np.random.SeedSequence([GENERATOR_VERSION, name_key, seed]))
    img_rng = np.random.default_rng(
        np.random.SeedSequence([GENERATOR_VERSION, name_key, seed, _int_key(repr(scale))])
    )
    n_cls, n_att, dim = spec.n_classes, spec.attr_dim, spec.feature_dim

    # 1. classes
    unseen = np.sort(rng.choice(n_cls, size=spec.n_unseen, replace=False)).astype(np.int64)
    seen = np.setdiff1d(np.arange(n_cls, dtype=np.int64), unseen)
    signal, sigma, nuisance_std, imbalance = params or _PARAMS.get(spec.name, _DEFAULT_PARAMS)
    class_weight = rng.lognormal(0.0, 1.0, size=n_cls) ** imbalance

    # 2. attributes: low-rank latent factors -> sigmoid (non-negative, correlated)
    rank = max(4, min(16, n_att // 6))
    factors = rng.standard_normal((n_cls, rank))
    loadings = rng.standard_normal((rank, n_att)) * (1.6 / math.sqrt(rank))
    offset = rng.normal(-1.0, 0.8, size=n_att)  # how common each attribute is
    logits = factors @ loadings + offset + 0.5 * rng.standard_normal((n_cls, n_att))
    original = 1.0 / (1.0 + np.exp(-logits))
    att = original / np.linalg.norm(original, axis=1, keepdims=True)
    attrs = att.astype(np.float32)

    # 3. attribute -> prototype map (fixed, random, non-linear)
    z = (att - att.mean(axis=0)) / (att.std(axis=0) + 1e-12)
    w1 = rng.standard_normal((n_att, _HIDDEN)) * (1.5 / math.sqrt(n_att))
    b1 = rng.normal(0.0, 0.5, size=_HIDDEN)
    w2 = rng.standard_normal((_HIDDEN, dim)) / math.sqrt(_HIDDEN)
    proto = np.tanh(z @ w1 + b1) @ w2
    proto = (proto - proto.mean(axis=0)) / (proto.std(axis=0) + 1e-12)
    base = rng.normal(0.0, 0.5, size=dim)  # per-dimension activation level
    mu = (base + signal * proto).astype(np.float32)
    nuisance = rng.standard_normal((_NUISANCE_RANK, dim)) / math.sqrt(_NUISANCE_RANK)
    nuisance = nuisance.astype(np.float32)

    # 4. images: per-split counts, labels, shuffled order
    tv_n, ts_n, tu_n = _split_counts(spec, scale, class_weight[seen], class_weight[unseen])
    labels_by_split = [np.repeat(seen, tv_n), np.repeat(seen, ts_n), np.repeat(unseen, tu_n)]
    split_of = np.concatenate(
        [np.full(lab.size, i, dtype=np.int8) for i, lab in enumerate(labels_by_split)]
    )
    labels = np.concatenate(labels_by_split)
    order = img_rng.permutation(labels.size)
    labels = labels[order]
    split_of = split_of[order]
    n_img = labels.size

    feats = mu[labels]  # [N, D] float32 (a new array)
    noise = img_rng.standard_normal((n_img, dim), dtype=np.float32)
    noise *= np.float32(sigma)
    feats += noise
    del noise
    coeff = img_rng.standard_normal((n_img, _NUISANCE_RANK), dtype=np.float32)
    coeff *= np.float32(nuisance_std)
    feats += coeff @ nuisance
    np.maximum(feats, 0.0, out=feats)
    feats *= np.float32(_FEATURE_SCALE)

    arrays = {
        "features": feats,
        "labels": labels.astype(np.int64),
        "attrs": attrs,
        "trainval_idx": np.flatnonzero(split_of == 0).astype(np.int64),
        "test_seen_idx": np.flatnonzero(split_of == 1).astype(np.int64),
        "test_unseen_idx": np.flatnonzero(split_of == 2).astype(np.int64),
        "seen_classes": seen,
        "unseen_classes": unseen,
    }
    return _build(spec, scale, seed, arrays)


def _build(spec: DatasetSpec, scale: float, seed: int, arrays: dict[str, np.ndarray]) -> ZSLData:
    return ZSLData(
        name=spec.name,
        source="synthetic",
        class_names=tuple(f"{spec.name}_synth_{c:03d}" for c in range(spec.n_classes)),
        vintage="synthetic",
        fingerprint=hashlib.sha256(_canonical(spec.name, scale, seed).encode()).hexdigest(),
        meta={
            "generator": "zslbench.data.synthetic",
            "generator_version": GENERATOR_VERSION,
            "scale": scale,
            "seed": seed,
        },
        **arrays,
    )


# --------------------------------------------------------------------------- disk cache

_ARRAYS = (
    "features",
    "labels",
    "attrs",
    "trainval_idx",
    "test_seen_idx",
    "test_unseen_idx",
    "seen_classes",
    "unseen_classes",
)


def _cache_path(cache_dir: str, name: str, fingerprint: str) -> Path:
    return Path(cache_dir) / f"synthetic-{name}-v{GENERATOR_VERSION}-{fingerprint[:16]}.npz"


def _read_cache(path: Path, spec: DatasetSpec, scale: float, seed: int, fp: str) -> ZSLData | None:
    try:
        with np.load(path, allow_pickle=False) as npz:
            if str(npz["fingerprint"]) != fp:
                return None
            arrays = {k: np.array(npz[k]) for k in _ARRAYS}
    except Exception:  # missing, partial or foreign file: regenerate
        return None
    n_img = arrays["labels"].size
    if arrays["features"].shape != (n_img, spec.feature_dim) or arrays["attrs"].shape != (
        spec.n_classes,
        spec.attr_dim,
    ):
        return None
    return _build(spec, scale, seed, arrays)


def _write_cache(path: Path, data: ZSLData) -> None:
    from zslbench.store import atomic_write

    arrays = {k: getattr(data, k) for k in _ARRAYS}
    atomic_write(path, lambda fh: np.savez(fh, fingerprint=np.array(data.fingerprint), **arrays))


@functools.lru_cache(maxsize=4)
def _cached(name: str, scale: float, seed: int, cache_dir: str | None) -> ZSLData:
    spec = DATASETS[name]
    if cache_dir is None:
        return _generate(spec, scale, seed)
    fp = hashlib.sha256(_canonical(name, scale, seed).encode()).hexdigest()
    path = _cache_path(cache_dir, name, fp)
    data = _read_cache(path, spec, scale, seed, fp)
    if data is None:
        data = _generate(spec, scale, seed)
        try:
            _write_cache(path, data)
        except OSError:
            pass  # the cache is an optimisation only
    return data


def make_synthetic(
    name: str,
    scale: float = 1.0,
    seed: int = 0,
    cache_dir: str | os.PathLike | None = None,
) -> ZSLData:
    """A synthetic dataset shaped like xlsa17 dataset ``name``.

    At ``scale=1`` the split sizes are exactly the GBU ones; smaller scales shrink every split
    proportionally, keeping at least 2 trainval and 1 test image per class.  Deterministic in
    (name, scale, seed); results are cached in this process (the same object is returned for
    the same arguments; do not modify its arrays) and, with ``cache_dir``, on disk.
    """
    spec = _spec(name)
    scale = _check_scale(scale)
    seed = _check_seed(seed)
    cd = None if cache_dir is None else str(Path(cache_dir).expanduser().resolve())
    return _cached(spec.name, scale, seed, cd)


def clear_cache() -> None:
    """Forget the in-process cache of make_synthetic."""
    _cached.cache_clear()
