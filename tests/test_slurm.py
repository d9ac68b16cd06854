"""The slurm executor against a real single-node SLURM cluster (slurmctld, slurmd, munged) that
this test starts on 127.0.0.1 in a temporary folder and stops by PID (see slurm_cluster.py).

Needs root, the Debian packages slurmctld, slurmd, slurm-client and munge, and submitit; it is
skipped with the reason otherwise (.ci/run installs the packages when it runs as root on Debian).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from zslbench import store

sys.path.insert(0, str(Path(__file__).resolve().parent))
from slurm_cluster import local_slurm_cluster, missing_requirements

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.slow]


def _why_not() -> str | None:
    why = missing_requirements()
    if why:
        return why
    try:
        import submitit  # noqa: F401
    except ImportError:
        return "submitit is not installed (pip install 'zslbench[test]')"
    return None


@pytest.fixture(scope="module")
def cluster():
    why = _why_not()
    if why:
        pytest.skip(f"no local SLURM cluster: {why}")
    with local_slurm_cluster() as env:
        yield dict(env, PYTHONPATH=str(ROOT), ZSLBENCH_DATA="/nonexistent-zslbench-data")


def sweep(env, results: Path, *args: str, synthetic: bool = True) -> subprocess.CompletedProcess:
    # synthetic_scale acts only on synthetic data; a sweep refuses a --set that acts on no planned run
    small = ["--set", "synthetic_scale=0.05"] if synthetic else []
    cmd = [
        sys.executable,
        "-m",
        "zslbench",
        "run",
        "--all",
        "--profile",
        "quick",
        "--executor",
        "slurm",
        "--only",
        "gzsl",
        "--set",
        "epochs=1",
        *small,
        "--results",
        str(results),
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def test_quick_sweep_through_submitit_writes_records_and_resumes(cluster, tmp_path):
    results = tmp_path / "results"
    args = ("--datasets", "sun", "--models", "linear,mlp3+cn", "--seeds", "1")
    out = sweep(cluster, results, *args)
    assert out.returncode == 0, out.stderr
    assert re.search(r"submitted SLURM job array \d+ \(2 tasks\)", out.stderr)
    assert "Bypassing sacct" not in out.stderr
    records = [store.read_record(p.parent / "record.json") for p in (results / "runs").glob("*/done")]
    assert sorted(r["model"] for r in records) == ["linear", "mlp3+cn"]
    assert {r["dataset"] for r in records} == {"sun"} and {r["seed"] for r in records} == {1}
    assert list((results / "slurm").glob("*/*_log.out"))  # submitit's job logs are kept

    again = sweep(cluster, results, *args)  # everything done: nothing is submitted
    assert again.returncode == 0, again.stderr
    assert "0 trained, 2 skipped" in again.stderr and "submitted" not in again.stderr


def test_failed_slurm_run_reports_reason_and_log(cluster, tmp_path):
    data = tmp_path / "data" / "xlsa17" / "data" / "SUN"
    data.mkdir(parents=True)
    (data / "res101.mat").write_bytes(b"broken")
    (data / "att_splits.mat").write_bytes(b"broken")
    out = sweep(
        cluster,
        tmp_path / "results",
        "--datasets",
        "sun",
        "--models",
        "linear",
        "--seeds",
        "1",
        "--data-dir",
        str(tmp_path / "data"),
        synthetic=False,
    )
    assert out.returncode == 1, out.stderr
    m = re.search(r"FAILED gzsl linear sun seed 1: (.+) \(log: (\S+)\)", out.stderr)
    assert m, out.stderr
    log = Path(m.group(2))
    assert log.is_file() and "/slurm/" in str(log) and "Traceback" in log.read_text()


def test_slurm_runs_are_logged_as_local_ones(cluster, tmp_path):
    results = tmp_path / "results"
    out = sweep(cluster, results, "--datasets", "sun", "--models", "linear", "--seeds", "1", "--log", "csv")
    assert out.returncode == 0, out.stderr
    ids = [p.parent.name for p in (results / "runs").glob("*/done")]
    assert len(ids) == 1 and (results / "logs" / "csv" / f"{ids[0]}.csv").is_file()
