"""The GZSL and CZSL tables: run records -> tidy CSV, Markdown and LaTeX (booktabs).

One table section per data source (and CZSL track): synthetic and real numbers are never
mixed.  Inside a section, our rows are (model or method, config variant); runs are averaged
over seeds only within a variant (see `zslbench.report.records`).  The paper's numbers come
from `zslbench/baselines/` and stand beside ours.

Layout of the files:
- `<kind>.csv`: tidy, one row per (section, variant, model, dataset, metric) of ours, with
  mean, std, n, the paper's value and the difference.  Missing cells are rows with n = 0 and
  empty numbers.  The paper's other methods are not repeated here (they are in baselines/).
- `<kind>.md`: per section and dataset, a small table (model | from | metrics | time), so that
  it reads in an 80-column terminal; notes under each section.
- `<kind>.tex`: per section, one booktabs `table*` laid out like the paper's table.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from zslbench.errors import ZSLBenchError
from zslbench.report import baselines as paper
from zslbench.report.records import (
    Variant, collect, fmt_items, fmt_value, label_variants, order_variants, section_of,
    sorted_sections, variant_of,
)
from zslbench.store import atomic_write_text

GZSL_DATASETS = ("sun", "cub", "awa1", "awa2")  # the paper's columns; apy is added when run
GZSL_METRICS = ("U", "S", "H")
from zslbench.tracks.czsl import CZSL_DATASETS  # noqa: E402
CZSL_METRICS = ("mAUC", "mH", "mJA", "forgetting")
CZSL_METHOD_ORDER = ("ewc-online", "mas-online", "agem", "sequential", "multitask")  # the paper's rows
FORMATS = ("csv", "md", "tex")

MISSING = "—"  # no run of ours
NOT_REPORTED = "-"  # the paper's '-'
APPROX = "≈"  # the paper's average time stands in for a per-dataset time

METRIC_LABEL = {"forgetting": "Forgetting", "train_seconds": "time (s)"}


def _display(dataset: str) -> str:
    from zslbench.data.specs import DATASETS

    return DATASETS[dataset].display if dataset in DATASETS else dataset


# --- numbers ----------------------------------------------------------------------------
def cell_stats(values: list[float]) -> tuple[float, float, int]:
    """(mean, sample std with n-1, n); NaN where undefined (no values; std of one value)."""
    arr = np.asarray(values, dtype=float)
    n = int(arr.size)
    mean = float(arr.mean()) if n else math.nan
    std = float(arr.std(ddof=1)) if n >= 2 else math.nan
    return mean, std, n


def _nan(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _num(x: float, digits: int) -> str:
    return f"{x:.{digits}f}"


def _signed(x: float, digits: int) -> str:
    return f"{x:+.{digits}f}"


def _digits(metric: str, value: float | None = None) -> int:
    if metric == "forgetting":
        return 3
    if metric == "train_seconds" and value is not None and abs(value) >= 100:
        return 0
    return 1


def _ours_text(cell: dict, pm: str = "±") -> str:
    if cell["n"] == 0:
        return MISSING
    d = _digits(cell["metric"])
    text = _num(cell["mean"], d)
    if cell["n"] >= 2:
        text += f" {pm} {_num(cell['std'], d)}"
    if cell["fewer_seeds"]:
        text += f" (n={cell['n']})"
    return text


def _rel_text(rel: float) -> str:
    return "" if _nan(rel) else f" ({rel:+.0f}%)"


# --- the table object -------------------------------------------------------------------
@dataclass
class Row:
    kind: str  # "ours" or "reported"
    name: str  # our model / method row name, or the paper's method label
    variant: str = ""  # variant label (ours)
    show_variant: bool = False


@dataclass
class Section:
    kind: str
    source: str
    track: str | None
    title: str
    datasets: tuple[str, ...]
    metrics: tuple[str, ...]
    rows: list[Row]
    cells: pd.DataFrame  # tidy rows of ours (the CSV)
    notes: list[str]
    reported: dict = field(default_factory=dict)  # method label -> {(dataset, metric): value}

    def cell(self, row: Row, dataset: str, metric: str) -> dict | None:
        key = (row.variant, row.name, dataset, metric)
        return self._index.get(key)

    def __post_init__(self) -> None:
        name_col = "model" if self.kind == "gzsl" else "row"
        self._index = {
            (r["variant"], r[name_col], r["dataset"], r["metric"]): r for r in self.cells.to_dict("records")
        }


@dataclass
class Table:
    kind: str
    sections: list[Section]
    skipped: list[str]
    n_runs: int

    @property
    def empty(self) -> bool:
        return not self.sections

    def frame(self) -> pd.DataFrame:
        if not self.sections:
            return pd.DataFrame(columns=GZSL_COLUMNS if self.kind == "gzsl" else CZSL_COLUMNS)
        return pd.concat([s.cells for s in self.sections], ignore_index=True)

    def to_csv(self) -> str:
        buf = io.StringIO()
        self.frame().to_csv(buf, index=False, float_format="%.10g", lineterminator="\n")
        return buf.getvalue()

    def to_markdown(self) -> str:
        return _markdown(self)

    def to_latex(self) -> str:
        return _latex(self)


GZSL_COLUMNS = [
    "data_source", "variant", "profile", "model", "dataset", "metric", "mean", "std", "n", "n_max",
    "fewer_seeds", "seeds", "paper", "delta", "options",
]
CZSL_COLUMNS = [
    "data_source", "track", "variant", "profile", "method", "classnorm", "row", "dataset", "metric",
    "mean", "std", "n", "n_max", "fewer_seeds", "seeds", "rel_change_pct", "paper", "paper_rel_change",
    "delta", "options",
]


# --- building -------------------------------------------------------------------------------
def build_table(kind: str, results: Path) -> Table:
    if kind == "gzsl":
        return build_gzsl_table(results)
    if kind == "czsl":
        return build_czsl_table(results)
    raise ZSLBenchError(f"table: unknown kind {kind!r}; expected gzsl or czsl")


def _group(records: list[dict], kind: str):
    """section -> (ordered variants, labels, {variant: [records]})."""
    out = {}
    by_section: dict[tuple, list[dict]] = {}
    for rec in records:
        by_section.setdefault(section_of(rec, kind), []).append(rec)
    for sec in sorted_sections(by_section):
        recs = by_section[sec]
        by_variant: dict[Variant, list[dict]] = {}
        for rec in recs:
            by_variant.setdefault(variant_of(rec, kind), []).append(rec)
        variants = order_variants({v: len(r) for v, r in by_variant.items()})
        out[sec] = (variants, label_variants(variants), by_variant)
    return out


def _model_order() -> list[str]:
    from zslbench.models import MODELS

    return list(MODELS)


def build_gzsl_table(results: Path) -> Table:
    records, skipped = collect(results, "gzsl")
    lookup = paper.gzsl_lookup()
    sections = []
    for sec, (variants, labels, by_variant) in _group(records, "gzsl").items():
        source = sec[0]
        recs = [r for v in variants for r in by_variant[v]]
        datasets = GZSL_DATASETS + tuple(sorted({r["dataset"] for r in recs} - set(GZSL_DATASETS)))
        rows_spec: list[tuple[Variant, str]] = []
        order = _model_order()
        for i, v in enumerate(variants):
            present = {r["model"] for r in by_variant[v]}
            models = order if i == 0 else [m for m in order if m in present]
            models = models + sorted(present - set(order))
            rows_spec += [(v, m) for m in models]
        cells = []
        for v, model in rows_spec:
            mine = [r for r in by_variant[v] if r["model"] == model]
            for ds in datasets:
                here = [r for r in mine if r["dataset"] == ds]
                for metric in GZSL_METRICS + ("train_seconds",):
                    values = [r["metrics"][metric] if metric in GZSL_METRICS else r["train_seconds"] for r in here]
                    cells.append(_cell(source, v, labels[v], model, ds, metric, values, here,
                                       lookup.get((model, ds, metric), math.nan)))
            cells.append(_cell(source, v, labels[v], model, "all", "train_seconds",
                               [r["train_seconds"] for r in mine], mine,
                               lookup.get((model, "all", "train_seconds"), math.nan)))
        frame = pd.DataFrame(cells, columns=GZSL_COLUMNS)
        n_max = _mark_fewer(frame, GZSL_METRICS)
        show = len(variants) > 1
        rows = [Row("ours", m, labels[v], show) for v, m in rows_spec]
        rows += [Row("reported", name) for name in _reported_gzsl()]
        section = Section(
            "gzsl", source, None, _gzsl_title(source), datasets, GZSL_METRICS, rows, frame,
            notes=[], reported=_reported_gzsl(),
        )
        section.notes = _gzsl_notes(section, variants, labels, by_variant, n_max)
        sections.append(section)
    return Table("gzsl", sections, skipped, len(records))


def _cell(source, v: Variant, label, model, ds, metric, values, recs, paper_value) -> dict:
    mean, std, n = cell_stats(values)
    return {
        "data_source": source, "variant": label, "profile": v.profile, "model": model, "dataset": ds,
        "metric": metric, "mean": mean, "std": std, "n": n, "n_max": 0, "fewer_seeds": False,
        "seeds": ";".join(str(s) for s in sorted(r["seed"] for r in recs)),
        "paper": paper_value, "delta": mean - paper_value if n else math.nan,
        "options": fmt_items(v.paper_diff),
    }


def _mark_fewer(frame: pd.DataFrame, metrics: tuple[str, ...]) -> int:
    """n_max = the most seeds of any result cell in the section; cells below it are flagged."""
    scored = frame["metric"].isin(metrics)
    n_max = int(frame.loc[scored, "n"].max()) if scored.any() else 0
    frame["n_max"] = n_max
    frame["fewer_seeds"] = (frame["n"] > 0) & (frame["n"] < n_max)
    return n_max


def _reported_gzsl() -> dict:
    """The paper's other methods: label -> {(dataset, metric): value} (metric train_seconds)."""
    frame = paper.paper_gzsl()
    frame = frame[frame["zslbench_model"] == ""]
    order = list(dict.fromkeys(frame.loc[frame["metric"].isin(GZSL_METRICS), "method_key"]))
    labels = {}
    for key in order:
        part = frame[frame["method_key"] == key]
        label = part.loc[part["metric"].isin(GZSL_METRICS), "method"].iloc[0]
        values = {}
        for r in part.itertuples():
            metric = "train_seconds" if r.metric in ("avg_train_time_s", "train_time_s") else r.metric
            values[(r.dataset_key, metric)] = r.value
        labels[label] = values
    return labels


