"""`flush_denormal`: subnormal floats read and written as zero on every thread of a CPU run.

On by default on a CPU, at any thread count, checked on the threads (zslbench.subnormal): a
fresh process flushes on its pool's threads when the mode is set before its first parallel
operation; a process whose pool exists in another mode gets it on every thread or is refused.
Off (`flush_denormal=false`) is the arithmetic and the run id of the time before the option
was on; old records keep their ids and replay without flushing; a CUDA run keeps its id."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from test_devices import PINNED_IDS, pinned_run_id

from support import cli_env, zsl
from zslbench import numerics, store
from zslbench.applicability import active_config
from zslbench.config import CZSLConfig, CZSLImageConfig, GZSLConfig
from zslbench.devices import check_flush_denormal, for_device
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


def in_fresh_process(code: str) -> list[str]:
    """The lines a Python snippet prints in a new interpreter (torch's pool not started yet)."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_on_by_default_on_a_cpu_and_off_on_cuda():
    for cls in (GZSLConfig, CZSLConfig, CZSLImageConfig):
        assert cls().flush_denormal is True
    fields = {"flush_denormal", "threads"}
    assert for_device("cpu", {}, fields) == {}
    assert for_device("cuda:0", {}, fields) == {"flush_denormal": False}
    assert for_device("cuda:0", {"flush_denormal": True}, fields) == {"flush_denormal": True}  # then refused
    with pytest.raises(ConfigError, match="acts on CPU runs only"):
        check_flush_denormal("cuda:0", True)
    for threads in (1, 2, 4):  # any thread count on a CPU
        check_flush_denormal("cpu", True, threads)


PROBE = """
import torch
from zslbench.subnormal import {imports}
{body}
"""


def test_every_thread_flushes_at_two_threads_when_set_at_process_start():
    out = in_fresh_process(
        PROBE.format(
            imports="flush_at_process_start, thread_modes",
            body=("flush_at_process_start()\ntorch.set_num_threads(2)\nprint(thread_modes(2).replace(' ', '_'))"),
        )
    )
    assert out == ["every_thread"]


def test_a_pool_started_without_it_is_set_on_every_thread_or_refused():
    """Set after the pool exists, torch's switch reaches the calling thread only (MKL's threads
    keep their mode): the check sees the half, a run sets every thread, and where it cannot
    (no way to reach the threads) the run is refused with one line."""
    out = in_fresh_process(
        PROBE.format(
            imports="set_run_mode, thread_modes",
            body="""
from zslbench import subnormal
from zslbench.errors import ConfigError
torch.set_num_threads(2)
a = torch.randn(512, 512); a @ a  # the pool starts, not flushing
torch.set_flush_denormal(True)
print(thread_modes(2).replace(' ', '_'))
print(set_run_mode(True, 2).replace(' ', '_'), thread_modes(2).replace(' ', '_'))
print(set_run_mode(False, 2).replace(' ', '_'))
subnormal.on_each_thread = lambda threads, fn: False  # a runtime zslbench cannot reach
torch.set_flush_denormal(True)
try:
    set_run_mode(True, 2)
except ConfigError as exc:
    print("refused", len(str(exc).splitlines()), "fresh process" in str(exc))
""",
        )
    )
    assert out == ["some_threads", "every_thread", "every_thread", "no_thread", "refused", "1", "True"]


def test_inside_the_context_every_thread_has_the_run_mode_and_the_caller_gets_its_own_back():
    before = numerics.flushes_denormals()
    threads = torch.get_num_threads()
    from zslbench.subnormal import FLUSH, NO_FLUSH, thread_modes

    for flush, mode in ((True, FLUSH), (False, NO_FLUSH)):
        with numerics.numeric_context(2, "cpu", flush_denormal=flush) as applied:
            assert applied["flush_denormal"] is flush
            assert thread_modes(2) == mode
    assert numerics.flushes_denormals() == before and torch.get_num_threads() == threads


def test_off_is_the_old_arithmetic_and_on_equals_the_product_with_subnormals_zeroed():
    x, w, zeroed = subnormal_product()
    with numerics.numeric_context(1, "cpu", flush_denormal=True):
        flushed, reference = x @ w, x @ zeroed
        column = w[:, 0] * 4  # column 0 is subnormal; times 4 it still is, unless flushed
    assert torch.equal(flushed, reference)
    assert torch.all(column == 0)
    with numerics.numeric_context(1, "cpu", flush_denormal=False):
        kept = w[:, 0] * 4
    assert torch.all(kept != 0)  # subnormals survive, as before the option


@pytest.mark.parametrize(
    "kind, cls", [("gzsl", GZSLConfig), ("czsl-features", CZSLConfig), ("czsl-images", CZSLImageConfig)]
)
def test_in_the_run_id_only_when_on(kind, cls):
    traits = (
        {
            "model": "mlp3",
            "deep": True,
            "class_norm": False,
            "proper_init": False,
            "kind": "prototype",
            "dataset": "cub",
            "source": "synthetic",
        }
        if kind == "gzsl"
        else {"method": "agem", "classnorm": True, "dataset": "cub", "source": "synthetic"}
    )
    assert active_config(kind, traits, cls())["flush_denormal"] is True
    assert "flush_denormal" not in active_config(kind, traits, cls(flush_denormal=False))


@pytest.mark.parametrize(
    "kind, kwargs, expected", PINNED_IDS, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(PINNED_IDS)]
)
def test_run_ids_change_only_by_the_flush_field(kind, kwargs, expected):
    """Off: the id of the time before (the pinned ids); on: another id; a CUDA run: the old id."""
    off = {**kwargs, "overrides": {**kwargs.get("overrides", {}), "flush_denormal": False}}
    assert pinned_run_id(kind, off) == expected
    assert pinned_run_id(kind, {**kwargs, "device": "cuda:0"}) == expected
    assert pinned_run_id(kind, kwargs) != expected  # on by default: another arithmetic, another run


