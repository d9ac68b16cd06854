"""Accuracies (per class and per sample) and the GZSL / ZSL scores S, U, H, ZSL
(docs/paper-protocol.md#evaluation)."""

from __future__ import annotations

from typing import Any

import numpy as np

from zslbench.metrics.inputs import as_class_ids, as_int_vector, as_labels, as_logits, to_numpy

ACC_MODES = ("per_class", "per_sample")


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
    p = as_int_vector(pred, "pred")
    y = as_int_vector(labels, "labels")
    if p.shape != y.shape:
        raise ValueError(f"pred and labels differ in length: {p.shape[0]} vs {y.shape[0]}")
    if y.size and y.min() < 0:
        raise ValueError("labels must be non-negative class ids")
    c = as_class_ids(classes, None, "classes")
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
    p = as_int_vector(pred, "pred")
    y = as_int_vector(labels, "labels")
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
    a = as_logits(logits, check_finite=False)
    seen = as_class_ids(seen_classes, a.shape[1], "seen_classes")
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
    a = as_logits(logits)
    n, num_classes = a.shape
    y = as_labels(labels, n, num_classes)
    seen = as_class_ids(seen_classes, num_classes, "seen_classes")
    unseen = as_class_ids(unseen_classes, num_classes, "unseen_classes")
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
