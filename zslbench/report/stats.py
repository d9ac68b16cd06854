"""Statistics of the report: the mean over seeds with its t interval, two-sample tests, verdicts.

Conventions (stated in the report too):
- a cell's interval is the 95 % confidence interval of the mean from Student's t distribution
  with n - 1 degrees of freedom (none for a single seed);
- two sets of runs are compared with a **paired t test over seeds** when they share the same
  seeds, or at least ``MIN_N`` common seeds (then only those are used); otherwise with
  **Welch's t test** on all values;
- a test is two-sided; a verdict needs at least ``MIN_N`` pairs (paired) or ``MIN_N`` runs on
  each side (Welch), and ``p < ALPHA``; no correction for multiple tests is applied;
- degenerate cases: differences that are all equal (zero variance) give p = 0 when they are
  not zero (every seed moved the same way by the same amount) and p = 1 when they are all zero.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy import stats as sps

LEVEL = 0.95
ALPHA = 0.05
MIN_N = 3

SUPPORTED, CONTRADICTED, INCONCLUSIVE, NO_VERDICT = "supported", "contradicted", "inconclusive", "no verdict"


@dataclass(frozen=True)
class Summary:
    """Mean, sample std (n - 1), n and the t interval of the mean (NaN where undefined)."""

    mean: float
    std: float
    n: int
    lo: float
    hi: float

    def contains(self, value: float) -> bool | None:
        """Whether `value` lies in the interval; None where there is no interval or no value."""
        if _nan(self.lo) or _nan(value):
            return None
        return self.lo <= value <= self.hi


def _nan(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def t_quantile(df: float, level: float = LEVEL) -> float:
    return float(sps.t.ppf(0.5 + level / 2, df))


def summarize(values, level: float = LEVEL) -> Summary:
    arr = np.asarray(list(values), dtype=float)
    n = int(arr.size)
    if n == 0:
        return Summary(math.nan, math.nan, 0, math.nan, math.nan)
    mean = float(arr.mean())
    if n < 2:
        return Summary(mean, math.nan, 1, math.nan, math.nan)
    std = float(arr.std(ddof=1))
    half = t_quantile(n - 1, level) * std / math.sqrt(n)
    return Summary(mean, std, n, mean - half, mean + half)


@dataclass(frozen=True)
class Comparison:
    """a against b: the difference of means (paired: the mean of the per-seed differences)."""

    test: str  # "paired t", "Welch t", or "none" (too little data for any test)
    diff: float
    lo: float  # the interval of `diff`
    hi: float
    t_stat: float  # the t statistic
    df: float
    p: float  # two-sided
    n_a: int
    n_b: int
    n_pairs: int  # seeds used by the paired test (0 for Welch)
    seeds: tuple = field(default=())  # the seeds used by the paired test

    @property
    def n_text(self) -> str:
        return f"{self.n_pairs} pairs" if self.test == "paired t" else f"{self.n_a} vs {self.n_b}"

    @property
    def enough(self) -> bool:
        if self.test == "paired t":
            return self.n_pairs >= MIN_N
        return self.test == "Welch t" and min(self.n_a, self.n_b) >= MIN_N


def _p_from_t(t_stat: float, df: float) -> float:
    return float(2 * sps.t.sf(abs(t_stat), df))


def _degenerate(diff: float) -> tuple[float, float]:
    """(t_stat, p) for a difference measured without any spread."""
    if diff == 0:
        return 0.0, 1.0
    return math.copysign(math.inf, diff), 0.0


def paired(a: list[float], b: list[float], level: float = LEVEL) -> tuple[float, float, float, float, float, float]:
    """(mean difference, lo, hi, t_stat, df, p) of the paired t test of a - b (same order)."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    n = d.size
    mean = float(d.mean()) if n else math.nan
    if n < 2:
        return mean, math.nan, math.nan, math.nan, math.nan, math.nan
    sd = float(d.std(ddof=1))
    df = n - 1
    se = sd / math.sqrt(n)
    if se == 0:
        t_stat, p = _degenerate(mean)
        return mean, mean, mean, t_stat, float(df), p
    t_stat = mean / se
    half = t_quantile(df, level) * se
    return mean, mean - half, mean + half, t_stat, float(df), _p_from_t(t_stat, df)


