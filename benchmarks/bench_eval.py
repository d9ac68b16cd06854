"""Evaluation speed: exact AUSUC vs the threshold sweep, and a full GZSL evaluation of SUN.

1. zslbench.metrics.ausuc on 100,000 x 717 logits (SUN's 645 seen / 72 unseen classes),
   goal < 1 s, against zslbench.metrics.ausuc_sweep with enough thresholds to match the
   exact value within 0.01 (AUSUC in percent), goal >= 100x slower.
   The logits are random normal plus a bonus on the true class for 60% of the samples, so
   the curve is not degenerate. The number of thresholds is found by evaluating the sweep's
   own grid (the same biases as ausuc_sweep) on the exact per-sample gaps, which is cheap;
   this emulation is checked against the real ausuc_sweep on a subset. The sweep's time is
   MEASURED on a fraction of the thresholds (ausuc_sweep with --sweep-probe thresholds,
   whose cost is one pass over the logits per threshold) and EXTRAPOLATED linearly to the
   number needed; the script prints both.
2. A full GZSL evaluation of SUN (synthetic, full size): eval-mode logits of mlp3+cn for
   test_seen + test_unseen (zslbench.train.gzsl.predict_logits) and every reported metric
   (zslbench.train.gzsl.score_logits: S, U, H, ZSL calibrated and not, AUSUC), goal < 2 s;
   the model is mlp3+cn after 20 Adam steps (so its logits are typical, not degenerate).

Usage: python benchmarks/bench_eval.py [--quick] [--threads T]
"""

from __future__ import annotations

import argparse
import sys
import time

import _common  # noqa: F401
import numpy as np
import torch
from _common import load_text, machine_header, median, verdict

from zslbench.data import load_dataset
from zslbench.metrics import ausuc, ausuc_sweep
from zslbench.models import MODELS, normalize_attributes, scaled_cosine
from zslbench.tracks import make_config
from zslbench.train.gzsl import make_adam, predict_logits, score_logits, torch_threads


