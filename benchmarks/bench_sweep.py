"""Sweep throughput: wall time of `zslbench run --all --profile quick` and
the CPU utilisation of the local executor (goal: >= 180% with 2 jobs on 2 cores, without
oversubscription: each worker runs cores // jobs torch threads).

Usage:
    python benchmarks/bench_sweep.py            # the whole quick grid (80 runs)
    python benchmarks/bench_sweep.py --quick    # GZSL on CUB and AwA1 only (20 runs)
    python benchmarks/bench_sweep.py --jobs 1 --jobs 2   # compare job counts side by side

Each sweep runs in a fresh results folder, in a child process; CPU time is that of the child
and its workers (RUSAGE_CHILDREN), so utilisation = CPU seconds / wall seconds (200% = both
cores busy all the time). Other load on the machine lowers the figure: the script prints the
load average before and after.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_sweep(args: list[str], jobs: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="zslbench-bench-sweep-") as tmp:
        cmd = [
            sys.executable,
            "-m",
            "zslbench",
            "run",
            "--all",
            "--profile",
            "quick",
            "--jobs",
            str(jobs),
            "--results",
            str(Path(tmp) / "results"),
            *args,
        ]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            sys.exit(f"sweep failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
        runs = len(list((Path(tmp) / "results" / "runs").glob("*/done")))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"jobs": jobs, "runs": runs, "wall": wall, "cpu": cpu, "util": 100 * cpu / wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="GZSL on CUB and AwA1 only")
    parser.add_argument("--jobs", type=int, action="append", help="job counts to measure (default: 2)")
    opts = parser.parse_args()
    filters = ["--only", "gzsl", "--datasets", "cub,awa1"] if opts.quick else []
    print(f"cores: {os.cpu_count()}  load average before: {os.getloadavg()[0]:.2f}")
    print(f"command: zslbench run --all --profile quick {' '.join(filters)} --jobs N")
    print(f"{'jobs':>4} {'runs':>5} {'wall (s)':>9} {'CPU (s)':>8} {'CPU util':>9}")
    for jobs in opts.jobs or [2]:
        r = run_sweep(filters, jobs)
        print(f"{r['jobs']:>4} {r['runs']:>5} {r['wall']:>9.1f} {r['cpu']:>8.1f} {r['util']:>8.0f}%")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print("goal: CPU utilisation >= 180% with 2 jobs on 2 cores")


if __name__ == "__main__":
    main()
