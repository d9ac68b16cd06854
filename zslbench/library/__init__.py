"""The Python API of zslbench (also at the top of the package: ``zslbench.run`` ...): runs and
sweeps with the command line's records and run ids, results as pandas DataFrames, plots as
matplotlib Figures.  `zslbench run` and `zslbench sweep` are built on these functions."""

from zslbench.library.results import load_results, plot_curves, plot_variance, tables
from zslbench.library.runs import Run, load_plugins, run
from zslbench.library.sweeps import SweepOutcome, sweep

__all__ = [
    "Run",
    "SweepOutcome",
    "load_plugins",
    "load_results",
    "plot_curves",
    "plot_variance",
    "run",
    "sweep",
    "tables",
]
