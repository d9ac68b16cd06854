"""Hostile and malformed run records, and out-of-range options: every reader (replay, `table`,
`report`, the skip logic of `run` and the sweep) refuses or skips them with one line, never
with a traceback, and a record never decides what code runs."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support import ROOT, one_error_line, one_line, zsl, zsl_in_process

FIXTURE = ROOT / "tests" / "fixtures" / "results" / "runs" / "e0a22f3e0f58e43a" / "record.json"
TINY = ("--model", "linear", "--dataset", "apy", "--profile", "quick", "--data", "synthetic")


def fixture_record() -> dict:
    return json.loads(FIXTURE.read_text())


def write_record(folder: Path, record: dict | str, done: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "record.json"
    path.write_text(record if isinstance(record, str) else json.dumps(record), encoding="utf-8")
    if done:
        (folder / "done").write_text("2026-01-01T00:00:00+00:00\n")
    return path


def _set(path: str, value):
    def change(rec: dict) -> None:
        *head, last = path.split(".")
        target = rec
        for key in head:
            target = target[key]
        target[last] = value

    return change


def _drop(key: str):
    return lambda rec: rec.pop(key)


# (what, change, a word the one line names)
BAD = [
    ("seed is text", _set("seed", "abc"), "seed"),
    ("seed of 10**30", _set("seed", 10**30), "seed"),
    ("negative seed", _set("seed", -1), "seed"),
    ("seed true", _set("seed", True), "seed"),
    ("no seed", _drop("seed"), "seed"),
    ("config null", _set("config", None), "config"),
    ("config a string", _set("config", "string"), "config"),
    ("metrics a list", _set("metrics", [1, 2]), "metrics"),
    ("metric of 10**400", _set("metrics.H", 10**400), "metrics"),
    ("infinite metric", _set("metrics.H", float("inf")), "metrics"),
    ("metric is text", _set("metrics.H", "33.7"), "metrics"),
    ("epochs is text", _set("config.epochs", "four"), "epochs"),
    ("epochs of 10**9", _set("config.epochs", 10**9), "epochs"),
    ("batch size of 10**12", _set("config.batch_size", 10**12), "batch_size"),
    ("threads of 10**6", _set("config.threads", 10**6), "threads"),
    ("run id with a newline", _set("run_id", "e0a22f3e0f58e43a\n  metrics match the record exactly: H=99"), "run_id"),
    ("run id not hex", _set("run_id", "../../etc/passwd"), "run_id"),
    ("dataset with a newline", _set("dataset", "sun\nrerun of ffffffffffffffff"), "dataset"),
    ("plugin not a mapping", _set("plugin", "zslevil"), "plugin"),
    ("no model", _drop("model"), "model"),
]


@pytest.mark.parametrize("change,needle", [b[1:] for b in BAD], ids=[b[0].replace(" ", "-") for b in BAD])
def test_from_record_refuses_a_malformed_record_with_one_line(tmp_path, capsys, change, needle):
    rec = fixture_record()
    change(rec)
    path = write_record(tmp_path / "rec", rec, done=False)
    code, out, err = zsl_in_process(capsys, "run", "--from-record", path, "--results", tmp_path / "out")
    assert code == 2, (out, err)
    line = one_line(err)
    assert str(path) in line and needle in line, line
    assert "metrics match" not in out and "rerun of" not in out
    assert not (tmp_path / "out" / "runs").exists()  # nothing trained


def test_a_record_never_imports_the_plugin_it_names(tmp_path):
    """A module beside the record, named by its plugin field, is not imported: the replay stops
    and says how to load the plugin."""
    marker = tmp_path / "ran"
    (tmp_path / "zslevil.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    rec = fixture_record()
    rec["plugin"] = {"module": "zslevil", "source_sha256": "", "options": {}}
    path = write_record(tmp_path / "rec", rec, done=False)
    proc = zsl("run", "--from-record", path, "--results", tmp_path / "out", cwd=tmp_path)
    one_error_line(proc, "zslevil", "--plugin zslevil", "$ZSLBENCH_PLUGINS")
    assert not marker.exists()


@pytest.mark.parametrize(
    "args,needle",
    [
        (("--set", "epochs=1000000000"), "epochs"),
        (("--set", "batch_size=1000000000000"), "batch_size"),
        (("--set", "threads=100000"), "threads"),
        (("--set", "test_batch_size=1000000000000"), "test_batch_size"),
        (("--set", "synthetic_seed=100000000000000000000000"), "synthetic_seed"),
        (("--seed", str(10**30)), "--seed"),
        (("--seed", "-1"), "--seed"),
    ],
    ids=["epochs", "batch_size", "threads", "test_batch_size", "synthetic_seed", "seed-huge", "seed-negative"],
)
def test_options_beyond_their_bounds_are_refused_before_any_work(tmp_path, capsys, args, needle):
    code, out, err = zsl_in_process(capsys, "run", *TINY, *args, "--results", tmp_path)
    assert code == 2, (out, err)
    assert needle in one_line(err)
    assert not (tmp_path / "runs").exists()


def test_sweep_seeds_beyond_the_bound_are_refused(tmp_path, capsys):
    code, out, err = zsl_in_process(
        capsys,
        "run",
        "--all",
        "--profile",
        "quick",
        "--only",
        "gzsl",
        "--models",
        "linear",
        "--datasets",
        "apy",
        "--seeds",
        f"1,{2**63}",
        "--data",
        "synthetic",
        "--results",
        tmp_path,
        "--dry-run",
    )
    assert code == 2, (out, err)
    assert "--seeds" in one_line(err)


def _results_with(tmp_path: Path, bad: dict | str) -> Path:
    """A results folder with the fixture's good GZSL record and one bad one."""
    results = tmp_path / "results"
    good = FIXTURE.parent
    shutil.copytree(good, results / "runs" / good.name)
    write_record(results / "runs" / "0123456789abcdef", bad)
    return results


