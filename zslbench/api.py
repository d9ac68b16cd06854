"""The public extension API of zslbench: everything a plugin may use, and nothing else.

A plugin is a Python module that calls the ``register_*`` functions below when it is imported.
zslbench imports it when it is named by ``--plugin MODULE``, by ``$ZSLBENCH_PLUGINS`` (comma
separated) or by an entry point of the ``zslbench.plugins`` group of an installed
distribution.  The built-in models and methods register through these same functions.

* `register_model`: a GZSL model of one of three kinds (``kind=``), built as
  ``cls(n_attrs, feat_dim, options)``: ``"prototype"`` (the default), a ``torch.nn.Module``
  whose ``forward(attrs [C, A])`` returns class prototypes ``[C, feat_dim]``, trained by the
  paper's trainer unchanged (loss, optimiser, schedule, evaluation, traces); ``"embedding"``,
  the same plus ``embed_features(x [N, feat_dim])`` returning ``[N, D]`` for prototypes of
  width D: the features pass through it before the scaled cosine, in training and evaluation;
  ``"generative"``, an object whose ``fit_predict(task: GenerativeTask)`` trains on the
  training features and returns a `GenerativeScores` (scores over all classes for the test
  features), scored by the same S/U/H, calibration, AUSUC and ZSL code.
* `register_method`: a continual-ZSL method, a subclass of `CZSLMethod` whose
  hooks the CZSL trainer calls; it runs on both CZSL tracks.
* `register_dataset`: a features dataset stored as ``<data-dir>/<name>/features.npz``
  (docs/extending.md); `default_data_dir` is the data folder zslbench reads when no
  ``--data-dir`` is given.
* `register_logger`: a tracker, a subclass of `RunLogger` that sees every run trained with
  ``--log NAME`` (or ``zslbench.run(..., log=[...])``): its record, options and per-epoch values.

Options of a model or method are a frozen dataclass; ``--set <name>.<option>=value`` sets one;
they act on that model's or method's runs only and enter their run ids.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from zslbench.records import RunRecord
from zslbench.registry import Registry

BUILTIN = "built-in"  # the source of what zslbench itself registers

__all__ = [
    "MODEL_KINDS",
    "TRAINER_CONFIG",
    "CZSLMethod",
    "CZSLStep",
    "DatasetEntry",
    "GenerativeScores",
    "GenerativeTask",
    "LoggedRun",
    "ModelEntry",
    "RunLogger",
    "czsl_logits",
    "default_data_dir",
    "register_dataset",
    "register_logger",
    "register_method",
    "register_model",
]

# A model registered with ``options=TRAINER_CONFIG`` reads the trainer's own config (GZSLConfig:
# hidden_dim, cn_* ...) instead of options of its own: the built-in models do.
TRAINER_CONFIG = "trainer-config"

# The kinds of GZSL model (register_model's ``kind``).
MODEL_KINDS = ("prototype", "embedding", "generative")


@dataclass(frozen=True)
class ModelEntry:
    """A registered GZSL model.  ``deep``, ``class_norm`` and ``proper_init`` are the traits
    that decide which trainer options act on its runs (zslbench.applicability)."""

    name: str
    build_fn: Callable[..., Any]
    options: Any  # a frozen dataclass type, None (no options) or TRAINER_CONFIG
    description: str
    deep: bool
    class_norm: bool
    proper_init: bool
    source: str  # "built-in" or the plugin's module
    kind: str = "prototype"  # one of MODEL_KINDS
    # the sweep's time estimates only (never a run): seconds one run takes, by profile and dataset
    seconds: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def make_options(self, values: dict | None = None, cfg: Any = None) -> Any:
        """The options a run passes to the model: the dataclass with ``values`` set (or the
        trainer config, for a model registered with TRAINER_CONFIG)."""
        if self.options == TRAINER_CONFIG:
            return cfg
        if self.options is None:
            return None
        return self.options(**(values or {}))

    def build(self, n_attrs: int, feat_dim: int, options: Any) -> Any:
        return self.build_fn(n_attrs, feat_dim, options)


@dataclass(frozen=True)
class GenerativeTask:
    """What a generative model (``kind="generative"``) is given by the harness.

    ``train_x [N, D]`` and ``train_y [N]`` (class ids 0..C-1) are the trainval features and
    labels as stored (no normalisation); ``attrs [C, A]`` every class's attributes as stored;
    ``seen`` / ``unseen`` the class ids; ``test_x [M, D]`` the test features (seen then unseen)
    whose scores are asked for.  ``generator`` (CPU) is the run's torch Generator, for every
    random draw; ``device`` the run's device; ``progress(epoch, n_epochs, **info)`` reports
    progress.  ``select_epoch`` is the run's epoch-selection option ("final" or
    "best_test_H") and ``test_h(scores)`` the uncalibrated per-class H (percent) of a score
    matrix on the test set: using it selects on the test set, which is what the option
    ``best_test_H`` records.  A model that does not select on the test set never calls it.
    ``checkpoint`` (None outside a recorded run) keeps a long model's state between epochs
    (zslbench.checkpoints.Checkpoint): ``load()`` once at the start (None: start afresh), and
    ``save(state)`` whenever ``due()``, so a stopped run continues where it stopped; a model that
    saves must continue to the numbers of an uninterrupted run."""

    train_x: Any
    train_y: Any
    attrs: Any
    seen: Any
    unseen: Any
    test_x: Any
    generator: Any
    device: Any
    progress: Callable[..., None]
    select_epoch: str
    test_h: Callable[[Any], float]
    dataset: str = ""
    checkpoint: Any = None


@dataclass
class GenerativeScores:
    """What ``fit_predict`` returns: ``final`` [M, C] non-negative scores over all classes for
    ``task.test_x`` (e.g. softmax probabilities: the seen-class calibration multiplies the
    seen columns) at the end of training; ``oracle`` the scores at the model's best epoch by
    ``task.test_h`` (None: the model keeps no such epoch) and ``oracle_epoch`` that epoch;
    ``epoch_log`` one dict per epoch (the run's epochs.csv), ``extra`` facts for the record."""

    final: Any
    oracle: Any = None
    oracle_epoch: int = 0
    epoch_log: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetEntry:
    """A registered features dataset: ``<data-dir>/<name>/features.npz``."""

    name: str
    display: str
    description: str
    source: str


@dataclass(frozen=True)
class CZSLStep:
    """One optimiser step of the CZSL trainer, as `CZSLMethod.step_penalty` sees it.

    ``logits`` are the step's own scaled-cosine logits, part of the autograd graph: a term
    computed from them trains the model through the same forward pass as the cross-entropy."""

    task: int  # 0-based
    indices: Any  # [B] the batch: indices into state.train_x
    inputs: Any  # [B, D] the batch's encoded features (state.encode(indices))
    labels: Any  # [B] the batch's class positions (state.train_pos[indices]), not class ids
    logits: Any  # [B, offsets[task + 1]] against every class seen so far (positions), unmasked
    loss: Any  # the step's cross-entropy (masked to the task's classes when the method is)


class CZSLMethod:
    """The hooks of a continual-ZSL method; the trainer calls them in this order for each task t
    (0-based):

    * ``before_task(state, t)``; ``train_indices(state, t)``: which training images task t
      trains on (default: task t's own); ``max_iters(state)``: a cap on the optimiser steps of
      the task (None: no cap);
    * per step: the cross-entropy (restricted to task t's classes when ``masked``), plus
      ``step_penalty(state, step)`` when not None (a `CZSLStep`: the step's inputs, labels and
      logits; the default returns ``penalty(state)``, the hook of methods that need the state
      only); backward; ``after_backward(state)`` (may change the gradients); the optimiser step;
    * ``after_task(state, t)``; ``summary()`` goes into the run record.

    ``state`` is a ``zslbench.train.methods.CZSLState``: the model (``state.model``), the
    normalised attributes in task order (``state.attrs``), the training rows
    (``state.train_x``, ``state.encode(idx)``), class positions, task boundaries
    (``state.offsets``), ``state.gamma``, a CPU ``state.generator`` for every random choice,
    and ``state.params()``.  ``self.options`` holds the method's options (its dataclass, or
    None), ``self.cfg`` the trainer config, ``self.settings`` its per-dataset settings.
    `czsl_logits` computes logits of the model (or of a copy) on other inputs.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    masked: ClassVar[bool] = True
    options_cls: ClassVar[type | None] = None
    source: ClassVar[str] = BUILTIN

    def __init__(self, cfg: Any, settings: dict, options: Any = None) -> None:
        self.cfg = cfg
        self.settings = settings
        self.options = options

    def train_indices(self, state: Any, t: int) -> Any:
        return state.task_train_idx[t]

    def max_iters(self, state: Any) -> int | None:
        return None

    def before_task(self, state: Any, t: int) -> None:
        pass

    def penalty(self, state: Any) -> Any:
        return None

    def step_penalty(self, state: Any, step: CZSLStep) -> Any:
        """A term added to this step's loss (None: nothing); default: ``penalty(state)``."""
        return self.penalty(state)

    def after_backward(self, state: Any) -> None:
        pass

    def after_task(self, state: Any, t: int) -> None:
        pass

    def summary(self) -> dict:
        """Method-specific facts for the run record (e.g. the memory size)."""
        return {}


def czsl_logits(state: Any, x: Any, n_classes: int | None = None, model: Any = None, train_mode: bool = False) -> Any:
    """[B, n_classes] scaled-cosine logits of ``model`` (default: ``state.model``) for features
    ``x`` [B, D] (e.g. ``state.encode(idx)``) against the classes at positions
    0..n_classes-1 (default: every class seen up to the current task), with gradients.

    The model's running statistics (ClassNorm's, BatchNorm's) are left as they were: in eval
    mode (the default) they are used and not updated; with ``train_mode`` the prototypes use
    the statistics of these classes, as in a training step, and the running ones are restored
    afterwards.  The model's mode is restored too."""
    import torch
    from torch.nn import functional as F

    model = state.model if model is None else model
    n = state.offsets[state.task + 1] if n_classes is None else int(n_classes)
    was = model.training
    saved = [(b, b.detach().clone()) for b in model.buffers()] if train_mode else []
    model.train(train_mode)
    try:
        protos = model(state.attrs[:n])
    finally:
        model.train(was)
        with torch.no_grad():
            for buf, value in saved:
                buf.copy_(value)
    return (state.gamma * F.normalize(x, dim=1)) @ (state.gamma * F.normalize(protos, dim=1)).t()


@dataclass(frozen=True)
class LoggedRun:
    """What a `RunLogger` sees of a run that has just been trained and recorded.

    ``epochs`` is a pandas DataFrame with one row per epoch (GZSL: ``loss``, ``lr``,
    ``test_H_per_sample_uncal`` and the per-epoch means of the logit-variance trace,
    ``var_pre_var``, ``var_post_var`` ...) or per task (CZSL), its step in column ``step``;
    ``params`` the run's identity fields and options, flat (``config.<field>``; a plugin's or
    f-CLSWGAN's own options: ``options.<name>``), as text or numbers; ``metrics`` the record's final metrics."""

    run_id: str
    label: str  # e.g. "gzsl mlp3+cn sun seed 1"
    record: RunRecord
    folder: Path  # the run's folder: record.json and its side files
    results: Path  # the results folder
    epochs: Any
    params: dict = field(default_factory=dict)

    @property
    def metrics(self) -> dict:
        return dict(self.record.get("metrics", {}))


class RunLogger:
    """A tracker.  zslbench calls ``log_run(run)`` once for each run it trains (not for a run
    skipped as already done), after the run's record is written: a logger never changes a run
    id or a number, and an exception it raises becomes one warning line (the record is kept).
    In a sweep each worker process builds its own instance with ``cls()``; a logger given as an
    instance to the Python API must be picklable to travel to pool or SLURM workers."""

    name: ClassVar[str] = ""

    def log_run(self, run: LoggedRun) -> None:
        raise NotImplementedError


MODELS: Registry[ModelEntry] = Registry("model")
METHODS: Registry[type[CZSLMethod]] = Registry("CZSL method")
FEATURE_DATASETS: Registry[DatasetEntry] = Registry("dataset")
LOGGERS: Registry[type] = Registry("logger")

_current = {"source": BUILTIN}


def default_data_dir() -> Path:
    """The data folder of a command without ``--data-dir``: ``$ZSLBENCH_DATA`` if set, else the
    platform's user cache folder for zslbench (not created here)."""
    env = os.environ.get("ZSLBENCH_DATA", "").strip()
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("zslbench"))


