"""Which config fields act on which runs: one declarative table per kind of run.

Every config field has one entry: a *rule*, a mapping from a run trait (or another config
field) to the values for which the field acts.  A run matches a rule when every key's value
is among the allowed ones; the empty rule ``ALL`` matches every run.  The traits of a run:

* GZSL: ``model`` (name), ``deep``, ``class_norm`` (Eq. 9), ``proper_init`` (Eq. 10) and
  ``kind`` (prototype, embedding, generative) from the model's spec, ``dataset``, ``source`` (xlsa17 or synthetic);
* CZSL: ``method``, ``classnorm``, ``dataset``, ``source``.

A key that is a config field name is a condition on that field's value (e.g. the first CN's
affine only exists with ``cn_placement=colab_two``).  A rule on the field's own value
(``cuda_tf32``) says that the other values are the run without the option.

``cuda_tf32`` acts only when on.  Off is float32 on CUDA (what torch computes for
a matmul by default, and for a convolution once cuDNN's TF32 is switched off), and a CPU has
no TF32 at all, so a run with ``cuda_tf32`` off is the same run as one that never had the
option: it stays out of the run id.  The device is not part of a run's identity, so the
option cannot act only on GPU runs through the table; instead it is refused on a CPU run
(zslbench.devices.check_cuda_tf32), and every CPU run id stays what it was.
``flush_denormal`` acts only when on too, and only on a CPU run, where it is on by default: a run
with it off is the run of the time before the option, with that run's id.  A CUDA run has it
off unless asked for (zslbench.devices.for_device), and then it is refused.

What the table decides:

* a field that does not act on a run is left out of the run's identity (so of its run id) and
  of its record's config: two runs that differ only in such a field are the same run;
* ``zslbench run`` refuses an explicit ``--set`` of a field that does not act on its run
  (exit 2, naming the field and the model, method, dataset or data source);
* a sweep applies a ``--set`` only to the runs it acts on.

Adding a config field means adding one entry here; ``tests/test_applicability.py`` fails for a
field without one and checks every entry against real runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Any

from zslbench.errors import ConfigError

Rule = Mapping[str, tuple]

ALL: Rule = {}
SYNTHETIC: Rule = {"source": ("synthetic",)}

_CN: Rule = {"class_norm": (True,)}
# the fields of the paper's trainer: they do not act on a generative model, which trains itself
TRAINED: Rule = {"kind": ("prototype", "embedding")}
GZSL_ACTS_ON: dict[str, Rule] = {
    "epochs": TRAINED,
    "batch_size": TRAINED,
    "lr": TRAINED,
    "weight_decay": TRAINED,
    "lr_step_epochs": TRAINED,  # acts once epochs > lr_step_epochs
    "lr_gamma": TRAINED,  # likewise
    "test_batch_size": TRAINED,  # evaluation batches
    "hidden_dim": {"deep": (True,)},
    "scale": TRAINED,
    "cn_momentum": _CN,
    "cn_eps": _CN,
    "select_epoch": ALL,
    "seen_logit_scale": ALL,
    "cn_denominator": _CN,
    "cn_var_unbiased": _CN,
    "cn_placement": _CN,
    "cn_affine_first": {"class_norm": (True,), "cn_placement": ("colab_two",)},
    "baseline_last_init": {"proper_init": (False,), **TRAINED},  # the last layer of models without Eq. (10)
    "attr_norm": TRAINED,  # a generative model gets the attributes as stored
    "acc_mode": ALL,
    "standardize_feats": TRAINED,
    "generative_settings": {"kind": ("generative",)},
    "synthetic_scale": SYNTHETIC,
    "synthetic_seed": SYNTHETIC,
    "trace": {"kind": ("prototype",)},  # writes trace.csv
    "threads": ALL,  # torch threads of the run (reduction order)
    "cuda_tf32": {"cuda_tf32": (True,)},  # on CUDA only (see above)
    "flush_denormal": {"flush_denormal": (True,)},  # only when on; CPU runs (see above)
}

_WITH_CN: Rule = {"classnorm": (True,)}
_IMPORTANCE: Rule = {"method": ("ewc-online", "mas-online")}
_AGEM: Rule = {"method": ("agem",)}
CZSL_ACTS_ON: dict[str, Rule] = {
    "tasks_cub": {"dataset": ("cub",)},
    "tasks_sun": {"dataset": ("sun",)},
    "split_cub": {"dataset": ("cub",)},
    "split_sun": {"dataset": ("sun",)},
    "image_split_seed": ALL,
    "sun_eval_split": {"dataset": ("sun",)},
    "epochs_per_task": ALL,
    "batch_size": ALL,  # training batches, and EWC/MAS importance batches
    "inference_batch_size": ALL,  # evaluation batches
    "head_lr": {"attr_param_group": ("head",)},
    "head_momentum": {"attr_param_group": ("head",)},
    "embedder_lr": {"attr_param_group": ("embedder",)},
    "embedder_momentum": {"attr_param_group": ("embedder",)},
    "attr_param_group": ALL,
    "multitask_max_iters_cub": {"method": ("multitask",), "dataset": ("cub",)},
    "multitask_max_iters_sun": {"method": ("multitask",), "dataset": ("sun",)},
    "hidden_dim": ALL,
    "scale": ALL,
    "attr_norm": ALL,
    "cn_denominator": _WITH_CN,
    "cn_var_unbiased": _WITH_CN,
    "cn_momentum": _WITH_CN,
    "cn_eps": _WITH_CN,
    "baseline_last_init": {"classnorm": (False,)},  # with ClassNorm the last layer gets Eq. (10)
    "ewc_lambda": {"method": ("ewc-online",)},
    "ewc_gamma": {"method": ("ewc-online",)},  # acts from the third task on
    "mas_lambda": {"method": ("mas-online",)},
    "mas_gamma": {"method": ("mas-online",)},
    "agem_ref_batch": _AGEM,
    "agem_mem_per_class_cub": {"method": ("agem",), "dataset": ("cub",)},
    "agem_mem_per_class_sun": {"method": ("agem",), "dataset": ("sun",)},
    "mauc_range": ALL,
    "forgetting_max_rows": ALL,
    "importance_data": _IMPORTANCE,
    "fisher_minmax": {"method": ("ewc-online",)},  # MAS importances are not normalised
    "agem_double_memory": _AGEM,
    # without ClassNorm a prototype depends on its own class only, so the extra (future)
    # classes of the reference pass change nothing
    "agem_ref_attrs": {"method": ("agem",), "classnorm": (True,)},
    "agem_ref_grad": _AGEM,
    "synthetic_scale": SYNTHETIC,
    "synthetic_seed": SYNTHETIC,
    "threads": ALL,  # torch threads of the run (reduction order)
    "cuda_tf32": {"cuda_tf32": (True,)},  # on CUDA only (see above)
    "flush_denormal": {"flush_denormal": (True,)},  # only when on; CPU runs (see above)
}

# The image track: every CZSL field acts as on the features track, except the image split
# (the dataset's own split is used: CUB's train_test_split.txt, SUN's 10/5/5 with
# RandomState(42)); those fields are not in its config at all (config.IMAGE_TRACK_UNUSED).
_IMAGE_SPLIT_FIELDS = ("split_cub", "split_sun", "image_split_seed")
CZSL_IMAGES_ACTS_ON: dict[str, Rule] = {
    **{k: v for k, v in CZSL_ACTS_ON.items() if k not in _IMAGE_SPLIT_FIELDS},
    "image_size": ALL,
    "backbone_weights": ALL,
    "image_channel_order": ALL,
    "amp": ALL,
}

# one table per track, by track key (zslbench.tracks)
TABLES = {"gzsl": GZSL_ACTS_ON, "czsl-features": CZSL_ACTS_ON, "czsl-images": CZSL_IMAGES_ACTS_ON}


def config_class(kind: str) -> type:
    from zslbench import config

    return {"gzsl": config.GZSLConfig, "czsl-features": config.CZSLConfig, "czsl-images": config.CZSLImageConfig}[kind]


def missing_entries(kind: str) -> list[str]:
    """Config fields of `kind` without an entry in its table (must be empty)."""
    from zslbench.config import IMAGE_TRACK_UNUSED

    table = TABLES[kind]
    unused = IMAGE_TRACK_UNUSED if kind == "czsl-images" else ()
    return [f.name for f in fields(config_class(kind)) if f.name not in table and f.name not in unused]


def gzsl_traits(model: str, dataset: str, source: str) -> dict:
    from zslbench.models import MODELS

    spec = MODELS.get(model)
    return {
        "model": model,
        "deep": spec.deep,
        "class_norm": spec.class_norm,
        "proper_init": spec.proper_init,
        "kind": spec.kind,
        "dataset": dataset,
        "source": source,
    }


def czsl_traits(method: str, classnorm: bool, dataset: str, source: str) -> dict:
    return {"method": method, "classnorm": bool(classnorm), "dataset": dataset, "source": source}


def _value(key: str, traits: Mapping[str, Any], cfg: Mapping[str, Any]) -> Any:
    if key in traits:
        return traits[key]
    if key in cfg:
        return cfg[key]
    raise KeyError(f"applicability rule key {key!r} is neither a run trait nor a config field")


def _failing(kind: str, name: str, traits: Mapping[str, Any], cfg: Mapping[str, Any]) -> str | None:
    """The first rule key that the run does not satisfy for field `name`, or None if it acts."""
    table = TABLES[kind]
    if name not in table:
        raise ConfigError(f"option {name!r} has no entry in the {kind} applicability table")
    for key, allowed in table[name].items():
        if _value(key, traits, cfg) not in allowed:
            return key
    return None


def acts(kind: str, name: str, traits: Mapping[str, Any], cfg: Any) -> bool:
    return _failing(kind, name, traits, _as_dict(cfg)) is None


def set_accepted(kind: str, name: str, traits: Mapping[str, Any], cfg: Any) -> bool:
    """Whether an explicit ``--set name=...`` is accepted for the run: the field acts, or only
    its own value keeps it from acting (``--set cuda_tf32=false`` asks for the run without
    the option, which is no mistake)."""
    return _failing(kind, name, traits, _as_dict(cfg)) in (None, name)


def _as_dict(cfg: Any) -> dict:
    return dict(cfg) if isinstance(cfg, Mapping) else cfg.to_dict()


def active_config(kind: str, traits: Mapping[str, Any], cfg: Any) -> dict:
    """The config as a dict, without the fields that do not act on the run."""
    values = _as_dict(cfg)
    return {k: v for k, v in values.items() if _failing(kind, k, traits, values) is None}


def _describe(key: str, traits: Mapping[str, Any], cfg: Mapping[str, Any]) -> str:
    value = _value(key, traits, cfg)
    if key in ("model", "deep", "class_norm", "proper_init", "kind"):
        return f"model {traits['model']}"
    if key == "method":
        return f"method {value}"
    if key == "classnorm":
        return f"{traits['method']} {'with' if value else 'without'} ClassNorm"
    if key == "dataset":
        return f"dataset {value}"
    if key == "source":
        return f"{value} data"
    return f"runs with {key}={value}"


def refuse_inactive(kind: str, traits: Mapping[str, Any], cfg: Any, explicit: Iterable[str]) -> None:
    """ConfigError (one line) for the first explicitly set field that does not act on the run."""
    values = _as_dict(cfg)
    for name in explicit:
        key = _failing(kind, name, traits, values)
        if key not in (None, name):
            raise ConfigError(f"--set {name}: this option does not act on {_describe(key, traits, values)}")
