"""The options of a run's model or method: those registered with an options dataclass, a
plugin's or a built-in's (f-CLSWGAN).

``--set <name>.<option>=value`` (a key with a dot) sets an option of the model or method
``<name>``; :func:`parse_option` types the text by the option's declared type with the same
coercion as every config field (:func:`zslbench.overrides.coerce_field`).

The options travel with the run's config, ``{"<name>.<option>": value}``, without being one of
its fields: the config's fields are what ``--set`` lists, what the record's ``config`` holds and
what the run id hashes, so the runs without such options and their ids stay as they are; the
id of a run with them hashes the options its model or method is built with
(:func:`run_options`; :func:`zslbench.plugins.identity.run_identity` for a plugin's).
:func:`attach_options` and :func:`options_of` are the only code that knows where on the config
they are kept: the first gives a copy of the config carrying them (the config it is given is
left as it is), the second reads them back (an empty mapping for a config that carries none).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from typing import Any

from zslbench import api
from zslbench.errors import ConfigError
from zslbench.overrides import coerce_field

OPTIONS_ATTR = "plugin_options"  # the attribute of a config that carries the options


def _options_cls(name: str, key: str) -> Any:
    if name in api.MODELS:
        opts = api.MODELS.get(name).options
        return None if opts == api.TRAINER_CONFIG else opts
    if name in api.METHODS:
        cls = api.METHODS.get(name)
        if cls.source == api.BUILTIN and cls.options_cls:  # config fields (zslbench.train.methods.base)
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
    """``cfg`` carrying the options ``{"<name>.<option>": value}`` of a run's model or method:
    ``cfg`` itself when there are none, else a copy (its fields unchanged) that carries them in
    key order."""
    if not options:
        return cfg
    carrier = copy.copy(cfg)
    # a frozen config's fields are fixed; the options are not a field (see the module's docstring)
    object.__setattr__(carrier, OPTIONS_ATTR, dict(sorted(options.items())))
    return carrier


def options_of(cfg: Any) -> dict:
    """The options ``{"<name>.<option>": value}`` a run's config carries ({} when none)."""
    return dict(getattr(cfg, OPTIONS_ATTR, {}))


def own_options(name: str, cfg: Any) -> dict:
    """The options of model or method ``name`` that a run's config carries, by option name."""
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
