"""What a run's numbers depend on besides its run id, and the settings every run trains under.

A run id hashes the config (with its ``threads`` field), the data and the seed.  The same
run id gives bit-identical metrics on one machine and numeric stack, whatever launched it
(a single ``zslbench run``, a sweep with any ``--jobs``, SLURM), because every launcher
trains inside :func:`numeric_context` with the config's thread count.  Across machines the
numbers may differ in the last bits (another CPU instruction set, another MKL code path,
another torch): :func:`numeric_environment` records what determines them, and
:mod:`zslbench.replay` compares a replay with a record within tolerances.

Nothing here changes any setting at import time.
"""

from __future__ import annotations

import contextlib
import functools
import os
import platform
import re
import weakref
from pathlib import Path
from typing import Any, Iterator, Mapping

from zslbench.errors import ConfigError

# Environment variables that change which kernels the math libraries run (compared by replays).
NUMERIC_ENV_VARS = (
    "MKL_CBWR", "MKL_ENABLE_INSTRUCTIONS", "MKL_DEBUG_CPU_TYPE", "OPENBLAS_CORETYPE", "ATEN_CPU_CAPABILITY",
    "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "KMP_DETERMINISTIC_REDUCTION", "CUBLAS_WORKSPACE_CONFIG",
    "NVIDIA_TF32_OVERRIDE",
)
# Thread-count variables: recorded, not compared (a run sets its own threads; the sweep's
# workers set these for what they do outside a run).
THREAD_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "MKL_DYNAMIC", "OPENBLAS_NUM_THREADS",
                   "CUDA_VISIBLE_DEVICES", "SLURM_CPUS_PER_TASK")

# What cuBLAS needs for reproducible results (CUDA >= 10.2), set before its first use.
CUBLAS_WORKSPACE = ":4096:8"
CUBLAS_REPRODUCIBLE = (":4096:8", ":16:8")


# --------------------------------------------------------------------------- threads
def check_threads(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"threads={n!r}: expected a positive number of threads")
    return n


@contextlib.contextmanager
def numeric_context(threads: int, device: str = "cpu", cuda_tf32: bool = False,
                    flush_denormal: bool | None = None) -> Iterator[dict]:
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
        notes.append(f"CUBLAS_WORKSPACE_CONFIG={current!r} is not one of {', '.join(CUBLAS_REPRODUCIBLE)}: "
                     "cuBLAS results may vary between runs (torch refuses such matmuls in deterministic mode)")
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
    before = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
              cudnn.benchmark, cudnn.deterministic, matmul.allow_tf32, cudnn.allow_tf32)
    # torch >= 2.9 keeps the same switches as fp32_precision strings too; restored as they were
    precision = [(m, m.fp32_precision) for m in (matmul, getattr(cudnn, "conv", None), getattr(cudnn, "rnn", None))
                 if m is not None and hasattr(m, "fp32_precision")]
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


# --------------------------------------------------------------------------- the data's bits
_CONTENT_HASHES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # data object -> digest


def data_content_sha256(data) -> str:
    """SHA-256 of a dataset's arrays (features, labels, attributes, splits), cached per data
    object.  The synthetic data's fingerprint hashes the generator's parameters; this says
    whether the generated bits are the same (numpy's BLAS differs between machines)."""
    import hashlib

    import numpy as np

    try:
        return _CONTENT_HASHES[data]
    except (KeyError, TypeError):
        pass
    h = hashlib.sha256()
    if hasattr(data, "images"):  # the image track's ImageData: pixels, labels, attributes, splits
        arrays = {"images": data.images, "labels": data.labels, "attrs": data.attrs,
                  **{f"split_{k}": v for k, v in sorted(data.splits.items())}}
    else:
        arrays = {name: getattr(data, name) for name in (
            "features", "labels", "attrs", "trainval_idx", "test_seen_idx", "test_unseen_idx",
            "seen_classes", "unseen_classes")}
    for name, value in arrays.items():
        arr = np.ascontiguousarray(value)
        h.update(f"{name}:{arr.dtype.str}:{arr.shape}".encode())
        h.update(arr.data.cast("B"))
    digest = h.hexdigest()
    with contextlib.suppress(TypeError):
        _CONTENT_HASHES[data] = digest
    return digest


