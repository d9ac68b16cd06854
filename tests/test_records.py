"""The typed run record (zslbench/records.py): every field a built-in track writes is declared, with
its type, in that track's TypedDict; the records of every older version, once read, fit
`RunRecord`; and a misspelt field name in a reader is a type error."""

from __future__ import annotations

import ast
import json
import math
import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints, is_typeddict

import pytest

import zslbench
from zslbench import store
from zslbench.records import (
    CommonFields,
    CZSLFeaturesRecord,
    CZSLImagesRecord,
    Env,
    GZSLRecord,
    PluginIdentity,
    RecordCore,
    RunRecord,
)
from zslbench.tracks import execute_run, get_track

FIXTURES = Path(__file__).parent / "fixtures" / "results" / "runs"


def _is_record(path: Path) -> bool:
    """A committed record (the fixtures also hold damaged files, refused before any type applies)."""
    try:
        return "run_id" in json.loads(path.read_text())
    except ValueError:
        return False


RECORDS = [p for p in sorted(FIXTURES.glob("*/record.json")) if _is_record(p)]


def type_problems(value: Any, tp: Any, where: str) -> list[str]:
    """Where `value` (a record read from JSON, or a part of one) does not fit the type `tp`."""
    if tp is Any:
        return []
    if is_typeddict(tp):
        if not isinstance(value, dict):
            return [f"{where}: {value!r} is not a mapping"]
        hints = get_type_hints(tp)
        out = [f"{where}.{k}: not a field of {tp.__name__}" for k in value if k not in hints]
        out += [f"{where}: no {k}" for k in tp.__required_keys__ if k not in value]
        for key, item in value.items():
            if key in hints:
                out += type_problems(item, hints[key], f"{where}.{key}")
        return out
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, types.UnionType):
        fits = any(not type_problems(value, arg, where) for arg in args)
        return [] if fits else [f"{where}: {value!r} is not {tp}"]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{where}: {value!r} is not a dict"]
        return [
            p
            for k, v in value.items()
            for p in type_problems(k, args[0], where) + type_problems(v, args[1], f"{where}.{k}")
        ]
    if origin is list:
        if not isinstance(value, list):
            return [f"{where}: {value!r} is not a list"]
        return [p for i, v in enumerate(value) for p in type_problems(v, args[0], f"{where}[{i}]")]
    if tp is type(None):
        return [] if value is None else [f"{where}: {value!r} is not None"]
    if tp is float:  # JSON writes 10.0 as 10 where Python had an int
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return [] if ok else [f"{where}: {value!r} is not a number"]
    if tp is int:
        return [] if isinstance(value, int) and not isinstance(value, bool) else [f"{where}: {value!r} is not an int"]
    return [] if isinstance(value, tp) else [f"{where}: {value!r} is not {tp.__name__}"]


def test_the_checker_sees_an_unknown_field_a_wrong_type_and_a_missing_core_field():
    ok = {"run_id": "0" * 16, "metrics": {"H": math.nan, "S": 3}, "record_version": 3, "seed": 1}
    assert type_problems(ok, RunRecord, "record") == []
    assert type_problems({**ok, "sed": 1}, RunRecord, "record") == ["record.sed: not a field of RunRecord"]
    assert type_problems({**ok, "seed": "1"}, RunRecord, "record") == ["record.seed: '1' is not an int"]
    assert type_problems({**ok, "env": {"threads": True}}, RunRecord, "record") == [
        "record.env.threads: True is not an int"
    ]
    assert type_problems({"run_id": "0" * 16, "metrics": {}}, RunRecord, "record") == ["record: no record_version"]


def test_every_track_s_type_has_the_common_fields_and_run_record_has_them_all():
    common = set(get_type_hints(RecordCore))
    tracks = (GZSLRecord, CZSLFeaturesRecord, CZSLImagesRecord)
    for cls in tracks:
        assert common <= set(get_type_hints(cls)) and set(cls.__required_keys__) == common
    assert set(get_type_hints(RunRecord)) == set().union(*(get_type_hints(cls) for cls in tracks))
    shared = set(get_type_hints(CommonFields))
    own = [set(get_type_hints(cls)) - shared for cls in (GZSLRecord, CZSLFeaturesRecord)]
    assert own[0] and own[1] and own[0] & own[1] == set()


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: p.parent.name)
def test_a_record_of_any_version_read_back_fits_its_track_s_type(path):
    """The committed records (versions 1 and 2, GZSL and CZSL), brought to the current version."""
    record = store.read_record(path)
    assert record["record_version"] == store.RECORD_VERSION
    key = store.record_track_key(record)
    cls = {"gzsl": GZSLRecord, "czsl-features": CZSLFeaturesRecord, "czsl-images": CZSLImagesRecord}[key]
    assert type_problems(dict(record), cls, path.parent.name) == []


def _written(tmp_path: Path, key: str, name: str, overrides: dict, data=None) -> dict:
    out = execute_run(
        get_track(key),
        name,
        "cub",
        seed=1,
        classnorm=True if key != "gzsl" else None,
        profile="quick",
        source="synthetic",
        results=tmp_path,
        overrides=overrides,
        progress=False,
        data=data,
    )
    written = json.loads((out.path / store.RECORD_FILE).read_text())
    assert store.read_record(out.path / store.RECORD_FILE) == written  # the reader gives the file as written
    return written


@pytest.mark.slow
def test_a_gzsl_record_has_only_the_fields_of_its_type(tmp_path):
    record = _written(tmp_path, "gzsl", "mlp3+cn", {"epochs": 2, "synthetic_scale": 0.05})
    assert type_problems(record, GZSLRecord, "gzsl") == []
    assert {"model", "selected_epoch", "metrics_oracle_best_test_H", "env"} <= set(record)


