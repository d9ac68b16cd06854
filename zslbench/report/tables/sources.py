"""Rows of plugin runs (zslbench.api) name their source: ``mlp2-ln [zslbench-example-plugin 0.1]``.

Records of one plugin model or method that differ in its options get the options in the label
too, so that they are never averaged together as if they were seeds of one run."""

from __future__ import annotations

import json

from zslbench.report.records import fmt_items


def source_label(rec: dict) -> str:
    """"[distribution version]" of a plugin run's record ("" for a built-in run)."""
    plugin = rec.get("plugin")
    if not plugin:
        return ""
    dist = rec.get("plugin_distribution") or plugin.get("module", "?")
    return f"[{' '.join(x for x in (dist, rec.get('plugin_version') or '') if x)}]"


def label_plugin_rows(records: list[dict], name_field: str) -> list[dict]:
    """The records, with the model/method name of every plugin run replaced by its label."""
    options: dict[str, set[str]] = {}
    for rec in records:
        if rec.get("plugin"):
            options.setdefault(rec[name_field], set()).add(json.dumps(rec["plugin"].get("options", {}), sort_keys=True))
    out = []
    for rec in records:
        if not rec.get("plugin"):
            out.append(rec)
            continue
        name = rec[name_field]
        opts = rec["plugin"].get("options", {})
        shown = f" ({fmt_items(sorted(opts.items()))})" if len(options[name]) > 1 and opts else ""
        out.append({**rec, name_field: f"{name}{shown} {source_label(rec)}"})
    return out
