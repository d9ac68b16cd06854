"""`zslbench run --all` / `zslbench sweep`: plan every track's grid, skip what is done, run the
rest on an executor (zslbench.executors), summarise.

* :mod:`zslbench.sweep.plan`: the plan (one loop over the tracks);
* :mod:`zslbench.sweep.estimate`: the time left, the plan as text;
* :mod:`zslbench.sweep.run`: running the plan, progress, the summary.
"""

from zslbench.sweep.estimate import beyond_time_limit, estimate_seconds, fmt_seconds, format_plan, time_left
from zslbench.sweep.plan import KINDS, Plan, plan_sweep
from zslbench.sweep.run import SweepSummary, run_sweep, run_threads

__all__ = [
    "KINDS",
    "Plan",
    "SweepSummary",
    "beyond_time_limit",
    "estimate_seconds",
    "fmt_seconds",
    "format_plan",
    "plan_sweep",
    "run_sweep",
    "run_threads",
    "time_left",
]
