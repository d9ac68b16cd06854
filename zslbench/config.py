"""Run configuration: frozen dataclasses whose defaults are the paper's protocol.

Every option that changes results (PAPER_SPEC section 9) is a field here with the
paper-faithful default, and every run record stores all of them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any, Mapping

from zslbench.errors import ConfigError


def _choice(*values: str) -> dict:
    return {"choices": values}


@dataclass(frozen=True)
class GZSLConfig:
    # --- optimisation (PAPER_SPEC section 4) ---
    epochs: int = 50
    batch_size: int = 256
    lr: float = 5e-4
    weight_decay: float = 1e-4
    lr_step_epochs: int = 25
    lr_gamma: float = 0.1
    test_batch_size: int = 2048
    # --- model (PAPER_SPEC section 3) ---
    hidden_dim: int = 1024
    scale: float = 5.0  # gamma per side of the scaled cosine; logits lie in [-gamma^2, gamma^2]
    cn_momentum: float = 0.1
    cn_eps: float = 1e-5
    # --- pitfalls, PAPER_SPEC section 9 (items 1-7) ---
    select_epoch: str = dataclasses.field(default="final", metadata=_choice("final", "best_test_H"))
    seen_logit_scale: str = dataclasses.field(default="colab_rule")  # "colab_rule" or a number
    cn_denominator: str = dataclasses.field(default="var_colab", metadata=_choice("var_colab", "std"))
    cn_var_unbiased: bool = True
    cn_placement: str = dataclasses.field(
        default="colab_two", metadata=_choice("colab_two", "penultimate_only")
    )
    cn_affine_first: bool = False
    baseline_last_init: str = dataclasses.field(
        default="torch_default", metadata=_choice("torch_default", "kaiming_relu")
    )
    attr_norm: str = dataclasses.field(
        default="sqrtA", metadata=_choice("sqrtA", "unit", "standardize", "none")
    )
    acc_mode: str = dataclasses.field(default="per_class", metadata=_choice("per_class", "per_sample"))
    standardize_feats: bool = False
    # --- data ---
    synthetic_scale: float = 1.0  # images per split relative to GBU (synthetic data only)
    synthetic_seed: int = 0
    # --- instrumentation ---
    trace: bool = True

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
    "epochs", "batch_size", "lr", "test_batch_size", "hidden_dim", "scale", "lr_step_epochs",
    "cn_eps", "synthetic_scale",
}
_NON_NEGATIVE = {"weight_decay", "lr_gamma", "cn_momentum", "synthetic_seed"}

# Result-relevant options whose values differ from the paper-faithful defaults are listed
# by `non_default_options` (used by table footnotes).
PITFALL_OPTIONS = (
    "select_epoch", "seen_logit_scale", "cn_denominator", "cn_var_unbiased", "cn_placement",
    "cn_affine_first", "baseline_last_init", "attr_norm", "acc_mode", "standardize_feats",
)


def validate(cfg: Any) -> None:
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        choices = f.metadata.get("choices")
        if choices and value not in choices:
            raise ConfigError(f"option {f.name}={value!r} is not one of: {', '.join(choices)}")
        if f.name in _POSITIVE and not value > 0:
            raise ConfigError(f"option {f.name}={value!r} must be > 0")
        if f.name in _NON_NEGATIVE and value < 0:
            raise ConfigError(f"option {f.name}={value!r} must be >= 0")
    if hasattr(cfg, "seen_logit_scale") and cfg.seen_logit_scale != "colab_rule":
        try:
            factor = float(cfg.seen_logit_scale)
        except ValueError:
            raise ConfigError(
                f"option seen_logit_scale={cfg.seen_logit_scale!r} must be 'colab_rule' or a number"
            ) from None
        if not factor > 0:
            raise ConfigError(f"option seen_logit_scale={factor!r} must be > 0")


def _parse_bool(key: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"--set {key}={text!r}: expected true or false")


def _coerce(cls: type, key: str, text: str) -> Any:
    types = {f.name: f.type for f in fields(cls)}
    kind = types[key]
    kind = kind if isinstance(kind, str) else kind.__name__
    if kind == "bool":
        return _parse_bool(key, text)
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"--set {key}={text!r}: expected an integer") from None
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            raise ConfigError(f"--set {key}={text!r}: expected a number") from None
    return text


def parse_overrides(cls: type, items: list[str] | tuple[str, ...]) -> dict:
    """Turn `key=value` strings into typed overrides for config class `cls`."""
    valid = [f.name for f in fields(cls)]
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected key=value")
        key, text = item.split("=", 1)
        key = key.strip()
        if key not in valid:
            hint = _did_you_mean(key, valid)
            raise ConfigError(f"--set: unknown key {key!r}{hint}; valid keys: {', '.join(valid)}")
        out[key] = _coerce(cls, key, text.strip())
    return out


def _did_you_mean(word: str, options: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


# --- profiles --------------------------------------------------------------------------
@dataclass(frozen=True)
class Profile:
    name: str
    seeds: tuple[int, ...]
    gzsl: Mapping[str, Any]
    description: str


PROFILES: dict[str, Profile] = {
    "paper": Profile(
        "paper", (1, 2, 3, 4, 5), {}, "the paper's protocol: 50 epochs, batch 256, seeds 1-5"
    ),
    "quick": Profile(
        "quick",
        (1, 2),
        {"epochs": 4, "synthetic_scale": 0.15},
        "a smoke-scale run: 4 epochs, synthetic data at 15% of the images, seeds 1-2",
    ),
}


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise ConfigError(f"unknown profile {name!r}; valid profiles: {', '.join(PROFILES)}")
    return PROFILES[name]


def make_gzsl_config(profile: str = "paper", overrides: Mapping[str, Any] | None = None) -> GZSLConfig:
    values = dict(get_profile(profile).gzsl)
    values.update(overrides or {})
    return GZSLConfig(**values)
