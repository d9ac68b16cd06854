"""The settings every run trains under: torch's and numpy's BLAS threads, CUDA's determinism
and TF32 switches, subnormal floats flushed or not (:func:`numeric_context`).

A run id hashes the config (with its ``threads`` field), the data and the seed.  The same
run id gives bit-identical metrics on one machine and numeric stack, whatever launched it
(a single ``zslbench run``, a sweep with any ``--jobs``, SLURM), because every launcher
trains inside :func:`numeric_context` with the config's thread count.  Across machines the
numbers may differ in the last bits (another CPU instruction set, another MKL code path,
another torch): :func:`zslbench.environment.numeric_environment` records what determines
them, and :mod:`zslbench.replay` compares a replay with a record within tolerances.

Nothing here changes any setting at import time.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import Any

from zslbench.errors import ConfigError

# What cuBLAS needs for reproducible results (CUDA >= 10.2), set before its first use.
CUBLAS_WORKSPACE = ":4096:8"
CUBLAS_REPRODUCIBLE = (":4096:8", ":16:8")


# --------------------------------------------------------------------------- threads
def check_threads(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"threads={n!r}: expected a positive number of threads")
    return n


@contextlib.contextmanager
def numeric_context(
    threads: int, device: str = "cpu", cuda_tf32: bool = False, flush_denormal: bool | None = None
) -> Iterator[dict]:
    """Train inside this: torch's intra-op threads (which MKL and OpenMP follow) and numpy's
    BLAS threads set to `threads`; on CUDA the settings of :func:`cuda_reproducibility`
    applied (determinism, and TF32 only when `cuda_tf32`; ConfigError for `cuda_tf32` on a
    CPU); on a CPU subnormal floats flushed to zero on every one of the run's threads when
    `flush_denormal` (None: on a CPU, off on CUDA), on none otherwise, checked on the threads
    (:func:`zslbench.subnormal.set_run_mode`; ConfigError when it cannot be had; on CUDA
    `flush_denormal` must be off, :func:`zslbench.devices.check_flush_denormal`).  The
    caller's settings are restored afterwards.

    Inter-op threads are not touched here: torch lets a process set them once, before any
    inter-op work, so they could not be restored; they do not enter zslbench's numeric path
    (it never forks inter-op tasks), and the processes zslbench starts set them to one
    (:func:`claim_process_threads`).  Yields what was applied (for the record)."""
    import torch

    from zslbench.devices import check_cuda_tf32, check_flush_denormal, is_cuda
    from zslbench.subnormal import FLUSH, set_run_mode

    check_threads(threads)
    check_cuda_tf32(device, cuda_tf32)
    flush_denormal = not is_cuda(device) if flush_denormal is None else bool(flush_denormal)
    check_flush_denormal(device, flush_denormal, threads)
    before = torch.get_num_threads()
    flush_before = None if is_cuda(device) else flushes_denormals()
    restore_cuda = None
    applied: dict = {"threads": threads}
    torch.set_num_threads(threads)
    try:
        if is_cuda(device):
            restore_cuda, applied["cuda"] = _apply_cuda(cuda_tf32)
        else:
            applied["flush_denormal"] = set_run_mode(flush_denormal, threads) == FLUSH
        with blas_threads(threads) as applied["numpy_blas_limited"]:
            yield applied
    finally:
        torch.set_num_threads(before)
        if flush_before is not None and flush_before != flush_denormal:
            with contextlib.suppress(ConfigError):  # the caller's mode, on as many threads as can
                set_run_mode(flush_before, before)
        if restore_cuda is not None:
            restore_cuda()


def flushes_denormals() -> bool:
    """Whether this thread's CPU arithmetic treats subnormal floats as zero right now (torch
    has a switch for it but no getter): a subnormal float32 times 2 gives zero only then."""
    import torch

    return (torch.tensor([1e-40], dtype=torch.float32) * 2).item() == 0.0


@contextlib.contextmanager
def blas_threads(n: int) -> Iterator[bool]:
    """numpy's (and scipy's) BLAS limited to `n` threads in the block, through threadpoolctl.
    OpenBLAS picks other kernels for some shapes with more threads (measured: a float32
    [3000 x 8] @ [8 x 2048] product differs in its last bits between 1 and 2 threads), so
    anything computed with numpy's BLAS (the synthetic data) must not depend on how many
    threads the process happens to have.  Yields False when threadpoolctl is missing (then
    nothing is limited)."""
    check_threads(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield False
        return
    with threadpool_limits(limits=n, user_api="blas"):
        yield True


def claim_process_threads(threads: int = 1) -> None:
    """In a process zslbench owns (a pool worker, a SLURM task): intra-op threads to `threads`
    and, if torch still allows it, inter-op threads to 1."""
    import torch

    torch.set_num_threads(check_threads(threads))
    with contextlib.suppress(RuntimeError):
        torch.set_num_interop_threads(1)


# --------------------------------------------------------------------------- CUDA
def cuda_reproducibility(environ: Mapping[str, str], cuda_tf32: bool = False) -> dict:
    """What a reproducible CUDA run needs, as data (no side effects): environment variables to
    set (CUBLAS_WORKSPACE_CONFIG when unset) and the torch switches: deterministic algorithms,
    no cuDNN autotuning, and TF32 matmuls and convolutions only when `cuda_tf32` (torch's own
    default lets cuDNN convolutions use TF32, so "amp off" would not be float32)."""
    env: dict[str, str] = {}
    notes: list[str] = []
    current = environ.get("CUBLAS_WORKSPACE_CONFIG")
    if current is None:
        env["CUBLAS_WORKSPACE_CONFIG"] = CUBLAS_WORKSPACE
    elif current not in CUBLAS_REPRODUCIBLE:
        notes.append(
            f"CUBLAS_WORKSPACE_CONFIG={current!r} is not one of {', '.join(CUBLAS_REPRODUCIBLE)}: "
            "cuBLAS results may vary between runs (torch refuses such matmuls in deterministic mode)"
        )
    return {
        "set_env": env,
        "use_deterministic_algorithms": True,
        "cudnn_benchmark": False,
        "cudnn_deterministic": True,
        "matmul_tf32": bool(cuda_tf32),
        "cudnn_tf32": bool(cuda_tf32),
        "notes": notes,
    }


def _apply_cuda(cuda_tf32: bool = False):
    """Apply cuda_reproducibility(os.environ, cuda_tf32); return (restore, applied).  The
    environment variable stays set: cuBLAS reads it once, when its first handle is created."""
    import torch

    plan = cuda_reproducibility(os.environ, cuda_tf32)
    for key, value in plan["set_env"].items():
        os.environ[key] = value
    cudnn, matmul = torch.backends.cudnn, torch.backends.cuda.matmul
    before = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        cudnn.benchmark,
        cudnn.deterministic,
        matmul.allow_tf32,
        cudnn.allow_tf32,
    )
    # torch >= 2.9 keeps the same switches as fp32_precision strings too; restored as they were
    precision = [
        (m, m.fp32_precision)
        for m in (matmul, getattr(cudnn, "conv", None), getattr(cudnn, "rnn", None))
        if m is not None and hasattr(m, "fp32_precision")
    ]
    torch.use_deterministic_algorithms(plan["use_deterministic_algorithms"])
    cudnn.benchmark = plan["cudnn_benchmark"]
    cudnn.deterministic = plan["cudnn_deterministic"]
    matmul.allow_tf32 = plan["matmul_tf32"]
    cudnn.allow_tf32 = plan["cudnn_tf32"]

    def restore() -> None:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])
        cudnn.benchmark, cudnn.deterministic = before[2], before[3]
        matmul.allow_tf32, cudnn.allow_tf32 = before[4], before[5]
        for module, value in precision:
            module.fp32_precision = value

    return restore, plan
