"""What keeping freed memory in the process (zslbench.allocator, the default) is worth: the same
`zslbench run` in fresh processes with the settings and with ``ZSLBENCH_MALLOC=default``,
interleaved, each process's user and system CPU time and peak memory from the kernel
(``os.wait4``), and the ratios default / kept.

    python benchmarks/bench_allocator.py                 # f-CLSWGAN, CUB settings, 1 GAN epoch
    python benchmarks/bench_allocator.py --model mlp3+cn --args ""   # a paper-profile GZSL run
    python benchmarks/bench_allocator.py --quick         # smoke: 10 % of CUB, 1 rep

The default arm is f-CLSWGAN with the authors' CUB settings cut to one GAN epoch on synthetic
CUB at 30 % of its size, one thread: its 4096 x 2048 layers (32 MiB) are allocated and freed on
every step.  Single-threaded runs: the CPU times measure each process's own work even on a
shared machine; the wall times are printed beside them with the load.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time

import _common  # noqa: F401  (puts the checkout first on sys.path)
from _common import ROOT, load_text, machine_header, median


def one_run(args, malloc: str | None, folder: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "ZSLBENCH_MALLOC"}
    if malloc is not None:
        env["ZSLBENCH_MALLOC"] = malloc
    cmd = [sys.executable, "-m", "zslbench", "run", "--model", args.model, "--dataset", args.dataset]
    cmd += ["--profile", "paper", "--data", "synthetic", "--set", "threads=1", "--force", "--results", folder]
    cmd += shlex.split(args.args)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"run failed: {' '.join(cmd)}\n{proc.stderr.read()[-2000:] if proc.stderr else ''}")
    return {"wall": wall, "user": usage.ru_utime, "sys": usage.ru_stime, "rss": usage.ru_maxrss / 1024**2}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="f-clswgan")
    ap.add_argument("--dataset", default="cub")
    ap.add_argument("--args", default="--set f-clswgan.nepoch=1 --set synthetic_scale=0.3")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.args = args.args.replace("synthetic_scale=0.3", "synthetic_scale=0.1")
        args.reps = 1
    machine_header(f"allocator: {args.model} on {args.dataset} {args.args}, kept vs glibc's default")
    arms = {"kept (default)": None, "ZSLBENCH_MALLOC=default": "default"}
    out: dict[str, list[dict]] = {name: [] for name in arms}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.reps):
            names = list(arms)[rep % 2 :] + list(arms)[: rep % 2]
            for name in names:
                got = one_run(args, arms[name], tmp)
                out[name].append(got)
                print(
                    f"  rep {rep + 1}/{args.reps} {name:24s}: user {got['user']:6.1f} s, system {got['sys']:6.1f} s, "
                    f"wall {got['wall']:6.1f} s, peak {got['rss']:.2f} GB ({load_text()})"
                )
                sys.stdout.flush()
    med = {n: {k: median([r[k] for r in rs]) for k in rs[0]} for n, rs in out.items()}
    kept, plain = med["kept (default)"], med["ZSLBENCH_MALLOC=default"]
    cpu_kept, cpu_plain = kept["user"] + kept["sys"], plain["user"] + plain["sys"]
    print(
        f"medians: CPU {cpu_plain:.1f} s -> {cpu_kept:.1f} s (ratio default / kept {cpu_plain / cpu_kept:.2f}); "
        f"system {plain['sys']:.1f} s -> {kept['sys']:.1f} s; wall ratio {plain['wall'] / kept['wall']:.2f}; "
        f"peak memory {plain['rss']:.2f} -> {kept['rss']:.2f} GB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
