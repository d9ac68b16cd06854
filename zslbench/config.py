"""Run configuration: frozen dataclasses whose defaults are the paper's protocol.

Every option that changes results (docs/paper-protocol.md#pitfalls) is a field here with the
paper-faithful default, and every run record stores all of them.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from typing import Any

from zslbench.errors import ConfigError
from zslbench.overrides import coerce_field, parse_overrides  # noqa: F401  (re-exported: the names config users import)


def _choice(*values: str) -> dict:
    return {"choices": values}


def _positive(default: Any) -> Any:
    return dataclasses.field(default=default, metadata={"positive": True})


def _non_negative(default: Any) -> Any:
    return dataclasses.field(default=default, metadata={"non_negative": True})


@dataclass(frozen=True)
class GZSLConfig:
    """One GZSL run's options; the defaults are the paper's protocol as the notebook runs it.

    ``--set key=value`` sets a field; the fields that act on a run are part of its run id.
    """

    # --- optimisation (docs/paper-protocol.md#gzsl-training) ---
    epochs: int = 50
    batch_size: int = 256
    lr: float = 5e-4
    weight_decay: float = 1e-4
    lr_step_epochs: int = 25
    lr_gamma: float = 0.1
    test_batch_size: int = 2048
    # --- model (docs/paper-protocol.md#models) ---
    hidden_dim: int = 1024
    scale: float = 5.0  # gamma per side of the scaled cosine; logits lie in [-gamma^2, gamma^2]
    cn_momentum: float = 0.1
    cn_eps: float = 1e-5
    # --- pitfalls, docs/paper-protocol.md#pitfalls (items 1-7) ---
    select_epoch: str = dataclasses.field(default="final", metadata=_choice("final", "best_test_H"))
    seen_logit_scale: str = dataclasses.field(default="colab_rule")  # "colab_rule" or a number
    cn_denominator: str = dataclasses.field(default="var_colab", metadata=_choice("var_colab", "std"))
    cn_var_unbiased: bool = True
    cn_placement: str = dataclasses.field(default="colab_two", metadata=_choice("colab_two", "penultimate_only"))
    cn_affine_first: bool = False
    baseline_last_init: str = dataclasses.field(
        default="torch_default", metadata=_choice("torch_default", "kaiming_relu")
    )
    attr_norm: str = dataclasses.field(default="sqrtA", metadata=_choice("sqrtA", "unit", "standardize", "none"))
    acc_mode: str = dataclasses.field(default="per_class", metadata=_choice("per_class", "per_sample"))
    standardize_feats: bool = False
    # --- generative models: the settings their 0-valued options take (zslbench.models.clswgan) ---
    generative_settings: str = dataclasses.field(default="paper", metadata=_choice("paper", "quick"))
    # --- data ---
    synthetic_scale: float = 1.0  # images per split relative to GBU (synthetic data only)
    synthetic_seed: int = 0
    # --- instrumentation ---
    trace: bool = True
    # --- numerics: torch threads of the run, whatever launches it (docs/numerics.md) ---
    threads: int = _positive(1)
    # TF32 matmuls and convolutions on CUDA (off: float32; refused on a CPU run; zslbench.devices)
    cuda_tf32: bool = False
    # subnormal floats flushed to zero on every thread of a CPU run (off on CUDA; docs/numerics.md#subnormal-floats)
    flush_denormal: bool = True

    def __post_init__(self) -> None:
        validate(self)

    def seen_factor(self, dataset: str) -> float:
        """The multiplicative seen-logit calibration factor for a dataset."""
        if self.seen_logit_scale == "colab_rule":
            return 1.0 if dataset == "cub" else 0.95
        return float(self.seen_logit_scale)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# Fields that must be > 0.
_POSITIVE = {
    "epochs",
    "batch_size",
    "lr",
    "test_batch_size",
    "hidden_dim",
    "scale",
    "lr_step_epochs",
    "cn_eps",
    "synthetic_scale",
}
_NON_NEGATIVE = {"weight_decay", "lr_gamma", "cn_momentum", "synthetic_seed"}

# Result-relevant options whose values differ from the paper-faithful defaults are listed
# by `non_default_options` (used by table footnotes).
PITFALL_OPTIONS = (
    "select_epoch",
    "seen_logit_scale",
    "cn_denominator",
    "cn_var_unbiased",
    "cn_placement",
    "cn_affine_first",
    "baseline_last_init",
    "attr_norm",
    "acc_mode",
    "standardize_feats",
)


# Upper bounds of the fields that size a run's memory or time; a value above one is a typo or a
# hostile record, never a run (docs/troubleshooting.md#refused-records-and-options).
UPPER = {
    "epochs": 100_000,
    "epochs_per_task": 100_000,
    "batch_size": 1_000_000,
    "test_batch_size": 1_000_000,
    "inference_batch_size": 1_000_000,
    "agem_ref_batch": 1_000_000,
    "threads": 1024,
    "hidden_dim": 1_000_000,
    "lr_step_epochs": 100_000,
    "image_size": 4096,
    "tasks_cub": 200,
    "tasks_sun": 717,
}
SEED_LIMIT = 2**63  # a seed s is an int, 0 <= s < SEED_LIMIT (torch's generators take 64 bits)
_TYPES = {
    "bool": lambda v: isinstance(v, bool),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v),
    "str": lambda v: isinstance(v, str),
}


def short_repr(value: Any, limit: int = 40) -> str:
    """repr(value), cut to `limit` characters (a hostile value must not flood a message)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_seed(seed: Any, what: str = "seed") -> int:
    """`seed` if it is an int with 0 <= seed < SEED_LIMIT, else ConfigError."""
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < SEED_LIMIT:
        raise ConfigError(f"{what} {short_repr(seed)}: must be a whole number from 0 to 2**63 - 1")
    return seed


