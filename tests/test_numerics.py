"""Numeric environment: threads in the config and run id, what records say about the numerics,
replays compared within tolerances, and table notes on pooled numeric environments."""

from __future__ import annotations

import math
import shutil
import warnings
from pathlib import Path

import pytest
import torch

from support import other_cpu
from zslbench import environment, numerics, store
from zslbench.config import CZSLConfig, GZSLConfig, parse_overrides
from zslbench.errors import ConfigError
from zslbench.replay import (
    DEFAULT_ATOL,
    Tolerance,
    compare_records,
    report_lines,
    tolerances_for,
)
from zslbench.tracks import get_track, make_config, planned_run_id

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "results"

# The env block of a record written before the numeric environment was recorded (fixtures too).
OLD_ENV = {
    "python": "3.11.7",
    "torch": "2.13.0+cpu",
    "numpy": "2.4.6",
    "platform": "Linux-fixture",
    "device": "cpu",
    "device_name": "x86_64",
    "threads": 2,
    "git_commit": "fixture",
}


# --- threads: a config field, in the run id -----------------------------------------------------
def test_threads_is_a_config_field_with_default_one():
    assert GZSLConfig().threads == 1 and CZSLConfig().threads == 1
    assert make_config("gzsl", "quick").threads == 1 and make_config("czsl-features", "quick").threads == 1
    assert parse_overrides(GZSLConfig, ["threads=2"]) == {"threads": 2}
    for bad in ("threads=0", "threads=-1"):
        with pytest.raises(ConfigError, match="threads"):
            make_config("gzsl", "quick", parse_overrides(GZSLConfig, [bad]))
    with pytest.raises(ConfigError, match="threads"):
        parse_overrides(CZSLConfig, ["threads=two"])


def test_threads_is_part_of_the_run_id():
    gzsl, czsl = get_track("gzsl"), get_track("czsl-features")

    g1 = planned_run_id(gzsl, "linear", "apy", 1, None, "quick", "synthetic")
    g2 = planned_run_id(gzsl, "linear", "apy", 1, None, "quick", "synthetic", overrides={"threads": 2})
    assert g1 == planned_run_id(gzsl, "linear", "apy", 1, None, "quick", "synthetic", overrides={"threads": 1})
    assert g1 != g2
    c1 = planned_run_id(czsl, "agem", "cub", 1, True, "quick", "synthetic")
    assert c1 != planned_run_id(czsl, "agem", "cub", 1, True, "quick", "synthetic", overrides={"threads": 2})


def test_numeric_context_sets_and_restores_the_callers_threads():
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        with numerics.numeric_context(1):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        torch.set_num_threads(1)
        with numerics.numeric_context(2):
            assert torch.get_num_threads() == 2
        assert torch.get_num_threads() == 1
        with pytest.raises(RuntimeError):
            with numerics.numeric_context(2):
                raise RuntimeError("boom")
        assert torch.get_num_threads() == 1  # restored on the way out of a failure too
        with pytest.raises(ConfigError, match="threads"):
            with numerics.numeric_context(0):
                pass
    finally:
        torch.set_num_threads(before)


