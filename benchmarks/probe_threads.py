"""Which operations of zslbench's numeric path give bitwise different results with 1 and 2
torch threads on this machine, and what MKL's conditional numerical reproducibility changes.

Each probe computes one operation (with the shapes of the GZSL and CZSL workloads) from the
same inputs with `torch.set_num_threads(1)` and with `torch.set_num_threads(2)`, in this one
process, and compares the outputs bit for bit. The last probes train a whole small GZSL and
CZSL run at 1 and at 2 threads and compare every metric.

    python benchmarks/probe_threads.py                 # the probes, this process's settings
    python benchmarks/probe_threads.py --env-arms      # also: child processes with MKL_CBWR /
                                                       # ATEN_CPU_CAPABILITY set, vs no setting

`--env-arms` runs the probes in child processes under each of these settings and prints,
per setting, which probes differ between 1 and 2 threads, which outputs differ from those of
the unset arm (the same operation, same inputs, one thread), and the time of a GZSL epoch
relative to the unset arm. Settings such as MKL_CBWR must be in the environment before the
process starts (MKL reads them once), hence the child processes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time

import _common  # noqa: F401  (puts the checkout first on sys.path)
import torch
from _common import load_text, machine_header
from torch.nn import functional as F


def _inputs(seed: int, *shapes):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(*s, generator=gen) for s in shapes]


def probes() -> dict:
    """name -> zero-argument callable returning a tensor (or a tuple of tensors)."""
    out = {}
    # GZSL (paper profile, SUN): C = 645 seen classes, A = 102, H = 1024, D = 2048, B = 256;
    # the test set is scored in batches of 2048 against 717 classes.
    for name, (m, k, n) in {
        "mm attrs->hidden [645x102]@[102x1024]": (645, 102, 1024),
        "mm hidden->hidden [645x1024]@[1024x1024]": (645, 1024, 1024),
        "mm hidden->protos [645x1024]@[1024x2048]": (645, 1024, 2048),
        "mm logits [256x2048]@[2048x645]": (256, 2048, 645),
        "mm grad W3 [1024x645]@[645x2048] (K = classes)": (1024, 645, 2048),
        "mm grad protos [645x256]@[256x2048] (K = batch)": (645, 256, 2048),
        "mm eval logits [2048x2048]@[2048x717]": (2048, 2048, 717),
        # CZSL (features track, CUB): A = 312, H = 256, D = 2048, batch 32, up to 200 classes
        "mm czsl attrs->hidden [200x312]@[312x256]": (200, 312, 256),
        "mm czsl hidden->protos [200x256]@[256x2048]": (200, 256, 2048),
        "mm czsl logits [32x2048]@[2048x200]": (32, 2048, 200),
        "mm czsl eval [512x2048]@[2048x200]": (512, 2048, 200),
        # small shapes (quick profile at 15% of the images)
        "mm small [64x2048]@[2048x150]": (64, 2048, 150),
    }.items():
        a, b = _inputs(hash(name) % 1000, (m, k), (k, n))
        out[name] = lambda a=a, b=b: a @ b
    (big,) = _inputs(1, (645, 1024))
    (feats,) = _inputs(2, (20000, 2048))
    (logits,) = _inputs(3, (256, 645))
    y = torch.randint(0, 645, (256,), generator=torch.Generator().manual_seed(4))
    (flat,) = _inputs(5, (4_000_000,))
    out["sum over classes dim 0 [645x1024] (ClassNorm mean)"] = lambda: big.mean(dim=0)
    out["sum of squares dim 0 [645x1024] (ClassNorm var)"] = lambda: (big * big).sum(dim=0)
    out["norm dim 1 [20000x2048] (feature norms)"] = lambda: feats.norm(dim=1)
    out["sum of all elements [4M] (loss, traces)"] = lambda: flat.sum()
    out["var of all elements [4M] (traces)"] = lambda: flat.var()
    out["F.normalize dim 1 [645x1024]"] = lambda: F.normalize(big, dim=1)
    out["log_softmax + cross_entropy [256x645]"] = lambda: F.cross_entropy(logits, y)
    out["softmax [256x645]"] = lambda: logits.softmax(dim=1)
    out["topk/argmax [2048x717]"] = lambda: feats[:2048, :717].argmax(dim=1).to(torch.float32)

    def linear_fwd_bwd():
        gen = torch.Generator().manual_seed(6)
        w = torch.randn(2048, 1024, generator=gen, requires_grad=True)
        x = torch.randn(645, 1024, generator=gen)
        loss = (F.linear(x, w) ** 2).mean()
        loss.backward()
        return loss.detach(), w.grad

    out["nn.Linear forward+backward [645x1024]->2048"] = linear_fwd_bwd

    def adam_step():
        from zslbench.train.gzsl import make_adam

        gen = torch.Generator().manual_seed(7)
        p = torch.nn.Parameter(torch.randn(2_000_000, generator=gen))
        opt = make_adam([p], 5e-4, 1e-4)
        p.grad = torch.randn(2_000_000, generator=gen)
        opt.step()
        return p.detach().clone()

    out["fused Adam step, 2M parameters"] = adam_step
    return out


def _same(a, b) -> bool:
    if isinstance(a, tuple):
        return all(_same(x, y) for x, y in zip(a, b))
    return torch.equal(a, b)


def _max_rel(a, b) -> float:
    if isinstance(a, tuple):
        return max(_max_rel(x, y) for x, y in zip(a, b))
    d = (a.double() - b.double()).abs().max().item()
    return d / max(a.double().abs().max().item(), 1e-30)


def run_probes(verbose: bool = True) -> dict:
    before = torch.get_num_threads()
    res = {}
    try:
        for name, fn in probes().items():
            torch.set_num_threads(1)
            one = fn()
            torch.set_num_threads(2)
            two = fn()
            torch.set_num_threads(1)
            again = fn()
            res[name] = {
                "same_1_vs_2": _same(one, two),
                "max_rel_diff": _max_rel(one, two),
                "repeatable": _same(one, again),
                "digest": _digest(one),
            }
            if verbose:
                r = res[name]
                print(
                    f"  {'same' if r['same_1_vs_2'] else 'DIFFER'} {r['max_rel_diff']:9.2e}  "
                    f"{'' if r['repeatable'] else '(NOT repeatable at 1 thread) '}{name}"
                )
    finally:
        torch.set_num_threads(before)
    return res


def _digest(t) -> str:
    import hashlib

    h = hashlib.sha256()
    for x in t if isinstance(t, tuple) else (t,):
        h.update(x.detach().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def whole_runs(verbose: bool = True) -> dict:
    """A small GZSL and CZSL run at 1 and at 2 threads: every metric compared."""
    from zslbench.data import load_dataset
    from zslbench.tracks import make_config
    from zslbench.train.czsl import train_czsl
    from zslbench.train.gzsl import torch_threads, train_gzsl

    out = {}
    gcfg = make_config("gzsl", "quick", {"epochs": 2, "synthetic_scale": 0.1})
    gdata = load_dataset("cub", "synthetic", scale=0.1)
    ccfg = make_config("czsl-features", "quick", {"synthetic_scale": 0.05})
    cdata = load_dataset("cub", "synthetic", scale=0.05)
    for label, fn in {
        "GZSL mlp3+cn cub (quick, 2 epochs, 10%)": lambda: (
            train_gzsl(gdata, "mlp3+cn", gcfg, 3, progress=False).metrics
        ),
        "CZSL ewc-online+cn cub (quick, 5%)": lambda: (
            train_czsl(cdata, "ewc-online", ccfg, 3, classnorm=True, progress=False).metrics
        ),
    }.items():
        with torch_threads(1):
            m1 = fn()
        with torch_threads(2):
            m2 = fn()
        differ = sorted(k for k in m1 if m1[k] != m2[k])
        out[label] = {"same": not differ, "differ": {k: [m1[k], m2[k]] for k in differ}}
        if verbose:
            print(f"  {'same' if not differ else 'DIFFER'}  {label}" + (f": {out[label]['differ']}" if differ else ""))
    return out


def epoch_seconds(reps: int = 1) -> float:
    """Median CPU seconds of one `paper`-profile GZSL epoch of mlp3+cn on synthetic SUN at 25% of
    the images, at one thread (the cost of an env arm)."""
    from zslbench.data import load_dataset
    from zslbench.tracks import make_config
    from zslbench.train.gzsl import torch_threads, train_gzsl

    cfg = make_config("gzsl", "paper", {"epochs": 1, "synthetic_scale": 0.25, "trace": False})
    data = load_dataset("sun", "synthetic", scale=0.25)
    times = []
    with torch_threads(1):
        for _ in range(reps):
            c0 = time.process_time()
            train_gzsl(data, "mlp3+cn", cfg, 1, progress=False)
            times.append(time.process_time() - c0)
    return sorted(times)[len(times) // 2]


ENV_ARMS = {
    "unset": {},
    "MKL_CBWR=AVX2,STRICT": {"MKL_CBWR": "AVX2,STRICT"},
    "MKL_CBWR=COMPATIBLE": {"MKL_CBWR": "COMPATIBLE"},
    "ATEN_CPU_CAPABILITY=default": {"ATEN_CPU_CAPABILITY": "default"},
}


def env_arms() -> None:
    print("\n== the probes under each setting (child processes), one after the other")
    results = {}
    for label, extra in ENV_ARMS.items():
        env = dict(os.environ, **extra)
        for key in ("MKL_CBWR", "ATEN_CPU_CAPABILITY"):
            if key not in extra:
                env.pop(key, None)
        proc = subprocess.run([sys.executable, __file__, "--child"], env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{label}: child failed:\n{proc.stderr[-2000:]}")
            continue
        results[label] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"  {label}: done ({load_text()})")
    base = results.get("unset")
    for label, r in results.items():
        differ = [n for n, p in r["probes"].items() if not p["same_1_vs_2"]]
        runs = [n for n, p in r["runs"].items() if not p["same"]]
        cost = (
            ""
            if math.isnan(r["epoch_s"])
            else f"; epoch {r['epoch_s']:.2f} s CPU"
            + (f" ({r['epoch_s'] / base['epoch_s']:.2f} x unset)" if base else "")
        )
        print(f"\n{label}: cpu capability {r['capability']}{cost}")
        print(f"  probes differing between 1 and 2 threads: {differ or 'none'}")
        if r["runs"]:
            print(f"  whole runs differing between 1 and 2 threads: {runs or 'none'}")
        if base and label != "unset":
            moved = [n for n, p in r["probes"].items() if p["digest"] != base["probes"][n]["digest"]]
            print(f"  outputs (1 thread) that differ from the unset arm's: {moved or 'none'}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--env-arms", action="store_true", help="also run the probes under MKL_CBWR / ATEN_CPU_CAPABILITY")
    ap.add_argument(
        "--ops-only", action="store_true", help="with --env-arms: the operations only (no whole runs, no epoch timing)"
    )
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        ops_only = os.environ.get("PROBE_OPS_ONLY") == "1"
        r = {
            "probes": run_probes(False),
            "runs": {} if ops_only else whole_runs(False),
            "epoch_s": math.nan if ops_only else epoch_seconds(),
            "capability": torch.backends.cpu.get_cpu_capability(),
        }
        print(json.dumps(r))
        return 0
    machine_header("1 vs 2 torch threads, bit for bit")
    if args.ops_only and args.env_arms:
        os.environ["PROBE_OPS_ONLY"] = "1"
        env_arms()
        print(f"\nend: {load_text()}")
        return 0
    from zslbench.environment import numeric_environment

    env = numeric_environment("cpu")
    print(
        f"numeric environment: {json.dumps({k: env.get(k) for k in ('cpu_model', 'cpu_capability', 'mkl', 'onednn', 'numpy_blas')})}"
    )
    print("\n== operations (same inputs; 'DIFFER' = some output bit differs; max relative difference)")
    run_probes()
    print("\n== whole runs (every metric)")
    whole_runs()
    if args.env_arms:
        if args.ops_only:
            os.environ["PROBE_OPS_ONLY"] = "1"
        env_arms()
    print(f"\nend: {load_text()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
