"""Executors for sweeps: a local process pool (:mod:`.local`), or a SLURM job array through
submitit (:mod:`.slurm`).  Both run :func:`~zslbench.executors.jobs.execute_job` once per
planned run (:mod:`.jobs`: the job model)."""

from zslbench.executors.jobs import (
    EXECUTORS,
    Job,
    JobInterrupted,
    JobResult,
    SweepInterrupted,
    SweepSettings,
    execute_job,
)
from zslbench.executors.local import cpu_count, default_jobs, run_local
from zslbench.executors.slurm import SlurmOptions, parse_slurm_extra, parse_slurm_time, run_slurm

__all__ = [
    "EXECUTORS",
    "Job",
    "JobInterrupted",
    "JobResult",
    "SlurmOptions",
    "SweepInterrupted",
    "SweepSettings",
    "cpu_count",
    "default_jobs",
    "execute_job",
    "parse_slurm_extra",
    "parse_slurm_time",
    "run_local",
    "run_slurm",
]
