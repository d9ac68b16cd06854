"""A plugin run's provenance and what the harness does with it: every source file of the plugin
in the run id, replay naming a changed source first, tables that never pool two sources, the
report's rows; typed options and their checks; plugins written for the state-only ``penalty``
and for ``forward(attrs)``.

Every CLI call is a subprocess, so that no plugin stays registered in the test process."""

from __future__ import annotations

import csv
import enum
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

from zslbench.config import coerce_field
from zslbench.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "plugin"
QUICK = ("--profile", "quick", "--seeds", "1")

# A prototype model written against forward(attrs), with options of other types than int/float/bool.
TYPED = """
from dataclasses import dataclass
from typing import Literal, Optional

import torch
from torch import nn

from zslbench import api


@dataclass(frozen=True)
class TypedOptions:
    dropout: Optional[float] = None
    act: Literal["relu", "tanh"] = "relu"
    tag: str = "plain"

    def __post_init__(self):
        if self.dropout is not None and not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")


class Typed(nn.Module):
    def __init__(self, n_attrs, feat_dim, options):
        super().__init__()
        if options.dropout is not None and not isinstance(options.dropout, float):
            raise TypeError(f"dropout arrived as a {type(options.dropout).__name__}")
        self.lin = nn.Linear(n_attrs, feat_dim)
        self.drop = nn.Dropout(options.dropout or 0.0)
        self.act = torch.tanh if options.act == "tanh" else torch.relu

    def forward(self, attrs):
        return self.lin(self.drop(self.act(attrs)))


api.register_model("typed-lin", Typed, options=TypedOptions, deep=False, description="typed options")
"""

# A method written against penalty(state), whose summary holds a tensor.
DECAY = """
import torch

from zslbench import api


class Decay(api.CZSLMethod):
    def __init__(self, cfg, settings, options=None):
        super().__init__(cfg, settings, options)
        self.calls = 0

    def penalty(self, state):
        self.calls += 1
        return 1e-3 * sum((p ** 2).sum() for p in state.params())

    def summary(self):
        return {"calls": self.calls, "norms": torch.tensor([1.5, 2.0])}


api.register_method("decay", Decay, description="a weight penalty")
"""


