"""Data loading speed: generating full-size synthetic SUN (goal < 5 s) and loading full-size
xlsa17 SUN features from a data folder (goal < 10 s, the page cache warm).

Each repetition generates SUN (14,340 x 2048 features) from scratch
(zslbench.data.features.synthetic.make_synthetic after clear_cache, no disk cache) and, when
--data-dir holds xlsa17/data/SUN (or SUN) with res101.mat and att_splits.mat, loads it with
zslbench.data.load_dataset(..., "xlsa17") after one warm-up load.

Usage: python benchmarks/bench_load.py [--reps N] [--data-dir PATH]
"""

from __future__ import annotations

import argparse
import time

import _common  # noqa: F401
from _common import load_text, machine_header, median, verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--data-dir", default=None, help="a folder with the xlsa17 SUN files")
    args = parser.parse_args()
    machine_header("data loading: full-size SUN")

    from zslbench.data import load_dataset
    from zslbench.data.features.synthetic import clear_cache, make_synthetic

    gen = []
    for r in range(args.reps):
        clear_cache()
        t0 = time.perf_counter()
        data = make_synthetic("sun", scale=1.0, seed=0)
        gen.append(time.perf_counter() - t0)
        print(f"  rep {r + 1}/{args.reps} synthetic SUN {data.features.shape}: {gen[-1]:.2f} s ({load_text()})")
    print(f"generate synthetic SUN: median {median(gen):.2f} s; {verdict(median(gen) < 5.0)} (goal < 5 s)")

    if args.data_dir is None:
        print("xlsa17 SUN: not measured (no --data-dir)")
        return
    load_dataset("sun", "xlsa17", args.data_dir)  # warm the page cache and the hash cache
    times = []
    for r in range(args.reps):
        t0 = time.perf_counter()
        data = load_dataset("sun", "xlsa17", args.data_dir)
        times.append(time.perf_counter() - t0)
        print(f"  rep {r + 1}/{args.reps} xlsa17 SUN {data.features.shape}: {times[-1]:.2f} s ({load_text()})")
    print(f"load xlsa17 SUN: median {median(times):.2f} s; {verdict(median(times) < 10.0)} (goal < 10 s)")


if __name__ == "__main__":
    main()
