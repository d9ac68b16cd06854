"""Tests of zslbench.metrics: hand-checked cases, slow independent oracles, properties."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from zslbench.metrics import (
    ausuc,
    ausuc_sweep,
    calibrate,
    gzsl_scores,
    harmonic_mean,
    per_class_accuracy,
    per_sample_accuracy,
    seen_unseen_curve,
    to_numpy,
)

HYPOTHESIS = settings(max_examples=40, deadline=None)


# ----------------------------------------------------------------------------
# independent slow implementations (plain Python loops, no zslbench code)
# ----------------------------------------------------------------------------
def first_argmax(row, cols):
    """Class id of the largest row[c] over cols, the smallest id on ties."""
    best = None
    for c in sorted(cols):
        if best is None or row[c] > row[best]:
            best = c
    return best


def slow_accuracy(preds, labels, classes, mode):
    classes = list(classes)
    if mode == "per_sample":
        picked = [(p, y) for p, y in zip(preds, labels) if y in classes]
        return sum(p == y for p, y in picked) / len(picked)
    accs = []
    for c in classes:
        idx = [i for i, y in enumerate(labels) if y == c]
        if idx:
            accs.append(sum(preds[i] == c for i in idx) / len(idx))
    return sum(accs) / len(accs)


def slow_gzsl(logits, labels, seen, unseen, scale, mode):
    logits = [list(map(float, row)) for row in np.asarray(logits)]
    labels = [int(y) for y in labels]
    seen, unseen = [int(c) for c in seen], [int(c) for c in unseen]
    all_classes = range(len(logits[0]))
    preds, preds_zsl = [], []
    for row in logits:
        cal = [v * scale if c in seen else v for c, v in enumerate(row)]
        preds.append(first_argmax(cal, all_classes))
        preds_zsl.append(first_argmax(row, unseen))
    s_idx = [i for i, y in enumerate(labels) if y in seen]
    u_idx = [i for i, y in enumerate(labels) if y in unseen]
    s = slow_accuracy([preds[i] for i in s_idx], [labels[i] for i in s_idx], seen, mode)
    u = slow_accuracy([preds[i] for i in u_idx], [labels[i] for i in u_idx], unseen, mode)
    z = slow_accuracy([preds_zsl[i] for i in u_idx], [labels[i] for i in u_idx], unseen, mode)
    h = 0.0 if s + u == 0 else 2 * s * u / (s + u)
    return {"S": 100 * s, "U": 100 * u, "H": 100 * h, "ZSL": 100 * z}


def brute_ausuc(logits, labels, seen_mask):
    """Exact AUSUC by visiting one bias between every two consecutive breakpoints.

    A sample's prediction can only switch between the seen and unseen blocks at
    the bias b = max_seen - max_unseen; between two consecutive breakpoints all
    predictions are constant, so evaluating one bias per interval (and one
    below / above all of them) visits every point of the curve.
    """
    logits = [list(map(float, row)) for row in np.asarray(logits)]
    labels = [int(y) for y in labels]
    mask = [bool(m) for m in seen_mask]
    classes = range(len(mask))
    seen = [c for c in classes if mask[c]]
    unseen = [c for c in classes if not mask[c]]
    gaps = sorted({max(r[c] for c in seen) - max(r[c] for c in unseen) for r in logits})
    biases = [gaps[0] - 1.0]
    biases += [(a + b) / 2 for a, b in itertools.pairwise(gaps)]
    biases += [gaps[-1] + 1.0]
    n_s = sum(mask[y] for y in labels)
    n_u = len(labels) - n_s
    xs, ys = [], []
    for b in biases:
        hit_s = hit_u = 0
        for row, y in zip(logits, labels):
            shifted = [v if mask[c] else v + b for c, v in enumerate(row)]
            if first_argmax(shifted, classes) == y:
                if mask[y]:
                    hit_s += 1
                else:
                    hit_u += 1
        xs.append(hit_u / n_u)
        ys.append(hit_s / n_s)
    area = 0.0
    for i in range(1, len(xs)):
        area += (xs[i] - xs[i - 1]) * (ys[i] + ys[i - 1]) / 2
    return 100 * area


def random_problem(seed, n=120, c=12, low=-25.0, high=25.0, signal=15.0, integer=False):
    """Random logits over c classes with a random seen/unseen split and unequal class sizes.

    signal is added to the true class's logit so that accuracies are neither 0
    nor 1; integer=True rounds the logits to multiples of 5 (many exact ties,
    both between and within the seen and unseen blocks).
    """
    rng = np.random.default_rng(seed)
    n_seen = int(rng.integers(1, c))
    seen = np.sort(rng.permutation(c)[:n_seen])
    mask = np.zeros(c, dtype=bool)
    mask[seen] = True
    unseen = np.flatnonzero(~mask)
    weights = rng.uniform(0.2, 3.0, c)
    labels = rng.choice(c, size=n, p=weights / weights.sum())
    labels[:2] = [seen[0], unseen[0]]  # both sides have samples
    logits = rng.uniform(low, high, (n, c))
    logits[np.arange(n), labels] += signal * rng.uniform(0, 1, n)
    if integer:
        logits = 5.0 * np.round(logits / 5.0)
    return logits, labels, seen, unseen, mask


# ----------------------------------------------------------------------------
# hand-checked cases
# ----------------------------------------------------------------------------
# classes 0, 1 seen; 2, 3 unseen.  Predictions (argmax over all classes):
#   s0..s2 (class 0): 0, 0, 1     -> class 0 accuracy 2/3
#   s3     (class 1): 1 (2 > 1.9) -> class 1 accuracy 1;  with seen_scale 0.5: 2 (1 < 1.9)
#   s4     (class 2): 0 (3 > 2)   -> class 2 accuracy 0;  ZSL (only 2, 3): 2
#   s5     (class 3): 3
HAND_LOGITS = np.array(
    [
        [5.0, 1.0, 0.0, 0.0],
        [4.0, 1.0, 0.0, 0.0],
        [1.0, 3.0, 0.0, 0.0],
        [0.0, 2.0, 1.9, 0.0],
        [3.0, 0.0, 2.0, 1.0],
        [0.0, 0.0, 1.0, 4.0],
    ]
)
HAND_LABELS = np.array([0, 0, 0, 1, 2, 3])
SEEN, UNSEEN = [0, 1], [2, 3]


def test_hand_per_class_scores():
    r = gzsl_scores(HAND_LOGITS, HAND_LABELS, SEEN, UNSEEN)
    assert r["S"] == pytest.approx(100 * (2 / 3 + 1) / 2)  # 83.33
    assert r["U"] == pytest.approx(50.0)
    assert r["H"] == pytest.approx(2 * (250 / 3) * 50 / (250 / 3 + 50))  # 62.5
    assert r["H"] == pytest.approx(62.5)
    assert r["ZSL"] == pytest.approx(100.0)


def test_hand_per_sample_differs_under_imbalance():
    r = gzsl_scores(HAND_LOGITS, HAND_LABELS, SEEN, UNSEEN, acc_mode="per_sample")
    assert r["S"] == pytest.approx(75.0)  # 3 of 4 seen samples, vs 83.33 per class
    assert r["U"] == pytest.approx(50.0)
    assert r["ZSL"] == pytest.approx(100.0)


def test_hand_calibration_changes_predictions():
    r = gzsl_scores(HAND_LOGITS, HAND_LABELS, SEEN, UNSEEN, seen_scale=0.5)
    # s3 flips to class 2 (wrong), s4 flips to class 2 (right), s2 stays wrong.
    assert r["S"] == pytest.approx(100 * (2 / 3 + 0) / 2)
    assert r["U"] == pytest.approx(100.0)
    assert r["H"] == pytest.approx(50.0)
    assert r["ZSL"] == pytest.approx(100.0)  # restricted to unseen: untouched


def test_hand_h_is_zero_when_one_side_is_zero():
    logits = HAND_LOGITS.copy()
    logits[:, :2] += 100.0  # every sample predicted seen: U = 0
    r = gzsl_scores(logits, HAND_LABELS, SEEN, UNSEEN)
    assert r["U"] == 0.0 and r["S"] > 0 and r["H"] == 0.0
    assert r["ZSL"] == pytest.approx(100.0)
    assert harmonic_mean(0.0, 0.0) == 0.0
    assert harmonic_mean(0.0, 70.0) == 0.0


def test_calibrate_is_multiplicative_and_copies():
    before = HAND_LOGITS.copy()
    out = calibrate(HAND_LOGITS, SEEN, 0.95)
    np.testing.assert_array_equal(HAND_LOGITS, before)
    np.testing.assert_allclose(out[:, :2], 0.95 * before[:, :2])
    np.testing.assert_array_equal(out[:, 2:], before[:, 2:])
    t = torch.tensor(before)
    np.testing.assert_allclose(calibrate(t, SEEN, 0.95), out)
    np.testing.assert_array_equal(t.numpy(), before)


def test_per_class_accuracy_skips_classes_without_samples():
    pred = np.array([0, 0, 1, 1, 2])
    labels = np.array([0, 0, 0, 1, 1])
    # class 0: 2/3, class 1: 1/2, class 7: no sample (skipped)
    assert per_class_accuracy(pred, labels, [0, 1, 7]) == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert per_class_accuracy(pred, labels, [1]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="none of the given classes"):
        per_class_accuracy(pred, labels, [5, 6])


def test_per_sample_accuracy_with_mask():
    pred = np.array([0, 1, 2, 3])
    labels = np.array([0, 1, 0, 0])
    assert per_sample_accuracy(pred, labels) == pytest.approx(0.5)
    assert per_sample_accuracy(pred, labels, labels == 0) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="no samples"):
        per_sample_accuracy(pred, labels, np.zeros(4, dtype=bool))


def test_hand_ausuc_curve():
    # classes 0, 1 seen; 2, 3 unseen.  gap = max_seen - max_unseen:
    #   a (class 0, seen argmax right):   gap 2
    #   b (class 1, seen argmax wrong):   gap 2
    #   c (class 2, unseen argmax right): gap -1
    #   d (class 3, unseen argmax right): gap 0.5
    logits = np.array([[3.0, 0, 1, 0], [2.0, 0, 0, 0], [1.0, 0, 2, 0], [0.0, 1, 0, 0.5]])
    labels = np.array([0, 1, 2, 3])
    mask = np.array([True, True, False, False])
    acc_u, acc_s = seen_unseen_curve(logits, labels, mask)
    # b = -inf, then c flips, then d flips, then a and b flip together
    np.testing.assert_allclose(acc_u, [0.0, 0.5, 1.0, 1.0])
    np.testing.assert_allclose(acc_s, [0.5, 0.5, 0.5, 0.0])
    assert ausuc(logits, labels, mask) == pytest.approx(50.0)
    assert brute_ausuc(logits, labels, mask) == pytest.approx(50.0)


def test_hand_ausuc_tied_gaps_flip_together():
    # A seen-correct and an unseen-correct sample with the same gap (-1): any
    # bias sweep jumps from (accU, accS) = (0, 1) straight to (1, 0), so the
    # area is the chord's, 50 -- not 0 or 100 as a one-at-a-time staircase
    # would give depending on the order of the tied samples.
    logits = np.array([[2.0, 0, 3, 0], [1.0, 0, 2, 0]])
    labels = np.array([0, 2])
    mask = np.array([True, True, False, False])
    acc_u, acc_s = seen_unseen_curve(logits, labels, mask)
    np.testing.assert_allclose(acc_u, [0.0, 1.0])
    np.testing.assert_allclose(acc_s, [1.0, 0.0])
    assert ausuc(logits, labels, mask) == pytest.approx(50.0)
    assert ausuc(logits[::-1], labels[::-1], mask) == pytest.approx(50.0)
    assert brute_ausuc(logits, labels, mask) == pytest.approx(50.0)
    assert ausuc_sweep(logits, labels, mask, n_thresholds=101) == pytest.approx(50.0)


# ----------------------------------------------------------------------------
# gzsl_scores against the slow loop implementation
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("mode", ["per_class", "per_sample"])
def test_gzsl_scores_match_slow_loops(seed, mode):
    logits, labels, seen, unseen, _ = random_problem(seed, n=150, c=10, low=0.0, high=5.0, signal=3.0)
    for scale in (1.0, 0.95, 0.7):
        fast = gzsl_scores(logits, labels, seen, unseen, seen_scale=scale, acc_mode=mode)
        slow = slow_gzsl(logits, labels, seen, unseen, scale, mode)
        assert fast.keys() == slow.keys()
        for key in slow:
            assert fast[key] == pytest.approx(slow[key], abs=1e-6), key


@pytest.mark.parametrize("seed", range(3))
def test_gzsl_scores_with_ties_match_slow_loops(seed):
    logits, labels, seen, unseen, _ = random_problem(seed, n=100, c=8, integer=True)
    for mode in ("per_class", "per_sample"):
        fast = gzsl_scores(logits, labels, seen, unseen, acc_mode=mode)
        slow = slow_gzsl(logits, labels, seen, unseen, 1.0, mode)
        for key in slow:
            assert fast[key] == pytest.approx(slow[key], abs=1e-6), key


def test_torch_input_gives_the_same_numbers():
    logits, labels, seen, unseen, mask = random_problem(7, n=200, c=15)
    logits = logits.astype(np.float32)
    t_logits = torch.tensor(logits, requires_grad=True)
    t_labels = torch.tensor(labels)
    for mode in ("per_class", "per_sample"):
        expected = gzsl_scores(logits, labels, seen, unseen, 0.95, mode)
        got = gzsl_scores(t_logits, t_labels, torch.tensor(seen), torch.tensor(unseen), 0.95, mode)
        assert got == expected
    assert ausuc(t_logits, t_labels, torch.tensor(mask)) == ausuc(logits, labels, mask)
    assert to_numpy(torch.ones(2, dtype=torch.bfloat16)).dtype == np.float32


def test_gzsl_scores_validation():
    ok = (HAND_LOGITS, HAND_LABELS, SEEN, UNSEEN)
    with pytest.raises(ValueError, match="labels has 5 entries"):
        gzsl_scores(HAND_LOGITS, HAND_LABELS[:5], SEEN, UNSEEN)
    with pytest.raises(ValueError, match="2-D"):
        gzsl_scores(HAND_LOGITS[0], HAND_LABELS, SEEN, UNSEEN)
    with pytest.raises(ValueError, match=r"labels must be global class ids in \[0, 4\)"):
        gzsl_scores(HAND_LOGITS, HAND_LABELS + 1, SEEN, UNSEEN)
    with pytest.raises(ValueError, match="seen_classes is empty"):
        gzsl_scores(HAND_LOGITS, HAND_LABELS, [], UNSEEN)
    with pytest.raises(ValueError, match="unseen_classes is empty"):
        gzsl_scores(HAND_LOGITS, HAND_LABELS, SEEN, [])
    with pytest.raises(ValueError, match="overlap"):
        gzsl_scores(HAND_LOGITS, HAND_LABELS, [0, 1, 2], UNSEEN)
    with pytest.raises(ValueError, match="unseen_classes must be class ids"):
        gzsl_scores(HAND_LOGITS, HAND_LABELS, SEEN, [2, 4])
    with pytest.raises(ValueError, match="acc_mode"):
        gzsl_scores(*ok, acc_mode="macro")
    with pytest.raises(ValueError, match="integer"):
        gzsl_scores(HAND_LOGITS, HAND_LABELS + 0.5, SEEN, UNSEEN)
    bad = HAND_LOGITS.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        gzsl_scores(bad, HAND_LABELS, SEEN, UNSEEN)
    with pytest.raises(ValueError, match="seen-class label"):
        gzsl_scores(HAND_LOGITS[4:], HAND_LABELS[4:], SEEN, UNSEEN)


# ----------------------------------------------------------------------------
# AUSUC
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("integer", [False, True])
def test_ausuc_equals_exact_brute_force(seed, integer):
    logits, labels, _, _, mask = random_problem(seed, n=70, c=9, integer=integer)
    fast = ausuc(logits, labels, mask)
    assert fast == pytest.approx(brute_ausuc(logits, labels, mask), abs=1e-6)
    assert 0.0 <= fast <= 100.0


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("integer", [False, True])
def test_ausuc_matches_the_threshold_sweep(seed, integer):
    logits, labels, _, _, mask = random_problem(100 + seed, n=150, c=12, integer=integer)
    fast = ausuc(logits, labels, mask)
    assert ausuc_sweep(logits, labels, mask, n_thresholds=10001) == pytest.approx(fast, abs=1e-2)
    assert ausuc_sweep(logits, labels, mask, n_thresholds=11, exact=True) == pytest.approx(fast, abs=1e-9)


def test_ausuc_float32_matches_float64_of_the_same_values():
    logits, labels, _, _, mask = random_problem(3, n=300, c=20)
    logits32 = logits.astype(np.float32)
    assert ausuc(logits32, labels, mask) == pytest.approx(ausuc(logits32.astype(np.float64), labels, mask), abs=1e-12)


def test_sweep_range_covers_wide_logits():
    # Logits spanning +-25 (gamma = 5 cosine logits): a fixed +-10 sweep would
    # miss part of the curve; the adaptive range reaches both ends.
    logits, labels, _, _, mask = random_problem(11, n=150, c=12, low=-25.0, high=25.0, signal=30.0)
    exact = ausuc(logits, labels, mask)
    assert ausuc_sweep(logits, labels, mask, n_thresholds=20001) == pytest.approx(exact, abs=1e-2)

    # The authors' fixed range, lambda in arange(-10, 10, 0.01) (docs/paper-protocol.md#pitfall-8).
    seen_samples = mask[labels]
    acc_s, acc_u = [], []
    for b in np.arange(-10, 10, 0.01):
        hit = (logits + b * ~mask).argmax(axis=1) == labels
        acc_s.append(hit[seen_samples].mean())
        acc_u.append(hit[~seen_samples].mean())
    truncated = 100 * np.sum(np.diff(acc_u) * (np.array(acc_s[1:]) + acc_s[:-1]) / 2)
    assert acc_u[0] > 0 and acc_s[-1] > 0  # neither end of the curve is reached
    assert truncated < exact - 5


def test_curve_endpoints_and_monotonicity():
    logits, labels, _, _, mask = random_problem(5, n=200, c=10, integer=True)
    acc_u, acc_s = seen_unseen_curve(logits, labels, mask)
    seen_samples = mask[labels]
    seen_block = np.where(mask, logits, -np.inf).argmax(axis=1)
    unseen_block = np.where(mask, -np.inf, logits).argmax(axis=1)
    assert acc_u[0] == 0.0
    assert acc_s[0] == pytest.approx(np.mean(seen_block[seen_samples] == labels[seen_samples]))
    assert acc_s[-1] == 0.0
    assert acc_u[-1] == pytest.approx(np.mean(unseen_block[~seen_samples] == labels[~seen_samples]))
    assert np.all(np.diff(acc_u) >= 0) and np.all(np.diff(acc_s) <= 0)


def test_ausuc_perfect_classifier_is_100():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 300)
    logits = rng.uniform(0, 1, (300, 10))
    logits[np.arange(300), labels] += 10.0
    mask = np.arange(10) < 6
    assert ausuc(logits, labels, mask) == pytest.approx(100.0, abs=1e-9)
    assert ausuc_sweep(logits, labels, mask, n_thresholds=501) == pytest.approx(100.0, abs=1e-9)


def test_ausuc_without_seen_or_unseen_classes_is_plain_accuracy():
    logits, labels, _, _, _ = random_problem(2, n=100, c=6)
    acc = 100 * np.mean(logits.argmax(axis=1) == labels)
    for mask in (np.zeros(6, dtype=bool), np.ones(6, dtype=bool)):
        assert ausuc(logits, labels, mask) == pytest.approx(acc)
        assert ausuc_sweep(logits, labels, mask) == pytest.approx(acc)


def test_ausuc_invariant_to_relabelling():
    logits, labels, _, _, mask = random_problem(9, n=250, c=14)
    perm = np.random.default_rng(1).permutation(14)  # old id c -> new id perm[c]
    new_logits = np.empty_like(logits)
    new_logits[:, perm] = logits
    new_mask = np.empty_like(mask)
    new_mask[perm] = mask
    assert ausuc(new_logits, perm[labels], new_mask) == pytest.approx(ausuc(logits, labels, mask), abs=1e-9)
    order = np.random.default_rng(2).permutation(250)  # sample order is irrelevant too
    assert ausuc(logits[order], labels[order], mask) == pytest.approx(ausuc(logits, labels, mask), abs=1e-9)


def test_ausuc_validation():
    logits, labels, _, _, mask = random_problem(0, n=20, c=5)
    with pytest.raises(ValueError, match="seen_mask"):
        ausuc(logits, labels, mask[:4])
    with pytest.raises(ValueError, match="seen_mask must be boolean"):
        ausuc(logits, labels, np.array([0, 2, 1, 0, 1]))
    with pytest.raises(ValueError, match="labels has"):
        ausuc(logits, labels[:-1], mask)
    with pytest.raises(ValueError, match="labels must be global class ids"):
        ausuc(logits, np.full(20, 5), mask)
    with pytest.raises(ValueError, match="unseen-class label"):
        ausuc(logits, np.flatnonzero(mask)[np.zeros(20, dtype=int)], mask)
    bad = logits.copy()
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        ausuc(bad, labels, mask)


# ----------------------------------------------------------------------------
# properties
# ----------------------------------------------------------------------------
accuracy = st.floats(0.0, 100.0, allow_nan=False)


@HYPOTHESIS
@given(accuracy, accuracy)
def test_harmonic_mean_bounds(s, u):
    h = harmonic_mean(s, u)
    assert min(s, u) - 1e-9 <= h <= max(s, u) + 1e-9
    if s == 0 or u == 0:
        assert h == 0.0


@st.composite
def small_problems(draw):
    n = draw(st.integers(2, 14))
    c = draw(st.integers(2, 6))
    mask = np.array(draw(st.lists(st.booleans(), min_size=c, max_size=c)))
    labels = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    values = draw(st.lists(st.integers(-3, 3), min_size=n * c, max_size=n * c))
    logits = 5.0 * np.array(values, dtype=float).reshape(n, c)  # many exact ties
    return logits, labels, mask


@HYPOTHESIS
@given(small_problems())
def test_ausuc_property_matches_brute_force(problem):
    logits, labels, mask = problem
    if mask.all() or not mask.any():
        value = ausuc(logits, labels, mask)
        assert value == pytest.approx(100 * np.mean(logits.argmax(axis=1) == labels))
    else:
        assume(mask[labels].any() and (~mask[labels]).any())
        value = ausuc(logits, labels, mask)
        assert value == pytest.approx(brute_ausuc(logits, labels, mask), abs=1e-9)
    assert 0.0 <= value <= 100.0


@HYPOTHESIS
@given(small_problems())
def test_gzsl_property_h_bounds(problem):
    logits, labels, mask = problem
    seen, unseen = np.flatnonzero(mask), np.flatnonzero(~mask)
    assume(seen.size and unseen.size and mask[labels].any() and (~mask[labels]).any())
    r = gzsl_scores(logits, labels, seen, unseen)
    assert r["H"] <= max(r["S"], r["U"]) + 1e-9
    if r["S"] == 0 or r["U"] == 0:
        assert r["H"] == 0.0
    for key in ("S", "U", "H", "ZSL"):
        assert 0.0 <= r[key] <= 100.0


@HYPOTHESIS
@given(
    st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=1, max_size=30),
    st.integers(0, 4),
    st.integers(2, 4),
)
def test_per_class_accuracy_ignores_duplicating_one_class(pairs, dup_class, copies):
    pred = np.array([p for p, _ in pairs])
    labels = np.array([y for _, y in pairs])
    classes = np.arange(5)
    before = per_class_accuracy(pred, labels, classes)
    sel = labels == dup_class
    pred2 = np.concatenate([pred] + [pred[sel]] * (copies - 1))
    labels2 = np.concatenate([labels] + [labels[sel]] * (copies - 1))
    assert per_class_accuracy(pred2, labels2, classes) == pytest.approx(before, abs=1e-12)
