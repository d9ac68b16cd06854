"""Loading plugins (zslbench.api), checking their contract, their provenance, and the options of
a plugin's model or method on a run.

A plugin is named by ``--plugin MODULE``, by ``$ZSLBENCH_PLUGINS`` (comma separated) or by an
entry point of the ``zslbench.plugins`` group.  Loading one is all or nothing: a plugin that
fails to import, registers a name twice or breaks the contract takes back what it registered
and is refused with a :class:`PluginError` of one line naming it.

Options of a plugin's model or method (``--set <name>.<option>=value``) travel with the run's
config as its ``plugin_options`` attribute ({"<name>.<option>": value}), outside the config's
fields, so the built-in runs and their ids are untouched.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zslbench import api
from zslbench.errors import ConfigError
from zslbench.overrides import coerce_field

ENTRY_POINT_GROUP = "zslbench.plugins"
ENV_VAR = "ZSLBENCH_PLUGINS"
OPTIONS_ATTR = "plugin_options"
BUILTIN = "built-in"


class PluginError(ConfigError):
    """A plugin that cannot be used (one line, naming the plugin)."""


@dataclass(frozen=True)
class PluginInfo:
    module: str
    distribution: str  # "" when the module is not part of an installed distribution
    version: str
    source_sha256: str  # over the plugin's source files
    files: tuple = ()  # (relative path, sha256) of every source file the hash covers

    def identity(self) -> dict:
        """The provenance a plugin run's id hashes: module, distribution, version, the hash of
        every source file and of all of them."""
        return {
            "module": self.module,
            "distribution": self.distribution or None,
            "version": self.version or None,
            "source_sha256": self.source_sha256,
            "source_files": dict(self.files),
        }


LOADED: dict[str, PluginInfo] = {}


def _module_roots(module: Any) -> list[Path]:
    """The folders (a package, by its top-level package) or the file of a plugin module."""
    top = sys.modules.get(module.__name__.split(".")[0], module)
    paths = [Path(p) for p in getattr(top, "__path__", [])]
    return paths or [Path(module.__file__)]


def _distribution_files(dist: str) -> list[Path]:
    from importlib import metadata

    try:
        found = metadata.distribution(dist)
    except metadata.PackageNotFoundError:
        return []
    return [Path(str(found.locate_file(f))) for f in (found.files or []) if str(f).endswith(".py")]


def source_files(module: Any, dist: str = "") -> list[tuple[str, Path]]:
    """Every source file of a plugin: the .py files of its top-level package (or its single
    module file) and of its distribution, named relative to their folder."""
    out: dict[str, Path] = {}
    for root in _module_roots(module):
        if root.is_file():
            out[root.name] = root
            continue
        for f in sorted(root.rglob("*.py")):
            if "__pycache__" not in f.parts:
                out[str(Path(root.name) / f.relative_to(root))] = f
    # the distribution's other modules, when the plugin is imported from that distribution (not
    # from a copy on the path); an editable install's generated finder is not a source
    mine = {v.resolve() for v in out.values()}
    others = [f for f in (_distribution_files(dist) if dist else []) if f.is_file() and "__pycache__" not in f.parts]
    if any(f.resolve() in mine for f in others):
        for f in others:
            if f.resolve() not in mine and not f.name.startswith("__editable__"):
                out[f"{dist}:{f.as_posix().split('site-packages/')[-1]}"] = f
    return sorted(out.items())


def source_hashes(module: Any, dist: str = "") -> tuple[str, tuple]:
    """(SHA-256 over all the plugin's source files, ((name, SHA-256 of the file), ...))."""
    files = tuple((name, hashlib.sha256(path.read_bytes()).hexdigest()) for name, path in source_files(module, dist))
    digest = hashlib.sha256()
    for name, sha in files:
        digest.update(f"{name}\0{sha}\0".encode())
    return digest.hexdigest(), files


def source_sha256(module: Any) -> str:
    """SHA-256 over the source files of a module's top-level package (or of the module)."""
    return source_hashes(module)[0]


def _distribution(module_name: str) -> tuple[str, str]:
    from importlib import metadata

    top = module_name.split(".")[0]
    for dist in metadata.packages_distributions().get(top, []):
        try:
            return dist, metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return "", ""


def _snapshot() -> dict:
    return {reg: set(reg.names()) for reg in (api.MODELS, api.METHODS, api.FEATURE_DATASETS)}


def _rollback(before: dict) -> None:
    for reg, names in before.items():
        for name in set(reg.names()) - names:
            reg.remove(name)


def load_plugin(module_name: str, check: bool = True) -> PluginInfo:
    """Import a plugin and check what it registered (``check``); PluginError (nothing kept) on
    a problem."""
    module_name = module_name.strip()
    if module_name in LOADED:
        return LOADED[module_name]
    before = _snapshot()
    previous = api.set_source(module_name)
    try:
        module = importlib.import_module(module_name)
        problems = contract_problems(module_name) if check else []
        if problems:
            raise PluginError(problems[0])
    except PluginError as exc:
        _rollback(before)
        sys.modules.pop(module_name, None)
        raise PluginError(f"plugin {module_name}: {exc}") from None
    except Exception as exc:  # whatever the plugin's import raised
        _rollback(before)
        sys.modules.pop(module_name, None)
        raise PluginError(f"plugin {module_name}: {type(exc).__name__}: {exc}".splitlines()[0]) from None
    finally:
        api.set_source(previous)
    dist, version = _distribution(module_name)
    info = PluginInfo(module_name, dist, version, *source_hashes(module, dist))
    LOADED[module_name] = info
    return info


def entry_point_modules() -> list[str]:
    from importlib import metadata

    return [ep.value.split(":")[0].strip() for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)]


