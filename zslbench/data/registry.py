"""Every data source, defined once: how its features are loaded and fingerprinted, whether it is
a `--data` choice, and what the tables and the report call it.

A record's ``data_source`` is one of these names.  Readers: zslbench.data (loading and
fingerprints), the `--data` option of `run`/`sweep`, and the report and tables (their titles,
notes, figure captions, the order of their sections, whether ours − paper is computed).  A source
nobody registered (a record from elsewhere) is shown under its own name (:func:`source_info`).

A new features source is its loading module plus one `DATA_SOURCES.add(DataSource(...))` here.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from zslbench.registry import Registry

if TYPE_CHECKING:
    from zslbench.data.features.types import ZSLData

FEATURES, IMAGES = "features", "images"  # the tracks a source feeds: the features (GZSL, CZSL features) or images

# load(dataset, data_dir, scale, seed, cache_dir) -> ZSLData; scale, seed and cache_dir act on synthetic data only
Loader = Callable[[str, Path, float, int, "str | os.PathLike | None"], "ZSLData"]
Fingerprint = Callable[[str, Path, float, int], str]  # (dataset, data_dir, scale, seed) -> fingerprint


@dataclass(frozen=True)
class DataSource:
    """One data source.  The texts left empty fall back on the source's name."""

    name: str
    tracks: tuple[str, ...] = (FEATURES,)
    selectable: bool = True  # a `--data` choice (npz is chosen by its dataset instead)
    synthetic: bool = False  # its numbers say nothing about the paper's (no ours − paper)
    order: int = 9  # the report's and tables' sections: lowest first
    load: Loader | None = None  # features sources; the image track loads through zslbench.data.images
    fingerprint: Fingerprint | None = None
    report_text: str = ""  # the report's name for it ("xlsa17 features")
    plot_text: str = ""  # the logit-variance figures' titles
    table_text: str = ""  # the CZSL table titles: "CZSL, ... on <table_text>"
    gzsl_title: str = ""  # the GZSL table section's title
    note: str = ""  # the first note under a table section; "{vintages}": the records' data vintages

    @property
    def report_name(self) -> str:
        return self.report_text or self.name

    @property
    def plot_name(self) -> str:
        return self.plot_text or self.name

    @property
    def table_name(self) -> str:
        return self.table_text or f"data source {self.name!r}"

    @property
    def gzsl_table_title(self) -> str:
        return self.gzsl_title or f"GZSL on data source {self.name!r}"

    def table_note(self, vintages: list[str]) -> str:
        if not self.note:
            return f"Data: `data_source={self.name}`."
        return self.note.format(vintages=", ".join(vintages) or "unknown")


class DataSourceRegistry(Registry[DataSource]):
    def add(self, source: DataSource) -> DataSource:
        return self.register(source.name, source)

    def choices(self, track: str | None = None) -> tuple[str, ...]:
        """The `--data` values (besides "auto") in registration order; of one track when given."""
        return tuple(n for n in self if self.get(n).selectable and (track is None or track in self.get(n).tracks))


DATA_SOURCES = DataSourceRegistry("data source")


def source_info(name: str) -> DataSource:
    """The registered source `name`, or a plain one carrying only the name."""
    return DATA_SOURCES.get(name) if name in DATA_SOURCES else DataSource(str(name), selectable=False)


# --- the built-in sources (modules imported lazily: scipy and the generators are heavy) ----------
def _load_xlsa17(key: str, root: Path, scale: float, seed: int, cache_dir=None):
    from zslbench.data.features.xlsa17 import load_xlsa17

    return load_xlsa17(key, root)


def _xlsa17_fingerprint(key: str, root: Path, scale: float, seed: int) -> str:
    from zslbench.data.features.xlsa17 import xlsa17_fingerprint

    return xlsa17_fingerprint(key, root)


def _load_synthetic(key: str, root: Path, scale: float, seed: int, cache_dir=None):
    from zslbench.data.features.synthetic import make_synthetic
    from zslbench.numerics import blas_threads

    with blas_threads(1):  # the same bits whatever numpy's BLAS thread count (zslbench.numerics)
        return make_synthetic(key, scale=scale, seed=seed, cache_dir=cache_dir)


def _synthetic_fingerprint(key: str, root: Path, scale: float, seed: int) -> str:
    from zslbench.data.features.synthetic import synthetic_fingerprint

    return synthetic_fingerprint(key, scale, seed)


def _load_npz(key: str, root: Path, scale: float, seed: int, cache_dir=None):
    from zslbench.data.features.npz import load_npz

    return load_npz(key, root)


def _npz_fingerprint(key: str, root: Path, scale: float, seed: int) -> str:
    from zslbench.data.features.npz import npz_fingerprint

    return npz_fingerprint(key, root)


DATA_SOURCES.add(
    DataSource(
        "xlsa17",
        order=0,
        load=_load_xlsa17,
        fingerprint=_xlsa17_fingerprint,
        report_text="xlsa17 features",
        plot_text="xlsa17 data",
        table_text="xlsa17 data (real features)",
        gzsl_title="GZSL on the xlsa17 data (real features)",
        note="Data: the xlsa17 ResNet-101 features and proposed splits (`data_source=xlsa17`, "
        "release vintage {vintages}).",
    )
)
DATA_SOURCES.add(DataSource("images", tracks=(IMAGES,), order=0, report_text="raw images"))
DATA_SOURCES.add(
    DataSource(
        "synthetic",
        tracks=(FEATURES, IMAGES),
        synthetic=True,
        order=1,
        load=_load_synthetic,
        fingerprint=_synthetic_fingerprint,
        report_text="SYNTHETIC data",
        plot_text="SYNTHETIC data",
        table_text="SYNTHETIC data",
        gzsl_title="GZSL on SYNTHETIC data (not the real features: not comparable with the paper)",
        note="Data: zslbench's built-in SYNTHETIC datasets with the shapes of the GBU splits "
        "(`data_source=synthetic`). They show that the pipeline works; their numbers say "
        "nothing about the paper's.",
    )
)
DATA_SOURCES.add(DataSource("npz", selectable=False, load=_load_npz, fingerprint=_npz_fingerprint))
