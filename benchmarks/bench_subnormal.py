"""What subnormal floats cost on this CPU, and what `flush_denormal` gives back, side by side
in this one process, arms interleaved.

Part 1, a product: [256 x 1024] @ [1024 x 2048] float32 (a GZSL hidden layer on a batch), 20
products per call, with normal weights and with 15% of the weights subnormal, at 1 and 2 torch
threads, with subnormals flushed to zero (torch.set_flush_denormal) and without.  Set here after
the process's thread pool exists, the mode reaches only the calling thread at 2 threads; a run
sets it on every thread (zslbench.subnormal; benchmarks/bench_rates.py measures that).

Part 2 (`--run`), a whole run: a `paper`-profile GZSL run of mlp3 on full-size synthetic AwA1
(its deep layers' weights reach the subnormal range after some epochs), trained inside
zslbench.numerics.numeric_context(1) with and without flush_denormal, as a run is; training
seconds and whether the metrics, the per-epoch log and the final weights agree bit for bit.

Usage: python benchmarks/bench_subnormal.py [--quick] [--reps R] [--run] [--epochs E]
"""

from __future__ import annotations

import argparse
import sys

import _common  # noqa: F401  (puts the checkout first on sys.path)
import torch
from _common import interleaved, load_text, machine_header, median

from zslbench.data import load_dataset
from zslbench.numerics import flushes_denormals, numeric_context
from zslbench.tracks import make_config
from zslbench.train.gzsl import train_gzsl


def product_arms(n_products: int) -> dict:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(256, 1024, generator=gen)
    normal = torch.randn(1024, 2048, generator=gen) * 0.03
    subnormal = normal.clone()
    subnormal[:, :307] *= 1e-37  # 15% of the columns: magnitudes about 1e-39, below 1.2e-38

    def arm(w, threads, flush):
        def call():
            before = torch.get_num_threads()
            torch.set_num_threads(threads)
            torch.set_flush_denormal(flush)
            try:
                for _ in range(n_products):
                    x @ w
            finally:
                torch.set_flush_denormal(False)
                torch.set_num_threads(before)

        return call

    arms = {"normal@1": arm(normal, 1, False)}
    for threads in (1, 2):
        arms[f"subnormal@{threads}"] = arm(subnormal, threads, False)
        arms[f"subnormal@{threads}+flush"] = arm(subnormal, threads, True)
    return arms


def run_arms(epochs: int, scale: float, results: dict) -> dict:
    data = load_dataset("awa1", "synthetic", scale=scale)
    arms = {}
    for flush in (False, True):
        cfg = make_config("gzsl", "paper", {"epochs": epochs, "synthetic_scale": scale, "flush_denormal": flush})

        def call(cfg=cfg, flush=flush):
            with numeric_context(1, flush_denormal=flush):
                assert flushes_denormals() is flush
                result = train_gzsl(data, "mlp3", cfg, 1, progress=False)
            results.setdefault(flush, []).append(result)

        arms["mlp3-run+flush" if flush else "mlp3-run"] = call
    return arms


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--quick",
        action="store_true",
        help="smoke version: 2 products per call, 1 repetition; with --run, 10%% of the images and 3 epochs",
    )
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--run", action="store_true", help="also time whole GZSL runs (about 4 min on 1 core)")
    ap.add_argument("--epochs", type=int, default=50, help="epochs of the --run arms (default 50, the paper's)")
    args = ap.parse_args()
    reps = 1 if args.quick else args.reps
    machine_header("subnormal floats: products and runs with and without flush-to-zero, interleaved")

    wall, cpu = interleaved(product_arms(2 if args.quick else 20), reps)
    print(
        f"\npart 1: median CPU seconds per call of {2 if args.quick else 20} products "
        f"({reps} repetitions; end: {load_text()}):"
    )
    for name in wall:
        print(f"  {name:20s} cpu {median(cpu[name]):8.3f} s   wall {median(wall[name]):8.3f} s")
    for threads in (1, 2):
        slow, fast = median(cpu[f"subnormal@{threads}"]), median(cpu[f"subnormal@{threads}+flush"])
        print(f"  at {threads} thread(s): subnormal / subnormal+flush = {slow / fast:.1f}x (CPU time)")
    print(f"  at 1 thread: subnormal / normal = {median(cpu['subnormal@1']) / median(cpu['normal@1']):.1f}x")

    if args.run:
        scale, epochs = (0.1, 3) if args.quick else (1.0, args.epochs)
        results: dict = {}
        wall, cpu = interleaved(run_arms(epochs, scale, results), 1 if args.quick else min(reps, 2))
        print(
            f"\npart 2: mlp3 on synthetic AwA1 ({scale:.0%} of the images), paper profile, {epochs} epochs, "
            f"1 thread (end: {load_text()}):"
        )
        for name in wall:
            print(f"  {name:16s} whole call (median) {median(cpu[name]):8.1f} s CPU, {median(wall[name]):8.1f} s wall")
        print(f"  run / run+flush = {median(cpu['mlp3-run']) / median(cpu['mlp3-run+flush']):.2f}x (CPU time)")
        off, on = results[False][0], results[True][0]
        print(f"  same metrics bit for bit: {off.metrics == on.metrics}")
        print(f"  same per-epoch log: {off.epoch_log == on.epoch_log}; same trace: {off.trace.equals(on.trace)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