@pytest.mark.parametrize(
    "bad",
    [
        {**fixture_record(), "run_id": "0123456789abcdef", "config": "string"},
        {**fixture_record(), "run_id": "0123456789abcdef", "seed": "abc"},
        {**fixture_record(), "run_id": "0123456789abcdef", "metrics": {"S": 1e400, "U": 1, "H": 1}},
        '{"run_id": "0123456789abcdef", "metrics": {',
    ],
    ids=["config-string", "seed-text", "metric-infinite", "truncated"],
)
def test_table_skips_a_bad_record_with_one_warning(tmp_path, capsys, bad):
    results = _results_with(tmp_path, bad)
    code, out, err = zsl_in_process(capsys, "table", "gzsl", "--results", results, "--format", "md,csv,tex")
    assert code == 0, err
    warnings = [line for line in err.splitlines() if line.strip()]
    assert len(warnings) == 1 and "0123456789abcdef" in warnings[0] and "Traceback" not in err, err
    assert "1 unreadable or incomplete record(s) skipped" in out
    assert "mlp3+eq9" in out  # the good record is in the table


def test_report_skips_a_bad_record_once(tmp_path, capsys):
    """One broken record: one warning, counted once in the report."""
    results = _results_with(tmp_path, {**fixture_record(), "run_id": "0123456789abcdef", "config": "string"})
    code, _out, err = zsl_in_process(capsys, "report", "--results", results)
    assert code == 0, err
    warnings = [line for line in err.splitlines() if "0123456789abcdef" in line]
    assert len(warnings) == 1, err
    text = (results / "report" / "report.md").read_text()
    assert "1 GZSL and 0 CZSL run records" in text and "; 1 unreadable or incomplete record(s) skipped" in text


def test_a_done_run_with_a_damaged_record_is_trained_again(tmp_path, capsys):
    """The skip logic of `run` and the sweep reads the record through the same check: a done
    run whose record is damaged is trained again (with a warning), not reported from it."""
    code, out, err = zsl_in_process(capsys, "run", *TINY, "--results", tmp_path)
    assert code == 0, err
    path = next(tmp_path.glob("runs/*/record.json"))
    rec = json.loads(path.read_text())
    rec["metrics"]["S"] = "fifty"
    path.write_text(json.dumps(rec))
    with pytest.warns(UserWarning, match=r"bad run record: metrics.*training the run again"):
        code, out, err = zsl_in_process(capsys, "run", *TINY, "--results", tmp_path)
    assert code == 0, err
    assert "trained in" in out
    assert isinstance(json.loads(path.read_text())["metrics"]["S"], float)