def current_source() -> str:
    """What registrations are attributed to now: "built-in" or the plugin being loaded (set by
    zslbench's plugin loader; not for plugins)."""
    return _current["source"]


def set_source(source: str) -> str:
    """Attribute the following registrations to ``source``; returns the previous one."""
    before = _current["source"]
    _current["source"] = source
    return before


def _check_options(kind: str, name: str, options: Any) -> None:
    if options is None or options == TRAINER_CONFIG:
        return
    if not (isinstance(options, type) and dataclasses.is_dataclass(options)):
        raise TypeError(f"{kind} {name!r}: options must be a dataclass type, got {options!r}")
    if not options.__dataclass_params__.frozen:  # type: ignore[attr-defined]  # set on every dataclass
        raise TypeError(f"{kind} {name!r}: options dataclass {options.__name__} must be frozen")
    try:
        options()
    except TypeError as exc:
        raise TypeError(f"{kind} {name!r}: every option needs a default ({exc})") from None


def _check_name(kind: str, name: str, taken: Registry) -> None:
    if not isinstance(name, str) or not name or any(c in name for c in " .=,/"):
        raise ValueError(f"{kind} name {name!r}: expected a non-empty name without spaces, '.', '=', ',' or '/'")
    if name in taken:
        raise ValueError(f"{kind} {name!r} is already registered")


