"""Running a plan's missing runs on an executor, with sweep-level progress and a summary."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

from zslbench.errors import ConfigError
from zslbench.executors import EXECUTORS, JobResult, SlurmOptions, SweepInterrupted
from zslbench.progress import Progress
from zslbench.sweep.estimate import fmt_seconds
from zslbench.sweep.plan import Plan
from zslbench.tracks import get_track


@dataclass
class SweepSummary:
    total: int
    already_done: int
    results: list[JobResult]
    wall_seconds: float = 0.0
    interrupted: bool = False

    def by(self, status: str) -> list[JobResult]:
        return [r for r in self.results if r.status == status]

    @property
    def failed(self) -> list[JobResult]:
        return self.by("failed")

    def format(self) -> str:
        trained, skipped = len(self.by("trained")), len(self.by("skipped"))
        lines = [
            f"sweep {'interrupted' if self.interrupted else 'finished'} in {fmt_seconds(self.wall_seconds)}: "
            f"{trained} trained, {self.already_done + skipped} skipped (done already), "
            f"{len(self.failed)} failed"
            + (f", {len(self.by('interrupted'))} stopped" if self.by("interrupted") else "")
            + f" (of {self.total} planned)"
        ]
        for r in self.failed:
            lines.append(f"  FAILED {r.job.label}: {r.reason}" + (f" (log: {r.log})" if r.log else ""))
        return "\n".join(lines)


class SweepBar:
    """Sweep-level progress: a tqdm bar on a terminal; one line per finished run otherwise."""

    def __init__(self, total: int, enabled: bool | None) -> None:
        self.total, self.n, self.failed = total, 0, 0
        self.bar = Progress(total, "sweep", "run", enabled if total else False)

    def __call__(self, res: JobResult) -> None:
        self.n += 1
        self.failed += res.status == "failed"
        if self.bar.shown:
            self.bar.update(failed=self.failed)
            if res.status == "failed":
                self.bar.write(f"FAILED {res.job.label}: {res.reason}")
        else:
            what = {
                "trained": f"trained in {res.seconds:.1f}s",
                "skipped": f"skipped ({res.reason or 'done'})",
                "failed": f"FAILED: {res.reason}",
                "interrupted": "stopped",
            }.get(res.status, res.status)
            print(f"[{self.n}/{self.total}] {res.job.label} [{res.run_id or '-'}]: {what}", file=sys.stderr, flush=True)

    def close(self) -> None:
        self.bar.close()


def run_sweep(
    plan: Plan,
    executor: str = "local",
    jobs: int | None = None,
    slurm: SlurmOptions | None = None,
    progress: bool | None = None,
) -> SweepSummary:
    """Run the plan's missing runs. Raises SweepInterrupted on Ctrl-C (after a clean stop)."""
    from zslbench import executors

    if executor not in EXECUTORS:
        raise ConfigError(f"--executor {executor!r}: expected one of {', '.join(EXECUTORS)}")
    todo = plan.to_run
    start = time.monotonic()
    bar = SweepBar(len(todo), progress)
    try:
        if executor == "local":
            out = executors.run_local(todo, plan.settings, jobs, on_result=bar)
        else:
            out = executors.run_slurm(todo, plan.settings, slurm or SlurmOptions(), on_result=bar)
    except SweepInterrupted as exc:
        bar.close()
        exc.summary = SweepSummary(
            len(plan.jobs), plan.count("done"), exc.results, time.monotonic() - start, interrupted=True
        )
        raise
    bar.close()
    return SweepSummary(len(plan.jobs), plan.count("done"), out, time.monotonic() - start)


def run_threads(plan: Plan) -> int:
    """The most torch threads any planned run uses (its config's `threads`)."""
    out = 1
    for key in {j.track_key for j in plan.jobs}:
        cfg = get_track(key).make_config(plan.settings.profile, plan.settings.overrides_for(key))
        out = max(out, cfg.threads)
    return out
