"""The speed claim judged on one machine: f-CLSWGAN's training time over mlp3+cn's, from runs
of the same dataset, seed and machine (zslbench.report.claims, claim 8 of baselines/claims.csv)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import _report_records as mk
import pytest

from support import cli_env
from zslbench.models.clswgan import CLSWGANOptions
from zslbench.report import stats
from zslbench.report.claims import evaluate, load_claims


def _claim():
    return next(c for c in load_claims() if c.id == "8")


@pytest.mark.parametrize(
    "ratios, expected",
    [
        ((180.0, 170.0, 190.0), stats.SUPPORTED),
        ((20.0, 25.0, 22.0), stats.CONTRADICTED),
        ((60.0, 300.0, 110.0), stats.INCONCLUSIVE),  # the interval straddles 100x
        ((180.0, 170.0), stats.INCONCLUSIVE),  # two paired seeds only
    ],
)
def test_ratio_claim(tmp_path, ratios, expected):
    for seed, ratio in enumerate(ratios, start=1):
        mk.gzsl(tmp_path, "mlp3+cn", "cub", seed, 50.0, train_seconds=50.0 + seed)
        mk.gzsl(tmp_path, "f-clswgan", "cub", seed, 40.0, train_seconds=(50.0 + seed) * ratio)
    (result,) = evaluate(tmp_path, [_claim()])
    assert result.verdict == expected, result.reason
    (check,) = result.checks
    assert check.effect.endswith("x") and "cpu" in check.label
    assert check.summary.n == len(ratios)


def test_ratio_pairs_runs_of_one_machine_only(tmp_path):
    """f-CLSWGAN timed on a GPU and mlp3+cn on a CPU make no pair: nothing is judged."""
    for seed in (1, 2, 3):
        mk.gzsl(tmp_path, "mlp3+cn", "cub", seed, 50.0, train_seconds=50.0, device="cpu")
        mk.gzsl(tmp_path, "f-clswgan", "cub", seed, 40.0, train_seconds=500.0, device="cuda")
    (result,) = evaluate(tmp_path, [_claim()])
    assert result.checks == [] and result.verdict == stats.INCONCLUSIVE
    assert any("CUB" in label for label in result.not_run)


def _set_cpu(results, run_id, cpu_model: str, threads: int) -> None:
    from zslbench import store

    path = results / "runs" / run_id / "record.json"
    record = store.read_record(path)
    record["env"] = {**record["env"], "numerics": {"cpu_model": cpu_model, "threads_intraop": threads}}
    store.write_run(results, run_id, record, {})


@pytest.mark.parametrize(
    "other",
    [("AMD EPYC 7B13", 1), ("Intel(R) Xeon(R) Processor", 2)],
    ids=["another CPU of the same architecture", "another thread count"],
)
def test_cpu_runs_pair_only_on_the_same_processor_and_threads(tmp_path, other):
    """A CPU record's device_name is only "x86_64": the processor model and the run's threads
    decide which runs make a pair."""
    xeon = ("Intel(R) Xeon(R) Processor", 1)
    for seed in (1, 2, 3):
        _set_cpu(tmp_path, mk.gzsl(tmp_path, "mlp3+cn", "cub", seed, 50.0, train_seconds=50.0), *xeon)
        _set_cpu(tmp_path, mk.gzsl(tmp_path, "f-clswgan", "cub", seed, 40.0, train_seconds=9000.0), *other)
    (result,) = evaluate(tmp_path, [_claim()])
    assert result.checks == [] and result.verdict == stats.INCONCLUSIVE
    for seed in (1, 2, 3):  # the same processor and threads on both sides: judged, and named
        rid = mk.gzsl(tmp_path, "f-clswgan", "cub", seed, 40.0, train_seconds=9000.0 + seed)
        _set_cpu(tmp_path, rid, *xeon)
    (result,) = evaluate(tmp_path, [_claim()])
    (check,) = result.checks
    assert check.label.endswith("on cpu (Intel(R) Xeon(R) Processor, 1 thread)"), check.label
    assert result.verdict == stats.SUPPORTED


def test_shortened_runs_are_not_timed_against_full_ones(tmp_path):
    from zslbench import store

    for seed in (1, 2, 3):
        mk.gzsl(tmp_path, "mlp3+cn", "cub", seed, 50.0, train_seconds=50.0)
        rid = mk.gzsl(tmp_path, "f-clswgan", "cub", seed, 40.0, train_seconds=500.0)
        path = tmp_path / "runs" / rid / "record.json"
        record = store.read_record(path)
        record["model_options"] = {"nepoch": 2}
        store.write_run(tmp_path, rid, record, {})
    (result,) = evaluate(tmp_path, [_claim()])
    assert result.checks == [] and result.verdict == stats.INCONCLUSIVE


def test_absolute_gpu_check_is_a_second_row():
    by_id = {c.id: c for c in load_claims()}
    assert by_id["8"].kind == "speed_ratio" and by_id["8"].params["min_ratio"] == "100"
    assert by_id["8b"].kind == "speed" and by_id["8b"].a == "mlp3+cn"


def test_table_and_report_show_f_clswgan_beside_the_paper(tmp_path):
    from zslbench.report.page import write_report
    from zslbench.report.paper_tables.build import build_table

    for seed in (1, 2, 3):
        mk.gzsl(tmp_path, "mlp3+cn", "cub", seed, 50.0, train_seconds=50.0)
        mk.gzsl(tmp_path, "f-clswgan", "cub", seed, 40.0 + seed, train_seconds=9000.0)
    text = build_table("gzsl", tmp_path).to_markdown()
    lines = text.splitlines()
    ours = next(i for i, ln in enumerate(lines) if ln.startswith("| f-clswgan") and "ours" in ln)
    assert "42.0" in lines[ours]  # the mean H of the three runs
    assert "paper" in lines[ours + 1] and "49.7" in lines[ours + 1]  # the paper's quoted CUB H
    assert not any(ln.startswith("| f-CLSWGAN") for ln in lines)  # not also a "reported" row
    files = write_report(tmp_path, tmp_path / "report")
    report = files.markdown.read_text()
    assert "f-clswgan" in report
    claim8 = next(ln for ln in report.splitlines() if ln.startswith("| 8 "))
    assert "supported" in claim8 and "180x" in claim8


def test_a_full_f_clswgan_run_is_recognised_in_a_process_that_imported_no_model():
    """A record holds f-CLSWGAN's options as trained (all at their defaults for a full run);
    judging it must not depend on someone else having imported the built-in models first
    (benchmarks/claim8.py judges with the report's functions alone)."""
    defaults = dataclasses.asdict(CLSWGANOptions())
    code = (
        "import json, sys\n"
        "from zslbench.report.claims import full_run\n"
        "rec = {'model': 'f-clswgan', 'profile': 'paper', 'model_options': json.loads(sys.argv[1])}\n"
        "shortened = dict(rec, model_options=dict(rec['model_options'], nepoch=2))\n"
        "print(full_run(rec), full_run(shortened))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(defaults)], capture_output=True, text=True, env=cli_env()
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "False"]
