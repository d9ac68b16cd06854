"""One `paper`-profile GZSL epoch of mlp3+cn on full-size synthetic SUN, measured side by side.

Arms, timed interleaved in this one process (A B C D, rotating), medians reported:
  ours        zslbench.train.gzsl.train_gzsl for one epoch, traces on: the whole call
              (set-up, 41 steps, the per-epoch test evaluation, final and oracle scoring)
  ours-notr   the same with traces off
  bare        the same number of forward/backward/Adam steps on pre-built tensors of the
              same shapes (same model and optimiser as ours; no data handling, no traces,
              no evaluation)
  notebook    a straightforward loop in the style of the authors' notebook: a torch
              DataLoader over a Python list of per-sample (feature, label) pairs, np.array
              per batch, the model written as in the notebook (class standardization with
              Tensor.mean/var, default torch.optim.Adam), identical architecture and init
plus the rate of torch's matmul for the step's largest shape ([645 x 1024] @ [1024 x 2048]).

FLOPs of one step (batch B, C seen classes, attributes A, hidden H, feature dim D), counted
as 2 FLOPs per multiply-add of the matrix products (element-wise work not counted):
  forward   2 C (A H + H H + H D)  embedder on the seen classes
          + 2 B D C                logits = x_s @ p_s^T
  backward  2 C (A H + H H + H D)  weight gradients of the three layers
          + 2 C (H H + H D)        input gradients of layers 2 and 3 (the attributes need none)
          + 2 B D C                gradient w.r.t. the prototypes (the features need none)
so backward = about 1.8 x forward; with B = 256 a step is 13.8 GFLOP.

Usage: python benchmarks/bench_gzsl_epoch.py [--quick] [--reps N] [--threads T]
       [--profile] [--compare-threads]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import _common  # noqa: F401  (puts the checkout first on sys.path)
import numpy as np
import torch
from _common import interleaved, load_text, machine_header, median, verdict
from torch import nn
from torch.nn import functional as F

from zslbench.data import load_dataset
from zslbench.models import MODELS, normalize_attributes, scaled_cosine
from zslbench.tracks import make_config
from zslbench.train.gzsl import make_adam, torch_threads, train_gzsl


# ----------------------------------------------------------------------------- FLOPs
def step_flops(batch: int, n_cls: int, attr_dim: int, hidden: int, feat_dim: int) -> int:
    emb = 2 * n_cls * (attr_dim * hidden + hidden * hidden + hidden * feat_dim)
    head = 2 * batch * feat_dim * n_cls
    forward = emb + head
    backward = emb + 2 * n_cls * (hidden * hidden + hidden * feat_dim) + head
    return forward + backward


def batch_sizes(n: int, bs: int) -> list[int]:
    return [min(bs, n - i) for i in range(0, n, bs)]


# ----------------------------------------------------------------------------- arms
class Bare:
    """Forward/backward/Adam on pre-built tensors: the floor for our training loop."""

    def __init__(self, data, cfg, sizes):
        torch.manual_seed(0)
        self.model = MODELS.get("mlp3+cn").build(data.attr_dim, data.feature_dim, cfg)
        self.optim = make_adam(self.model.parameters(), cfg.lr, cfg.weight_decay)
        attrs = normalize_attributes(torch.from_numpy(data.attrs.astype(np.float32)), cfg.attr_norm)
        self.attrs = attrs[torch.from_numpy(data.seen_classes.astype(np.int64))].contiguous()
        n_seen = len(data.seen_classes)
        self.batches = [(torch.rand(b, data.feature_dim), torch.randint(0, n_seen, (b,))) for b in sorted(set(sizes))]
        self.lookup = {x.shape[0]: (x, y) for x, y in self.batches}
        self.sizes = sizes
        self.gamma = cfg.scale

    def epoch(self):
        self.model.train()
        for b in self.sizes:
            x, y = self.lookup[b]
            logits = scaled_cosine(x, self.model(self.attrs), self.gamma)
            loss = F.cross_entropy(logits, y)
            self.optim.zero_grad(set_to_none=True)
            loss.backward()
            self.optim.step()


class NotebookCN(nn.Module):
    """Class standardization as a notebook would write it."""

    def __init__(self, dim):
        super().__init__()
        self.register_buffer("running_mean", torch.zeros(dim))
        self.register_buffer("running_var", torch.ones(dim))

    def forward(self, h):
        if self.training:
            mean = h.mean(dim=0)
            var = h.var(dim=0)
            self.running_mean = 0.9 * self.running_mean + 0.1 * mean.detach()
            self.running_var = 0.9 * self.running_var + 0.1 * var.detach()
        else:
            mean, var = self.running_mean, self.running_var
        return (h - mean) / (var + 1e-5)


class NotebookModel(nn.Module):
    def __init__(self, attr_dim, hidden, feat_dim, scale=5.0):
        super().__init__()
        self.scale = scale
        self.embedder = nn.Sequential(
            nn.Linear(attr_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            NotebookCN(hidden),
            nn.ReLU(),
            NotebookCN(hidden),
            nn.Linear(hidden, feat_dim),
            nn.ReLU(),
        )

    def forward(self, x, attrs):
        protos = self.embedder(attrs)
        x_ns = self.scale * x / x.norm(dim=1, keepdim=True)
        protos_ns = self.scale * protos / protos.norm(dim=1, keepdim=True)
        return x_ns @ protos_ns.t()


class Notebook:
    def __init__(self, data, cfg):
        torch.manual_seed(0)
        ours = MODELS.get("mlp3+cn").build(data.attr_dim, data.feature_dim, cfg)
        self.model = NotebookModel(data.attr_dim, cfg.hidden_dim, data.feature_dim, cfg.scale)
        # identical init: copy our model's weights layer by layer
        src = [m for m in ours.modules() if isinstance(m, nn.Linear)]
        dst = [m for m in self.model.modules() if isinstance(m, nn.Linear)]
        for s, d in zip(src, dst):
            d.load_state_dict(s.state_dict())
        self.optim = torch.optim.Adam(self.model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        attrs = normalize_attributes(torch.from_numpy(data.attrs.astype(np.float32)), cfg.attr_norm)
        self.seen_attrs = attrs[data.seen_classes]
        to_seen = {int(c): i for i, c in enumerate(data.seen_classes)}
        X_train = data.features[data.trainval_idx]
        y_train = np.array([to_seen[int(c)] for c in data.labels[data.trainval_idx]])
        self.loader = torch.utils.data.DataLoader(list(zip(X_train, y_train)), batch_size=cfg.batch_size, shuffle=True)

    def epoch(self):
        self.model.train()
        with warnings.catch_warnings():  # numpy 2 on np.array(<tensor>): harmless, as in the notebook
            warnings.simplefilter("ignore", DeprecationWarning)
            self._epoch()

    def _epoch(self):
        for batch in self.loader:
            feats = torch.from_numpy(np.array(batch[0]))
            targets = torch.from_numpy(np.array(batch[1]))
            logits = self.model(feats, self.seen_attrs)
            loss = F.cross_entropy(logits, targets)
            self.optim.zero_grad()
            loss.backward()
            self.optim.step()


def matmul_times(n_cls: int, hidden: int, feat_dim: int, calls: int) -> tuple[float, float]:
    """Median (wall, cpu) seconds of one [n_cls x hidden] @ [hidden x feat_dim] product."""
    a, b = torch.randn(n_cls, hidden), torch.randn(hidden, feat_dim)
    a @ b
    wall, cpu = [], []
    for _ in range(calls):
        w0, c0 = time.perf_counter(), time.process_time()
        a @ b
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return median(wall), median(cpu)


def matmul_share(fn) -> tuple[float, float, str]:
    """Profile one call of fn: (matmul self-time share, total self time, top-op table)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fn()
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    mm = sum(e.self_cpu_time_total for e in events if e.key in ("aten::mm", "aten::addmm", "aten::bmm"))
    rows = sorted(events, key=lambda e: -e.self_cpu_time_total)[:8]
    table = "\n".join(f"    {e.key:<34} {100 * e.self_cpu_time_total / total:5.1f}%  {e.count:5d} calls" for e in rows)
    return mm / total, total / 1e6, table


