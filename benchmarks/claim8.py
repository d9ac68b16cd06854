"""Claim 8 measured: f-CLSWGAN against ``mlp3+cn``, full paper-profile runs paired by seed.

    python benchmarks/claim8.py --results $OUT/claim8                      # on a GPU (cuda)
    python benchmarks/claim8.py --device cpu --jobs 2 --results claim8     # on a 2-core CPU
    python benchmarks/claim8.py --device cpu --quick --seeds 1             # rehearsal

For each group of ``--jobs`` seeds (default seeds 1, 2, 3; dataset CUB, synthetic features of
the real sizes: the training time depends on the sizes, not on the values) it trains
``mlp3+cn`` on each seed of the group at once, then f-CLSWGAN likewise, each with ``zslbench
run`` in a fresh process (one torch thread each: the runs' default) on ``--device``, into
``--results``.  Runs of one model side by side keep the conditions of both models alike: on a
2-core machine with ``--jobs 2`` every run has one run of its own kind beside it.  Each run's
line gives its wall time, its recorded training time (what the claim compares), its process's
CPU time and the load average.  ``--budget`` (seconds): no group is started when the groups so
far say it would not fit.  At the end claims 8 (f-CLSWGAN / mlp3+cn training time at least
100x, same machine, 3 paired seeds) and 8b (``mlp3+cn`` in about 20-30 s on a GPU) are judged
exactly as ``zslbench report`` judges them.  The results folder holds the records: ``zslbench
report --results DIR`` renders them; runs already there are reported, not trained again.

``--quick`` uses the quick profile: quick runs are not full runs, so claim 8 says "not run" on
them; it rehearses the script, it measures nothing about the claim.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401  (puts the checkout first on sys.path)
from _common import ROOT, load_text, machine_header

MODELS = ("mlp3+cn", "f-clswgan")


def start(model: str, dataset: str, seed: int, args, out) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "zslbench", "run", "--model", model, "--dataset", dataset]
    cmd += ["--seed", str(seed), "--profile", args.profile, "--data", "synthetic", "--device", args.device]
    cmd += ["--results", str(args.results)]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True)


def train_together(model: str, dataset: str, seeds: list[int], args) -> None:
    """One ``zslbench run`` per seed, all at once; a line per run as it ends."""
    begun = time.perf_counter()
    running = {}
    for seed in seeds:
        out = tempfile.TemporaryFile("w+")
        running[start(model, dataset, seed, args, out).pid] = (seed, out)
    while running:
        pid, status, usage = os.wait4(-1, 0)
        if pid not in running:
            continue
        seed, out = running.pop(pid)
        wall = time.perf_counter() - begun
        out.seek(0)
        text = out.read()
        out.close()
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            print(f"  {model} {dataset} seed {seed}: FAILED (exit {code})\n{text[-2000:]}")
            continue
        # `zslbench run` names the record it wrote (or found done) on its last "record:" line
        path = [line.split("record:", 1)[1].strip() for line in text.splitlines() if "record:" in line][-1]
        record = json.loads(Path(path).read_text())
        cpu = usage.ru_utime + usage.ru_stime
        print(
            f"  {model:10s} {dataset} seed {seed}: {wall:8.1f} s wall, {record['train_seconds']:8.1f} s training, "
            f"{cpu:8.1f} s CPU, H {record['metrics'].get('H', float('nan')):.1f} ({load_text()})"
        )
        sys.stdout.flush()


def judge(results: Path) -> int:
    from zslbench.report.claims import evaluate, load_claims

    claims = [c for c in load_claims() if c.id in ("8", "8b")]
    failed = 0
    for res in evaluate(results, claims):
        print(f"claim {res.claim.id} [{res.source or '-'}]: {res.verdict} ({res.reason})")
        for check in res.checks:
            extra = f" ratio {check.effect}, 95 % interval {check.interval}" if check.effect else ""
            print(f"  {check.label}: {check.verdict}, {check.reason}{extra}")
        for label in res.not_run:
            print(f"  {label}: not run")
        failed += res.verdict == "error"
    return 1 if failed else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--datasets", default="cub")
    ap.add_argument("--jobs", type=int, default=1, help="seeds trained at once (one run per core on a CPU)")
    ap.add_argument("--results", type=Path, default=Path("claim8-results"))
    ap.add_argument(
        "--budget", type=float, help="seconds; no group of seeds is started past it (default: 540 on cuda, none on cpu)"
    )
    ap.add_argument("--quick", action="store_true", help="quick profile: a rehearsal of the script")
    args = ap.parse_args()
    args.profile = "quick" if args.quick else "paper"
    if args.jobs < 1:
        ap.error("--jobs: at least 1")
    if args.budget is None:
        args.budget = 540.0 if args.device.startswith("cuda") else float("inf")
    if args.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            print("no CUDA device: nothing measured (use --device cpu --quick to rehearse the script)")
            return 0
    machine_header(f"claim 8: f-CLSWGAN vs mlp3+cn, {args.profile} profile, on {args.device}, {args.jobs} at once")
    seeds = [int(s) for s in args.seeds.split(",")]
    groups = [seeds[i : i + args.jobs] for i in range(0, len(seeds), args.jobs)]
    begun, per_group = time.perf_counter(), 0.0
    for group in groups:
        spent = time.perf_counter() - begun
        if per_group and spent + per_group > args.budget:
            print(f"seeds {group} not started: {spent:.0f} s spent, a group takes about {per_group:.0f} s")
            break
        group_start = time.perf_counter()
        for dataset in args.datasets.split(","):
            for model in MODELS:
                train_together(model, dataset, group, args)
        per_group = max(per_group, time.perf_counter() - group_start)
    return judge(args.results)


if __name__ == "__main__":
    sys.exit(main())
