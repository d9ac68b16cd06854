"""Continual-ZSL metrics (docs/paper-protocol.md#czsl-metrics): hand-derived histories and a slow, direct
implementation of every formula."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from zslbench.metrics import czsl_scores, czsl_steps

# Three tasks of two classes, two test images per class: 4 images per task, 12 in all.
TASKS = [[0, 1], [2, 3], [4, 5]]
LABELS = np.repeat(np.arange(6), 2)
TASK_OF_SAMPLE = LABELS // 2


def logits_from_predictions(pred: np.ndarray, labels: np.ndarray = LABELS, c: int = 6) -> np.ndarray:
    """Logit 1 at the predicted class; 0 elsewhere except -1 at the true class, so that the
    arg-max of any block of classes that does not hold the prediction is never the label."""
    out = np.zeros((labels.size, c))
    out[np.arange(labels.size), labels] = -1.0
    out[np.arange(labels.size), pred] = 1.0
    return out


def wrong(labels: np.ndarray = LABELS) -> np.ndarray:
    return labels ^ 1  # the other class of the same task: always wrong


def history_from_correct(correct_sets) -> list[np.ndarray]:
    """One snapshot per entry: a boolean vector of which samples are right (others wrong)."""
    return [logits_from_predictions(np.where(ok, LABELS, wrong())) for ok in correct_sets]


# ---------------------------------------------------------------------------- by hand
def test_perfect_model_scores_100_and_forgets_nothing():
    history = [logits_from_predictions(LABELS)] * 4
    for mauc_range in ("1..T-1", "0..T"):
        m = czsl_scores(history, LABELS, TASKS, mauc_range=mauc_range)
        assert m["mAUC"] == pytest.approx(100.0)
        assert m["mH"] == pytest.approx(100.0) and m["mJA"] == pytest.approx(100.0)
        assert m["forgetting"] == 0.0 and m["forgetting_final"] == 0.0
        assert m["mSA"] == pytest.approx(100.0) and m["mUA"] == pytest.approx(100.0)


def test_model_that_forgets_each_task_when_it_moves_on():
    # L_0: everything wrong; L_t: task t's images right, every other image predicted as the
    # first class of task t (wrong).
    history = [logits_from_predictions(wrong())]
    for t in range(3):
        pred = np.where(TASK_OF_SAMPLE == t, LABELS, 2 * t)
        history.append(logits_from_predictions(pred))
    s = czsl_steps(history, LABELS, TASKS)
    np.testing.assert_allclose(s["SA"][1:], [1.0, 0.5, 1 / 3])
    np.testing.assert_allclose(s["UA"][:3], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(s["H"][1:3], [0.0, 0.0])
    np.testing.assert_allclose(s["JA"], [0.0, 1 / 3, 1 / 3, 1 / 3])
    np.testing.assert_allclose(s["A"], np.eye(3))
    # every seen/unseen gap is 1: all images flip together and no unseen image is ever right
    np.testing.assert_allclose(s["AUSUC"], [0.0, 0.0, 0.0, 1 / 3])
    np.testing.assert_allclose(s["F"][2:], [1.0, 1.0])
    assert np.isnan(s["SA"][0]) and np.isnan(s["UA"][3]) and np.isnan(s["F"][:2]).all()

    m = czsl_scores(history, LABELS, TASKS)
    assert m["mAUC"] == 0.0 and m["mH"] == 0.0
    assert m["mJA"] == pytest.approx(100 / 3)
    assert m["forgetting"] == pytest.approx(1.0) and m["forgetting_final"] == pytest.approx(1.0)
    assert m["mSA"] == pytest.approx(100 * (1 + 0.5 + 1 / 3) / 3) and m["mUA"] == 0.0
    # the notebook's range 0..T adds the plain accuracies of L_0 (0) and L_T (1/3)
    assert czsl_scores(history, LABELS, TASKS, mauc_range="0..T")["mAUC"] == pytest.approx(100 / 12)


def test_model_that_never_learns_scores_zero():
    history = [logits_from_predictions(wrong())] * 4
    m = czsl_scores(history, LABELS, TASKS)
    assert m == {"mAUC": 0.0, "mH": 0.0, "mJA": 0.0, "forgetting": 0.0, "forgetting_final": 0.0, "mSA": 0.0, "mUA": 0.0}


def _mixed_history():
    def correct(per_task):  # how many of the 4 images of each task are right
        ok = np.zeros(12, dtype=bool)
        for j, k in enumerate(per_task):
            ok[4 * j : 4 * j + k] = True
        return ok

    # task accuracies: L_0 [0, .5, 0]; L_1 [1, 1, .5]; L_2 [.5, .5, .5]; L_3 [.5, 0, 1]
    return history_from_correct([correct(c) for c in ([0, 2, 0], [4, 4, 2], [2, 2, 2], [2, 0, 4])])


def test_mixed_case_by_hand():
    history = _mixed_history()
    s = czsl_steps(history, LABELS, TASKS)
    np.testing.assert_allclose(s["A"], [[1, 1, 0.5], [0.5, 0.5, 0.5], [0.5, 0, 1]])
    np.testing.assert_allclose(s["SA"][1:], [1.0, 0.5, 0.5])
    np.testing.assert_allclose(s["UA"][:3], [1 / 6, 0.75, 0.5])
    np.testing.assert_allclose(s["H"][1:3], [2 * 0.75 / 1.75, 0.5])
    np.testing.assert_allclose(s["JA"], [1 / 6, 10 / 12, 0.5, 0.5])
    m = czsl_scores(history, LABELS, TASKS)
    assert m["mH"] == pytest.approx(100 * (2 * 0.75 / 1.75 + 0.5) / 2)
    assert m["mJA"] == pytest.approx(100 * (10 / 12 + 0.5 + 0.5) / 3)
    assert m["mSA"] == pytest.approx(100 * 2 / 3) and m["mUA"] == pytest.approx(100 * (1 / 6 + 1.25) / 3)
    # Forgetting, the authors' max over all earlier rows: F_2 = 1 - .5; F_3 = mean(1 - .5, 1 - 0)
    assert m["forgetting"] == pytest.approx((0.5 + 0.75) / 2)
    assert m["forgetting_final"] == pytest.approx(0.75)
    # Chaudhry et al. (rows since task j was learned): task 2's best is then A[2][2] = .5
    m2 = czsl_scores(history, LABELS, TASKS, forgetting_max_rows="since_learned")
    assert m2["forgetting"] == pytest.approx((0.5 + 0.5) / 2)
    assert m2["mH"] == m["mH"] and m2["mAUC"] == m["mAUC"]


# ---------------------------------------------------------------------------- slow reference
def slow_acc(logits, labels, keep) -> float:
    hits = total = 0
    for i in range(len(labels)):
        if keep(labels[i]):
            total += 1
            hits += int(np.argmax(logits[i]) == labels[i])
    return hits / total


def slow_ausuc(logits, labels, seen) -> float:
    """Sweep a bias on the unseen logits through every distinct seen/unseen gap (fraction)."""
    n, c = logits.shape
    unseen = [k for k in range(c) if k not in seen]
    if not seen or not unseen:
        return slow_acc(logits, labels, lambda y: True)
    gaps = sorted({max(logits[i][k] for k in seen) - max(logits[i][k] for k in unseen) for i in range(n)})
    biases = [gaps[0] - 1.0] + [(a + b) / 2 for a, b in itertools.pairwise(gaps)] + [gaps[-1] + 1.0]
    xs, ys = [], []
    for b in biases:
        shifted = np.array(logits, dtype=np.float64)
        shifted[:, unseen] += b
        xs.append(slow_acc(shifted, labels, lambda y: y not in seen))
        ys.append(slow_acc(shifted, labels, lambda y: y in seen))
    return sum((xs[i + 1] - xs[i]) * (ys[i + 1] + ys[i]) / 2 for i in range(len(xs) - 1))


def slow_czsl(history, labels, tasks, mauc_range, max_rows):
    T = len(tasks)
    seen_upto = lambda t: [c for task in tasks[:t] for c in task]
    task_of = {c: j for j, task in enumerate(tasks) for c in task}
    SA = {t: slow_acc(history[t], labels, lambda y, t=t: y in seen_upto(t)) for t in range(1, T + 1)}
    UA = {t: slow_acc(history[t], labels, lambda y, t=t: y not in seen_upto(t)) for t in range(0, T)}
    H = [2 * SA[t] * UA[t] / (SA[t] + UA[t]) if SA[t] + UA[t] > 0 else 0.0 for t in range(1, T)]
    JA = [slow_acc(history[t], labels, lambda y: True) for t in range(1, T + 1)]
    steps = range(1, T) if mauc_range == "1..T-1" else range(0, T + 1)
    AUC = [slow_ausuc(history[t], labels, seen_upto(t)) for t in steps]
    A = [[slow_acc(history[k], labels, lambda y, j=j: task_of[y] == j) for j in range(T)] for k in range(1, T + 1)]
    F = []
    for k in range(2, T + 1):
        drops = []
        for j in range(1, k):
            rows = range(1, k) if max_rows == "all_prev_hist" else range(j, k)
            drops.append(max(A[r - 1][j - 1] for r in rows) - A[k - 1][j - 1])
        F.append(sum(drops) / len(drops))
    return {
        "mAUC": 100 * sum(AUC) / len(AUC),
        "mH": 100 * sum(H) / len(H),
        "mJA": 100 * sum(JA) / len(JA),
        "forgetting": sum(F) / len(F),
        "forgetting_final": F[-1],
        "mSA": 100 * sum(SA.values()) / T,
        "mUA": 100 * sum(UA.values()) / T,
    }


def random_history(seed: int, T: int = 4, per_task: int = 3, n: int = 60):
    rng = np.random.default_rng(seed)
    c = T * per_task
    perm = rng.permutation(c)
    tasks = [perm[i * per_task : (i + 1) * per_task].tolist() for i in range(T)]
    labels = np.concatenate([np.arange(c), rng.integers(0, c, n - c)])
    proto = rng.normal(size=(c, 8))
    history = []
    for t in range(T + 1):  # logits that get better on the classes learned so far
        learned = set(c for task in tasks[:t] for c in task)
        boost = np.array([2.0 if y in learned else 0.3 for y in labels])[:, None]
        x = boost * proto[labels] + rng.normal(size=(n, 8))
        history.append((x @ proto.T).astype(np.float32))
    return history, labels, tasks


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("mauc_range, max_rows", [("1..T-1", "all_prev_hist"), ("0..T", "since_learned")])
def test_matches_a_slow_direct_implementation(seed, mauc_range, max_rows):
    history, labels, tasks = random_history(seed)
    fast = czsl_scores(history, labels, tasks, mauc_range=mauc_range, forgetting_max_rows=max_rows)
    slow = slow_czsl(history, labels, tasks, mauc_range, max_rows)
    assert set(fast) == set(slow)
    for key in slow:
        assert fast[key] == pytest.approx(slow[key], abs=1e-6), key


def test_torch_stack_input_gives_the_same_numbers():
    history, labels, tasks = random_history(5)
    a = czsl_scores(history, labels, tasks)
    b = czsl_scores(torch.from_numpy(np.stack(history)), torch.from_numpy(labels), [torch.tensor(t) for t in tasks])
    assert a == b


def test_bad_inputs_raise_clear_errors():
    history, labels, tasks = random_history(0)
    with pytest.raises(ValueError, match="T\\+1"):
        czsl_scores(history[:-1], labels, tasks)
    with pytest.raises(ValueError, match="more than one task"):
        czsl_scores(history, labels, [tasks[0], tasks[0] + tasks[1][:1], *tasks[2:]])
    with pytest.raises(ValueError, match="cover all"):
        czsl_scores(history[:-1], labels, tasks[:-1])
    with pytest.raises(ValueError, match="mauc_range"):
        czsl_scores(history, labels, tasks, mauc_range="all")
    with pytest.raises(ValueError, match="forgetting_max_rows"):
        czsl_scores(history, labels, tasks, forgetting_max_rows="best")
    bad = [h.copy() for h in history]
    bad[2][0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        czsl_scores(bad, labels, tasks)
