"""The device decisions of a run, checked without a GPU (zslbench.devices, zslbench.numerics).

What a CUDA run depends on is checked here through the decisions themselves and through what
torch reports about CUDA (monkeypatched): the canonical device (with its index), which batches
are pinned and copied, the TF32 and determinism switches applied inside a run's numeric context
and restored after it, what the record says about them, and the ``cuda_tf32`` option's place
in run ids (off: absent, so every CPU run id is what it was; on: refused on a CPU).
benchmarks/gpu_check.py runs the same paths on a real GPU.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from zslbench import environment, numerics, store
from zslbench.applicability import acts, czsl_traits, gzsl_traits, refuse_inactive, set_accepted
from zslbench.config import CZSLConfig, CZSLImageConfig, GZSLConfig
from zslbench.devices import (
    COPY,
    NO_COPY,
    PIN_AND_COPY,
    check_cuda_tf32,
    parse_device,
    tf32_settings,
    transfer,
)
from zslbench.errors import ConfigError
from zslbench.train.gzsl import resolve_device

CUDA0, CUDA1, CPU = torch.device("cuda", 0), torch.device("cuda", 1), torch.device("cpu")


@pytest.fixture
def fake_gpus(monkeypatch):
    """torch reports `n` visible GPUs (the current one: cuda:0); nothing is run on them."""

    def install(n: int = 1, current: int = 0):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: n > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: n)
        monkeypatch.setattr(torch.cuda, "current_device", lambda: current)

    return install


@pytest.fixture
def torch_switches(monkeypatch):
    """The global switches a CUDA numeric context touches: set to torch's defaults for the test
    (cuDNN may use TF32, matmuls may not) and put back afterwards, whatever the test does."""
    cudnn, matmul = torch.backends.cudnn, torch.backends.cuda.matmul
    saved = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        cudnn.benchmark,
        cudnn.deterministic,
        matmul.allow_tf32,
        cudnn.allow_tf32,
    )
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)  # the context sets it: undone after
    torch.use_deterministic_algorithms(False)
    cudnn.benchmark, cudnn.deterministic = False, False
    matmul.allow_tf32, cudnn.allow_tf32 = False, True
    yield
    torch.use_deterministic_algorithms(saved[0], warn_only=saved[1])
    cudnn.benchmark, cudnn.deterministic = saved[2], saved[3]
    matmul.allow_tf32, cudnn.allow_tf32 = saved[4], saved[5]


def switches() -> dict:
    cudnn = torch.backends.cudnn
    return {
        "deterministic": torch.are_deterministic_algorithms_enabled(),
        "cudnn_benchmark": cudnn.benchmark,
        "cudnn_deterministic": cudnn.deterministic,
        "matmul_tf32": torch.backends.cuda.matmul.allow_tf32,
        "cudnn_tf32": cudnn.allow_tf32,
        "matmul_precision": torch.get_float32_matmul_precision(),
    }


# --------------------------------------------------------------------------- the canonical device
def test_the_device_text_gives_one_device_with_its_index():
    assert parse_device("cpu", False, 0) == CPU
    assert parse_device(" CPU ", True, 2) == CPU
    assert parse_device("cuda", True, 1) == CUDA0 and parse_device("cuda", True, 1).index == 0
    assert parse_device("cuda", True, 2, current=1) == CUDA1  # the current device, as torch.cuda does
    assert parse_device("cuda:1", True, 2) == CUDA1
    assert parse_device("cuda:0", True, 1) == CUDA0


@pytest.mark.parametrize(
    "spec, available, count, message",
    [
        ("cuda", False, 0, "CUDA is not available"),
        ("cuda:0", True, 0, "CUDA is not available"),
        ("cuda:2", True, 2, "2 GPU"),
        ("cuda:x", True, 1, "cuda:N"),
        ("gpu", True, 1, "expected cpu or cuda"),
        ("mps", False, 0, "expected cpu or cuda"),
    ],
)
def test_a_device_that_is_not_there_is_one_clear_error(spec, available, count, message):
    with pytest.raises(ConfigError, match=message) as exc:
        parse_device(spec, available, count)
    assert "\n" not in str(exc.value)


def test_the_run_s_device_is_the_one_a_tensor_on_the_gpu_reports(fake_gpus):
    """A tensor moved to "cuda" reports cuda:0; the run's device must compare equal with it,
    or every batch looks as if it were somewhere else."""
    fake_gpus(1)
    assert resolve_device("cuda") == CUDA0
    assert resolve_device("cuda:0") == CUDA0
    assert resolve_device("cpu") == CPU
    fake_gpus(2, current=1)
    assert resolve_device("cuda") == CUDA1
    with pytest.raises(ConfigError, match="2 GPU"):
        resolve_device("cuda:5")
    fake_gpus(0)
    with pytest.raises(ConfigError, match="CUDA is not available"):
        resolve_device("cuda")


# --------------------------------------------------------------------------- pinning and copies
@pytest.mark.parametrize(
    "source, target, expected",
    [
        (CPU, CPU, NO_COPY),
        (CUDA0, CUDA0, NO_COPY),
        (CPU, CUDA0, PIN_AND_COPY),  # only a CPU tensor bound for a GPU is pinned
        (CUDA0, CPU, COPY),
        (CUDA0, CUDA1, COPY),
        (torch.device("meta"), CPU, COPY),
    ],
)
def test_only_a_cpu_tensor_bound_for_a_gpu_is_pinned(source, target, expected):
    assert transfer(source, target) == expected


class StandIn:
    """What ImagePreprocess sees of a uint8 batch on `device`, without a GPU: pinning a tensor
    that is not on the CPU raises, as torch does; copies are recorded."""

    def __init__(self, rows: torch.Tensor, device: torch.device, pinned: bool = False) -> None:
        self.rows, self.device, self.pinned, self.calls = rows, device, pinned, []

    def is_pinned(self) -> bool:
        return self.pinned

    def pin_memory(self) -> StandIn:
        self.calls.append("pin")
        if self.device.type != "cpu":
            raise RuntimeError("cannot pin 'torch.cuda.ByteTensor' only dense CPU tensors can be pinned")
        copy = StandIn(self.rows, self.device, pinned=True)
        copy.calls = self.calls
        return copy

    def to(self, device, non_blocking=False) -> torch.Tensor:
        self.calls.append(("to", torch.device(device), non_blocking))
        return self.rows  # the copy's values (the arithmetic below stays on the CPU)

    def permute(self, *dims) -> torch.Tensor:
        self.calls.append("used in place")
        return self.rows.permute(*dims)


def preprocess_for(device: torch.device):
    """An ImagePreprocess whose target is `device` (its constants stay on the CPU, where the
    arithmetic of the stand-in batches runs)."""
    from zslbench.train.czsl_images import ImagePreprocess

    prep = ImagePreprocess(CPU)
    prep.device = device
    return prep


def test_a_batch_already_on_the_gpu_is_neither_pinned_nor_copied(fake_gpus):
    fake_gpus(1)
    rows = torch.randint(0, 256, (2, 4, 4, 3), dtype=torch.uint8)
    on_gpu = StandIn(rows, CUDA0)  # what index_select on the GPU-resident training images gives
    out = preprocess_for(resolve_device("cuda"))(on_gpu)
    assert on_gpu.calls == ["used in place"]
    expected = preprocess_for(CPU)(rows)
    assert torch.equal(out, expected)


def test_a_cpu_batch_for_the_gpu_goes_through_pinned_memory_once(fake_gpus):
    fake_gpus(1)
    rows = torch.randint(0, 256, (2, 4, 4, 3), dtype=torch.uint8)
    prep = preprocess_for(resolve_device("cuda"))
    plain = StandIn(rows, CPU)
    prep(plain)
    assert plain.calls == ["pin", ("to", CUDA0, True)]  # the pinned copy goes, asynchronously
    pinned = StandIn(rows, CPU, pinned=True)  # evaluation batches: slices of a pinned tensor
    prep(pinned)
    assert pinned.calls == [("to", CUDA0, True)]


# --------------------------------------------------------------------------- TF32 and determinism
def test_tf32_is_off_on_cuda_unless_asked_for_and_refused_on_a_cpu():
    assert tf32_settings("cuda:0", False) == {"matmul_tf32": False, "cudnn_tf32": False}
    assert tf32_settings(CUDA1, True) == {"matmul_tf32": True, "cudnn_tf32": True}
    assert tf32_settings("cpu", False) == {}
    with pytest.raises(ConfigError, match="CUDA runs only"):
        tf32_settings("cpu", True)
    check_cuda_tf32("cuda:0", True)
    check_cuda_tf32("cpu", False)
    plan = numerics.cuda_reproducibility({})
    assert plan["matmul_tf32"] is False and plan["cudnn_tf32"] is False
    assert numerics.cuda_reproducibility({}, cuda_tf32=True)["cudnn_tf32"] is True


@pytest.mark.parametrize("tf32", [False, True])
def test_a_cuda_context_applies_determinism_and_tf32_and_restores_them(torch_switches, tf32):
    before = switches()
    assert before["cudnn_tf32"] is True  # torch's default: convolutions in TF32
    with numerics.numeric_context(1, "cuda:0", cuda_tf32=tf32) as applied:
        inside = switches()
        import os

        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] in numerics.CUBLAS_REPRODUCIBLE
    assert inside["deterministic"] and inside["cudnn_deterministic"] and not inside["cudnn_benchmark"]
    assert inside["matmul_tf32"] is tf32 and inside["cudnn_tf32"] is tf32
    assert applied["cuda"]["matmul_tf32"] is tf32 and applied["cuda"]["cudnn_tf32"] is tf32
    assert switches() == before


def test_a_cpu_context_leaves_the_cuda_switches_alone_and_refuses_tf32(torch_switches):
    before = switches()
    with numerics.numeric_context(1, "cpu") as applied:
        assert switches() == before
    assert "cuda" not in applied
    with pytest.raises(ConfigError, match="CUDA runs only"):
        with numerics.numeric_context(1, "cpu", cuda_tf32=True):
            pytest.fail("a CPU run with cuda_tf32 on must not start")
    assert switches() == before


def test_the_record_says_what_a_cuda_run_trained_under(torch_switches, fake_gpus, monkeypatch):
    fake_gpus(1)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=None: f"Test GPU {index}")
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda index=None: (9, 0))
    monkeypatch.setattr(torch.version, "cuda", "12.8")
    with numerics.numeric_context(1, "cuda:0"):
        env = store.environment(str(resolve_device("cuda")))
    num = env["numerics"]
    assert env["device"] == "cuda:0" and num["gpu"] == "Test GPU 0" and num["gpu_capability"] == "9.0"
    assert num["matmul_tf32"] is False and num["cudnn_tf32"] is False
    assert num["deterministic_algorithms"] is True and num["cudnn_deterministic"] is True
    assert num["cudnn_benchmark"] is False
    assert num["env_vars"]["CUBLAS_WORKSPACE_CONFIG"] in numerics.CUBLAS_REPRODUCIBLE
    flat = environment.flat_env(env)
    assert flat["cudnn_tf32"] is False and flat["device"] == "cuda:0"
    other = {**env, "numerics": {**num, "cudnn_tf32": True}}
    assert [d[0] for d in environment.env_differences(env, other)] == ["cudnn_tf32"]


# --------------------------------------------------------------------------- cuda_tf32 and run ids
# Run ids computed before the option existed: a CPU run (any run with cuda_tf32 off) keeps its id.
PINNED_IDS = [
    ("gzsl", dict(model="mlp3+cn", dataset="cub", seed=1, source="synthetic"), "d5a10cd75f0478f4"),
    (
        "gzsl",
        dict(model="linear", dataset="sun", seed=3, profile="quick", source="synthetic", overrides={"threads": 2}),
        "0c649ecdb3aaee94",
    ),
    ("czsl", dict(method="agem", dataset="cub", seed=1, classnorm=True, source="synthetic"), "af367c9c3cffab6b"),
    (
        "czsl",
        dict(method="ewc-online", dataset="sun", seed=2, classnorm=False, profile="quick", source="synthetic"),
        "77fe70b32dfec63e",
    ),
    (
        "images",
        dict(method="mas-online", dataset="cub", seed=1, classnorm=True, profile="quick", source="synthetic"),
        "f95d617e4f420575",
    ),
    (
        "images",
        dict(
            method="sequential",
            dataset="sun",
            seed=1,
            classnorm=False,
            source="synthetic",
            overrides={"backbone_weights": "none", "amp": "bf16"},
        ),
        "6bf9e9346fab4311",
    ),
]


def pinned_run_id(kind: str, kwargs: dict) -> str:
    from zslbench.tracks import get_track, planned_run_id

    kwargs = dict(kwargs)
    track = get_track({"gzsl": "gzsl", "czsl": "czsl-features", "images": "czsl-images"}[kind])
    name = kwargs.pop("model", None) or kwargs.pop("method")
    return planned_run_id(track, name, **kwargs)


@pytest.mark.parametrize(
    "kind, kwargs, expected", PINNED_IDS, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(PINNED_IDS)]
)
def test_run_ids_with_cuda_tf32_off_are_unchanged(kind, kwargs, expected):
    kwargs = {**kwargs, "device": "cuda:0"}  # a CUDA run: flush_denormal off (zslbench.devices.for_device)
    assert pinned_run_id(kind, kwargs) == expected
    off = {**kwargs, "overrides": {**kwargs.get("overrides", {}), "cuda_tf32": False}}
    assert pinned_run_id(kind, off) == expected
    on = {**kwargs, "overrides": {**kwargs.get("overrides", {}), "cuda_tf32": True}}
    assert pinned_run_id(kind, on) != expected  # a GPU run in TF32 is another run


@pytest.mark.parametrize(
    "kind, cls, traits",
    [
        ("gzsl", GZSLConfig, gzsl_traits("mlp3+cn", "cub", "synthetic")),
        ("czsl-features", CZSLConfig, czsl_traits("agem", True, "cub", "synthetic")),
        ("czsl-images", CZSLImageConfig, czsl_traits("agem", True, "cub", "synthetic")),
    ],
)
def test_cuda_tf32_acts_only_when_on_and_an_explicit_off_is_accepted(kind, cls, traits):
    from zslbench.applicability import active_config

    off, on = cls(), cls(cuda_tf32=True)
    assert "cuda_tf32" not in active_config(kind, traits, off)
    assert active_config(kind, traits, on)["cuda_tf32"] is True
    assert not acts(kind, "cuda_tf32", traits, off) and acts(kind, "cuda_tf32", traits, on)
    assert set_accepted(kind, "cuda_tf32", traits, off) and set_accepted(kind, "cuda_tf32", traits, on)
    refuse_inactive(kind, traits, off, ["cuda_tf32"])  # --set cuda_tf32=false: the run without it
    refuse_inactive(kind, traits, on, ["cuda_tf32"])


@pytest.mark.parametrize(
    "args",
    [
        ["--model", "linear", "--dataset", "cub"],
        ["--czsl", "--method", "agem", "--dataset", "cub"],
        ["--czsl", "--track", "images", "--method", "agem", "--dataset", "cub", "--profile", "quick"],
    ],
)
def test_cli_refuses_cuda_tf32_on_a_cpu_before_any_work(args, tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "zslbench",
            "run",
            *args,
            "--data",
            "synthetic",
            "--device",
            "cpu",
            "--results",
            str(tmp_path / "results"),
            "--set",
            "cuda_tf32=true",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stderr
    assert "cuda_tf32=true acts on CUDA runs only" in proc.stderr
    assert not (tmp_path / "results" / "runs").exists()


def test_a_sweep_refuses_cuda_tf32_on_a_cpu_and_accepts_it_off(tmp_path):
    from zslbench.sweep import plan_sweep

    common = dict(models=["linear"], datasets=["cub"], seeds=[1], only="gzsl", source="synthetic", results=tmp_path)
    with pytest.raises(ConfigError, match="CUDA runs only"):
        plan_sweep("quick", device="cpu", sets=["cuda_tf32=true"], **common)
    plain = plan_sweep("quick", device="cpu", **common)
    off = plan_sweep("quick", device="cpu", sets=["cuda_tf32=false"], **common)
    assert [j.run_id for j in off.jobs] == [j.run_id for j in plain.jobs]
