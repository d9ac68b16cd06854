"""tools/paper_protocol_refs.py: old references to the paper's protocol and to moved README
sections become links to sections of docs/ that exist."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OLD = "PAPER_" + "SPEC"  # spelt in two parts so that this file is not a reference itself


def _load_tool():
    spec = importlib.util.spec_from_file_location("paper_protocol_refs", ROOT / "tools" / "paper_protocol_refs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load_tool()
PAGE = (ROOT / "docs" / "paper-protocol.md").read_text()
PAGE_IDS = set(re.findall(r"\{#([\w-]+)\}", PAGE)) | set(re.findall(r'<span id="([\w-]+)">', PAGE))


def test_every_section_and_pitfall_the_tool_maps_to_is_an_anchor_of_the_page():
    targets = set(tool.SECTIONS.values()) | {f"pitfall-{i}" for i in tool.PITFALLS}
    assert targets <= PAGE_IDS, sorted(targets - PAGE_IDS)
    # the page's sections keep the old numbering, so "§7.1" and "#czsl-protocol" agree
    for number, anchor in tool.SECTIONS.items():
        assert re.search(rf"^#+ {re.escape(number)}\.? .*\{{#{anchor}\}}$", PAGE, re.M), (number, anchor)


@pytest.mark.parametrize(
    "old, new",
    [
        (f"({OLD} section 9)", "(docs/paper-protocol.md#pitfalls)"),
        (f"({OLD} section 9 item 18)", "(docs/paper-protocol.md#pitfall-18)"),
        (f"({OLD} section 9, item\n7): the", "(docs/paper-protocol.md#pitfall-7): the"),
        (f"({OLD} sections 1.2, 7.1, 7.2).", "(docs/paper-protocol.md#czsl-images, #czsl-protocol, #czsl-methods)."),
        (f"({OLD} section 5 and\n    section 9, item 2): x", "(docs/paper-protocol.md#evaluation, #pitfall-2): x"),
        (f"({OLD} sections 4-5)", "(docs/paper-protocol.md#gzsl-training, #evaluation)"),
        (f"{OLD} section 9 (items 1-7) ---", "docs/paper-protocol.md#pitfalls (items 1-7) ---"),
        (f"({OLD} section 9 items 11 and 20): x", "(docs/paper-protocol.md#pitfall-11, #pitfall-20): x"),
        (f"a {OLD} §9 option", "a docs/paper-protocol.md#pitfalls option"),
        (f"({OLD} 7.1, section 9 item 19)", "(docs/paper-protocol.md#czsl-protocol, #pitfall-19)"),
        (f"({OLD} §8b)", "(docs/paper-protocol.md#claims)"),
        ("launcher (READ" + "ME, Numerical reproducibility).", "launcher (docs/numerics.md)."),
    ],
)
def test_references_in_code_become_paths(old, new):
    assert tool.rewrite(old, ROOT / "zslbench" / "x.py") == new


def test_references_in_markdown_become_relative_links():
    text = f"the options ({OLD} section 9 item 18) and {OLD} 1.2"
    assert tool.rewrite(text, ROOT / "README.md") == (
        "the options ([paper protocol, pitfall 18](docs/paper-protocol.md#pitfall-18)) and "
        "[paper protocol §1.2](docs/paper-protocol.md#czsl-images)"
    )
    assert tool.rewrite(f"{OLD} §9", ROOT / "docs" / "x.md") == "[paper protocol §9](paper-protocol.md#pitfalls)"
    assert tool.rewrite(f"{OLD} §9", ROOT / "benchmarks" / "README.md") == (
        "[paper protocol §9](../docs/paper-protocol.md#pitfalls)"
    )
    # generated tables keep the plain text their code writes
    golden = ROOT / "tests" / "fixtures" / "golden" / "gzsl.md"
    assert tool.rewrite(f"a {OLD} §9 option", golden) == "a docs/paper-protocol.md#pitfalls option"
    tex = ROOT / "tests" / "fixtures" / "golden" / "gzsl.tex"
    assert (
        tool.rewrite("((!) = a PAPER\\_SPEC \\S{}9 option", tex) == "((!) = a docs/paper-protocol.md\\#pitfalls option"
    )


def test_a_section_or_pitfall_that_does_not_exist_is_an_error():
    with pytest.raises(ValueError, match="no section 10"):
        tool.rewrite(f"{OLD} section 10", ROOT / "x.py")
    with pytest.raises(ValueError, match="no pitfall 22"):
        tool.rewrite(f"{OLD} section 9 item 22", ROOT / "x.py")


def test_no_reference_to_a_document_outside_the_repository_is_left():
    left = [
        f"{path.relative_to(ROOT)}: {ref}"
        for path in tool.candidate_files()
        for ref in tool.leftovers(path.read_text(errors="replace"))
    ]
    assert not left, "run python tools/paper_protocol_refs.py:\n" + "\n".join(left)