def env_modules() -> list[str]:
    return [m.strip() for m in os.environ.get(ENV_VAR, "").split(",") if m.strip()]


def plugin_modules(modules: Iterable[str] = (), entry_points: bool = True) -> list[str]:
    """The plugin modules to load: the entry points', $ZSLBENCH_PLUGINS, then ``modules``."""
    names = (entry_point_modules() if entry_points else []) + env_modules() + [m.strip() for m in modules]
    return list(dict.fromkeys(names))


def load_plugins(modules: Iterable[str] = (), entry_points: bool = True) -> list[PluginInfo]:
    """Load the entry points' plugins, $ZSLBENCH_PLUGINS and ``modules`` (each once), and name
    them all in $ZSLBENCH_PLUGINS so that the processes this one starts (pool workers, SLURM
    jobs) load the same ones."""
    out = [load_plugin(m) for m in plugin_modules(modules, entry_points)]
    if LOADED:
        os.environ[ENV_VAR] = ",".join(LOADED)
    return out


# --------------------------------------------------------------------------- the contract


def _entries_of(source: str) -> tuple[list, list]:
    models = [api.MODELS.get(n) for n in api.MODELS if api.MODELS.get(n).source == source]
    methods = [api.METHODS.get(n) for n in api.METHODS if api.METHODS.get(n).source == source]
    return models, methods


def model_problem(entry: api.ModelEntry) -> str | None:
    """Build the model on a tiny input and check its output: None when it keeps the contract."""
    import torch

    n_cls, n_attrs, feat_dim = 4, 5, 7
    if entry.kind == "generative":
        return generative_problem(entry)
    try:
        model = entry.build(n_attrs, feat_dim, entry.make_options({}))
        out = model(torch.rand(n_cls, n_attrs))
    except Exception as exc:
        return f"model {entry.name}: building it or its forward pass failed: {type(exc).__name__}: {exc}"
    if not isinstance(model, torch.nn.Module):
        return f"model {entry.name}: built a {type(model).__name__}, not a torch.nn.Module"
    width = out.shape[1] if entry.kind == "embedding" and isinstance(out, torch.Tensor) and out.dim() == 2 else feat_dim
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (n_cls, width):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        return (
            f"model {entry.name}: returned {shape} for attributes [{n_cls}, {n_attrs}]; expected [{n_cls}, {feat_dim}]"
        )
    if not out.requires_grad:
        return f"model {entry.name}: its prototypes do not depend on trainable parameters"
    return gradient_problem(entry, model)