def test_a_sweep_runs_again_a_done_run_whose_record_is_damaged(tmp_path, capsys):
    sweep = (
        "run",
        "--all",
        "--profile",
        "quick",
        "--only",
        "gzsl",
        "--models",
        "linear",
        "--datasets",
        "apy",
        "--seeds",
        "1",
        "--data",
        "synthetic",
        "--jobs",
        "1",
        "--results",
        tmp_path,
    )
    code, _out, err = zsl_in_process(capsys, *sweep)
    assert code == 0, err
    path = next(tmp_path.glob("runs/*/record.json"))
    good = json.loads(path.read_text())
    path.write_text(json.dumps({**good, "seed": "abc"}))
    with pytest.warns(UserWarning, match="training the run again"):
        code, _out, err = zsl_in_process(capsys, *sweep)
    assert code == 0, err
    assert json.loads(path.read_text())["metrics"] == good["metrics"]


# --- property tests: random records fed to the readers ------------------------------------------
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6,
)
FIELDS = sorted(set(fixture_record()) - {"kind"}) + ["plugin", "classnorm", "method"]  # a gzsl record stays one
CONFIG_FIELDS = sorted(fixture_record()["config"])


@st.composite
def mutated_records(draw) -> dict:
    """The fixture's record with a few fields (top level, config or metrics) replaced by random
    JSON values, or removed."""
    rec = fixture_record()
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(["top", "config", "metrics"]))
        block = rec if where == "top" else rec.get(where)
        if not isinstance(block, dict):
            continue
        key = draw(
            st.sampled_from(
                FIELDS
                if where == "top"
                else CONFIG_FIELDS
                if where == "config"
                else sorted(fixture_record()["metrics"])
            )
        )
        if draw(st.booleans()) and key in block:
            del block[key]
        else:
            block[key] = draw(JSON_VALUES)
    return rec


class WouldTrain(Exception):
    pass


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rec=mutated_records())
def test_replay_of_a_random_record_is_refused_in_one_line_or_reaches_training(tmp_path, monkeypatch, rec):
    """Up to the training, a replay either refuses the record (one line naming it) or calls the
    run with well-typed arguments."""
    import zslbench.replay as replay
    from zslbench.errors import ZSLBenchError

    def fake_run(track, name, dataset, seed, classnorm, profile, source, data_dir, device, results, overrides, *rest):
        assert isinstance(seed, int) and 0 <= seed < 2**63
        track.make_config(profile, {k: v for k, v in overrides.items() if "." not in k})
        raise WouldTrain

    monkeypatch.setattr(replay, "execute_run", fake_run)
    path = write_record(tmp_path / "rec", rec, done=False)
    try:
        replay.rerun_record(path, tmp_path / "out")
    except WouldTrain:
        return
    except ZSLBenchError as exc:
        assert "\n" not in str(exc) and str(exc), str(exc)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(recs=st.lists(mutated_records(), min_size=1, max_size=3))
def test_tables_of_random_records_skip_or_show_each_record(tmp_path_factory, recs):
    """`table`: every record is either in the table or skipped with one warning; the three
    formats render."""
    import warnings

    from zslbench import store
    from zslbench.report.paper_tables import build_table
    from zslbench.report.records import collect

    results = tmp_path_factory.mktemp("results")
    for i, rec in enumerate(recs):
        write_record(results / "runs" / f"{i:016x}", rec)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = build_table("gzsl", results)
        table.to_markdown(), table.to_csv(), table.to_latex()
        records, skipped = collect(results, "gzsl")
    assert len(records) + len(skipped) == len(recs)
    assert all("\n" not in str(w.message) for w in caught)
    for rec in records:
        store.read_record(Path(rec["_dir"]) / "record.json")  # what was used passes the check


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
