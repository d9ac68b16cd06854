"""The report's statistics against scipy.stats, and the verdicts of the paper's claims on
hand-made records."""

from __future__ import annotations

import math
import warnings

import _report_records as mk
import numpy as np
import pytest
import scipy.stats as sps

from zslbench.report import stats
from zslbench.report.claims import evaluate, load_claims, pre_var_drift

A = {1: 50.1, 2: 48.3, 3: 51.0, 4: 49.5, 5: 52.2}
B = {1: 47.0, 2: 47.9, 3: 48.8, 4: 46.1, 5: 49.0}


def test_summary_interval_is_students_t():
    values = [3.0, 4.5, 5.0, 6.5]
    s = stats.summarize(values)
    lo, hi = sps.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=sps.sem(values))
    assert (s.n, s.mean) == (4, pytest.approx(np.mean(values)))
    assert s.std == pytest.approx(np.std(values, ddof=1))
    assert (s.lo, s.hi) == (pytest.approx(lo), pytest.approx(hi))
    one = stats.summarize([7.0])
    assert one.n == 1 and one.mean == 7.0 and math.isnan(one.lo) and one.contains(7.0) is None
    assert stats.summarize([]).n == 0


def test_paired_test_matches_scipy():
    c = stats.compare(A, B)
    seeds = sorted(A)
    ref = sps.ttest_rel([A[s] for s in seeds], [B[s] for s in seeds])
    ci = ref.confidence_interval(0.95)
    assert c.test == "paired t" and c.n_pairs == 5 and c.seeds == tuple(seeds)
    assert c.t_stat == pytest.approx(ref.statistic) and c.p == pytest.approx(ref.pvalue)
    assert c.df == ref.df
    assert (c.lo, c.hi) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert c.diff == pytest.approx(np.mean([A[s] - B[s] for s in seeds]))


