"""What killed runs leave in the results folder (``runs/.<run_id>.<pid>.<random>.tmp``): removed at
the start of the next run and the next sweep when the writer is gone, kept while it may still be
writing (a live process of that pid, or a folder made after the run's lock was taken)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import zsl
from zslbench import store
from zslbench.locks import lock_path

TINY = ["--data", "synthetic", "--profile", "quick", "--set", "synthetic_scale=0.05", "--set", "epochs=1"]


def dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def plant(results: Path, run_id: str, pid: int, suffix: str = "tmp") -> Path:
    folder = results / "runs" / f".{run_id}.{pid}.k3x9.{suffix}"
    folder.mkdir(parents=True)
    (folder / "record.json").write_text("{")
    return folder


def test_a_folder_made_after_the_runs_lock_is_kept(tmp_path):
    gone = dead_pid()
    older = plant(tmp_path, "aaaa", gone)
    past = time.time() - 60
    os.utime(older, (past, past))
    lock = lock_path(tmp_path, "aaaa")
    lock.parent.mkdir(parents=True)
    lock.write_text("held elsewhere\n")  # taken after `older` was made, before `newer`
    newer = plant(tmp_path, "aaaa", gone, "old")
    future = time.time() + 60
    os.utime(newer, (future, future))
    assert store.clean_stale_temp(tmp_path) == [older]
    assert newer.exists() and not older.exists()


@pytest.mark.slow
def test_the_next_run_and_the_next_sweep_remove_what_killed_runs_left(tmp_path):
    results = tmp_path / "results"
    gone = dead_pid()
    first = plant(results, "0123456789abcdef", gone)
    live = plant(results, "fedcba9876543210", os.getpid())  # this test process: a live writer
    proc = zsl("run", "--model", "linear", "--dataset", "apy", *TINY, "--results", str(results))
    assert proc.returncode == 0, proc.stderr
    assert not first.exists() and live.exists()
    second = plant(results, "0123456789abcdef", gone, "old")
    proc = zsl(
        "run",
        "--all",
        "--only",
        "gzsl",
        "--models",
        "linear",
        "--datasets",
        "apy",
        "--seeds",
        "1",
        *TINY,
        "--results",
        str(results),
    )
    assert proc.returncode == 0, proc.stderr
    assert "0 to run" in proc.stderr  # the run is done already: only the cleaning happened
    assert not second.exists() and live.exists()
