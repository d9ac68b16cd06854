"""Subnormal floats flushed to zero on every thread of a CPU run, or on none.

``torch.set_flush_denormal`` sets the floating-point mode (on x86 the FTZ and DAZ bits of
MXCSR) of the calling thread only.  A thread starts with the mode of the thread that creates
it, so the intra-op threads (OpenMP's pool, on which MKL's sgemm runs too) flush when the mode
is set before the process's first parallel operation: every process zslbench starts does that
(:func:`flush_at_process_start`).  Where the pool exists already in another mode (the Python
API, a notebook, a run with ``flush_denormal=false`` after one without), :func:`set_run_mode`
runs one parallel region of the pool in which each thread sets its own mode (GNU OpenMP, the
runtime of torch's Linux wheels), and :func:`thread_modes` checks the result on the pool's
threads.  A run whose threads do not all end up in its mode is refused with one line; it never
trains with half of its threads flushing.

The check is arithmetic, not a flag: a subnormal float32 times 2 (ATen's parallel elementwise
loop, one slice per thread) and a product of 1e-20 entries whose sums are subnormal (MKL's
sgemm) are all zero exactly when every thread that computed them flushes, and none is zero when
none flushes.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable

from zslbench.errors import ConfigError

FLUSH, NO_FLUSH, MIXED = "every thread", "no thread", "some threads"
_SLICE = 1 << 16  # elements per thread in the elementwise probe (above ATen's grain size)


def flush_at_process_start() -> bool:
    """In a process zslbench starts (the command line, a sweep worker, a SLURM task), before any
    parallel torch operation: subnormal floats flushed on this thread, so that the intra-op
    threads created later start flushing too (the default of a CPU run).  False where torch
    cannot flush on this CPU."""
    import torch

    return bool(torch.set_flush_denormal(True))


def _zero_share(values) -> tuple[bool, bool]:
    import torch

    zero = values.reshape(-1).view(torch.int32) == 0  # the bits: DAZ would read a subnormal as 0
    return bool(zero.all()), bool(zero.any())


def thread_modes(threads: int) -> str:
    """FLUSH, NO_FLUSH or MIXED: how the threads of a `threads`-wide parallel operation treat
    subnormal floats right now (torch's intra-op threads set to `threads` by the caller)."""
    import torch

    tiny = torch.full((threads * _SLICE,), 1e-40, dtype=torch.float32)
    a = torch.full((256 * threads, 64), 1e-20, dtype=torch.float32)
    b = torch.full((64, 512), 1e-20, dtype=torch.float32)
    shares = [_zero_share(tiny * 2), _zero_share(a @ b)]
    if all(every for every, _ in shares):
        return FLUSH
    if not any(some for _, some in shares):
        return NO_FLUSH
    return MIXED


@functools.lru_cache(maxsize=1)
def _gomp():
    """GOMP_parallel of the OpenMP runtime this process loaded (None: another runtime)."""
    try:
        maps = open("/proc/self/maps").read().splitlines()
    except OSError:
        return None
    paths = [line.split()[-1] for line in maps if "libgomp" in line.rsplit("/", 1)[-1]]
    if not paths:
        return None
    try:
        parallel = ctypes.CDLL(paths[0]).GOMP_parallel
    except (OSError, AttributeError):
        return None
    callback = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
    parallel.argtypes = [callback, ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint]
    parallel.restype = None
    return parallel, callback


def on_each_thread(threads: int, fn: Callable[[], object]) -> bool:
    """fn() once on each thread of a `threads`-wide team of the process's OpenMP pool (the
    threads torch and MKL compute on); False when the runtime is not GNU OpenMP."""
    gomp = _gomp()
    if gomp is None:
        return False
    parallel, callback = gomp
    cb = callback(lambda _: fn())
    parallel(cb, None, threads, 0)
    return True


def set_run_mode(flush: bool, threads: int) -> str:
    """Put every intra-op thread of a `threads`-wide run in mode `flush` (torch's intra-op
    threads already set to `threads`) and check it; the mode reached (FLUSH / NO_FLUSH).
    ConfigError (one line) when it cannot be reached on every thread."""
    import torch

    wanted = FLUSH if flush else NO_FLUSH
    if not torch.set_flush_denormal(flush) and flush:
        raise ConfigError(
            "flush_denormal=true: torch cannot flush subnormal floats on this CPU; run with --set flush_denormal=false"
        )
    mode = thread_modes(threads)
    if mode != wanted and threads > 1:
        on_each_thread(threads, lambda: torch.set_flush_denormal(flush))
        mode = thread_modes(threads)
    if mode != wanted:
        what = "flush" if flush else "keep"
        raise ConfigError(
            f"flush_denormal={str(flush).lower()}: not all {threads} torch threads of this process {what} "
            f"subnormal floats ({mode} flush), and torch changes the calling thread only; "
            "run it in a fresh process (zslbench run)"
        )
    return mode
