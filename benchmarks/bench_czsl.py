"""Per-task training time of each CZSL method on full-size synthetic CUB, measured side by side.

What is timed: for each method (sequential, multitask, ewc-online, mas-online, agem; with
ClassNorm; `paper` profile: 10 epochs per task, batch 32, CUB's 10 tasks of 20 classes) one
"arm" builds the model and training state exactly as zslbench.train.czsl.train_czsl does
(prepare_czsl, build_czsl_head, the trainer's state, seed 1) and trains tasks 1..K
(K = --tasks, default 3) one after another with zslbench.train.czsl.train_task.  Each task
is timed on its own: the method's before_task hook (EWC/MAS importances, from task 2 on),
all its steps (the EWC/MAS penalty, A-GEM's reference gradient and projection, from task 2
on) and its after_task hook (A-GEM's memory update).  The T+1 evaluation snapshots of a full
run are NOT timed (they cost the same for every method), nor are the set-up and the metrics.

The arms run interleaved in this one process (A B C D E, order rotated each repetition), all
with CZSL_THREADS (1) torch threads, like every CZSL run.  Reported: per method and task the
median over repetitions, wall clock and CPU time of the process; the goal
compares the mean of the tasks >= 2 (where EWC/MAS/A-GEM do their extra work) with
Sequential's.  Multitask trains on all tasks <= t (capped at 200 steps), so its cost grows
with t; it is reported but not part of the goal.  A sixth arm, agem[seen], is A-GEM with the
non-default agem_ref_attrs="seen", for comparison only.  Last, the script prints the counted
matrix-product FLOPs of a training step and of A-GEM's reference pass (step_flops): the floor
of A-GEM's ratio when both are computed exactly.

Usage: python benchmarks/bench_czsl.py [--quick] [--reps N] [--tasks K] [--clock cpu|wall]
       [--profile METHOD]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time

import _common  # noqa: F401  (puts the checkout first on sys.path)
import numpy as np
import torch
from _common import interleaved, load_text, machine_header, median, verdict

from zslbench.config import CZSLConfig
from zslbench.data import load_dataset
from zslbench.tracks import make_config
from zslbench.train.czsl import CZSL_METHODS, _make_state, build_czsl_head, prepare_czsl, train_task
from zslbench.train.gzsl import resolve_device, torch_threads

CZSL_THREADS = CZSLConfig.threads  # the default thread count of a CZSL run

METHODS = ("sequential", "multitask", "ewc-online", "mas-online", "agem")
# reported beside the others, not part of the goal: A-GEM with the non-default
# agem_ref_attrs="seen" (the reference pass's CN statistics over the seen classes only)
AGEM_SEEN = "agem[seen]"
GOAL_METHODS = ("ewc-online", "mas-online", "agem")
GOAL = 2.0


def step_flops(offsets: list[int], t: int, cfg, attr_dim: int, feat_dim: int, ref_cols: int | None) -> tuple[int, int]:
    """Matrix-product FLOPs (2 per multiply-add) of one training step of task t (0-based) and of
    one A-GEM reference pass (0 at t = 0): (main, reference).

    main: the head on the classes of tasks <= t (hi rows): layer 1 forward + weight gradient,
          last layer forward + weight gradient + input gradient, logits forward + gradient
          w.r.t. the prototypes (batch B).
    reference: layer 1 (forward + weight gradient) on ref_cols classes (all classes for the
          default agem_ref_attrs="all_code", the seen ones for "seen"), the last layer only on
          the previous tasks' classes (the others are masked), logits of 128 memory items."""
    H, B = cfg.hidden_dim, cfg.batch_size
    hi = offsets[t + 1]
    main = 2 * hi * attr_dim * H * 2 + 2 * hi * H * feat_dim * 3 + 2 * B * feat_dim * hi * 2
    if t == 0:
        return main, 0
    keep, n = offsets[t], ref_cols if ref_cols is not None else hi
    R = cfg.agem_ref_batch
    ref = 2 * n * attr_dim * H * 2 + 2 * keep * H * feat_dim * 3 + 2 * R * feat_dim * keep * 2
    return main, ref


