"""The one check of a run record's shape, made whenever a record is read (zslbench.store.read_record).

A results folder is data that people share: a record may have been edited by hand, truncated, or
written to do harm.  Every field the code uses is checked here, once, for its type and range, so
that replay, `table`, `report` and the sweep's skip logic see only records they can use:

* ``run_id``: 16 lowercase hex digits (zslbench.store.make_run_id);
* ``seed``: an int, 0 <= seed < 2**63;
* names (``kind``, ``model``, ``method``, ``dataset``, ``data_source``, ...): printable one-line
  strings of at most NAME_MAX characters, so that printing one cannot forge an output line;
* ``config``: a mapping; for a built-in track each field it holds has the field's type, bounds
  and choices (zslbench.config.check_value: ``epochs``, ``batch_size``, ``threads`` are bounded);
* ``metrics`` (and the per-epoch copies): a mapping of metric names to numbers: finite, or NaN
  where a metric is undefined for the run (CZSL forgetting with a single task);
* ``plugin``: None or a mapping with a module name and a mapping of options.

A record that fails is refused with one line naming the record, the field and the reason
(RecordError).  docs/troubleshooting.md#refused-records-and-options lists the checks.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from zslbench.config import CZSLConfig, CZSLImageConfig, GZSLConfig, check_seed, check_value, short_repr
from zslbench.errors import ConfigError, RecordError

NAME_MAX = 200
TEXT_MAX = 4096  # a config text, e.g. a checkpoint path
RUN_ID = re.compile(r"[0-9a-f]{16}")
NAMES = ("kind", "model", "method", "dataset", "data_source", "profile", "data_fingerprint")
OPTIONAL_NAMES = ("preset", "track", "data_vintage")  # may be null
METRIC_BLOCKS = ("metrics", "metrics_final_epoch", "metrics_oracle_best_test_H")
SECONDS = ("train_seconds", "eval_seconds")
MAPPINGS = ("env", "non_default_options", "data_summary")
CONFIG_CLASSES = {"gzsl": GZSLConfig, "czsl-features": CZSLConfig, "czsl-images": CZSLImageConfig}


def is_name(value: Any) -> bool:
    """A printable one-line string of at most NAME_MAX characters."""
    return isinstance(value, str) and len(value) <= NAME_MAX and value.isprintable()


def is_metric(value: Any) -> bool:
    """An int or a float that is finite or NaN (an undefined metric); not a bool, not an infinity."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, int):
        return abs(value) < 2**63
    return math.isfinite(value) or math.isnan(value)


def problem(record: Any) -> str | None:
    """What is wrong with a (current-schema) record, or None when every field the code uses is
    of the right type and range."""
    if not isinstance(record, Mapping):
        return "not a mapping"
    run_id = record.get("run_id")
    if not isinstance(run_id, str) or not RUN_ID.fullmatch(run_id):
        return f"run_id {short_repr(run_id)} is not 16 hex digits"
    for key in NAMES + OPTIONAL_NAMES:
        value = record.get(key)
        if key in record and not is_name(value) and not (value is None and key in OPTIONAL_NAMES):
            return f"{key} {short_repr(value)} is not a printable one-line name of at most {NAME_MAX} characters"
    if "seed" in record:
        try:
            check_seed(record["seed"])
        except ConfigError as exc:
            return str(exc)
    if "classnorm" in record and record["classnorm"] not in (None, True, False):
        return f"classnorm {short_repr(record['classnorm'])} is not true, false or null"
    for block in METRIC_BLOCKS:
        if block not in record and block != "metrics":
            continue
        metrics = record.get(block)
        if not isinstance(metrics, Mapping):
            return f"{block} {short_repr(metrics)} is not a mapping"
        for name, value in metrics.items():
            if not is_name(name) or not is_metric(value):
                return f"{block}.{short_repr(name)} = {short_repr(value)} is not a finite number"
    for key in SECONDS:
        value = record.get(key)
        if key in record and not (is_metric(value) and isinstance(value, (int, float)) and value >= 0):
            return f"{key} {short_repr(value)} is not a number >= 0"
    for key in MAPPINGS:
        if key in record and not isinstance(record[key], Mapping):
            return f"{key} {short_repr(record[key])} is not a mapping"
    if "config" in record:
        message = config_problem(record)
        if message:
            return message
    plugin = record.get("plugin")
    if plugin is not None and not (
        isinstance(plugin, Mapping) and is_name(plugin.get("module")) and isinstance(plugin.get("options", {}), Mapping)
    ):
        return f"plugin {short_repr(plugin)} is not a mapping with a module name and options"
    return None


def config_problem(record: Mapping) -> str | None:
    config = record.get("config")
    if not isinstance(config, Mapping):
        return f"config {short_repr(config)} is not a mapping"
    if not all(is_name(k) for k in config):
        return "config has a field name that is not a printable one-line name"
    for name, value in config.items():  # texts (a checkpoint path, say) are printed in tables and notes
        if isinstance(value, str) and not (len(value) <= TEXT_MAX and value.isprintable()):
            return f"config: option {name}={short_repr(value)} is not a printable one-line text"
    kind, track = record.get("kind"), record.get("track")
    key = f"{kind}-{track or 'features'}" if kind == "czsl" else kind
    cls = CONFIG_CLASSES.get(key) if isinstance(key, str) else None
    if cls is None:
        return None  # a plugin's or a test's track: its own checks apply when it runs
    by_name = {f.name: f for f in fields(cls)}
    for name, value in config.items():
        if name in by_name:
            try:
                check_value(by_name[name], value)
            except ConfigError as exc:
                return f"config: {exc}"
    return None


def check_record(record: Any, where: Any) -> None:
    """RecordError naming `where` (the record's path) unless `record` passes :func:`problem`."""
    message = problem(record)
    if message:
        raise RecordError(f"{where}: bad run record: {message}")