def test_welch_test_matches_scipy_when_seeds_differ():
    b = {11: 47.0, 12: 45.9, 13: 48.8, 14: 46.1}
    c = stats.compare(A, b)
    ref = sps.ttest_ind(list(A.values()), list(b.values()), equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert c.test == "Welch t" and (c.n_a, c.n_b, c.n_pairs) == (5, 4, 0)
    assert c.t_stat == pytest.approx(ref.statistic) and c.p == pytest.approx(ref.pvalue)
    assert c.df == pytest.approx(ref.df)
    assert (c.lo, c.hi) == (pytest.approx(ci.low), pytest.approx(ci.high))


def test_missing_seeds_on_one_side():
    # four shared seeds: paired over those four, seed 5 of a left out
    b = {s: B[s] for s in (1, 2, 3, 4)}
    c = stats.compare(A, b)
    ref = sps.ttest_rel([A[s] for s in (1, 2, 3, 4)], [B[s] for s in (1, 2, 3, 4)])
    assert c.test == "paired t" and c.seeds == (1, 2, 3, 4) and c.p == pytest.approx(ref.pvalue)
    # one shared seed only: Welch on everything
    b = {1: 47.0, 6: 45.0, 7: 46.5}
    c = stats.compare(A, b)
    ref = sps.ttest_ind(list(A.values()), list(b.values()), equal_var=False)
    assert c.test == "Welch t" and c.p == pytest.approx(ref.pvalue)


def test_ties_and_zero_variance():
    # every seed moves by the same amount: scipy says t = inf, p = 0; so do we
    a = {1: 3.0, 2: 4.0, 3: 5.0}
    b = {1: 1.0, 2: 2.0, 3: 3.0}
    c = stats.compare(a, b)
    with warnings.catch_warnings():  # scipy warns of precision loss on constant differences
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = sps.ttest_rel([3.0, 4.0, 5.0], [1.0, 2.0, 3.0])
    assert c.p == ref.pvalue == 0.0 and c.t_stat == ref.statistic == math.inf
    assert stats.verdict(c, "greater")[0] == stats.SUPPORTED
    assert stats.verdict(c, "less")[0] == stats.CONTRADICTED
    # no difference at all: scipy gives NaN; we define p = 1, which is never a verdict
    c = stats.compare(a, dict(a))
    assert c.diff == 0 and c.p == 1.0
    assert stats.verdict(c, "greater")[0] == stats.INCONCLUSIVE
    # Welch with both sides constant
    c = stats.compare({1: 2.0, 2: 2.0, 3: 2.0}, {4: 1.0, 5: 1.0, 6: 1.0})
    assert c.test == "Welch t" and c.p == 0.0 and c.diff == 1.0


def test_single_seed_is_never_a_verdict():
    c = stats.compare({1: 60.0}, {1: 10.0})
    assert c.test == "paired t" and c.n_pairs == 1 and math.isnan(c.p)
    verdict, reason = stats.verdict(c, "greater")
    assert verdict == stats.INCONCLUSIVE and "too few seeds" in reason
    c = stats.compare({1: 60.0}, {2: 10.0})
    assert c.test == "none" and stats.verdict(c, "greater")[0] == stats.INCONCLUSIVE
    # two paired seeds with a tiny p are still too few
    c = stats.compare({1: 60.0, 2: 61.0}, {1: 10.0, 2: 10.5})
    assert c.p < 0.05 and stats.verdict(c, "greater")[0] == stats.INCONCLUSIVE


def test_combine():
    S, C, N = stats.SUPPORTED, stats.CONTRADICTED, stats.INCONCLUSIVE
    assert stats.combine([S, S]) == S
    assert stats.combine([S, N]) == N
    assert stats.combine([S, C, N]) == C
    assert stats.combine([]) == N


# --- verdicts of claim 1 (mlp3+cn beats mlp3 on H) on crafted records -------------------------------
CASES = {
    # name: (seeds, H of mlp3 per seed, H of mlp3+cn minus H of mlp3 per seed, expected verdict)
    "clear win, 5 seeds": ((1, 2, 3, 4, 5), (40.0, 42.0, 39.5, 41.0, 40.5), (5.0, 5.5, 4.8, 5.2, 5.1), stats.SUPPORTED),
    "clear win, 1 seed": ((1,), (40.0,), (5.0,), stats.INCONCLUSIVE),
    "sign flipped, 5 seeds": (
        (1, 2, 3, 4, 5),
        (40.0, 42.0, 39.5, 41.0, 40.5),
        (-5.0, -5.5, -4.8, -5.2, -5.1),
        stats.CONTRADICTED,
    ),
    "noise, 5 seeds": (
        (1, 2, 3, 4, 5),
        (40.0, 42.0, 39.5, 41.0, 40.5),
        (0.8, -1.1, 0.4, -0.6, 0.3),
        stats.INCONCLUSIVE,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_claim_verdicts_on_crafted_records(case, tmp_path):
    seeds, base, delta, expected = CASES[case]
    ids = []
    for seed, h, d in zip(seeds, base, delta):
        ids.append(mk.gzsl(tmp_path, "mlp3", "cub", seed, h))
        ids.append(mk.gzsl(tmp_path, "mlp3+cn", "cub", seed, h + d))
    claim = next(c for c in load_claims() if c.id == "1")
    (result,) = [r for r in evaluate(tmp_path, [claim])]
    assert result.verdict == expected, result.reason
    assert result.source == "xlsa17" and len(result.checks) == 1
    check = result.checks[0]
    assert check.comparison.diff == pytest.approx(float(np.mean(delta)))
    assert sorted(check.runs_a + check.runs_b) == sorted(ids)
    assert len(result.not_run) == 3  # SUN, AwA1, AwA2


def test_claim_with_no_runs_is_inconclusive(tmp_path):
    (tmp_path / "runs").mkdir()
    results = evaluate(tmp_path)
    assert {r.claim.id for r in results} == {str(i) for i in range(1, 9)} | {"8b"}
    assert all(r.verdict == stats.INCONCLUSIVE and r.reason == "no runs for it" for r in results)


def test_czsl_claims_per_method(tmp_path):
    for seed in (1, 2, 3):
        mk.czsl(tmp_path, "sequential", False, "cub", seed, 10.0 + seed, forgetting=0.20 + 0.01 * seed)
        mk.czsl(tmp_path, "sequential", True, "cub", seed, 14.0 + seed * 1.1, forgetting=0.05 + 0.01 * seed)
    by_id = {r.claim.id: r for r in evaluate(tmp_path) if r.claim.table == "czsl"}
    assert by_id["6"].verdict == stats.SUPPORTED and len(by_id["6"].checks) == 3  # mAUC, mH, mJA
    assert by_id["7"].verdict == stats.SUPPORTED and by_id["7"].checks[0].metric == "forgetting"


def test_variance_drift_claim(tmp_path):
    for seed in (1, 2, 3):
        rid = mk.gzsl(tmp_path, "mlp3", "sun", seed, 40.0, pre_var=(1.0, 20.0 + seed))
        mk.gzsl(tmp_path, "mlp3+cn", "sun", seed, 45.0, pre_var=(1.0, 1.2 + 0.1 * seed))
    rec = {"_dir": str(tmp_path / "runs" / rid)}
    assert pre_var_drift(rec) == pytest.approx(math.log(23.0))
    claim = next(c for c in load_claims() if c.id == "5")
    (result,) = evaluate(tmp_path, [claim])
    assert result.verdict == stats.SUPPORTED, result.reason
    assert [c.metric for c in result.checks] == ["pre_var_drift"]  # mlp3+eq10 has no runs: not run
    assert any("mlp3+eq10" in label for label in result.not_run)


@pytest.mark.parametrize(
    "device, seconds, expected",
    [
        ("cpu", 12.0, stats.NO_VERDICT),
        ("cuda", 21.0, stats.SUPPORTED),
        ("cuda", 300.0, stats.CONTRADICTED),
    ],
)
def test_speed_claim_needs_a_gpu(tmp_path, device, seconds, expected):
    for seed in (1, 2, 3):
        mk.gzsl(tmp_path, "mlp3+cn", "cub", seed, 50.0, device=device, train_seconds=seconds + seed)
    claim = next(c for c in load_claims() if c.id == "8b")
    (result,) = evaluate(tmp_path, [claim])
    assert result.verdict == expected, result.reason
    assert result.checks[0].summary.mean == pytest.approx(seconds + 2)
