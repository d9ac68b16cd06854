"""`flush_denormal`: subnormal floats read and written as zero during a CPU run.

Where it acts (a CPU run with one torch thread), that it is on inside the run and put back
after it, that a run with it off keeps its run id, and that it changes the arithmetic exactly
as documented: a product with subnormal operands equals the product with them zeroed."""

from __future__ import annotations

import json

import pytest
import torch

from support import one_error_line, zsl
from test_devices import PINNED_IDS, pinned_run_id
from zslbench import numerics
from zslbench.applicability import active_config
from zslbench.config import CZSLConfig, CZSLImageConfig, GZSLConfig
from zslbench.devices import check_flush_denormal
from zslbench.errors import ConfigError

TINY = torch.finfo(torch.float32).tiny  # the smallest normal float32


def subnormal_product() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """x, w with a third of its entries subnormal, and w with those entries zeroed."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(64, 96, generator=gen)
    w = torch.randn(96, 48, generator=gen)
    w[:, ::3] *= 1e-39
    assert ((w != 0) & (w.abs() < TINY)).sum() == 96 * 16  # they are subnormal
    return x, w, torch.where(w.abs() < TINY, torch.zeros_like(w), w)


def test_off_by_default_on_inside_the_context_and_put_back_after():
    assert not numerics.flushes_denormals()
    with numerics.numeric_context(1, "cpu", flush_denormal=True) as applied:
        assert applied["flush_denormal"] is True
        assert numerics.flushes_denormals()
    assert not numerics.flushes_denormals()
    with numerics.numeric_context(1, "cpu") as applied:  # off: nothing is touched
        assert "flush_denormal" not in applied and not numerics.flushes_denormals()


def test_a_caller_that_flushes_already_keeps_flushing():
    torch.set_flush_denormal(True)
    try:
        with numerics.numeric_context(1, "cpu", flush_denormal=True):
            pass
        assert numerics.flushes_denormals()
    finally:
        torch.set_flush_denormal(False)
    assert not numerics.flushes_denormals()


def test_a_product_with_subnormal_operands_equals_the_product_with_them_zeroed():
    x, w, zeroed = subnormal_product()
    with numerics.numeric_context(1, "cpu", flush_denormal=True):
        flushed, reference = x @ w, x @ zeroed
        column = w[:, 0] * 4  # column 0 is subnormal; times 4 it still is, unless flushed
    assert torch.equal(flushed, reference)
    assert torch.all(column == 0)
    assert torch.all((w[:, 0] * 4) != 0)  # off again: subnormals survive


@pytest.mark.parametrize("device, threads", [("cuda:0", 1), ("cpu", 2), ("cpu", 4)])
def test_refused_where_it_cannot_act(device, threads):
    with pytest.raises(ConfigError, match="flush_denormal=true acts"):
        check_flush_denormal(device, True, threads)
    check_flush_denormal(device, False, threads)  # off is accepted everywhere
    with pytest.raises(ConfigError):
        with numerics.numeric_context(threads, device, flush_denormal=True):
            pytest.fail("the run must not start")
    assert not numerics.flushes_denormals()


@pytest.mark.parametrize("kind, cls", [("gzsl", GZSLConfig), ("czsl-features", CZSLConfig),
                                       ("czsl-images", CZSLImageConfig)])
def test_acts_only_when_on(kind, cls):
    traits = ({"model": "mlp3", "deep": True, "class_norm": False, "proper_init": False, "dataset": "cub",
               "source": "synthetic"} if kind == "gzsl" else
              {"method": "agem", "classnorm": True, "dataset": "cub", "source": "synthetic"})
    assert "flush_denormal" not in active_config(kind, traits, cls())
    assert active_config(kind, traits, cls(flush_denormal=True))["flush_denormal"] is True


@pytest.mark.parametrize("kind, kwargs, expected", PINNED_IDS, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(PINNED_IDS)])
def test_run_ids_with_it_off_are_unchanged(kind, kwargs, expected):
    off = {**kwargs, "overrides": {**kwargs.get("overrides", {}), "flush_denormal": False}}
    assert pinned_run_id(kind, off) == expected
    if kwargs.get("overrides", {}).get("threads", 1) == 1:
        on = {**kwargs, "overrides": {**kwargs.get("overrides", {}), "flush_denormal": True}}
        assert pinned_run_id(kind, on) != expected  # another arithmetic: another run


def test_a_run_with_it_on_records_it_and_scores_like_the_run_without(tmp_path):
    common = ["--dataset", "cub", "--profile", "quick", "--data", "synthetic", "--seed", "1",
              "--set", "synthetic_scale=0.1", "--results", tmp_path]
    records = {}
    for label, extra in (("off", []), ("on", ["--set", "flush_denormal=true"])):
        proc = zsl("run", "--model", "mlp3", *common, *extra)
        assert proc.returncode == 0, proc.stderr
        path = next(line.split("record: ")[1] for line in proc.stdout.splitlines() if "record: " in line)
        records[label] = json.loads(open(path.strip()).read())
    off, on = records["off"], records["on"]
    assert on["run_id"] != off["run_id"]
    assert on["config"]["flush_denormal"] is True and "flush_denormal" not in off["config"]
    assert on["env"]["flush_denormal"] is True and "flush_denormal" not in off["env"]
    for key in ("H", "ZSL", "AUSUC"):  # a quick run has few or no subnormals: the same scores
        assert on["metrics"][key] == pytest.approx(off["metrics"][key], abs=0.05), key


def test_the_cli_refuses_it_with_more_than_one_thread(tmp_path):
    proc = zsl("run", "--model", "mlp3", "--dataset", "cub", "--profile", "quick", "--data", "synthetic",
               "--set", "flush_denormal=true", "--set", "threads=2", "--results", tmp_path)
    assert proc.returncode == 2
    assert "threads=1 only" in one_error_line(proc, "flush_denormal")
    proc = zsl("run", "--all", "--profile", "quick", "--only", "czsl", "--datasets", "cub", "--data",
               "synthetic", "--set", "flush_denormal=true", "--set", "threads=2", "--dry-run",
               "--results", tmp_path)
    assert proc.returncode == 2 and "threads=1 only" in proc.stderr
    assert not (tmp_path / "runs").exists()