# --------------------------------------------------------------------------- the environment
def _cpuinfo() -> dict:
    """vendor, model name and flags of the first CPU (Linux /proc/cpuinfo; else platform)."""
    out: dict[str, Any] = {"vendor": None, "model": None, "flags": set()}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key == "vendor_id" and out["vendor"] is None:
            out["vendor"] = value
        elif key == "model name" and out["model"] is None:
            out["model"] = value
        elif key in ("flags", "Features") and not out["flags"]:
            out["flags"] = set(value.split())
        if out["vendor"] and out["model"] and out["flags"]:
            break
    if out["model"] is None:
        out["model"] = platform.processor() or platform.machine()
    return out


def cpu_isa(flags: set[str]) -> str | None:
    """The widest x86 vector extension the CPU reports (None: unknown or not x86)."""
    for name, flag in (("AVX512", "avx512f"), ("AVX2", "avx2"), ("AVX", "avx"), ("SSE4.2", "sse4_2")):
        if flag in flags:
            return name
    return None


@functools.lru_cache(maxsize=1)
def _torch_build() -> dict:
    """MKL and oneDNN versions from torch's build description."""
    import torch

    try:
        text = torch.__config__.show()
    except Exception:  # noqa: BLE001 - a build without it: versions unknown
        text = ""
    mkl = re.search(r"Math Kernel Library Version ([0-9][0-9.]*)", text)
    dnn = re.search(r"(?:MKL-DNN|oneDNN)[^\n]*?v([0-9][0-9.]*)", text)
    blas = re.search(r"BLAS_INFO=([A-Za-z0-9_]+)", text)
    return {
        "mkl": mkl.group(1).rstrip(".") if mkl and torch.backends.mkl.is_available() else None,
        "onednn": dnn.group(1).rstrip(".") if dnn and torch.backends.mkldnn.is_available() else None,
        "torch_blas": blas.group(1) if blas else None,
    }


