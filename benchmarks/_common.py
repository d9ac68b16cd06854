"""Shared helpers of the benchmark scripts: machine description, load, interleaved timing.

The scripts measure the checkout they live in: the repository root is put first on
sys.path, so `python benchmarks/<script>.py` needs no installed zslbench of the same version.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_text() -> str:
    try:
        one, five, fifteen = os.getloadavg()
        return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"
    except OSError:
        return "load average unavailable"


def machine_header(title: str) -> None:
    import numpy
    import torch

    import zslbench

    print(f"== {title}")
    print(
        f"machine: {cpu_model()}, {os.cpu_count()} CPUs; torch {torch.__version__} "
        f"(default threads {torch.get_num_threads()}), numpy {numpy.__version__}, "
        f"python {platform.python_version()}"
    )
    print(f"zslbench from {Path(zslbench.__file__).parent}")
    print(f"start: {load_text()}")
    sys.stdout.flush()


def interleaved(arms: dict, reps: int, log=print) -> tuple[dict, dict]:
    """Time each arm (a zero-argument callable) `reps` times, interleaved A B C A B C ...;
    the order rotates every repetition so no arm always runs first.

    Returns (wall, cpu): seconds per call by arm, wall clock (time.perf_counter) and CPU time
    of this process (time.process_time, all its threads). On a shared machine the wall clock
    of a call mostly measures the share of a core the scheduler gave it; the CPU time of a
    single-threaded process measures its own work."""
    names = list(arms)
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    for r in range(reps):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            w0, c0 = time.perf_counter(), time.process_time()
            arms[name]()
            cpu[name].append(time.process_time() - c0)
            wall[name].append(time.perf_counter() - w0)
            log(f"  rep {r + 1}/{reps} {name}: wall {wall[name][-1]:.3f} s, cpu {cpu[name][-1]:.3f} s ({load_text()})")
            sys.stdout.flush()
    return wall, cpu


def median(xs) -> float:
    return statistics.median(xs)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"
