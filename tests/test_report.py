"""`zslbench report` on the fixture records: valid self-contained HTML, the same tables as the
Markdown, every result cell present, links and images inside the folder, the claims and the
option effects."""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path

import _report_records as mk
import html5lib
import pytest
from click.testing import CliRunner

from zslbench.report import stats
from zslbench.report.effects import ablations
from zslbench.report.page import write_report
from zslbench.report.paper_tables import build_table

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "results"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The fixture records, plus two xlsa17 runs with an epochs.csv (the fixture has none)."""
    results = tmp_path_factory.mktemp("results")
    shutil.copytree(FIXTURE, results, dirs_exist_ok=True)
    for seed, curve in ((1, [20.0, 30.0, 35.0]), (2, [22.0, 31.0, 36.0])):
        mk.gzsl(results, "mlp3+cn", "awa1", seed, 36.0 + seed, epochs=curve)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        files = write_report(results)
    html = files.index.read_text(encoding="utf-8")
    md = files.markdown.read_text(encoding="utf-8")
    return results, files, html, md


def _tree(html: str):
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(html)


def _text(el) -> str:
    return " ".join("".join(el.itertext()).split())


def html_tables(html: str) -> list[list[list[str]]]:
    """Every table as rows of cell texts (header row first); a cell with the runs behind it
    gives its summary."""
    out = []
    for table in _tree(html).iter("table"):
        rows = []
        for tr in table.iter("tr"):
            cells = []
            for c in tr:
                if c.tag not in ("td", "th"):
                    continue
                summary = c.find(".//summary")
                cells.append(_text(summary) if summary is not None else _text(c))
            rows.append(cells)
        out.append(rows)
    return out


def md_tables(md: str) -> list[list[list[str]]]:
    out, current = [], None
    for line in md.splitlines():
        if line.startswith("|"):
            if current is None:
                current = []
                out.append(current)
            if re.fullmatch(r"\|(:?-+:?\|)+", line.replace(" ", "")):
                continue  # the alignment row
            cells = re.split(r"(?<!\\)\|", line)[1:-1]
            current.append([" ".join(c.replace("\\|", "|").split()) for c in cells])
        else:
            current = None
    return out


def test_html_is_valid_and_self_contained(report):
    _, files, html, _ = report
    _tree(html)  # raises on any parse error (strict mode)
    assert files.index.name == "index.html" and files.markdown.name == "report.md"
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert "@import" not in html and "url(" not in html and "<script" not in html.lower()
    assert "<link" not in html.lower()


def test_links_and_images_resolve_inside_the_folder(report):
    _, files, html, md = report
    out = files.index.parent.resolve()
    tree = _tree(html)
    ids = {el.get("id") for el in tree.iter() if el.get("id")}
    images = [el.get("src") for el in tree.iter("img")]
    assert len(images) >= 4  # three variance figures and a curves figure
    for el in tree.iter():
        for attr in ("src", "href"):
            target = el.get(attr)
            if target is None:
                continue
            if target.startswith("#"):
                assert target[1:] in ids, target
                continue
            path = (out / target).resolve()
            assert out in path.parents and path.is_file(), target
    for target in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md):
        path = (out / target).resolve()
        assert out in path.parents and path.is_file(), target
    assert sorted(re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)) == sorted(images)


def test_html_and_markdown_tables_are_the_same(report):
    _, _, html, md = report
    h, m = html_tables(html), md_tables(md)
    assert len(h) >= 10
    assert h == m


def test_every_result_cell_is_in_the_report(report):
    results, _, html, _ = report
    rows = {tuple(r[:3]) for t in html_tables(html) for r in t[1:]}
    checked = 0
    for kind in ("gzsl", "czsl"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = build_table(kind, results)
        for section in table.sections:
            for row in section.rows:
                if row.kind != "ours":
                    continue
                name = f"{row.name} ({row.variant})" if row.show_variant else row.name
                for ds in section.datasets:
                    for metric in section.metrics:
                        c = section.cell(row, ds, metric)
                        if not c["n"]:
                            continue
                        d = 3 if metric == "forgetting" else 1
                        ours = f"{c['mean']:.{d}f}" + (f" ± {c['std']:.{d}f}" if c["n"] >= 2 else "")
                        label = "Forgetting" if metric == "forgetting" else metric
                        assert (name, label, ours) in rows, (name, ds, metric)
                        checked += 1
    assert checked == 42  # 9 + 21 cells (xlsa17, synthetic) and 12 CZSL cells


def test_synthetic_tables_show_the_paper_without_a_difference(report):
    _, _, html, _ = report
    tables = [t for t in html_tables(html) if "runs" in t[0] and "metric" in t[0]]
    with_delta = [t for t in tables if "Δ (ours − paper; pp)" in t[0]]
    reference = [t for t in tables if any(h.startswith("paper (reference only") for h in t[0])]
    assert len(with_delta) == 2  # xlsa17: CUB and AwA1
    assert len(reference) == 4  # synthetic GZSL SUN and CUB; CZSL features track CUB and SUN
    for t in with_delta:
        col = t[0].index("paper in our CI")
        assert {r[col] for r in t[1:]} <= {"✔ inside", "✘ outside", "– no interval", ""}
    assert "SYNTHETIC data: the numbers, verdicts and effects computed on it" in html


def test_claims_each_have_a_verdict_p_and_n(report):
    _, _, html, _ = report
    claims = next(t for t in html_tables(html) if t[0][:5] == ["#", "claim", "data", "variant", "verdict"])
    head = claims[0]
    ids = {r[0] for r in claims[1:]}
    assert ids == {str(i) for i in range(1, 9)} | {"8b"}
    words = {"✔ supported", "✘ contradicted", "? inconclusive", "– no verdict"}
    for r in claims[1:]:
        assert r[head.index("verdict")] in words
        assert r[head.index("p")] and r[head.index("n")]
    # the fixture has at most 3 seeds a side and noise: nothing may be supported
    assert not any(r[head.index("verdict")] == "✔ supported" for r in claims[1:])


def test_option_effects_from_variants(tmp_path):
    base = {1: 40.0, 2: 41.0, 3: 39.0}
    for seed, h in base.items():
        mk.gzsl(tmp_path, "mlp3+cn", "cub", seed, h, ausuc=20.0)
        mk.gzsl(
            tmp_path,
            "mlp3+cn",
            "cub",
            seed,
            h + 2.0 + 0.1 * seed,
            ausuc=20.5,
            overrides={"select_epoch": "best_test_H"},
        )
    from zslbench.presets import PRESETS

    for seed, h in base.items():
        mk.gzsl(tmp_path, "mlp3+cn", "cub", seed, h - 1.0, overrides=dict(PRESETS["code"].gzsl), preset="code")
    found = {a.change: a for a in ablations(tmp_path)}
    assert set(found) == {"select_epoch: final → best_test_H", "preset: colab → code"}
    effects = {e.metric: e.comparison for e in found["select_epoch: final → best_test_H"].effects}
    assert effects["H"].test == "paired t" and effects["H"].n_pairs == 3
    assert effects["H"].diff == pytest.approx(2.2)
    assert effects["AUSUC"].diff == pytest.approx(0.5) and effects["AUSUC"].p == 0.0
    code = {e.metric: e.comparison for e in found["preset: colab → code"].effects}
    assert code["H"].diff == pytest.approx(-1.0)


def test_report_command(tmp_path):
    from zslbench.cli import cli

    results = tmp_path / "results"
    shutil.copytree(FIXTURE, results)
    out = tmp_path / "page"
    res = CliRunner().invoke(cli, ["report", "--results", str(results), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "index.html").is_file() and (out / "report.md").is_file()
    assert f"wrote {out / 'index.html'}" in res.output
    assert stats.ALPHA == 0.05 and stats.MIN_N == 3  # the values the docs state


def test_claims_file_is_shipped_and_well_formed():
    from zslbench.models import MODELS
    from zslbench.report.claims import load_claims
    from zslbench.train.czsl import CZSL_METHODS

    root = Path(__file__).resolve().parents[1]
    assert (root / "baselines" / "claims.csv").read_bytes() == (
        root / "zslbench" / "baselines" / "claims.csv"
    ).read_bytes()
    claims = load_claims()
    assert [c.id for c in claims] == [str(i) for i in range(1, 9)] + ["8b"]
    for c in claims:
        assert c.kind in ("compare", "speed", "speed_ratio") and c.direction in ("greater", "less") and c.source
        if c.table == "gzsl":
            assert {c.a, *c.b} <= set(MODELS.names())
            assert set(c.metrics) <= {"H", "pre_var_drift", "train_seconds"}
        else:
            assert (c.a, c.b) == ("cn", ("no-cn",)) and set(c.methods) <= set(CZSL_METHODS.names())
            assert set(c.metrics) <= {"mAUC", "mH", "mJA", "forgetting"}
