"""Plugins (zslbench.api, zslbench.plugins) as a user meets them: the example plugin next to the
built-ins in a sweep, its records, tables and replays; entry-point discovery; broken plugins
refused with one line; the plugin's source in the run id.

Every CLI call is a subprocess, so that no plugin stays registered in the test process."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "plugin"
QUICK = ("--profile", "quick", "--seeds", "1")


def zsl(*args, path=(), cwd=None, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k != "ZSLBENCH_PLUGINS"}
    env.update(env_extra or {})
    env["PYTHONPATH"] = os.pathsep.join([*(str(p) for p in path), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "zslbench", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=900
    )


def one_line_error(proc, *needles):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.fixture(scope="module")
def toy_data(tmp_path_factory):
    """The example's features dataset, written by its own script."""
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


def test_the_example_plugin_imports_nothing_from_zslbench_but_the_api():
    found = set()
    for path in (EXAMPLE / "zslbench_example").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.split(".")[0] == "zslbench"}
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "zslbench":
                found |= {node.module} if node.module != "zslbench" else {f"zslbench.{a.name}" for a in node.names}
    assert found == {"zslbench.api"}


def test_a_sweep_mixes_the_plugin_with_built_ins_and_tables_label_its_rows(tmp_path, toy_data):
    results = tmp_path / "results"
    proc = zsl(
        "--plugin",
        "zslbench_example",
        "run",
        "--all",
        *QUICK,
        "--models",
        "mlp3+cn,mlp2-ln",
        "--methods",
        "sequential,replay",
        "--datasets",
        "cub,toyfeat",
        "--tracks",
        "gzsl,czsl-features",
        "--jobs",
        "2",
        "--data-dir",
        str(toy_data),
        "--results",
        str(results),
        "--set",
        "replay.per_class=2",
        path=[EXAMPLE],
    )
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(p.read_text()) for p in results.glob("runs/*/record.json")]
    got = {(r["kind"], r.get("model") or r.get("method"), r["dataset"], r.get("classnorm")) for r in records}
    # CZSL runs on cub only: toyfeat has no continual protocol
    assert got == {
        ("gzsl", m, d, c) for m, c in (("mlp3+cn", True), ("mlp2-ln", False)) for d in ("cub", "toyfeat")
    } | {("czsl", m, "cub", cn) for m in ("sequential", "replay") for cn in (False, True)}
    plugin_runs = [r for r in records if r.get("plugin")]
    assert len(plugin_runs) == 4
    for r in plugin_runs:
        assert r["plugin"]["module"] == "zslbench_example" and len(r["plugin"]["source_sha256"]) == 64
        assert "plugin_distribution" in r and "plugin_version" in r  # None: not installed
    replay = next(r for r in plugin_runs if r.get("method") == "replay" and r["classnorm"])
    assert replay["plugin"]["options"] == {"per_class": 2}
    assert replay["method_summary"]["per_class"] == 2
    assert all("plugin" not in r for r in records if r.get("model") == "mlp3+cn" or r.get("method") == "sequential")
    toy = next(r for r in records if r.get("model") == "mlp3+cn" and r["dataset"] == "toyfeat")
    assert toy["data_source"] == "npz" and toy["data_summary"]["classes"] == 12

    # the label names the distribution when one is found on the path, else the module
    source = plugin_runs[0]["plugin_distribution"] or "zslbench_example"
    for kind, row in (("gzsl", f"mlp2-ln [{source}"), ("czsl", f"replay [{source}")):
        out = tmp_path / kind
        proc = zsl("table", kind, "--results", str(results), "--format", "md", "--out", str(out))
        assert proc.returncode == 0, proc.stderr
        text = (out / f"{kind}.md").read_text()
        assert row in text and ("mlp3+cn" in text if kind == "gzsl" else "sequential" in text)
    assert "toyfeat" in (tmp_path / "gzsl" / "gzsl.md").read_text()

    # the record names its plugin, but a record never loads code: the replay needs --plugin
    folder = next(
        p.parent
        for p in results.glob("runs/*/record.json")
        if json.loads(p.read_text()).get("model") == "mlp2-ln" and json.loads(p.read_text())["dataset"] == "toyfeat"
    )
    proc = zsl("run", "--from-record", str(folder / "record.json"), "--data-dir", str(toy_data), path=[EXAMPLE])
    one_line_error(proc, "zslbench_example", "--plugin zslbench_example")
    proc = zsl(
        "--plugin",
        "zslbench_example",
        "run",
        "--from-record",
        str(folder / "record.json"),
        "--data-dir",
        str(toy_data),
        path=[EXAMPLE],
    )
    assert proc.returncode == 0, proc.stderr
    assert "exactly" in proc.stdout


