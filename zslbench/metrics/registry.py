"""Every metric a run records, defined once: its track, unit, digits, direction, replay
tolerance, how seeds are aggregated, and where it is shown.

Readers: the GZSL trainer (which metrics it computes beyond the built-in ones), `zslbench run`
(the summary line), `zslbench replay` (the tolerances), `zslbench table` and the report (the
columns, their labels and digits, the metrics a record must hold, the effect sizes).

A new metric is one `METRICS.register(Metric(...))` call next to the code that computes it:
a GZSL metric with a `compute` function is computed by every later GZSL run, compared by
replay with its own tolerance and, given a `column`, shown by `zslbench table` and the report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from zslbench.registry import Registry

TRACKS = ("gzsl", "czsl")
PERCENT, FRACTION, SETTING = "percent", "fraction", "setting"
UNITS = (PERCENT, FRACTION, SETTING)
AGGREGATIONS = ("mean",)  # over seeds: the mean, with the sample standard deviation (n - 1) beside it

# Replay's default tolerance per unit.  Measured (benchmarks/stack_spread.py, docs/numerics.md#replays):
# quick-profile runs under imitated other numeric stacks moved by up to 1.1 points (U, S, ZSL, H)
# and 0.015 (forgetting_final).  A setting (seen_scale) is compared exactly.
UNIT_ATOL = {PERCENT: 1.5, FRACTION: 0.02, SETTING: 0.0}
UNKNOWN_ATOL = 0.0  # a metric nobody registered is compared exactly


@dataclass(frozen=True)
class Metric:
    """One recorded metric.

    `column` and `effect` are positions (0, 1, ...) among the track's table columns and among
    the metrics the report's effect sizes compare; None leaves the metric out of them.  A
    record must hold every column metric of its track to enter a table or the report.
    `compute(logits, labels, data, cfg) -> float` is given for a GZSL metric the trainer does
    not compute itself; `uncalibrated_of` names the calibrated score this one is the raw form of.
    """

    name: str
    tracks: tuple[str, ...]
    unit: str = PERCENT
    digits: int = 1  # tables and the report
    paper_digits: int = 1  # the paper's values beside ours
    echo_digits: int = 2  # the line `zslbench run` prints
    higher_is_better: bool = True
    atol: float | None = None  # replay's default tolerance, in the metric's unit; None: UNIT_ATOL
    aggregate: str = "mean"
    label: str = ""  # its heading; empty: the name
    column: int | None = None
    effect: int | None = None
    summary: bool = False  # printed by `zslbench run`
    uncalibrated_of: str | None = None
    compute: Callable[..., float] | None = None

    def __post_init__(self) -> None:
        if not self.tracks or set(self.tracks) - set(TRACKS):
            raise ValueError(f"metric {self.name!r}: tracks must be among {TRACKS}, got {self.tracks!r}")
        if self.unit not in UNITS:
            raise ValueError(f"metric {self.name!r}: unit must be one of {UNITS}, got {self.unit!r}")
        if self.aggregate not in AGGREGATIONS:
            raise ValueError(f"metric {self.name!r}: aggregate must be one of {AGGREGATIONS}")

    @property
    def heading(self) -> str:
        return self.label or self.name

    @property
    def tolerance(self) -> float:
        return UNIT_ATOL[self.unit] if self.atol is None else self.atol


class MetricRegistry(Registry[Metric]):
    def add(self, metric: Metric) -> Metric:
        return self.register(metric.name, metric)

    def all(self, track: str | None = None) -> list[Metric]:
        items = [self.get(n) for n in self]
        return [m for m in items if track is None or track in m.tracks]

    def columns(self, track: str) -> tuple[str, ...]:
        """The metrics `zslbench table` and the report show for `track`, in their order."""
        ranked = [(m.column, i, m.name) for i, m in enumerate(self.all(track)) if m.column is not None]
        return tuple(name for _, _, name in sorted(ranked))

    def effects(self, track: str) -> tuple[str, ...]:
        """The metrics the report's effect sizes compare for `track`, in their order."""
        ranked = [(m.effect, i, m.name) for i, m in enumerate(self.all(track)) if m.effect is not None]
        return tuple(name for _, _, name in sorted(ranked))

    def summary(self, track: str) -> tuple[str, ...]:
        return tuple(m.name for m in self.all(track) if m.summary)

    def computed(self, track: str) -> list[tuple[str, Callable[..., float]]]:
        """(name, compute) of the metrics of `track` computed by their own function."""
        return [(m.name, m.compute) for m in self.all(track) if m.compute is not None]

    def tolerance(self, name: str) -> float:
        return self.get(name).tolerance if name in self else UNKNOWN_ATOL

    def digits(self, name: str, default: int = 1) -> int:
        return self.get(name).digits if name in self else default

    def paper_digits(self, name: str, default: int = 1) -> int:
        return self.get(name).paper_digits if name in self else default

    def echo_digits(self, name: str) -> int:
        return self.get(name).echo_digits if name in self else 2

    def heading(self, name: str, labels: dict[str, Any] | None = None) -> str:
        if name in self:
            return self.get(name).heading
        return str((labels or {}).get(name, name))


METRICS = MetricRegistry("metric")

_G, _C = ("gzsl",), ("czsl",)
for _metric in (
    # GZSL (zslbench.metrics.gzsl.gzsl_scores, calibrated; zslbench.metrics.auc.ausuc)
    Metric("S", _G, column=1, summary=True),
    Metric("U", _G, column=0, summary=True),
    Metric("H", _G, column=2, effect=0, summary=True),
    Metric("ZSL", _G, summary=True),
    Metric("AUSUC", _G, effect=1, summary=True),
    Metric("S_uncal", _G, uncalibrated_of="S"),
    Metric("U_uncal", _G, uncalibrated_of="U"),
    Metric("H_uncal", _G, uncalibrated_of="H"),
    Metric("seen_scale", _G, unit=SETTING),
    # CZSL (zslbench.metrics.czsl.czsl_scores)
    Metric("mAUC", _C, column=0, effect=1, summary=True),
    Metric("mH", _C, column=1, effect=0, summary=True),
    Metric("mJA", _C, column=2, summary=True),
    Metric(
        "forgetting",
        _C,
        unit=FRACTION,
        digits=3,
        paper_digits=2,
        echo_digits=3,
        higher_is_better=False,
        label="Forgetting",
        column=3,
        summary=True,
    ),
    Metric("forgetting_final", _C, unit=FRACTION, digits=3, paper_digits=2, echo_digits=3, higher_is_better=False),
    Metric("mSA", _C),
    Metric("mUA", _C),
):
    METRICS.add(_metric)
