"""Peak memory of a `paper`-profile GZSL run of mlp3+cn on full-size synthetic SUN.

A child process runs one GZSL run (zslbench.tracks.execute_run) twice (seeds 1 and 2, as a sweep job would,
into a temporary results folder) and reports its peak RSS (VmHWM) after each run and how
often the dataset was materialised (generated or read); the parent reads the child's peak
with resource.getrusage(RUSAGE_CHILDREN).ru_maxrss. Goal: <= 1.5 GB; data loaded once.

To bound the time the runs use `--set epochs=N` (default 5; the paper has 50): nothing
that is kept grows with the epochs except the trace buffer (8 floats per iteration,
66 KB for 50 epochs of SUN) and the epoch log, so the peak is the same; the peak after the
second run equal to the first also shows that nothing accumulates across runs.

Usage: python benchmarks/bench_memory.py [--quick] [--epochs N] [--scale S] [--threads T]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys

import _common
from _common import load_text, machine_header, verdict

CHILD = r"""
import json, sys, tempfile
sys.path.insert(0, {root!r})
import torch
if {threads!r} is not None:
    torch.set_num_threads({threads!r})

def vm_hwm_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")

import zslbench.data.features.synthetic as syn
calls = {{"generate": 0, "read_cache": 0}}
_gen, _read = syn._generate, syn._read_cache
def generate(*a, **k):
    calls["generate"] += 1
    return _gen(*a, **k)
def read_cache(*a, **k):
    calls["read_cache"] += 1
    return _read(*a, **k)
syn._generate, syn._read_cache = generate, read_cache

from zslbench.tracks import execute_run, get_track
out = {{"after_import_mb": vm_hwm_mb(), "runs": []}}
with tempfile.TemporaryDirectory() as results:
    for seed in (1, 2):
        o = execute_run(get_track("gzsl"), "mlp3+cn", "sun", seed=seed, profile="paper", source="synthetic", results=results,
                     overrides={overrides!r}, progress=False)
        out["runs"].append({{"seed": seed, "peak_mb": vm_hwm_mb(), "train_seconds": o.record["train_seconds"],
                             "H": o.record["metrics"]["H"]}})
out["data_loads"] = calls
print("RESULT " + json.dumps(out))
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke version: 10%% of the images, 1 epoch")
    ap.add_argument("--epochs", type=int, default=None, help="epochs per run (default 5; quick 1)")
    ap.add_argument("--scale", type=float, default=None, help="synthetic_scale (default 1; quick 0.1)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads in the child (default 1; 0: torch's default)")
    args = ap.parse_args(argv)
    epochs = args.epochs or (1 if args.quick else 5)
    overrides = {"epochs": epochs}
    scale = args.scale if args.scale is not None else (0.1 if args.quick else None)
    if scale is not None:
        overrides["synthetic_scale"] = scale
    machine_header("memory: paper-profile GZSL runs of mlp3+cn on synthetic SUN, in a child process")
    threads = args.threads or None
    print(f"child: two runs (seeds 1, 2) with overrides {overrides}, torch threads {threads or 'default'}")
    sys.stdout.flush()
    code = CHILD.format(root=str(_common.ROOT), overrides=overrides, threads=threads)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        print(f"child failed with exit code {proc.returncode}", file=sys.stderr)
        return 1
    line = next(text for text in proc.stdout.splitlines() if text.startswith("RESULT "))
    res = json.loads(line[len("RESULT ") :])
    # ru_maxrss is in kilobytes on Linux
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"  after imports: {res['after_import_mb']:.0f} MB")
    for r in res["runs"]:
        print(
            f"  after run seed {r['seed']}: peak {r['peak_mb']:.0f} MB "
            f"(train {r['train_seconds']:.1f} s, H {r['H']:.2f})"
        )
    loads = res["data_loads"]
    n_loads = loads["generate"] + loads["read_cache"]
    print(
        f"  dataset materialised {n_loads} time(s) for 2 runs "
        f"(generated {loads['generate']}, read from disk cache {loads['read_cache']})   "
        f"goal: once   {verdict(n_loads == 1)}"
    )
    grow = res["runs"][1]["peak_mb"] - res["runs"][0]["peak_mb"]
    print(f"  peak growth from run 1 to run 2: {grow:+.0f} MB")
    print(
        f"  peak RSS of the child (getrusage RUSAGE_CHILDREN ru_maxrss): {peak_mb:.0f} MB "
        f"= {peak_mb / 1024:.2f} GB   goal <= 1.5 GB   {verdict(peak_mb <= 1.5 * 1024)}"
    )
    print(f"end: {load_text()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
