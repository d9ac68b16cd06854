"""Per-epoch GZSL training cost of two git revisions of zslbench, side by side.

Each revision is exported (git archive) to a temporary folder; one child process per
measurement trains mlp3+cn on full-size synthetic SUN for one `paper`-profile epoch
(train_gzsl, traces on, 1 torch thread) and reports the CPU time and wall time of the call.
Children of the two revisions alternate (A B A B ...); medians are printed.

Usage: python benchmarks/compare_commits.py [REV_A] [REV_B] [--reps N] [--quick]
       (default: the parent of the first benchmarks commit's optimisations, d34e280, vs HEAD)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import _common
from _common import load_text, machine_header, median

CHILD = r"""
import json, sys, time
sys.path.insert(0, {root!r})
import torch
torch.set_num_threads(1)
from zslbench.config import GZSLConfig
from zslbench.data import load_dataset
from zslbench.train.gzsl import train_gzsl
data = load_dataset("sun", "synthetic", scale={scale!r})
cfg = GZSLConfig(epochs=1, synthetic_scale={scale!r})  # the paper profile: the defaults
w, c = time.perf_counter(), time.process_time()
r = train_gzsl(data, "mlp3+cn", cfg, 1, progress=False)
print("RESULT " + json.dumps({{"cpu": time.process_time() - c, "wall": time.perf_counter() - w,
                              "H": r.metrics["H"]}}))
"""


def export(rev: str, dest: Path) -> None:
    archive = subprocess.run(
        ["git", "-C", str(_common.ROOT), "archive", rev, "zslbench"], check=True, capture_output=True
    ).stdout
    tar_path = dest / "src.tar"
    tar_path.write_bytes(archive)
    with tarfile.open(tar_path) as tar:
        tar.extractall(dest)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("rev_a", nargs="?", default="d34e280")
    ap.add_argument("rev_b", nargs="?", default="HEAD")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="10%% of the images, 1 rep")
    args = ap.parse_args(argv)
    reps = 1 if args.quick else args.reps
    scale = 0.1 if args.quick else 1.0
    machine_header(f"one GZSL epoch, {args.rev_a} vs {args.rev_b}, child processes, 1 thread")
    with tempfile.TemporaryDirectory() as tmp:
        roots = {}
        for rev in (args.rev_a, args.rev_b):
            d = Path(tmp) / rev.replace("/", "_")
            d.mkdir()
            export(rev, d)
            roots[rev] = d
        out = {rev: [] for rev in roots}
        for r in range(reps):
            order = list(roots) if r % 2 == 0 else list(roots)[::-1]
            for rev in order:
                code = CHILD.format(root=str(roots[rev]), scale=scale)
                proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
                if proc.returncode != 0:
                    print(proc.stderr, file=sys.stderr)
                    return 1
                line = next(text for text in proc.stdout.splitlines() if text.startswith("RESULT "))
                res = json.loads(line[len("RESULT ") :])
                out[rev].append(res)
                print(
                    f"  rep {r + 1}/{reps} {rev}: cpu {res['cpu']:.2f} s, wall {res['wall']:.2f} s, "
                    f"H {res['H']:.2f} ({load_text()})"
                )
                sys.stdout.flush()
    a, b = args.rev_a, args.rev_b
    ca, cb = median([x["cpu"] for x in out[a]]), median([x["cpu"] for x in out[b]])
    wa, wb = median([x["wall"] for x in out[a]]), median([x["wall"] for x in out[b]])
    print(f"\nmedian per epoch: {a}: cpu {ca:.2f} s, wall {wa:.2f} s; {b}: cpu {cb:.2f} s, wall {wb:.2f} s")
    print(f"{b} is {ca / cb:.2f}x faster than {a} in CPU time ({wa / wb:.2f}x in wall time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
