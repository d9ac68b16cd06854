"""REPRODUCIBILITY.md is generated from the paper's numbers and baselines/reproducibility.csv
(``python tools/reproducibility.py``) and cannot drift from them: it is regenerated here and
compared, and every number of the paper's own models and methods must have its row."""

from __future__ import annotations

import csv
import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_tool():
    spec = importlib.util.spec_from_file_location("reproducibility_tool", ROOT / "tools" / "reproducibility.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load_tool()


def test_reproducibility_md_is_up_to_date():
    committed = (ROOT / "REPRODUCIBILITY.md").read_text()
    assert committed == tool.render(ROOT), "REPRODUCIBILITY.md is out of date: run python tools/reproducibility.py"


def _table_rows(text: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines()
            if line.startswith("| ") and "`zslbench " in line]


def test_every_number_of_the_papers_own_models_and_methods_has_a_row():
    expected = []
    with open(ROOT / "baselines" / "paper_gzsl.csv", newline="") as f:
        expected += [(r["zslbench_model"], r["dataset"], r["metric"], r["value"])
                     for r in csv.DictReader(f) if r["zslbench_model"]]
    with open(ROOT / "baselines" / "paper_czsl.csv", newline="") as f:
        expected += [(r["zslbench_method"] + ("+cn" if r["classnorm"] == "true" else ""), r["dataset"],
                      r["metric"], r["value"]) for r in csv.DictReader(f) if r["zslbench_method"]]
    # the paper's four MLP rows (12 numbers and a time each), its speed table (4), the CZSL table (80)
    assert len(expected) == 4 * 13 + 4 + 80
    rows = _table_rows((ROOT / "REPRODUCIBILITY.md").read_text())
    assert len(rows) == len(expected)
    for (key, dataset, metric, value), row in zip(expected, rows):
        assert row[0] == f"`{key}`", (key, row)
        assert row[1] in (dataset, "all four"), (dataset, row)
        assert row[3].split()[0] == value, (value, row)
        command = row[6]
        assert command.startswith("`zslbench run "), row
        assert "--profile paper" in command or "--model mlp3+cn" in command, row  # sweep, or the speed table's run
        assert row[4] in tool.STATUSES, row


def test_a_number_outside_every_group_is_an_error(tmp_path):
    (tmp_path / "baselines").mkdir()
    for name in ("paper_gzsl.csv", "paper_czsl.csv"):
        shutil.copy(ROOT / "baselines" / name, tmp_path / "baselines" / name)
    lines = (ROOT / "baselines" / "reproducibility.csv").read_text().splitlines(keepends=True)
    dropped = [ln for ln in lines if not ln.startswith("czsl,agem;")]
    assert len(dropped) == len(lines) - 1
    (tmp_path / "baselines" / "reproducibility.csv").write_text("".join(dropped))
    with pytest.raises(ValueError, match="agem.* in no group"):
        tool.render(tmp_path)


def test_an_unknown_status_is_an_error(tmp_path):
    (tmp_path / "baselines").mkdir()
    for name in ("paper_gzsl.csv", "paper_czsl.csv"):
        shutil.copy(ROOT / "baselines" / name, tmp_path / "baselines" / name)
    text = (ROOT / "baselines" / "reproducibility.csv").read_text()
    (tmp_path / "baselines" / "reproducibility.csv").write_text(text.replace(",synthetic-only,", ",verified,", 1))
    with pytest.raises(ValueError, match="unknown status 'verified'"):
        tool.render(tmp_path)