def _gzsl_title(source: str) -> str:
    if source == "xlsa17":
        return "GZSL on the xlsa17 data (real features)"
    if source == "synthetic":
        return "GZSL on SYNTHETIC data (not the real features: not comparable with the paper)"
    return f"GZSL on data source {source!r}"


def _source_note(source: str, recs: list[dict]) -> str:
    vintages = sorted({str(r.get("data_vintage")) for r in recs if r.get("data_vintage")})
    if source == "xlsa17":
        return (f"Data: the xlsa17 ResNet-101 features and proposed splits (`data_source=xlsa17`, "
                f"release vintage {', '.join(vintages) or 'unknown'}).")
    if source == "synthetic":
        return ("Data: zslbench's built-in SYNTHETIC datasets with the shapes of the GBU splits "
                "(`data_source=synthetic`). They show that the pipeline works; their numbers say "
                "nothing about the paper's.")
    return f"Data: `data_source={source}`."


def _device_text(recs: list[dict]) -> str:
    devices = sorted({
        f"{r.get('env', {}).get('device', '?')} ({r.get('env', {}).get('device_name', '?')}, "
        f"{r.get('env', {}).get('threads', '?')} threads)"
        for r in recs
    })
    return "; ".join(devices)


def _variant_note(kind: str, v: Variant, label: str, recs: list[dict], single: bool) -> str:
    head = f"Runs ({len(recs)})" if single else f"Variant `{label}` ({len(recs)} runs)"
    pitfall_names = {k for k, _ in v.pitfalls}
    diffs = [f"{k}={fmt_value(val)}" + (" ⚠" if k in pitfall_names else "") for k, val in v.paper_diff]
    extra = [f"{k}={fmt_value(val)} ⚠" for k, val in v.pitfalls if k not in {k2 for k2, _ in v.paper_diff}]
    preset = f"preset `{v.preset}`" if v.preset is not None else "written before presets existed"
    text = f"{head}: profile `{v.profile}`, {preset}; options differing from the paper-faithful defaults: "
    text += ", ".join(f"`{d}`" for d in diffs + extra) if diffs or extra else "none"
    if v.pitfalls:
        text += " (⚠ = a PAPER_SPEC §9 option that changes what the number means)"
    text += "."
    cfg = dict(v.config)
    if kind == "gzsl":
        text += " " + _epoch_note(cfg) + " " + _calibration_note(cfg, recs)
        mode = cfg.get("acc_mode", "per_class")
        text += f" Accuracy: {'per-class mean' if mode == 'per_class' else 'per-sample'} (`acc_mode={mode}`)."
    else:
        shown = [k for k in ("mauc_range", "forgetting_max_rows") if k in cfg]
        if shown:
            text += " Metric options: " + ", ".join(f"`{k}={fmt_value(cfg[k])}`" for k in shown) + "."
        if any(r.get("method") == "agem" for r in recs):
            text += " " + _agem_note(cfg)
    return text


