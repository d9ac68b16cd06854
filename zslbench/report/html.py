"""Render report blocks (zslbench.report.blocks) as one self-contained HTML page.

No external resource: the styles are inline, the images are files in the report's folder
referenced by relative paths, and there is no script.  Colours are from the Okabe-Ito palette
(blue and vermilion tell apart for the common colour-vision deficiencies), and every coloured
cell also says what it means in text and with a symbol.
"""

from __future__ import annotations

from html import escape

from zslbench.report.blocks import Bullets, Contents, Figure, Fold, Heading, Para, Table

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       margin: 1.5rem auto; max-width: 72rem; padding: 0 1rem; color: #1a1a1a; background: #fff;
       line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.35rem; border-bottom: 1px solid #ccc; margin-top: 2rem; }
h3 { font-size: 1.15rem; } h4 { font-size: 1rem; }
table { border-collapse: collapse; margin: 0.6rem 0 1rem; font-size: 0.88rem; }
caption { text-align: left; font-weight: 600; padding: 0.2rem 0; }
th, td { border: 1px solid #bbb; padding: 0.2rem 0.45rem; vertical-align: top; }
th { background: #eee; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.good { background: #d6eaf8; color: #003f73; font-weight: 600; }
td.bad { background: #fbe0cf; color: #7a2e00; font-weight: 600; }
td.neutral { background: #f1f1f1; color: #444; }
td.good, td.bad, td.neutral { white-space: nowrap; }
code { background: #f3f3f3; padding: 0 0.2em; font-size: 0.92em; }
.banner { border: 3px solid #D55E00; background: #fff3ea; padding: 0.6rem 0.8rem; font-weight: 600; }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-size: 0.85rem; color: #333; max-width: 60rem; }
details summary { cursor: pointer; color: #0a4f8a; }
td details summary { white-space: nowrap; }
details.fold { margin: 0.4rem 0 1rem; } details.fold > summary { font-weight: 600; }
td details ul { margin: 0.2rem 0; padding-left: 1.1rem; font-size: 0.82rem; }
ul.toc { columns: 2 22rem; list-style: none; padding-left: 0; } li.toc3 { padding-left: 1.2rem; font-size: 0.9rem; }
.legend span { display: inline-block; padding: 0 0.4rem; margin-right: 0.6rem; }
"""


def inline(text: str) -> str:
    """Escape, then `code` spans -> <code>."""
    parts = str(text).split("`")
    return "".join(f"<code>{escape(p)}</code>" if i % 2 else escape(p) for i, p in enumerate(parts))


def _table(table: Table) -> str:
    out = ["<table>"]
    if table.caption:
        out.append(f"<caption>{inline(table.caption)}</caption>")
    out.append("<thead><tr>" + "".join(f'<th scope="col">{inline(h)}</th>' for h in table.headers) + "</tr></thead>")
    out.append("<tbody>")
    for row in table.rows:
        tds = []
        for i, c in enumerate(row):
            classes = [x for x in (("num" if i in table.numeric else ""), c.style) if x]
            attr = f' class="{" ".join(classes)}"' if classes else ""
            if c.details is not None:
                items = "".join(f"<li>{inline(line)}</li>" for line in c.details.lines)
                body = f"<details><summary>{inline(c.details.summary)}</summary><ul>{items}</ul></details>"
            else:
                body = inline(c.text)
            tds.append(f"<td{attr}>{body}</td>")
        out.append("<tr>" + "".join(tds) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _block(b) -> str:
    if isinstance(b, Heading):
        anchor = f' id="{escape(b.anchor)}"' if b.anchor else ""
        return f"<h{b.level}{anchor}>{inline(b.text)}</h{b.level}>"
    if isinstance(b, Para):
        cls = ' class="banner" role="note"' if b.style == "banner" else ""
        return f"<p{cls}>{inline(b.text)}</p>"
    if isinstance(b, Bullets):
        tag = "ol" if b.ordered else "ul"
        return f"<{tag}>" + "".join(f"<li>{inline(i)}</li>" for i in b.items) + f"</{tag}>"
    if isinstance(b, Table):
        return _table(b)
    if isinstance(b, Contents):
        items = "".join(
            f'<li class="toc{level}"><a href="#{escape(anchor)}">{inline(text)}</a></li>'
            for level, text, anchor in b.entries
        )
        return f'<nav aria-label="Contents"><h2>Contents</h2><ul class="toc">{items}</ul></nav>'
    if isinstance(b, Figure):
        return (
            f'<figure><img src="{escape(b.src)}" alt="{escape(b.alt)}">'
            f"<figcaption>{inline(b.caption)}</figcaption></figure>"
        )
    if isinstance(b, Fold):
        inner = "\n".join(_block(x) for x in b.blocks)
        return f'<details class="fold"><summary>{inline(b.summary)}</summary>\n{inner}\n</details>'
    raise TypeError(f"unknown report block {type(b).__name__}")


def render_html(blocks: list, title: str) -> str:
    body = "\n".join(_block(b) for b in blocks)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
