"""A metric is defined once (zslbench.metrics.registry): a GZSL metric registered with its own
`compute` is recorded by every run, compared by replay with its own tolerance, and shown by
`zslbench table` and the report, with nothing else to edit."""

from __future__ import annotations

import json

import numpy as np
import pytest

from support import zsl_in_process
from zslbench.metrics.registry import METRICS, Metric
from zslbench.replay import compare_records, tolerances_for


def top1(logits, labels, data, cfg) -> float:
    """The share of test samples whose top-scored class is theirs, over all classes (percent)."""
    return 100.0 * float(np.mean(np.argmax(np.asarray(logits), axis=1) == np.asarray(labels)))


@pytest.fixture
def toy_metric():
    metric = METRICS.add(Metric("top1", ("gzsl",), digits=2, atol=0.75, label="Top-1", column=3, compute=top1))
    yield metric
    METRICS.remove("top1")


def test_replay_uses_the_registered_tolerance(toy_metric):
    tols = tolerances_for(["top1", "H", "forgetting", "seen_scale", "unregistered"])
    assert [tols[m].atol for m in tols] == [0.75, 1.5, 0.02, 0.0, 0.0]
    rec = {"metrics": {"top1": 40.0}, "data_fingerprint": "x"}
    assert compare_records(rec, {"metrics": {"top1": 40.7}, "data_fingerprint": "x"}).verdict == "within_tolerance"
    assert compare_records(rec, {"metrics": {"top1": 40.8}, "data_fingerprint": "x"}).verdict == "differs"


def test_registered_metric_is_refused_twice_and_checked(toy_metric):
    with pytest.raises(ValueError, match="already registered"):
        METRICS.add(Metric("top1", ("gzsl",)))
    with pytest.raises(ValueError, match="unit"):
        Metric("bad", ("gzsl",), unit="points")
    with pytest.raises(ValueError, match="tracks"):
        Metric("bad", ("zsl",))


@pytest.mark.usefixtures("one_thread")
def test_a_registered_gzsl_metric_reaches_run_replay_table_and_report(toy_metric, tmp_path, capsys):
    results = tmp_path / "results"
    code, out, err = zsl_in_process(
        capsys,
        "run",
        "--model",
        "linear",
        "--dataset",
        "sun",
        "--data",
        "synthetic",
        "--profile",
        "quick",
        "--seed",
        "1",
        "--results",
        results,
        "--set",
        "epochs=1",
    )
    assert code == 0, err
    (record_path,) = results.glob("runs/*/record.json")
    metrics = json.loads(record_path.read_text())["metrics"]
    assert 0.0 <= metrics["top1"] <= 100.0 and list(metrics)[-1] == "top1"

    code, out, err = zsl_in_process(capsys, "replay", record_path, "--results", tmp_path / "again")
    assert code == 0, err
    assert f"top1={metrics['top1']:.4g}" in out  # compared like every other metric, and equal here

    code, out, err = zsl_in_process(
        capsys, "table", "gzsl", "--results", results, "--format", "md,csv", "--out", tmp_path / "tables"
    )
    assert code == 0, err
    md = (tmp_path / "tables" / "gzsl.md").read_text()
    header = next(line for line in md.splitlines() if line.startswith("| model"))
    assert [h.strip() for h in header.split("|")[3:-1]] == ["U", "S", "H", "Top-1", "time (s)"]
    assert f" {metrics['top1']:.2f} |" in md  # with the metric's own digits
    assert "top1" in (tmp_path / "tables" / "gzsl.csv").read_text()

    code, out, err = zsl_in_process(capsys, "report", "--results", results, "--out", tmp_path / "report")
    assert code == 0, err
    page = (tmp_path / "report" / "report.md").read_text()
    row = next(line for line in page.splitlines() if "| Top-1 " in line)
    assert f" {metrics['top1']:.2f} |" in row