def _agem_note(cfg: dict) -> str:
    """Which reference gradient the A-GEM rows used (PAPER_SPEC section 9 item 18)."""
    mode = cfg.get("agem_ref_grad")
    if mode == "stale_code":
        return ("A-GEM: `agem_ref_grad=stale_code`, the authors' code's reference gradient, which "
                "still holds the previous step's gradient.")
    if mode == "clean":
        return "A-GEM: `agem_ref_grad=clean`, the clean reference gradient of published A-GEM."
    return ("A-GEM: the clean reference gradient (these records predate `agem_ref_grad`; "
            "the authors' code's is `stale_code`).")


def _epoch_note(cfg: dict) -> str:
    sel = cfg.get("select_epoch", "final")
    if sel == "final":
        return "Reported epoch: the final one (`select_epoch=final`)."
    if sel == "best_test_H":
        return ("Reported epoch: the one with the best uncalibrated per-sample H on the TEST set, an oracle "
                "as in the authors' code (`select_epoch=best_test_H`).")
    return f"Reported epoch: `select_epoch={sel}`."


def _calibration_note(cfg: dict, recs: list[dict]) -> str:
    factors: dict[str, set] = {}
    for r in recs:
        factors.setdefault(r["dataset"], set()).add(r["metrics"].get("seen_scale"))
    used = ", ".join(
        f"×{'/'.join(fmt_value(f) for f in sorted(fs, key=str))} on {_display(ds)}"
        for ds, fs in sorted(factors.items(), key=lambda kv: _ds_order(kv[0]))
    )
    return (f"Seen-class logits multiplied at test time: {used} "
            f"(`seen_logit_scale={fmt_value(cfg.get('seen_logit_scale', '?'))}`; the uncalibrated S/U/H are in the records).")


