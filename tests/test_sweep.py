"""Sweeps (`zslbench run --all`): the plan, locks, and crash safety with real sweep processes.

The end-to-end tests run the CLI in subprocesses on tiny synthetic data (1 epoch, 5% of the
images) and kill or interrupt them for real.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from support import cli_env, hooked_env, training_pid, training_started, wait_for
from support import zsl_in_process as run_cli
from zslbench import store
from zslbench.errors import ConfigError
from zslbench.executors import Job, SweepSettings, execute_job, parse_slurm_extra, parse_slurm_time
from zslbench.locks import RunLock
from zslbench.sweep import plan_sweep

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--set", "epochs=1", "--set", "synthetic_scale=0.05"]
TINY_SETS = ["epochs=1", "synthetic_scale=0.05"]


def sweep_cmd(results: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "zslbench",
        "run",
        "--all",
        "--profile",
        "quick",
        "--only",
        "gzsl",
        "--results",
        str(results),
        *TINY,
        *args,
    ]


NO_DATA = "/nonexistent-zslbench-data"  # every dataset resolves to synthetic data


def env() -> dict:
    return cli_env(ZSLBENCH_DATA=NO_DATA)


def trained_ids(text: str) -> list[str]:
    """Run ids that a sweep's per-run lines (non-tty mode) report as trained."""
    return re.findall(r"\[([0-9a-f]{16})\]: trained", text)


def assert_clean_and_complete(results: Path, expected: set[str]) -> None:
    runs = results / "runs"
    assert {p.name for p in runs.iterdir()} == expected
    for rid in expected:
        assert (runs / rid / "done").exists(), rid
        rec = store.read_record(runs / rid / "record.json")  # parses, right version
        assert rec["run_id"] == rid
    leftovers = [p for p in results.rglob("*") if p.name.endswith(".tmp") or p.suffix == ".lock"]
    assert leftovers == []


# --------------------------------------------------------------------------- plan
def test_full_grid_counts():
    quick = plan_sweep("quick", results=Path("/nonexistent/results"), source="synthetic")
    gz = [j for j in quick.jobs if j.kind == "gzsl"]
    cz = [j for j in quick.jobs if j.kind == "czsl"]
    assert len(gz) == 6 * 4 * 2 and len(cz) == 5 * 2 * 2 * 2  # the paper's five models and f-CLSWGAN
    assert len({j.run_id for j in gz}) == 48 and all(j.state == "todo" for j in gz)
    assert {j.dataset for j in gz} == {"sun", "cub", "awa1", "awa2"}
    assert {j.dataset for j in cz} == {"cub", "sun"} and {j.classnorm for j in cz} == {False, True}
    assert len({j.run_id for j in cz}) == 40 and all(j.state == "todo" for j in cz)
    paper = plan_sweep("paper", results=Path("/nonexistent/results"), source="synthetic")
    assert len(paper.jobs) == 6 * 4 * 5 + 5 * 2 * 2 * 5
    assert paper.seeds == (1, 2, 3, 4, 5)


@pytest.mark.parametrize(
    "kwargs, n_gzsl, n_czsl",
    [
        ({"only": "gzsl", "datasets": ["sun"]}, 12, 0),
        ({"models": ["linear", "mlp3"], "seeds": [3]}, 8, 0),
        ({"datasets": ["cub", "awa1"]}, 24, 20),
        ({"only": "czsl", "datasets": ["sun"], "seeds": [1, 2, 3]}, 0, 30),
        ({"methods": ["agem"], "datasets": ["cub"]}, 0, 4),
        ({"datasets": ["apy"], "only": "gzsl", "models": ["mlp3+cn"]}, 2, 0),
    ],
)
def test_filters(kwargs, n_gzsl, n_czsl):
    plan = plan_sweep("quick", source="synthetic", results=Path("/nonexistent"), **kwargs)
    assert sum(j.kind == "gzsl" for j in plan.jobs) == n_gzsl
    assert sum(j.kind == "czsl" for j in plan.jobs) == n_czsl


