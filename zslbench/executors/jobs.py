"""The job model of a sweep and the one function every executor runs per planned run.

:func:`execute_job` takes the run's lock (:mod:`zslbench.locks`), checks the done marker again
under the lock, removes the temporary files a killed earlier attempt may have left in the run
folder, trains, and returns a :class:`JobResult`.  It never raises for a failing run: the
failure comes back with its reason and the path of a log holding the traceback, and the sweep
goes on.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from zslbench import store
from zslbench.errors import ZSLBenchError
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
    loggers: tuple = ()  # zslbench.loggers: names (or RunLogger instances) that see each trained run

    def overrides_for(self, track_key: str) -> Mapping[str, Any]:
        return self.overrides.get(track_key, {})


@dataclass(frozen=True)
class Job:
    kind: str  # "gzsl" | "czsl"
    name: str  # GZSL model or CZSL method
    dataset: str
    seed: int
    classnorm: bool | None = None  # CZSL only (GZSL models carry it in their name)
    run_id: str = ""  # known before the run (sweep planning computes it)
    state: str = "todo"  # "done" | "todo"
    track: str | None = None  # the record's track: CZSL "features" or "images"
    overrides: tuple = ()  # (field, value) pairs on top of the sweep's overrides (--ablate)
    ablation: str = ""  # what those overrides flip, e.g. "select_epoch=best_test_H"

    def overrides_in(self, settings: SweepSettings) -> dict:
        """The config overrides of this job: the sweep's for its track, then its own."""
        return {**settings.overrides_for(self.track_key), **dict(self.overrides)}

    @property
    def track_key(self) -> str:
        return store.track_key(self.kind, self.track)

    @property
    def label(self) -> str:
        cn = "" if self.classnorm is None else (" +cn" if self.classnorm else " no-cn")
        kind = self.kind if self.track in (None, "features") else f"{self.kind}/{self.track}"
        flip = f" [{self.ablation}]" if self.ablation else ""
        return f"{kind} {self.name}{cn} {self.dataset} seed {self.seed}{flip}"

    def lock_key(self) -> str:
        """The name of the run's lock: its run id (every planned job has one)."""
        return self.run_id


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


class SweepInterrupted(Exception):
    """Ctrl-C stopped the sweep; ``results`` holds the runs finished (or stopped) so far."""

    def __init__(self, results: list[JobResult]) -> None:
        super().__init__("interrupted")
        self.results = results
        self.summary: Any = None  # the sweep's SweepSummary, set by zslbench.sweep.run on the way out


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
# installed by become_worker; None outside pool workers).
_worker_stop: _StopHandler | None = None


def become_worker() -> Callable:
    """Make this process a pool worker that stops on a signal: returns the handler to install
    for SIGTERM (the worker then runs no further job; a run in progress stops)."""
    global _worker_stop
    _worker_stop = _StopHandler()
    return _worker_stop


def execute_job(job: Job, settings: SweepSettings, wait_for_lock: bool = False) -> JobResult:
    """Run one job under its lock. Returns status busy (lock held elsewhere and wait_for_lock
    is False), skipped (done already), trained, failed or interrupted."""
    results = Path(settings.results)
    lock = RunLock(results, job.lock_key())
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
        if job.run_id and not settings.force and store.is_done_and_valid(results, job.run_id):
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
            return JobResult(
                job, "interrupted", job.run_id, time.monotonic() - start, reason=f"stopped by {stop.signal}"
            )
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
    overrides = job.overrides_in(settings)
    cfg = track.make_config(settings.profile, overrides)
    src = track.resolve_source(job.dataset, settings.source, settings.data_dir)
    data_dir = None if settings.data_dir is None else str(settings.data_dir)
    data = _cached_data(track, job.dataset, src, data_dir, cfg)
    return execute_run(
        track,
        job.name,
        job.dataset,
        seed=job.seed,
        classnorm=job.classnorm,
        profile=settings.profile,
        source=src,
        data_dir=settings.data_dir,
        device=settings.device,
        results=settings.results,
        overrides=overrides,
        force=settings.force,
        progress=False,
        data=data,
        loggers=settings.loggers,
    )


def _write_failure_log(results: Path, job: Job, settings: SweepSettings, text: str) -> str | None:
    path = Path(results) / "logs" / f"{job.lock_key()}.log"
    try:
        store.atomic_write_text(path, f"{datetime.now(timezone.utc).isoformat()} {job.label}\n{text}")
    except (OSError, ZSLBenchError):
        return None
    return str(path)
