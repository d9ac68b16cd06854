"""Synthetic stand-ins for the xlsa17 datasets: same names, shapes and split sizes, and the
structure of real zero-shot data, so that the models learn on them (docs/synthetic-data.md).

The generator, per dataset (everything seeded, vectorised numpy):

1. classes: a random (seeded) choice of which classes are unseen; class sizes with an imbalance
   like the real dataset's (none for SUN, strong for AwA and aPY);
2. concepts: every class belongs to a latent *concept* (a super-category: about 6 classes per
   concept) and lies near it in a small latent space; seen and unseen classes are drawn around
   the same concepts, so an unseen class has seen relatives, as in the real datasets;
3. attributes: grouped like real attribute vocabularies (groups of 3-12); within a group the
   values are either graded (a softmax over the group, like CUB's "bill shape: ...") or
   binary-like (a sharp sigmoid, like AwA's predicates); every attribute reads the class's
   latent position through a random loading shared in part by its group (so attributes are
   correlated) plus per-class noise (so they describe a class imperfectly); non-negative, many
   near zero, stored like xlsa17's ``att`` (each class vector has unit L2 norm);
4. class prototypes: a fixed random two-layer map (tanh hidden layer) from the class's
   attributes to a 2048-d pre-activation prototype, mixed with a class-specific part that the
   attributes do not explain (``unexplained``);
5. images: every class has a few sub-modes (poses, backgrounds: ``modes``) around its prototype;
   an image is its sub-mode plus per-image noise and a shared low-rank nuisance, then a ReLU
   and a global scale, so features are non-negative and sparse-ish with a mean near 0.45, like
   average-pooled ResNet activations.

Seen and unseen classes are made by the same process, and classes are far apart relative to
the spread of their images, so a prototype that a model infers for an unseen class is not
closer to every image than the seen prototypes it learned.
The class structure depends on (name, seed) only; ``scale`` changes only how many images are
drawn.  The knobs are in :class:`SynthParams`; :data:`PARAMS` holds the chosen values.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zslbench.data.features.specs import DATASETS, DatasetSpec
from zslbench.data.features.types import ZSLData
from zslbench.errors import ConfigError

GENERATOR_VERSION = 2

# Minimum images per class in each split (when scale < 1).
MIN_TRAINVAL_PER_CLASS = 2
MIN_TEST_PER_CLASS = 1


@dataclass(frozen=True)
class SynthParams:
    """The generator's knobs (the data card, docs/synthetic-data.md, gives the chosen values).

    Structure:
      classes_per_concept: mean number of classes per latent concept (super-category).
      concept_spread: distance of a class from its concept in the latent space (the concepts
                      themselves have unit spread): smaller = siblings more alike, harder to tell
                      apart (fine-grained).
      attr_noise:     std of the per-(class, attribute) noise on the attribute logits: how
                      imperfectly the published attributes describe a class.
      binary_share:   share of attribute groups that are binary-like rather than graded.
    Difficulty (the image code is 64-d; the per-image noise in it has std 1):
      separation:     std of the class prototypes in the image code: how far apart classes are
                      relative to the images of one class; the main knob of how learnable the
                      seen classes are.
      unexplained:    share (0..1) of a prototype's variance that does not come from the class's
                      attributes: the main knob of how learnable the unseen classes are.
      modes:          sub-modes per class (poses, backgrounds); an image is drawn from one.
      mode_spread:    std of a sub-mode's offset from its class prototype in the image code.
      imbalance:      spread of class sizes (0: balanced, like SUN's 20 images per class).
    """

    classes_per_concept: float = 6.0
    concept_spread: float = 0.4
    attr_noise: float = 0.35
    binary_share: float = 0.4
    separation: float = 0.7
    unexplained: float = 0.1
    modes: int = 3
    mode_spread: float = 0.7
    imbalance: float = 0.0

    def replace(self, **changes) -> SynthParams:
        return dataclasses.replace(self, **changes)


PARAMS: dict[str, SynthParams] = {
    "sun": SynthParams(separation=0.8, imbalance=0.0),
    "cub": SynthParams(imbalance=0.1),
    "awa1": SynthParams(imbalance=0.5),
    "awa2": SynthParams(imbalance=0.5),
    "apy": SynthParams(imbalance=0.7),
}

_LATENT = 12  # dimension of the latent concept space
_CODE = 64  # dimension of the image code that the feature map reads
_HIDDEN = 256  # hidden width of the attribute -> prototype map
_FEATURE_NOISE = 0.3  # per-feature noise (std) added after the code -> feature map
_TARGET_MEAN = 0.45  # mean feature value (ResNet-101 pooled features: about 0.4-0.5)

__all__ = ["GENERATOR_VERSION", "PARAMS", "SynthParams", "clear_cache", "make_synthetic", "synthetic_fingerprint"]


def _spec(name: str) -> DatasetSpec:
    key = str(name).strip().lower()
    if key not in DATASETS:
        raise ConfigError(f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)}")
    return DATASETS[key]


def check_scale(scale: object) -> float:
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
    return hashlib.sha256(_canonical(spec.name, check_scale(scale), _check_seed(seed)).encode()).hexdigest()


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


def _standardize(x: np.ndarray) -> np.ndarray:
    return (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-12)


def _concepts(n_cls: int, seen: np.ndarray, p: SynthParams, rng: np.random.Generator) -> np.ndarray:
    """The latent position [C, _LATENT] of every class, around shared concepts."""
    n_concepts = max(2, int(round(n_cls / p.classes_per_concept)))
    concept = rng.integers(n_concepts, size=n_cls)
    # every concept an unseen class belongs to has a seen member (else: a seen class's concept)
    has_seen = np.zeros(n_concepts, dtype=bool)
    has_seen[concept[seen]] = True
    orphans = np.flatnonzero(~has_seen[concept])
    concept[orphans] = concept[rng.choice(seen, size=orphans.size)]
    centres = rng.standard_normal((n_concepts, _LATENT))
    return centres[concept] + p.concept_spread * rng.standard_normal((n_cls, _LATENT))


def _attributes(latent: np.ndarray, n_att: int, p: SynthParams, rng: np.random.Generator) -> np.ndarray:
    """Non-negative class attributes [C, A] in [0, 1] (like xlsa17's ``original_att``)."""
    n_cls = latent.shape[0]
    sizes: list[int] = []
    while sum(sizes) < n_att:
        sizes.append(int(rng.integers(3, 13)))
    sizes[-1] -= sum(sizes) - n_att
    if sizes[-1] < 1:
        sizes.pop()
        sizes[-1] += n_att - sum(sizes)
    out = np.empty((n_cls, n_att))
    lo = 0
    for size in sizes:
        hi = lo + size
        shared = rng.standard_normal((_LATENT, 1))  # what the group is about
        own = rng.standard_normal((_LATENT, size))
        loading = (0.6 * shared + 0.8 * own) * (2.0 / math.sqrt(_LATENT))
        logits = latent @ loading + p.attr_noise * rng.standard_normal((n_cls, size))
        if rng.random() < p.binary_share:  # binary-like: present or absent
            logits += rng.normal(-1.0, 1.0, size=size)  # how common each attribute is
            out[:, lo:hi] = 1.0 / (1.0 + np.exp(-3.0 * logits))
        else:  # graded: shares of the group's options (each row sums to 1)
            e = np.exp(1.5 * (logits - logits.max(axis=1, keepdims=True)))
            out[:, lo:hi] = e / e.sum(axis=1, keepdims=True)
        lo = hi
    return out


def _prototypes(att: np.ndarray, p: SynthParams, rng: np.random.Generator) -> np.ndarray:
    """Class prototypes in the image code [C, _CODE], unit variance per code dimension."""
    n_cls, n_att = att.shape
    z = _standardize(att)
    w1 = rng.standard_normal((n_att, _HIDDEN)) * (1.5 / math.sqrt(n_att))
    b1 = rng.normal(0.0, 0.5, size=_HIDDEN)
    w2 = rng.standard_normal((_HIDDEN, _CODE)) / math.sqrt(_HIDDEN)
    explained = _standardize(np.tanh(z @ w1 + b1) @ w2)
    own = rng.standard_normal((n_cls, _CODE))
    mix = math.sqrt(1.0 - p.unexplained) * explained + math.sqrt(p.unexplained) * own
    return _standardize(mix)


def _expected_relu_mean(shifts: np.ndarray) -> float:
    """Mean of E[max(0, s + e)], e ~ N(0, 1), over the entries s of ``shifts``."""
    from scipy.special import ndtr

    return float(np.mean(shifts * ndtr(shifts) + np.exp(-0.5 * shifts * shifts) / math.sqrt(2.0 * math.pi)))


def _generate(
    spec: DatasetSpec,
    scale: float,
    seed: int,
    params: SynthParams | None = None,
) -> ZSLData:
    p = params or PARAMS.get(spec.name, SynthParams())
    name_key = _int_key(spec.name)
    # Class-level structure depends on (name, seed) only; images also on scale.
    rng = np.random.default_rng(np.random.SeedSequence([GENERATOR_VERSION, name_key, seed]))
    img_rng = np.random.default_rng(np.random.SeedSequence([GENERATOR_VERSION, name_key, seed, _int_key(repr(scale))]))
    n_cls, n_att, dim = spec.n_classes, spec.attr_dim, spec.feature_dim

    # 1. classes
    unseen = np.sort(rng.choice(n_cls, size=spec.n_unseen, replace=False)).astype(np.int64)
    seen = np.setdiff1d(np.arange(n_cls, dtype=np.int64), unseen)
    class_weight = rng.lognormal(0.0, 1.0, size=n_cls) ** p.imbalance

    # 2-3. concepts and attributes
    latent = _concepts(n_cls, seen, p, rng)
    original = _attributes(latent, n_att, p, rng)
    att = original / np.linalg.norm(original, axis=1, keepdims=True)
    attrs = att.astype(np.float32)

    # 4. prototypes and sub-modes in the image code; the fixed code -> feature map
    proto = _prototypes(att, p, rng)
    modes = p.separation * proto[:, None, :] + p.mode_spread * rng.standard_normal((n_cls, p.modes, _CODE))
    modes = modes.reshape(n_cls * p.modes, _CODE).astype(np.float32)
    mode_weight = rng.dirichlet(np.full(p.modes, 2.0), size=n_cls)
    gain = rng.standard_normal((_CODE, dim)) / math.sqrt(_CODE)
    bias = rng.normal(-0.2, 0.5, size=dim)  # per-feature activation level
    # variance of a pre-activation around its sub-mode: code noise through the map, plus the
    # per-feature noise; used for the global scale (a function of the class structure only)
    spread = np.sqrt((gain**2).sum(axis=0) + _FEATURE_NOISE**2)
    centres = bias + modes.astype(np.float64) @ gain
    level = _expected_relu_mean(centres / spread) * float(spread.mean())
    gain = gain.astype(np.float32)
    bias = bias.astype(np.float32)

    # 5. images: per-split counts, labels, shuffled order
    tv_n, ts_n, tu_n = _split_counts(spec, scale, class_weight[seen], class_weight[unseen])
    labels_by_split = [np.repeat(seen, tv_n), np.repeat(seen, ts_n), np.repeat(unseen, tu_n)]
    split_of = np.concatenate([np.full(lab.size, i, dtype=np.int8) for i, lab in enumerate(labels_by_split)])
    labels = np.concatenate(labels_by_split)
    order = img_rng.permutation(labels.size)
    labels = labels[order]
    split_of = split_of[order]
    n_img = labels.size

    # the sub-mode of every image, drawn with its class's mode weights
    cum = np.cumsum(mode_weight, axis=1)[labels]
    mode = (img_rng.random(n_img)[:, None] > cum[:, :-1]).sum(axis=1)
    code = modes[labels * p.modes + mode]  # [N, _CODE] float32 (a new array)
    code += img_rng.standard_normal(code.shape, dtype=np.float32)
    feats = code @ gain
    del code
    feats += bias
    noise = img_rng.standard_normal((n_img, dim), dtype=np.float32)
    noise *= np.float32(_FEATURE_NOISE)
    feats += noise
    del noise
    np.maximum(feats, 0.0, out=feats)
    feats *= np.float32(_TARGET_MEAN / level)

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
    scale = check_scale(scale)
    seed = _check_seed(seed)
    cd = None if cache_dir is None else str(Path(cache_dir).expanduser().resolve())
    return _cached(spec.name, scale, seed, cd)


def clear_cache() -> None:
    """Forget the in-process cache of make_synthetic."""
    _cached.cache_clear()