def numpy_blas() -> dict | None:
    """numpy's BLAS: threadpoolctl's view where installed (library, version, kernel
    architecture, threads), else numpy's build configuration."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        threadpool_info = None
    if threadpool_info is not None:
        import numpy  # noqa: F401  (loads its BLAS, so threadpoolctl sees it)

        for lib in threadpool_info():
            if lib.get("user_api") == "blas" and "numpy" in str(lib.get("filepath", "")):
                return {"name": lib.get("internal_api"), "version": lib.get("version"),
                        "architecture": lib.get("architecture"), "threads": lib.get("num_threads"),
                        "source": "threadpoolctl"}
    try:
        import numpy

        config = numpy.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return {"name": blas.get("name"), "version": blas.get("version"), "source": "numpy.show_config"}
    except Exception:  # noqa: BLE001 - older numpy: unknown
        return None


def numeric_environment(device: str = "cpu") -> dict:
    """What determines the numbers of a run on this machine, right now (threads as set)."""
    import numpy
    import torch

    cpu = _cpuinfo()
    build = _torch_build()
    out: dict[str, Any] = {
        "cpu_vendor": cpu["vendor"],
        "cpu_model": cpu["model"],
        "cpu_isa": cpu_isa(cpu["flags"]),
        "cpu_capability": _cpu_capability(),
        "torch_blas": build["torch_blas"],
        "mkl": build["mkl"],
        "onednn": build["onednn"],
        "numpy_blas": numpy_blas(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
        "threads_intraop": torch.get_num_threads(),
        "threads_interop": torch.get_num_interop_threads(),
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "deterministic_warn_only": torch.is_deterministic_algorithms_warn_only_enabled(),
        "env_vars": {k: os.environ[k] for k in NUMERIC_ENV_VARS if k in os.environ},
        "thread_env_vars": {k: os.environ[k] for k in THREAD_ENV_VARS if k in os.environ},
    }
    if str(device).startswith("cuda") and torch.cuda.is_available():
        index = torch.device(device).index
        index = torch.cuda.current_device() if index is None else index
        out.update({
            "gpu": torch.cuda.get_device_name(index),
            "gpu_capability": ".".join(map(str, torch.cuda.get_device_capability(index))),
            "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version(),
            "cudnn_benchmark": torch.backends.cudnn.benchmark,
            "cudnn_deterministic": torch.backends.cudnn.deterministic,
            "matmul_tf32": torch.backends.cuda.matmul.allow_tf32,
            "cudnn_tf32": torch.backends.cudnn.allow_tf32,
        })
    return out


def _cpu_capability() -> str | None:
    import torch

    try:
        return torch.backends.cpu.get_cpu_capability()
    except AttributeError:  # torch < 2.1
        return None


# --------------------------------------------------------------------------- comparing environments
# The fields of a record's env block that can change the numbers, in the order they are reported.
ENV_FIELDS = (
    "device", "gpu", "gpu_capability", "cuda", "cudnn", "matmul_tf32", "cudnn_tf32", "cpu_vendor", "cpu_model",
    "cpu_isa", "cpu_capability", "torch_blas", "mkl", "onednn", "numpy_blas", "torch", "numpy",
    "python", "threads_intraop", "deterministic_algorithms", "env_vars",
)


def flat_env(env: Mapping | None) -> dict:
    """A record's env block as {field: value} over ENV_FIELDS.  Records written before the
    numeric environment was recorded have only device, device_name, threads and versions:
    their other fields are absent (not None)."""
    env = dict(env or {})
    num = dict(env.get("numerics") or {})
    out = {}
    for key in ENV_FIELDS:
        if key in num:
            out[key] = num[key]
        elif key == "threads_intraop" and "threads" in env:
            out[key] = env["threads"]
        elif key in env:
            out[key] = env[key]
    if isinstance(out.get("numpy_blas"), dict):  # the thread count of numpy's BLAS is not numerics
        out["numpy_blas"] = {k: v for k, v in out["numpy_blas"].items() if k not in ("threads", "source")}
    return out


def env_differences(recorded: Mapping | None, current: Mapping | None) -> list[tuple[str, Any, Any]]:
    """(field, recorded, current) for each numeric-environment field that differs.  A field
    the record does not have is reported with recorded = NOT_RECORDED."""
    old, new = flat_env(recorded), flat_env(current)
    out = []
    for key in ENV_FIELDS:
        if key not in old and key not in new:
            continue
        a, b = old.get(key, NOT_RECORDED), new.get(key, NOT_RECORDED)
        if a != b:
            out.append((key, a, b))
    return out


class _NotRecorded:
    def __repr__(self) -> str:
        return "(not recorded)"


NOT_RECORDED = _NotRecorded()


def numeric_key(env: Mapping | None) -> str:
    """A compact label of a record's numeric environment: device (and GPU or CPU vendor),
    the instruction set torch dispatches to, torch's BLAS, torch version, threads.  Old
    records lack some parts; those show as '?'."""
    f = flat_env(env)
    device = str(f.get("device", "?"))
    if device.startswith("cuda"):
        hw = f"{device} {f.get('gpu') or (env or {}).get('device_name') or '?'}"
        hw += f", CUDA {f.get('cuda', '?')}"
    else:
        vendor = {"GenuineIntel": "Intel", "AuthenticAMD": "AMD"}.get(str(f.get("cpu_vendor")), f.get("cpu_vendor"))
        hw = f"{device} {f.get('cpu_capability') or '?'}" + (f" ({vendor})" if vendor else "")
    blas = f.get("torch_blas")
    if blas == "mkl" and f.get("mkl"):
        blas = f"MKL {f['mkl']}"
    return f"{hw}, {blas or 'BLAS ?'}, torch {f.get('torch', '?')}, {f.get('threads_intraop', '?')} thr"
