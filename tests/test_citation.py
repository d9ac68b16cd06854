"""The licence and the citation files: LICENSE is the MIT text that pyproject.toml declares,
CITATION.cff describes this version of the harness and names the paper, and the README's "how
to cite" gives BibTeX for both."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _project() -> dict:
    """The version (written once, in zslbench/__init__.py) and the licence of pyproject.toml's
    [project] table (Python 3.10 has no tomllib)."""
    text = (ROOT / "pyproject.toml").read_text().split("[project]", 1)[1].split("\n[", 1)[0]
    init = (ROOT / "zslbench" / "__init__.py").read_text()
    version = re.search(r'^__version__ = "([^"]+)"', init, re.M).group(1)
    license_ = re.search(r"^license = \{ text = \"([^\"]+)\" \}", text, re.M).group(1)
    return {"version": version, "license": license_}


def test_license_is_the_mit_text_pyproject_declares():
    assert _project()["license"] == "MIT"
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n") and "Copyright (c) 2026 the zslbench authors" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in text


def test_citation_cff_describes_this_version_and_the_paper():
    project = _project()
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "software"
    assert cff["version"] == project["version"] == cff["preferred-citation"]["version"]
    assert cff["license"] == "MIT"
    paper = cff["references"][0]
    assert paper["title"] == "Class Normalization for (Continual)? Generalized Zero-Shot Learning"
    assert [a["family-names"] for a in paper["authors"]] == ["Skorokhodov", "Elhoseiny"] and paper["year"] == 2021


def test_the_readme_says_how_to_cite_both():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## How to cite", 1)[1]
    entries = re.findall(r"@(\w+)\{(\w+),", section)
    assert entries == [("inproceedings", "skorokhodov2021class"), ("software", "zslbench")]
    version = _project()["version"]
    assert f"version = {{{version}}}" in section and "[`LICENSE`](LICENSE)" in section