def test_a_default_run_flushes_on_its_threads_and_off_keeps_the_old_id(tmp_path):
    common = [
        "--dataset",
        "cub",
        "--profile",
        "quick",
        "--data",
        "synthetic",
        "--seed",
        "1",
        "--set",
        "synthetic_scale=0.1",
        "--set",
        "epochs=2",
        "--set",
        "threads=2",
        "--results",
        tmp_path,
    ]
    records = {}
    for label, extra in (("on", []), ("off", ["--set", "flush_denormal=false"])):
        proc = zsl("run", "--model", "mlp3", *common, *extra)
        assert proc.returncode == 0, proc.stderr
        path = next(line.split("record: ")[1] for line in proc.stdout.splitlines() if "record: " in line)
        records[label] = json.loads(open(path.strip()).read())
    on, off = records["on"], records["off"]
    assert on["config"]["flush_denormal"] is True and "flush_denormal" not in off["config"]
    assert on["env"]["flush_denormal"] is True and off["env"]["flush_denormal"] is False
    assert on["record_version"] == store.RECORD_VERSION == 3
    assert off["run_id"] == pinned_run_id(
        "gzsl",
        dict(
            model="mlp3",
            dataset="cub",
            seed=1,
            profile="quick",
            source="synthetic",
            overrides={"synthetic_scale": 0.1, "epochs": 2, "threads": 2, "flush_denormal": False},
        ),
    )
    for key in ("H", "ZSL", "AUSUC"):  # a quick run has few or no subnormals: the same scores
        assert on["metrics"][key] == pytest.approx(off["metrics"][key], abs=0.05), key

    # the off run's record as the format before (2) wrote it: migrated, same id, replays without flushing
    folder = tmp_path / "runs" / off["run_id"]
    old = {**off, "record_version": 2, "env": {k: v for k, v in off["env"].items() if k != "flush_denormal"}}
    (folder / "record.json").write_text(json.dumps(old))
    migrated = store.read_record(folder / "record.json")
    assert migrated["run_id"] == off["run_id"] and migrated["config"] == off["config"]
    assert migrated["env"]["flush_denormal"] is False and migrated["record_version"] == 3
    proc = zsl("run", "--from-record", folder / "record.json", "--results", tmp_path / "replay")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (rerun,) = (tmp_path / "replay" / "runs").iterdir()
    assert rerun.name == off["run_id"]
    replayed = json.loads((rerun / "record.json").read_text())
    assert replayed["metrics"] == off["metrics"] and replayed["env"]["flush_denormal"] is False


def test_a_sweep_plan_takes_it_at_two_threads(tmp_path):
    proc = zsl(
        "run",
        "--all",
        "--profile",
        "quick",
        "--only",
        "czsl",
        "--datasets",
        "cub",
        "--data",
        "synthetic",
        "--set",
        "flush_denormal=true",
        "--set",
        "threads=2",
        "--dry-run",
        "--results",
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "runs").exists()
