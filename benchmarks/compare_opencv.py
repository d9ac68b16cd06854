"""How close the image track's decoding and resizing are to the authors' OpenCV pipeline
(``cv2.imread`` then ``cv2.resize(..., INTER_LINEAR)``), measured on generated JPEGs.

OpenCV is not a dependency of zslbench; run this with a Python that has numpy, Pillow and
``opencv-python-headless``, from the repository root, e.g.

    python -m venv /tmp/cv && /tmp/cv/bin/pip install opencv-python-headless pillow
    PYTHONPATH=. /tmp/cv/bin/python benchmarks/compare_opencv.py

It prints, per case, the largest absolute difference in grey levels and the share of values
that differ at all: resizing alone (same input array), and the whole path from a JPEG file
(RGB, grayscale, CMYK) to the 256 x 256 array (beside Pillow's own CMYK conversion, which
zslbench does not use).
"""

from __future__ import annotations

import io
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2
import numpy as np
from PIL import Image

from zslbench.data.images.cache import decode_image, resize_linear
from zslbench.data.images.synthetic import render_class_images, synthetic_classes


def diff(a: np.ndarray, b: np.ndarray) -> str:
    d = np.abs(a.astype(np.int32) - b.astype(np.int32))
    return f"max |diff| {int(d.max())}, differing values {100.0 * (d > 0).mean():.3f}%"


def main() -> None:
    rng = np.random.default_rng(0)
    print(f"OpenCV {cv2.__version__}, Pillow {Image.__version__}, numpy {np.__version__}")
    print("resize only (random pixels and rendered pictures):")
    cls = synthetic_classes("cub", 0)
    pictures = render_class_images(cls, np.arange(4), 500, rng)
    for (h, w), size in [
        ((375, 500), 256),
        ((500, 375), 256),
        ((333, 500), 256),
        ((120, 90), 256),
        ((375, 500), 32),
        ((256, 256), 224),
        ((77, 300), 256),
        ((31, 17), 256),
        ((1000, 20), 64),
        ((2, 3), 256),
        ((256, 256), 256),
    ]:
        noise = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        picture = np.ascontiguousarray(pictures[0][:h, :w]) if h <= 500 and w <= 500 else noise
        for name, img in (("noise", noise), ("picture", picture)):
            ref = cv2.resize(img, (size, size), interpolation=cv2.INTER_LINEAR)
            print(f"  {name:7s} {h}x{w} -> {size}: {diff(resize_linear(img, size), ref)}")
    print("decode and the whole path (JPEG quality 90):")
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("RGB", "L", "CMYK"):
            for k in range(3):
                im = Image.fromarray(np.ascontiguousarray(pictures[k + 1][:375])).convert(mode)
                path = Path(tmp) / f"{mode}{k}.jpg"
                buf = io.BytesIO()
                im.save(buf, format="JPEG", quality=90)
                path.write_bytes(buf.getvalue())
                bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
                with Image.open(path) as src:
                    pil = np.asarray(src.convert("RGB"))
                whole_ref = cv2.resize(bgr, (256, 256), interpolation=cv2.INTER_LINEAR)[..., ::-1]
                print(
                    f"  {mode:4s} #{k}: Pillow's own convert('RGB') vs cv2.imread: "
                    f"{diff(pil, bgr[..., ::-1])}; zslbench, file -> 256x256: "
                    f"{diff(decode_image(path, 256), whole_ref)}"
                )


if __name__ == "__main__":
    main()
