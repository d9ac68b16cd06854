"""Loading plugins: importing each module once, all or nothing.

A plugin is named by ``--plugin MODULE``, by ``$ZSLBENCH_PLUGINS`` (comma separated) or by an
entry point of the ``zslbench.plugins`` group.  Loading one is all or nothing: a plugin that
fails to import, registers a name twice or breaks the contract (zslbench.plugins.contract)
takes back what it registered and is refused with a :class:`PluginError` of one line naming it.
Each loaded plugin's provenance (zslbench.plugins.provenance) is kept in :data:`LOADED`.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable

from zslbench import api
from zslbench.errors import ConfigError
from zslbench.plugins.contract import contract_problems
from zslbench.plugins.provenance import PluginInfo, plugin_info

ENTRY_POINT_GROUP = "zslbench.plugins"
ENV_VAR = "ZSLBENCH_PLUGINS"


class PluginError(ConfigError):
    """A plugin that cannot be used (one line, naming the plugin)."""


LOADED: dict[str, PluginInfo] = {}  # module name -> provenance, in the order loaded


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
    info = plugin_info(module_name, module)
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
