"""The local executor: the planned runs on a pool of worker processes on this machine, with
Ctrl-C/SIGTERM handled so that every run in progress stops cleanly (its temporary files
removed) and a worker that dies (killed, out of memory) is replaced and its run retried."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from zslbench.executors.jobs import (
    Job,
    JobResult,
    SweepInterrupted,
    SweepSettings,
    become_worker,
    execute_job,
)


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


def _init_worker(threads: int, parent: int, plugins: tuple[str, ...] = ()) -> None:
    # `threads` is the worker's share of the cores for what it does outside a run (loading
    # data); each run sets its own torch threads from its config (numerics.numeric_context).
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    # A terminal's Ctrl-C reaches the workers too; the sweep process decides what to do and sends
    # SIGTERM. An idle worker notes it (and runs no further job); a busy one stops its run.
    stop = become_worker()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, stop)
    _die_with_parent()
    if os.getppid() != parent:  # the sweep died before prctl took effect
        os._exit(1)
    from zslbench.numerics import claim_process_threads
    from zslbench.process import start_process

    start_process()  # before any parallel operation: the worker's threads start flushing
    claim_process_threads(threads)
    from zslbench.tracks import load_plugins

    load_plugins(plugins)  # a spawned worker imports afresh: the sweep's plugins again


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
    from zslbench.plugins import LOADED

    plugins = tuple(LOADED)  # loaded here: each worker loads them again

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            n_jobs, mp_context=ctx, initializer=_init_worker, initargs=(threads, os.getpid(), plugins)
        )

    out: list[JobResult] = []
    pool = new_pool()
    pending: dict[Future, Job] = {}
    queue: list[tuple[Job, bool]] = [(job, False) for job in jobs]  # (job, wait for its lock)
    lost: list[Job] = []  # jobs of a pool broken by a dying worker
    tries: dict[Job, int] = {}
    try:
        while queue or pending or lost:
            if lost and not pending:  # a worker died (killed, out of memory): a fresh pool
                print(
                    f"zslbench sweep: a worker process died (killed, or out of memory?); restarting the "
                    f"pool and retrying its {len(lost)} unfinished run(s)",
                    file=sys.stderr,
                    flush=True,
                )
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
                except BaseException as exc:
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
    except BaseException as exc:
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
