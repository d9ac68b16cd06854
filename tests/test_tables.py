"""`zslbench table`: golden files, every cell against the records, separation of sources/variants."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import statistics
import warnings
from pathlib import Path

import pytest

from support import zsl
from zslbench.report import baselines
from zslbench.report.paper_tables import build_table, parse_formats, write_table

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "results"
GOLDEN = ROOT / "tests" / "fixtures" / "golden"
REGEN = os.environ.get("ZSLBENCH_REGEN_GOLDEN") == "1"
# The variant label of the fixture's synthetic GZSL records (quick profile, the default preset).
QUICK = "quick, preset colab"


def build(kind: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fixture's corrupted record; checked on its own below
        return build_table(kind, FIXTURE)


def raw_records(kind: str) -> list[dict]:
    """The fixture's records read directly (not through zslbench.store): done, parseable, of `kind`."""
    out = []
    for folder in sorted((FIXTURE / "runs").iterdir()):
        if not (folder / "done").exists():
            continue
        try:
            rec = json.loads((folder / "record.json").read_text())
        except json.JSONDecodeError:
            continue
        if rec.get("kind") == kind:
            out.append(rec)
    return out


def expected(values: list[float]) -> tuple[float, float, int]:
    n = len(values)
    return (statistics.fmean(values) if n else math.nan, statistics.stdev(values) if n >= 2 else math.nan, n)


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


# --- baselines --------------------------------------------------------------------------
def test_baseline_copies_are_identical():
    for name in ("paper_gzsl.csv", "paper_czsl.csv"):
        assert (ROOT / "baselines" / name).read_bytes() == (ROOT / "zslbench" / "baselines" / name).read_bytes(), name


def test_baselines_hold_the_papers_numbers_and_dashes_are_missing():
    gz = baselines.gzsl_lookup()
    assert gz[("mlp3+cn", "sun", "H")] == 43.1
    assert gz[("mlp3", "awa2", "U")] == 54.5
    assert gz[("mlp3+eq10", "cub", "S")] == 44.5
    assert gz[("mlp3+cn", "all", "train_seconds")] == 30
    assert gz[("mlp3+cn", "cub", "train_seconds")] == 20  # the speed table
    assert not any(model == "linear" for model, _, _ in gz)
    frame = baselines.paper_gzsl()
    dashes = frame[frame["note"].str.contains("not reported", regex=False)]
    assert len(dashes) > 20 and dashes["value"].isna().all()
    cz = baselines.czsl_lookup()
    assert cz[("ewc-online", True, "cub", "mAUC")] == (14.1, "+22%")
    assert cz[("multitask", False, "sun", "forgetting")] == (0.0, "")
    assert {m for m, _, _, _ in cz} == {"sequential", "multitask", "ewc-online", "mas-online", "agem"}


# --- golden files -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "kind, fmt", [("gzsl", "csv"), ("gzsl", "md"), ("gzsl", "tex"), ("czsl", "csv"), ("czsl", "md"), ("czsl", "tex")]
)
def test_output_matches_golden_file(kind, fmt, tmp_path):
    table = build(kind)
    (path,) = write_table(table, tmp_path, (fmt,))
    golden = GOLDEN / f"{kind}.{fmt}"
    if REGEN:
        golden.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
        pytest.skip(f"regenerated {golden}")
    assert golden.exists(), f"{golden} missing: run ZSLBENCH_REGEN_GOLDEN=1 pytest tests/test_tables.py"
    assert path.read_text(encoding="utf-8") == golden.read_text(encoding="utf-8"), (
        f"{kind}.{fmt} differs from {golden}; if the change is intended, regenerate with "
        "ZSLBENCH_REGEN_GOLDEN=1 pytest tests/test_tables.py and review the diff"
    )


