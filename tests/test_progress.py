"""Progress off a terminal (zslbench.progress): timed plain lines, so a long run under nohup or
a batch scheduler says where it is, and short work stays silent."""

from __future__ import annotations

import re

import pytest

from support import zsl
from zslbench import progress
from zslbench.progress import Progress, amount, duration, line_seconds


@pytest.fixture
def lines_every(monkeypatch):
    def setter(value: str) -> None:
        monkeypatch.setenv("ZSLBENCH_PROGRESS_SECONDS", value)

    return setter


def test_every_update_gives_a_line_with_position_elapsed_and_time_left(lines_every, capsys, monkeypatch):
    lines_every("0")
    clock = iter([100.0, 130.0, 160.0])
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    bar = Progress(4, "f-clswgan/cub/seed1", "epoch")  # pytest's stderr is not a terminal
    assert not bar.shown
    bar.update(H="12.3")
    bar.update(H="14.0")
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "f-clswgan/cub/seed1: epoch 1/4 (H=12.3), 30s elapsed, about 1m30s left",
        "f-clswgan/cub/seed1: epoch 2/4 (H=14.0), 1m00s elapsed, about 1m00s left",
    ]


def test_short_work_is_silent_at_the_default_interval(capsys, monkeypatch):
    monkeypatch.delenv("ZSLBENCH_PROGRESS_SECONDS", raising=False)
    assert line_seconds() == 60.0
    bar = Progress(50, "quick", "epoch")
    for _ in range(50):
        bar.update()
    bar.close()
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("value", ["off", "-1", "nan"])
def test_lines_can_be_turned_off(lines_every, capsys, value):
    lines_every(value)
    assert line_seconds() is None
    bar = Progress(3, "x", "epoch")
    bar.update()
    assert capsys.readouterr().err == ""


def test_a_silenced_bar_stays_silent(lines_every, capsys):
    """A sweep's workers pass enabled=False: the sweep reports each run itself."""
    lines_every("0")
    bar = Progress(3, "x", "epoch", enabled=False)
    bar.update()
    assert capsys.readouterr().err == ""


def test_a_resumed_download_counts_its_rate_from_where_it_resumed(lines_every, capsys, monkeypatch):
    lines_every("0")
    clock = iter([0.0, 10.0])
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    bar = Progress(4 * 2**20, "CUB.tgz", "B", initial=3 * 2**20)
    bar.update(2**19)  # half a MiB in 10 s; another half to go: 10 s left
    assert capsys.readouterr().err.strip() == "CUB.tgz: 3.5 MiB/4.0 MiB, 10s elapsed, about 10s left"


def test_counts_and_durations_as_written():
    assert [amount(n, "B") for n in (0, 1023, 1024, 5 * 2**30)] == ["0 B", "1023 B", "1.0 KiB", "5.0 GiB"]
    assert amount(7, "epoch") == "7"
    assert [duration(s) for s in (0.4, 59, 61, 3599, 3600, 8100)] == ["0s", "59s", "1m01s", "59m59s", "1h00m", "2h15m"]


def test_a_run_off_a_terminal_reports_its_epochs(tmp_path):
    proc = zsl(
        "run", "--model", "f-clswgan", "--dataset", "cub", "--profile", "quick", "--data", "synthetic",
        "--results", tmp_path, "--set", "f-clswgan.nepoch=2",
        env={"ZSLBENCH_PROGRESS_SECONDS": "0"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    epochs = [line for line in proc.stderr.splitlines() if re.match(r"f-clswgan/cub/seed\d+: epoch ", line)]
    assert [line.split(": epoch ")[1].split(" ")[0] for line in epochs] == ["1/2", "2/2"], proc.stderr
    assert "about" in epochs[0] and "H=" in epochs[0]