def _ds_order(ds: str) -> tuple:
    order = GZSL_DATASETS + ("apy",)
    return (order.index(ds) if ds in order else len(order), ds)


def _pooling_notes(by_variant, labels, name_key) -> list[str]:
    notes = []
    for v, recs in by_variant.items():
        groups: dict[tuple, set] = {}
        for r in recs:
            groups.setdefault((r[name_key] if name_key != "row" else _czsl_row(r), r["dataset"]), set()).add(
                r.get("data_fingerprint"))
        for (name, ds), fps in sorted(groups.items(), key=str):
            if len(fps) > 1:
                notes.append(f"⚠ `{name}` on {_display(ds)} (`{labels[v]}`) pools runs on {len(fps)} different "
                             f"data files (fingerprints {', '.join(sorted(str(f)[:8] for f in fps))}).")
    return notes


def _numeric_env_notes(by_variant, labels, name_key) -> list[str]:
    """A note per cell whose runs come from more than one numeric environment (device, CPU
    instruction set, BLAS, torch, threads: zslbench.numerics.numeric_key)."""
    from zslbench.numerics import numeric_key

    notes = []
    for v, recs in by_variant.items():
        groups: dict[tuple, dict[str, list]] = {}
        for r in recs:
            name = r[name_key] if name_key != "row" else _czsl_row(r)
            groups.setdefault((name, r["dataset"]), {}).setdefault(numeric_key(r.get("env")), []).append(r["seed"])
        for (name, ds), envs in sorted(groups.items(), key=str):
            if len(envs) > 1:
                parts = "; ".join(f"{key} (seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, sorted(seeds)))})"
                                  for key, seeds in sorted(envs.items()))
                notes.append(f"⚠ `{name}` on {_display(ds)} (`{labels[v]}`) pools runs from {len(envs)} numeric "
                             f"environments: {parts}. The same seed can give slightly different numbers on "
                             "each (README, Numerical reproducibility).")
    return notes


