"""The report's numbers cannot mislead: intervals stay in what a metric can be (a word below three
seeds), every numeric column names its unit, notes describe only columns the page has, evidence
against a claim shows in the summary, and the page says who made it, when, and what it holds."""

from __future__ import annotations

import re
import warnings

import _report_records as mk
import pytest
from test_report import html_tables, md_tables

from zslbench.report.page import write_report

SPREAD = (2.0, 98.0, 50.0, 97.0, 3.0)  # values far apart: a raw t interval leaves [0, 100]


def _write(tmp_path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        files = write_report(tmp_path, tmp_path / "page", **kw)
    return files.index.read_text(encoding="utf-8"), files.markdown.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def spread(tmp_path_factory):
    """GZSL cells with n = 1, 2, 3, 5 seeds, CZSL cells with 2 and 5, values spread to the range's ends."""
    results = tmp_path_factory.mktemp("spread")
    for model, dataset, n in (("linear", "cub", 1), ("mlp3", "cub", 2), ("mlp3+cn", "cub", 3), ("mlp3+cn", "sun", 5)):
        for seed in range(1, n + 1):
            mk.gzsl(results, model, dataset, seed, SPREAD[seed - 1])
    for seed in range(1, 6):
        mk.czsl(
            results,
            "sequential",
            True,
            "cub",
            seed,
            SPREAD[seed - 1] / 2,
            forgetting=(0.02, 0.99, 0.5, 0.97, 0.01)[seed - 1],
        )
    for seed, f in ((1, 0.0019), (2, -0.0023)):
        mk.czsl(results, "agem", False, "cub", seed, 30.0, forgetting=f)
    return _write(results)


def _result_tables(html):
    return [t for t in html_tables(html) if t[0][:2] in (["model", "metric"], ["method", "metric"])]


def test_every_interval_lies_in_its_metrics_range_or_is_a_word(spread):
    html, _ = spread
    tables = _result_tables(html)
    assert len(tables) >= 3
    seen = {"word": 0, "interval": 0}
    for t in tables:
        head = t[0]
        col = next(i for i, h in enumerate(head) if h.startswith("95 % CI"))
        n_col = next(i for i, h in enumerate(head) if h.startswith("n"))
        for row in t[1:]:
            high = 1.0 if row[1] == "Forgetting" else 100.0
            cell, n = row[col], int(row[n_col])
            if n < 3:
                assert "[" not in cell and cell.startswith("—") and "seed" in cell, row
                seen["word"] += 1
                continue
            lo, hi = (float(x) for x in re.fullmatch(r"\[(\S+), (\S+)\]", cell).groups())
            assert 0.0 <= lo <= hi <= high, row
            seen["interval"] += 1
    assert seen["word"] >= 6 and seen["interval"] >= 6


def test_every_numeric_header_names_its_unit(spread):
    html, _ = spread
    for t in _result_tables(html):
        for h in t[0]:
            if h.startswith(("ours", "95 % CI", "paper (", "Δ")):
                assert re.search(r"\((.*; )?(%|pp)", h), h
            if "Forgetting" in " ".join(r[1] for r in t[1:]) and h.startswith(("ours", "95 % CI")):
                assert "Forgetting: fraction 0–1" in h, h
            if h.startswith("n"):
                assert h == "n (seeds)"


def test_notes_only_describe_columns_the_page_has(spread):
    html, md = spread
    headers = {h for t in html_tables(html) for h in t[0]}
    notes = re.findall(r"<li>(.*?)</li>", html)
    assert any(n.startswith("Ours: mean") for n in notes)
    assert not any(n.startswith(("time (s)", "(+x%)", "paper (ref.)", "paper (Δ)")) for n in notes)
    assert not any(h.startswith("time (s)") for h in headers)
    for n in notes:
        if n.startswith("paper (reference only)"):
            assert any(h.startswith("paper (reference only") for h in headers)
    assert "1 threads" not in html and "1 threads" not in md


def test_no_negative_zero(spread):
    html, _md = spread
    assert not re.search(r"-0\.0+(?![0-9])", html), re.search(r".{40}-0\.0+(?![0-9]).{20}", html)
    assert "0.000 ± 0.003" in html  # agem Forgetting: mean of 0.0019 and -0.0023


def test_per_seed_values_in_the_runs_fold(spread):
    html, md = spread
    assert "seed 2: U 98.0, S 98.0, H 98.0" in html
    assert "seed 1: mAUC 1.0, mH 1.5, mJA 2.0, Forgetting 0.020" in html
    assert "seed 2: U 98.0, S 98.0, H 98.0" in md


def test_header_says_version_commit_date_and_has_contents(spread):
    from zslbench import __version__

    html, md = spread
    head = html.split("<h2", 1)[0]
    assert re.search(rf"Generated \d{{4}}-\d\d-\d\d \d\d:\d\d UTC by zslbench {re.escape(__version__)} \(commit", head)
    assert "from 2026-01-01 to 2026-01-01" in head
    toc = re.search(r'<nav aria-label="Contents">(.*?)</nav>', html).group(1)
    targets = re.findall(r'href="#([^"]+)"', toc)
    for anchor in ("gzsl", "czsl", "claims", "ablations", "figures"):
        assert anchor in targets
    ids = set(re.findall(r'id="([^"]+)"', html))
    assert set(targets) <= ids
    assert "## Contents" in md and "](#claims)" in md and '<a id="claims"></a>' in md


def test_synthetic_bottom_line_in_the_header(tmp_path):
    mk.gzsl(tmp_path, "mlp3+cn", "cub", 1, 40.0, source="synthetic")
    html, md = _write(tmp_path)
    head = html.split("<h2", 1)[0]
    assert "Bottom line: every run on this page is on SYNTHETIC data" in head
    assert "reproduces none of the paper&#x27;s numbers" in head or "reproduces none of the paper's numbers" in head
    assert md.index("Bottom line:") < md.index("## Contents")


def test_a_claim_with_one_contrary_significant_check_shows_it(tmp_path):
    # claim 1 (mlp3+cn > mlp3 in H): three datasets point its way without significance; on SUN two
    # seeds put mlp3+cn clearly BELOW mlp3 (p < 0.05, but below the 3-seed rule: no verdict)
    for ds in ("cub", "awa1", "awa2"):
        for seed, (a, b) in enumerate(((50.0, 49.0), (49.0, 48.5)), 1):
            mk.gzsl(tmp_path, "mlp3+cn", ds, seed, a)
            mk.gzsl(tmp_path, "mlp3", ds, seed, b)
    for seed, (a, b) in enumerate(((30.0, 35.0), (31.0, 36.1)), 1):
        mk.gzsl(tmp_path, "mlp3+cn", "sun", seed, a)
        mk.gzsl(tmp_path, "mlp3", "sun", seed, b)
    html, md = _write(tmp_path)
    claims = next(t for t in html_tables(html) if t[0][:5] == ["#", "claim", "data", "variant", "verdict"])
    head, row = claims[0], next(r for r in claims[1:] if r[0] == "1")
    assert row[head.index("verdict")] == "? inconclusive"
    assert row[head.index("supported when")].startswith("a − b > 0: mlp3+cn above mlp3")
    assert row[head.index("checks (direction)")] == "3 for, 1 against"
    against = row[head.index("against it (p < 0.05)")]
    assert against.startswith("SUN, H: mlp3+cn vs mlp3: -5.05, p = ") and "below the 3-seed rule" in against
    assert "CUB" not in against and "AwA" not in against
    assert claims == next(t for t in md_tables(md) if t[0][:5] == ["#", "claim", "data", "variant", "verdict"])


def test_option_effects_say_what_was_not_flipped_and_what_measured_nothing(tmp_path):
    for ds in ("cub", "sun"):
        for seed in (1, 2, 3):
            mk.gzsl(tmp_path, "mlp3+cn", ds, seed, 40.0 + seed)
    for seed in (1, 2):  # CUB's default factor is already 1.0: these runs change nothing
        mk.gzsl(tmp_path, "mlp3+cn", "cub", seed, 40.0 + seed, overrides={"seen_logit_scale": "1.0"})
    _html, md = _write(tmp_path)
    section = md.split("## How much each option moves the numbers", 1)[1]
    assert "seen_logit_scale: colab_rule → 1.0" in section
    assert "mlp3+cn (same factor ×1 on both sides: measures nothing)" in section
    assert "Not flipped (base runs only): mlp3+cn on sun." in section


def test_training_curves_say_which_h_they_plot(tmp_path):
    for seed in (1, 2):
        mk.gzsl(tmp_path, "mlp3+cn", "cub", seed, 40.0, epochs=[20.0, 30.0, 35.0])
    html, _ = _write(tmp_path)
    caption = re.search(r"<figcaption>(CUB, xlsa17 features.*?)</figcaption>", html).group(1)
    assert "per-sample and uncalibrated" in caption
    assert "NOT the calibrated per-class H of the tables" in caption