def test_list_names_the_plugin_found_through_an_entry_point(tmp_path):
    site = tmp_path / "site"
    (site / "myplug").mkdir(parents=True)
    (site / "myplug" / "__init__.py").write_text(
        "from dataclasses import dataclass\nfrom torch import nn\nfrom zslbench import api\n\n"
        "class Lin(nn.Linear):\n    def __init__(self, a, d, options):\n        super().__init__(a, d)\n\n"
        "api.register_model('lin-plug', Lin, deep=False, description='a linear map')\n"
    )
    dist = site / "myplug-0.3.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: myplug\nVersion: 0.3\n")
    (dist / "top_level.txt").write_text("myplug\n")
    (dist / "entry_points.txt").write_text("[zslbench.plugins]\nmine = myplug\n")
    proc = zsl("list", "models", path=[site])
    assert proc.returncode == 0, proc.stderr
    line = next(line for line in proc.stdout.splitlines() if "lin-plug" in line)
    assert "[myplug: myplug 0.3]" in line
    assert "[built-in]" in next(line for line in proc.stdout.splitlines() if "mlp3+cn" in line)


BROKEN = {
    "import_error": ("import no_such_module_anywhere\n", "ModuleNotFoundError"),
    "duplicate": (
        "from torch import nn\nfrom zslbench import api\napi.register_model('mlp3+cn', nn.Linear)\n",
        "already registered",
    ),
    "wrong_shape": (
        "from torch import nn\nfrom zslbench import api\n"
        "class Bad(nn.Linear):\n    def __init__(self, a, d, o):\n        super().__init__(a, d + 1)\n"
        "api.register_model('bad', Bad)\n",
        "expected [4, 7]",
    ),
    "not_dataclass": (
        "from torch import nn\nfrom zslbench import api\n"
        "class Opts:\n    width = 3\n"
        "api.register_model('bad', nn.Linear, options=Opts)\n",
        "must be a dataclass",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_plugin_is_refused_with_one_line_and_nothing_is_written(tmp_path, case):
    source, needle = BROKEN[case]
    (tmp_path / f"broken_{case}.py").write_text(source)
    results = tmp_path / "results"
    proc = zsl(
        "--plugin",
        f"broken_{case}",
        "run",
        "--model",
        "mlp3",
        "--dataset",
        "cub",
        "--profile",
        "quick",
        "--results",
        str(results),
        path=[tmp_path],
    )
    one_line_error(proc, f"plugin broken_{case}", needle)
    assert not results.exists()
    proc = zsl("validate", "--plugin", f"broken_{case}", path=[tmp_path])
    assert proc.returncode == 2 and f"broken_{case}" in proc.stderr and needle in proc.stderr


def test_validate_describes_the_example_plugin():
    proc = zsl("validate", "--plugin", "zslbench_example", path=[EXAMPLE])
    assert proc.returncode == 0, proc.stderr
    for needle in (
        "model mlp2-ln: options hidden=512, layer_norm=True",
        "method replay: options per_class=5",
        "dataset toyfeat",
    ):
        assert needle in proc.stdout


def test_an_option_is_checked_and_acts_on_its_own_model_only(tmp_path, toy_data):
    base = (
        "--plugin",
        "zslbench_example",
        "run",
        "--dataset",
        "toyfeat",
        "--profile",
        "quick",
        "--data-dir",
        str(toy_data),
        "--results",
        str(tmp_path / "r"),
    )
    one_line_error(
        zsl(*base, "--model", "mlp2-ln", "--set", "mlp2-ln.width=3", path=[EXAMPLE]), "mlp2-ln has no option 'width'"
    )
    one_line_error(
        zsl(*base, "--model", "mlp3", "--set", "mlp2-ln.hidden=3", path=[EXAMPLE]), "does not act on model mlp3"
    )


def _run_id(proc) -> str:
    assert proc.returncode == 0, proc.stderr
    return re.search(r"runs/([0-9a-f]+)/record.json", proc.stdout).group(1)


def test_editing_the_plugin_source_changes_the_run_id(tmp_path, toy_data):
    plug = tmp_path / "plug"
    shutil.copytree(
        EXAMPLE / "zslbench_example", plug / "zslbench_example", ignore=shutil.ignore_patterns("__pycache__")
    )
    args = (
        "--plugin",
        "zslbench_example",
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
        str(tmp_path / "r"),
    )
    first = zsl(*args, path=[plug])
    again = zsl(*args, path=[plug])
    assert _run_id(first) == _run_id(again) and "already done" in again.stdout
    with open(plug / "zslbench_example" / "model.py", "a") as fh:
        fh.write("\n# an edit\n")
    edited = zsl(*args, path=[plug])
    assert _run_id(edited) != _run_id(first) and "trained in" in edited.stdout


def test_a_refused_plugin_takes_back_what_it_registered(tmp_path, monkeypatch):
    """In this process: the loader's rollback leaves the registries as they were."""
    import zslbench.models
    import zslbench.train.methods  # noqa: F401
    from zslbench import api
    from zslbench.plugins import PluginError
    from zslbench.tracks import load_plugins

    (tmp_path / "half_broken.py").write_text(
        "from torch import nn\nfrom zslbench import api\n"
        "class Ok(nn.Linear):\n    def __init__(self, a, d, o):\n        super().__init__(a, d)\n"
        "class Bad(nn.Linear):\n    def __init__(self, a, d, o):\n        super().__init__(a, 3)\n"
        "api.register_model('ok-model', Ok)\napi.register_model('bad-model', Bad)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    before = (api.MODELS.names(), api.METHODS.names(), api.FEATURE_DATASETS.names())
    with pytest.raises(PluginError, match="plugin half_broken: model bad-model: returned"):
        load_plugins(["half_broken"], entry_points=False)
    assert (api.MODELS.names(), api.METHODS.names(), api.FEATURE_DATASETS.names()) == before
    assert "mlp3+cn" in api.MODELS and "sequential" in api.METHODS


def test_the_environment_variable_names_plugins_too():
    proc = zsl("list", "methods", path=[EXAMPLE], env_extra={"ZSLBENCH_PLUGINS": " zslbench_example ,"})
    assert proc.returncode == 0, proc.stderr
    assert "[zslbench_example" in next(line for line in proc.stdout.splitlines() if "replay" in line)


def _other_installed_plugin(site: Path) -> Path:
    """A distribution with an entry point of its own, as another installed plugin would be."""
    (site / "otherplug").mkdir(parents=True)
    (site / "otherplug" / "__init__.py").write_text(
        "from torch import nn\nfrom zslbench import api\n\n"
        "class Lin(nn.Linear):\n    def __init__(self, a, d, options):\n        super().__init__(a, d)\n\n"
        "api.register_model('other-lin', Lin, deep=False)\n"
        "api.register_method('other-method', type('Other', (api.CZSLMethod,), {}))\n"
    )
    dist = site / "otherplug-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: otherplug\nVersion: 1.0\n")
    (dist / "top_level.txt").write_text("otherplug\n")
    (dist / "entry_points.txt").write_text("[zslbench.plugins]\nother = otherplug\n")
    return site


def test_a_sweep_without_names_plans_the_plugins_models_and_methods_too(tmp_path):
    """The paper's models and methods first, then every loaded plugin's (here another installed
    one's too)."""
    site = _other_installed_plugin(tmp_path / "site")
    proc = zsl(
        "--plugin",
        "zslbench_example",
        "run",
        "--all",
        *QUICK,
        "--dry-run",
        "--datasets",
        "cub",
        "--tracks",
        "gzsl,czsl-features",
        "--results",
        str(tmp_path / "r"),
        path=[EXAMPLE, site],
    )
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines() if line.startswith(("gzsl ", "czsl "))]
    gzsl = [r[1] for r in rows if r[0] == "gzsl"]
    czsl = [r[1] for r in rows if r[0] == "czsl"]
    built_in = ["linear", "mlp3", "mlp3+eq9", "mlp3+eq10", "mlp3+cn", "f-clswgan"]
    assert gzsl[:6] == built_in and sorted(gzsl[6:]) == ["bilinear-emb", "mean-gen", "mlp2-ln", "other-lin"]
    paper_methods = ["sequential", "multitask", "ewc-online", "mas-online", "agem"]
    assert list(dict.fromkeys(czsl))[:5] == paper_methods
    assert sorted(set(czsl[-6:])) == ["lwf", "other-method", "replay"] and len(czsl) == 2 * 8
    assert not (tmp_path / "r").exists() or not list((tmp_path / "r").glob("runs/*"))
