"""Rows of plugin runs (zslbench.api) name their source: ``mlp2-ln [zslbench-example-plugin 0.1]``.

Records of one plugin model or method that differ in its options get the options in the label
too, and records of two versions or sources of the plugin the start of their source hash, so that
they are never averaged together as if they were seeds of one run."""

from __future__ import annotations

import json

from zslbench.records import NameField, RunRecord
from zslbench.report.records import fmt_items


def source_label(rec: RunRecord, with_hash: bool = False) -> str:
    """ "[distribution version]" of a plugin run's record ("" for a built-in run); with
    ``with_hash``, the start of the plugin's source hash too."""
    plugin = rec.get("plugin")
    if not plugin:
        return ""
    dist = rec.get("plugin_distribution") or plugin.get("module", "?")
    sha = f"src {str(plugin.get('source_sha256') or '?')[:8]}" if with_hash else ""
    return f"[{' '.join(x for x in (dist, rec.get('plugin_version') or '', sha) if x)}]"


def _provenance(rec: RunRecord) -> str:
    plugin = rec["plugin"]
    return json.dumps(
        [plugin.get("module"), rec.get("plugin_distribution"), rec.get("plugin_version"), plugin.get("source_sha256")]
    )


def label_plugin_rows(records: list[RunRecord], name_field: NameField) -> list[RunRecord]:
    """The records, with the model/method name of every plugin run replaced by its label."""
    options: dict[str, set[str]] = {}
    sources: dict[str, set[str]] = {}
    for rec in records:
        if rec.get("plugin"):
            options.setdefault(rec[name_field], set()).add(json.dumps(rec["plugin"].get("options", {}), sort_keys=True))
            sources.setdefault(rec[name_field], set()).add(_provenance(rec))
    out = []
    for rec in records:
        if not rec.get("plugin"):
            out.append(rec)
            continue
        name = rec[name_field]
        opts = rec["plugin"].get("options", {})
        shown = f" ({fmt_items(sorted(opts.items()))})" if len(options[name]) > 1 and opts else ""
        labelled = rec.copy()
        labelled[name_field] = f"{name}{shown} {source_label(rec, len(sources[name]) > 1)}"
        out.append(labelled)
    return out


def labelled_records(records: list[RunRecord], kind: str) -> list[RunRecord]:
    """The records of a GZSL or CZSL table, plugin rows labelled as the table labels them."""
    return label_plugin_rows(records, "model" if kind == "gzsl" else "method")
