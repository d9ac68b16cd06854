"""What the sections of the report page share: the synthetic-data banner, the names of datasets and data
sources, and whether our numbers may be set against the paper's."""

from __future__ import annotations

from zslbench.data.registry import source_info

SYNTHETIC_BANNER = (
    "SYNTHETIC data: the numbers, verdicts and effects computed on it show that the pipeline "
    "works; they say NOTHING about the paper's claims or numbers."
)


def display_name(ds: str) -> str:
    from zslbench.data.features.specs import DATASETS

    return DATASETS[ds].display if ds in DATASETS else ds


def source_text(source: str, track: str | None = None) -> str:
    text = source_info(source).report_name
    return f"{text}, {track} track" if track else text


def comparable(source: str, kind: str, track: str | None) -> bool:
    """Whether our numbers may be set against the paper's: real data, and for CZSL the image track."""
    return not source_info(source).synthetic and (kind == "gzsl" or track == "images")