def welch(a: list[float], b: list[float], level: float = LEVEL) -> tuple[float, float, float, float, float, float]:
    """(mean(a) - mean(b), lo, hi, t_stat, Welch-Satterthwaite df, p)."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    diff = float(x.mean() - y.mean()) if x.size and y.size else math.nan
    if x.size < 2 or y.size < 2:
        return diff, math.nan, math.nan, math.nan, math.nan, math.nan
    va, vb = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    se2 = va + vb
    if se2 == 0:
        t_stat, p = _degenerate(diff)
        return diff, diff, diff, t_stat, float(x.size + y.size - 2), p
    df = se2**2 / (va**2 / (x.size - 1) + vb**2 / (y.size - 1))
    se = math.sqrt(se2)
    t_stat = diff / se
    half = t_quantile(df, level) * se
    return diff, diff - half, diff + half, t_stat, float(df), _p_from_t(t_stat, df)


def compare(a: Mapping[int, float], b: Mapping[int, float], level: float = LEVEL) -> Comparison:
    """Compare the runs of a with those of b, each given as {seed: value}."""
    common = sorted(set(a) & set(b))
    same = set(a) == set(b) and len(common) >= 1
    if same or len(common) >= MIN_N:
        diff, lo, hi, t_stat, df, p = paired([a[s] for s in common], [b[s] for s in common], level)
        return Comparison("paired t", diff, lo, hi, t_stat, df, p, len(a), len(b), len(common), tuple(common))
    if not a or not b:
        return Comparison("none", math.nan, math.nan, math.nan, math.nan, math.nan, math.nan, len(a), len(b), 0)
    diff, lo, hi, t_stat, df, p = welch(list(a.values()), list(b.values()), level)
    test = "Welch t" if min(len(a), len(b)) >= 2 else "none"
    return Comparison(test, diff, lo, hi, t_stat, df, p, len(a), len(b), 0)


def verdict(comp: Comparison, direction: str, alpha: float = ALPHA) -> tuple[str, str]:
    """(verdict, reason) for the statement "a is `direction` than b" (greater or less)."""
    if direction not in ("greater", "less"):
        raise ValueError(f"direction {direction!r}: expected greater or less")
    if comp.test == "none" and not (comp.n_a and comp.n_b):
        return INCONCLUSIVE, "no runs on one side"
    if not comp.enough:
        need = f"{MIN_N} paired seeds" if comp.test == "paired t" else f"{MIN_N} runs on each side"
        return INCONCLUSIVE, f"too few seeds ({comp.n_text}; a verdict needs {need})"
    if _nan(comp.p):
        return INCONCLUSIVE, "no test possible"
    if comp.p >= alpha:
        return INCONCLUSIVE, f"difference not significant (p = {fmt_p(comp.p)} ≥ {alpha:g})"
    wanted = comp.diff > 0 if direction == "greater" else comp.diff < 0
    if wanted:
        return SUPPORTED, f"significant in the claimed direction (p = {fmt_p(comp.p)} < {alpha:g})"
    return CONTRADICTED, f"significant in the opposite direction (p = {fmt_p(comp.p)} < {alpha:g})"


def combine(verdicts: list[str]) -> str:
    """A claim made of several checks: contradicted if any is, supported if all are."""
    if not verdicts:
        return INCONCLUSIVE
    if CONTRADICTED in verdicts:
        return CONTRADICTED
    if all(v == SUPPORTED for v in verdicts):
        return SUPPORTED
    return INCONCLUSIVE


def fmt_p(p: float) -> str:
    if _nan(p):
        return "—"
    if p == 0:
        return "0"
    if p < 1e-4:
        return f"{p:.1e}"
    return f"{p:.4f}" if p < 0.01 else f"{p:.3f}"