def _gzsl_notes(section: Section, variants, labels, by_variant, n_max) -> list[str]:
    recs = [r for v in variants for r in by_variant[v]]
    frame = section.cells
    scored = frame[frame["metric"].isin(GZSL_METRICS)]
    uniform = scored.loc[scored["n"] > 0, "n"].nunique() <= 1
    notes = [_source_note(section.source, recs)]
    cells = (f"Ours: mean ± sample standard deviation (n−1) over seeds, in percent; "
             f"{'every cell has' if uniform else 'unmarked cells have'} n = {n_max} seed{'s' if n_max != 1 else ''}")
    if not uniform:
        cells += "; (n=k) marks a cell with fewer seeds than that"
    cells += f"; a single seed has no std; {MISSING} = no run of ours."
    notes.append(cells)
    notes.append(
        "paper (Δ): the paper's number (`baselines/paper_gzsl.csv`) and Δ = ours − paper; "
        f"{NOT_REPORTED} = not reported in the paper; `linear` has no row in the paper. "
        "reported: the paper's numbers for the other methods, not rerun here."
    )
    notes.append(
        f"time (s): wall-clock training time of one run, mean ± std over seeds, on {_device_text(recs)}. "
        f"The paper's time is its speed table's per-dataset time where it has one; {APPROX} marks the "
        "average time of its GZSL table instead (one merged \"30 seconds\" cell for its four MLP rows). "
        "The paper does not state its hardware."
    )
    single = len(variants) == 1
    for v in variants:
        notes.append(_variant_note("gzsl", v, labels[v], by_variant[v], single))
    notes += _pooling_notes(by_variant, labels, "model")
    notes += _numeric_env_notes(by_variant, labels, "model")
    return notes


# --- CZSL -----------------------------------------------------------------------------------
def _czsl_row(rec: dict) -> str:
    return f"{rec['method']}{'+cn' if rec['classnorm'] else ''}"


def _czsl_title(source: str, track: str) -> str:
    data = {"xlsa17": "xlsa17 data (real features)", "synthetic": "SYNTHETIC data"}.get(source, f"data source {source!r}")
    if track == "features":
        return (f"CZSL, features track, on {data}: NOT comparable with the paper's image-track numbers")
    if track == "images":
        if source == "images":
            return ("CZSL, image track (ResNet-18 fine-tuned on the raw CUB / SUN images), on the real images: "
                    "the paper's protocol, comparable with the paper's numbers")
        if source == "synthetic":
            return "CZSL, image track, on SYNTHETIC images: a pipeline check, NOT comparable with the paper"
    return f"CZSL, {track} track, on {data}"


def build_czsl_table(results: Path) -> Table:
    records, skipped = collect(results, "czsl")
    lookup = paper.czsl_lookup()
    sections = []
    for sec, (variants, labels, by_variant) in _group(records, "czsl").items():
        source, track = sec
        recs = [r for v in variants for r in by_variant[v]]
        datasets = CZSL_DATASETS + tuple(sorted({r["dataset"] for r in recs} - set(CZSL_DATASETS)))
        methods = list(CZSL_METHOD_ORDER)
        methods += sorted({r["method"] for r in recs} - set(methods))
        rows_spec: list[tuple[Variant, str, bool]] = []
        for i, v in enumerate(variants):
            present = {(r["method"], bool(r["classnorm"])) for r in by_variant[v]}
            for m in methods:
                for cn in (False, True):
                    if i == 0 and m in CZSL_METHOD_ORDER or (m, cn) in present:
                        rows_spec.append((v, m, cn))
        cells = []
        for v, method, cn in rows_spec:
            row = f"{method}{'+cn' if cn else ''}"
            for ds in datasets:
                here = [r for r in by_variant[v] if r["method"] == method and bool(r["classnorm"]) == cn
                        and r["dataset"] == ds]
                base = [r for r in by_variant[v] if r["method"] == method and not r["classnorm"] and r["dataset"] == ds]
                for metric in CZSL_METRICS:
                    mean, std, n = cell_stats([r["metrics"][metric] for r in here])
                    rel = math.nan
                    if cn and n:
                        b_mean, _, b_n = cell_stats([r["metrics"][metric] for r in base])
                        if b_n and b_mean != 0:
                            rel = 100.0 * (mean - b_mean) / abs(b_mean)
                    p_value, p_rel = lookup.get((method, cn, ds, metric), (math.nan, ""))
                    cells.append({
                        "data_source": source, "track": track, "variant": labels[v], "profile": v.profile,
                        "method": method, "classnorm": cn, "row": row, "dataset": ds, "metric": metric,
                        "mean": mean, "std": std, "n": n, "n_max": 0, "fewer_seeds": False,
                        "seeds": ";".join(str(s) for s in sorted(r["seed"] for r in here)),
                        "rel_change_pct": rel, "paper": p_value, "paper_rel_change": p_rel,
                        "delta": mean - p_value if n else math.nan, "options": fmt_items(v.paper_diff),
                    })
        frame = pd.DataFrame(cells, columns=CZSL_COLUMNS)
        n_max = _mark_fewer(frame, CZSL_METRICS)
        show = len(variants) > 1
        rows = [Row("ours", f"{m}{'+cn' if cn else ''}", labels[v], show) for v, m, cn in rows_spec]
        section = Section("czsl", source, track, _czsl_title(source, track), datasets, CZSL_METRICS, rows,
                          frame, notes=[])
        section.notes = _czsl_notes(section, variants, labels, by_variant, n_max)
        sections.append(section)
    return Table("czsl", sections, skipped, len(records))