def check_field(f: Any, value: Any) -> None:
    """ConfigError unless `value` has field `f`'s type (an int is a float too) and, for the
    fields of UPPER and the integer seeds, lies within its bounds."""
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
    if kind in _TYPES and not _TYPES[kind](value):
        expected = "a finite number" if kind == "float" else kind
        raise ConfigError(f"option {f.name}={short_repr(value)}: expected {expected}")
    if f.name in UPPER and kind in ("int", "float") and value > UPPER[f.name]:
        raise ConfigError(f"option {f.name}={short_repr(value)} is above its bound {UPPER[f.name]:,}")
    if kind == "int" and f.name.endswith("seed"):
        check_seed(value, f"option {f.name}")


def check_value(f: Any, value: Any) -> None:
    """ConfigError unless `value` is a valid value of config field `f` on its own: its type,
    bounds, choices and sign."""
    check_field(f, value)
    choices = f.metadata.get("choices")
    if choices and value not in choices:
        raise ConfigError(f"option {f.name}={short_repr(value)} is not one of: {', '.join(choices)}")
    if (f.name in _POSITIVE or f.metadata.get("positive")) and not value > 0:
        raise ConfigError(f"option {f.name}={value!r} must be > 0")
    if (f.name in _NON_NEGATIVE or f.metadata.get("non_negative")) and value < 0:
        raise ConfigError(f"option {f.name}={value!r} must be >= 0")


def validate(cfg: Any) -> None:
    for f in fields(cfg):
        check_value(f, getattr(cfg, f.name))
    if hasattr(cfg, "seen_logit_scale") and cfg.seen_logit_scale != "colab_rule":
        try:
            factor = float(cfg.seen_logit_scale)
        except ValueError:
            raise ConfigError(
                f"option seen_logit_scale={cfg.seen_logit_scale!r} must be 'colab_rule' or a number"
            ) from None
        if not factor > 0:
            raise ConfigError(f"option seen_logit_scale={factor!r} must be > 0")


