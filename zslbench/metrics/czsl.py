"""The continual-ZSL metrics mAUC, mH, mJA and forgetting (docs/paper-protocol.md#czsl-metrics)."""

from __future__ import annotations

from typing import Any

import numpy as np

from zslbench.metrics.auc import ausuc
from zslbench.metrics.gzsl import harmonic_mean
from zslbench.metrics.inputs import as_class_ids, as_labels, as_logits

# ----------------------------------------------------------------------------
# continual ZSL (docs/paper-protocol.md#czsl-metrics)
# ----------------------------------------------------------------------------
MAUC_RANGES = ("1..T-1", "0..T")
FORGETTING_MAX_ROWS = ("all_prev_hist", "since_learned")


def _as_history(logits_history: Any) -> list[np.ndarray]:
    if hasattr(logits_history, "ndim") and logits_history.ndim == 3:
        items = [logits_history[i] for i in range(logits_history.shape[0])]
    else:
        items = list(logits_history)
    out = [as_logits(x, name=f"logits_history[{i}]") for i, x in enumerate(items)]
    if len(out) < 3:
        raise ValueError(f"logits_history needs T+1 snapshots for T >= 2 tasks, got {len(out)} snapshot(s)")
    shape = out[0].shape
    for i, x in enumerate(out):
        if x.shape != shape:
            raise ValueError(f"logits_history[{i}] has shape {x.shape}, expected {shape}")
    return out


def _as_tasks(task_classes: Any, num_classes: int) -> list[np.ndarray]:
    tasks = [as_class_ids(c, num_classes, f"task_classes[{i}]") for i, c in enumerate(task_classes)]
    every = np.concatenate(tasks) if tasks else np.zeros(0, dtype=np.int64)
    if np.unique(every).size != every.size:
        raise ValueError("task_classes: a class belongs to more than one task")
    if every.size != num_classes:
        missing = np.setdiff1d(np.arange(num_classes), every)[:10].tolist()
        raise ValueError(f"task_classes must cover all {num_classes} classes; missing e.g. {missing}")
    return tasks


def czsl_steps(
    logits_history: Any,
    labels: Any,
    task_classes: Any,
    forgetting_max_rows: str = "all_prev_hist",
) -> dict[str, np.ndarray]:
    """Per-step continual-ZSL quantities, as fractions in [0, 1] (not percent).

    ``logits_history[t]`` ([N, C], t = 0..T) are the test logits after training task t
    (t = 0: before any training); ``labels`` are global class ids; ``task_classes[i]`` lists
    the classes of task i+1 (together they cover every class).  Every accuracy is per sample with the argmax over *all* classes.
    With S_t = classes of tasks 1..t and U_t = the rest, returns arrays indexed by t = 0..T,
    NaN where a quantity is undefined:

    * ``SA[t]``: accuracy on the test images of S_t (t >= 1);
    * ``UA[t]``: accuracy on the test images of U_t (t <= T-1);
    * ``H[t]``: 2 SA UA / (SA + UA) of the same snapshot (1 <= t <= T-1);
    * ``AUSUC[t]``: :func:`ausuc` with seen mask S_t, as a fraction; at t = 0 and t = T one
      side is empty and it is the plain accuracy (the authors' convention);
    * ``JA[t]``: accuracy on the whole test set;
    * ``F[k]``: forgetting after task k (k >= 2), ``mean_{j<k} (max_l A[l][j] - A[k][j])``
      where l runs over 1..k-1 (``"all_prev_hist"``, the authors' code) or j..k-1
      (``"since_learned"``, Chaudhry et al.);

    and ``A``, the [T, T] task-accuracy matrix: ``A[k-1][j-1]`` = accuracy of the snapshot
    after task k on the test images of task j.
    """
    if forgetting_max_rows not in FORGETTING_MAX_ROWS:
        raise ValueError(f"forgetting_max_rows must be one of {FORGETTING_MAX_ROWS}, got {forgetting_max_rows!r}")
    history = _as_history(logits_history)
    n, num_classes = history[0].shape
    y = as_labels(labels, n, num_classes)
    tasks = _as_tasks(task_classes, num_classes)
    T = len(tasks)
    if len(history) != T + 1:
        raise ValueError(f"logits_history has {len(history)} snapshots but there are {T} tasks (expected T+1)")
    task_of = np.full(num_classes, -1, dtype=np.int64)
    for i, c in enumerate(tasks):
        task_of[c] = i
    sample_task = task_of[y]
    task_counts = np.bincount(sample_task, minlength=T)
    if (task_counts == 0).any():
        raise ValueError(f"task(s) {(np.flatnonzero(task_counts == 0) + 1).tolist()} have no test samples")

    nan = np.full(T + 1, np.nan)
    sa, ua, h, auc, ja = nan.copy(), nan.copy(), nan.copy(), nan.copy(), nan.copy()
    acc = np.zeros((T, T))
    for t, logits in enumerate(history):
        hit = logits.argmax(axis=1) == y
        seen_samples = sample_task < t  # tasks 1..t are indices 0..t-1
        ja[t] = hit.mean()
        if t >= 1:
            sa[t] = hit[seen_samples].mean()
            acc[t - 1] = np.bincount(sample_task, weights=hit, minlength=T) / task_counts
        if t <= T - 1:
            ua[t] = hit[~seen_samples].mean()
        if 1 <= t <= T - 1:
            h[t] = harmonic_mean(sa[t], ua[t])
        seen_mask = np.zeros(num_classes, dtype=bool)
        seen_mask[task_of < t] = True
        auc[t] = ausuc(logits, y, seen_mask) / 100.0

    forgetting = nan.copy()
    for k in range(2, T + 1):  # 1-based task index of the row
        drops = []
        for j in range(1, k):
            first = 1 if forgetting_max_rows == "all_prev_hist" else j
            best = acc[first - 1 : k - 1, j - 1].max()
            drops.append(best - acc[k - 1, j - 1])
        forgetting[k] = float(np.mean(drops))
    return {"SA": sa, "UA": ua, "H": h, "AUSUC": auc, "JA": ja, "F": forgetting, "A": acc}


