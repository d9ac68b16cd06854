"""Settings that make training diverge: the run stops with one line naming the epoch and the
likely option, and leaves no record (a sweep lists it as failed); tables do not count it."""

from __future__ import annotations

import math

import pytest
import torch

from support import one_line, zsl_in_process

EWC_DIVERGES = (
    "--czsl",
    "--method",
    "ewc-online",
    "--dataset",
    "cub",
    "--profile",
    "quick",
    "--data",
    "synthetic",
    "--set",
    "fisher_minmax=none",
    "--set",
    "ewc_lambda=1e9",
    "--set",
    "hidden_dim=16",
)


def test_ewc_online_without_fisher_scaling_stops_with_one_line_and_no_record(tmp_path, capsys):
    code, out, err = zsl_in_process(capsys, "run", *EWC_DIVERGES, "--results", tmp_path)
    assert code == 2, (out, err)
    line = one_line(err)
    for needle in ("training diverged", "of task", "fisher_minmax", "ewc_lambda", "not recorded"):
        assert needle in line, line
    assert not list(tmp_path.glob("runs/*/record.json"))
    code, out, err = zsl_in_process(capsys, "table", "czsl", "--results", tmp_path)
    assert code == 0 and "no CZSL run records" in out, (out, err)


def test_gzsl_with_a_runaway_learning_rate_stops_with_one_line(tmp_path, capsys):
    code, out, err = zsl_in_process(
        capsys,
        "run",
        "--model",
        "linear",
        "--dataset",
        "apy",
        "--profile",
        "quick",
        "--data",
        "synthetic",
        "--set",
        "lr=1e30",
        "--results",
        tmp_path,
    )
    assert code == 2, (out, err)
    line = one_line(err)
    assert "training diverged" in line and "in epoch 1" in line and "lr=1e+30" in line, line
    assert not list(tmp_path.glob("runs/*/record.json"))


def test_a_sweep_lists_the_diverging_runs_as_failed(tmp_path, capsys):
    code, out, err = zsl_in_process(
        capsys,
        "run",
        "--all",
        "--profile",
        "quick",
        "--only",
        "czsl",
        "--methods",
        "ewc-online",
        "--datasets",
        "cub",
        "--seeds",
        "1",
        "--data",
        "synthetic",
        "--set",
        "fisher_minmax=none",
        "--set",
        "ewc_lambda=1e15",
        "--set",
        "hidden_dim=16",
        "--jobs",
        "1",
        "--results",
        tmp_path,
    )
    assert code == 1, (out, err)
    assert "training diverged" in err
    assert not list(tmp_path.glob("runs/*/record.json"))
    assert list(tmp_path.glob("logs/*.log"))


def test_the_check_passes_finite_weights_and_stops_the_others():
    from zslbench.train.finite import WEIGHT_LIMIT, TrainingDiverged, check_training

    weights = [torch.ones(3, 2), torch.zeros(4)]
    check_training(torch.tensor(2.0), weights, "in epoch 1", "hint")
    check_training(torch.tensor(2.0), [torch.full((2,), -WEIGHT_LIMIT)], "in epoch 1", "hint")
    cases = [
        (torch.tensor(math.nan), weights, "the loss became nan"),
        (torch.tensor(math.inf), weights, "the loss became inf"),
        (torch.tensor(1.0), [torch.tensor([1.0, math.nan])], "a weight became nan"),
        (torch.tensor(1.0), [torch.tensor([-math.inf])], "a weight became inf"),
        (torch.tensor(1.0), [torch.tensor([3e13])], "a weight reached 3e+13"),
    ]
    for loss, params, needle in cases:
        with pytest.raises(TrainingDiverged) as info:
            check_training(loss, params, "in epoch 7", "the hint")
        text = str(info.value)
        assert needle in text and "in epoch 7" in text and "the hint" in text and "\n" not in text, text
