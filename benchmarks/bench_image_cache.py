"""Decoded-image cache of the image track: building it with 1 vs 2 decoding threads, the cost of
decoding vs resizing, and a cached load vs a build, side by side in one process.

The images are synthetic JPEGs of the size of CUB's (500 x 375, quality 90) written in the
official CUB layout into a temp folder; each arm builds the cache for ``--size`` (default 256)
in a fresh cache folder, arms interleaved over ``--reps`` repetitions; medians of images per
second (wall clock) and the ratio 2 threads / 1 thread.  The load average is printed with every
repetition (the machine is shared).

    python benchmarks/bench_image_cache.py            # 240 images, 3 repetitions
    python benchmarks/bench_image_cache.py --quick    # 48 images, 1 repetition
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from zslbench.data.images import cache as image_cache
from zslbench.data.images.sources import scan_cub


def write_dataset(root: Path, n: int) -> list[Path]:
    from PIL import Image

    from zslbench.data.images.synthetic import render_class_images, synthetic_classes
    from zslbench.data.images.synthetic_files import write_cub_layout

    classes = max(1, n // 4)
    cub = write_cub_layout(root, classes=classes, per_class=4, image_size=32, grayscale=0, cmyk=0)
    listing = scan_cub(cub)
    cls = synthetic_classes("cub", 0)
    pixels = render_class_images(cls, listing.labels, 500, np.random.default_rng(0))
    for path, img in zip(listing.paths(), pixels):
        Image.fromarray(img[:375]).save(path, format="JPEG", quality=90)
    return listing.paths()


def load() -> str:
    try:
        return "%.1f" % os.getloadavg()[0]
    except OSError:
        return "?"


def build(paths, size, workers, folder: Path) -> float:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    t = time.perf_counter()
    image_cache.build_or_open(paths, size, folder / "c.npy", "bench", progress=False, workers=workers)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=240)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.images, args.reps = 48, 1
    with tempfile.TemporaryDirectory(prefix="bench-image-cache-") as tmp:
        tmp = Path(tmp)
        paths = write_dataset(tmp / "data", args.images)
        mb = sum(p.stat().st_size for p in paths) / len(paths) / 1024
        print(
            f"{len(paths)} JPEGs of 500x375 ({mb:.0f} KiB each), cache at {args.size}px; "
            f"cores available: {len(os.sched_getaffinity(0))}"
        )
        rates = {1: [], 2: []}
        for rep in range(args.reps):
            for workers in (1, 2) if rep % 2 == 0 else (2, 1):
                sec = build(paths, args.size, workers, tmp / f"cache{workers}")
                rates[workers].append(len(paths) / sec)
                print(f"  rep {rep + 1}: {workers} thread(s): {len(paths) / sec:7.1f} images/s (load {load()})")
        one, two = statistics.median(rates[1]), statistics.median(rates[2])
        print(f"build, median: 1 thread {one:.1f} images/s, 2 threads {two:.1f} images/s, ratio 2/1 = {two / one:.2f}")
        # what one image costs: decoding vs resizing (1 thread, same images)
        from PIL import Image

        t = time.perf_counter()
        arrays = []
        for p in paths:
            with Image.open(p) as im:
                arrays.append(np.asarray(im.convert("RGB")))
        t_dec = time.perf_counter() - t
        t = time.perf_counter()
        for a in arrays:
            image_cache.resize_linear(a, args.size)
        t_res = time.perf_counter() - t
        print(
            f"per image: decode {1000 * t_dec / len(paths):.2f} ms, resize {1000 * t_res / len(paths):.2f} ms "
            f"(load {load()})"
        )
        # a cached load: open the memmap and read every byte
        path = tmp / "cache1" / "c.npy"
        t = time.perf_counter()
        arr = image_cache.build_or_open(paths, args.size, path, "bench", progress=False)
        total = int(np.asarray(arr).sum(dtype=np.uint64) % 7)
        t_load = time.perf_counter() - t
        print(
            f"cached load + read of all {arr.nbytes / 2**20:.0f} MiB: {t_load:.3f} s "
            f"= {len(paths) / t_load:.0f} images/s, {one * t_load / len(paths):.4f} of a 1-thread build "
            f"(checksum {total})"
        )


if __name__ == "__main__":
    main()
