"""The CLI as a user meets it: exit codes, one-line errors, no tracebacks."""

import json

import pytest

from support import one_error_line, zsl


def test_list_models_prints_the_registry():
    proc = zsl("list", "models")
    assert proc.returncode == 0
    for name in ("linear", "mlp3", "mlp3+eq9", "mlp3+eq10", "mlp3+cn"):
        assert name in proc.stdout


@pytest.mark.parametrize(
    "args, needles",
    [
        (["run", "--model", "mlp4", "--dataset", "sun"], ["mlp4", "mlp3+cn"]),
        (["run", "--model", "mlp3", "--dataset", "imagenet"], ["imagenet", "sun"]),
        (["run", "--model", "mlp3", "--dataset", "sun", "--set", "epochz=3"], ["epochz", "epochs"]),
        (["run", "--model", "mlp3", "--dataset", "sun", "--set", "epochs=three"], ["epochs", "integer"]),
        (["run", "--model", "mlp3", "--dataset", "sun", "--set", "epochs=0"], ["epochs", "> 0"]),
        (["run", "--model", "mlp3", "--dataset", "sun", "--set", "cn_denominator=mad"], ["cn_denominator", "std"]),
        (["run", "--model", "mlp3", "--dataset", "sun", "--profile", "huge"], ["huge", "quick"]),
        (["run", "--model", "mlp3", "--dataset", "sun", "--bogus"], ["--bogus"]),
        (["run", "--model", "mlp3", "--dataset", "sun", "--data", "imagenet"], ["imagenet"]),
        (["run", "--dataset", "sun"], ["--model"]),
        (["frobnicate"], ["frobnicate"]),
    ],
)
def test_bad_usage_exits_2_with_one_line(args, needles):
    one_error_line(zsl(*args), *needles)


def test_cuda_on_a_cpu_build_is_a_clear_error(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is visible here")
    proc = zsl(
        "run",
        "--model",
        "linear",
        "--dataset",
        "apy",
        "--data",
        "synthetic",
        "--profile",
        "quick",
        "--device",
        "cuda",
        "--results",
        str(tmp_path),
    )
    one_error_line(proc, "cuda")


def test_results_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    proc = zsl(
        "run",
        "--model",
        "linear",
        "--dataset",
        "apy",
        "--data",
        "synthetic",
        "--profile",
        "quick",
        "--results",
        str(target / "sub"),
    )
    one_error_line(proc, str(target))


def test_data_check_without_data_prints_a_row_per_dataset(tmp_path):
    for folder in (tmp_path, tmp_path / "absent"):  # an empty folder, and none at all
        proc = zsl("data", "check", "--data-dir", str(folder))
        assert proc.returncode == 0, proc.stderr
        rows = [line.split() for line in proc.stdout.splitlines()[2:]]
        assert [r[0] for r in rows] == ["sun", "cub", "awa1", "awa2", "apy"]
        assert all(r[-1] == "missing" for r in rows)
        assert f"no data in {folder}" in proc.stderr and "SYNTHETIC" in proc.stderr
    target = tmp_path / "file"
    target.write_text("x")
    one_error_line(zsl("data", "check", "--data-dir", str(target)), str(target))


@pytest.mark.slow
def test_run_auto_falls_back_to_synthetic_with_a_warning(tmp_path):
    proc = zsl(
        "run",
        "--model",
        "linear",
        "--dataset",
        "apy",
        "--profile",
        "quick",
        "--data-dir",
        str(tmp_path / "nodata"),
        "--results",
        str(tmp_path / "res"),
    )
    assert proc.returncode == 0, proc.stderr
    assert "SYNTHETIC" in proc.stderr
    assert "H=" in proc.stdout
    records = list((tmp_path / "res" / "runs").glob("*/record.json"))
    assert len(records) == 1
    assert json.loads(records[0].read_text())["data_source"] == "synthetic"
    again = zsl(
        "run",
        "--model",
        "linear",
        "--dataset",
        "apy",
        "--profile",
        "quick",
        "--data-dir",
        str(tmp_path / "nodata"),
        "--results",
        str(tmp_path / "res"),
    )
    assert again.returncode == 0 and "already done" in again.stdout