# --- every GZSL cell against the records -----------------------------------------------------
def test_every_gzsl_cell_is_the_mean_and_std_of_its_records():
    frame = build("gzsl").frame()
    recs = raw_records("gzsl")

    # Independent grouping: source, profile, preset (none: a record from before presets) and the
    # options off the defaults must be equal.
    def key(r):
        return (r["data_source"], r["profile"], r.get("preset"), json.dumps(r["non_default_options"], sort_keys=True))

    groups = {}
    for r in recs:
        groups.setdefault(key(r), []).append(r)
    checked = 0
    for row in frame.to_dict("records"):
        # find the config group of this row from its seeds' records
        candidates = [
            g
            for k, g in groups.items()
            if k[0] == row["data_source"]
            and k[1] == row["profile"]
            and (("before presets" in row["variant"]) == (k[2] is None))
            and (("select_epoch=best_test_H" in row["variant"]) == ('"select_epoch": "best_test_H"' in k[3]))
        ]
        assert len(candidates) == 1, row
        mine = [
            r
            for r in candidates[0]
            if r["model"] == row["model"] and (row["dataset"] == "all" or r["dataset"] == row["dataset"])
        ]
        values = [r["train_seconds"] if row["metric"] == "train_seconds" else r["metrics"][row["metric"]] for r in mine]
        mean, std, n = expected(values)
        assert row["n"] == n, row
        assert same(row["mean"], mean) and same(row["std"], std), (row, values)
        assert row["seeds"] == ";".join(str(s) for s in sorted(r["seed"] for r in mine))
        checked += 1
    assert checked == len(frame) > 100


def test_gzsl_csv_rows_agree_with_the_records():
    table = build("gzsl")
    rows = list(csv.DictReader(io.StringIO(table.to_csv())))
    assert set(rows[0]) >= {"model", "dataset", "metric", "mean", "std", "n", "paper", "delta", "data_source"}
    recs = [r for r in raw_records("gzsl") if r["data_source"] == "xlsa17" and r["model"] == "mlp3+cn"]
    h = [r["metrics"]["H"] for r in recs]
    (row,) = [
        r
        for r in rows
        if r["data_source"] == "xlsa17" and r["model"] == "mlp3+cn" and r["dataset"] == "cub" and r["metric"] == "H"
    ]
    assert math.isclose(float(row["mean"]), statistics.fmean(h), rel_tol=1e-9)
    assert math.isclose(float(row["std"]), statistics.stdev(h), rel_tol=1e-9)
    assert float(row["paper"]) == 50.3
    assert math.isclose(float(row["delta"]), statistics.fmean(h) - 50.3, rel_tol=1e-9)


def test_missing_cells_are_missing_not_zero():
    table = build("gzsl")
    frame = table.frame()
    eq10 = frame[(frame["model"] == "mlp3+eq10") & (frame["data_source"] == "synthetic")]
    assert len(eq10) > 0 and (eq10["n"] == 0).all() and eq10["mean"].isna().all()
    rows = list(csv.DictReader(io.StringIO(table.to_csv())))
    eq10_csv = [r for r in rows if r["model"] == "mlp3+eq10" and r["data_source"] == "synthetic"]
    assert all(r["mean"] == "" and r["n"] == "0" for r in eq10_csv)
    md = table.to_markdown()
    line = next(ln for ln in md.splitlines() if ln.startswith(f"| mlp3+eq10 ({QUICK})"))
    assert line.count("—") == 4 and "0.0" not in line


def test_fewer_seeds_are_flagged():
    table = build("gzsl")
    frame = table.frame()
    frame = frame[frame["data_source"] == "synthetic"]
    eq9 = frame[(frame["model"] == "mlp3+eq9") & (frame["dataset"] == "sun") & (frame["metric"] == "H")]
    assert eq9["n"].tolist() == [2] and eq9["fewer_seeds"].tolist() == [True] and eq9["n_max"].tolist() == [3]
    lin = frame[(frame["model"] == "linear") & (frame["dataset"] == "sun") & (frame["metric"] == "H")]
    assert lin["fewer_seeds"].tolist() == [False]
    md = table.to_markdown()
    eq9_line = next(ln for ln in md.splitlines() if ln.startswith(f"| mlp3+eq9 ({QUICK})"))
    assert eq9_line.count("(n=2)") == 4
    assert "unmarked cells have n = 3 seeds" in md


