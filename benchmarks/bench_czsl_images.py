"""Training images per second of a CZSL image-track step against a bare ResNet-18 loop.

Arms, interleaved in this one process (order rotated every repetition), all at the CZSL thread
count (1 torch thread, as every CZSL run):

* ``czsl``: the image-track trainer (zslbench.train.czsl.train_task; method sequential with
  ClassNorm, batch 32) on one task of ``--steps`` batches: uint8 images gathered from the
  training array by index, normalised in channels_last, ResNet-18 -> 512-d, the attribute head
  on the task's classes, scaled cosine, masked cross-entropy, backward, SGD with the two
  groups (embedder and head).  The model and state are built once, outside the timing.
* ``bare``: a bare ResNet-18 forward / backward / SGD step (its fc with as many outputs as a
  task has classes, cross-entropy) on pre-made float tensors of the same shape, ``--steps``
  times: the ceiling of what the trainer can reach.  Both memory formats are timed
  (``bare[cl]`` channels_last, ``bare[nchw]`` contiguous); the goal compares with the faster.

Reported: images per second (median over repetitions, process CPU time and wall clock) and
the ratio czsl / bare; goal >= 0.9.  Then the evaluation throughput (eval-mode forward of the
snapshots) and a projected CPU time of a paper-profile CUB run (10 tasks x 10 epochs over
5,994 training images, 11 snapshots of 5,794 test images), for sequential+cn.

Usage: python benchmarks/bench_czsl_images.py [--image-size 256] [--steps 3] [--reps 3] [--clock cpu|wall]
"""

from __future__ import annotations

import argparse
import sys
import time

import _common  # noqa: F401  (puts the checkout first on sys.path)
import numpy as np
import torch
from _common import interleaved, load_text, machine_header, median, verdict
from torch.nn import functional as F

from zslbench.config import CZSLImageConfig
from zslbench.data.images.types import ImageData
from zslbench.models.resnet import ResNet18
from zslbench.train.czsl import CZSL_METHODS, _make_state, build_czsl_head, prepare_czsl, train_task
from zslbench.train.czsl_images import image_inputs, image_split_of

CZSL_THREADS = CZSLImageConfig.threads  # the default thread count of a CZSL run

GOAL = 0.9
BATCH = 32
CLASSES_PER_TASK = 16  # CUB has 20; 16 divides the batch (the head's cost is negligible either way)
CUB_TRAIN, CUB_TEST, CUB_TASKS, CUB_EPOCHS = 5994, 5794, 10, 10


