"""The documentation site offline: the built pages request nothing from the network (no web
fonts, no script or style from elsewhere), and opened from the disk in headless Chromium they
show no search box that cannot work, but a note saying how to serve the site."""

from __future__ import annotations

import re

import pytest

# an element that makes the browser fetch something as the page loads
FETCHING = re.compile(
    r"""<(?:link|script|img|iframe|source|video|audio)\b[^>]*\s(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.I
)
CSS_REMOTE = re.compile(r"""@import\s+(?:url\()?\s*["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//""", re.I)


def test_no_page_requests_anything_from_the_network(site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= 19
    problems = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        problems += [f"{page.name}: {m.group(0)}" for m in FETCHING.finditer(text)]
        problems += [f"{page.name}: {m.group(0)}" for m in CSS_REMOTE.finditer(text)]
        if re.search(r"fonts\.(googleapis|gstatic)\.com", text):
            problems.append(f"{page.name}: a web font")
    for css in site.rglob("*.css"):
        text = css.read_text(encoding="utf-8", errors="replace")
        problems += [f"{css.relative_to(site)}: {m.group(0)}" for m in CSS_REMOTE.finditer(text)]
    assert problems == []


def test_opened_from_the_disk_the_search_box_gives_way_to_a_note(site, tmp_path):
    from test_report_browser import CHROMIUM, chromium

    if CHROMIUM is None:
        pytest.skip("no Chromium on this machine (Debian: apt-get install chromium)")
    dom = chromium(["--dump-dom", (site / "metrics.html").resolve().as_uri()], tmp_path / "profile")
    assert "md-header" in dom  # the page was built by the browser
    assert 'data-md-component="search"' not in dom and 'for="__search"' not in dom
    assert "Search: serve the site (mkdocs serve)" in dom
    assert 'href="development.html#the-documentation"' in dom
    raw = (site / "metrics.html").read_text(encoding="utf-8")
    assert 'data-md-component="search"' in raw  # the box is there for a served site