# --- continual ZSL (features track) -----------------------------------------------------
@dataclass(frozen=True)
class CZSLConfig:
    """Continual ZSL on the features track (docs/paper-protocol.md#czsl).

    The paper fine-tunes a ResNet-18 on raw images; here the image features are the fixed
    2048-d xlsa17 (or synthetic) features and only the attribute head trains, so the numbers
    are NOT comparable with the paper's CZSL table.  Per-dataset settings are separate
    fields (``*_cub`` / ``*_sun``); ``for_dataset`` resolves them.

    Optimiser: the authors' code has two SGD parameter groups, "head" (lr 1e-3, momentum 0.9),
    which holds the attribute network (their ``AttrsHead``), and "embedder" (lr 5e-3,
    momentum 0), which holds the image network (docs/paper-protocol.md#pitfall-19).  On the features
    track the only trainable module is the attribute network A -> 256 -> feature_dim (called
    the embedder in the rest of zslbench), so it gets the "head" settings by default
    (``attr_param_group="head"``); ``"embedder"`` gives it the image network's settings
    instead.  Only the group it uses acts on a run (see zslbench.applicability).
    """

    # --- tasks and images (docs/paper-protocol.md#czsl-protocol, #czsl-images) ---
    tasks_cub: int = _positive(10)  # 200 classes -> 10 tasks of 20
    tasks_sun: int = _positive(15)  # 717 classes -> 47, 47, 47, then 48 x 12
    split_cub: str = "1/0/1"  # per-class train/val/test ratio: about half train, half test
    split_sun: str = "10/5/5"  # per class: 10 train, 5 val, 5 test (20 images per class)
    image_split_seed: int = _non_negative(42)  # fixed across run seeds, like the code's RandomState(42)
    sun_eval_split: str = dataclasses.field(default="test", metadata=_choice("test", "val"))
    # --- optimisation (docs/paper-protocol.md#czsl-protocol) ---
    epochs_per_task: int = _positive(10)
    batch_size: int = _positive(32)
    inference_batch_size: int = _positive(512)
    head_lr: float = _positive(1e-3)
    head_momentum: float = _non_negative(0.9)
    embedder_lr: float = _positive(5e-3)
    embedder_momentum: float = _non_negative(0.0)
    attr_param_group: str = dataclasses.field(default="head", metadata=_choice("head", "embedder"))
    multitask_max_iters_cub: int = _positive(200)
    multitask_max_iters_sun: int = _positive(150)
    # --- model (docs/paper-protocol.md#czsl-protocol): Lin(A,256) -> ReLU -> [CN] -> Lin(256, feature_dim) -> ReLU ---
    hidden_dim: int = _positive(256)
    scale: float = _positive(10.0)  # gamma per side of the scaled cosine
    attr_norm: str = dataclasses.field(default="sqrtA", metadata=_choice("sqrtA", "unit", "standardize", "none"))
    # CN options as in GZSL; the CZSL code uses BatchNorm1d(affine=False): std, biased variance
    cn_denominator: str = dataclasses.field(default="std", metadata=_choice("std", "var_colab"))
    cn_var_unbiased: bool = False
    cn_momentum: float = _non_negative(0.1)
    cn_eps: float = _positive(1e-5)
    baseline_last_init: str = dataclasses.field(
        default="kaiming_relu", metadata=_choice("kaiming_relu", "torch_default")
    )
    # --- methods (docs/paper-protocol.md#czsl-methods) ---
    ewc_lambda: float = _non_negative(10.0)
    ewc_gamma: float = _non_negative(0.99)
    mas_lambda: float = _non_negative(1e-4)
    mas_gamma: float = _non_negative(0.95)
    agem_ref_batch: int = _positive(128)
    agem_mem_per_class_cub: int = _positive(10)
    agem_mem_per_class_sun: int = _positive(5)
    # --- pitfalls, docs/paper-protocol.md#pitfalls (items 10-12); defaults follow the authors' code ---
    mauc_range: str = dataclasses.field(default="1..T-1", metadata=_choice("1..T-1", "0..T"))
    forgetting_max_rows: str = dataclasses.field(
        default="all_prev_hist", metadata=_choice("all_prev_hist", "since_learned")
    )
    importance_data: str = dataclasses.field(
        default="current_task_code", metadata=_choice("current_task_code", "previous_task")
    )
    # EWC's Fisher normalisation (docs/paper-protocol.md#pitfall-11, #pitfall-20): "code" divides by the
    # maximum (the code's minimum runs over all parameters, including the frozen attribute
    # matrix whose Fisher is 0), "trainable_only" min-max normalises over the trainable
    # weights, "none" keeps the raw Fisher.
    fisher_minmax: str = dataclasses.field(default="code", metadata=_choice("code", "trainable_only", "none"))
    agem_double_memory: bool = True
    agem_ref_attrs: str = dataclasses.field(default="all_code", metadata=_choice("all_code", "seen"))
    # A-GEM's reference gradient (docs/paper-protocol.md#pitfall-18): "stale_code" adds the previous
    # optimiser step's gradient, as the authors' code does; "clean" is the reference gradient alone.
    agem_ref_grad: str = dataclasses.field(default="stale_code", metadata=_choice("stale_code", "clean"))
    # --- data ---
    synthetic_scale: float = _positive(1.0)
    synthetic_seed: int = _non_negative(0)
    # --- numerics: torch threads of the run, whatever launches it (docs/numerics.md) ---
    threads: int = _positive(1)
    # TF32 matmuls and convolutions on CUDA (off: float32; refused on a CPU run; zslbench.devices)
    cuda_tf32: bool = False
    # subnormal floats flushed to zero on every thread of a CPU run (off on CUDA; docs/numerics.md#subnormal-floats)
    flush_denormal: bool = True

    def __post_init__(self) -> None:
        validate(self)
        for key in ("split_cub", "split_sun"):
            parse_split_ratio(key, getattr(self, key))
        for key in ("tasks_cub", "tasks_sun"):
            if getattr(self, key) < 2:
                raise ConfigError(f"option {key}={getattr(self, key)!r} must be >= 2")

    def for_dataset(self, dataset: str) -> dict:
        """The per-dataset settings: the dataset, tasks, split ratio, multitask cap, A-GEM memory
        per class."""
        known = [f.name[len("tasks_") :] for f in fields(self) if f.name.startswith("tasks_")]
        if dataset not in known:
            raise ConfigError(f"dataset {dataset!r} has no continual-ZSL protocol; valid datasets: {', '.join(known)}")
        return {
            "dataset": dataset,
            "num_tasks": getattr(self, f"tasks_{dataset}"),
            "split": parse_split_ratio(f"split_{dataset}", getattr(self, f"split_{dataset}")),
            "eval_split": self.sun_eval_split if dataset == "sun" else "test",
            "multitask_max_iters": getattr(self, f"multitask_max_iters_{dataset}"),
            "agem_mem_per_class": getattr(self, f"agem_mem_per_class_{dataset}"),
        }

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def parse_split_ratio(key: str, text: str) -> tuple[float, float, float]:
    """ "train/val/test" -> three non-negative numbers (train and test > 0)."""
    parts = str(text).split("/")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 3 or any(v < 0 for v in values) or values[0] <= 0 or values[2] <= 0:
        raise ConfigError(
            f"option {key}={text!r} must be a train/val/test ratio like 10/5/5 (train and test > 0, val >= 0)"
        )
    return values


