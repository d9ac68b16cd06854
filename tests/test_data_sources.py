"""A data source is defined once (zslbench.data.registry): one registered features source is
loaded, fingerprinted and named by the tables and the report through its registry entry alone."""

from __future__ import annotations

import dataclasses

import pytest

from zslbench.data import fingerprint, load_dataset, resolve_source
from zslbench.data.registry import DATA_SOURCES, DataSource, source_info
from zslbench.report.paper_tables.cells import shows_delta
from zslbench.report.paper_tables.notes import czsl_title, gzsl_title
from zslbench.report.records import sorted_sections
from zslbench.report.shared import comparable


def _load_shifted(key, root, scale, seed, cache_dir=None):
    data = DATA_SOURCES.get("synthetic").load(key, root, scale, seed, cache_dir)
    return dataclasses.replace(data, source="shifted")


@pytest.fixture
def shifted():
    source = DATA_SOURCES.add(
        DataSource(
            "shifted",
            synthetic=True,
            order=2,
            load=_load_shifted,
            fingerprint=lambda key, root, scale, seed: f"shifted:{key}:{scale}:{seed}",
            report_text="SHIFTED data",
            plot_text="SHIFTED data",
            table_text="SHIFTED data",
            gzsl_title="GZSL on SHIFTED data",
            note="Data: shifted ({vintages}).",
        )
    )
    yield source
    DATA_SOURCES.remove("shifted")


def test_a_registered_source_is_loaded_fingerprinted_and_named(shifted, tmp_path):
    assert resolve_source("sun", "shifted", tmp_path) == "shifted"
    assert fingerprint("sun", "shifted", tmp_path, scale=0.1, seed=3) == "shifted:sun:0.1:3"
    data = load_dataset("sun", "shifted", tmp_path, scale=0.05)
    assert data.source == "shifted" and data.n_classes == 717
    assert gzsl_title("shifted") == "GZSL on SHIFTED data"
    assert czsl_title("shifted", "features").startswith("CZSL, features track, on SHIFTED data:")
    assert source_info("shifted").table_note([]) == "Data: shifted (unknown)."
    assert not shows_delta("shifted") and not comparable("shifted", "gzsl", None)
    assert sorted_sections([("shifted",), ("synthetic",), ("xlsa17",)]) == [("xlsa17",), ("synthetic",), ("shifted",)]


def test_built_in_and_unknown_sources_read_as_before():
    assert DATA_SOURCES.choices() == ("xlsa17", "images", "synthetic")
    assert DATA_SOURCES.choices("features") == ("xlsa17", "synthetic")
    assert DATA_SOURCES.choices("images") == ("images", "synthetic")
    other = source_info("elsewhere")
    assert (other.report_name, other.table_name, other.gzsl_table_title, other.order) == (
        "elsewhere",
        "data source 'elsewhere'",
        "GZSL on data source 'elsewhere'",
        9,
    )
    assert other.table_note(["x"]) == "Data: `data_source=elsewhere`." and shows_delta("elsewhere")
    assert source_info("xlsa17").table_note(["2017"]).endswith("release vintage 2017).")


def test_an_unknown_source_is_refused_with_the_valid_ones(tmp_path):
    with pytest.raises(Exception, match="valid sources: auto, xlsa17, synthetic"):
        resolve_source("sun", "shifted", tmp_path)