def czsl_scores(
    logits_history: Any,
    labels: Any,
    task_classes: Any,
    mauc_range: str = "1..T-1",
    forgetting_max_rows: str = "all_prev_hist",
) -> dict[str, float]:
    """Continual-ZSL summary scores (docs/paper-protocol.md#czsl-metrics).

    ``mAUC``, ``mH``, ``mJA`` (and the optional ``mSA``, ``mUA``) are in percent;
    ``forgetting`` (mean over k = 2..T of the per-step forgetting) and ``forgetting_final``
    (its value after the last task) are fractions in [-1, 1] (negative when accuracy on old
    tasks rose).  See ``czsl_steps`` for the per-step definitions.

    * mH = mean over t = 1..T-1 of H_t;
    * mJA = mean over t = 1..T of JA_t;
    * mAUC = mean of AUSUC_t over t = 1..T-1 (``mauc_range="1..T-1"``, the harness default) or
      t = 0..T (``"0..T"``, the authors' notebook, whose endpoints are plain accuracies);
    * mSA = mean over t = 1..T of SA_t; mUA = mean over t = 0..T-1 of UA_t.
    """
    if mauc_range not in MAUC_RANGES:
        raise ValueError(f"mauc_range must be one of {MAUC_RANGES}, got {mauc_range!r}")
    s = czsl_steps(logits_history, labels, task_classes, forgetting_max_rows)
    T = len(s["JA"]) - 1
    auc_steps = range(1, T) if mauc_range == "1..T-1" else range(0, T + 1)
    return {
        "mAUC": 100.0 * float(np.mean([s["AUSUC"][t] for t in auc_steps])),
        "mH": 100.0 * float(np.mean(s["H"][1:T])),
        "mJA": 100.0 * float(np.mean(s["JA"][1 : T + 1])),
        "forgetting": float(np.mean(s["F"][2 : T + 1])),
        "forgetting_final": float(s["F"][T]),
        "mSA": 100.0 * float(np.mean(s["SA"][1 : T + 1])),
        "mUA": 100.0 * float(np.mean(s["UA"][0:T])),
    }