@pytest.mark.slow
def test_a_czsl_features_record_has_only_the_fields_of_its_type(tmp_path):
    overrides = {"epochs_per_task": 1, "synthetic_scale": 0.1, "hidden_dim": 16, "agem_mem_per_class_cub": 1}
    record = _written(tmp_path, "czsl-features", "agem", overrides)
    assert type_problems(record, CZSLFeaturesRecord, "czsl-features") == []
    assert {"method", "track", "class_split", "task_seconds", "method_summary"} <= set(record)


@pytest.mark.slow
def test_a_czsl_image_record_has_only_the_fields_of_its_type(tmp_path):
    from _image_data import make_image_data

    overrides = {
        "tasks_cub": 2,
        "epochs_per_task": 1,
        "batch_size": 8,
        "inference_batch_size": 16,
        "hidden_dim": 8,
        "image_size": 32,
        "backbone_weights": "none",
    }
    data = make_image_data(n_classes=4, per_class=4, size=32)
    record = _written(tmp_path, "czsl-images", "sequential", overrides, data)
    assert type_problems(record, CZSLImagesRecord, "czsl-images") == []
    assert {"attr_source", "image_size", "backbone", "image_split"} <= set(record)


@pytest.mark.slow
def test_a_trained_run_s_record_is_the_one_written_and_read_back(tmp_path):
    """What execute_run returns for a run it trains is the record as written (with its
    record_version), the same as it returns for that run once done."""
    overrides = {"epochs": 1, "synthetic_scale": 0.05}
    track = get_track("gzsl")
    args = dict(profile="quick", source="synthetic", results=tmp_path, overrides=overrides, progress=False)
    trained = execute_run(track, "linear", "sun", **args)
    found = execute_run(track, "linear", "sun", **args)
    assert not trained.skipped and found.skipped
    written = json.loads((trained.path / store.RECORD_FILE).read_text())
    assert trained.record == found.record == written
    assert trained.record["record_version"] == store.RECORD_VERSION


def test_a_misspelt_field_of_a_typed_record_is_a_type_error(tmp_path):
    """What the annotations in replay, the report, the sweep and the library buy: mypy refuses a
    field name that no record has."""
    api = pytest.importorskip("mypy.api", reason="mypy is installed with the test extra")
    code = (
        "from zslbench.records import RunRecord\n"
        "def source(rec: RunRecord) -> str:\n"
        "    return rec['data_sorce']\n"
        "def seed(rec: RunRecord) -> int:\n"
        "    return rec['seed']\n"
    )
    (tmp_path / "reader.py").write_text(code)
    out, _, status = api.run(
        [str(tmp_path / "reader.py"), "--cache-dir", str(tmp_path / "cache"), "--follow-imports", "silent"]
    )
    assert status == 1 and out.count("error:") == 1, out
    assert 'reader.py:3: error: TypedDict "RunRecord" has no key "data_sorce"' in out


READERS = ("report", "replay.py", "sweep", "library", "loggers.py", "commands")
RECORD_NAMES = {"rec", "record", "original", "rerun"}  # what the readers call a record
NESTED = {"env": Env, "plugin": PluginIdentity}


def _read(node: ast.AST) -> tuple[ast.AST, ast.AST] | None:
    """(what is read from, the key) of ``x.get(key, ...)`` and ``x[key]``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args:
        return node.func.value, node.args[0]
    if isinstance(node, ast.Subscript):
        return node.value, node.slice
    return None


def _typed(node: ast.AST) -> Any:
    """The TypedDict a reader's expression holds: a record named as one, its env or plugin block."""
    if isinstance(node, ast.BoolOp):  # (rec.get("env") or {})
        return _typed(node.values[0])
    if isinstance(node, ast.Name):
        return RunRecord if node.id in RECORD_NAMES else None
    read = _read(node)
    if read and _typed(read[0]) is RunRecord and isinstance(read[1], ast.Constant):
        return NESTED.get(read[1].value)
    return None


def test_every_field_the_readers_read_by_name_is_declared():
    """mypy refuses ``rec["typo"]`` but lets ``rec.get("typo")`` through (as an ``object``): every
    field name read with either from what the readers name a record (and from its env and plugin
    blocks) is a declared field."""
    package = Path(zslbench.__file__).parent
    files = [
        f for part in READERS for f in ([package / part] if part.endswith(".py") else (package / part).rglob("*.py"))
    ]
    unknown, seen = [], 0
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            read = _read(node)
            cls = _typed(read[0]) if read else None
            if read and cls is not None and isinstance(read[1], ast.Constant):
                seen += 1
                if read[1].value not in get_type_hints(cls):
                    unknown.append(f"{path.relative_to(package)}:{node.lineno}: {cls.__name__}[{read[1].value!r}]")
    assert seen > 50 and unknown == []


def test_a_record_read_back_and_written_again_is_the_same_bytes(tmp_path):
    """The types are plain dicts at run time: the reader's record, given to the writer, gives the
    record.json it was read from."""
    record = {"run_id": "0123456789abcdef", "kind": "gzsl", "model": "linear", "seed": 1, "metrics": {"H": 1.5}}
    first = store.write_run(tmp_path / "a", record["run_id"], record) / store.RECORD_FILE
    again = store.read_record(first)
    assert type(again) is dict
    second = store.write_run(tmp_path / "b", again["run_id"], again) / store.RECORD_FILE
    assert second.read_bytes() == first.read_bytes()
