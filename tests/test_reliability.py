"""Faults and bad inputs: a clear line, exit 2, nothing partial left, and reruns complete the work."""

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from support import hooked_env, one_line, other_cpu, training_started, wait_for, zsl
from support import zsl_in_process as zsl_here
from zslbench import store
from zslbench.errors import ZSLBenchError

TINY = ["--data", "synthetic", "--profile", "quick", "--set", "synthetic_scale=0.05", "--set", "epochs=1"]


def leftovers(results: Path) -> list[str]:
    runs = results / "runs"
    return sorted(p.name for p in runs.iterdir() if p.name.startswith(".")) if runs.exists() else []


# --- writing records ---------------------------------------------------------------------------
def test_write_run_is_all_or_nothing_when_the_disk_fills(tmp_path, monkeypatch):
    calls = {"n": 0}
    real_fsync = os.fsync

    def failing_fsync(fd):
        calls["n"] += 1
        if calls["n"] == 2:  # the second file of the run
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(ZSLBenchError, match="No space left on device"):
        store.write_run(tmp_path, "abc", {"run_id": "abc", "metrics": {}}, {"trace.csv": "x\n"})
    assert not (tmp_path / "runs" / "abc").exists()
    assert leftovers(tmp_path) == []


def test_rewriting_a_run_replaces_it_whole(tmp_path):
    rid = "00000000000000ab"
    store.write_run(tmp_path, rid, {"run_id": rid, "metrics": {"H": 1.0}}, {"a.csv": "old\n", "b.csv": "b\n"})
    store.write_run(tmp_path, rid, {"run_id": rid, "metrics": {"H": 2.0}}, {"a.csv": "new\n"})
    folder = tmp_path / "runs" / rid
    assert (folder / "a.csv").read_text() == "new\n"
    assert not (folder / "b.csv").exists()  # nothing of the old run survives
    assert store.read_record(folder / "record.json")["metrics"] == {"H": 2.0}
    assert leftovers(tmp_path) == []


def test_stale_temp_folders_of_dead_processes_are_cleaned(tmp_path):
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(proc.stdout)
    runs = tmp_path / "runs"
    (runs / f".abc.{dead_pid}.x1.tmp").mkdir(parents=True)
    (runs / f".abc.{dead_pid}.x1.tmp" / "record.json").write_text("{")
    mine = runs / f".def.{os.getpid()}.x2.tmp"
    mine.mkdir()
    removed = store.clean_stale_temp(tmp_path)
    assert [p.name for p in removed] == [f".abc.{dead_pid}.x1.tmp"]
    assert mine.exists()
    assert list(store.iter_records(tmp_path)) == []


def _can_mount_tmpfs(path: Path) -> str | None:
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(path)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        return f"cannot mount a tmpfs here: {proc.stderr.strip()}"
    return None


def test_a_full_disk_during_a_real_run_fails_cleanly(tmp_path):
    """A real ENOSPC: a 256 KiB tmpfs, nearly filled, as the results folder."""
    mount = tmp_path / "small"
    mount.mkdir()
    reason = _can_mount_tmpfs(mount)
    if reason:
        pytest.skip(reason)
    try:
        (mount / "results" / "runs").mkdir(parents=True)
        with open(mount / "filler", "wb") as fh:  # leave about 4 KiB
            try:
                fh.write(b"\0" * (256 * 1024 - 4096))
            except OSError:
                pass
        proc = zsl("run", "--model", "linear", "--dataset", "apy", *TINY, "--results", str(mount / "results"))
        assert proc.returncode == 2, proc.stderr
        line = one_line(proc.stderr)
        assert "No space left on device" in line and "cannot write run record" in line
        assert list((mount / "results" / "runs").iterdir()) == []  # no run folder, no temp folder
        os.unlink(mount / "filler")
        again = zsl("run", "--model", "linear", "--dataset", "apy", *TINY, "--results", str(mount / "results"))
        assert again.returncode == 0, again.stderr
        assert len(list(store.iter_records(mount / "results"))) == 1
    finally:
        subprocess.run(["umount", str(mount)], check=False)


