"""The speed cost of the default `threads=1`: a run at 1 torch thread vs 2 (or --threads N),
side by side in this one process, arms interleaved.

Arms (each a whole call of the trainer under zslbench.numerics.numeric_context, as a run):
  gzsl@T   one `paper`-profile epoch of mlp3+cn on full-size synthetic SUN (10,320 images,
           645 seen classes, 41 steps of batch 256, the per-epoch test evaluation), traces on
  czsl@T   a CZSL agem+cn run on full-size synthetic CUB: the `paper` profile (10 tasks, batch 32)
           with 1 epoch per task instead of 10
Reported: median wall seconds per arm and the ratio (1 thread / N threads), with the load
average at every repetition: on a machine shared with other work, 2 threads only help when a
second core is free. The metrics of each arm are compared too (same or not, bit for bit).

Usage: python benchmarks/bench_threads.py [--quick] [--reps R] [--threads N] [--only gzsl|czsl]
"""

from __future__ import annotations

import argparse
import sys

import _common  # noqa: F401  (puts the checkout first on sys.path)
from _common import interleaved, load_text, machine_header, median

from zslbench.data import load_dataset
from zslbench.numerics import numeric_context
from zslbench.tracks import make_config
from zslbench.train.czsl import train_czsl
from zslbench.train.gzsl import train_gzsl


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke version: small data, 1 repetition")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2, help="the other arm's thread count (default 2)")
    ap.add_argument("--only", choices=("gzsl", "czsl"), default=None)
    args = ap.parse_args()
    reps = 1 if args.quick else args.reps
    scale = 0.1 if args.quick else 1.0
    machine_header(f"threads=1 vs threads={args.threads}, interleaved")

    arms, results = {}, {}
    if args.only in (None, "gzsl"):
        gcfg = make_config("gzsl", "paper", {"epochs": 1, "synthetic_scale": scale})
        gdata = load_dataset("sun", "synthetic", scale=scale)
        for t in (1, args.threads):

            def g(t=t):
                with numeric_context(t):
                    results[f"gzsl@{t}"] = train_gzsl(gdata, "mlp3+cn", gcfg, 1, progress=False).metrics

            arms[f"gzsl@{t}"] = g
    if args.only in (None, "czsl"):
        ccfg = make_config("czsl-features", "paper", {"epochs_per_task": 1, "synthetic_scale": scale})
        cdata = load_dataset("cub", "synthetic", scale=scale)
        for t in (1, args.threads):

            def c(t=t):
                with numeric_context(t):
                    results[f"czsl@{t}"] = train_czsl(cdata, "agem", ccfg, 1, classnorm=True, progress=False).metrics

            arms[f"czsl@{t}"] = c
    wall, cpu = interleaved(arms, reps)
    print(f"\nmedian wall seconds per call ({reps} repetitions; end: {load_text()}):")
    for kind in ("gzsl", "czsl"):
        one, many = f"{kind}@1", f"{kind}@{args.threads}"
        if one not in wall:
            continue
        a, b = median(wall[one]), median(wall[many])
        print(
            f"  {kind}: 1 thread {a:.2f} s, {args.threads} threads {b:.2f} s; "
            f"1 thread / {args.threads} threads = {a / b:.2f} (cpu {median(cpu[one]):.2f} s vs {median(cpu[many]):.2f} s)"
        )
        print(f"    same metrics at both thread counts: {results[one] == results[many]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