# Result-relevant CZSL options listed by `non_default_options` in CZSL records.
CZSL_PITFALL_OPTIONS = (
    "mauc_range",
    "forgetting_max_rows",
    "importance_data",
    "fisher_minmax",
    "agem_double_memory",
    "agem_ref_attrs",
    "agem_ref_grad",
    "sun_eval_split",
    "attr_param_group",
    "cn_denominator",
    "cn_var_unbiased",
    "baseline_last_init",
    "attr_norm",
)


# --- continual ZSL, image track ----------------------------------------------------------
@dataclass(frozen=True)
class CZSLImageConfig(CZSLConfig):
    """Continual ZSL on the image track: the paper's protocol (docs/paper-protocol.md#czsl-images, #czsl-protocol).

    An ImageNet-pretrained ResNet-18 (512-d) is fine-tuned end to end with the attribute head
    (prototype size 512).  Everything of ``CZSLConfig`` applies, with two defaults of
    the authors' code that differ from the features track: the attribute network is in the SGD
    ``head`` group (lr 1e-3, momentum 0.9; the ResNet is the ``embedder`` group, lr 5e-3,
    momentum 0; docs/paper-protocol.md#pitfall-19), and SUN is evaluated on its ``val`` split.
    The image split is the source's own (CUB's train_test_split.txt, SUN's 10/5/5 with
    RandomState(42)), so ``split_cub``, ``split_sun`` and ``image_split_seed`` do not act here
    and are left out of the record's config (a non-default value is refused).
    """

    attr_param_group: str = dataclasses.field(default="head", metadata=_choice("embedder", "head"))
    sun_eval_split: str = dataclasses.field(default="val", metadata=_choice("test", "val"))
    # --- image track (docs/paper-protocol.md#czsl-images, #czsl-protocol) ---
    image_size: int = _positive(256)  # images resized to image_size x image_size (no crop)
    backbone_weights: str = "imagenet"  # "imagenet" (the torchvision checkpoint), "none", or a path
    # "bgr_code": the authors' cv2 BGR pixels normalised with the RGB ImageNet statistics; "rgb"
    image_channel_order: str = dataclasses.field(default="bgr_code", metadata=_choice("bgr_code", "rgb"))
    amp: str = dataclasses.field(default="off", metadata=_choice("off", "bf16"))  # backbone autocast

    def __post_init__(self) -> None:
        super().__post_init__()
        if not str(self.backbone_weights).strip():
            raise ConfigError("option backbone_weights='': expected imagenet, none or a checkpoint path")
        base = CZSLConfig()
        for key in IMAGE_TRACK_UNUSED:
            if getattr(self, key) != getattr(base, key):
                raise ConfigError(
                    f"option {key}={getattr(self, key)!r} does not act on the image track "
                    "(it uses the dataset's own image split)"
                )

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        for key in IMAGE_TRACK_UNUSED:
            out.pop(key)
        return out


