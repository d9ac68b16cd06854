"""What a run's id and record, and ``zslbench list``, say about the plugin a model or method
comes from: the plugin's provenance (:class:`zslbench.plugins.provenance.PluginInfo`) and the
options the run builds with.  A built-in model or method adds nothing to a run's id.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from zslbench import api
from zslbench.api import BUILTIN
from zslbench.plugins.loading import LOADED
from zslbench.plugins.options import run_options


def source_of(kind: str, name: str) -> str:
    """The source a model (``kind="model"``) or method was registered by."""
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
