"""Evaluation metrics for (generalized) zero-shot learning (docs/paper-protocol.md#evaluation).

Conventions used throughout this package:

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

from zslbench.metrics.auc import ausuc, ausuc_sweep, seen_unseen_curve
from zslbench.metrics.czsl import FORGETTING_MAX_ROWS, MAUC_RANGES, czsl_scores, czsl_steps
from zslbench.metrics.gzsl import (
    ACC_MODES,
    calibrate,
    gzsl_scores,
    harmonic_mean,
    per_class_accuracy,
    per_sample_accuracy,
)
from zslbench.metrics.inputs import to_numpy

__all__ = [
    "ACC_MODES",
    "FORGETTING_MAX_ROWS",
    "MAUC_RANGES",
    "ausuc",
    "ausuc_sweep",
    "calibrate",
    "czsl_scores",
    "czsl_steps",
    "gzsl_scores",
    "harmonic_mean",
    "per_class_accuracy",
    "per_sample_accuracy",
    "seen_unseen_curve",
    "to_numpy",
]
