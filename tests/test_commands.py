"""`zslbench sweep` and `zslbench replay` are the same as `run --all` and `run --from-record`."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent / "fixtures" / "results"


def zsl(capsys, *args):
    from zslbench.cli import main

    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_sweep_is_run_all(tmp_path, capsys):
    common = [
        "--profile",
        "quick",
        "--data",
        "synthetic",
        "--dry-run",
        "--only",
        "czsl",
        "--datasets",
        "sun",
        "--results",
        tmp_path,
        "--set",
        "epochs_per_task=2",
        "--tracks",
        "features",
    ]
    code, by_run, err = zsl(capsys, "run", "--all", *common)
    assert code == 0, err
    code, by_sweep, err = zsl(capsys, "sweep", *common)
    assert code == 0, err
    assert by_sweep == by_run and "plan: 20 runs (0 GZSL, 20 CZSL)" in by_sweep
    code, _, err = zsl(capsys, "sweep", "--model", "linear")
    assert code == 2 and "no such option" in err.lower()


@pytest.mark.usefixtures("one_thread")
def test_replay_is_run_from_record(tmp_path, capsys):
    record = FIXTURE.parent / "old_records" / "261c9fae435bf19c" / "record.json"
    code, by_run, _ = zsl(capsys, "run", "--from-record", record, "--results", tmp_path / "a")
    _code2, by_replay, _ = zsl(capsys, "replay", record, "--results", tmp_path / "b", "--atol", "H=100")
    assert code == 1 and "H: recorded" in by_run  # the fixture's numbers are made up
    assert by_replay.splitlines()[0] == by_run.splitlines()[0]  # rerun of 261c9fae435bf19c (...)
    assert [p.name for p in (tmp_path / "a" / "runs").iterdir()] == [
        p.name for p in (tmp_path / "b" / "runs").iterdir()
    ]
    assert "H: recorded" in by_replay and "atol 100" in by_replay
