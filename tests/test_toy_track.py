"""A fourth kind of run needs one class and one line: a toy track defined here (its own config,
grid and training) is appended to zslbench.tracks.TRACKS, and `zslbench run --all --tracks
czsl-toy` plans it, runs it, writes its records and gives it a section of the CZSL table,
without any other module knowing of it."""

from __future__ import annotations

import dataclasses
import json
import random
from dataclasses import dataclass
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from zslbench import store, tracks
from zslbench.errors import ConfigError
from zslbench.tracks import Track, TrackInfo


@dataclass(frozen=True)
class ToyConfig:
    steps: int = 10  # draws per run
    bias: float = 0.0  # added to every draw
    threads: int = 1  # every track's config says how many torch threads its runs use

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def toy_scores(method: str, classnorm: bool, seed: int, cfg: ToyConfig) -> dict:
    """The toy 'training': a seeded mean of `steps` draws (ClassNorm adds 10 points)."""
    rng = random.Random(f"{method}/{classnorm}/{seed}")
    mean = sum(rng.random() for _ in range(cfg.steps)) / cfg.steps
    score = 100 * mean / 2 + cfg.bias + (10.0 if classnorm else 0.0)
    return {"mAUC": score, "mH": score / 2, "mJA": score / 3, "forgetting": 0.01 * seed}


class ToyTrack(Track):
    key = "czsl-toy"
    record_kind = "czsl"  # a CZSL-like kind: its records land in the CZSL table, in a section of their own
    record_track = "toy"
    config_cls = ToyConfig
    profiles = {"quick": {"steps": 4}}
    name_field = "method"
    classnorm_grid = (False, True)
    info = TrackInfo(
        description="a toy track: seeded draws instead of training",
        name_option="--methods",
        grid_datasets=("cub",),
        table_kind="czsl",
        seconds={"quick": 0.01, "paper": 0.1},
    )

    def names(self):
        return ["coin", "dice"]

    def datasets(self):
        return ("cub", "sun")

    def check(self, name, dataset):
        if name not in self.names() or dataset not in self.datasets():
            raise ConfigError(f"toy: no {name!r} on {dataset!r}")

    def traits(self, name, classnorm, dataset, source):
        return {"method": name, "classnorm": bool(classnorm), "dataset": dataset, "source": source}

    def resolve_source(self, dataset, source, data_dir):
        return "synthetic"

    def fingerprint(self, dataset, source, data_dir, cfg):
        return f"toy-{dataset}"

    def data_key(self, cfg):
        return ("toy",)

    def load(self, dataset, source, data_dir, cfg, progress=None):
        return SimpleNamespace(name=dataset, source=source, fingerprint=self.fingerprint(dataset, source, None, cfg))

    def identity(self, name, classnorm, dataset, source, fingerprint, seed, cfg):
        return {
            "kind": self.record_kind,
            "track": self.record_track,
            "method": name,
            "classnorm": bool(classnorm),
            "dataset": dataset,
            "data_source": source,
            "data_fingerprint": fingerprint,
            "seed": int(seed),
            "config": cfg.to_dict(),
        }

    def train(self, name, classnorm, data, seed, cfg, device, progress, data_dir=None):
        return toy_scores(name, bool(classnorm), seed, cfg)

    def record(self, run_id, identity, profile, data, cfg, result):
        record = {
            "run_id": run_id,
            **identity,
            "profile": profile,
            "preset": "toy",
            "metrics": result,
            "data_vintage": "toy",
            "train_seconds": 0.0,
            "eval_seconds": 0.0,
            "env": {"device": "cpu", "device_name": "toy", "threads": cfg.threads},
            "created_at": datetime.now(timezone.utc).isoformat(),
        }
        return record, {"draws.json": json.dumps(result) + "\n"}


@pytest.fixture
def toy(monkeypatch):
    track = ToyTrack()
    monkeypatch.setattr(tracks, "TRACKS", [*tracks.TRACKS, track])  # the one line that adds a track
    return track


def zsl(capsys, *args):
    from zslbench.cli import main

    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_the_toy_track_is_not_built_in():
    assert "czsl-toy" not in [t.key for t in tracks.BUILTIN]
    assert [t.key for t in tracks.all_tracks()] == [t.key for t in tracks.BUILTIN]


def test_a_toy_track_runs_as_a_sweep_and_gets_a_table_section(toy, tmp_path, capsys):
    res = tmp_path / "res"
    base = ["run", "--all", "--tracks", "czsl-toy", "--profile", "quick", "--jobs", "1", "--results", res]
    code, out, _ = zsl(capsys, *base, "--dry-run")
    assert code == 0 and "plan: 8 runs (0 GZSL, 8 CZSL)" in out and "8 to run" in out  # 2 x (±CN) x cub x 2 seeds

    code, _, err = zsl(capsys, *base, "--set", "bias=5")
    assert code == 0, err
    assert "8 trained" in err and "0 failed" in err
    records = list(store.iter_records(res))
    assert len(records) == 8 and {r["track"] for r in records} == {"toy"}
    cfg = toy.make_config("quick", {"bias": 5.0})
    assert cfg.steps == 4  # the track's own quick-profile value
    for rec in records:
        assert rec["metrics"] == toy_scores(rec["method"], rec["classnorm"], rec["seed"], cfg)
        assert rec["config"] == {"steps": 4, "bias": 5.0, "threads": 1}
        assert (res / "runs" / rec["run_id"] / "draws.json").is_file()

    from zslbench.report.paper_tables import build_table

    table = build_table("czsl", res)
    (section,) = table.sections
    assert (section.track, section.source) == ("toy", "synthetic") and "toy track" in section.title
    coin = section.cells[
        (section.cells["row"] == "coin+cn") & (section.cells["metric"] == "mAUC") & (section.cells["dataset"] == "cub")
    ]
    want = [r["metrics"]["mAUC"] for r in records if r["method"] == "coin" and r["classnorm"]]
    assert float(coin["mean"].iloc[0]) == pytest.approx(sum(want) / len(want))
    assert "toy track" in (res / "tables" / "czsl.md").read_text()

    # the planner knows the ids before the runs: a second sweep has nothing to do
    code, _, err = zsl(capsys, *base, "--set", "bias=5")
    assert code == 0 and "8 done already, 0 to run" in err


def test_the_toy_track_takes_the_sweep_filters(toy, tmp_path):
    from zslbench.sweep import plan_sweep

    plan = plan_sweep("quick", tracks=["czsl-toy"], methods=["dice"], datasets=["sun"], seeds=[3], results=tmp_path)
    assert [(j.name, j.dataset, j.seed, j.classnorm, j.track_key) for j in plan.jobs] == [
        ("dice", "sun", 3, False, "czsl-toy"),
        ("dice", "sun", 3, True, "czsl-toy"),
    ]
    with pytest.raises(ConfigError, match="--methods: unknown name 'agem'"):
        plan_sweep("quick", tracks=["czsl-toy"], methods=["agem"], results=tmp_path)
