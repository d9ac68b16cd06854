"""REPRODUCIBILITY.md is generated from the paper's numbers and baselines/reproducibility.csv
(``python tools/reproducibility.py``) and cannot drift from them: it is regenerated here and
compared, and every number of the paper's own models and methods must have its row."""

from __future__ import annotations

import csv
import importlib.util
import os
import re
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
    return [
        [c.strip() for c in line.strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("| ") and "`zslbench " in line
    ]


def test_every_number_of_the_papers_own_models_and_methods_has_a_row():
    expected = []
    with open(ROOT / "baselines" / "paper_gzsl.csv", newline="") as f:
        expected += [
            (r["zslbench_model"], r["dataset"], r["metric"], r["value"])
            for r in csv.DictReader(f)
            if r["zslbench_model"]
        ]
    with open(ROOT / "baselines" / "paper_czsl.csv", newline="") as f:
        expected += [
            (r["zslbench_method"] + ("+cn" if r["classnorm"] == "true" else ""), r["dataset"], r["metric"], r["value"])
            for r in csv.DictReader(f)
            if r["zslbench_method"]
        ]
    # the paper's four MLP rows (12 numbers and a time each), its speed table (4), the CZSL table (80)
    assert len(expected) == 4 * 13 + 4 + 80
    rows = _table_rows((ROOT / "REPRODUCIBILITY.md").read_text())
    assert len(rows) == len(expected)
    for (key, dataset, _metric, value), row in zip(expected, rows):
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


def _evidence_rows() -> list[list[str]]:
    return _table_rows((ROOT / "REPRODUCIBILITY.md").read_text())


def test_every_row_says_what_ran_when_and_at_which_commit(tmp_path):
    import subprocess
    import sys

    rows = _evidence_rows()
    assert rows and all(len(r) == 10 for r in rows)
    ran = {}
    for r in rows:
        command, date, commit = r[7].strip("`"), r[8], r[9].strip("`")
        assert command and re.fullmatch(r"\d{4}-\d\d-\d\d", date) and re.fullmatch(r"[0-9a-f]{7,40}", commit), r
        if r[4] == "synthetic-only":  # what ran is on synthetic data, with the seeds it had
            assert "--data synthetic" in command and "--seeds" in command, r
        ran[(command, date, commit)] = r
    # each command that ran is one the CLI runs as written on this machine, without any data
    env = {k: v for k, v in os.environ.items() if k not in ("ZSLBENCH_PLUGINS",)}
    env["ZSLBENCH_DATA"] = str(tmp_path / "no-data")
    for command, _, _ in ran:
        if command.startswith("zslbench "):
            proc = subprocess.run(
                [sys.executable, "-m", "zslbench", *command.split()[1:], "--dry-run", "--results", str(tmp_path / "r")],
                capture_output=True,
                text=True,
                env=env,
                cwd=ROOT,
                timeout=300,
            )
            assert proc.returncode == 0, (command, proc.stderr)
        else:
            assert (ROOT / command.split()[1]).is_file(), command
    # the dates are those of the commits (where this checkout has its history and git is installed)
    import shutil

    if shutil.which("git") is None:
        pytest.skip("git is not installed here (e.g. the Docker image): the commits' dates cannot be checked")
    git = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--is-shallow-repository"], capture_output=True, text=True
    )
    if git.returncode != 0 or git.stdout.strip() != "false":
        pytest.skip("no full git history here: the commits' dates cannot be checked")
    for _, date, commit in ran:
        shown = subprocess.run(
            ["git", "-C", str(ROOT), "show", "-s", "--format=%as", commit], capture_output=True, text=True
        )
        assert shown.returncode == 0 and shown.stdout.strip() == date, (commit, date, shown.stdout, shown.stderr)


def test_the_bottom_line_is_counted_and_the_readme_says_it():
    text = (ROOT / "REPRODUCIBILITY.md").read_text()
    real = next(r for r in _status_rows(text) if r[0] == "real-data")[2]
    total = len(_evidence_rows())
    line = f"{real} of the paper's {total} numbers have been reproduced on real data"
    assert f"**Bottom line: {line}.**" in text
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert line in readme


def _status_rows(text: str) -> list[list[str]]:
    return [
        [c.strip() for c in line.strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("| ") and line.split("|")[1].strip() in tool.STATUSES
    ]