def make_logits(n: int, n_cls: int, n_seen: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((n, n_cls), dtype=np.float32)
    labels = rng.integers(0, n_cls, n)
    bonus = rng.random(n) < 0.6
    logits[np.flatnonzero(bonus), labels[bonus]] += 3.5
    seen_mask = np.zeros(n_cls, dtype=bool)
    seen_mask[rng.permutation(n_cls)[:n_seen]] = True
    return logits, labels, seen_mask


def sweep_grid(a: np.ndarray, n_thresholds: int) -> np.ndarray:
    """The biases ausuc_sweep visits (its documented grid: span-wide, margin, irrational shift)."""
    lo, hi = float(a.min()), float(a.max())
    span = hi - lo
    margin = 0.01 * span + 1e-6 * (1.0 + max(abs(lo), abs(hi)))
    biases = np.linspace(-span - margin, span + margin, n_thresholds)
    step = biases[1] - biases[0]
    biases[1:-1] += step * (np.sqrt(2.0) - 1.0) * 0.5
    return biases


class SweepEmulator:
    """The value ausuc_sweep would return for a grid, from the per-sample seen-unseen gaps:
    at bias b a sample is predicted unseen iff b > max_seen - max_unseen."""

    def __init__(self, a, y, seen_mask):
        seen, unseen = np.flatnonzero(seen_mask), np.flatnonzero(~seen_mask)
        s_block, u_block = a[:, seen], a[:, unseen]
        gap = s_block.max(1).astype(np.float64) - u_block.max(1)
        label_seen = seen_mask[y]
        ok_s = seen[s_block.argmax(1)] == y
        ok_u = unseen[u_block.argmax(1)] == y
        self.g_s = np.sort(gap[label_seen & ok_s])  # correct while predicted seen (b < g)
        self.g_u = np.sort(gap[~label_seen & ok_u])  # correct while predicted unseen (b > g)
        self.n_seen, self.n_unseen = int(label_seen.sum()), int((~label_seen).sum())
        self.a = a

    def value(self, n_thresholds: int) -> float:
        b = sweep_grid(self.a, n_thresholds)
        acc_s = (self.g_s.size - np.searchsorted(self.g_s, b, side="right")) / self.n_seen
        acc_u = np.searchsorted(self.g_u, b, side="left") / self.n_unseen
        return 100.0 * float(0.5 * np.sum((acc_u[1:] - acc_u[:-1]) * (acc_s[1:] + acc_s[:-1])))


def bench_ausuc(n: int, n_cls: int, n_seen: int, probe: int, reps: int, tol: float) -> None:
    logits, labels, mask = make_logits(n, n_cls, n_seen)
    print(f"\n-- AUSUC on {n} x {n_cls} float32 logits ({n_seen} seen classes)")
    ausuc(logits, labels, mask)  # warm-up
    ts, cs = [], []
    for _ in range(reps):
        s, c = time.perf_counter(), time.process_time()
        exact = ausuc(logits, labels, mask)
        cs.append(time.process_time() - c)
        ts.append(time.perf_counter() - s)
    t_exact, c_exact = median(ts), median(cs)
    print(
        f"  exact ausuc = {exact:.6f}  in {t_exact:.3f} s wall, {c_exact:.3f} s cpu (median of {reps}; "
        f"wall {', '.join(f'{x:.3f}' for x in ts)})   goal < 1 s   {verdict(t_exact < 1.0)} (wall)"
    )

    emu = SweepEmulator(logits, labels, mask)
    # check the emulation against the real sweep on a subset
    sub = slice(0, min(n, 4000))
    emu_sub = SweepEmulator(logits[sub], labels[sub], mask)
    for k in (51, 201):
        real, fake = ausuc_sweep(logits[sub], labels[sub], mask, n_thresholds=k), emu_sub.value(k)
        print(
            f"  emulation check on {logits[sub].shape[0]} samples, {k} thresholds: "
            f"ausuc_sweep {real:.6f}, emulated {fake:.6f}, diff {abs(real - fake):.1e}"
        )

    needed, value = None, None
    k = 65
    while k <= 1 << 22:
        value = emu.value(k)
        if abs(value - exact) <= tol:
            needed = k
            break
        k = 2 * k - 1  # grids of 2^j + 1 points
    if needed is None:
        print("  no grid up to 4M thresholds reaches the tolerance; stopping")
        return
    print(
        f"  sweep needs {needed} thresholds to match within {tol}: its value {value:.6f} "
        f"(|diff| {abs(value - exact):.4f}; the grid with {(needed + 1) // 2} gives "
        f"{emu.value((needed + 1) // 2):.6f})"
    )

    s, c = time.perf_counter(), time.process_time()
    ausuc_sweep(logits, labels, mask, n_thresholds=probe)
    c_probe = time.process_time() - c
    t_probe = time.perf_counter() - s
    t_sweep, c_sweep = t_probe / probe * needed, c_probe / probe * needed
    print(
        f"  ausuc_sweep with {probe} thresholds MEASURED: {t_probe:.2f} s wall, {c_probe:.2f} s cpu "
        f"({1e3 * t_probe / probe:.0f} ms wall per threshold)"
    )
    print(f"  ausuc_sweep with {needed} thresholds EXTRAPOLATED linearly: {t_sweep:.1f} s wall, {c_sweep:.1f} s cpu")
    print(
        f"  sweep / exact = {t_sweep / t_exact:.0f}x wall, {c_sweep / c_exact:.0f}x cpu   goal >= 100x   "
        f"{verdict(t_sweep / t_exact >= 100)} (wall)"
    )


def bench_full_eval(scale: float, reps: int, steps: int) -> None:
    data = load_dataset("sun", "synthetic", scale=scale)
    cfg = make_config("gzsl", "paper", {"synthetic_scale": scale})
    torch.manual_seed(1)
    model = MODELS.get("mlp3+cn").build(data.attr_dim, data.feature_dim, cfg)
    attrs = normalize_attributes(torch.from_numpy(data.attrs.astype(np.float32)), cfg.attr_norm)
    # a few training steps, so that the logits (and so the metrics' work) are typical
    seen = torch.from_numpy(data.seen_classes.astype(np.int64))
    to_seen = torch.full((data.n_classes,), -1, dtype=torch.int64)
    to_seen[seen] = torch.arange(len(seen))
    x_all = torch.from_numpy(data.features[data.trainval_idx])
    y_all = to_seen[torch.from_numpy(data.labels[data.trainval_idx].astype(np.int64))]
    optim = make_adam(model.parameters(), cfg.lr, cfg.weight_decay)
    model.train()
    for _i in range(steps):
        idx = torch.randint(0, len(y_all), (cfg.batch_size,))
        loss = torch.nn.functional.cross_entropy(scaled_cosine(x_all[idx], model(attrs[seen]), cfg.scale), y_all[idx])
        optim.zero_grad()
        loss.backward()
        optim.step()
    test_idx = np.concatenate([data.test_seen_idx, data.test_unseen_idx])
    test_x = torch.from_numpy(np.ascontiguousarray(data.features[test_idx], dtype=np.float32))
    test_y = data.labels[test_idx]
    print(
        f"\n-- full GZSL evaluation of SUN (synthetic, scale {scale}): {len(test_idx)} test images "
        f"x {data.n_classes} classes"
    )

    def once():
        s, c = time.perf_counter(), time.process_time()
        logits = predict_logits(model, attrs, test_x, cfg.scale, cfg.test_batch_size).numpy()
        mid = time.perf_counter()
        metrics = score_logits(logits, test_y, data, cfg)
        end = time.perf_counter()
        return end - s, mid - s, end - mid, time.process_time() - c, metrics

    once()  # warm-up
    runs = [once() for _ in range(reps)]
    total = median([r[0] for r in runs])
    print(
        f"  predict logits {median([r[1] for r in runs]):.3f} s + score_logits "
        f"{median([r[2] for r in runs]):.3f} s = {total:.3f} s wall, {median([r[3] for r in runs]):.3f} s "
        f"cpu (median of {reps})   goal < 2 s   {verdict(total < 2.0)} (wall)"
    )
    print(f"  metrics: {', '.join(f'{k}={v:.2f}' for k, v in runs[-1][4].items())}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke version: 10,000 samples, few probes")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument(
        "--sweep-probe", type=int, default=None, help="thresholds of the timed ausuc_sweep call (default 40; quick 5)"
    )
    ap.add_argument("--tol", type=float, default=0.01, help="AUSUC match tolerance, percent points")
    args = ap.parse_args(argv)
    machine_header("evaluation: exact AUSUC vs sweep; full GZSL evaluation of SUN")
    reps = 3 if args.quick else 5
    probe = args.sweep_probe or (5 if args.quick else 40)
    with torch_threads(args.threads):
        bench_ausuc(10_000 if args.quick else 100_000, 717, 645, probe, reps, args.tol)
        bench_full_eval(0.1 if args.quick else 1.0, reps, 3 if args.quick else 20)
    print(f"\nend: {load_text()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
