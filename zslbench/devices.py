"""Where a run's tensors and models live, and what a GPU run trains under: the decisions as
small pure functions, so that each can be checked on a machine without a GPU.

* :func:`parse_device` / :func:`canonical_device`: ``--device`` as one ``torch.device`` with
  its index (``cuda`` is the current CUDA device, ``cuda:0`` on a fresh process).  Every
  placement of data and model uses it, so a tensor's ``.device`` compares equal with the
  run's device (``torch.device("cuda") != torch.device("cuda:0")``);
* :func:`transfer`: how a batch reaches the run's device: not at all (it is there), a plain
  copy, or a copy through pinned memory (only a CPU tensor bound for a GPU is pinned; pinning
  a tensor that is on a GPU already raises);
* :func:`tf32_settings`: the TF32 switches of a run (``cuda_tf32``): off means float32
  matmuls and convolutions on CUDA, whatever torch's own defaults are; on is refused on a
  CPU run, where TF32 does not exist;
* :func:`check_flush_denormal`: ``flush_denormal`` (subnormal floats read and written as zero,
  on by default) acts on CPU runs only; :func:`for_device` turns it off for a CUDA run that
  did not ask for it, and :func:`check_run_options` checks both options of a run's config.

Nothing here touches a GPU; :func:`canonical_device` asks torch how many there are.
"""

from __future__ import annotations

import torch

from zslbench.errors import ConfigError

__all__ = [
    "canonical_device",
    "check_cuda_tf32",
    "check_flush_denormal",
    "check_run_options",
    "for_device",
    "is_cuda",
    "parse_device",
    "tf32_settings",
    "transfer",
]

#: What :func:`transfer` may answer.
NO_COPY, COPY, PIN_AND_COPY = "none", "copy", "pin+copy"


def is_cuda(device) -> bool:
    """Whether ``device`` (a torch.device or its text, e.g. ``cuda:1``) is a CUDA device."""
    return torch.device(device).type == "cuda"


def parse_device(spec: str, cuda_available: bool, device_count: int, current: int = 0) -> torch.device:
    """``--device`` text -> the canonical torch.device, given what CUDA reports: ``cpu``;
    ``cuda`` -> ``cuda:<current>``; ``cuda:N`` with N below the number of visible GPUs.
    ConfigError (one line) for anything else."""
    text = str(spec).strip().lower()
    if text == "cpu":
        return torch.device("cpu")
    if text == "cuda" or text.startswith("cuda:"):
        if not cuda_available or device_count < 1:
            raise ConfigError(
                f"--device {spec}: CUDA is not available in this torch build ({torch.__version__}) "
                "or no GPU is visible; install a CUDA build of torch (see docs/installation.md#gpu) or use --device cpu"
            )
        if text == "cuda":
            return torch.device("cuda", int(current))
        index = text[len("cuda:") :]
        if not index.isdigit():
            raise ConfigError(f"--device {spec!r}: expected cpu, cuda or cuda:N")
        if int(index) >= device_count:
            raise ConfigError(f"--device {spec}: {device_count} GPU(s) visible (cuda:0 to cuda:{device_count - 1})")
        return torch.device("cuda", int(index))
    raise ConfigError(f"--device {spec!r}: expected cpu or cuda")


def canonical_device(spec) -> torch.device:
    """:func:`parse_device` with what this process's torch reports."""
    text = str(spec).strip().lower()
    if text == "cpu":
        return torch.device("cpu")
    available = bool(torch.cuda.is_available())
    count = torch.cuda.device_count() if available else 0
    current = torch.cuda.current_device() if available and count else 0
    return parse_device(text, available, count, current)


def transfer(source: torch.device, target: torch.device) -> str:
    """How a tensor on ``source`` reaches ``target`` (both canonical): NO_COPY, COPY or
    PIN_AND_COPY (a CPU tensor bound for a GPU goes through pinned memory, so that the copy
    can be asynchronous; nothing else is ever pinned)."""
    source, target = torch.device(source), torch.device(target)
    if source == target:
        return NO_COPY
    if source.type == "cpu" and target.type == "cuda":
        return PIN_AND_COPY
    return COPY


def check_cuda_tf32(device, cuda_tf32: bool) -> None:
    """ConfigError when TF32 is asked for on a device that has none (a CPU run)."""
    if cuda_tf32 and not is_cuda(device):
        raise ConfigError(f"cuda_tf32=true acts on CUDA runs only (--device cuda), not on --device {device}")


def check_flush_denormal(device, flush_denormal: bool, threads: int = 1) -> None:
    """ConfigError when flushing subnormal floats is asked for on a CUDA run (torch's switch sets
    the CPU's floating-point mode, not the GPU's).  Any thread count is fine: a run sets the mode
    on each of its threads (zslbench.subnormal)."""
    if flush_denormal and is_cuda(device):
        raise ConfigError(f"flush_denormal=true acts on CPU runs only, not on --device {device}")


def for_device(device, overrides, fields) -> dict:
    """A run's overrides for `device`: on a CUDA run ``flush_denormal`` is off unless they set it
    (it is on by default, for the CPU's arithmetic; the GPU's does not have it), so a CUDA run
    keeps the run id it had before the option existed.  `fields`: the config's field names."""
    overrides = dict(overrides or {})
    if is_cuda(device) and "flush_denormal" in fields and "flush_denormal" not in overrides:
        overrides["flush_denormal"] = False
    return overrides


def check_run_options(device, cfg) -> None:
    """Both checks above for a run's config (after :func:`for_device`), before any work (a config
    without the fields, e.g. a track defined elsewhere, has them off)."""
    check_cuda_tf32(device, getattr(cfg, "cuda_tf32", False))
    check_flush_denormal(device, getattr(cfg, "flush_denormal", False), getattr(cfg, "threads", 1))


def tf32_settings(device, cuda_tf32: bool) -> dict:
    """The TF32 switches a run on ``device`` trains under: on CUDA both torch switches
    (``torch.backends.cuda.matmul.allow_tf32``, ``torch.backends.cudnn.allow_tf32``) set to
    ``cuda_tf32``; nothing on a CPU (where ``cuda_tf32`` must be off)."""
    check_cuda_tf32(device, cuda_tf32)
    if not is_cuda(device):
        return {}
    return {"matmul_tf32": bool(cuda_tf32), "cudnn_tf32": bool(cuda_tf32)}
