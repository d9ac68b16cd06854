"""The area under the seen-unseen accuracy curve: exact (sorting the per-sample gaps) and the
threshold sweep kept as a test oracle (docs/paper-protocol.md#evaluation)."""

from __future__ import annotations

from typing import Any

import numpy as np

from zslbench.metrics.inputs import CHUNK_ELEMENTS, as_labels, as_logits, as_seen_mask


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
    step = max(1, CHUNK_ELEMENTS // c)
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
    a = as_logits(logits, check_finite=check_finite)
    n, num_classes = a.shape
    y = as_labels(labels, n, num_classes)
    mask = as_seen_mask(seen_mask, num_classes)
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
    step_rows = max(1, CHUNK_ELEMENTS // a.shape[1])
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
