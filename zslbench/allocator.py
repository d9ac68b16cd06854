"""Freed memory kept in the process instead of handed back to the operating system.

glibc's malloc serves a large block (above its mmap threshold, at most 32 MiB when it adjusts
the threshold itself) with a fresh ``mmap`` and returns it with ``munmap`` when it is freed, and
it trims the top of the heap above 128 KiB of free space.  A training step that allocates and
frees the same large tensors every time (f-CLSWGAN's 4096 x 2048 layers: 32 MiB each, with
their gradients and the gradient penalty's) then pays page faults and zeroing by the kernel on
every step: measured on the 2-core Xeon, a one-GAN-epoch f-CLSWGAN run on synthetic CUB at 30 %
of its size spent 19.6 of its 66 CPU seconds in the kernel; with the settings below 1.2 of 53,
with the same run id and metrics (``benchmarks/bench_allocator.py`` measures it side by side).

The settings (``mallopt``) change where memory comes from, never a number a run computes.  They
cost resident memory: freed blocks stay in the process (that run: 1.39 -> 1.64 GB at its peak).
``ZSLBENCH_MALLOC=default`` leaves glibc's behaviour as it is; on a C library without
``mallopt`` (musl, macOS) nothing is changed.
"""

from __future__ import annotations

import ctypes
import os

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
SETTINGS = {
    M_MMAP_THRESHOLD: 1 << 30,  # blocks up to 1 GiB come from the heap, not from a fresh mmap
    M_TRIM_THRESHOLD: 1 << 30,  # the heap's free top is given back above 1 GiB only
    M_TOP_PAD: 64 << 20,  # and grows by 64 MiB at a time
}


def keep_freed_memory() -> bool:
    """Apply :data:`SETTINGS` to this process's malloc; True when all were taken."""
    if os.environ.get("ZSLBENCH_MALLOC", "").strip().lower() == "default":
        return False
    try:  # the process's own symbols include its C library's (no ldconfig lookup at start-up)
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return all(mallopt(param, value) == 1 for param, value in SETTINGS.items())