def make_arm(data, cfg, method: str, n_tasks: int, seed: int, out: dict):
    """A zero-argument callable that trains tasks 1..n_tasks of `method` from scratch and
    appends each task's (wall, cpu) seconds to out[method][task]."""

    impl_name = "agem" if method == AGEM_SEEN else method
    if method == AGEM_SEEN:
        cfg = dataclasses.replace(cfg, agem_ref_attrs="seen")

    def arm():
        torch.manual_seed(seed)
        setup = prepare_czsl(data, cfg, seed)
        model = build_czsl_head(data.attr_dim, data.feature_dim, cfg, classnorm=True)
        state = _make_state(data, setup, cfg, model, resolve_device("cpu"), seed)
        impl = CZSL_METHODS.get(impl_name)(cfg, setup.settings)
        for t in range(n_tasks):
            w0, c0 = time.perf_counter(), time.process_time()
            row = train_task(state, impl, t)
            c = time.process_time() - c0
            w = time.perf_counter() - w0
            out[method][t].append((w, c))
            out["iters"][method][t] = row["iterations"]

    return arm


def profile_method(data, cfg, method: str, n_tasks: int, seed: int) -> str:
    """torch.profiler table (self CPU time) of `method` over tasks 1..n_tasks."""
    from torch.profiler import ProfilerActivity, profile

    out = {method: [[] for _ in range(n_tasks)], "iters": {method: [0] * n_tasks}}
    arm = make_arm(data, cfg, method, n_tasks, seed, out)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        arm()
    return prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=18)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke version: 15%% of the images, 1 epoch per task, 1 rep")
    ap.add_argument("--reps", type=int, default=None, help="repetitions per arm (default 3; quick 1)")
    ap.add_argument("--tasks", type=int, default=3, help="tasks timed per arm, 1..K (default 3, >= 2)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--clock",
        choices=("cpu", "wall"),
        default="cpu",
        help="clock for the verdict (default cpu: 1 torch thread, see benchmarks/README.md)",
    )
    ap.add_argument(
        "--profile",
        choices=METHODS,
        action="append",
        default=[],
        help="also print a torch.profiler table of this method (repeatable)",
    )
    args = ap.parse_args(argv)
    if args.tasks < 2:
        ap.error("--tasks: must be >= 2 (EWC/MAS/A-GEM do their extra work from task 2 on)")
    reps = args.reps or (1 if args.quick else 3)
    overrides = {"epochs_per_task": 1, "synthetic_scale": 0.15} if args.quick else {}
    cfg = make_config("czsl-features", "paper", overrides)

    machine_header("CZSL per-task time: 5 methods with ClassNorm, paper profile, synthetic CUB")
    data = load_dataset("cub", "synthetic", scale=cfg.synthetic_scale, synthetic_seed=cfg.synthetic_seed)
    setup = prepare_czsl(data, cfg, args.seed)
    n_tasks_all = setup.settings["num_tasks"]
    if args.tasks > n_tasks_all:
        ap.error(f"--tasks: CUB has {n_tasks_all} tasks")
    train_labels = data.labels[setup.images.train]
    per_task = [int(np.isin(train_labels, cls).sum()) for cls in setup.tasks]
    print(
        f"data: {data.n_classes} classes, {data.attr_dim} attributes, {data.feature_dim}-d features, "
        f"{len(setup.images.train)} training images; {n_tasks_all} tasks; training images of tasks "
        f"1..{args.tasks}: {per_task[: args.tasks]}"
    )
    print(
        f"config: {cfg.epochs_per_task} epochs/task, batch {cfg.batch_size}, hidden {cfg.hidden_dim}, "
        f"seed {args.seed}; timed: tasks 1..{args.tasks} of each method (train_task: before_task hook, "
        f"steps, after_task hook; no evaluation snapshots)"
    )
    print(f"threads: {CZSL_THREADS} (CZSLConfig.threads); reps: {reps}; verdict on the {args.clock} clock")

    arm_names = METHODS + (AGEM_SEEN,)
    out: dict = {m: [[] for _ in range(args.tasks)] for m in arm_names}
    out["iters"] = {m: [0] * args.tasks for m in arm_names}
    with torch_threads(CZSL_THREADS):
        arms = {m: make_arm(data, cfg, m, args.tasks, args.seed, out) for m in arm_names}
        # warm-up, not timed: one task of each method (allocator, first kernels)
        warm = make_config("czsl-features", "paper", {**overrides, "epochs_per_task": 1})
        for m in arm_names:
            make_arm(data, warm, m, 2, args.seed, {m: [[], []], "iters": {m: [0, 0]}})()
        interleaved(arms, reps)
        tables = {m: profile_method(data, cfg, m, args.tasks, args.seed) for m in args.profile}

    print(f"\nend: {load_text()}")
    print("\nmedian seconds per task (wall | cpu); steps per task in brackets:")
    head = "".join(f"   task {t + 1:<14}" for t in range(args.tasks))
    print(f"  {'method':<11}{head}   mean tasks>=2 (wall | cpu)")
    med: dict = {}
    for m in arm_names:
        w = [median([x[0] for x in out[m][t]]) for t in range(args.tasks)]
        c = [median([x[1] for x in out[m][t]]) for t in range(args.tasks)]
        med[m] = {"wall": sum(w[1:]) / len(w[1:]), "cpu": sum(c[1:]) / len(c[1:])}
        cells = "".join(f"  {w[t]:6.2f} | {c[t]:6.2f} [{out['iters'][m][t]:3d}]" for t in range(args.tasks))
        print(f"  {m:<11}{cells}   {med[m]['wall']:6.2f} | {med[m]['cpu']:6.2f}")

    print(
        f"\nratio vs sequential, mean per-task time of tasks 2..{args.tasks} (wall | cpu); "
        f"goal <= {GOAL:g} for {', '.join(GOAL_METHODS)}:"
    )
    ok_all = True
    for m in arm_names:
        if m == "sequential":
            continue
        rw = med[m]["wall"] / med["sequential"]["wall"]
        rc = med[m]["cpu"] / med["sequential"]["cpu"]
        r = rc if args.clock == "cpu" else rw
        if m in GOAL_METHODS:
            ok = r <= GOAL
            ok_all &= ok
            tail = f"goal <= {GOAL:g}   {verdict(ok)} ({args.clock})"
        elif m == AGEM_SEEN:
            tail = "(agem_ref_attrs=seen, not the default; not part of the goal)"
        else:
            tail = "(grows with t: trains on all tasks <= t, capped steps; not part of the goal)"
        print(f"  {m:<11} {rw:5.2f} | {rc:5.2f}   {tail}")
    offsets = [0, *np.cumsum([len(c) for c in setup.tasks]).tolist()]
    print(
        "\nFLOP floor of A-GEM / Sequential per step (1 + reference pass / training step, matrix "
        "products counted; see step_flops):"
    )
    for label, ref_cols in (("agem (all_code)", offsets[-1]), ("agem[seen]", None)):
        cells = []
        for t in range(1, args.tasks):
            main_f, ref_f = step_flops(offsets, t, cfg, data.attr_dim, data.feature_dim, ref_cols)
            cells.append(f"task {t + 1}: {main_f / 1e6:.0f} + {ref_f / 1e6:.0f} MFLOP -> {1 + ref_f / main_f:.2f}")
        print(f"  {label:<16} " + "; ".join(cells))
    print(f"\ngoal 5 (A-GEM and EWC/MAS <= {GOAL:g} x Sequential per task): {verdict(ok_all)} ({args.clock} clock)")
    for m, table in tables.items():
        print(f"\nprofile of {m}, tasks 1..{args.tasks} (torch.profiler, self CPU time):\n{table}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