def _czsl_notes(section: Section, variants, labels, by_variant, n_max) -> list[str]:
    recs = [r for v in variants for r in by_variant[v]]
    frame = section.cells
    uniform = frame.loc[frame["n"] > 0, "n"].nunique() <= 1
    notes = []
    if section.track == "features":
        notes.append(
            "Features track: the image features are fixed (xlsa17 ResNet-101, or synthetic) and only the "
            "attribute network trains, whereas the paper fine-tunes a ResNet-18 on raw images. These "
            "numbers are NOT comparable with the paper's, which stand beside them only for reference."
        )
    if section.track == "images":
        sizes = sorted({int(r.get("image_size") or r["config"].get("image_size", 0)) for r in recs})
        weights = sorted({str(r["config"].get("backbone_weights")) for r in recs})
        notes.append(
            "Image track: an ImageNet-pretrained ResNet-18 (512-d) fine-tuned end to end with the attribute "
            "head, as in the paper (PAPER_SPEC 7.1); images resized to "
            f"{', '.join(f'{s}x{s}' for s in sizes)} (the paper: 256x256), backbone weights: "
            f"{', '.join(weights)} (the paper: imagenet)."
        )
    if section.track == "images" and section.source == "images":
        notes.append("Data: the raw CUB-200-2011 / SUN Attribute DB images in their official layouts "
                     "(`data_source=images`).")
    elif section.track == "images" and section.source == "synthetic":
        notes.append("Data: zslbench's built-in SYNTHETIC images (`data_source=synthetic`). They show that "
                     "the pipeline works; their numbers say nothing about the paper's.")
    else:
        notes.append(_source_note(section.source, recs))
    cells = (f"Ours: mean ± sample standard deviation (n−1) over seeds; mAUC, mH, mJA in percent, Forgetting "
             f"as a fraction (0 to 1); {'every cell has' if uniform else 'unmarked cells have'} "
             f"n = {n_max} seed{'s' if n_max != 1 else ''}")
    if not uniform:
        cells += "; (n=k) marks a cell with fewer seeds than that"
    cells += f"; a single seed has no std; {MISSING} = no run of ours."
    notes.append(cells)
    notes.append(
        "(+x%) on a +cn row: the relative change of its mean over the same method without ClassNorm, "
        "(cn − without) / |without|, as the paper prints it (none where the method without ClassNorm has "
        "no run or a zero mean)."
    )
    notes.append(
        "paper: the paper's number and its printed relative change (`baselines/paper_czsl.csv`); "
        f"{NOT_REPORTED} = none printed. The difference ours − paper is in `czsl.csv` (column delta) only."
    )
    single = len(variants) == 1
    for v in variants:
        notes.append(_variant_note("czsl", v, labels[v], by_variant[v], single))
    notes += _pooling_notes(by_variant, labels, "row")
    notes += _numeric_env_notes(by_variant, labels, "row")
    return notes


# --- Markdown ---------------------------------------------------------------------------------
def _row_label(row: Row) -> str:
    return f"{row.name} ({row.variant})" if row.show_variant else row.name


def _pipe_table(headers: list[str], body: list[list[str]], align: list[str]) -> str:
    from tabulate import tabulate

    return tabulate(body, headers=headers, tablefmt="pipe", colalign=align, disable_numparse=True)


