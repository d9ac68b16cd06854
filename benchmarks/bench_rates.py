"""Each track's paper-profile arithmetic rate against sgemm at the run's thread count, and what
flushing subnormal floats (the default of a CPU run) is worth, side by side in one process.

For each thread count (default 1 and 2):

* sgemm: GFLOP/s of a [256 x 1024] @ [1024 x 2048] float32 product (a GZSL hidden layer on a
  batch), the bound a run's matmuls could reach;
* step: one product with 15% of its weights subnormal, under zslbench.numerics.numeric_context
  with ``flush_denormal`` off and on: the ratio off / on (on every thread: at 2 threads too);
* whole run: a paper-profile GZSL run of ``mlp3`` and of ``mlp3+eq9`` (the same FLOPs) on
  synthetic AwA1 with the default settings (flushing), their matmul FLOPs counted by
  torch.utils.flop_counter on a one-epoch run and scaled to the epochs trained: FLOP rate,
  share of sgemm's, and the time ratio mlp3 / mlp3+eq9 (a ratio near 1 says no run pays for
  subnormal arithmetic);
* with ``--czsl``: a paper-profile features-track CZSL run (``--czsl-method``, ClassNorm,
  ``--czsl-dataset``, default CUB) the same way (``--czsl-only``: without the GZSL arms).

Ratios and shares are what to compare across machines; absolute times depend on the machine and
its load (printed with each figure).  Wall time of single-threaded runs on a loaded machine
mostly measures the share of a core the scheduler gave; CPU time is printed beside it.

Usage: python benchmarks/bench_rates.py [--threads 1,2] [--epochs 50] [--scale 1.0] [--czsl]
       [--czsl-method M] [--czsl-dataset D] [--czsl-only]
       [--quick]   (smoke version: 10% of the images, 2 epochs)
"""

from __future__ import annotations

import argparse
import sys
import time

import _common  # noqa: F401  (puts the checkout first on sys.path)
import torch
from _common import load_text, machine_header, median

from zslbench.data import load_dataset
from zslbench.numerics import numeric_context
from zslbench.tracks import make_config


def timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def sgemm_gflops(threads: int, reps: int = 20) -> tuple[float, float]:
    """(GFLOP per wall second, GFLOP per CPU second) of the product at `threads` threads."""
    gen = torch.Generator().manual_seed(0)
    x, w = torch.randn(256, 1024, generator=gen), torch.randn(1024, 2048, generator=gen) * 0.03
    flops = 2 * 256 * 1024 * 2048 * reps / 1e9
    with numeric_context(threads):
        x @ w
        times = [timed(lambda: [x @ w for _ in range(reps)])[1:] for _ in range(3)]
    return flops / median([t[0] for t in times]), flops / median([t[1] for t in times])


def step_ratio(threads: int, reps: int = 5) -> float:
    gen = torch.Generator().manual_seed(0)
    x, w = torch.randn(256, 1024, generator=gen), torch.randn(1024, 2048, generator=gen) * 0.03
    w[:, :307] *= 1e-37  # 15% of the columns subnormal
    out = {}
    for flush in (False, True):
        with numeric_context(threads, flush_denormal=flush):
            x @ w
            out[flush] = median([timed(lambda: [x @ w for _ in range(reps)])[1] for _ in range(3)])
    return out[False] / out[True]


def counted_flops(fn) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


def gzsl_arm(data, model: str, threads: int, epochs: int, scale: float) -> dict:
    from zslbench.train.gzsl import train_gzsl

    cfg = make_config("gzsl", "paper", {"epochs": epochs, "synthetic_scale": scale, "threads": threads})
    one = make_config("gzsl", "paper", {"epochs": 1, "synthetic_scale": scale, "threads": threads})
    with numeric_context(threads, flush_denormal=cfg.flush_denormal):
        flops = counted_flops(lambda: train_gzsl(data, model, one, 1, progress=False)) * epochs
        result, wall, cpu = timed(lambda: train_gzsl(data, model, cfg, 1, progress=False))
    return {"flops": flops, "wall": wall, "cpu": cpu, "train": result.train_seconds}


def czsl_arm(data, method: str, threads: int) -> dict:
    from zslbench.train.czsl import train_czsl

    cfg = make_config("czsl-features", "paper", {"threads": threads})
    with numeric_context(threads, flush_denormal=cfg.flush_denormal):
        result, wall, cpu = timed(lambda: train_czsl(data, method, cfg, 1, classnorm=True, progress=False))
        flops = counted_flops(lambda: train_czsl(data, method, cfg, 1, classnorm=True, progress=False))
    return {"flops": flops, "wall": wall, "cpu": cpu, "train": result.train_seconds}


def report(label: str, arm: dict, gflops: tuple[float, float]) -> None:
    """The run's matmul FLOPs per wall second and per CPU second, each as a share of sgemm's."""
    wall, cpu = arm["flops"] / arm["wall"] / 1e9, arm["flops"] / arm["cpu"] / 1e9
    print(
        f"  {label:26s} {arm['flops'] / 1e9:8.1f} GFLOP in {arm['wall']:7.1f} s wall, {arm['cpu']:7.1f} s CPU: "
        f"{wall / gflops[0]:5.1%} of sgemm's rate (wall), {cpu / gflops[1]:5.1%} (CPU) ({load_text()})"
    )
    sys.stdout.flush()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--epochs", type=int, default=50, help="GZSL epochs (default 50, the paper profile's)")
    ap.add_argument("--scale", type=float, default=1.0, help="share of the real dataset sizes (default 1)")
    ap.add_argument("--czsl", action="store_true", help="also a features-track CZSL run per thread count")
    ap.add_argument("--czsl-method", default="sequential", help="comma-separated methods")
    ap.add_argument("--czsl-dataset", default="cub")
    ap.add_argument("--czsl-only", action="store_true", help="only the CZSL arms (implies --czsl)")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.epochs, args.scale = 2, 0.1
    threads = [int(t) for t in args.threads.split(",")]
    args.czsl = args.czsl or args.czsl_only
    machine_header("arithmetic rates against sgemm; flushing subnormal floats (the default) on and off")
    awa1 = None if args.czsl_only else load_dataset("awa1", "synthetic", scale=args.scale)
    czsl_data = load_dataset(args.czsl_dataset, "synthetic", scale=args.scale) if args.czsl else None
    for t in threads:
        gflops = sgemm_gflops(t)
        print(
            f"\n{t} thread(s): sgemm {gflops[0]:.1f} GFLOP per wall s, {gflops[1]:.1f} per CPU s; "
            "step with 15% subnormal weights, "
            f"flush off / on = {step_ratio(t):.1f}x ({load_text()})"
        )
        if awa1 is not None:
            arms = {m: gzsl_arm(awa1, m, t, args.epochs, args.scale) for m in ("mlp3", "mlp3+eq9")}
            for model, arm in arms.items():
                report(f"gzsl {model} awa1 {args.epochs} ep", arm, gflops)
            print(
                f"  time ratio mlp3 / mlp3+eq9: {arms['mlp3']['wall'] / arms['mlp3+eq9']['wall']:.2f} wall, "
                f"{arms['mlp3']['cpu'] / arms['mlp3+eq9']['cpu']:.2f} CPU"
            )
        for method in args.czsl_method.split(",") if czsl_data is not None else []:
            report(f"czsl {method}+cn {args.czsl_dataset}", czsl_arm(czsl_data, method, t), gflops)
    return 0


if __name__ == "__main__":
    sys.exit(main())
