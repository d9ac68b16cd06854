"""Checks of the CUDA path, to run on a machine with a GPU: one command, a few minutes.

    python benchmarks/gpu_check.py            # on the GPU (cuda, i.e. cuda:0)
    python benchmarks/gpu_check.py --quick    # fewer runs and steps

What it runs and checks (each check prints PASS or FAIL; the exit status is 1 when one failed):

1. one GZSL run (mlp3+cn on synthetic CUB, profile quick) on the GPU: the record names the
   canonical device (``cuda:0``), float32 (``matmul_tf32`` and ``cudnn_tf32`` off) and
   deterministic algorithms, finite metrics, the caller's torch switches restored afterwards;
   the same run on the CPU for comparison (the differences are printed, not checked);
2. one image-track run (synthetic CUB images, profile quick: 32 px, a randomly initialised
   ResNet-18, one epoch per task) with each of the five CZSL methods, with ClassNorm: the
   record's device and finite metrics; then sequential with ``amp=bf16`` and with
   ``cuda_tf32=true`` (which must be recorded, and give another run id);
3. ``zslbench run --all`` twice into fresh folders, ``--jobs 1`` and ``--jobs 2`` (GZSL and
   image-track runs on the GPU): the same run ids with bit-identical metrics;
4. timing (printed, not checked): image-track training steps through the trainer (sequential+cn,
   batch 32, ``--image-size`` px, ``--steps`` steps) in float32, in TF32 and under bfloat16
   autocast, as images per second (median of ``--reps``), and the evaluation forward.

Without CUDA it says so and exits 0 without checking anything.  ``--device cpu`` runs the same
steps on the CPU as a rehearsal of the script itself (the GPU-only checks are left out and the
output says so): it checks nothing about a GPU.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401  (puts the checkout first on sys.path)
import numpy as np
import torch
from _common import ROOT, machine_header, median, verdict

from zslbench.devices import canonical_device
from zslbench.numerics import cuda_reproducibility, numeric_context

METHODS = ("sequential", "multitask", "ewc-online", "mas-online", "agem")


class Checks:
    def __init__(self) -> None:
        self.results: list[tuple[str, bool]] = []

    def __call__(self, name: str, ok: bool, detail: str = "") -> bool:
        self.results.append((name, bool(ok)))
        print(f"  [{verdict(ok)}] {name}{f': {detail}' if detail else ''}")
        sys.stdout.flush()
        return bool(ok)


def switches() -> tuple:
    cudnn = torch.backends.cudnn
    return (
        torch.are_deterministic_algorithms_enabled(),
        cudnn.benchmark,
        cudnn.deterministic,
        torch.backends.cuda.matmul.allow_tf32,
        cudnn.allow_tf32,
    )


def finite(metrics: dict) -> bool:
    return all(math.isfinite(v) for v in metrics.values() if isinstance(v, (int, float)))


def check_record(check: Checks, what: str, rec: dict, dev: torch.device, tf32: bool = False) -> None:
    env, num = rec["env"], rec["env"].get("numerics", {})
    check(f"{what}: the record's device is {dev}", env.get("device") == str(dev), str(env.get("device")))
    check(f"{what}: finite metrics", finite(rec["metrics"]))
    if dev.type == "cuda":
        check(
            f"{what}: deterministic algorithms, no cuDNN autotuning",
            num.get("deterministic_algorithms") is True
            and num.get("cudnn_deterministic") is True
            and num.get("cudnn_benchmark") is False,
        )
        check(
            f"{what}: TF32 {'on' if tf32 else 'off'} (matmul and cuDNN)",
            num.get("matmul_tf32") is tf32 and num.get("cudnn_tf32") is tf32,
            f"matmul_tf32={num.get('matmul_tf32')}, cudnn_tf32={num.get('cudnn_tf32')}",
        )


def gzsl_step(check: Checks, dev: torch.device, tmp: Path) -> None:
    from zslbench.tracks import execute_run, get_track

    def run_gzsl(model, dataset, **kw):
        return execute_run(get_track("gzsl"), model, dataset, **kw)

    print("\n1. GZSL: mlp3+cn on synthetic CUB, profile quick")
    before = switches()
    t0 = time.perf_counter()
    gpu = run_gzsl(
        "mlp3+cn",
        "cub",
        seed=1,
        profile="quick",
        source="synthetic",
        device=str(dev),
        results=tmp / "gzsl-dev",
        progress=False,
    ).record
    print(f"  {dev}: {time.perf_counter() - t0:.1f} s; " + _metrics_text(gpu, ("S", "U", "H", "AUSUC")))
    check_record(check, "GZSL", gpu, dev)
    check("GZSL: the caller's torch switches restored after the run", switches() == before)
    if dev.type == "cuda":
        t0 = time.perf_counter()
        cpu = run_gzsl(
            "mlp3+cn",
            "cub",
            seed=1,
            profile="quick",
            source="synthetic",
            device="cpu",
            results=tmp / "gzsl-cpu",
            progress=False,
        ).record
        print(f"  cpu: {time.perf_counter() - t0:.1f} s; " + _metrics_text(cpu, ("S", "U", "H", "AUSUC")))
        diffs = {k: abs(gpu["metrics"][k] - cpu["metrics"][k]) for k in ("S", "U", "H", "AUSUC")}
        print("  |GPU - CPU| (not checked): " + ", ".join(f"{k} {v:.4f}" for k, v in diffs.items()))


def _metrics_text(rec: dict, keys) -> str:
    return ", ".join(f"{k}={rec['metrics'][k]:.3f}" for k in keys)


def images_step(check: Checks, dev: torch.device, tmp: Path, methods) -> None:
    from zslbench.tracks import execute_run, get_track

    def run_czsl_images(method, **kw):
        return execute_run(get_track("czsl-images"), method, **kw)

    print("\n2. image track: synthetic CUB images, profile quick (32 px, random ResNet-18), with ClassNorm")
    common = dict(
        dataset="cub",
        seed=1,
        classnorm=True,
        profile="quick",
        source="synthetic",
        device=str(dev),
        results=tmp / "images",
        progress=False,
    )
    for method in methods:
        t0 = time.perf_counter()
        out = run_czsl_images(method, **common)
        print(
            f"  {method}: {time.perf_counter() - t0:.1f} s, run {out.run_id}; "
            + _metrics_text(out.record, ("mAUC", "mH", "mJA", "forgetting"))
        )
        check_record(check, f"image track {method}", out.record, dev)
    plain = run_czsl_images("sequential", **common)
    bf16 = run_czsl_images("sequential", **common, overrides={"amp": "bf16"})
    print(f"  sequential amp=bf16: run {bf16.run_id}; " + _metrics_text(bf16.record, ("mAUC", "mH", "mJA")))
    check_record(check, "image track sequential, amp=bf16", bf16.record, dev)
    if dev.type != "cuda":
        print("  (cuda_tf32 is refused on a CPU: not run in the rehearsal)")
        return
    tf32 = run_czsl_images("sequential", **common, overrides={"cuda_tf32": True})
    print(f"  sequential cuda_tf32=true: run {tf32.run_id}; " + _metrics_text(tf32.record, ("mAUC", "mH", "mJA")))
    check_record(check, "image track sequential, cuda_tf32=true", tf32.record, dev, tf32=True)
    check(
        "cuda_tf32=true: in the record's config and another run id",
        tf32.record["config"].get("cuda_tf32") is True
        and tf32.run_id != plain.run_id
        and "cuda_tf32" not in plain.record["config"],
    )


def jobs_step(check: Checks, dev: torch.device, tmp: Path, quick: bool) -> None:
    print("\n3. zslbench run --all with --jobs 1 and --jobs 2 (fresh folders)")
    seeds = "1" if quick else "1,2"
    metrics = {}
    for jobs in (1, 2):
        folder = tmp / f"jobs{jobs}"
        cmd = [
            sys.executable,
            "-m",
            "zslbench",
            "run",
            "--all",
            "--profile",
            "quick",
            "--device",
            str(dev),
            "--data",
            "synthetic",
            "--models",
            "mlp3+cn,linear",
            "--methods",
            "sequential,agem",
            "--tracks",
            "images",
            "--datasets",
            "cub",
            "--seeds",
            seeds,
            "--jobs",
            str(jobs),
            "--results",
            str(folder),
        ]
        t0 = time.perf_counter()
        proc = subprocess.run(
            cmd, cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}
        )
        seconds = time.perf_counter() - t0
        if not check(
            f"--jobs {jobs}: the sweep finished",
            proc.returncode == 0,
            f"{seconds:.1f} s" if proc.returncode == 0 else proc.stderr.strip()[-800:],
        ):
            return
        metrics[jobs] = {}
        for rec_path in sorted(folder.glob("runs/*/record.json")):
            rec = json.loads(rec_path.read_text())
            metrics[jobs][rec["run_id"]] = (rec["env"].get("device"), rec["metrics"])
    same_ids = set(metrics[1]) == set(metrics[2]) and len(metrics[1]) > 0
    check("--jobs 1 and --jobs 2: the same run ids", same_ids, f"{len(metrics[1])} and {len(metrics[2])} runs")
    if same_ids:
        differ = [rid for rid in metrics[1] if metrics[1][rid][1] != metrics[2][rid][1]]
        check("--jobs 1 and --jobs 2: bit-identical metrics", not differ, f"differ: {differ}" if differ else "")
        devices = {d for m in metrics.values() for d, _ in m.values()}
        check(f"--jobs 1 and --jobs 2: every run on {dev}", devices == {str(dev)}, str(sorted(devices)))


def timing_step(dev: torch.device, size: int, steps: int, reps: int) -> None:
    from zslbench.config import CZSLImageConfig
    from zslbench.data.images.types import ImageData
    from zslbench.train.czsl import CZSL_METHODS, _make_state, build_czsl_head, prepare_czsl, train_task
    from zslbench.train.czsl_images import image_inputs, image_split_of

    batch, classes = 32, 16
    print(
        f"\n4. timing (not checked): trainer steps, sequential+cn, batch {batch}, {size} px, {steps} steps, "
        f"median of {reps}"
    )
    rng = np.random.default_rng(0)
    per_class = 2 * (steps * batch // classes)
    labels = np.repeat(np.arange(2 * classes), per_class)
    rank = np.tile(np.arange(per_class), 2 * classes)
    data = ImageData(
        name="cub",
        source="synthetic",
        images=rng.integers(0, 256, (labels.size, size, size, 3), dtype=np.uint8),
        labels=labels.astype(np.int64),
        attrs=rng.random((2 * classes, 312)).astype(np.float32),
        splits={
            "train": np.flatnonzero(rank % 2 == 0),
            "val": np.zeros(0, dtype=np.int64),
            "test": np.flatnonzero(rank % 2 == 1),
        },
        class_names=tuple(map(str, range(2 * classes))),
        fingerprint="gpu-check",
        attr_source="random",
        image_size=size,
    )
    arms = [("float32", "off", False), ("bf16 autocast", "bf16", False)]
    if dev.type == "cuda":
        arms.insert(1, ("TF32", "off", True))
    rates = {}
    for name, amp, tf32 in arms:
        cfg = CZSLImageConfig(
            tasks_cub=2,
            epochs_per_task=1,
            batch_size=batch,
            image_size=size,
            backbone_weights="none",
            inference_batch_size=64,
            amp=amp,
            cuda_tf32=tf32,
        )
        with numeric_context(1, str(dev), tf32):
            torch.manual_seed(1)
            setup = prepare_czsl(data, cfg, 1, image_split_of(data))
            inputs = image_inputs(cfg, None)(data, setup, cfg, dev)
            head = build_czsl_head(data.attr_dim, inputs.feature_dim, cfg, classnorm=True).to(dev)
            state = _make_state(data, setup, cfg, head, dev, 1, inputs)
            method = CZSL_METHODS.get("sequential")(cfg, setup.settings)
            n = int(state.task_train_idx[0].numel())
            train_task(state, method, 0)  # warm-up: allocator, kernels
            times = []
            for _ in range(reps):
                _sync(dev)
                t0 = time.perf_counter()
                row = train_task(state, method, 0)
                _sync(dev)
                times.append(time.perf_counter() - t0)
            eval_rows = inputs.eval_x
            state.encode_all(eval_rows[:64], 64)
            _sync(dev)
            t0 = time.perf_counter()
            state.encode_all(eval_rows, 64)
            _sync(dev)
            eval_s = time.perf_counter() - t0
        rates[name] = n / median(times)
        print(
            f"  {name:<14} training {rates[name]:9.1f} img/s ({n} images per task, loss {row['mean_loss']:.3f}); "
            f"evaluation forward {eval_rows.shape[0] / eval_s:9.1f} img/s"
        )
    base = rates["float32"]
    print("  relative to float32: " + ", ".join(f"{k} {v / base:.2f}x" for k, v in rates.items() if k != "float32"))


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cuda", help="cuda, cuda:N, or cpu for a rehearsal of the script")
    ap.add_argument("--quick", action="store_true", help="two image-track methods, one seed per sweep, 4 steps")
    ap.add_argument("--image-size", type=int, default=256, help="timing: image size (default 256, the paper's)")
    ap.add_argument("--steps", type=int, default=None, help="timing: training steps per repetition (default 20)")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    machine_header("CUDA path checks")
    if args.device != "cpu" and not torch.cuda.is_available():
        print(
            f"no CUDA: torch {torch.__version__} (CUDA build: {torch.version.cuda or 'none'}) sees no usable "
            "GPU; nothing was checked"
        )
        return 0
    dev = canonical_device(args.device)
    if dev.type == "cuda":
        for key, value in cuda_reproducibility(os.environ)["set_env"].items():
            os.environ[key] = value  # before the first cuBLAS handle (the sweeps' workers inherit it)
        props = torch.cuda.get_device_properties(dev)
        print(
            f"device {dev}: {props.name}, capability {props.major}.{props.minor}, "
            f"{props.total_memory / 2**30:.1f} GiB; CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}"
        )
    else:
        print("REHEARSAL on the CPU: the steps run, the GPU-only checks are left out; nothing here is a GPU check")
    steps = args.steps or (4 if args.quick else 20)
    check = Checks()
    with tempfile.TemporaryDirectory(prefix="zslbench-gpu-check-") as tmp:
        gzsl_step(check, dev, Path(tmp))
        images_step(check, dev, Path(tmp), METHODS[:2] if args.quick else METHODS)
        jobs_step(check, dev, Path(tmp), args.quick)
    timing_step(dev, args.image_size, steps, args.reps)
    failed = [name for name, ok in check.results if not ok]
    print(
        f"\n{len(check.results) - len(failed)} of {len(check.results)} checks passed"
        + (f"; FAILED: {'; '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