def _check_penalty(name: str, cls: type[CZSLMethod]) -> None:
    """A ``penalty`` that wants more than the state was written for a step it never gets."""
    if cls.penalty is CZSLMethod.penalty:
        return
    params = list(inspect.signature(cls.penalty).parameters.values())[2:]
    if any(p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params):
        raise TypeError(
            f"CZSL method {name!r}: penalty(state) takes the state only; to see the step, "
            "override step_penalty(state, step) instead"
        )


def register_model(
    name: str,
    cls: Callable[..., Any],
    *,
    options: Any = None,
    description: str = "",
    deep: bool = True,
    class_norm: bool = False,
    proper_init: bool = False,
    kind: str = "prototype",
    seconds: Mapping[str, Mapping[str, float]] | None = None,
) -> ModelEntry:
    """Register a GZSL model under ``name``.

    ``cls(n_attrs, feat_dim, options)`` builds a ``torch.nn.Module`` whose ``forward(attrs)``
    maps class attributes ``[C, n_attrs]`` to prototypes ``[C, feat_dim]``; ``options`` is an
    instance of the frozen dataclass ``options`` (None: the model has none).  ``deep``,
    ``class_norm``, ``proper_init`` say which trainer options act on its runs (``hidden_dim``
    needs ``deep``; the ``cn_*`` options need ``class_norm``).  ``kind`` is one of
    MODEL_KINDS (see the module's docstring): an ``"embedding"`` model also has
    ``embed_features(x)``; a ``"generative"`` one has ``fit_predict(task)`` instead of a
    trainer (the trainer's optimiser options do not act on it).  ``seconds`` (profile ->
    dataset -> seconds) is what one run of it takes where that differs from the track's other
    models: ``run --all --dry-run`` estimates with it until the results folder holds its runs.
    """
    _check_name("model", name, MODELS)
    _check_options("model", name, options)
    if kind not in MODEL_KINDS:
        raise ValueError(f"model {name!r}: kind={kind!r}; expected one of {', '.join(MODEL_KINDS)}")
    entry = ModelEntry(
        name,
        cls,
        options,
        description,
        bool(deep),
        bool(class_norm),
        bool(proper_init),
        current_source(),
        kind,
        {str(p): {str(d): float(s) for d, s in per.items()} for p, per in (seconds or {}).items()},
    )
    return MODELS.register(name, entry)


