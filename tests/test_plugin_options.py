"""The options of a run's model or method (``--set <name>.<option>=value``) as the run's config
carries them, and the plugin package's modules, each defining its own names."""

from __future__ import annotations

import ast
import copy
import dataclasses
import inspect
import pickle
from pathlib import Path

import pytest

from zslbench import plugins
from zslbench.config import GZSLConfig
from zslbench.errors import ConfigError
from zslbench.models import clswgan
from zslbench.plugins.options import attach_options, options_of, parse_option, run_options
from zslbench.tracks import make_config

PACKAGE = Path(plugins.__file__).resolve().parent


def test_attaching_options_gives_a_copy_and_leaves_the_given_config_as_it_is():
    cfg = GZSLConfig(epochs=3)
    carrier = attach_options(cfg, {"f-clswgan.nepoch": 2, "f-clswgan.lr": 1e-3})
    assert options_of(cfg) == {}  # the config someone else may hold is not changed
    assert carrier is not cfg and carrier == cfg and carrier.to_dict() == cfg.to_dict()
    assert list(options_of(carrier)) == ["f-clswgan.lr", "f-clswgan.nepoch"]  # in key order
    assert attach_options(cfg, {}) is cfg and attach_options(cfg, None) is cfg


def test_options_stay_with_a_copied_or_pickled_config():
    """A run's config is copied (the ablation) and pickled (pool workers, SLURM jobs)."""
    carrier = attach_options(GZSLConfig(), {"f-clswgan.nepoch": 2})
    for other in (copy.copy(carrier), copy.deepcopy(carrier), pickle.loads(pickle.dumps(carrier))):
        assert options_of(other) == {"f-clswgan.nepoch": 2} and other.to_dict() == carrier.to_dict()


def test_a_runs_config_carries_its_options_outside_its_fields():
    plain = make_config("gzsl", "quick")
    cfg = make_config("gzsl", "quick", {"f-clswgan.nepoch": 3})
    assert options_of(plain) == {} and options_of(cfg) == {"f-clswgan.nepoch": 3}
    assert cfg.to_dict() == plain.to_dict()  # not a field: not in the record's config nor the run id's
    assert run_options("model", "f-clswgan", cfg).nepoch == 3
    assert run_options("model", "f-clswgan", plain) == clswgan.CLSWGANOptions()  # the defaults


def test_option_text_is_typed_by_the_options_declared_type():
    assert parse_option("f-clswgan.nepoch", "7") == 7
    with pytest.raises(ConfigError, match="f-clswgan has no option 'epochs'"):
        parse_option("f-clswgan.epochs", "7")
    with pytest.raises(ConfigError, match="unknown model or method 'nomodel'"):
        parse_option("nomodel.x", "1")


def test_every_public_name_of_the_package_is_defined_once_in_one_of_its_modules():
    init = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    assert not [n.name for n in init.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    assert modules == {"loading", "contract", "provenance", "options", "identity"}
    for name in plugins.__all__:
        obj = getattr(plugins, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            home = obj.__module__.rpartition(".")[2]
            assert obj.__module__ == f"zslbench.plugins.{home}" and home in modules, name
    assert dataclasses.is_dataclass(plugins.PluginInfo)
