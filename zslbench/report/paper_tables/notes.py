"""The notes under each table section: where the data comes from, how to read a cell, each
variant's options, and warnings about cells that pool different data files or numeric
environments."""

from __future__ import annotations

from zslbench.data.registry import source_info
from zslbench.environment import machine_text
from zslbench.records import RunRecord
from zslbench.report.paper_tables.cells import (
    APPROX,
    GZSL_DATASETS,
    MISSING,
    NOT_REPORTED,
    display,
    shows_delta,
    table_metrics,
)
from zslbench.report.paper_tables.model import Section
from zslbench.report.records import Variant, fmt_value


def gzsl_title(source: str) -> str:
    return source_info(source).gzsl_table_title


def czsl_title(source: str, track: str) -> str:
    data = source_info(source).table_name
    if track == "features":
        return f"CZSL, features track, on {data}: NOT comparable with the paper's image-track numbers"
    if track == "images":
        if source == "images":
            return (
                "CZSL, image track (ResNet-18 fine-tuned on the raw CUB / SUN images), on the real images: "
                "the paper's protocol, comparable with the paper's numbers"
            )
        if source == "synthetic":
            return "CZSL, image track, on SYNTHETIC images: a pipeline check, NOT comparable with the paper"
    return f"CZSL, {track} track, on {data}"


def _czsl_row(rec: RunRecord) -> str:
    return f"{rec['method']}{'+cn' if rec['classnorm'] else ''}"


def _source_note(source: str, recs: list[RunRecord]) -> str:
    vintages = sorted({str(r.get("data_vintage")) for r in recs if r.get("data_vintage")})
    return source_info(source).table_note(vintages)


def _device_text(recs: list[RunRecord]) -> str:
    return "; ".join(sorted({machine_text(r.get("env")) for r in recs}))


def _variant_note(kind: str, v: Variant, label: str, recs: list[RunRecord], single: bool) -> str:
    head = f"Runs ({len(recs)})" if single else f"Variant `{label}` ({len(recs)} runs)"
    pitfall_names = {k for k, _ in v.pitfalls}
    diffs = [f"{k}={fmt_value(val)}" + (" ⚠" if k in pitfall_names else "") for k, val in v.paper_diff]
    extra = [f"{k}={fmt_value(val)} ⚠" for k, val in v.pitfalls if k not in {k2 for k2, _ in v.paper_diff}]
    preset = f"preset `{v.preset}`" if v.preset is not None else "written before presets existed"
    text = f"{head}: profile `{v.profile}`, {preset}; options differing from the paper-faithful defaults: "
    text += ", ".join(f"`{d}`" for d in diffs + extra) if diffs or extra else "none"
    if v.pitfalls:
        text += " (⚠ = a docs/paper-protocol.md#pitfalls option that changes what the number means)"
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
    """Which reference gradient the A-GEM rows used (docs/paper-protocol.md#pitfall-18)."""
    mode = cfg.get("agem_ref_grad")
    if mode == "stale_code":
        return (
            "A-GEM: `agem_ref_grad=stale_code`, the authors' code's reference gradient, which "
            "still holds the previous step's gradient."
        )
    if mode == "clean":
        return "A-GEM: `agem_ref_grad=clean`, the clean reference gradient of published A-GEM."
    return (
        "A-GEM: the clean reference gradient (these records predate `agem_ref_grad`; "
        "the authors' code's is `stale_code`)."
    )


def _epoch_note(cfg: dict) -> str:
    sel = cfg.get("select_epoch", "final")
    if sel == "final":
        return "Reported epoch: the final one (`select_epoch=final`)."
    if sel == "best_test_H":
        return (
            "Reported epoch: the one with the best uncalibrated per-sample H on the TEST set, an oracle "
            "as in the authors' code (`select_epoch=best_test_H`)."
        )
    return f"Reported epoch: `select_epoch={sel}`."


def _calibration_note(cfg: dict, recs: list[RunRecord]) -> str:
    factors: dict[str, set] = {}
    for r in recs:
        factors.setdefault(r["dataset"], set()).add(r["metrics"].get("seen_scale"))
    used = ", ".join(
        f"×{'/'.join(fmt_value(f) for f in sorted(fs, key=str))} on {display(ds)}"
        for ds, fs in sorted(factors.items(), key=lambda kv: _ds_order(kv[0]))
    )
    return (
        f"Seen-class logits multiplied at test time: {used} "
        f"(`seen_logit_scale={fmt_value(cfg.get('seen_logit_scale', '?'))}`; the uncalibrated S/U/H are in the records)."
    )


def _ds_order(ds: str) -> tuple:
    order = GZSL_DATASETS + ("apy",)
    return (order.index(ds) if ds in order else len(order), ds)


def _pooling_notes(by_variant, labels, name_key) -> list[str]:
    notes = []
    for v, recs in by_variant.items():
        groups: dict[tuple, set] = {}
        for r in recs:
            groups.setdefault((r[name_key] if name_key != "row" else _czsl_row(r), r["dataset"]), set()).add(
                r.get("data_fingerprint")
            )
        for (name, ds), fps in sorted(groups.items(), key=str):
            if len(fps) > 1:
                notes.append(
                    f"⚠ `{name}` on {display(ds)} (`{labels[v]}`) pools runs on {len(fps)} different "
                    f"data files (fingerprints {', '.join(sorted(str(f)[:8] for f in fps))})."
                )
    return notes


