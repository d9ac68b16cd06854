"""Evaluation metrics for (generalized) zero-shot learning (docs/paper-protocol.md#evaluation).

Conventions used throughout this module:

* ``logits`` is an ``[N, C]`` array of scores over *all* classes, indexed by
  global class id; ``labels`` is an ``[N]`` array of global class ids.
* Inputs may be numpy arrays, torch tensors (any device, any float dtype) or
  nested sequences; everything is converted with :func:`to_numpy` first.
* Accuracies returned by the helpers (``per_class_accuracy``,
  ``per_sample_accuracy``) are fractions in ``[0, 1]``; the summary scores
  (``gzsl_scores``, ``ausuc``, ``ausuc_sweep``) are in percent, like the paper.
* Argmax ties are broken towards the smallest class id (``numpy.argmax``).
* Bad input raises :class:`ValueError` with a message naming the argument.

Two ways of averaging exist in the paper's code base (docs/paper-protocol.md#pitfall-7): the GZSL table uses the *per-class* mean accuracy, while the AUSUC and the
continual metrics use *per-sample* accuracy.  ``gzsl_scores`` therefore takes an
explicit ``acc_mode``; ``ausuc`` is always per-sample, as in the authors' code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "to_numpy",
    "per_class_accuracy",
    "per_sample_accuracy",
    "harmonic_mean",
    "calibrate",
    "gzsl_scores",
    "seen_unseen_curve",
    "ausuc",
    "ausuc_sweep",
    "czsl_steps",
    "czsl_scores",
]

ACC_MODES = ("per_class", "per_sample")

# Rows processed at a time by the block-wise passes over the logits; chosen so
# that one chunk of a [N, ~700] float32 matrix stays a few megabytes.
_CHUNK_ELEMENTS = 1 << 20


# ----------------------------------------------------------------------------
# conversion and validation
# ----------------------------------------------------------------------------
def to_numpy(x: Any) -> np.ndarray:
    """Return ``x`` as a numpy array.

    Torch tensors are detached and moved to the CPU; half-precision tensors
    (float16, bfloat16, which numpy cannot always represent) become float32.
    numpy arrays are returned as they are (no copy); anything else goes
    through :func:`numpy.asarray`.  torch is never imported by this function:
    a tensor is recognised by its ``detach``/``cpu`` methods.
    """
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "detach") and hasattr(x, "cpu") and hasattr(x, "numpy"):
        t = x.detach()
        if t.is_floating_point() and t.element_size() < 4:
            t = t.float()
        return t.cpu().numpy()
    return np.asarray(x)


def _as_int_vector(x: Any, name: str) -> np.ndarray:
    """1-D int64 array; float input is accepted only when every value is integral."""
    a = to_numpy(x)
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {a.shape}")
    if a.dtype == np.bool_:
        raise ValueError(f"{name} must hold integer class ids, got booleans")
    if np.issubdtype(a.dtype, np.integer):
        return a.astype(np.int64, copy=False)
    if np.issubdtype(a.dtype, np.floating):
        if a.size and not (np.isfinite(a).all() and (a == np.round(a)).all()):
            raise ValueError(f"{name} must hold integer class ids, got non-integral values")
        return a.astype(np.int64)
    raise ValueError(f"{name} must hold integer class ids, got dtype {a.dtype}")


def _as_logits(logits: Any, name: str = "logits", check_finite: bool = True) -> np.ndarray:
    a = to_numpy(logits)
    if a.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array [num_samples, num_classes], got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.floating):
        if np.issubdtype(a.dtype, np.integer) or a.dtype == np.bool_:
            a = a.astype(np.float64)
        else:
            raise ValueError(f"{name} must be numeric, got dtype {a.dtype}")
    if a.shape[1] == 0:
        raise ValueError(f"{name} has no classes (shape {a.shape})")
    if check_finite and not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def _as_labels(labels: Any, num_samples: int, num_classes: int) -> np.ndarray:
    y = _as_int_vector(labels, "labels")
    if y.shape[0] != num_samples:
        raise ValueError(
            f"labels has {y.shape[0]} entries but logits has {num_samples} rows"
        )
    if num_samples == 0:
        raise ValueError("there are no samples (empty labels)")
    lo, hi = int(y.min()), int(y.max())
    if lo < 0 or hi >= num_classes:
        raise ValueError(
            f"labels must be global class ids in [0, {num_classes}), found values in [{lo}, {hi}]"
        )
    return y


def _as_class_ids(ids: Any, num_classes: int | None, name: str) -> np.ndarray:
    c = _as_int_vector(ids, name)
    if c.size == 0:
        raise ValueError(f"{name} is empty")
    if c.min() < 0 or (num_classes is not None and c.max() >= num_classes):
        bound = f"[0, {num_classes})" if num_classes is not None else "[0, inf)"
        raise ValueError(
            f"{name} must be class ids in {bound}, found values in [{int(c.min())}, {int(c.max())}]"
        )
    if np.unique(c).size != c.size:
        raise ValueError(f"{name} contains duplicate class ids")
    return c


def _as_seen_mask(seen_mask: Any, num_classes: int) -> np.ndarray:
    m = to_numpy(seen_mask)
    if m.ndim != 1 or m.shape[0] != num_classes:
        raise ValueError(
            f"seen_mask must be a boolean vector over the {num_classes} classes, got shape {m.shape}"
        )
    if m.dtype != np.bool_:
        if not (np.issubdtype(m.dtype, np.number) and np.isin(m, (0, 1)).all()):
            raise ValueError("seen_mask must be boolean (or 0/1), one entry per class")
        m = m.astype(bool)
    return m


# ----------------------------------------------------------------------------
# accuracies
# ----------------------------------------------------------------------------
def per_class_accuracy(pred: Any, labels: Any, classes: Any) -> float:
    """Mean over ``classes`` of the per-class accuracy, a fraction in [0, 1].

    For each class ``c`` in ``classes`` the accuracy is the fraction of the
    samples with ``labels == c`` that have ``pred == c``; the result is the
    unweighted mean of these accuracies (docs/paper-protocol.md#evaluation).  Samples whose
    label is not in ``classes`` play no part.

    Classes of ``classes`` without any sample are *skipped*: they neither count
    as 0 nor enter the denominator (so a test split that lacks some class
    does not drag the mean down).
    If none of the classes has a sample the mean is undefined and a
    ``ValueError`` is raised.  Vectorised with ``numpy.bincount``.
    """
    p = _as_int_vector(pred, "pred")
    y = _as_int_vector(labels, "labels")
    if p.shape != y.shape:
        raise ValueError(f"pred and labels differ in length: {p.shape[0]} vs {y.shape[0]}")
    if y.size and y.min() < 0:
        raise ValueError("labels must be non-negative class ids")
    c = _as_class_ids(classes, None, "classes")
    size = int(max(c.max(), y.max() if y.size else 0)) + 1
    counts = np.bincount(y, minlength=size)[c]
    correct = np.bincount(y[p == y], minlength=size)[c]
    present = counts > 0
    if not present.any():
        raise ValueError("none of the given classes has a sample; per-class accuracy is undefined")
    return float(np.mean(correct[present] / counts[present]))


def per_sample_accuracy(pred: Any, labels: Any, mask: Any = None) -> float:
    """Fraction of samples with ``pred == labels``, optionally only where ``mask`` is true.

    ``mask`` is a boolean vector over the samples.  An empty selection raises
    ``ValueError`` (the accuracy of nothing is undefined).
    """
    p = _as_int_vector(pred, "pred")
    y = _as_int_vector(labels, "labels")
    if p.shape != y.shape:
        raise ValueError(f"pred and labels differ in length: {p.shape[0]} vs {y.shape[0]}")
    hit = p == y
    if mask is not None:
        m = to_numpy(mask)
        if m.dtype != np.bool_ or m.shape != y.shape:
            raise ValueError(
                f"mask must be a boolean vector with one entry per sample ({y.shape[0]}), "
                f"got dtype {m.dtype} and shape {m.shape}"
            )
        hit = hit[m]
    if hit.size == 0:
        raise ValueError("no samples selected; per-sample accuracy is undefined")
    return float(hit.mean())


def harmonic_mean(s: float, u: float) -> float:
    """``2 s u / (s + u)``, and 0 when ``s + u == 0``.  Works for any scale (fractions or %)."""
    s, u = float(s), float(u)
    if s < 0 or u < 0:
        raise ValueError(f"harmonic_mean expects non-negative accuracies, got {s} and {u}")
    total = s + u
    return 0.0 if total == 0 else 2.0 * s * u / total


def _accuracy(pred: np.ndarray, labels: np.ndarray, classes: np.ndarray, acc_mode: str) -> float:
    if acc_mode == "per_class":
        return per_class_accuracy(pred, labels, classes)
    return per_sample_accuracy(pred, labels, np.isin(labels, classes))


# ----------------------------------------------------------------------------
# GZSL / ZSL scores
# ----------------------------------------------------------------------------
def calibrate(logits: Any, seen_classes: Any, seen_scale: float) -> np.ndarray:
    """Return a copy of ``logits`` with the seen-class columns multiplied by ``seen_scale``.

    This is the authors' seen-logit calibration (docs/paper-protocol.md#evaluation, #pitfall-2): multiplicative, so with ``seen_scale < 1`` it lowers
    positive seen logits but *raises* negative ones; the trick only behaves as
    intended for non-negative logits.  The input is never modified.
    """
    a = _as_logits(logits, check_finite=False)
    seen = _as_class_ids(seen_classes, a.shape[1], "seen_classes")
    out = np.array(a, copy=True)
    out[:, seen] *= seen_scale
    return out


def gzsl_scores(
    logits: Any,
    labels: Any,
    seen_classes: Any,
    unseen_classes: Any,
    seen_scale: float = 1.0,
    acc_mode: str = "per_class",
) -> dict[str, float]:
    """GZSL and ZSL scores in percent: ``{"S", "U", "H", "ZSL"}``.

    * ``S``: accuracy on the samples whose label is a seen class, predictions
      by the argmax over *all* classes of the calibrated logits
      (``calibrate`` with ``seen_scale``).
    * ``U``: the same on the samples of unseen classes.
    * ``H``: ``2 S U / (S + U)``, 0 when both are 0.
    * ``ZSL``: accuracy on the unseen-class samples with the argmax restricted
      to the unseen classes (calibration cannot change it).

    ``acc_mode="per_class"`` (default; the paper's GZSL table) averages the
    per-class accuracies of the seen (resp. unseen) classes, skipping classes
    without samples; ``"per_sample"`` is the plain fraction of correct samples
    (the authors' validation path).

    Samples whose label is in neither class list are ignored; every column of
    ``logits`` still competes in the argmax over all classes.
    """
    if acc_mode not in ACC_MODES:
        raise ValueError(f"acc_mode must be one of {ACC_MODES}, got {acc_mode!r}")
    a = _as_logits(logits)
    n, num_classes = a.shape
    y = _as_labels(labels, n, num_classes)
    seen = _as_class_ids(seen_classes, num_classes, "seen_classes")
    unseen = _as_class_ids(unseen_classes, num_classes, "unseen_classes")
    overlap = np.intersect1d(seen, unseen)
    if overlap.size:
        raise ValueError(f"seen_classes and unseen_classes overlap: {overlap[:10].tolist()}")
    is_seen = np.isin(y, seen)
    is_unseen = np.isin(y, unseen)
    if not is_seen.any():
        raise ValueError("no sample has a seen-class label; S is undefined")
    if not is_unseen.any():
        raise ValueError("no sample has an unseen-class label; U and ZSL are undefined")

    scaled = a if seen_scale == 1.0 else calibrate(a, seen, seen_scale)
    pred_all = scaled.argmax(axis=1)
    s = _accuracy(pred_all[is_seen], y[is_seen], seen, acc_mode)
    u = _accuracy(pred_all[is_unseen], y[is_unseen], unseen, acc_mode)

    sub = a[is_unseen][:, unseen]
    pred_zsl = unseen[sub.argmax(axis=1)]
    zsl = _accuracy(pred_zsl, y[is_unseen], unseen, acc_mode)

    s, u, zsl = 100.0 * s, 100.0 * u, 100.0 * zsl
    return {"S": s, "U": u, "H": harmonic_mean(s, u), "ZSL": zsl}


# ----------------------------------------------------------------------------
# AUSUC
# ----------------------------------------------------------------------------
def _trapezoid(y: np.ndarray, x: np.ndarray) -> float:
    """Trapezoid rule, written out (``np.trapz`` was renamed in numpy 2)."""
    return float(0.5 * np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1])))


def _block_max_argmax(a: np.ndarray, seen_mask: np.ndarray):
    """Row-wise max (float64) and arg-max (global class id) within the seen and unseen blocks.

    One chunked pass over the rows.  Each block is isolated by adding 0 to its
    columns and -inf to the others (into a reused buffer), which is several
    times faster than gathering the columns by fancy indexing, and keeps the
    global class ids and the smallest-id tie rule of ``argmax``.  Also checks
    that the logits are finite.
    """
    n, c = a.shape
    dtype = a.dtype
    pen_s = np.where(seen_mask, 0.0, -np.inf).astype(dtype)
    pen_u = np.where(seen_mask, -np.inf, 0.0).astype(dtype)
    max_s = np.empty(n, dtype=np.float64)
    max_u = np.empty(n, dtype=np.float64)
    arg_s = np.empty(n, dtype=np.int64)
    arg_u = np.empty(n, dtype=np.int64)
    step = max(1, _CHUNK_ELEMENTS // c)
    buf = np.empty((min(n, step), c), dtype=dtype)
    for r0 in range(0, n, step):
        r1 = min(n, r0 + step)
        chunk = a[r0:r1]
        if not np.isfinite(chunk).all():
            raise ValueError("logits contains NaN or infinite values")
        work = buf[: r1 - r0]
        for pen, mx, am in ((pen_s, max_s, arg_s), (pen_u, max_u, arg_u)):
            np.add(chunk, pen, out=work)
            idx = work.argmax(axis=1)
            am[r0:r1] = idx
            mx[r0:r1] = np.take_along_axis(chunk, idx[:, None], axis=1)[:, 0]
    return max_s, arg_s, max_u, arg_u


def _prepare_ausuc(logits: Any, labels: Any, seen_mask: Any, check_finite: bool):
    a = _as_logits(logits, check_finite=check_finite)
    n, num_classes = a.shape
    y = _as_labels(labels, n, num_classes)
    mask = _as_seen_mask(seen_mask, num_classes)
    return a, y, mask


def _degenerate_curve(a: np.ndarray, y: np.ndarray, has_seen: bool):
    """The authors' convention when one side has no classes: a rectangle of area = accuracy."""
    acc = float((a.argmax(axis=1) == y).mean())
    if has_seen:  # no unseen classes
        return np.array([0.0, 1.0, 1.0]), np.array([acc, acc, 0.0])
    return np.array([0.0, acc, acc]), np.array([1.0, 1.0, 0.0])


def seen_unseen_curve(logits: Any, labels: Any, seen_mask: Any) -> tuple[np.ndarray, np.ndarray]:
    """The exact Seen-Unseen accuracy curve ``(accU, accS)`` (Chao et al., 2016).

    Adding a bias ``b`` to every unseen-class logit, a sample is predicted in
    the unseen block iff ``b > g`` with ``g = max_seen - max_unseen``; inside
    the chosen block the prediction is the block's argmax, which ``b`` does not
    change.  So, sorting the samples by ``g``, every threshold of a bias sweep
    corresponds to "the samples with the smallest gaps have flipped to
    unseen".  Accuracies are per-sample: ``accS`` = correct seen-class samples
    still predicted seen / number of seen-class samples, ``accU`` likewise.

    The returned points are ordered by increasing bias: the first is
    ``b = -inf`` (everything predicted seen: ``accU = 0``, ``accS`` = the
    seen-restricted accuracy), the last is ``b = +inf`` (everything unseen:
    ``accS = 0``, ``accU`` = the unseen-restricted accuracy), so ``accU`` is
    non-decreasing and ``accS`` non-increasing.  Samples with *equal* gaps flip
    at the same bias, so they flip together: one point per distinct gap value,
    never a point between tied samples.  This is exactly the set of points a
    bias sweep visits as its grid becomes infinitely fine (the measure-zero
    biases equal to a gap are not visited), so the trapezoid area of this
    curve is the limit of :func:`ausuc_sweep`.

    With no seen (or no unseen) classes the curve is the authors' degenerate
    rectangle whose area is the plain accuracy.  A seen mask whose seen (or
    unseen) classes have no samples raises ``ValueError``.

    Cost: one pass over the logits (O(N C)) and one sort (O(N log N)).
    """
    a, y, mask = _prepare_ausuc(logits, labels, seen_mask, check_finite=False)
    seen = np.flatnonzero(mask)
    unseen = np.flatnonzero(~mask)
    if seen.size == 0 or unseen.size == 0:
        if not np.isfinite(a).all():
            raise ValueError("logits contains NaN or infinite values")
        return _degenerate_curve(a, y, has_seen=seen.size > 0)

    label_seen = mask[y]
    n_seen = int(label_seen.sum())
    n_unseen = y.size - n_seen
    if n_seen == 0:
        raise ValueError("no sample has a seen-class label; the seen accuracy is undefined")
    if n_unseen == 0:
        raise ValueError("no sample has an unseen-class label; the unseen accuracy is undefined")

    max_s, arg_s, max_u, arg_u = _block_max_argmax(a, mask)
    gap = max_s - max_u
    order = np.argsort(gap, kind="stable")  # ascending: first to flip to unseen
    gap = gap[order]
    corr_s = (arg_s == y)[order]  # false for unseen-class samples automatically
    corr_u = (arg_u == y)[order]

    # After flipping the k smallest-gap samples (k = 0..N):
    #   seen-correct still predicted seen = total_s - cumsum_s[k]
    #   unseen-correct now predicted unseen = cumsum_u[k]
    cum_s = np.concatenate(([0], np.cumsum(corr_s, dtype=np.int64)))
    cum_u = np.concatenate(([0], np.cumsum(corr_u, dtype=np.int64)))
    # Keep k = 0, k = N and every k that ends a group of equal gaps.
    keep = np.ones(y.size + 1, dtype=bool)
    keep[1:-1] = gap[1:] != gap[:-1]
    k = np.flatnonzero(keep)
    acc_s = (cum_s[-1] - cum_s[k]) / n_seen
    acc_u = cum_u[k] / n_unseen
    return acc_u, acc_s


def ausuc(logits: Any, labels: Any, seen_mask: Any) -> float:
    """Area under the Seen-Unseen accuracy curve, in percent; exact.

    ``seen_mask`` is a boolean vector over the classes.  The curve is
    ``seen_unseen_curve`` (per-sample accuracies, one point per distinct
    seen/unseen gap, both endpoints included) and the area is the trapezoid
    rule of ``accS`` over ``accU``; it equals the limit of the bias sweep
    ``ausuc_sweep``.  Returns a value in [0, 100]; with no seen or no
    unseen classes, the plain accuracy times 100 (as the authors' code).

    This is the sorting algorithm of docs/paper-protocol.md#evaluation: O(N log N + N C).
    """
    acc_u, acc_s = seen_unseen_curve(logits, labels, seen_mask)
    return 100.0 * _trapezoid(acc_s, acc_u)


def ausuc_sweep(
    logits: Any,
    labels: Any,
    seen_mask: Any,
    n_thresholds: int = 2001,
    exact: bool = False,
) -> float:
    """Slow reference AUSUC (percent) by an explicit bias sweep; a test oracle, not for production.

    For each bias ``b`` of a grid, ``b`` is added to all unseen-class logits,
    every sample is predicted by the argmax over *all* classes, and the
    per-sample seen and unseen accuracies are recorded; the result is the
    trapezoid area of ``accS`` over ``accU``.

    The grid adapts to the data (docs/paper-protocol.md#pitfall-8: the authors'
    fixed range of +-10 truncates the curve for wide logits): with
    ``span = max(logits) - min(logits)`` every gap lies in ``[-span, span]``,
    so ``n_thresholds`` evenly spaced biases over ``[-span - m, span + m]``
    (a small margin ``m``) reach both ends of the curve (everything seen,
    everything unseen).  The grid is shifted by an irrational fraction of its
    step so that it does not land exactly on round-valued gaps, where the
    argmax tie rule would split tied samples.

    ``exact=True`` also adds a bias halfway between every two consecutive
    distinct gaps, so that every point of the exact curve is visited; the
    area then matches :func:`ausuc` up to rounding.  Otherwise the sweep
    cuts a corner wherever two breakpoints fall within one grid step, so its
    error shrinks with the step and grows with the number of samples.

    Cost: O(n_thresholds * N * C).  With no seen or no unseen classes returns
    the plain accuracy times 100, like :func:`ausuc`.
    """
    a, y, mask = _prepare_ausuc(logits, labels, seen_mask, check_finite=True)
    if n_thresholds < 2:
        raise ValueError(f"n_thresholds must be at least 2, got {n_thresholds}")
    seen = np.flatnonzero(mask)
    unseen = np.flatnonzero(~mask)
    if seen.size == 0 or unseen.size == 0:
        return 100.0 * float((a.argmax(axis=1) == y).mean())
    label_seen = mask[y]
    n_seen = int(label_seen.sum())
    n_unseen = y.size - n_seen
    if n_seen == 0 or n_unseen == 0:
        raise ValueError("both seen-class and unseen-class samples are needed for AUSUC")

    lo, hi = float(a.min()), float(a.max())
    span = hi - lo
    # The margin keeps the end biases away from every gap, and large enough not
    # to vanish when added to the largest logit.
    margin = 0.01 * span + 1e-6 * (1.0 + max(abs(lo), abs(hi)))
    biases = np.linspace(-span - margin, span + margin, n_thresholds)
    step = biases[1] - biases[0]
    biases[1:-1] += step * (np.sqrt(2.0) - 1.0) * 0.5  # avoid landing on round gaps
    if exact:
        max_s, _, max_u, _ = _block_max_argmax(a, mask)
        g = np.unique(max_s - max_u)
        biases = np.union1d(biases, 0.5 * (g[1:] + g[:-1]))

    bias_vec = np.where(mask, 0.0, 1.0)
    acc_s = np.empty(biases.size)
    acc_u = np.empty(biases.size)
    step_rows = max(1, _CHUNK_ELEMENTS // a.shape[1])
    buf = np.empty((min(y.size, step_rows), a.shape[1]), dtype=np.float64)
    for j, b in enumerate(biases):
        shift = b * bias_vec
        hits_s = hits_u = 0
        for r0 in range(0, y.size, step_rows):
            r1 = min(y.size, r0 + step_rows)
            work = buf[: r1 - r0]
            np.add(a[r0:r1], shift, out=work)  # in float64 whatever the logits' dtype
            pred = work.argmax(axis=1)
            hit = pred == y[r0:r1]
            hits_s += int(np.count_nonzero(hit & label_seen[r0:r1]))
            hits_u += int(np.count_nonzero(hit & ~label_seen[r0:r1]))
        acc_s[j] = hits_s / n_seen
        acc_u[j] = hits_u / n_unseen
    return 100.0 * _trapezoid(acc_s, acc_u)


# ----------------------------------------------------------------------------
# continual ZSL (docs/paper-protocol.md#czsl-metrics)
# ----------------------------------------------------------------------------
MAUC_RANGES = ("1..T-1", "0..T")
FORGETTING_MAX_ROWS = ("all_prev_hist", "since_learned")


def _as_history(logits_history: Any) -> list[np.ndarray]:
    if hasattr(logits_history, "ndim") and getattr(logits_history, "ndim") == 3:
        items = [logits_history[i] for i in range(logits_history.shape[0])]
    else:
        items = list(logits_history)
    out = [_as_logits(x, name=f"logits_history[{i}]") for i, x in enumerate(items)]
    if len(out) < 3:
        raise ValueError(
            f"logits_history needs T+1 snapshots for T >= 2 tasks, got {len(out)} snapshot(s)"
        )
    shape = out[0].shape
    for i, x in enumerate(out):
        if x.shape != shape:
            raise ValueError(f"logits_history[{i}] has shape {x.shape}, expected {shape}")
    return out


def _as_tasks(task_classes: Any, num_classes: int) -> list[np.ndarray]:
    tasks = [_as_class_ids(c, num_classes, f"task_classes[{i}]") for i, c in enumerate(task_classes)]
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
        raise ValueError(
            f"forgetting_max_rows must be one of {FORGETTING_MAX_ROWS}, got {forgetting_max_rows!r}"
        )
    history = _as_history(logits_history)
    n, num_classes = history[0].shape
    y = _as_labels(labels, n, num_classes)
    tasks = _as_tasks(task_classes, num_classes)
    T = len(tasks)
    if len(history) != T + 1:
        raise ValueError(
            f"logits_history has {len(history)} snapshots but there are {T} tasks (expected T+1)"
        )
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