# --- interrupting a run ------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_training_leaves_nothing_partial(tmp_path, signum):
    """The run stops inside its training loop (at the first optimizer step, held there by
    tests/sitehooks) and is signalled there, however fast or slow the machine is."""
    results, marks = tmp_path / "results", tmp_path / "marks"
    args = [
        "run",
        "--model",
        "linear",
        "--dataset",
        "apy",
        "--data",
        "synthetic",
        "--profile",
        "quick",
        "--set",
        "synthetic_scale=0.05",
        "--results",
        str(results),
    ]
    # The child starts with SIGINT's default disposition: a pytest launched in the background by a
    # non-interactive shell (`pytest &`) has SIGINT ignored, which the child would inherit, and a
    # program started with SIGINT ignored rightly keeps ignoring it.
    proc = subprocess.Popen(
        [sys.executable, "-m", "zslbench", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=hooked_env(marks, hold=(0,)),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        wait_for(lambda: training_started(marks), "training step", proc)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted" in one_line(err) and "again" in err
    runs = results / "runs"
    assert not runs.exists() or list(runs.iterdir()) == []


# --- bad records in the results folder ---------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncated", "old_version"])
def test_a_damaged_record_is_retrained_with_a_warning(tmp_path, damage):
    first = zsl("run", "--model", "linear", "--dataset", "apy", *TINY, "--results", str(tmp_path))
    assert first.returncode == 0, first.stderr
    (record_path,) = tmp_path.glob("runs/*/record.json")
    original = json.loads(record_path.read_text())
    if damage == "truncated":
        record_path.write_text(record_path.read_text()[:50])
    else:
        record_path.write_text(json.dumps(dict(original, record_version=0)))
    with pytest.warns(UserWarning, match=str(record_path.parent.name)):
        assert list(store.iter_records(tmp_path)) == []  # readers skip it, naming it
    again = zsl("run", "--model", "linear", "--dataset", "apy", *TINY, "--results", str(tmp_path))
    assert again.returncode == 0, again.stderr
    warning = one_line(again.stderr)
    assert warning.startswith("warning:") and str(record_path) in warning
    assert "training the run again" in warning
    fixed = store.read_record(record_path)
    assert fixed["metrics"] == original["metrics"]  # and the same seed gives the same numbers


# --- reproducibility ---------------------------------------------------------------------------
@pytest.mark.slow
def test_from_record_reruns_and_reports_a_match(tmp_path):
    first = zsl("run", "--model", "mlp3+eq9", "--dataset", "apy", *TINY, "--results", str(tmp_path))
    assert first.returncode == 0, first.stderr
    (record_path,) = tmp_path.glob("runs/*/record.json")
    proc = zsl("run", "--from-record", str(record_path))
    assert proc.returncode == 0, proc.stderr
    assert "metrics match the record exactly" in proc.stdout
    # a doctored record does not match, and says which metric
    doctored = json.loads(record_path.read_text())
    doctored["metrics"]["H"] += 5.0  # beyond the default tolerance (1.5 points)
    fake = tmp_path / "doctored.json"
    fake.write_text(json.dumps(doctored))
    proc = zsl("run", "--from-record", str(fake))
    assert proc.returncode == 1
    assert "H: recorded" in proc.stdout and "MISMATCH" in proc.stderr


@pytest.mark.parametrize(
    "args, needles",
    [
        (["run", "--from-record", "nope.json"], ["nope.json", "not found"]),
        (["run", "--from-record", "x.json", "--model", "mlp3"], ["--from-record", "--model"]),
        (["run", "--model", "mlp3", "--dataset", "sunn"], ["sunn", "did you mean 'sun'"]),
        (["run", "--model", "mlp3+c", "--dataset", "sun"], ["mlp3+c", "did you mean"]),
        (["data", "check", "--dataset", "cubb"], ["cubb", "did you mean 'cub'"]),
    ],
)
def test_bad_input_gives_one_clear_line(args, needles):
    proc = zsl(*args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    line = one_line(proc.stderr)
    for needle in needles:
        assert needle in line, (needle, line)


def test_broken_record_json_is_refused_clearly(tmp_path):
    bad = tmp_path / "record.json"
    bad.write_text('{"run_id": "x", "metrics": {}, "record_version": 99, "kind": "gzsl"}')
    proc = zsl("run", "--from-record", str(bad))
    assert proc.returncode == 2
    line = one_line(proc.stderr)
    assert str(bad) in line and "version 99" in line


def test_results_are_readable_by_others_as_the_umask_allows(tmp_path):
    old = os.umask(0o022)
    try:
        folder = store.write_run(tmp_path, "abc", {"run_id": "abc", "metrics": {}}, {"t.csv": "x\n"})
        store.atomic_write_text(tmp_path / "table.md", "x\n")
    finally:
        os.umask(old)
    assert folder.stat().st_mode & 0o777 == 0o755
    assert (folder / "record.json").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "table.md").stat().st_mode & 0o777 == 0o644


# Small quick-profile runs: GZSL mlp3+cn and CZSL ewc-online (with and without ClassNorm) on CUB.
GZ_TINY = ["--set", "synthetic_scale=0.05", "--set", "epochs=2"]
CZ_TINY = ["--set", "synthetic_scale=0.05"]
SWEEP = [
    "run",
    "--all",
    "--data",
    "synthetic",
    "--profile",
    "quick",
    "--models",
    "mlp3+cn",
    "--methods",
    "ewc-online",
    "--datasets",
    "cub",
    "--seeds",
    "3",
    *GZ_TINY,
]


def _records(results: Path) -> dict:
    return {r["run_id"]: r for r in store.iter_records(results)}


@pytest.mark.slow
def test_metrics_do_not_depend_on_the_launcher(tmp_path, capsys):
    """The same run id gives bit-identical metrics (every metric, GZSL and CZSL) whether it is
    launched as a single `run`, by a sweep in-process (--jobs 1) or by a pool of 2 workers
    (--jobs 2, which used to set one thread per worker), and every launcher trains with the
    config's thread count."""
    single = tmp_path / "single"
    common = ["--data", "synthetic", "--profile", "quick", "--dataset", "cub", "--seed", "3", "--results", str(single)]
    for args in (
        ["run", "--model", "mlp3+cn", *common, *GZ_TINY],
        ["run", "--czsl", "--method", "ewc-online", "--cn", *common, *CZ_TINY],
        ["run", "--czsl", "--method", "ewc-online", "--no-cn", *common, *CZ_TINY],
    ):
        code, _, err = zsl_here(capsys, *args)
        assert code == 0, err
    code, _, err = zsl_here(capsys, *SWEEP, "--jobs", "1", "--results", str(tmp_path / "jobs1"))  # in this process
    assert code == 0, err
    proc = zsl(*SWEEP, "--jobs", "2", "--results", str(tmp_path / "jobs2"))  # two spawned workers
    assert proc.returncode == 0, proc.stderr
    runs = {name: _records(tmp_path / name) for name in ("single", "jobs1", "jobs2")}
    assert len(runs["single"]) == 3
    assert {r["kind"] for r in runs["single"].values()} == {"gzsl", "czsl"}
    for name in ("jobs1", "jobs2"):
        assert set(runs[name]) == set(runs["single"]), name  # the same run ids
    for run_id, rec in runs["single"].items():
        for name in ("jobs1", "jobs2"):
            other = runs[name][run_id]
            assert other["metrics"].keys() == rec["metrics"].keys()
            for metric, value in rec["metrics"].items():  # bit for bit (NaN-safe)
                assert repr(other["metrics"][metric]) == repr(value), (name, rec["kind"], metric)
        for name in ("single", "jobs1", "jobs2"):
            r = runs[name][run_id]
            assert r["config"]["threads"] == 1
            assert r["env"]["threads"] == 1 and r["env"]["numerics"]["threads_intraop"] == 1, (name, r["kind"])


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["gzsl", "czsl"])
def test_the_callers_thread_setting_does_not_leak_into_a_run(tmp_path, kind):
    import torch

    from zslbench.tracks import execute_run, get_track

    def one(caller_threads: int, overrides: dict) -> dict:
        before = torch.get_num_threads()
        torch.set_num_threads(caller_threads)
        try:
            results = tmp_path / f"{caller_threads}-{overrides.get('threads', 'default')}"
            if kind == "gzsl":
                out = execute_run(
                    get_track("gzsl"),
                    "mlp3+cn",
                    "cub",
                    seed=3,
                    profile="quick",
                    source="synthetic",
                    results=results,
                    overrides={"epochs": 2, "synthetic_scale": 0.05, **overrides},
                )
            else:
                out = execute_run(
                    get_track("czsl-features"),
                    "ewc-online",
                    "cub",
                    seed=3,
                    classnorm=True,
                    profile="quick",
                    source="synthetic",
                    results=results,
                    overrides={"synthetic_scale": 0.05, **overrides},
                )
            assert torch.get_num_threads() == caller_threads  # the caller's setting is restored
        finally:
            torch.set_num_threads(before)
        return out.record

    a, b = one(1, {}), one(2, {})
    assert a["run_id"] == b["run_id"]
    assert repr(a["metrics"]) == repr(b["metrics"])
    assert a["env"]["threads"] == b["env"]["threads"] == 1
    two = one(1, {"threads": 2})  # threads=2 is another run id, and the run uses 2 threads
    assert two["run_id"] != a["run_id"] and two["config"]["threads"] == 2 and two["env"]["threads"] == 2


@pytest.mark.slow
def test_from_record_reports_environment_differences_and_tolerances(tmp_path, capsys):
    code, _, err = zsl_here(capsys, "run", "--model", "mlp3+eq9", "--dataset", "apy", *TINY, "--results", str(tmp_path))
    assert code == 0, err
    (record_path,) = tmp_path.glob("runs/*/record.json")
    record = json.loads(record_path.read_text())

    def replay(rec: dict, *extra: str):
        path = tmp_path / f"doctored-{len(list(tmp_path.glob('doctored-*')))}.json"
        path.write_text(json.dumps(rec))
        return subprocess.CompletedProcess([], *zsl_here(capsys, "run", "--from-record", str(path), *extra))

    # another machine's numeric environment, same metrics: an exact match that names the differences
    other = other_cpu(record["env"]["numerics"])  # surely not this machine's CPU
    env = dict(record["env"], numerics=dict(record["env"]["numerics"], **other, mkl="2025.1"))
    proc = replay(dict(record, env=env))
    assert proc.returncode == 0, proc.stderr
    assert "metrics match the record exactly" in proc.stdout
    for line in (
        f"cpu_vendor: recorded '{other['cpu_vendor']}'",
        f"cpu_capability: recorded '{other['cpu_capability']}'",
        "mkl: recorded '2025.1'",
    ):
        assert line in proc.stdout, proc.stdout
    # a metric nudged by less than its tolerance: within tolerance, exit 0
    nudged = dict(record, env=env, metrics=dict(record["metrics"], H=record["metrics"]["H"] + 0.2))
    proc = replay(nudged)
    assert proc.returncode == 0, proc.stderr
    assert "within tolerance" in proc.stdout and "H: recorded" in proc.stdout
    assert f"cpu_capability: recorded '{other['cpu_capability']}'" in proc.stdout
    # ... beyond a tighter tolerance given on the command line: exit 1
    proc = replay(nudged, "--atol", "H=0.1")
    assert proc.returncode == 1 and "MISMATCH" in proc.stderr and "H" in proc.stderr
    # beyond the default tolerance: exit 1, naming the metric
    far = dict(record, metrics=dict(record["metrics"], ZSL=record["metrics"]["ZSL"] + 2.0))
    proc = replay(far)
    assert proc.returncode == 1
    assert "ZSL: recorded" in proc.stdout and "BEYOND tolerance" in proc.stdout and "ZSL" in proc.stderr