def _numeric_env_notes(by_variant, labels, name_key) -> list[str]:
    """A note per cell whose runs come from more than one numeric environment (device, CPU
    instruction set, BLAS, torch, threads: zslbench.environment.numeric_key)."""
    from zslbench.environment import numeric_key

    notes = []
    for v, recs in by_variant.items():
        groups: dict[tuple, dict[str, list]] = {}
        for r in recs:
            name = r[name_key] if name_key != "row" else _czsl_row(r)
            groups.setdefault((name, r["dataset"]), {}).setdefault(numeric_key(r.get("env")), []).append(r["seed"])
        for (name, ds), envs in sorted(groups.items(), key=str):
            if len(envs) > 1:
                parts = "; ".join(
                    f"{key} (seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, sorted(seeds)))})"
                    for key, seeds in sorted(envs.items())
                )
                notes.append(
                    f"⚠ `{name}` on {display(ds)} (`{labels[v]}`) pools runs from {len(envs)} numeric "
                    f"environments: {parts}. The same seed can give slightly different numbers on "
                    "each (docs/numerics.md)."
                )
    return notes


def gzsl_notes(section: Section, variants, labels, by_variant, n_max) -> list[str]:
    recs = [r for v in variants for r in by_variant[v]]
    frame = section.cells
    scored = frame[frame["metric"].isin(table_metrics("gzsl"))]
    uniform = scored.loc[scored["n"] > 0, "n"].nunique() <= 1
    notes = [_source_note(section.source, recs)]
    cells = (
        f"Ours: mean ± sample standard deviation (n−1) over seeds, in percent; "
        f"{'every cell has' if uniform else 'unmarked cells have'} n = {n_max} seed{'s' if n_max != 1 else ''}"
    )
    if not uniform:
        cells += "; (n=k) marks a cell with fewer seeds than that"
    cells += f"; a single seed has no std; {MISSING} = no run of ours."
    notes.append(cells)
    has_paper = bool(scored["paper"].notna().any())
    paper_note = (
        "paper (Δ): the paper's number (`baselines/paper_gzsl.csv`) and Δ = ours − paper; "
        if shows_delta(section.source)
        else "paper (ref.): the paper's number (`baselines/paper_gzsl.csv`), for reference only: no "
        "difference is computed on synthetic data; "
    )
    if has_paper:
        notes.append(
            paper_note + f"{NOT_REPORTED} = not reported in the paper; `linear` has no row in the paper. "
            "reported: the paper's numbers for the other methods, not rerun here."
        )
    else:
        notes.append(
            f"The paper reports no numbers on {', '.join(display(d) for d in section.datasets)}: "
            "ours stand alone, with no difference to the paper."
        )
    notes.append(
        f"time (s): wall-clock training time of one run, mean ± std over seeds, on {_device_text(recs)}. "
        f"The paper's time is its speed table's per-dataset time where it has one; {APPROX} marks the "
        'average time of its GZSL table instead (one merged "30 seconds" cell for its four MLP rows). '
        "The paper does not state its hardware."
    )
    single = len(variants) == 1
    for v in variants:
        notes.append(_variant_note("gzsl", v, labels[v], by_variant[v], single))
    notes += _pooling_notes(by_variant, labels, "model")
    notes += _numeric_env_notes(by_variant, labels, "model")
    return notes


def czsl_notes(section: Section, variants, labels, by_variant, n_max) -> list[str]:
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
            "head, as in the paper (docs/paper-protocol.md#czsl-protocol); images resized to "
            f"{', '.join(f'{s}x{s}' for s in sizes)} (the paper: 256x256), backbone weights: "
            f"{', '.join(weights)} (the paper: imagenet)."
        )
    if section.track == "images" and section.source == "images":
        notes.append(
            "Data: the raw CUB-200-2011 / SUN Attribute DB images in their official layouts (`data_source=images`)."
        )
    elif section.track == "images" and section.source == "synthetic":
        notes.append(
            "Data: zslbench's built-in SYNTHETIC images (`data_source=synthetic`). They show that "
            "the pipeline works; their numbers say nothing about the paper's."
        )
    else:
        notes.append(_source_note(section.source, recs))
    cells = (
        f"Ours: mean ± sample standard deviation (n−1) over seeds; mAUC, mH, mJA in percent, Forgetting "
        f"as a fraction (0 to 1); {'every cell has' if uniform else 'unmarked cells have'} "
        f"n = {n_max} seed{'s' if n_max != 1 else ''}"
    )
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
        f"{NOT_REPORTED} = none printed. "
        + (
            "The difference ours − paper is in `czsl.csv` (column delta) only."
            if shows_delta(section.source)
            else "No difference ours − paper is computed on synthetic data."
        )
    )
    single = len(variants) == 1
    for v in variants:
        notes.append(_variant_note("czsl", v, labels[v], by_variant[v], single))
    notes += _pooling_notes(by_variant, labels, "row")
    notes += _numeric_env_notes(by_variant, labels, "row")
    return notes
