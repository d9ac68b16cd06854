"""The LaTeX rendering of a table: per section one booktabs ``table*`` laid out like the
paper's table, the notes in a minipage under it."""

from __future__ import annotations

import math

from zslbench.report.paper_tables.cells import (
    czsl_paper_text,
    digits,
    display,
    is_nan,
    metric_label,
    num,
    paper_text,
    plain,
    shows_delta,
)

_TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "±": r"$\pm$",
    "Δ": r"$\Delta$",
    "×": r"$\times$",
    "−": r"$-$",
    "—": "---",
    "≈": r"$\approx$",
    "⚠": r"(!)",
    "§": r"\S{}",
    "≥": r"$\geq$",
    "\n": " ",
    "\r": " ",
    "\v": " ",
    "\f": " ",
    "\x1c": " ",
    "\x1d": " ",
    "\x1e": " ",
    "\x85": " ",
    "\u2028": " ",
    "\u2029": " ",  # a line break in a name must not end a line of the table
}


def tex_escape(text: str) -> str:
    return "".join(_TEX_SPECIAL.get(ch, ch) for ch in text)


def _tex_note(text: str) -> str:
    """Notes are written with `code` spans; they become \\texttt{} here."""
    parts = text.split("`")
    return "".join((r"\texttt{" + tex_escape(p) + "}") if i % 2 else tex_escape(p) for i, p in enumerate(parts))


def latex(table) -> str:
    kind = table.kind
    out = [
        f"% Written by `zslbench table {kind}`. Needs \\usepackage{{booktabs}} and \\usepackage{{graphicx}}.",
        f"% One table per data source{' and track' if kind == 'czsl' else ''}: synthetic and real numbers are never mixed.",
        "",
    ]
    if table.empty:
        out.append(f"% No {kind.upper()} run records.")
        return "\n".join(out) + "\n"
    for section in table.sections:
        out += _latex_section(section)
        out.append("")
    return "\n".join(out)


def _tex_ours(cell: dict, rel: float = math.nan) -> str:
    """Our cell in LaTeX: the mean, the std in small type, flags as superscripts (as the paper)."""
    if cell["n"] == 0:
        return "---"
    d = digits(cell["metric"])
    text = num(cell["mean"], d)
    if cell["n"] >= 2:
        text += r"{\tiny$\,\pm\,$" + num(cell["std"], d) + "}"
    sup = []
    if not is_nan(rel):
        sup.append(tex_escape(f"{rel:+.0f}%"))
    if cell["fewer_seeds"]:
        sup.append(f"n={cell['n']}")
    if sup:
        text += r"\textsuperscript{" + ", ".join(sup) + "}"
    return text


def _latex_section(section) -> list[str]:
    gz = section.kind == "gzsl"
    metrics = list(section.metrics)
    k = len(metrics)
    n_ds = len(section.datasets)
    spec = "ll" + ("@{\\hspace{6pt}}" + "r" * k) * n_ds + ("r" if gz else "")
    label = "-".join(["tab", section.kind, section.source] + ([section.track] if section.track else []))
    lines = [
        r"\begin{table*}[t]",
        r"\centering",
        r"\caption{" + tex_escape(section.title) + "}",
        r"\label{" + label + "}",
        r"\scriptsize",
        r"\setlength{\tabcolsep}{3pt}",
        r"\resizebox{\linewidth}{!}{%",
        r"\begin{tabular}{" + spec + "}",
        r"\toprule",
    ]
    groups = " & ".join(r"\multicolumn{%d}{c}{%s}" % (k, tex_escape(display(ds))) for ds in section.datasets)
    lines.append(" & & " + groups + (" & " if gz else "") + r" \\")
    rules = " ".join(r"\cmidrule(lr){%d-%d}" % (3 + i * k, 2 + (i + 1) * k) for i in range(n_ds))
    lines.append(rules)
    heads = " & ".join(tex_escape(metric_label(m)) for m in metrics)
    lines.append("Method & & " + " & ".join([heads] * n_ds) + (r" & Time (s)" if gz else "") + r" \\")
    lines.append(r"\midrule")
    ours = [r for r in section.rows if r.kind == "ours"]
    marks = {v: chr(ord("a") + i) for i, v in enumerate(dict.fromkeys(r.variant for r in ours))}
    for row in ours:
        cells, paper_cells, any_paper = [], [], False
        for ds in section.datasets:
            for m in metrics:
                c = section.cell(row, ds, m)
                cells.append(_tex_ours(c, math.nan if gz else c["rel_change_pct"]))
                p = paper_text(c, section, row, ds) if gz else czsl_paper_text(c)
                any_paper |= not is_nan(c["paper"])
                paper_cells.append(tex_escape(p))
        if gz:
            c = section.cell(row, "all", "train_seconds")
            cells.append(_tex_ours(c))
            paper_cells.append(tex_escape(paper_text(c, section, row, "all")))
            any_paper |= not is_nan(c["paper"])
        name = tex_escape(row.name) + (r"\textsuperscript{(%s)}" % marks[row.variant] if row.show_variant else "")
        lines.append(name + " & ours & " + " & ".join(cells) + r" \\")
        if any_paper:
            what = (r"paper ($\Delta$)" if shows_delta(section.source) else "paper (ref.)") if gz else "paper"
            lines.append(r" & {\tiny " + what + "} & " + " & ".join(r"{\tiny " + p + "}" for p in paper_cells) + r" \\")
    if gz:
        lines.append(r"\midrule")
        for row in section.rows:
            if row.kind != "reported":
                continue
            values = section.reported[row.name]
            cells = [tex_escape(plain(values.get((ds, m), math.nan), 1)) for ds in section.datasets for m in metrics]
            avg = values.get(("all", "train_seconds"), math.nan)
            cells.append(tex_escape(plain(avg, 0)))
            lines.append(tex_escape(row.name) + " & reported & " + " & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}}", "", r"\smallskip", r"\begin{minipage}{\linewidth}\scriptsize"]
    notes = list(section.notes)
    if any(r.show_variant for r in ours):
        notes.insert(0, "Variants: " + "; ".join(f"({m}) `{v}`" for v, m in marks.items()) + ".")
    lines += [f"({i}) " + _tex_note(note) + r"\par" for i, note in enumerate(notes, 1)]
    lines += [r"\end{minipage}", r"\end{table*}"]
    return lines