def compare_threads(data, cfg, threads: int, default_threads: int, reps: int) -> int:
    """Ours at `threads` vs torch's default thread count, interleaved; same results either way."""
    names = (f"ours@{threads}", f"ours@{default_threads}")
    out = {}

    def arm(n):
        def run():
            out[n] = train_gzsl(data, "mlp3+cn", cfg, 1, progress=False, threads=n).metrics

        return run

    wall, cpu = interleaved({names[0]: arm(threads), names[1]: arm(default_threads)}, reps)
    print(f"\nend: {load_text()}")
    print("\nthreads (ours, one epoch, interleaved), median seconds:")
    for label, d in (("wall", wall), ("cpu", cpu)):
        a, b = median(d[names[0]]), median(d[names[1]])
        print(f"  {label:<4}: {threads} thread(s) {a:.2f} s; {default_threads} threads {b:.2f} s  -> ratio {b / a:.2f}")
    print(f"  same metrics with both thread counts: {out[threads] == out[default_threads]}")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke version: 10%% of the images, 1 rep")
    ap.add_argument("--reps", type=int, default=None, help="repetitions per arm (default 3; quick 1)")
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads for every arm (default 1: see benchmarks/README.md, Machine and load)",
    )
    ap.add_argument(
        "--clock",
        choices=("auto", "cpu", "wall"),
        default="auto",
        help="clock for the verdicts (auto: CPU time with 1 thread, else wall)",
    )
    ap.add_argument(
        "--profile", action="store_true", help="also profile one epoch of ours and of the notebook loop (matmul share)"
    )
    ap.add_argument(
        "--compare-threads",
        action="store_true",
        help="instead: time ours at --threads against torch's default thread count",
    )
    args = ap.parse_args(argv)
    reps = args.reps or (1 if args.quick else 3)
    scale = 0.1 if args.quick else 1.0
    clock = args.clock if args.clock != "auto" else ("cpu" if args.threads == 1 else "wall")

    default_threads = torch.get_num_threads()
    machine_header("GZSL epoch: mlp3+cn, paper profile, synthetic SUN")
    data = load_dataset("sun", "synthetic", scale=scale)
    cfg_on = make_config("gzsl", "paper", {"epochs": 1, "synthetic_scale": scale})
    cfg_off = make_config("gzsl", "paper", {"epochs": 1, "synthetic_scale": scale, "trace": False})
    n_train, n_seen = len(data.trainval_idx), len(data.seen_classes)
    sizes = batch_sizes(n_train, cfg_on.batch_size)
    flops = sum(step_flops(b, n_seen, data.attr_dim, cfg_on.hidden_dim, data.feature_dim) for b in sizes)
    mm_flops = 2 * n_seen * cfg_on.hidden_dim * data.feature_dim
    print(
        f"data: {n_train} trainval images, {n_seen} seen classes, {data.attr_dim} attributes; "
        f"{len(sizes)} steps per epoch (batch {cfg_on.batch_size}); "
        f"{flops / 1e9:.1f} GFLOP per epoch ({flops / len(sizes) / 1e9:.2f} per step on average)"
    )
    print(
        f"threads: {args.threads} for every arm (torch default here: {default_threads}); reps: {reps}; "
        f"verdicts on the {clock} clock"
    )

    if args.compare_threads:
        return compare_threads(data, cfg_on, args.threads, default_threads, reps)

    with torch_threads(args.threads):
        bare = Bare(data, cfg_on, sizes)
        notebook = Notebook(data, cfg_on)
        mm_calls = 5 if args.quick else 20
        mm: dict[str, list[float]] = {"wall": [], "cpu": []}
        ours_parts: list[tuple[float, float]] = []

        def ours():
            r = train_gzsl(data, "mlp3+cn", cfg_on, seed=1, progress=False)
            ours_parts.append((r.train_seconds, r.eval_seconds))

        def ours_notr():
            train_gzsl(data, "mlp3+cn", cfg_off, seed=1, progress=False)

        def matmul():
            w, c = matmul_times(n_seen, cfg_on.hidden_dim, data.feature_dim, mm_calls)
            mm["wall"].append(w)
            mm["cpu"].append(c)

        # warm-up (allocator, first MKL calls); not timed
        matmul()
        mm["wall"].clear(), mm["cpu"].clear()
        wall, cpu = interleaved(
            {"ours": ours, "bare": bare.epoch, "notebook": notebook.epoch, "ours-notr": ours_notr, "matmul": matmul},
            reps,
        )

        prof_lines = []
        if args.profile:
            for name, fn in (("ours", ours), ("notebook", notebook.epoch)):
                share, total, table = matmul_share(fn)
                prof_lines.append(
                    f"  {name}: {100 * share:.1f}% of {total:.2f} s self CPU time in "
                    f"matrix products (aten::mm/addmm)\n{table}"
                )

    print(f"\nend: {load_text()}")
    print("\nmedian seconds per epoch, wall clock | CPU time of this process (each rep in brackets):")
    for k in wall:
        if k == "matmul":
            continue
        print(
            f"  {k:<10} wall {median(wall[k]):7.3f} [{', '.join(f'{x:.2f}' for x in wall[k])}]"
            f"  | cpu {median(cpu[k]):7.3f} [{', '.join(f'{x:.2f}' for x in cpu[k])}]"
        )
    tr = median([p[0] for p in ours_parts])
    ev = median([p[1] for p in ours_parts])
    print(
        f"  (ours, wall: {tr:.3f} s in the epoch loop incl. its test evaluation, of which "
        f"{ev:.3f} s evaluation and scoring; the rest of the call is set-up)"
    )
    mm_med = {k: median(v) for k, v in mm.items()}
    print(
        f"  matmul [{n_seen}x{cfg_on.hidden_dim}]@[{cfg_on.hidden_dim}x{data.feature_dim}]: "
        f"wall {mm_med['wall'] * 1e3:.2f} ms -> {mm_flops / mm_med['wall'] / 1e9:.1f} GFLOP/s | "
        f"cpu {mm_med['cpu'] * 1e3:.2f} ms -> {mm_flops / mm_med['cpu'] / 1e9:.1f} GFLOP/s"
    )

    print("\nresults (wall clock | CPU time):")
    res = {}
    for label, d in (("wall", wall), ("cpu", cpu)):
        m = {k: median(v) for k, v in d.items() if k != "matmul"}
        mm_rate = mm_flops / mm_med[label]
        res[label] = {
            "a": m["ours"] / m["bare"],
            "b": m["notebook"] / m["ours"],
            "c": m["ours"] / m["ours-notr"] - 1,
            "d": flops / m["ours"] / mm_rate,
            "d_bare": flops / m["bare"] / mm_rate,
            "rate": flops / m["ours"],
        }
    w, c, v = res["wall"], res["cpu"], res[clock]
    print(
        f"  (a) ours (traces on) / bare steps       {w['a']:6.3f} | {c['a']:6.3f}   goal <= 1.3   "
        f"{verdict(v['a'] <= 1.3)} ({clock})"
    )
    print(
        f"  (b) notebook loop / ours (speed-up)     {w['b']:6.3f} | {c['b']:6.3f}   goal >= 1.8   "
        f"{verdict(v['b'] >= 1.8)} ({clock})"
    )
    print(
        f"  (c) tracing overhead, ours/ours-notr-1 {100 * w['c']:+6.1f}% | {100 * c['c']:+6.1f}%  goal <= 5%    "
        f"{verdict(v['c'] <= 0.05)} ({clock})"
    )
    print(
        f"  (d) FLOP rate of ours / matmul rate     {100 * w['d']:5.0f}% | {100 * c['d']:5.0f}%    goal >= 70%   "
        f"{verdict(v['d'] >= 0.7)} ({clock})"
    )
    print(
        f"      ours {w['rate'] / 1e9:.1f} | {c['rate'] / 1e9:.1f} GFLOP/s; bare steps reach "
        f"{100 * w['d_bare']:.0f}% | {100 * c['d_bare']:.0f}% of the matmul rate"
    )
    if prof_lines:
        print("\nprofile (torch.profiler), one epoch each:")
        print("\n".join(prof_lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
