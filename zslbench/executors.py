"""Executors for sweeps: a local process pool, or a SLURM job array through submitit.

Both run the same function, :func:`execute_job`, once per planned run.  It takes the run's lock
(:mod:`zslbench.locks`), checks the done marker again under the lock, removes the temporary
files a killed earlier attempt may have left in the run folder, trains, and returns a
:class:`JobResult`.  It never raises for a failing run: the failure comes back with its reason
and the path of a log holding the traceback, and the sweep goes on.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

from zslbench import store
from zslbench.errors import ConfigError, ZSLBenchError
from zslbench.locks import RunLock

EXECUTORS = ("local", "slurm")


# --------------------------------------------------------------------------- jobs and results
@dataclass(frozen=True)
class SweepSettings:
    """Everything a job needs besides its (kind, name, dataset, seed, classnorm)."""

    profile: str
    source: str
    data_dir: Path | None
    device: str
    results: Path
    force: bool = False
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # track key -> config overrides

    def overrides_for(self, track_key: str) -> Mapping[str, Any]:
        return self.overrides.get(track_key, {})


@dataclass(frozen=True)
class Job:
    kind: str  # "gzsl" | "czsl"
    name: str  # GZSL model or CZSL method
    dataset: str
    seed: int
    classnorm: bool | None = None  # CZSL only (GZSL models carry it in their name)
    run_id: str | None = None  # None: not known before the run (CZSL without czsl_run_id)
    state: str = "todo"  # "done" | "todo" | "unknown" | "unavailable"
    track: str | None = None  # the record's track: CZSL "features" or "images"

    @property
    def track_key(self) -> str:
        return store.track_key(self.kind, self.track)

    @property
    def label(self) -> str:
        cn = "" if self.classnorm is None else (" +cn" if self.classnorm else " no-cn")
        kind = self.kind if self.track in (None, "features") else f"{self.kind}/{self.track}"
        return f"{kind} {self.name}{cn} {self.dataset} seed {self.seed}"

    def lock_key(self, settings: SweepSettings) -> str:
        """The run id where known, else a hash of the job's full description."""
        if self.run_id:
            return self.run_id
        text = store.canonical_json({
            "kind": self.kind, "name": self.name, "dataset": self.dataset, "seed": self.seed,
            "classnorm": self.classnorm, "profile": settings.profile, "source": settings.source,
            "data_dir": str(settings.data_dir), "overrides": dict(settings.overrides_for(self.track_key)),
            **({"track": self.track} if self.track not in (None, "features") else {}),
        })
        return "job-" + hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class JobResult:
    job: Job
    status: str  # "trained" | "skipped" | "failed" | "busy" | "interrupted"
    run_id: str | None = None
    seconds: float = 0.0
    reason: str = ""
    log: str | None = None


class JobInterrupted(BaseException):
    """Raised inside a job by SIGINT/SIGTERM so that temporary files are removed on the way out."""


# --------------------------------------------------------------------------- one job
def _cached_data(track, dataset: str, source: str, data_dir: str | None, cfg):
    """Per-process cache: a worker loads each dataset once, not once per run (the two most
    recently used datasets are kept; tracks that load the same data share the entry)."""
    key = (dataset, source, data_dir, track.data_key(cfg))
    if key in _DATA_CACHE:
        _DATA_CACHE[key] = _DATA_CACHE.pop(key)  # most recently used last
        return _DATA_CACHE[key]
    data = track.load(dataset, source, None if data_dir is None else Path(data_dir), cfg, False)
    _DATA_CACHE[key] = data
    while len(_DATA_CACHE) > 2:
        _DATA_CACHE.pop(next(iter(_DATA_CACHE)))
    return data


_DATA_CACHE: dict = {}


def _clean_temp_files(folder: Path) -> None:
    """Remove the temp files (store.atomic_write_*) of an attempt that was killed mid-write.
    Only called while holding the run's lock, so nobody else is writing there."""
    if folder.is_dir():
        for tmp in folder.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)