def test_sources_are_separate_tables_and_variants_separate_rows():
    table = build("gzsl")
    assert [s.source for s in table.sections] == ["xlsa17", "synthetic"]
    md = table.to_markdown()
    real, synthetic = md.index("## GZSL on the xlsa17 data"), md.index("## GZSL on SYNTHETIC data")
    assert real < synthetic
    frame = table.frame()
    # No cell pools the two sources: the xlsa17 section's mlp3+cn CUB cell has exactly its 2 runs.
    cell = frame[
        (frame["data_source"] == "xlsa17")
        & (frame["model"] == "mlp3+cn")
        & (frame["dataset"] == "cub")
        & (frame["metric"] == "U")
    ]
    assert cell["n"].tolist() == [2]
    # The non-default option is a separate, labelled variant with its own 2 runs.
    sun_cn = frame[
        (frame["data_source"] == "synthetic")
        & (frame["model"] == "mlp3+cn")
        & (frame["dataset"] == "sun")
        & (frame["metric"] == "H")
    ]
    off = "quick, preset colab+overrides, select_epoch=best_test_H"
    assert dict(zip(sun_cn["variant"], sun_cn["n"])) == {QUICK: 3, off: 2}
    assert f"| mlp3+cn ({off}) | ours" in md
    # Footnotes: data source, options off the defaults, epoch selection and calibration.
    assert "`select_epoch=best_test_H ⚠`" in md and "an oracle" in md
    assert "`epochs=4`, `lr=0.003`, `synthetic_scale=0.15`" in md
    assert "×0.95 on SUN, ×1 on CUB" in md and "×1 on CUB (`seen_logit_scale=colab_rule`" in md
    assert "release vintage 2019" in md


def test_corrupted_records_are_skipped_with_a_warning_naming_them():
    with pytest.warns(UserWarning, match="0000corrupted000"):
        table = build_table("gzsl", FIXTURE)
    assert len(table.skipped) == 1 and "0000corrupted000" in table.skipped[0]
    assert table.n_runs == len(raw_records("gzsl"))


# --- CZSL -------------------------------------------------------------------------------------
def test_czsl_cells_relative_change_and_paper_numbers():
    table = build("czsl")
    frame = table.frame()
    recs = raw_records("czsl")
    for cn in (False, True):
        mine = [r for r in recs if r["method"] == "sequential" and r["classnorm"] is cn and r["dataset"] == "cub"]
        for metric in ("mAUC", "mH", "mJA", "forgetting"):
            mean, std, n = expected([r["metrics"][metric] for r in mine])
            (row,) = frame[
                (frame["row"] == f"sequential{'+cn' if cn else ''}")
                & (frame["dataset"] == "cub")
                & (frame["metric"] == metric)
            ].to_dict("records")
            assert row["n"] == n == 2 and same(row["mean"], mean) and same(row["std"], std)
    base = statistics.fmean(r["metrics"]["mAUC"] for r in recs if r["method"] == "sequential" and not r["classnorm"])
    with_cn = statistics.fmean(r["metrics"]["mAUC"] for r in recs if r["method"] == "sequential" and r["classnorm"])
    (row,) = frame[
        (frame["row"] == "sequential+cn") & (frame["dataset"] == "cub") & (frame["metric"] == "mAUC")
    ].to_dict("records")
    assert math.isclose(row["rel_change_pct"], 100 * (with_cn - base) / base, rel_tol=1e-9)
    assert row["paper"] == 13.5 and row["paper_rel_change"] == "+39%"
    # agem+cn on SUN has no run without ClassNorm: no relative change, flagged n=1.
    (agem,) = frame[(frame["row"] == "agem+cn") & (frame["dataset"] == "sun") & (frame["metric"] == "mH")].to_dict(
        "records"
    )
    assert math.isnan(agem["rel_change_pct"]) and agem["n"] == 1 and agem["fewer_seeds"]
    md = table.to_markdown()
    assert "features track" in md and "NOT comparable with the paper's image-track numbers" in md
    assert "Forgetting as a fraction" in md


# --- CLI ------------------------------------------------------------------------------------


