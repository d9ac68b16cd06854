"""Synthetic image datasets written as files: small JPEG datasets in the official CUB-200-2011
and SUN Attribute DB layouts, and as the official archives (including a few grayscale JPEGs
and a CMYK one), drawn by the generator of :mod:`zslbench.data.images.synthetic`.  For the tests
and for anyone who wants to try ``zslbench data fetch --from-archive``:

    python -m zslbench.data.images.synthetic_files OUT_DIR
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import numpy as np

from zslbench.data.images.synthetic import SHAPES, class_rng, render_class_images, synthetic_classes
from zslbench.errors import ConfigError

__all__ = ["write_archives", "write_cub_layout", "write_sun_layout"]


def _jpeg_bytes(pixels: np.ndarray, mode: str = "RGB", quality: int = 90) -> bytes:
    from PIL import Image

    im = Image.fromarray(pixels, "RGB")
    if mode != "RGB":
        im = im.convert(mode)
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def _modes(n: int, grayscale: int, cmyk: int) -> list[str]:
    """Which images are written as grayscale or CMYK JPEGs (spread over the list)."""
    modes = ["RGB"] * n
    special = ["L"] * grayscale + ["CMYK"] * cmyk
    for j, mode in enumerate(special):
        if n:
            modes[(1 + 3 * j) % n] = mode
    return modes


def _check_counts(name: str, classes: int, per_class: int, minimum: int) -> None:
    limit = SHAPES[name].classes
    if not 1 <= classes <= limit:
        raise ConfigError(f"classes must be 1..{limit} for {name}, got {classes}")
    if per_class < minimum:
        raise ConfigError(f"per_class must be at least {minimum}, got {per_class}")


def write_cub_layout(
    data_root: str | os.PathLike,
    *,
    classes: int = 200,
    per_class: int = 4,
    image_size: int = 40,
    seed: int = 0,
    grayscale: int = 2,
    cmyk: int = 1,
) -> Path:
    """Write ``<data_root>/CUB_200_2011/`` in the official layout (JPEG images, list, split and
    attribute files) with synthetic class-dependent images; returns the CUB folder.  Every other
    image of a class is a training image (official split format: 1 = train, 0 = test)."""
    _check_counts("cub", classes, per_class, 2)
    root = Path(data_root) / "CUB_200_2011"
    (root / "attributes").mkdir(parents=True, exist_ok=True)
    cls = synthetic_classes("cub", seed)
    labels = np.repeat(np.arange(classes), per_class)
    pixels = render_class_images(cls, labels, image_size, class_rng("cub", seed, "files"))
    modes = _modes(labels.size, grayscale, cmyk)
    folders = [f"{k + 1:03d}.Synthetic_Bird_{k + 1:03d}" for k in range(classes)]
    images, class_labels, split = [], [], []
    for i, k in enumerate(labels.tolist()):
        j = i - k * per_class
        rel = f"{folders[k]}/Synthetic_Bird_{k + 1:03d}_{j + 1:04d}.jpg"
        (root / "images" / folders[k]).mkdir(parents=True, exist_ok=True)
        (root / "images" / rel).write_bytes(_jpeg_bytes(pixels[i], modes[i]))
        images.append(f"{i + 1} {rel}")
        class_labels.append(f"{i + 1} {k + 1}")
        split.append(f"{i + 1} {1 if j % 2 == 0 else 0}")
    (root / "images.txt").write_text("\n".join(images) + "\n")
    (root / "image_class_labels.txt").write_text("\n".join(class_labels) + "\n")
    (root / "train_test_split.txt").write_text("\n".join(split) + "\n")
    (root / "classes.txt").write_text("".join(f"{k + 1} {f}\n" for k, f in enumerate(folders)))
    rows = cls.attrs[:classes]
    (root / "attributes" / "class_attribute_labels_continuous.txt").write_text(
        "".join(" ".join(f"{v:.6f}" for v in row) + "\n" for row in rows)
    )
    (root / "README").write_text("Synthetic images in the CUB-200-2011 layout (zslbench).\n")
    return root


def _sun_folders(classes: int, seed: int) -> list[str]:
    """Class folders like the SUN database's (``<letter>/<name>[/<sub>]``), in a seeded order
    that is not the sorted one (the loader numbers classes by sorted folder name)."""
    rng = class_rng("sun", seed, "folders")
    names = []
    for k in range(classes):
        letter = "abcdefghijklmnopqrstuvwxyz"[k % 26]
        name = f"{letter}/{letter}scene_{k:03d}"
        if k % 7 == 3:
            name += "/indoor" if k % 2 else "/outdoor"
        names.append(name)
    order = rng.permutation(classes)
    return [names[i] for i in order]


def write_sun_layout(
    data_root: str | os.PathLike,
    *,
    classes: int = 24,
    per_class: int = 20,
    image_size: int = 40,
    seed: int = 0,
    grayscale: int = 2,
    cmyk: int = 1,
) -> Path:
    """Write ``<data_root>/SUN/`` in the SUN Attribute DB layout: ``images/<class folder>/*.jpg``
    and ``SUNAttributeDB/{images.mat, attributeLabels_continuous.mat, attributes.mat}`` with
    per-image continuous labels (votes of 3 annotators: 0, 1/3, 2/3, 1); returns the SUN folder."""
    import scipy.io

    _check_counts("sun", classes, per_class, 1)
    root = Path(data_root) / "SUN"
    db = root / "SUNAttributeDB"
    db.mkdir(parents=True, exist_ok=True)
    cls = synthetic_classes("sun", seed)
    folders = _sun_folders(classes, seed)
    labels = np.repeat(np.arange(classes), per_class)
    rng = class_rng("sun", seed, "files")
    pixels = render_class_images(cls, labels, image_size, rng)
    modes = _modes(labels.size, grayscale, cmyk)
    names = []
    for i, k in enumerate(labels.tolist()):
        stem = "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), 16))
        rel = f"{folders[k]}/sun_{stem}.jpg"
        (root / "images" / folders[k]).mkdir(parents=True, exist_ok=True)
        (root / "images" / rel).write_bytes(_jpeg_bytes(pixels[i], modes[i]))
        names.append(rel)
    probs = cls.probs[labels]
    votes = np.clip(np.rint((probs + rng.normal(0.0, 0.15, probs.shape)) * 3.0), 0, 3) / 3.0
    cell = np.empty((len(names), 1), dtype=object)
    for i, n in enumerate(names):
        cell[i, 0] = n
    scipy.io.savemat(str(db / "images.mat"), {"images": cell})
    scipy.io.savemat(str(db / "attributeLabels_continuous.mat"), {"labels_cv": votes})
    attr_names = np.empty((SHAPES["sun"].attributes, 1), dtype=object)
    for a in range(attr_names.shape[0]):
        attr_names[a, 0] = f"synthetic attribute {a + 1}"
    scipy.io.savemat(str(db / "attributes.mat"), {"attributes": attr_names})
    return root


def write_archives(
    out_dir: str | os.PathLike, *, datasets: tuple[str, ...] = ("cub", "sun"), **kwargs
) -> dict[str, list[Path]]:
    """Write the datasets as the official archives unpack (``CUB_200_2011.tgz``;
    ``SUNAttributeDB_Images.tar.gz`` and ``SUNAttributeDB.tar.gz``) into ``out_dir``.

    ``kwargs`` go to :func:`write_cub_layout` / :func:`write_sun_layout`.  Returns
    {"cub": [path], "sun": [images archive, attribute archive]}."""
    import tempfile

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result: dict[str, list[Path]] = {}
    with tempfile.TemporaryDirectory(prefix=".synthetic-archives-", dir=out) as tmp_name:
        tmp = Path(tmp_name)
        if "cub" in datasets:
            root = write_cub_layout(tmp, **kwargs)
            names = tmp / "attributes.txt"  # the official archive has the attribute names at its top
            names.write_text(
                "".join(f"{a + 1} has_synthetic_attribute::{a + 1}\n" for a in range(SHAPES["cub"].attributes))
            )
            path = out / "CUB_200_2011.tgz"
            with tarfile.open(path, "w:gz") as tar:
                tar.add(root, arcname="CUB_200_2011")
                tar.add(names, arcname="attributes.txt")
            result["cub"] = [path]
        if "sun" in datasets:
            root = write_sun_layout(tmp, **kwargs)
            images = out / "SUNAttributeDB_Images.tar.gz"
            with tarfile.open(images, "w:gz") as tar:
                tar.add(root / "images", arcname="images")
            db = out / "SUNAttributeDB.tar.gz"
            with tarfile.open(db, "w:gz") as tar:
                tar.add(root / "SUNAttributeDB", arcname="SUNAttributeDB")
            result["sun"] = [images, db]
    return result


def main(argv: list[str] | None = None) -> None:
    """``python -m zslbench.data.images.synthetic_files OUT_DIR``: write synthetic archives."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("out_dir")
    parser.add_argument("--dataset", choices=["cub", "sun", "both"], default="both")
    parser.add_argument("--classes", type=int, default=None)
    parser.add_argument("--per-class", type=int, default=None)
    parser.add_argument("--image-size", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    kwargs = {"image_size": args.image_size, "seed": args.seed}
    if args.classes is not None:
        kwargs["classes"] = args.classes
    if args.per_class is not None:
        kwargs["per_class"] = args.per_class
    which = ("cub", "sun") if args.dataset == "both" else (args.dataset,)
    for name, paths in write_archives(args.out_dir, datasets=which, **kwargs).items():
        for path in paths:
            print(f"{name}: {path}")


if __name__ == "__main__":
    main()