def zsl(*args, path=(), merged=False):
    env = {k: v for k, v in os.environ.items() if k != "ZSLBENCH_PLUGINS"}
    env["PYTHONPATH"] = os.pathsep.join([*(str(p) for p in path), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "zslbench", *args],
        capture_output=not merged,
        text=True,
        env=env,
        timeout=600,
        **({"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT} if merged else {}),
    )


def ok(proc):
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    return proc


def one_line_error(proc, *needles):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def records(results: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(results.glob("runs/*/record.json"))]


@pytest.fixture(scope="module")
def plugins(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("site")
    (site / "typed_plug.py").write_text(TYPED)
    (site / "decay_plug.py").write_text(DECAY)
    return site


@pytest.fixture(scope="module")
def toy_data(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("data")
    proc = subprocess.run(
        [sys.executable, "-m", "zslbench_example.make_data", str(data)],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(EXAMPLE)),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return data


@pytest.fixture(scope="module")
def sweep(tmp_path_factory, plugins, toy_data) -> Path:
    """Two plugin models on CUB (synthetic) and the example's own dataset, with the report."""
    results = tmp_path_factory.mktemp("sweep") / "results"
    ok(
        zsl(
            "--plugin",
            "zslbench_example",
            "--plugin",
            "typed_plug",
            "run",
            "--all",
            *QUICK,
            "--models",
            "mlp2-ln,typed-lin",
            "--datasets",
            "cub,toyfeat",
            "--tracks",
            "gzsl",
            "--data-dir",
            str(toy_data),
            "--results",
            str(results),
            "--set",
            "typed-lin.tag=wide",
            "--jobs",
            "2",  # not one worker per core: beside the suite's other workers on a large machine
            path=[EXAMPLE, plugins],
        )
    )
    return results


def test_the_report_shows_every_plugin_row(sweep):
    text = (sweep / "report" / "report.md").read_text()
    results = text.split("## GZSL results", 1)[1].split("## CZSL results", 1)[0]
    for ds in ("CUB", "toyfeat"):
        block = results.split(f"#### {ds}\n", 1)[1].split("#### Notes", 1)[0]
        for name in ("mlp2-ln [zslbench_example]", "typed-lin [typed_plug]"):
            cells = [[c.strip() for c in line.split("|")[1:3]] for line in block.splitlines() if line.startswith("|")]
            assert [name, "H"] in cells, (ds, name)


def test_options_of_other_types_reach_the_model_typed(plugins, toy_data, tmp_path):
    ok(
        zsl(
            "--plugin",
            "zslbench_example",
            "--plugin",
            "typed_plug",
            "run",
            "--model",
            "typed-lin",
            "--dataset",
            "toyfeat",
            "--profile",
            "quick",
            "--data-dir",
            str(toy_data),
            "--results",
            str(tmp_path / "r"),
            "--set",
            "typed-lin.dropout=0.25",
            "--set",
            "typed-lin.act=tanh",
            path=[EXAMPLE, plugins],
        )
    )
    (rec,) = records(tmp_path / "r")
    assert rec["plugin"]["options"] == {"dropout": 0.25, "act": "tanh", "tag": "plain"}


def test_notes_of_a_plugin_dataset_name_only_what_ran_there(sweep, tmp_path):
    ok(zsl("table", "gzsl", "--results", str(sweep), "--format", "md", "--out", str(tmp_path)))
    text = (tmp_path / "gzsl.md").read_text()
    npz = text.split("## GZSL on data source 'npz'", 1)[1]
    assert "No runs of ours" not in npz  # CUB ran, in the synthetic section
    assert "synthetic_scale" not in npz  # it does not act on a run on npz data
    assert "paper (Δ)" not in npz and "The paper reports no numbers on toyfeat" in npz
    synthetic = text.split("## GZSL on SYNTHETIC data", 1)[1].split("## GZSL on data source", 1)[0]
    assert "synthetic_scale=0.15" in synthetic and "paper (ref.)" in synthetic


@pytest.fixture(scope="module")
def two_sources(tmp_path_factory, toy_data):
    """One run of the example model, its plugin named by a module of its package that is not the
    package itself; then one after a comment-only edit of another module of the package."""
    root = tmp_path_factory.mktemp("plug")
    pkg = root / "zslbench_example"
    shutil.copytree(EXAMPLE / "zslbench_example", pkg, ignore=shutil.ignore_patterns("__pycache__"))
    (pkg / "entry.py").write_text("import zslbench_example  # noqa: F401  (registers everything)\n")
    results = root / "results"
    args = (
        "--plugin",
        "zslbench_example.entry",
        "run",
        "--model",
        "mlp2-ln",
        "--dataset",
        "toyfeat",
        "--profile",
        "quick",
        "--data-dir",
        str(toy_data),
        "--results",
        str(results),
    )
    ok(zsl(*args, path=[root]))
    first = records(results)[0]
    with open(pkg / "model.py", "a") as fh:
        fh.write("\n# a comment\n")
    again = ok(zsl(*args, path=[root]))
    return root, results, first, again


def test_editing_any_module_of_a_plugin_package_changes_its_run_id(two_sources):
    _, results, first, again = two_sources
    assert "already done" not in again.stdout
    recs = records(results)
    assert len(recs) == 2 and len({r["run_id"] for r in recs}) == 2
    edited = next(r for r in recs if r["run_id"] != first["run_id"])
    files = first["plugin"]["source_files"]
    assert {"zslbench_example/model.py", "zslbench_example/entry.py", "zslbench_example/__init__.py"} <= set(files)
    changed = {f for f in files if files[f] != edited["plugin"]["source_files"][f]}
    assert changed == {"zslbench_example/model.py"}
    assert first["plugin"]["module"] == "zslbench_example.entry"
    assert {"distribution", "version", "source_sha256"} <= set(first["plugin"])


def test_replay_names_the_changed_source_before_any_metric(two_sources, toy_data):
    root, results, first, _ = two_sources
    path = results / "runs" / first["run_id"] / "record.json"
    proc = zsl("--plugin", "zslbench_example.entry", "replay", str(path), "--data-dir", str(toy_data), path=[root])
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    lines = proc.stdout.splitlines()
    assert "the plugin's source differs" in lines[1], lines
    assert "zslbench_example/model.py" in proc.stdout
    metric_lines = [
        i
        for i, line in enumerate(lines)
        if "metrics match" in line or (": recorded" in line and line.strip().split(":")[0] in first["metrics"])
    ]
    assert metric_lines and min(metric_lines) > 1
    assert "the plugin's source changed" in proc.stderr


def test_tables_never_pool_two_sources_of_a_plugin(two_sources, tmp_path):
    _, results, first, _ = two_sources
    ok(zsl("table", "gzsl", "--results", str(results), "--format", "csv", "--out", str(tmp_path)))
    import pandas as pd

    frame = pd.read_csv(next(tmp_path.glob("*.csv")))
    rows = frame.loc[(frame["metric"] == "H") & (frame["dataset"] == "toyfeat") & (frame["n"] > 0), ["model", "n"]]
    plugin_rows = rows[rows["model"].str.startswith("mlp2-ln")]
    assert len(plugin_rows) == 2 and (plugin_rows["n"] == 1).all(), plugin_rows
    assert any(first["plugin"]["source_sha256"][:8] in m for m in plugin_rows["model"])


@pytest.mark.parametrize("option", ["typed-lin.dropout=1.5", "typed-lin.act=sigmoid"])
def test_an_invalid_option_is_one_line_and_exit_2(plugins, toy_data, tmp_path, option):
    proc = zsl(
        "--plugin",
        "zslbench_example",
        "--plugin",
        "typed_plug",
        "run",
        "--model",
        "typed-lin",
        "--dataset",
        "toyfeat",
        "--profile",
        "quick",
        "--data-dir",
        str(toy_data),
        "--results",
        str(tmp_path / "r"),
        "--set",
        option,
        path=[plugins, EXAMPLE],
    )
    one_line_error(proc, option.split("=")[0])
    assert not list((tmp_path / "r").glob("runs/*/record.json"))


def test_a_method_written_for_penalty_of_the_state_runs_and_its_summary_is_numbers(plugins, tmp_path):
    results = tmp_path / "r"
    ok(
        zsl(
            "--plugin",
            "decay_plug",
            "run",
            "--czsl",
            "--method",
            "decay",
            "--dataset",
            "cub",
            "--profile",
            "quick",
            "--results",
            str(results),
            "--set",
            "epochs_per_task=1",
            path=[plugins],
        )
    )
    (rec,) = records(results)
    assert rec["method_summary"]["norms"] == [1.5, 2.0]
    with open(results / "runs" / rec["run_id"] / "tasks.csv") as fh:
        iterations = sum(int(row["iterations"]) for row in csv.DictReader(fh))
    assert rec["method_summary"]["calls"] == iterations > 0  # penalty(state) at every step


def test_validate_prints_the_description_before_the_problems(tmp_path):
    (tmp_path / "half_ok.py").write_text(
        "from torch import nn\nfrom zslbench import api\n"
        "class Bad(nn.Linear):\n    def __init__(self, a, d, o):\n        super().__init__(a, 3)\n"
        "api.register_model('bad-width', Bad, description='a wrong width')\n"
    )
    proc = zsl("validate", "--plugin", "half_ok", path=[tmp_path], merged=True)
    assert proc.returncode == 2
    lines = proc.stdout.splitlines()
    described = next(i for i, line in enumerate(lines) if "model bad-width: options" in line)
    problem = next(i for i, line in enumerate(lines) if "error:" in line and "expected [4, 7]" in line)
    assert described < problem, lines


class Mode(enum.Enum):
    FAST = "fast"
    SLOW = "slow"


@dataclass(frozen=True)
class Opts:
    rate: float | None = None
    count: int | None = 3
    kind: Literal["a", "b"] = "a"
    level: Literal[1, 2] = 1
    mode: Mode = Mode.FAST
    name: str = "x"
    on: bool = False


@pytest.mark.parametrize(
    "key, text, value",
    [
        ("rate", "0.5", 0.5),
        ("rate", "none", None),
        ("count", "7", 7),
        ("count", "None", None),
        ("kind", "b", "b"),
        ("level", "2", 2),
        ("mode", "SLOW", Mode.SLOW),
        ("mode", "slow", Mode.SLOW),
        ("name", "y z", "y z"),
        ("on", "yes", True),
    ],
)
def test_a_value_is_coerced_to_its_declared_type(key, text, value):
    got = coerce_field(Opts, key, text)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize(
    "key, text",
    [("rate", "fast"), ("count", "1.5"), ("kind", "c"), ("level", "3"), ("mode", "medium"), ("on", "maybe")],
)
def test_a_value_of_the_wrong_type_is_a_config_error(key, text):
    with pytest.raises(ConfigError, match=f"--set m.{key}="):
        coerce_field(Opts, key, text, label=f"m.{key}")
