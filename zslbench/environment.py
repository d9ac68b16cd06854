"""The description of the machine and environment a run's numbers come from: the data's bits
(:func:`data_content_sha256`), the CPU (/proc/cpuinfo), torch's and numpy's BLAS, the versions
and switches that determine the numbers (:func:`numeric_environment`, a record's
``env.numerics``), and how two records' environments differ (:func:`env_differences`, for
:mod:`zslbench.replay` and the reports' notes).  The settings a run trains under are
:mod:`zslbench.numerics`.

Nothing here changes any setting.
"""

from __future__ import annotations

import contextlib
import functools
import os
import platform
import re
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Environment variables that change which kernels the math libraries run (compared by replays).
NUMERIC_ENV_VARS = (
    "MKL_CBWR",
    "MKL_ENABLE_INSTRUCTIONS",
    "MKL_DEBUG_CPU_TYPE",
    "OPENBLAS_CORETYPE",
    "ATEN_CPU_CAPABILITY",
    "ONEDNN_MAX_CPU_ISA",
    "DNNL_MAX_CPU_ISA",
    "KMP_DETERMINISTIC_REDUCTION",
    "CUBLAS_WORKSPACE_CONFIG",
    "NVIDIA_TF32_OVERRIDE",
)
# Thread-count variables: recorded, not compared (a run sets its own threads; the sweep's
# workers set these for what they do outside a run).
THREAD_ENV_VARS = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "MKL_DYNAMIC",
    "OPENBLAS_NUM_THREADS",
    "CUDA_VISIBLE_DEVICES",
    "SLURM_CPUS_PER_TASK",
)


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
        arrays = {
            "images": data.images,
            "labels": data.labels,
            "attrs": data.attrs,
            **{f"split_{k}": v for k, v in sorted(data.splits.items())},
        }
    else:
        arrays = {
            name: getattr(data, name)
            for name in (
                "features",
                "labels",
                "attrs",
                "trainval_idx",
                "test_seen_idx",
                "test_unseen_idx",
                "seen_classes",
                "unseen_classes",
            )
        }
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
    except Exception:
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
        import numpy

        for lib in threadpool_info():
            if lib.get("user_api") == "blas" and "numpy" in str(lib.get("filepath", "")):
                return {
                    "name": lib.get("internal_api"),
                    "version": lib.get("version"),
                    "architecture": lib.get("architecture"),
                    "threads": lib.get("num_threads"),
                    "source": "threadpoolctl",
                }
    try:
        import numpy

        config = numpy.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return {"name": blas.get("name"), "version": blas.get("version"), "source": "numpy.show_config"}
    except Exception:
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
        out.update(
            {
                "gpu": torch.cuda.get_device_name(index),
                "gpu_capability": ".".join(map(str, torch.cuda.get_device_capability(index))),
                "cuda": torch.version.cuda,
                "cudnn": torch.backends.cudnn.version(),
                "cudnn_benchmark": torch.backends.cudnn.benchmark,
                "cudnn_deterministic": torch.backends.cudnn.deterministic,
                "matmul_tf32": torch.backends.cuda.matmul.allow_tf32,
                "cudnn_tf32": torch.backends.cudnn.allow_tf32,
            }
        )
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
    "device",
    "gpu",
    "gpu_capability",
    "cuda",
    "cudnn",
    "matmul_tf32",
    "cudnn_tf32",
    "cpu_vendor",
    "cpu_model",
    "cpu_isa",
    "cpu_capability",
    "torch_blas",
    "mkl",
    "onednn",
    "numpy_blas",
    "torch",
    "numpy",
    "python",
    "threads_intraop",
    "deterministic_algorithms",
    "env_vars",
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


def machine_text(env: Mapping | None) -> str:
    """The machine a run was timed on, as the tables and the report name it: ``cuda (NVIDIA
    H100 80GB HBM3)``; on a CPU the processor's model and the run's torch threads, ``cpu
    (Intel(R) Xeon(R) Processor, 1 thread)`` (a CPU record's ``device_name`` is only the
    architecture, ``x86_64`` on an Intel and an AMD machine alike)."""
    env = dict(env or {})
    device = str(env.get("device", "?"))
    if device != "cpu":
        return f"{device} ({env.get('device_name') or '?'})"
    flat = flat_env(env)
    text = str(flat.get("cpu_model") or env.get("device_name") or "?")
    threads = flat.get("threads_intraop")
    if isinstance(threads, int):
        text += f", {threads} thread{'' if threads == 1 else 's'}"
    return f"cpu ({text})"


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