def make_data(size: int, steps: int) -> ImageData:
    """2 tasks of 16 classes, exactly `steps` full batches of training images in task 1."""
    rng = np.random.default_rng(0)
    n_classes = 2 * CLASSES_PER_TASK
    per_class = 2 * (steps * BATCH // CLASSES_PER_TASK)  # half train, half test
    labels = np.repeat(np.arange(n_classes), per_class)
    images = rng.integers(0, 256, size=(labels.size, size, size, 3), dtype=np.uint8)
    rank = np.tile(np.arange(per_class), n_classes)
    return ImageData(
        name="cub",
        source="synthetic",
        images=images,
        labels=labels.astype(np.int64),
        attrs=rng.random((n_classes, 312)).astype(np.float32),
        splits={
            "train": np.flatnonzero(rank % 2 == 0),
            "val": np.zeros(0, dtype=np.int64),
            "test": np.flatnonzero(rank % 2 == 1),
        },
        class_names=tuple(map(str, range(n_classes))),
        fingerprint="bench",
        attr_source="random",
        image_size=size,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--image-size", type=int, default=256)
    ap.add_argument("--steps", type=int, default=3, help="training steps per timed call")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    args = ap.parse_args()
    machine_header("CZSL image track: trainer step vs bare ResNet-18 loop")
    torch.set_num_threads(CZSL_THREADS)
    size, steps = args.image_size, args.steps
    print(
        f"image size {size}, batch {BATCH}, {steps} steps per call, {args.reps} reps, "
        f"{CZSL_THREADS} torch thread(s); clock for the verdict: {args.clock}"
    )

    data = make_data(size, steps)
    cfg = CZSLImageConfig(
        tasks_cub=2,
        epochs_per_task=1,
        batch_size=BATCH,
        image_size=size,
        backbone_weights="none",
        inference_batch_size=64,
    )
    dev = torch.device("cpu")
    torch.manual_seed(1)
    setup = prepare_czsl(data, cfg, 1, image_split_of(data))
    inputs = image_inputs(cfg, None)(data, setup, cfg, dev)
    head = build_czsl_head(data.attr_dim, inputs.feature_dim, cfg, classnorm=True)
    state = _make_state(data, setup, cfg, head, dev, 1, inputs)
    method = CZSL_METHODS.get("sequential")(cfg, setup.settings)
    n_task = int(state.task_train_idx[0].numel())
    assert n_task == steps * BATCH, n_task

    def czsl() -> None:
        train_task(state, method, 0)

    bare_models = {}
    for fmt, mf in (("cl", torch.channels_last), ("nchw", torch.contiguous_format)):
        net = ResNet18(num_classes=CLASSES_PER_TASK).to(memory_format=mf)
        xs = [torch.randn(BATCH, 3, size, size).contiguous(memory_format=mf) for _ in range(steps)]
        ys = [torch.randint(0, CLASSES_PER_TASK, (BATCH,)) for _ in range(steps)]
        opt = torch.optim.SGD(net.parameters(), lr=5e-3)
        bare_models[fmt] = (net, xs, ys, opt)

    def bare(fmt: str):
        net, xs, ys, opt = bare_models[fmt]

        def run() -> None:
            net.train()
            for x, y in zip(xs, ys):
                loss = F.cross_entropy(net(x), y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()

        return run

    arms = {"czsl": czsl, "bare[cl]": bare("cl"), "bare[nchw]": bare("nchw")}
    for fn in arms.values():  # warm-up (allocator, oneDNN kernels)
        fn()
    wall, cpu = interleaved(arms, args.reps)
    images = steps * BATCH
    clock = cpu if args.clock == "cpu" else wall
    print(f"\nimages per second (median of {args.reps}; cpu = process CPU time, wall = wall clock):")
    ips = {}
    for name in arms:
        ips[name] = images / median(clock[name])
        print(
            f"  {name:<11} cpu {images / median(cpu[name]):7.2f} img/s   wall {images / median(wall[name]):7.2f} img/s"
        )
    best = max(("bare[cl]", "bare[nchw]"), key=lambda k: ips[k])
    ratio = ips["czsl"] / ips[best]
    print(f"ratio czsl / {best} ({args.clock}): {ratio:.3f}  (goal >= {GOAL}: {verdict(ratio >= GOAL)})")

    # evaluation throughput (the snapshots' eval-mode forward) and a projected paper-profile run
    eval_rows = inputs.eval_x[: 2 * cfg.inference_batch_size]
    state.encode_all(eval_rows[:8], 8)
    t0, c0 = time.perf_counter(), time.process_time()
    state.encode_all(eval_rows, cfg.inference_batch_size)
    eval_cpu, eval_wall = time.process_time() - c0, time.perf_counter() - t0
    eval_clock = eval_cpu if args.clock == "cpu" else eval_wall
    eval_ips = eval_rows.shape[0] / eval_clock
    print(
        f"evaluation forward: {eval_ips:.2f} img/s ({args.clock}; {eval_rows.shape[0]} images, batch "
        f"{cfg.inference_batch_size})"
    )
    train_s = CUB_TASKS * CUB_EPOCHS * (CUB_TRAIN / CUB_TASKS) / ips["czsl"]
    eval_s = (CUB_TASKS + 1) * CUB_TEST / eval_ips
    print(
        f"projected paper-profile CUB run, sequential+cn, image size {size}, {CZSL_THREADS} thread: "
        f"training {train_s / 3600:.1f} h + snapshots {eval_s / 3600:.1f} h = {(train_s + eval_s) / 3600:.1f} h "
        f"of {args.clock} time"
    )
    print(f"end: {load_text()}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