# CZSLConfig fields with no effect on the image track (left out of its records and ids).
IMAGE_TRACK_UNUSED = ("split_cub", "split_sun", "image_split_seed")
# Result-relevant image-track options listed by `non_default_options`.
CZSL_IMAGE_PITFALL_OPTIONS = CZSL_PITFALL_OPTIONS + (
    "image_channel_order",
    "backbone_weights",
    "amp",
    "image_size",
)


# --- profiles --------------------------------------------------------------------------
@dataclass(frozen=True)
class Profile:
    """A named scale of runs: its seeds and description.  The config values each kind of run
    takes under a profile are the track's (zslbench.tracks: ``Track.profiles``)."""

    name: str
    seeds: tuple[int, ...]
    description: str


PROFILES: dict[str, Profile] = {
    "paper": Profile("paper", (1, 2, 3, 4, 5), "the paper's protocol: 50 epochs, batch 256, seeds 1-5"),
    "quick": Profile(
        "quick",
        (1, 2),
        "a smoke-scale run: GZSL 4 epochs at lr 3e-3 on synthetic data at 15% of the images; "
        "CZSL 1 epoch per task at 20% of the images, head lr 0.03, Multi-task capped at 20 (CUB) / "
        "10 (SUN) steps per task; seeds 1-2",
    ),
}


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise ConfigError(f"unknown profile {name!r}; valid profiles: {', '.join(PROFILES)}")
    return PROFILES[name]
