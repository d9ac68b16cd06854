"""The SLURM executor: one job array (one task per planned run) submitted through submitit,
each task running :func:`~zslbench.executors.jobs.execute_job`, watched until every task has
a result or has left the queue."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from zslbench.errors import ConfigError, ZSLBenchError
from zslbench.executors.jobs import Job, JobResult, SweepInterrupted, SweepSettings, execute_job


@dataclass(frozen=True)
class SlurmOptions:
    partition: str | None = None
    time_min: int = 60
    gpus_per_job: int = 0
    cpus_per_job: int = 1
    extra: Mapping[str, str] = field(default_factory=dict)
    array_parallelism: int = 256
    poll_s: float = 2.0


def parse_slurm_time(text: str) -> int:
    """Minutes from MM, HH:MM:SS, MM:SS or D-HH[:MM[:SS]] (sbatch's --time formats)."""
    raw = str(text).strip()
    try:
        days = 0
        if "-" in raw:
            d, raw = raw.split("-", 1)
            days = int(d)
            parts = [int(p) for p in raw.split(":")] + [0, 0]
            h, m, s = parts[:3]
        else:
            parts = [int(p) for p in raw.split(":")]
            if len(parts) == 1:
                h, m, s = 0, parts[0], 0
            elif len(parts) == 2:
                h, m, s = 0, parts[0], parts[1]
            elif len(parts) == 3:
                h, m, s = parts
            else:
                raise ValueError
    except ValueError:
        raise ConfigError(f"--slurm-time {text!r}: expected minutes, HH:MM:SS or D-HH:MM:SS") from None
    minutes = days * 1440 + h * 60 + m + (1 if s > 0 else 0)
    if minutes <= 0:
        raise ConfigError(f"--slurm-time {text!r}: must be positive")
    return minutes


def parse_slurm_extra(items: list[str] | tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--slurm-extra {item!r}: expected key=value (an sbatch option without the dashes)")
        key, value = item.split("=", 1)
        key = key.strip().lstrip("-").replace("-", "_")
        if not key:
            raise ConfigError(f"--slurm-extra {item!r}: empty option name")
        out[key] = value.strip()
    return out


class _DropSacctNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "Bypassing sacct error" not in record.getMessage()


def _slurm_entry(job: Job, settings: SweepSettings, plugins: tuple[str, ...] = ()) -> JobResult:
    """What each array task runs: the job (waiting for its lock: another sweep may hold it, and
    a dead holder's lock is free).  The run uses its config's `threads`; the CPUs SLURM gave
    the task (--slurm-cpus-per-job) only bound what the task does outside the run."""
    from zslbench.numerics import claim_process_threads
    from zslbench.process import start_process
    from zslbench.tracks import load_plugins

    start_process()  # before any parallel operation: the task's threads start flushing
    claim_process_threads(max(1, int(os.environ.get("SLURM_CPUS_PER_TASK", "1") or 1)))
    load_plugins(plugins)  # the sweep's plugins (zslbench.plugins)
    return execute_job(job, settings, wait_for_lock=True)


def _in_queue(array_id: str) -> set[str] | None:
    """Job ids of the array's tasks still known to squeue (None when squeue fails)."""
    try:
        out = subprocess.run(
            ["squeue", "-h", "-r", "-o", "%i", "-j", array_id], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return set() if "Invalid job id" in out.stderr else None
    return {line.strip() for line in out.stdout.splitlines() if line.strip()}


def run_slurm(
    jobs: list[Job],
    settings: SweepSettings,
    options: SlurmOptions,
    on_result: Callable[[JobResult], None] | None = None,
) -> list[JobResult]:
    """Submit one job array (one task per run) and wait for it. Logs stay under
    <results>/slurm/<time stamp>/ and are reported for failed runs."""
    if not jobs:
        return []
    if shutil.which("sbatch") is None:
        raise ConfigError("--executor slurm: sbatch is not on PATH (is this a SLURM login node?)")
    try:
        import submitit
    except ImportError:
        raise ConfigError("--executor slurm needs submitit: pip install 'zslbench[slurm]'") from None
    logging.getLogger("submitit").addFilter(_DropSacctNoise())

    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}"
    folder = Path(settings.results).resolve() / "slurm" / stamp
    executor = submitit.AutoExecutor(folder=folder, cluster="slurm")
    params: dict[str, Any] = {
        "timeout_min": options.time_min,
        "cpus_per_task": options.cpus_per_job,
        "slurm_array_parallelism": options.array_parallelism,
        "name": f"zslbench-{settings.profile}",
    }
    if options.gpus_per_job:
        params["gpus_per_node"] = options.gpus_per_job
    if options.partition:
        params["slurm_partition"] = options.partition
    if options.extra:
        params["slurm_additional_parameters"] = dict(options.extra)
    executor.update_parameters(**params)
    try:
        from zslbench.plugins import LOADED

        sjobs = executor.map_array(_slurm_entry, jobs, [settings] * len(jobs), [tuple(LOADED)] * len(jobs))
    except Exception as exc:  # sbatch refused the array
        raise ZSLBenchError(f"--executor slurm: submission failed: {' '.join(str(exc).split())}") from None
    array_id = str(sjobs[0].job_id).split("_")[0]
    print(f"submitted SLURM job array {array_id} ({len(sjobs)} tasks); logs in {folder}", file=sys.stderr, flush=True)

    out: list[JobResult] = []
    open_ = dict(enumerate(sjobs))
    missing_since: dict[int, float] = {}
    try:
        while open_:
            queue = _in_queue(array_id)
            for i, sjob in list(open_.items()):
                res = None
                if _has_result(sjob):
                    res = _slurm_result(jobs[i], sjob)
                elif queue is not None and str(sjob.job_id) not in queue:
                    # left the queue without a result pickle: killed, timed out, out of memory
                    first = missing_since.setdefault(i, time.monotonic())
                    if time.monotonic() - first > 15 and not sjob.paths.result_pickle.exists():
                        res = JobResult(
                            jobs[i],
                            "failed",
                            jobs[i].run_id,
                            reason="SLURM task ended without a result (cancelled, timed out or killed)",
                            log=str(sjob.paths.stderr),
                        )
                else:
                    missing_since.pop(i, None)
                if res is not None:
                    del open_[i]
                    out.append(res)
                    if on_result:
                        on_result(res)
            if open_:
                time.sleep(options.poll_s)
    except KeyboardInterrupt:
        cancel = subprocess.run(["scancel", array_id], capture_output=True, text=True)
        print(
            f"SLURM job array {array_id} "
            + (
                "cancelled"
                if cancel.returncode == 0
                else f"NOT cancelled ({cancel.stderr.strip()}); cancel it with: scancel {array_id}"
            ),
            file=sys.stderr,
            flush=True,
        )
        raise SweepInterrupted(out) from None
    return out


def _has_result(sjob) -> bool:
    """Whether the task wrote its result (success or exception). Checked on the file, not with
    sjob.done(), which runs sacct: clusters without accounting answer with an error on stderr."""
    folder = sjob.paths.folder
    try:
        folder.chmod(folder.stat().st_mode)  # refreshes an NFS client's cache of the folder
    except OSError:
        pass
    return sjob.paths.result_pickle.exists()


def _slurm_result(job: Job, sjob) -> JobResult:
    log = str(sjob.paths.stderr)
    try:
        res = sjob.result()
    except Exception as exc:  # FailedJobError / UncompletedJobError
        lines = [ln for ln in str(exc).splitlines() if ln.strip()]
        reason = lines[-1].strip() if lines else type(exc).__name__
        return JobResult(job, "failed", job.run_id, reason=reason, log=log)
    if res.status in ("failed", "interrupted"):
        res.log = log
    return res