def gradient_problem(entry: api.ModelEntry, model: Any) -> str | None:
    """A short training probe (one step of the trainer's loss on random features): None when
    every parameter of the model receives a gradient; else a line naming the first that does not
    (a parameter that never learns, e.g. a feature map of a model registered as a prototype model,
    which the trainer never calls)."""
    import torch
    from torch.nn import functional as F

    n_cls, n_attrs, feat_dim, n = 4, 5, 7, 16
    gen = torch.Generator().manual_seed(0)
    x, y = torch.rand(n, feat_dim, generator=gen), torch.arange(n) % n_cls
    try:
        model.train()
        protos = model(torch.rand(n_cls, n_attrs, generator=gen))
        if entry.kind == "embedding":
            x = model.embed_features(x)
            if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.shape[0] != n or x.shape[1] != protos.shape[1]:
                shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
                return (
                    f"model {entry.name}: embed_features returned {shape} for features [{n}, {feat_dim}]; "
                    f"expected [{n}, {protos.shape[1]}] (the prototypes' width)"
                )
        logits = 5.0 * F.normalize(x, dim=1) @ (5.0 * F.normalize(protos, dim=1)).t()
        F.cross_entropy(logits, y).backward()
    except Exception as exc:
        return f"model {entry.name}: a training step failed: {type(exc).__name__}: {exc}".splitlines()[0]
    for name, p in model.named_parameters():
        if p.requires_grad and (p.grad is None or not bool(p.grad.ne(0).any())):
            hint = (
                "; a model whose image features pass through its own layers registers with "
                "kind='embedding' and embed_features(x)"
                if entry.kind == "prototype"
                else ""
            )
            return f"model {entry.name}: parameter {name} receives no gradient in a training step{hint}"
    return None


def generative_problem(entry: api.ModelEntry) -> str | None:
    """A generative model must build and have ``fit_predict(task)``."""
    try:
        model = entry.build(5, 7, entry.make_options({}))
    except Exception as exc:
        return f"model {entry.name}: building it failed: {type(exc).__name__}: {exc}".splitlines()[0]
    if not callable(getattr(model, "fit_predict", None)):
        return f"model {entry.name}: a generative model needs a method fit_predict(task)"
    return None


def method_problem(cls: type[api.CZSLMethod]) -> str | None:
    from zslbench.config import CZSLConfig

    try:
        method = cls(CZSLConfig(), {}, cls.options_cls() if cls.options_cls else None)
        summary = method.summary()
    except Exception as exc:
        return f"method {cls.name}: building it failed: {type(exc).__name__}: {exc}"
    if not isinstance(summary, dict):
        return f"method {cls.name}: summary() returned {type(summary).__name__}, not a dict"
    return None


def contract_problems(source: str) -> list[str]:
    """One line per broken model or method registered by ``source``."""
    models, methods = _entries_of(source)
    found = [model_problem(e) for e in models] + [method_problem(c) for c in methods]
    return [p for p in found if p]


def describe(source: str) -> list[str]:
    """What a plugin registered, one line each (``zslbench validate``)."""
    models, methods = _entries_of(source)
    lines = [f"model {e.name}: options {_fields(e.options)}" for e in models]
    lines += [f"method {c.name}: options {_fields(c.options_cls)}" for c in methods]
    lines += [f"dataset {n}" for n in api.FEATURE_DATASETS if api.FEATURE_DATASETS.get(n).source == source]
    return lines


def _fields(options: Any) -> str:
    if options is None or options == api.TRAINER_CONFIG:
        return "(none)"
    return ", ".join(f"{f.name}={f.default!r}" for f in dataclasses.fields(options)) or "(none)"


# --------------------------------------------------------------------------- options of a run


