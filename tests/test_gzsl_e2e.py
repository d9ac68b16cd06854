"""End-to-end GZSL runs on synthetic data (small, seconds each)."""

import json

import numpy as np
import pandas as pd
import pytest

from zslbench import store
from zslbench.tracks import execute_run, get_track
from zslbench.train.trace import TRACE_COLUMNS

GZSL = get_track("gzsl")

pytestmark = pytest.mark.slow

REQUIRED_FIELDS = {
    "run_id",
    "kind",
    "model",
    "classnorm",
    "dataset",
    "data_source",
    "data_fingerprint",
    "seed",
    "profile",
    "config",
    "metrics",
    "train_seconds",
    "env",
    "created_at",
}


@pytest.fixture(scope="module")
def quick_sun(tmp_path_factory):
    results = tmp_path_factory.mktemp("results")
    outcome = execute_run(GZSL, "mlp3+cn", "sun", seed=1, profile="quick", source="synthetic", results=results)
    return results, outcome


def test_quick_run_writes_a_complete_record_and_trace(quick_sun):
    results, outcome = quick_sun
    folder = outcome.path
    assert folder == results / "runs" / outcome.run_id
    assert (folder / "done").exists()
    record = json.loads((folder / "record.json").read_text())
    assert REQUIRED_FIELDS <= set(record)
    assert record["kind"] == "gzsl" and record["data_source"] == "synthetic"
    assert record["classnorm"] is True and record["model"] == "mlp3+cn"
    for key in ("S", "U", "H", "ZSL", "AUSUC", "S_uncal", "U_uncal", "H_uncal"):
        assert 0.0 <= record["metrics"][key] <= 100.0, key
    m = record["metrics"]
    assert m["H"] == pytest.approx(2 * m["S"] * m["U"] / (m["S"] + m["U"]))
    assert record["config"]["seen_logit_scale"] == "colab_rule" and m["seen_scale"] == 0.95
    assert set(record["env"]) >= {"python", "torch", "numpy", "device", "threads", "git_commit"}

    trace = pd.read_csv(folder / "trace.csv")
    assert list(trace.columns) == ["iteration", "epoch", *TRACE_COLUMNS]
    n_train = record["data_summary"]["trainval"]
    cfg = record["config"]
    iters = cfg["epochs"] * -(-n_train // cfg["batch_size"])
    assert len(trace) == iters
    assert trace["iteration"].tolist() == list(range(iters))
    assert np.isfinite(trace.drop(columns=["iteration", "epoch"]).to_numpy()).all()
    np.testing.assert_allclose(trace["post_var"], trace["post_std"] ** 2, rtol=1e-5)
    # post-NS logits are bounded by gamma^2 = 25
    assert (trace["post_mean"].abs() <= 25).all()
    epochs = pd.read_csv(folder / "epochs.csv")
    assert epochs["epoch"].tolist() == list(range(1, cfg["epochs"] + 1))


def test_done_run_is_skipped_and_force_retrains(quick_sun):
    results, first = quick_sun
    again = execute_run(GZSL, "mlp3+cn", "sun", seed=1, profile="quick", source="synthetic", results=results)
    assert again.skipped and again.run_id == first.run_id
    assert again.record["metrics"] == first.record["metrics"]


def test_same_seed_gives_identical_metrics_and_trace(quick_sun, tmp_path):
    _, first = quick_sun
    second = execute_run(GZSL, "mlp3+cn", "sun", seed=1, profile="quick", source="synthetic", results=tmp_path)
    assert not second.skipped
    assert second.run_id == first.run_id
    assert second.record["metrics"] == first.record["metrics"]
    t1 = pd.read_csv(first.path / "trace.csv")
    t2 = pd.read_csv(second.path / "trace.csv")
    pd.testing.assert_frame_equal(t1, t2)


def test_other_seed_gives_another_run(quick_sun, tmp_path):
    _, first = quick_sun
    other = execute_run(GZSL, "mlp3+cn", "sun", seed=2, profile="quick", source="synthetic", results=tmp_path)
    assert other.run_id != first.run_id
    assert other.record["metrics"] != first.record["metrics"]


def test_trained_mlp3_cn_is_far_above_chance(tmp_path):
    out = execute_run(
        GZSL,
        "mlp3+cn",
        "cub",
        seed=1,
        profile="quick",
        source="synthetic",
        results=tmp_path,
        overrides={"epochs": 10, "synthetic_scale": 0.3},
    )
    m = out.record["metrics"]
    # chance: 1/150 = 0.7% seen, 1/50 = 2% unseen, AUSUC about their product (0.01%).
    # S/U depend on the calibration point; ZSL and AUSUC do not.
    assert m["ZSL"] > 25 and m["AUSUC"] > 10 and m["U"] > 15 and m["S"] > 2, m


def test_oracle_epoch_selection_is_recorded(tmp_path):
    out = execute_run(
        GZSL,
        "linear",
        "awa1",
        seed=1,
        profile="quick",
        source="synthetic",
        results=tmp_path,
        overrides={"select_epoch": "best_test_H", "synthetic_scale": 0.05},
    )
    rec = out.record
    assert rec["selected_epoch"] == rec["oracle_epoch"]
    assert rec["metrics"] == rec["metrics_oracle_best_test_H"]
    assert rec["non_default_options"] == {"select_epoch": "best_test_H"}
    hs = pd.read_csv(out.path / "epochs.csv")["test_H_per_sample_uncal"]
    assert hs.iloc[rec["oracle_epoch"] - 1] == hs.max()
    # a record written by this version reads back
    assert store.read_record(out.path / "record.json")["run_id"] == rec["run_id"]
