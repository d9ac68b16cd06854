"""``zslbench data check`` for the image track: cub-images, sun-images, resnet18-imagenet."""

from __future__ import annotations

from pathlib import Path

from zslbench.data.images.real import ImageCheck, check_images
from zslbench.errors import DataError

IMAGE_CHECKS = ("cub-images", "sun-images", "resnet18-imagenet")

__all__ = ["IMAGE_CHECKS", "check_image_data", "found_image_data"]


def found_image_data(data_dir: Path) -> list[str]:
    """The image-track items present in ``data_dir`` (their folder or file exists)."""
    from zslbench.data.images import BACKBONE_DIR, BACKBONE_FILE, CUB_DIR, SUN_DIR

    root = Path(data_dir)
    present = {
        "cub-images": (root / CUB_DIR).is_dir(),
        "sun-images": (root / SUN_DIR).is_dir(),
        "resnet18-imagenet": (root / BACKBONE_DIR / BACKBONE_FILE).exists(),
    }
    return [name for name in IMAGE_CHECKS if present[name]]


def check_image_data(name: str, data_dir: Path, *, progress: bool | None = None) -> ImageCheck:
    """One row of ``data check``: status ok / warn (counts other than the official ones) / fail."""
    if name == "resnet18-imagenet":
        from zslbench.data.images import BACKBONE_DIR, BACKBONE_FILE
        from zslbench.data.images.fetch import check_checkpoint

        path = Path(data_dir) / BACKBONE_DIR / BACKBONE_FILE
        try:
            digest = check_checkpoint(path)
        except DataError as exc:
            return ImageCheck(name, "fail", message=str(exc))
        return ImageCheck(name, "ok", split="-", attr_source="-", message=f"{path}: sha256 {digest}")
    if name not in IMAGE_CHECKS:
        raise DataError(f"--dataset: unknown image dataset {name!r}; valid: {', '.join(IMAGE_CHECKS)}")
    return check_images(name.split("-")[0], Path(data_dir), decode=True, progress=progress)
