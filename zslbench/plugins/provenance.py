"""Where a plugin's code comes from: its source files, their SHA-256 and the installed
distribution (name and version) it belongs to, gathered in a :class:`PluginInfo`.

Nothing here imports or registers anything: :mod:`zslbench.plugins.loading` builds a
``PluginInfo`` for every plugin it loads, and :mod:`zslbench.plugins.identity` puts it in the
run ids and records of the plugin's runs.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


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


def distribution_of(module_name: str) -> tuple[str, str]:
    """(distribution, version) of the installed distribution holding a module's top-level
    package; ("", "") when none does."""
    from importlib import metadata

    top = module_name.split(".")[0]
    for dist in metadata.packages_distributions().get(top, []):
        try:
            return dist, metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return "", ""


def plugin_info(module_name: str, module: Any) -> PluginInfo:
    """The provenance of the plugin module ``module_name``, imported as ``module``."""
    dist, version = distribution_of(module_name)
    return PluginInfo(module_name, dist, version, *source_hashes(module, dist))