def register_method(name: str, cls: type, *, options: Any = None, description: str = "") -> type:
    """Register a continual-ZSL method: ``cls`` is a subclass of `CZSLMethod`; the
    trainer builds it as ``cls(cfg, settings, options)`` for each run."""
    _check_name("CZSL method", name, METHODS)
    if not (isinstance(cls, type) and issubclass(cls, CZSLMethod)):
        raise TypeError(f"CZSL method {name!r}: {cls!r} is not a subclass of zslbench.api.CZSLMethod")
    _check_options("CZSL method", name, options)
    _check_penalty(name, cls)
    cls.name = name
    cls.options_cls = options
    cls.source = current_source()
    if description:
        cls.description = description
    return METHODS.register(name, cls)


def register_dataset(name: str, *, display: str = "", description: str = "") -> DatasetEntry:
    """Register a features dataset read from ``<data-dir>/<name>/features.npz`` (arrays:
    ``features [N, D]``, ``labels [N]``, ``attrs [C, A]``, ``trainval_idx``, ``test_seen_idx``,
    ``test_unseen_idx``, ``class_names [C]``; see docs/extending.md).  GZSL runs on it."""
    name = str(name).strip().lower()
    _check_name("dataset", name, FEATURE_DATASETS)
    if name in ("sun", "cub", "awa1", "awa2", "apy"):  # the xlsa17 datasets
        raise ValueError(f"dataset {name!r} is already registered")
    return FEATURE_DATASETS.register(name, DatasetEntry(name, display or name, description, current_source()))


def register_logger(name: str, cls: type) -> type:
    """Register a tracker under ``name`` (``--log NAME``): ``cls`` is a subclass of `RunLogger`
    built with no arguments (read settings such as a project name from the environment)."""
    _check_name("logger", name, LOGGERS)
    if not (isinstance(cls, type) and issubclass(cls, RunLogger)):
        raise TypeError(f"logger {name!r}: {cls!r} is not a subclass of zslbench.api.RunLogger")
    cls.name = name
    return LOGGERS.register(name, cls)