class _StopHandler:
    """SIGINT/SIGTERM: remember it and, while a run is in progress, raise JobInterrupted (an
    exception that surfaces later in another form, e.g. from a half-done import, still counts as
    a stop).  A worker that was asked to stop runs no further job."""

    def __init__(self) -> None:
        self.signal: str | None = None
        self.active = False

    def __call__(self, signum, frame):
        self.signal = signal.Signals(signum).name
        if self.active:
            raise JobInterrupted(self.signal)


# The one piece of process state: the stop flag of a pool worker (set by its signal handler,
# installed by _init_worker; None outside pool workers).
_worker_stop: _StopHandler | None = None


def execute_job(job: Job, settings: SweepSettings, wait_for_lock: bool = False) -> JobResult:
    """Run one job under its lock. Returns status busy (lock held elsewhere and wait_for_lock
    is False), skipped (done already), trained, failed or interrupted."""
    results = Path(settings.results)
    lock = RunLock(results, job.lock_key(settings))
    stop = _worker_stop or _StopHandler()
    if stop.signal:  # this worker was told to stop: run nothing more
        return JobResult(job, "interrupted", job.run_id, reason=f"stopped by {stop.signal}")
    old = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            old[sig] = signal.signal(sig, stop)
    stop.active = True
    start = time.monotonic()
    try:
        if not lock.acquire(wait=wait_for_lock):
            return JobResult(job, "busy", job.run_id, reason=lock.holder())
        if job.run_id and not settings.force and store.is_done(results, job.run_id):
            return JobResult(job, "skipped", job.run_id, reason="done by another sweep")
        if job.run_id:
            _clean_temp_files(store.run_dir(results, job.run_id))
        outcome = _train(job, settings)
        _clean_temp_files(outcome.path)
        status = "skipped" if outcome.skipped else "trained"
        return JobResult(job, status, outcome.run_id, time.monotonic() - start)
    except JobInterrupted as exc:
        return JobResult(job, "interrupted", job.run_id, time.monotonic() - start, reason=f"stopped by {exc}")
    except Exception as exc:  # a failing run must not stop the sweep
        if stop.signal:
            return JobResult(job, "interrupted", job.run_id, time.monotonic() - start, reason=f"stopped by {stop.signal}")
        text = traceback.format_exc()
        print(f"zslbench sweep: {job.label} failed:\n{text}", file=sys.stderr, flush=True)
        log = _write_failure_log(results, job, settings, text)
        reason = " ".join(str(exc).split()) or type(exc).__name__
        if not isinstance(exc, ZSLBenchError):
            reason = f"{type(exc).__name__}: {reason}"
        return JobResult(job, "failed", job.run_id, time.monotonic() - start, reason=reason, log=log)
    finally:
        stop.active = False
        lock.release()
        for sig, handler in old.items():
            signal.signal(sig, handler)


def _train(job: Job, settings: SweepSettings):
    from zslbench.tracks import execute_run, get_track

    track = get_track(job.track_key)
    overrides = dict(settings.overrides_for(track.key))
    cfg = track.make_config(settings.profile, overrides)
    src = track.resolve_source(job.dataset, settings.source, settings.data_dir)
    data_dir = None if settings.data_dir is None else str(settings.data_dir)
    data = _cached_data(track, job.dataset, src, data_dir, cfg)
    return execute_run(
        track, job.name, job.dataset, seed=job.seed, classnorm=job.classnorm, profile=settings.profile,
        source=src, data_dir=settings.data_dir, device=settings.device, results=settings.results,
        overrides=overrides, force=settings.force, progress=False, data=data,
    )


def _write_failure_log(results: Path, job: Job, settings: SweepSettings, text: str) -> str | None:
    path = Path(results) / "logs" / f"{job.lock_key(settings)}.log"
    try:
        store.atomic_write_text(path, f"{datetime.now(timezone.utc).isoformat()} {job.label}\n{text}")
    except (OSError, ZSLBenchError):
        return None
    return str(path)


