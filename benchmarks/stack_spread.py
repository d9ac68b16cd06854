"""How far the metrics move when the numeric stack changes: the basis of --from-record's
default tolerances.

Another machine cannot be had here, so other numeric stacks are imitated on this one with
settings that change the kernels, each in a child process (they are read at start-up):
  ATEN_CPU_CAPABILITY=default   torch's own kernels without vector instructions (another
                                summation order in reductions, softmax, normalisation)
  MKL_CBWR=COMPATIBLE           MKL's most conservative code path (other GEMM kernels)
  both
For each setting the same sweep (`zslbench run --all`, one job) is run into a fresh results
folder; every metric of every run is compared with the run without a setting. Printed per
metric: the largest |difference| and the median, next to the spread between seeds (sample
std over the seeds of the same model and dataset, median over cells) in the unset arm.

Usage: python benchmarks/stack_spread.py [--quick] [-- extra `run --all` options]
  default sweep: --profile quick --datasets cub,sun --models mlp3+cn,linear --methods ewc-online --seeds 1,2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import _common  # noqa: F401  (puts the checkout first on sys.path)
from _common import ROOT, load_text, machine_header

ARMS = {
    "unset": {},
    "ATEN_CPU_CAPABILITY=default": {"ATEN_CPU_CAPABILITY": "default"},
    "MKL_CBWR=COMPATIBLE": {"MKL_CBWR": "COMPATIBLE"},
    "both": {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE"},
}
SWEEP = [
    "--profile",
    "quick",
    "--datasets",
    "cub,sun",
    "--models",
    "mlp3+cn,linear",
    "--methods",
    "ewc-online",
    "--seeds",
    "1,2",
]
QUICK = ["--profile", "quick", "--datasets", "cub", "--models", "mlp3+cn", "--methods", "ewc-online", "--seeds", "1,2"]


def records(folder: Path) -> dict:
    out = {}
    for path in folder.glob("runs/*/record.json"):
        rec = json.loads(path.read_text())
        out[rec["run_id"]] = rec
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a smaller sweep (CUB only, one model and method)")
    ap.add_argument("extra", nargs="*", help="options passed to `zslbench run --all` instead of the default sweep")
    args = ap.parse_args()
    sweep = args.extra or (QUICK if args.quick else SWEEP)
    machine_header("metric spread under other numeric stacks")
    print(f"sweep: zslbench run --all {' '.join(sweep)} --jobs 1")
    tmp = Path(tempfile.mkdtemp(prefix="zslbench-spread-"))
    runs = {}
    for label, extra in ARMS.items():
        env = {k: v for k, v in os.environ.items() if k not in ("ATEN_CPU_CAPABILITY", "MKL_CBWR")}
        env.update(extra)
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        out = tmp / label.replace("=", "_").replace(" ", "_")
        proc = subprocess.run(
            [sys.executable, "-m", "zslbench", "run", "--all", *sweep, "--jobs", "1", "--results", str(out)],
            env=env,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            print(f"{label}: the sweep failed:\n{proc.stderr[-2000:]}")
            return 1
        runs[label] = records(out)
        print(f"  {label}: {len(runs[label])} runs ({load_text()})")
    base = runs["unset"]
    # spread between seeds in the unset arm, per metric: median over cells of the sample std
    cells: dict[tuple, list[dict]] = {}
    for rec in base.values():
        key = (rec["kind"], rec.get("model") or rec.get("method"), rec.get("classnorm"), rec["dataset"])
        cells.setdefault(key, []).append(rec["metrics"])
    seed_std: dict[str, list[float]] = {}
    for group in cells.values():
        if len(group) >= 2:
            for m in group[0]:
                vals = [g[m] for g in group if isinstance(g.get(m), (int, float)) and g[m] == g[m]]
                if len(vals) >= 2:
                    seed_std.setdefault(m, []).append(statistics.stdev(vals))
    for label in ARMS:
        if label == "unset":
            continue
        diffs: dict[str, list[float]] = {}
        n_exact = 0
        for run_id, rec in base.items():
            other = runs[label].get(run_id)
            if other is None:
                print(f"  {label}: run {run_id} missing")
                continue
            same = True
            for m, v in rec["metrics"].items():
                w = other["metrics"].get(m)
                if isinstance(v, (int, float)) and isinstance(w, (int, float)) and v == v and w == w:
                    diffs.setdefault(m, []).append(abs(w - v))
                    same &= w == v
            n_exact += same
        print(f"\n{label}: {n_exact} of {len(base)} runs bit-identical to the unset arm")
        print(f"  {'metric':<12} {'max |diff|':>11} {'median':>9} {'seed std (median)':>18}")
        for m, d in sorted(diffs.items()):
            sd = statistics.median(seed_std[m]) if m in seed_std else float("nan")
            print(f"  {m:<12} {max(d):11.4g} {statistics.median(d):9.4g} {sd:18.4g}")
    print(f"\nend: {load_text()}; results kept in {tmp}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