def _md_gzsl_block(section: Section, ds: str) -> str:
    headers = ["model", "from", *section.metrics, "time (s)"]
    body = []
    for row in section.rows:
        if row.kind == "ours":
            cells = [section.cell(row, ds, m) for m in section.metrics + ("train_seconds",)]
            body.append([_row_label(row), "ours", *(_ours_text(c) for c in cells)])
            if any(not _nan(c["paper"]) for c in cells):
                body.append(["", "paper (Δ)", *(_paper_text(c, section, row, ds) for c in cells)])
        else:
            values = section.reported[row.name]
            scores = [values.get((ds, m), math.nan) for m in section.metrics]
            if all(_nan(x) for x in scores):
                continue
            body.append([_short_name(row.name), "reported", *(_plain(x, 1) for x in scores),
                         _reported_time(values, ds)])
    return _pipe_table(headers, body, ["left", "left"] + ["right"] * (len(headers) - 2))


def _short_name(label: str) -> str:
    """'DCN (Liu et al., 2018)' -> 'DCN' (the Markdown stays narrow; the LaTeX keeps the citation)."""
    return label.split(" (")[0]


def _plain(x: float, digits: int) -> str:
    return NOT_REPORTED if _nan(x) else _num(x, digits)


def _time_text(x: float) -> str:
    return _num(x, _digits("train_seconds", x))


def _reported_time(values: dict, ds: str) -> str:
    own = values.get((ds, "train_seconds"), math.nan)
    if not _nan(own):
        return _time_text(own)
    avg = values.get(("all", "train_seconds"), math.nan)
    return NOT_REPORTED if _nan(avg) else APPROX + _time_text(avg)


def _paper_text(cell: dict, section: Section, row: Row, ds: str) -> str:
    value = cell["paper"]
    approx = ""
    if cell["metric"] == "train_seconds" and _nan(value):
        value = section.cell(row, "all", "train_seconds")["paper"]
        approx = APPROX
    if _nan(value):
        return NOT_REPORTED
    d = _digits(cell["metric"], value)
    text = approx + _num(value, d)
    if cell["n"]:
        text += f" ({_signed(cell['mean'] - value, _digits(cell['metric']))})"
    return text


def _md_czsl_block(section: Section, ds: str) -> str:
    headers = ["method", "from", *(METRIC_LABEL.get(m, m) for m in section.metrics)]
    body = []
    for row in section.rows:
        cells = [section.cell(row, ds, m) for m in section.metrics]
        body.append([_row_label(row), "ours", *(_ours_text(c) + _rel_text(c["rel_change_pct"]) for c in cells)])
        if any(not _nan(c["paper"]) for c in cells):
            body.append(["", "paper", *(_czsl_paper_text(c) for c in cells)])
    return _pipe_table(headers, body, ["left", "left"] + ["right"] * (len(headers) - 2))


def _czsl_paper_text(cell: dict) -> str:
    if _nan(cell["paper"]):
        return NOT_REPORTED
    text = _num(cell["paper"], 2 if cell["metric"] == "forgetting" else 1)
    if cell["paper_rel_change"]:
        text += f" ({cell['paper_rel_change']})"
    return text


def _markdown(table: Table) -> str:
    kind = table.kind.upper()
    out = [f"# {kind} results", ""]
    if table.empty:
        out += [f"No {kind} run records.", ""]
        return "\n".join(out)
    out.append(
        f"From {table.n_runs} run record{'s' if table.n_runs != 1 else ''}; one table per data source"
        f"{' and track' if table.kind == 'czsl' else ''} (synthetic and real numbers are never mixed)."
        + (f" {len(table.skipped)} unreadable or incomplete record(s) skipped." if table.skipped else "")
    )
    out.append("")
    for section in table.sections:
        out += [f"## {section.title}", ""]
        ran = [ds for ds in section.datasets if (section.cells.loc[section.cells["dataset"] == ds, "n"] > 0).any()]
        idle = [_display(ds) for ds in section.datasets if ds not in ran]
        if idle:
            out += [f"No runs of ours on {', '.join(idle)}"
                    + (" (their columns in the CSV and LaTeX tables are empty)." if ran else "."), ""]
        for ds in ran:
            out += [f"### {_display(ds)}", ""]
            block = _md_gzsl_block(section, ds) if table.kind == "gzsl" else _md_czsl_block(section, ds)
            out += [block, ""]
        out += ["Notes:", ""]
        out += [f"{i}. {note}" for i, note in enumerate(section.notes, 1)]
        out.append("")
    return "\n".join(out)


# --- LaTeX --------------------------------------------------------------------------------------
_TEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "±": r"$\pm$", "Δ": r"$\Delta$", "×": r"$\times$", "−": r"$-$", "—": "---", "≈": r"$\approx$",
    "⚠": r"(!)", "§": r"\S{}", "≥": r"$\geq$",
}


