"""Synthetic raw-image stand-ins for CUB-200-2011 and the SUN Attribute DB.

Two uses:

* :func:`make_synthetic_images` returns an :class:`~zslbench.data.images.types.ImageData`
  directly (no files): the real class and attribute counts, per-class split sizes like the real
  ones, images rendered in memory.  This is what ``--data synthetic`` (and ``auto`` without the
  real archives) trains on.
* :mod:`zslbench.data.images.synthetic_files` writes small JPEG datasets of the same kind in
  the official layouts (and as ``.tgz`` archives), for the tests and for anyone who wants to
  try ``zslbench data fetch``.

How an image is made.  Each class has a latent vector ``u`` (``N_FACTORS`` standard-normal
values).  Its attributes are ``sigmoid(L u + b + e)`` for a fixed random ``L`` (so the
attributes are correlated, class-specific and, with hundreds of them, determine ``u`` almost
exactly); its visual parameters are fixed functions of ``u``: background and foreground colours,
a second texture colour, the size and aspect of an elliptic object, the frequency, orientation
and contrast of stripes on it.  Every image of the class draws its own variation: object
position, size and rotation jitter, stripe phase, a brightness change and a colour cast, a
background gradient, in half of the images a distractor blob of a random colour, and pixel
noise.  A CNN can learn the seen classes from the pictures and, because the pictures
are a smooth function of the attributes, say something about unseen classes from their
attributes.  How hard: a 3-layer CNN with an attribute-embedding head, trained 4 epochs on 150
classes of synthetic CUB at 32 px and half the images, reached about 30% accuracy on their test
images (150-way) and about 40% zero-shot on the other 50 classes (50-way); neither is near
100%.  Everything is seeded numpy, vectorised over images.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from dataclasses import dataclass

import numpy as np

from zslbench.data.images.types import IMAGE_DATASETS, ImageData
from zslbench.errors import ConfigError

GENERATOR_VERSION = 2
N_FACTORS = 13  # latent visual factors per class


#: The real datasets' shapes: classes, attributes, per-class (train, val, test) image counts.
#: CUB's official split gives most classes 30 train / 29-30 test images (5,994 / 5,794 in all);
#: SUN's authors' split is 10 / 5 / 5 of its 20 images per class.
@dataclass(frozen=True)
class ImageShape:
    name: str
    classes: int
    attributes: int
    train: int
    val: int
    test: int


SHAPES = {
    "cub": ImageShape("cub", 200, 312, 30, 0, 29),
    "sun": ImageShape("sun", 717, 102, 10, 5, 5),
}

__all__ = [
    "GENERATOR_VERSION",
    "SHAPES",
    "make_synthetic_images",
    "render_class_images",
    "synthetic_classes",
    "synthetic_image_fingerprint",
]


from zslbench.data.features.synthetic import check_scale  # noqa: E402  (one check for both generators)


def _shape(name: str) -> ImageShape:
    key = str(name).strip().lower()
    if key not in IMAGE_DATASETS:
        raise ConfigError(f"unknown image dataset {name!r}; valid names: {', '.join(IMAGE_DATASETS)}")
    return SHAPES[key]


def _check_int(value: object, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < minimum:
        raise ConfigError(f"{what} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def synthetic_image_fingerprint(name: str, image_size: int, scale: float = 1.0, seed: int = 0) -> str:
    """The fingerprint of ``make_synthetic_images(name, image_size, scale, seed)`` (no rendering)."""
    shape = _shape(name)
    payload = {
        "generator": "synthetic-images",
        "version": GENERATOR_VERSION,
        "dataset": shape.name,
        "image_size": _check_int(image_size, "image_size", 8),
        "scale": check_scale(scale),
        "seed": _check_int(seed, "synthetic_seed", 0),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def class_rng(name: str, seed: int, stream: str) -> np.random.Generator:
    """The random generator of one named stream of dataset ``name`` (independent streams)."""
    key = int.from_bytes(hashlib.sha256(f"{name}/{stream}".encode()).digest()[:8], "little")
    return np.random.default_rng([key, int(seed)])


@dataclass(frozen=True)
class SyntheticClasses:
    """The class-level structure of a synthetic image dataset."""

    latent: np.ndarray  # [C, N_FACTORS] float64
    probs: np.ndarray  # [C, A] float64 in (0, 1): how often each attribute is seen in the class
    attrs: np.ndarray  # [C, A] float32, as the real source gives them
    visual: dict  # name -> [C, ...] float32 visual parameters


def synthetic_classes(name: str, seed: int = 0) -> SyntheticClasses:
    """Latent factors, attributes and visual parameters of every class (depends on name, seed)."""
    return _classes(_shape(name).name, _check_int(seed, "synthetic_seed", 0))


@functools.lru_cache(maxsize=8)
def _classes(key: str, seed: int) -> SyntheticClasses:
    shape = SHAPES[key]
    rng = class_rng(key, seed, "classes")
    c, a = shape.classes, shape.attributes
    u = rng.standard_normal((c, N_FACTORS))
    load = rng.standard_normal((a, N_FACTORS)) * (1.6 / math.sqrt(N_FACTORS))
    bias = rng.normal(-0.6, 0.8, size=a)
    logits = u @ load.T + bias + 0.3 * rng.standard_normal((c, a))
    probs = 1.0 / (1.0 + np.exp(-logits))
    if key == "cub":
        attrs = 100.0 * probs  # class_attribute_labels_continuous.txt: percentages
    else:
        attrs = probs / np.linalg.norm(probs, axis=1, keepdims=True)  # per-class mean, L2-normalised

    def sig(x):
        return 1.0 / (1.0 + np.exp(-x))

    visual = {
        "bg": 0.25 + 0.5 * sig(u[:, 0:3]),
        "fg": 0.2 + 0.6 * sig(1.2 * u[:, 3:6]),
        "tex": 0.2 + 0.6 * sig(1.2 * u[:, 6:9]),
        "radius": 0.3 + 0.3 * sig(u[:, 9]),
        "aspect": np.exp(0.45 * np.tanh(u[:, 10])),
        "freq": 1.5 + 4.5 * sig(u[:, 11]),  # stripe cycles per image width
        "theta": math.pi * sig(1.2 * u[:, 12]),
        "contrast": 0.35 + 0.5 * sig(u[:, 0] - u[:, 9]),
    }
    visual = {k: np.asarray(v, dtype=np.float32) for k, v in visual.items()}
    return SyntheticClasses(latent=u, probs=probs, attrs=attrs.astype(np.float32), visual=visual)


def render_class_images(
    classes: SyntheticClasses,
    labels: np.ndarray,
    image_size: int,
    rng: np.random.Generator,
    *,
    chunk: int = 64,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """[N, S, S, 3] uint8 images of the given classes, each with its own random variation."""
    labels = np.asarray(labels, dtype=np.int64)
    n, s = labels.size, int(image_size)
    if out is None:
        out = np.empty((n, s, s, 3), dtype=np.uint8)
    f32 = np.float32
    grid = (np.arange(s, dtype=f32) + f32(0.5)) / f32(s) * f32(2.0) - f32(1.0)
    gx, gy = grid[None, None, :], grid[None, :, None]  # [1, 1, S] and [1, S, 1]
    vis = classes.visual
    noise_shift = 3  # pixel noise: random bytes >> 3, uniform 0..31 (std ~9 grey levels)
    for start in range(0, n, chunk):
        lab = labels[start : start + chunk]
        b = lab.size

        def draw(*size, low=0.0, high=1.0, std=None):
            if std is not None:
                return rng.normal(0.0, std, size=size).astype(f32)
            return rng.uniform(low, high, size=size).astype(f32)

        def col(key, lab=lab):
            return vis[key][lab][:, None, None]

        cx = draw(b, 1, 1, low=-0.3, high=0.3)
        cy = draw(b, 1, 1, low=-0.3, high=0.3)
        rot = draw(b, 1, 1, std=0.4)
        size_j = draw(b, 1, 1, low=0.8, high=1.2)
        light = draw(b, 3, 1, 1, std=0.04)  # the image's colour cast (all of it)
        bg_shift = draw(b, 3, 1, 1, std=0.03)  # and its background's own
        # a distractor: a blob of a random colour, size and place, in half of the images
        dx = draw(b, 1, 1, low=-0.8, high=0.8)
        dy = draw(b, 1, 1, low=-0.8, high=0.8)
        dr = draw(b, 1, 1, low=0.08, high=0.2) * (draw(b, 1, 1) < 0.5)
        dcol = draw(b, 3, 1, 1, low=0.1, high=0.9)
        phase = draw(b, 1, 1, low=0.0, high=2 * math.pi)
        bright = draw(b, 1, 1, 1, low=0.85, high=1.15) * f32(255.0)
        grad_dir = draw(b, 1, 1, low=0.0, high=2 * math.pi)
        grad_amp = draw(b, 1, 1, low=0.0, high=0.12)

        # object frame: translated, rotated; the ellipse's axes and the stripes turn with it
        x, y = gx - cx, gy - cy
        cr, sr = np.cos(rot), np.sin(rot)
        xr = x * cr + y * sr  # [B, S, S]
        yr = y * cr - x * sr
        radius = col("radius") * size_j
        aspect = col("aspect")
        ell = np.square(xr * (1.0 / (radius * aspect))) + np.square(yr * (aspect / radius))
        ell *= -3.0
        ell += 3.5
        mask = np.clip(ell, 0.0, 1.0, out=ell)  # 1 inside the ellipse, 0 outside, soft edge
        theta = col("theta")
        k = f32(math.pi) * col("freq")
        wave = xr * (k * np.cos(theta)) + yr * (k * np.sin(theta))
        wave += phase
        np.sin(wave, out=wave)
        wave += 1.0
        wave *= mask
        wave *= 0.5 * col("contrast")  # stripe weight, inside the object only
        ramp = (gx * np.cos(grad_dir) + gy * np.sin(grad_dir)) * grad_amp  # [B, S, S]
        # planar [B, 3, S, S] (broadcasts over a last axis of 3 are slow):
        # colour = (bg + mask * (fg - bg) + stripes * (tex - fg)) * brightness + ramp + noise
        bg, fg, tex = (vis[key][lab][:, :, None, None] + light for key in ("bg", "fg", "tex"))
        bg = bg + bg_shift
        bright = bright[:, :, :, 0][:, None]  # [B, 1, 1, 1]
        # the background with the distractor, then the object over it
        blob = np.square(gx - dx) + np.square(gy - dy)
        blob *= -3.0 / np.square(np.maximum(dr, f32(1e-3)))
        blob += 3.5
        np.clip(blob, 0.0, 1.0, out=blob)
        blob *= dr > 0
        back = bg + blob[:, None] * (dcol - bg)
        img = back * bright
        img += mask[:, None] * ((fg * bright) - img)
        img += wave[:, None] * ((tex - fg) * bright)
        img += (ramp * bright[:, 0])[:, None]
        img += f32(0.5 - ((255 >> noise_shift) / 2.0))
        noise = np.frombuffer(rng.bytes(img.size), dtype=np.uint8).reshape(img.shape)
        img += noise >> noise_shift
        np.clip(img, 0.0, 255.0, out=img)
        out[start : start + b] = img.transpose(0, 2, 3, 1)  # truncation after +0.5: rounding
    return out


def _split_counts(shape: ImageShape, scale: float, rng: np.random.Generator) -> np.ndarray:
    """[C, 3] per-class (train, val, test) counts: the real ones times ``scale``, with CUB's
    slight per-class variation, at least 1 train and 1 evaluation image per class."""
    c = shape.classes
    base = np.array([shape.train, shape.val, shape.test], dtype=np.float64)
    counts = np.tile(base, (c, 1))
    if shape.name == "cub":
        # the official split: 5,994 / 5,794, a few classes with fewer images
        counts[:, 2] -= (rng.random(c) < 0.06) * rng.integers(0, 12, size=c)
        counts[:, 0] -= rng.random(c) < 0.03
    counts = np.rint(counts * scale).astype(np.int64)
    counts[:, 0] = np.maximum(counts[:, 0], 1)
    if shape.val:
        counts[:, 1] = np.maximum(counts[:, 1], 1)
    counts[:, 2] = np.maximum(counts[:, 2], 1)
    return counts


def _layout(name: str, scale: float, seed: int):
    """Labels (grouped by class, as the official lists are) and the split of each image."""
    shape = SHAPES[name]
    rng = class_rng(name, seed, "split")
    counts = _split_counts(shape, scale, rng)
    labels, parts = [], []
    for k in range(shape.classes):
        tags = np.repeat(np.arange(3), counts[k])
        rng.shuffle(tags)  # train and test images interleaved within a class, like the real lists
        labels.append(np.full(tags.size, k, dtype=np.int64))
        parts.append(tags)
    return np.concatenate(labels), np.concatenate(parts)


def make_synthetic_images(name: str, image_size: int = 32, scale: float = 1.0, seed: int = 0) -> ImageData:
    """A synthetic image dataset with the real class/attribute counts and split sizes."""
    shape = _shape(name)
    fp = synthetic_image_fingerprint(shape.name, image_size, scale, seed)
    scale = check_scale(scale)
    images, labels, splits, attrs = _arrays(shape.name, int(image_size), scale, int(seed))
    return ImageData(
        name=shape.name,
        source="synthetic",
        images=images,
        labels=labels,
        attrs=attrs,
        splits=dict(splits),
        class_names=tuple(f"synthetic_{k:03d}" for k in range(shape.classes)),
        fingerprint=fp,
        attr_source="synthetic",
        image_size=int(image_size),
        meta={"generator_version": GENERATOR_VERSION, "synthetic_scale": scale, "synthetic_seed": int(seed)},
    )


#: Synthetic datasets kept in memory per process (a sweep loads the same one for many runs);
#: only small ones (the quick profile's): a full-size set at 256 px is 2-3 GB.
_MEMO: dict[tuple, tuple] = {}
_MEMO_MAX_BYTES = 256 * 2**20
_MEMO_MAX_ITEMS = 2


def _arrays(key: str, image_size: int, scale: float, seed: int):
    memo_key = (key, image_size, scale, seed)
    if memo_key in _MEMO:
        return _MEMO[memo_key]
    arrays = _make_arrays(key, image_size, scale, seed)
    if arrays[0].nbytes <= _MEMO_MAX_BYTES:
        while len(_MEMO) >= _MEMO_MAX_ITEMS:
            _MEMO.pop(next(iter(_MEMO)))
        _MEMO[memo_key] = arrays
    return arrays


def _make_arrays(key: str, image_size: int, scale: float, seed: int):
    """Read-only arrays of one synthetic dataset."""
    classes = _classes(key, seed)
    labels, parts = _layout(key, scale, seed)
    images = render_class_images(classes, labels, image_size, class_rng(key, seed, f"pixels/{scale!r}"))
    splits = {p: np.flatnonzero(parts == i).astype(np.int64) for i, p in enumerate(("train", "val", "test"))}
    attrs = classes.attrs.copy()
    for arr in (images, labels, attrs, *splits.values()):
        arr.setflags(write=False)
    return images, labels, splits, attrs


# --------------------------------------------------------------------------- files and archives