@pytest.mark.parametrize(
    "args, words",
    [
        (["--models", "mlp4"], "--models: unknown name 'mlp4'"),
        (["--datasets", "imagenet"], "--datasets: unknown name 'imagenet'"),
        (["--seeds", "1,x"], "--seeds: 'x' is not an integer"),
        (["--only", "gzsl", "--methods", "agem"], "--methods selects CZSL runs"),
        (["--model", "linear"], "with --all use --models"),
        (["--jobs", "0"], "--jobs 0: must be >= 1"),
        (["--set", "epoch=3"], "unknown key 'epoch'"),
        (["--executor", "slurm", "--slurm-time", "soon"], "--slurm-time 'soon'"),
        (["--slurm-partition", "gpu"], "--slurm-partition needs --executor slurm"),
        (["--executor", "slurm", "--jobs", "2"], "--jobs applies to --executor local"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(tmp_path, capsys, args, words):
    code, _, err = run_cli(capsys, "run", "--all", "--profile", "quick", "--dry-run", "--results", str(tmp_path), *args)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], err


def test_sweep_options_need_all(capsys):
    code, _, err = run_cli(capsys, "run", "--model", "linear", "--dataset", "sun", "--jobs", "2")
    assert code == 2 and "--jobs needs --all" in err


def test_slurm_option_parsing():
    assert parse_slurm_time("90") == 90 and parse_slurm_time("01:30:00") == 90
    assert parse_slurm_time("1-00:00:00") == 1440 and parse_slurm_time("10:30") == 11
    assert parse_slurm_extra(["account=abc", "--qos=low", "mail-type=END"]) == {
        "account": "abc",
        "qos": "low",
        "mail_type": "END",
    }
    with pytest.raises(ConfigError):
        parse_slurm_extra(["account"])


@pytest.mark.slow
def test_plan_and_runner_agree_on_run_ids(tmp_path):
    from zslbench.config import GZSLConfig, parse_overrides
    from zslbench.tracks import execute_run, get_track

    over = parse_overrides(GZSLConfig, TINY_SETS)
    plan = plan_sweep(
        "quick",
        only="gzsl",
        models=["linear"],
        datasets=["sun"],
        seeds=[2],
        source="synthetic",
        results=tmp_path,
        sets=TINY_SETS,
    )
    (job,) = plan.jobs
    assert job.state == "todo"
    outcome = execute_run(
        get_track("gzsl"),
        "linear",
        "sun",
        seed=2,
        profile="quick",
        source="synthetic",
        results=tmp_path,
        overrides=over,
        progress=False,
    )
    assert outcome.run_id == job.run_id
    again = plan_sweep(
        "quick",
        only="gzsl",
        models=["linear"],
        datasets=["sun"],
        seeds=[2],
        source="synthetic",
        results=tmp_path,
        sets=TINY_SETS,
    )
    assert again.jobs[0].state == "done" and again.to_run == []


def timed_record(results, rid, model, dataset, profile, train, evaluation=1.0):
    """A done GZSL record with only what the time estimates read."""
    store.write_run(
        results,
        rid,
        {
            "run_id": rid,
            "kind": "gzsl",
            "model": model,
            "dataset": dataset,
            "profile": profile,
            "metrics": {},
            "train_seconds": train,
            "eval_seconds": evaluation,
        },
    )


def test_time_estimate_comes_from_done_records_of_the_same_profile(tmp_path):
    from zslbench.sweep import estimate_seconds, time_left
    from zslbench.tracks import get_track

    timed_record(tmp_path, "a" * 16, "linear", "sun", "quick", 9.0)
    timed_record(tmp_path, "b" * 16, "linear", "sun", "quick", 19.0)
    timed_record(tmp_path, "c" * 16, "linear", "sun", "paper", 1000.0)  # another profile: ignored
    plan = plan_sweep(
        "quick",
        only="gzsl",
        models=["linear", "mlp3"],
        datasets=["sun", "apy"],  # aPY: no measured quick default
        seeds=[1],
        source="synthetic",
        results=tmp_path,
    )
    est = estimate_seconds(plan)
    assert est[("gzsl", "linear", "sun")] == 15.0  # mean of (9+1, 19+1)
    assert est[("gzsl", "mlp3", "sun")] == 15.0 and est[("gzsl", "linear", "apy")] == 15.0  # the kind's mean
    assert time_left(plan, 2) == 4 * 15.0 / 2
    info = get_track("gzsl").info
    for dataset, expected in (("apy", info.seconds["quick"]), ("sun", info.dataset_seconds["quick"]["sun"])):
        empty = plan_sweep(
            "quick",
            only="gzsl",
            models=["linear"],
            datasets=[dataset],
            seeds=[1],
            source="synthetic",
            results=tmp_path / "none",
        )
        assert time_left(empty, 1) == expected


def test_paper_estimates_are_per_dataset_and_records_of_the_dataset_come_first(tmp_path):
    from zslbench.sweep import estimate_seconds
    from zslbench.tracks import get_track

    track = get_track("czsl-features")
    plan = plan_sweep(
        "paper",
        only="czsl",
        methods=["agem", "sequential"],
        datasets=["cub", "sun"],
        seeds=[1],
        source="synthetic",
        results=tmp_path,
    )
    est = estimate_seconds(plan)
    for ds in ("cub", "sun"):  # the measured per-dataset defaults, not one per-profile figure
        assert est[("czsl-features", "agem", ds)] == track.info.dataset_seconds["paper"][ds]
    assert est[("czsl-features", "agem", "sun")] > 2 * est[("czsl-features", "agem", "cub")]
    store.write_run(
        tmp_path,
        "d" * 16,
        {
            "run_id": "d" * 16,
            "kind": "czsl",
            "track": "features",
            "method": "sequential",
            "dataset": "sun",
            "profile": "paper",
            "metrics": {},
            "train_seconds": 70.0,
            "eval_seconds": 2.0,
        },
    )
    est = estimate_seconds(plan)
    assert est[("czsl-features", "sequential", "sun")] == 72.0  # its own record
    assert est[("czsl-features", "agem", "sun")] == 72.0  # the track's record on that dataset
    assert est[("czsl-features", "agem", "cub")] == track.info.dataset_seconds["paper"]["cub"]  # not SUN's time


def test_a_model_that_declares_its_cost_is_estimated_with_it_not_with_the_other_models_runs(tmp_path):
    """f-CLSWGAN's paper runs take hours where the other models take minutes: done runs of the
    other models on the dataset do not stand in for it; its own records still come first."""
    from zslbench.models import MODELS
    from zslbench.sweep import estimate_seconds

    timed_record(tmp_path, "a" * 16, "mlp3+cn", "cub", "paper", 50.0, 0.0)
    plan = plan_sweep(
        "paper",
        only="gzsl",
        models=["mlp3", "f-clswgan"],
        datasets=["cub", "sun"],
        seeds=[1],
        source="synthetic",
        results=tmp_path,
    )
    est = estimate_seconds(plan)
    declared = MODELS.get("f-clswgan").seconds["paper"]
    assert est[("gzsl", "mlp3", "cub")] == 50.0  # the track's run on the dataset
    assert est[("gzsl", "f-clswgan", "cub")] == declared["cub"] > 100 * 50.0
    assert est[("gzsl", "f-clswgan", "sun")] == declared["sun"]
    timed_record(tmp_path, "b" * 16, "f-clswgan", "cub", "paper", 6000.0, 0.0)
    assert estimate_seconds(plan)[("gzsl", "f-clswgan", "cub")] == 6000.0  # its own record


@pytest.mark.parametrize(
    "extra, expected",
    [
        (["--slurm-time", "60"], r"--slurm-time [2-9]:00:00 or more"),  # f-CLSWGAN on CUB: hours on a CPU
        (["--slurm-time", "4:00:00"], None),
        (["--slurm-time", "60", "--device", "cuda"], None),  # the estimates are CPU times
    ],
)
def test_a_slurm_plan_says_which_runs_would_outlast_the_time_limit(tmp_path, capsys, extra, expected):
    args = ["run", "--all", "--profile", "paper", "--only", "gzsl", "--models", "mlp3+cn,f-clswgan"]
    args += ["--datasets", "cub", "--seeds", "1", "--data", "synthetic", "--results", str(tmp_path)]
    code, out, err = run_cli(capsys, *args, "--executor", "slurm", "--dry-run", *extra)
    if code == 2 and "cuda" in err:
        pytest.skip(f"this torch cannot plan a CUDA sweep here: {err.strip()}")
    assert code == 0, err
    notes = [line for line in out.splitlines() if "outlast" in line]
    if expected is None:
        assert notes == [], out
    else:
        (note,) = notes
        assert "1 run(s)" in note and "f-clswgan on cub" in note and re.search(expected, note), note


def test_dry_run_lists_the_grid(tmp_path, capsys):
    code, out, err = run_cli(
        capsys, "run", "--all", "--profile", "quick", "--dry-run", "--results", str(tmp_path), "--data", "synthetic"
    )
    assert code == 0, err
    assert "plan: 88 runs (48 GZSL, 40 CZSL)" in out
    assert "estimated time left" in out
    rows = [ln for ln in out.splitlines() if re.match(r"^(gzsl|czsl)\s", ln)]
    assert len(rows) == 88
    assert not (tmp_path / "runs").exists()  # a dry run writes nothing


# --------------------------------------------------------------------------- locks
def test_lock_is_exclusive_and_recovered_from_a_dead_holder(tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys,time; from zslbench.locks import RunLock; l=RunLock(sys.argv[1],'abc');"
            "assert l.acquire(); print('held', flush=True); time.sleep(3600)",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env(),
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        mine = RunLock(tmp_path, "abc")
        assert not mine.acquire(wait=False)
        assert f"pid={holder.pid}" in mine.holder()
        holder.kill()  # SIGKILL: the lock file stays behind, stale
        holder.wait()
        assert (tmp_path / "locks" / "abc.lock").exists()
        assert mine.acquire(wait=False)
        assert f"pid={os.getpid()}" in mine.holder()
        mine.release()
        assert not (tmp_path / "locks" / "abc.lock").exists()
    finally:
        holder.kill()
        holder.wait()


def test_job_under_a_held_lock_is_busy_and_done_runs_are_skipped(tmp_path):
    settings = SweepSettings("quick", "synthetic", None, "cpu", tmp_path)
    job = Job("gzsl", "linear", "sun", 1, None, "0123456789abcdef")
    other = RunLock(tmp_path, job.run_id)
    assert other.acquire()
    assert execute_job(job, settings).status == "busy"
    other.release()
    store.write_run(tmp_path, job.run_id, {"run_id": job.run_id, "metrics": {}})
    res = execute_job(job, settings)
    assert res.status == "skipped" and "another sweep" in res.reason


# --------------------------------------------------------------------------- real sweeps
@pytest.mark.slow
def test_sigkill_then_rerun_finishes_only_the_missing_runs(tmp_path):
    """The second run to start is held at its first training step (tests/sitehooks) while the
    first finishes; the sweep is killed then, so exactly one run is done, on any machine."""
    results, marks = tmp_path / "results", tmp_path / "marks"
    cmd = sweep_cmd(results, "--datasets", "sun", "--models", "linear,mlp3+cn", "--seeds", "1", "--jobs", "2")
    plan = plan_sweep(
        "quick",
        only="gzsl",
        datasets=["sun"],
        models=["linear", "mlp3+cn"],
        seeds=[1],
        source="auto",
        data_dir=Path(NO_DATA),  # the folder the sweep's children read, not this machine's cache
        results=results,
        sets=TINY_SETS,
    )
    expected = {j.run_id for j in plan.jobs}
    assert len(expected) == 2

    def done() -> set[str]:
        return {p.parent.name for p in (results / "runs").glob("*/done")} if (results / "runs").exists() else set()

    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=hooked_env(marks, hold=(1,), ZSLBENCH_DATA=NO_DATA),
    )
    try:
        wait_for(lambda: training_started(marks, 1) and done(), "second run training and first run done", proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    # the workers die with the sweep (PR_SET_PDEATHSIG); their locks are released by the kernel
    for lock in (results / "locks").glob("*.lock"):
        probe = RunLock(results, lock.stem)
        assert probe.acquire(wait=True, poll=0.1)
        probe.release()
    done_before = done()
    assert len(done_before) == 1

    rerun = subprocess.run(cmd, capture_output=True, text=True, env=env(), cwd=ROOT, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert sorted(trained_ids(rerun.stderr)) == sorted(expected - done_before)
    assert_clean_and_complete(results, expected)


@pytest.mark.slow
def test_a_killed_worker_is_replaced_and_its_run_retried(tmp_path):
    """The first run to start is held at its first training step (tests/sitehooks); its worker
    is killed there, and the retry (a later loop, not held) completes."""
    results, marks = tmp_path / "results", tmp_path / "marks"
    cmd = sweep_cmd(results, "--datasets", "sun", "--models", "linear,mlp3", "--seeds", "1", "--jobs", "2")
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=hooked_env(marks, hold=(0,), ZSLBENCH_DATA=NO_DATA),
    )
    try:
        wait_for(lambda: training_started(marks, 0), "a run training", proc)
        worker = training_pid(marks, 0)
        assert worker != proc.pid
        holders = [RunLock(results, lock.stem).holder() for lock in (results / "locks").glob("*.lock")]
        assert any(f"pid={worker}" in (h or "") for h in holders), holders  # it holds its run's lock
        os.kill(worker, signal.SIGKILL)  # as the OOM killer would
        err = proc.communicate(timeout=600)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "a worker process died" in err
    plan = plan_sweep(
        "quick",
        only="gzsl",
        datasets=["sun"],
        models=["linear", "mlp3"],
        seeds=[1],
        source="auto",
        data_dir=Path(NO_DATA),  # the folder the sweep's children read, not this machine's cache
        results=results,
        sets=TINY_SETS,
    )
    assert_clean_and_complete(results, {j.run_id for j in plan.jobs})


@pytest.mark.slow
def test_two_concurrent_sweeps_train_each_run_once(tmp_path):
    results = tmp_path / "results"
    cmd = sweep_cmd(results, "--datasets", "sun", "--models", "linear", "--jobs", "1")
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env(), cwd=ROOT)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    trained = trained_ids(outs[0]) + trained_ids(outs[1])
    plan = plan_sweep(
        "quick",
        only="gzsl",
        datasets=["sun"],
        models=["linear"],
        source="auto",
        data_dir=Path(NO_DATA),
        results=results,
        sets=TINY_SETS,
    )
    expected = {j.run_id for j in plan.jobs}
    assert sorted(trained) == sorted(expected)  # every run trained exactly once over both sweeps
    for out in outs:  # each sweep accounts for every run (trained, or skipped as done elsewhere)
        assert len(re.findall(r"^\[\d+/2\] ", out, flags=re.M)) == 2
    assert_clean_and_complete(results, expected)


def _corrupt_sun(root: Path) -> None:
    folder = root / "xlsa17" / "data" / "SUN"
    folder.mkdir(parents=True)
    (folder / "res101.mat").write_bytes(b"not a mat file")
    (folder / "att_splits.mat").write_bytes(b"not a mat file either")


@pytest.mark.slow
def test_a_failing_run_does_not_stop_the_sweep_and_exits_1(tmp_path):
    results, data = tmp_path / "results", tmp_path / "data"
    _corrupt_sun(data)  # sun resolves to (broken) xlsa17 files, cub to synthetic data
    out = subprocess.run(
        sweep_cmd(
            results,
            "--datasets",
            "sun,cub",
            "--models",
            "linear",
            "--seeds",
            "1",
            "--data-dir",
            str(data),
            "--jobs",
            "1",
        ),
        capture_output=True,
        text=True,
        env=env(),
        cwd=ROOT,
        timeout=300,
    )
    assert out.returncode == 1, out.stderr
    assert "1 trained" in out.stderr and "1 failed" in out.stderr
    m = re.search(r"FAILED gzsl linear sun seed 1: (.+) \(log: (\S+)\)", out.stderr)
    assert m, out.stderr
    assert "res101.mat" in m.group(1) or "att_splits.mat" in m.group(1)
    assert "Traceback" in Path(m.group(2)).read_text()
    done = list((results / "runs").glob("*/done"))
    assert len(done) == 1 and store.read_record(done[0].parent / "record.json")["dataset"] == "cub"


@pytest.mark.slow
def test_sigint_stops_cleanly_and_says_how_to_resume(tmp_path):
    """SIGINT arrives while the first run is inside its training loop (held at its first step by
    tests/sitehooks)."""
    results, marks = tmp_path / "results", tmp_path / "marks"
    cmd = sweep_cmd(results, "--datasets", "sun", "--models", "mlp3", "--seeds", "1,2", "--jobs", "1")
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=hooked_env(marks, hold=(0,), ZSLBENCH_DATA=NO_DATA),
        # SIGINT's default disposition, whatever the launcher (a background shell ignores it)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        wait_for(lambda: training_started(marks, 0), "a run training", proc)
        proc.send_signal(signal.SIGINT)
        err = proc.communicate(timeout=600)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "run the same command again to resume" in err
    assert "Traceback" not in err
    for rec in results.rglob("record.json"):  # no record without its done marker
        assert (rec.parent / "done").exists()
    assert [p for p in results.rglob("*") if p.name.endswith(".tmp") or p.suffix == ".lock"] == []