def tex_escape(text: str) -> str:
    return "".join(_TEX_SPECIAL.get(ch, ch) for ch in text)


def _tex_note(text: str) -> str:
    """Notes are written with `code` spans; they become \\texttt{} here."""
    parts = text.split("`")
    return "".join(
        (r"\texttt{" + tex_escape(p) + "}") if i % 2 else tex_escape(p) for i, p in enumerate(parts)
    )


def _latex(table: Table) -> str:
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
    d = _digits(cell["metric"])
    text = _num(cell["mean"], d)
    if cell["n"] >= 2:
        text += r"{\tiny$\,\pm\,$" + _num(cell["std"], d) + "}"
    sup = []
    if not _nan(rel):
        sup.append(tex_escape(f"{rel:+.0f}%"))
    if cell["fewer_seeds"]:
        sup.append(f"n={cell['n']}")
    if sup:
        text += r"\textsuperscript{" + ", ".join(sup) + "}"
    return text


def _latex_section(section: Section) -> list[str]:
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
    groups = " & ".join(r"\multicolumn{%d}{c}{%s}" % (k, tex_escape(_display(ds))) for ds in section.datasets)
    lines.append(" & & " + groups + (" & " if gz else "") + r" \\")
    rules = " ".join(r"\cmidrule(lr){%d-%d}" % (3 + i * k, 2 + (i + 1) * k) for i in range(n_ds))
    lines.append(rules)
    heads = " & ".join(tex_escape(METRIC_LABEL.get(m, m)) for m in metrics)
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
                p = _paper_text(c, section, row, ds) if gz else _czsl_paper_text(c)
                any_paper |= not _nan(c["paper"])
                paper_cells.append(tex_escape(p))
        if gz:
            c = section.cell(row, "all", "train_seconds")
            cells.append(_tex_ours(c))
            paper_cells.append(tex_escape(_paper_text(c, section, row, "all")))
            any_paper |= not _nan(c["paper"])
        name = tex_escape(row.name) + (r"\textsuperscript{(%s)}" % marks[row.variant] if row.show_variant else "")
        lines.append(name + " & ours & " + " & ".join(cells) + r" \\")
        if any_paper:
            what = r"paper ($\Delta$)" if gz else "paper"
            lines.append(r" & {\tiny " + what + "} & " + " & ".join(r"{\tiny " + p + "}" for p in paper_cells) + r" \\")
    if gz:
        lines.append(r"\midrule")
        for row in section.rows:
            if row.kind != "reported":
                continue
            values = section.reported[row.name]
            cells = [tex_escape(_plain(values.get((ds, m), math.nan), 1)) for ds in section.datasets for m in metrics]
            avg = values.get(("all", "train_seconds"), math.nan)
            cells.append(tex_escape(_plain(avg, 0)))
            lines.append(tex_escape(row.name) + " & reported & " + " & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}}", "", r"\smallskip", r"\begin{minipage}{\linewidth}\scriptsize"]
    notes = list(section.notes)
    if any(r.show_variant for r in ours):
        notes.insert(0, "Variants: " + "; ".join(f"({m}) `{v}`" for v, m in marks.items()) + ".")
    lines += [f"({i}) " + _tex_note(note) + r"\par" for i, note in enumerate(notes, 1)]
    lines += [r"\end{minipage}", r"\end{table*}"]
    return lines


# --- writing ------------------------------------------------------------------------------------
def parse_formats(text: str | None) -> tuple[str, ...]:
    if not text:
        return FORMATS
    items = [t.strip().lower() for t in text.split(",") if t.strip()]
    bad = [t for t in items if t not in FORMATS]
    if bad or not items:
        raise ZSLBenchError(f"--format: {', '.join(bad) or repr(text)} is not one of {', '.join(FORMATS)}")
    return tuple(dict.fromkeys(items))


def write_table(table: Table, out_dir: Path, formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Write `<kind>.<fmt>` for each format into out_dir (atomically); returns the paths."""
    out_dir = Path(out_dir)
    render = {"csv": table.to_csv, "md": table.to_markdown, "tex": table.to_latex}
    paths = []
    for fmt in formats:
        path = out_dir / f"{table.kind}.{fmt}"
        try:
            atomic_write_text(path, render[fmt]())
        except OSError as exc:
            raise ZSLBenchError(f"cannot write {path}: {exc.strerror or exc}") from None
        paths.append(path)
    return paths
