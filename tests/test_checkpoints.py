"""A long run stopped part-way continues from its last saved epoch (zslbench.checkpoints):
f-CLSWGAN, stopped after an epoch and started again, ends with the numbers and run id of an
uninterrupted run, its training time is that of both parts, and the saved state is removed
once the record is written."""

from __future__ import annotations

import pandas as pd
import pytest

import zslbench
from zslbench import checkpoints
from zslbench.progress import Progress
from zslbench.train import gzsl_kinds

SETS = {"synthetic_scale": 0.05, "f-clswgan.nepoch": 4}


def _run(results, **kw):
    return zslbench.run("f-clswgan", "cub", seed=1, profile="quick", sets=SETS, data="synthetic", results=results, **kw)


class Stop(Exception):
    pass


def _stopping_after(monkeypatch, epochs: int) -> None:
    """The next run stops (an exception, as Ctrl-C would) once `epochs` epochs are reported."""

    class Stopping(Progress):
        def update(self, n: int = 1, **postfix) -> None:
            super().update(n, **postfix)
            if self.n >= epochs:
                raise Stop

    monkeypatch.setattr(gzsl_kinds, "Progress", Stopping)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("whole"))


def test_a_stopped_run_continues_to_the_numbers_of_an_uninterrupted_one(tmp_path, monkeypatch, capsys, uninterrupted):
    monkeypatch.setenv("ZSLBENCH_CHECKPOINT_SECONDS", "0")  # save after every epoch
    with monkeypatch.context() as m:
        _stopping_after(m, 2)
        with pytest.raises(Stop):
            _run(tmp_path)
    saved = checkpoints.partial_path(tmp_path, uninterrupted.run_id)
    assert saved.is_file() and not (tmp_path / "runs" / uninterrupted.run_id / "done").exists()
    monkeypatch.setenv("ZSLBENCH_PROGRESS_SECONDS", "0")  # a progress line per epoch
    capsys.readouterr()
    again = _run(tmp_path)
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ": epoch " in ln]
    assert [ln.split(": epoch ")[1].split(" ")[0] for ln in lines] == ["3/4", "4/4"], lines
    assert again.run_id == uninterrupted.run_id
    assert again.record["metrics"] == uninterrupted.record["metrics"]
    extra = again.record["model_extra"]
    assert extra["resumed_after_epochs"] == [2] and extra["seconds_before_resume"] > 0
    assert again.record["train_seconds"] > extra["seconds_before_resume"]
    assert len(extra["epoch_seconds"]) == 4  # each epoch once, the saved ones included
    epochs = pd.read_csv(tmp_path / "runs" / again.run_id / "epochs.csv")
    assert epochs["epoch"].tolist() == [1, 2, 3, 4]
    assert not saved.exists()  # removed once the record is written
    assert "resumed_after_epochs" not in uninterrupted.record["model_extra"]


def test_an_unreadable_saved_state_is_set_aside_and_the_run_starts_over(tmp_path, monkeypatch, uninterrupted):
    saved = checkpoints.partial_path(tmp_path, uninterrupted.run_id)
    saved.parent.mkdir(parents=True)
    saved.write_bytes(b"not a saved state")
    with pytest.warns(UserWarning, match="unreadable saved state"):
        again = _run(tmp_path)
    assert again.record["metrics"] == uninterrupted.record["metrics"]
    assert "resumed_after_epochs" not in again.record["model_extra"] and not saved.exists()


def test_force_trains_from_the_beginning(tmp_path, monkeypatch, uninterrupted):
    monkeypatch.setenv("ZSLBENCH_CHECKPOINT_SECONDS", "0")
    with monkeypatch.context() as m:
        _stopping_after(m, 3)
        with pytest.raises(Stop):
            _run(tmp_path)
    again = _run(tmp_path, force=True)
    assert "resumed_after_epochs" not in again.record["model_extra"]
    assert again.record["metrics"] == uninterrupted.record["metrics"]


@pytest.mark.parametrize("value, expected", [("", 600.0), ("0", 0.0), ("90", 90.0), ("off", None), ("-1", None)])
def test_the_save_interval(monkeypatch, value, expected):
    monkeypatch.setenv("ZSLBENCH_CHECKPOINT_SECONDS", value)
    assert checkpoints.save_interval() == expected


def test_no_saves_at_the_default_interval_in_a_short_run(tmp_path, monkeypatch, uninterrupted):
    monkeypatch.delenv("ZSLBENCH_CHECKPOINT_SECONDS", raising=False)
    saves = []
    monkeypatch.setattr(checkpoints.Checkpoint, "save", lambda self, state: saves.append(state))
    _run(tmp_path)
    assert saves == []


@pytest.mark.slow  # two CLI runs of f-CLSWGAN's quick profile (about 20 s)
def test_ctrl_c_names_the_saved_state_and_the_same_command_continues(tmp_path):
    import json
    import signal
    import subprocess
    import sys

    from support import ROOT, cli_env, wait_for, zsl

    args = ["run", "--model", "f-clswgan", "--dataset", "cub", "--profile", "quick", "--data", "synthetic"]
    args += ["--set", "synthetic_scale=0.05", "--set", "f-clswgan.nepoch=20", "--results", str(tmp_path)]
    env = cli_env(ZSLBENCH_CHECKPOINT_SECONDS="0")
    proc = subprocess.Popen(
        [sys.executable, "-m", "zslbench", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        wait_for(lambda: list((tmp_path / "partial").glob("*.pt")), "a saved state", proc)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    (saved,) = (tmp_path / "partial").glob("*.pt")
    line = err.strip().splitlines()[-1]
    assert str(saved) in line and "run the same command again to continue it" in line, err
    assert "nothing partial was kept" not in err
    again = zsl(*args, env={"ZSLBENCH_CHECKPOINT_SECONDS": "off"})
    assert again.returncode == 0, again.stderr
    (record,) = (tmp_path / "runs").glob("*/record.json")
    extra = json.loads(record.read_text())["model_extra"]
    assert extra["resumed_after_epochs"] and 0 < extra["resumed_after_epochs"][0] < 20
    assert len(extra["epoch_seconds"]) == 20 and not saved.exists()