def test_cli_table_writes_files_prints_markdown_and_names_the_bad_record(tmp_path):
    proc = zsl("table", "gzsl", "--results", str(FIXTURE), "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gzsl.csv", "gzsl.md", "gzsl.tex"]
    assert "## GZSL on the xlsa17 data" in proc.stdout
    assert "warning: skipping" in proc.stderr and "0000corrupted000" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_table_czsl_without_records_says_so_and_exits_0(tmp_path):
    (tmp_path / "runs").mkdir()
    proc = zsl("table", "czsl", "--results", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "no CZSL run records" in proc.stdout
    assert not (tmp_path / "tables").exists()


@pytest.mark.parametrize(
    "args, needle",
    [
        (["table", "gzsl", "--format", "csv,xls"], "--format"),
        (["table", "gzsl", "--results", "/nonexistent/zslbench-results"], "--results"),
        (["table", "gzls"], "gzls"),
    ],
)
def test_cli_table_bad_usage_is_one_line_exit_2(args, needle):
    if "--results" not in args:
        args = [*args, "--results", str(FIXTURE)]
    proc = zsl(*args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in proc.stderr


def test_parse_formats():
    assert parse_formats(None) == ("csv", "md", "tex")
    assert parse_formats("md, csv,md") == ("md", "csv")


def _old_format_copy(rec: dict, kind: str) -> dict:
    """The same run as a record written before presets: the whole config (without `threads`,
    not yet a field then), no preset label, an env block without the numeric environment."""
    from zslbench import store
    from zslbench.tracks import make_config

    cfg = make_config("czsl-features" if kind == "czsl" else "gzsl", rec["profile"])
    old = {k: v for k, v in rec.items() if not k.startswith("_") and k not in ("preset", "preset_overrides")}
    old["config"] = {k: v for k, v in cfg.to_dict().items() if k not in ("threads", "cuda_tf32")}
    old["env"] = {k: v for k, v in rec["env"].items() if k != "numerics"}
    old["run_id"] = store.make_run_id({"old_format_copy_of": rec["run_id"]})  # 16 hex digits, as every run id
    old["record_version"] = 1
    return old


def test_the_fixture_has_one_record_from_before_presets():
    old = [r for kind in ("gzsl", "czsl") for r in raw_records(kind) if "preset" not in r]
    assert [(r["model"], r["dataset"], r["data_source"]) for r in old] == [("mlp3", "cub", "xlsa17")]
    assert "numerics" not in old[0]["env"] and "threads" not in old[0]["config"]
    frame = build("gzsl").frame()
    # its config is read in today's terms: `threads` comes from its env block (2 here)
    cell = frame[
        (frame["variant"] == "paper, record from before presets, threads=2")
        & (frame["metric"] == "H")
        & (frame["n"] > 0)
    ]
    assert cell[["model", "dataset", "n"]].values.tolist() == [["mlp3", "cub", 1]]
    assert math.isclose(cell["mean"].iloc[0], old[0]["metrics"]["H"], rel_tol=1e-9)


@pytest.mark.parametrize("kind, name_key", [("czsl", "method"), ("gzsl", "model")])
def test_records_from_before_presets_never_share_a_cell_with_new_ones(kind, name_key, tmp_path):
    import shutil

    from zslbench import store

    shutil.copytree(FIXTURE, tmp_path / "results")
    new = [r for r in raw_records(kind) if r["data_source"] == "synthetic" and "preset" in r]
    first = new[0]
    twins = [r for r in new if all(r[k] == first[k] for k in (name_key, "dataset", "classnorm"))]
    old = _old_format_copy(first, kind)
    folder = store.write_run(tmp_path / "results", old["run_id"], old, {})
    (folder / store.RECORD_FILE).write_text(json.dumps(old))  # as written then: schema version 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = build_table(kind, tmp_path / "results")
    (section,) = [s for s in table.sections if s.source == "synthetic"]
    cells = section.cells
    metric = "mAUC" if kind == "czsl" else "H"
    here = cells[
        (cells[name_key] == first[name_key]) & (cells["dataset"] == first["dataset"]) & (cells["metric"] == metric)
    ]
    if kind == "czsl":
        here = here[here["classnorm"] == first["classnorm"]]
    same_profile = [r for r in twins if r["config"] == first["config"]]
    counts = sorted(int(n) for n in here["n"] if n > 0)
    assert counts == sorted([1, len(same_profile)]), here[["variant", "n"]]
    labels = set(here.loc[here["n"] > 0, "variant"])
    assert any("before presets" in label for label in labels)
    assert any("preset " in label for label in labels), labels