# --- what the record says ---------------------------------------------------------------------
def test_the_record_env_says_what_determines_the_numerics():
    before = torch.get_num_threads()
    try:
        with numerics.numeric_context(1):
            env = store.environment("cpu")
    finally:
        torch.set_num_threads(before)
    num = env["numerics"]
    assert env["threads"] == 1 and num["threads_intraop"] == 1  # the count in effect
    for key in (
        "cpu_vendor",
        "cpu_model",
        "cpu_isa",
        "cpu_capability",
        "torch_blas",
        "mkl",
        "onednn",
        "numpy_blas",
        "torch",
        "numpy",
        "python",
        "threads_interop",
        "deterministic_algorithms",
        "env_vars",
    ):
        assert key in num, key
    assert num["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert num["torch"] == torch.__version__
    if torch.backends.mkl.is_available():
        assert num["torch_blas"] == "mkl" and num["mkl"] and num["mkl"][0].isdigit()
    assert isinstance(num["env_vars"], dict)
    assert "gpu" not in num  # the CUDA part only on a CUDA run


def test_env_vars_that_change_the_numerics_are_recorded(monkeypatch):
    monkeypatch.setenv("MKL_CBWR", "AVX2,STRICT")
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    monkeypatch.delenv("ATEN_CPU_CAPABILITY", raising=False)
    env = environment.numeric_environment("cpu")
    assert env["env_vars"]["MKL_CBWR"] == "AVX2,STRICT" and "ATEN_CPU_CAPABILITY" not in env["env_vars"]
    # thread-count variables are recorded apart: a run sets its own threads, so replays ignore them
    assert env["thread_env_vars"]["OMP_NUM_THREADS"] == "3" and "OMP_NUM_THREADS" not in env["env_vars"]
    other = dict(env, thread_env_vars={})
    assert environment.env_differences({"numerics": env}, {"numerics": other}) == []


def test_cuda_reproducibility_settings_are_data():
    """Not run on a GPU here: the settings a CUDA run applies, as a pure function."""
    plan = numerics.cuda_reproducibility({})
    assert plan["set_env"] == {"CUBLAS_WORKSPACE_CONFIG": ":4096:8"}
    assert plan["use_deterministic_algorithms"] is True
    assert plan["cudnn_benchmark"] is False and plan["cudnn_deterministic"] is True
    assert numerics.cuda_reproducibility({"CUBLAS_WORKSPACE_CONFIG": ":16:8"})["set_env"] == {}
    odd = numerics.cuda_reproducibility({"CUBLAS_WORKSPACE_CONFIG": ":0:0"})
    assert odd["set_env"] == {} and "CUBLAS_WORKSPACE_CONFIG" in odd["notes"][0]


def test_cpu_isa_from_flags():
    assert environment.cpu_isa({"sse4_2", "avx", "avx2", "avx512f"}) == "AVX512"
    assert environment.cpu_isa({"sse4_2", "avx", "avx2"}) == "AVX2"
    assert environment.cpu_isa(set()) is None


def test_numeric_key_of_new_and_old_records():
    new = {
        "device": "cpu",
        "torch": "2.13.0+cpu",
        "threads": 1,
        "numerics": {
            "cpu_vendor": "GenuineIntel",
            "cpu_capability": "AVX512",
            "torch_blas": "mkl",
            "mkl": "2024.2",
            "torch": "2.13.0+cpu",
            "threads_intraop": 1,
        },
    }
    assert environment.numeric_key(new) == "cpu AVX512 (Intel), MKL 2024.2, torch 2.13.0+cpu, 1 thr"
    assert environment.numeric_key(OLD_ENV) == "cpu ?, BLAS ?, torch 2.13.0+cpu, 2 thr"
    assert environment.numeric_key(None) == "? ?, BLAS ?, torch ?, ? thr"
    gpu = {
        "device": "cuda",
        "torch": "2.13.0+cu128",
        "numerics": {"gpu": "NVIDIA H200", "cuda": "12.8", "threads_intraop": 1},
    }
    assert environment.numeric_key(gpu).startswith("cuda NVIDIA H200, CUDA 12.8")


def test_env_differences_name_the_fields_and_what_was_not_recorded():
    here = store.environment("cpu")
    assert environment.env_differences(here, here) == []
    other = other_cpu(here["numerics"])["cpu_capability"]  # surely not this machine's
    doctored = {
        **here,
        "numerics": {
            **here["numerics"],
            "cpu_capability": other,
            "mkl": "2099.1",
            "env_vars": {"MKL_CBWR": "COMPATIBLE"},
        },
    }
    fields = [f for f, _, _ in environment.env_differences(doctored, here)]
    assert fields == ["cpu_capability", "mkl", "env_vars"]
    old = environment.env_differences(OLD_ENV, here)
    by_field = {f: (a, b) for f, a, b in old}
    assert by_field["mkl"][0] is environment.NOT_RECORDED
    assert "device" not in by_field  # recorded in both, equal


# --- replays: exact, within tolerance, different ---------------------------------------------
def _record(metrics, env=None, fp="abc"):
    return {"metrics": dict(metrics), "env": env or store.environment("cpu"), "data_fingerprint": fp}


def test_compare_exact_within_and_beyond_tolerance():
    m = {"S": 30.0, "U": 20.0, "H": 24.0, "forgetting": 0.1, "seen_scale": 0.95}
    assert compare_records(_record(m), _record(m)).verdict == "exact"
    near = dict(m, H=24.0 + DEFAULT_ATOL["H"] / 2, forgetting=0.1 + DEFAULT_ATOL["forgetting"] / 2)
    cmp = compare_records(_record(m), _record(near))
    assert cmp.verdict == "within_tolerance" and cmp.exit_code == 0
    assert [c.name for c in cmp.by("within")] == ["H", "forgetting"]
    far = dict(m, U=20.0 + 2 * DEFAULT_ATOL["U"])
    cmp = compare_records(_record(m), _record(far))
    assert cmp.verdict == "differs" and cmp.exit_code == 1 and [c.name for c in cmp.by("differs")] == ["U"]
    # forgetting is a fraction: a nudge that is small in percentage points is large for it
    assert compare_records(_record(m), _record(dict(m, forgetting=0.1 + 0.2))).verdict == "differs"
    # seen_scale is a setting: compared exactly
    assert compare_records(_record(m), _record(dict(m, seen_scale=0.9500001))).verdict == "differs"
    # another data file is a real difference even with equal metrics
    assert compare_records(_record(m), _record(m, fp="other")).verdict == "differs"
    # a metric the rerun does not produce
    assert compare_records(_record(m), _record({k: v for k, v in m.items() if k != "S"})).verdict == "differs"


def test_nan_metrics_compare_equal_to_nan_only():
    m = {"mH": math.nan, "mJA": 10.0}
    assert compare_records(_record(m), _record(m)).verdict == "exact"
    assert compare_records(_record(m), _record(dict(m, mH=10.0))).verdict == "differs"


def test_tolerance_options():
    tols = tolerances_for(["H", "forgetting", "seen_scale", "new_metric"])
    assert tols["H"] == Tolerance(1.5, 0.0) and tols["forgetting"] == Tolerance(0.02, 0.0)
    assert tols["seen_scale"].atol == 0 and tols["new_metric"].atol == 0
    tols = tolerances_for(["H", "S"], atol=["0.1", "H=2"], rtol=["S=0.01"])
    assert tols["H"] == Tolerance(2.0, 0.0) and tols["S"] == Tolerance(0.1, 0.01)
    assert Tolerance(0.0, 0.01).allows(100.0, 100.9) and not Tolerance(0.0, 0.01).allows(100.0, 101.1)
    with pytest.raises(ConfigError, match="no metric 'HH'"):
        tolerances_for(["H"], atol=["HH=1"])
    for bad in ("x", "-1", "H=inf"):
        with pytest.raises(ConfigError, match="--rtol"):
            tolerances_for(["H"], rtol=[bad])


def test_the_report_says_within_tolerance_and_which_environment_fields_differ():
    here = store.environment("cpu")
    other = other_cpu(here["numerics"])  # surely not this machine's CPU
    there = {**here, "numerics": {**here["numerics"], **other}}
    m = {"S": 30.0, "H": 24.0}
    out, err = report_lines(compare_records(_record(m, there), _record(dict(m, H=24.1), here)))
    text = "\n".join(out)
    assert "within tolerance" in text and not err
    assert f"cpu_capability: recorded '{other['cpu_capability']}', here " in text
    assert f"cpu_vendor: recorded '{other['cpu_vendor']}'" in text
    out, err = report_lines(compare_records(_record(m, there), _record(dict(m, H=27.0), here)))
    assert "H: recorded 24.0, rerun 27.0" in "\n".join(out) and "BEYOND tolerance" in "\n".join(out)
    assert err and "MISMATCH" in err[0] and "H" in err[0]
    out, err = report_lines(compare_records(_record(m, here), _record(dict(m, H=24.1), here)))
    assert "unexpected" in "\n".join(out)  # same environment: bit-identical was promised
    out, _ = report_lines(compare_records(_record(m, here), _record(m, here)))
    assert "metrics match the record exactly" in out[-1]


# --- tables: cells that pool numeric environments ---------------------------------------------
def _copy_fixture(tmp_path: Path) -> Path:
    dst = tmp_path / "results"
    shutil.copytree(FIXTURE, dst)
    return dst


def _tables(results: Path):
    from zslbench.report.paper_tables import build_table

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_table("gzsl", results), build_table("czsl", results)


def test_records_of_one_numeric_environment_tabulate_without_a_pooling_note():
    gz, cz = _tables(FIXTURE)  # one fixture machine, and one old record (env without `numerics`) alone in its cell
    for table in (gz, cz):
        notes = [n for s in table.sections for n in s.notes]
        assert notes and not any("numeric environments" in n for n in notes)


def test_a_cell_pooling_numeric_environments_gets_a_note(tmp_path):
    import json

    results = _copy_fixture(tmp_path)
    changed = None
    for rec_path in sorted((results / "runs").glob("*/record.json")):
        try:
            rec = json.loads(rec_path.read_text())
        except json.JSONDecodeError:
            continue
        if (
            rec.get("model") == "mlp3"
            and rec.get("dataset") == "sun"
            and rec.get("data_source") == "synthetic"
            and not rec.get("non_default_options")
        ):
            fixture_key = environment.numeric_key(rec["env"])
            rec["env"] = dict(
                rec["env"],
                numerics={
                    "cpu_vendor": "GenuineIntel",
                    "cpu_capability": "AVX512",
                    "torch_blas": "mkl",
                    "mkl": "2024.2",
                    "threads_intraop": 1,
                },
            )
            rec_path.write_text(json.dumps(rec))
            changed = rec["seed"]
            break
    assert changed is not None
    gz, _ = _tables(results)
    notes = [n for s in gz.sections for n in s.notes if "numeric environments" in n]
    assert len(notes) == 1, notes
    note = notes[0]
    assert "`mlp3` on SUN" in note and "pools runs from 2 numeric environments" in note
    assert f"cpu AVX512 (Intel), MKL 2024.2, torch 2.13.0+cpu, 1 thr (seed {changed})" in note
    assert f"{fixture_key} (seeds" in note
    assert "pools runs from 2 numeric environments" in gz.to_markdown()


# --- the synthetic data's bits do not depend on numpy's BLAS threads ----------------------------
def test_synthetic_data_bits_do_not_depend_on_the_blas_thread_count():
    """OpenBLAS computes some small products differently with 1 and 2 threads; the data are
    generated with its threads held at one, so a process's thread settings never change them."""
    import os
    import subprocess
    import sys

    code = (
        "from zslbench.data import load_dataset; from zslbench.environment import data_content_sha256; "
        "print(data_content_sha256(load_dataset('cub', 'synthetic', scale=0.05)))"
    )
    digests = set()
    for threads in ("1", "2"):
        env = dict(os.environ, OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads)
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr
        digests.add(proc.stdout.strip())
    assert len(digests) == 1, digests


def test_blas_threads_limits_and_restores():
    threadpoolctl = pytest.importorskip("threadpoolctl", reason="threadpoolctl (a dependency) is not installed")
    import numpy  # noqa: F401  (loads its BLAS)

    def blas_threads_now():
        return {
            lib["filepath"]: lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"
        }

    before = blas_threads_now()
    if not before:
        pytest.skip("numpy's BLAS is not visible to threadpoolctl here")
    with numerics.blas_threads(1) as limited:
        assert limited and set(blas_threads_now().values()) == {1}
    assert blas_threads_now() == before


def test_a_replay_says_when_the_data_bits_differ():
    m = {"H": 24.0}
    a = dict(_record(m), data_content_sha256="a" * 64)
    b = dict(_record(dict(m, H=24.1)), data_content_sha256="b" * 64)
    cmp = compare_records(a, b)
    assert cmp.same_data and cmp.same_data_bits is False and cmp.verdict == "within_tolerance"
    assert "fingerprint but not its bits" in "\n".join(report_lines(cmp)[0])
    assert compare_records(_record(m), _record(m)).same_data_bits is None  # old records: unknown


def test_the_sweep_sizes_its_pool_by_the_runs_threads(tmp_path):
    from zslbench.sweep import plan_sweep, run_threads

    plan = plan_sweep("quick", models=["linear"], datasets=["apy"], seeds=[1], source="synthetic", results=tmp_path)
    assert run_threads(plan) == 1
    plan = plan_sweep(
        "quick",
        models=["linear"],
        methods=["agem"],
        datasets=["cub"],
        seeds=[1],
        source="synthetic",
        results=tmp_path,
        sets=("threads=3",),
    )
    assert run_threads(plan) == 3
    assert {j.run_id for j in plan.jobs}.isdisjoint(
        {
            j.run_id
            for j in plan_sweep(
                "quick",
                models=["linear"],
                methods=["agem"],
                datasets=["cub"],
                seeds=[1],
                source="synthetic",
                results=tmp_path,
            ).jobs
        }
    )
