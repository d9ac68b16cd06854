"""Claim 8 measured: f-CLSWGAN against ``mlp3+cn``, full paper-profile runs paired by seed.

    python benchmarks/gpu_claim8.py --results $OUT/claim8          # on a GPU (cuda)
    python benchmarks/gpu_claim8.py --device cpu --quick --seeds 1  # rehearsal of the script

For each seed (default 1, 2, 3) and dataset (default CUB, synthetic features of the real sizes:
the training time depends on the sizes, not on the values), it trains ``mlp3+cn`` and then
f-CLSWGAN with ``zslbench run`` in a fresh process each, on ``--device``, into ``--results``,
printing each run's wall time and recorded training time as it goes.  The runs of one seed are
started together, so a run cut short by ``--budget`` (seconds; no new seed is started when the
seeds so far say the next would not fit) leaves whole pairs.  At the end it judges claims 8
(f-CLSWGAN / mlp3+cn training time at least 100x, same machine, 3 paired seeds) and 8b
(``mlp3+cn`` in about 20-30 s on a GPU) exactly as ``zslbench report`` does, and prints each
check.  The results folder holds the records: ``zslbench report --results DIR`` renders them.

``--quick`` uses the quick profile: quick runs are not full runs, so claim 8 says "not run" on
them; it rehearses the script, it measures nothing about the claim.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import _common  # noqa: F401  (puts the checkout first on sys.path)
from _common import ROOT, load_text, machine_header

MODELS = ("mlp3+cn", "f-clswgan")


def train(model: str, dataset: str, seed: int, args) -> dict:
    """One `zslbench run` in a fresh process; its record (with the wall time beside it)."""
    cmd = [sys.executable, "-m", "zslbench", "run", "--model", model, "--dataset", dataset]
    cmd += ["--seed", str(seed), "--profile", args.profile, "--data", "synthetic", "--device", args.device]
    cmd += ["--results", str(args.results)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        print(f"  {model} {dataset} seed {seed}: FAILED (exit {proc.returncode})\n{proc.stderr[-2000:]}")
        return {}
    # `zslbench run` names the record it wrote (or found done) on its last "record:" line
    path = [line.split("record:", 1)[1].strip() for line in proc.stdout.splitlines() if "record:" in line][-1]
    record = json.loads(Path(path).read_text())
    print(
        f"  {model:10s} {dataset} seed {seed}: {wall:8.1f} s wall, {record['train_seconds']:8.1f} s training, "
        f"H {record['metrics'].get('H', float('nan')):.1f} ({load_text()})"
    )
    sys.stdout.flush()
    return record


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
    ap.add_argument("--results", type=Path, default=Path("claim8-results"))
    ap.add_argument("--budget", type=float, default=540.0, help="seconds; no seed is started past it")
    ap.add_argument("--quick", action="store_true", help="quick profile: a rehearsal of the script")
    args = ap.parse_args()
    args.profile = "quick" if args.quick else "paper"
    if args.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            print("no CUDA device: nothing measured (use --device cpu --quick to rehearse the script)")
            return 0
    machine_header(f"claim 8: f-CLSWGAN vs mlp3+cn, {args.profile} profile, on {args.device}")
    start, per_seed = time.perf_counter(), 0.0
    for seed in (int(s) for s in args.seeds.split(",")):
        spent = time.perf_counter() - start
        if per_seed and spent + per_seed > args.budget:
            print(f"seed {seed} not started: {spent:.0f} s spent, a seed takes about {per_seed:.0f} s")
            break
        seed_start = time.perf_counter()
        for dataset in args.datasets.split(","):
            for model in MODELS:
                train(model, dataset, seed, args)
        per_seed = max(per_seed, time.perf_counter() - seed_start)
    return judge(args.results)


if __name__ == "__main__":
    sys.exit(main())
