"""Plugins: third-party models, methods and datasets registered through :mod:`zslbench.api`.

One module per job:

* :mod:`~zslbench.plugins.loading`: importing a plugin once, all or nothing
  (:func:`load_plugin`, :func:`load_plugins`, :class:`PluginError`, :data:`LOADED`);
* :mod:`~zslbench.plugins.contract`: the checks a plugin's models and methods pass when it
  loads and under ``zslbench validate`` (:func:`contract_problems`), and :func:`describe`;
* :mod:`~zslbench.plugins.provenance`: a plugin's source files, their SHA-256 and its
  distribution (:class:`PluginInfo`);
* :mod:`~zslbench.plugins.options`: ``--set <name>.<option>=value`` typed
  (:func:`parse_option`) and carried by a run's config (:func:`attach_options`), and what a
  run's model or method is built with (:func:`run_options`);
* :mod:`~zslbench.plugins.identity`: what a plugin run's id and record hold about the plugin
  (:func:`run_identity`, :func:`run_provenance`) and :func:`source_text` for ``zslbench list``.

The names below are the package's public ones; each is defined once, in its module.
"""

from __future__ import annotations

from zslbench.plugins.contract import (
    contract_problems,
    describe,
    generative_problem,
    gradient_problem,
    method_problem,
    model_problem,
)
from zslbench.plugins.identity import BUILTIN, plain_summary, run_identity, run_provenance, source_of, source_text
from zslbench.plugins.loading import (
    ENTRY_POINT_GROUP,
    ENV_VAR,
    LOADED,
    PluginError,
    entry_point_modules,
    env_modules,
    load_plugin,
    load_plugins,
    plugin_modules,
)
from zslbench.plugins.options import (
    OPTIONS_ATTR,
    attach_options,
    is_option_key,
    options_of,
    own_options,
    parse_option,
    run_options,
)
from zslbench.plugins.provenance import PluginInfo, distribution_of, source_files, source_hashes, source_sha256

__all__ = [
    "BUILTIN",
    "ENTRY_POINT_GROUP",
    "ENV_VAR",
    "LOADED",
    "OPTIONS_ATTR",
    "PluginError",
    "PluginInfo",
    "attach_options",
    "contract_problems",
    "describe",
    "distribution_of",
    "entry_point_modules",
    "env_modules",
    "generative_problem",
    "gradient_problem",
    "is_option_key",
    "load_plugin",
    "load_plugins",
    "method_problem",
    "model_problem",
    "options_of",
    "own_options",
    "parse_option",
    "plain_summary",
    "plugin_modules",
    "run_identity",
    "run_options",
    "run_provenance",
    "source_files",
    "source_hashes",
    "source_of",
    "source_sha256",
    "source_text",
]