# --------------------------------------------------------------------------- local pool
def default_jobs() -> int:
    return cpu_count()


def cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _die_with_parent() -> None:
    """Linux: have the kernel SIGKILL this worker when the sweep process dies (even by SIGKILL),
    so no orphaned worker keeps training; its lock dies with it."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except OSError:
        pass


def _init_worker(threads: int, parent: int) -> None:
    # `threads` is the worker's share of the cores for what it does outside a run (loading
    # data); each run sets its own torch threads from its config (numerics.numeric_context).
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    # A terminal's Ctrl-C reaches the workers too; the sweep process decides what to do and sends
    # SIGTERM. An idle worker notes it (and runs no further job); a busy one stops its run.
    global _worker_stop
    _worker_stop = _StopHandler()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_stop)
    _die_with_parent()
    if os.getppid() != parent:  # the sweep died before prctl took effect
        os._exit(1)
    from zslbench.numerics import claim_process_threads

    claim_process_threads(threads)


class SweepInterrupted(Exception):
    def __init__(self, results: list[JobResult]) -> None:
        super().__init__("interrupted")
        self.results = results


def run_local(
    jobs: list[Job],
    settings: SweepSettings,
    n_jobs: int | None = None,
    on_result: Callable[[JobResult], None] | None = None,
) -> list[JobResult]:
    """Run the jobs on a pool of n_jobs worker processes (spawned).  n_jobs sets how many runs
    go at once, never the threads of a run: each run uses its config's `threads`.

    A job whose lock is held by another sweep is put back at the end of the queue and then waits
    for the lock (by then the other sweep has usually finished it, and it is skipped).
    Raises SweepInterrupted (with the results so far) on KeyboardInterrupt, after stopping the
    workers' runs cleanly.
    """
    import multiprocessing

    if not jobs:
        return []
    n_jobs = max(1, min(n_jobs or default_jobs(), len(jobs)))
    if n_jobs == 1:
        return _run_in_process(jobs, settings, on_result)
    threads = max(1, cpu_count() // n_jobs)
    ctx = multiprocessing.get_context("spawn")

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(n_jobs, mp_context=ctx, initializer=_init_worker, initargs=(threads, os.getpid()))

    out: list[JobResult] = []
    pool = new_pool()
    pending: dict[Future, Job] = {}
    queue: list[tuple[Job, bool]] = [(job, False) for job in jobs]  # (job, wait for its lock)
    lost: list[Job] = []  # jobs of a pool broken by a dying worker
    tries: dict[Job, int] = {}
    try:
        while queue or pending or lost:
            if lost and not pending:  # a worker died (killed, out of memory): a fresh pool
                print(f"zslbench sweep: a worker process died (killed, or out of memory?); restarting the "
                      f"pool and retrying its {len(lost)} unfinished run(s)", file=sys.stderr, flush=True)
                pool.shutdown(wait=True, cancel_futures=True)
                pool = new_pool()
                for job in lost:
                    tries[job] = tries.get(job, 0) + 1
                    if tries[job] > 2:  # died with it twice: give up on this run
                        _report(out, on_result, JobResult(job, "failed", job.run_id, reason=WORKER_DIED))
                    else:
                        queue.append((job, False))
                lost = []
            try:
                while queue:
                    job, wait_lock = queue[0]
                    pending[pool.submit(execute_job, job, settings, wait_lock)] = job
                    queue.pop(0)
            except BrokenProcessPool:
                lost += [job for job, _ in queue]
                queue = []
            if not pending:
                continue
            done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)  # short: Ctrl-C is seen
            for fut in done:
                job = pending.pop(fut)
                try:
                    res = fut.result()
                except BrokenProcessPool:
                    lost.append(job)  # this job or another one's worker died: retried in a new pool
                    continue
                except BaseException as exc:  # noqa: BLE001 - reported, never raised
                    res = JobResult(job, "failed", job.run_id, reason=f"{type(exc).__name__}: {exc}")
                if res.status == "busy":  # running in another sweep: retry last, waiting for the lock
                    queue.append((job, True))
                    continue
                _report(out, on_result, res)
    except KeyboardInterrupt:
        out += _stop_pool(pool, pending)
        raise SweepInterrupted(out) from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return out


WORKER_DIED = "its worker process died twice (killed, or out of memory?)"


def _report(out: list[JobResult], on_result, res: JobResult) -> None:
    out.append(res)
    if on_result:
        on_result(res)


def _run_in_process(jobs: list[Job], settings: SweepSettings, on_result) -> list[JobResult]:
    """--jobs 1: the runs one after the other in this process (no worker to start)."""
    out: list[JobResult] = []
    queue = [(job, False) for job in jobs]
    try:
        while queue:
            job, wait_lock = queue.pop(0)
            res = execute_job(job, settings, wait_lock)
            if res.status == "busy":  # running in another sweep: do the others first, then wait
                queue.append((job, True))
                continue
            out.append(res)
            if res.status == "interrupted":  # Ctrl-C arrived during the run
                raise SweepInterrupted(out)
            if on_result:
                on_result(res)
    except KeyboardInterrupt:  # Ctrl-C between runs
        raise SweepInterrupted(out) from None
    return out


def _future_result(fut: Future, job: Job) -> JobResult:
    try:
        return fut.result()
    except BrokenProcessPool:
        return JobResult(job, "failed", job.run_id, reason="its worker process died (killed, or out of memory?)")
    except BaseException as exc:  # noqa: BLE001 - reported, never raised
        return JobResult(job, "failed", job.run_id, reason=f"{type(exc).__name__}: {exc}")


def _stop_pool(pool: ProcessPoolExecutor, pending: dict[Future, Job]) -> list[JobResult]:
    """Cancel queued jobs, ask running ones to stop (SIGTERM -> JobInterrupted), wait for them."""
    for fut in pending:
        fut.cancel()
    for proc in list(getattr(pool, "_processes", {}).values()):
        try:
            os.kill(proc.pid, signal.SIGTERM)
        except (ProcessLookupError, AttributeError):
            pass
    out = []
    running = [f for f in pending if not f.cancelled()]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if not wait(running, timeout=0.5).not_done:
                break
        except KeyboardInterrupt:  # a second Ctrl-C while we are stopping: keep stopping
            continue
    for fut in running:
        if fut.done():
            out.append(_future_result(fut, pending[fut]))
    return out


# --------------------------------------------------------------------------- SLURM (submitit)
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


def _slurm_entry(job: Job, settings: SweepSettings) -> JobResult:
    """What each array task runs: the job (waiting for its lock: another sweep may hold it, and
    a dead holder's lock is free).  The run uses its config's `threads`; the CPUs SLURM gave
    the task (--slurm-cpus-per-job) only bound what the task does outside the run."""
    from zslbench.numerics import claim_process_threads

    claim_process_threads(max(1, int(os.environ.get("SLURM_CPUS_PER_TASK", "1") or 1)))
    return execute_job(job, settings, wait_for_lock=True)


def _in_queue(array_id: str) -> set[str] | None:
    """Job ids of the array's tasks still known to squeue (None when squeue fails)."""
    try:
        out = subprocess.run(["squeue", "-h", "-r", "-o", "%i", "-j", array_id],
                             capture_output=True, text=True, timeout=30)
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
        sjobs = executor.map_array(_slurm_entry, jobs, [settings] * len(jobs))
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
                        res = JobResult(jobs[i], "failed", jobs[i].run_id,
                                        reason="SLURM task ended without a result (cancelled, timed out or killed)",
                                        log=str(sjob.paths.stderr))
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
        print(f"SLURM job array {array_id} " + ("cancelled" if cancel.returncode == 0 else
              f"NOT cancelled ({cancel.stderr.strip()}); cancel it with: scancel {array_id}"),
              file=sys.stderr, flush=True)
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