def _options_cls(name: str, key: str) -> Any:
    if name in api.MODELS:
        opts = api.MODELS.get(name).options
        return None if opts == api.TRAINER_CONFIG else opts
    if name in api.METHODS:
        cls = api.METHODS.get(name)
        if cls.source == BUILTIN and cls.options_cls:  # config fields (zslbench.train.methods.base)
            names = ", ".join(f.name for f in dataclasses.fields(cls.options_cls))
            raise ConfigError(f"--set {key}: the built-in method {name} takes its options by their own names: {names}")
        return cls.options_cls
    raise ConfigError(f"--set {key}: unknown model or method {name!r}")


def is_option_key(key: str) -> bool:
    return "." in key


def parse_option(key: str, text: str) -> Any:
    """The value of ``--set <name>.<option>=text``, of the option's declared type
    (zslbench.overrides.coerce_field)."""
    name, _, option = key.partition(".")
    cls = _options_cls(name, key)
    names = [f.name for f in dataclasses.fields(cls)] if cls else []
    if option not in names:
        raise ConfigError(f"--set {key}: {name} has no option {option!r}; its options: {', '.join(names) or '(none)'}")
    return coerce_field(cls, option, text, label=key)


def attach_options(cfg: Any, options: Mapping[str, Any] | None) -> Any:
    if options:
        object.__setattr__(cfg, OPTIONS_ATTR, dict(sorted(options.items())))
    return cfg


def options_of(cfg: Any) -> dict:
    return dict(getattr(cfg, OPTIONS_ATTR, {}))


def own_options(name: str, cfg: Any) -> dict:
    return {k.split(".", 1)[1]: v for k, v in options_of(cfg).items() if k.split(".", 1)[0] == name}


def run_options(kind: str, name: str, cfg: Any) -> Any:
    """What the model (``kind="model"``) or method of a run is built with."""
    values = own_options(name, cfg)
    try:
        if kind == "model":
            return api.MODELS.get(name).make_options(values, cfg)
        cls = api.METHODS.get(name).options_cls
        return cls(**values) if cls else None
    except (ValueError, TypeError) as exc:  # e.g. the options dataclass's __post_init__ refusing a value
        shown = ", ".join(f"{name}.{k}={v!r}" for k, v in sorted(values.items())) or "the defaults"
        raise ConfigError(f"{kind} {name}: invalid options ({shown}): {exc}".splitlines()[0]) from None


def source_of(kind: str, name: str) -> str:
    return api.MODELS.get(name).source if kind == "model" else api.METHODS.get(name).source


def run_identity(kind: str, name: str, cfg: Any) -> dict:
    """The run-id fields of a plugin's run (none for a built-in): its plugin, the SHA-256 of the
    plugin's source and the options the run builds with."""
    source = source_of(kind, name)
    if source == BUILTIN:
        return {}
    opts = run_options(kind, name, cfg)
    info = LOADED.get(source)
    ident = info.identity() if info else {"module": source, "source_sha256": ""}
    return {
        "plugin": {
            **ident,
            "options": plain_summary(dataclasses.asdict(opts))
            if dataclasses.is_dataclass(opts) and not isinstance(opts, type)
            else {},
        }
    }


def plain_summary(value: Any) -> Any:
    """``value`` with tensors, numpy values and enums turned into plain numbers, lists and
    strings (what a record stores)."""
    import enum

    if isinstance(value, dict):
        return {str(k): plain_summary(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_summary(v) for v in value]
    if isinstance(value, enum.Enum):
        return plain_summary(value.value)
    if hasattr(value, "tolist") and callable(value.tolist):  # torch tensors, numpy arrays and scalars
        return value.tolist()
    return value


def run_provenance(kind: str, name: str) -> dict:
    """The record fields naming a plugin run's distribution and version."""
    source = source_of(kind, name)
    info = LOADED.get(source)
    if source == BUILTIN or info is None:
        return {}
    return {"plugin_distribution": info.distribution or None, "plugin_version": info.version or None}


def source_text(source: str) -> str:
    """Where a registered item comes from, for `zslbench list`: "built-in", the plugin module,
    and its distribution and version when it is installed."""
    info = LOADED.get(source)
    if source == BUILTIN or info is None or not info.distribution:
        return source
    return f"{source}: {info.distribution} {info.version}".strip()
