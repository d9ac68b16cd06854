"""Run records: ids, atomic writes, done markers, and loading records back.

Layout: <results>/runs/<run_id>/{record.json, trace.csv, epochs.csv, done}.
A run counts as done only when its `done` marker exists. A run folder is written whole in
a temporary dot-folder and renamed into place, so no reader ever sees part of a run.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO, cast

from zslbench.config import short_repr
from zslbench.errors import RecordError, ZSLBenchError
from zslbench.records import RunRecord
from zslbench.schema import check_record

# The record schema (its fields, typed: zslbench.records).  2: every record has ``preset`` (None:
# made before presets, its config holds every field), a config in today's terms (``threads``
# included) and a ``track`` when its kind has several.  3: a CPU run flushes subnormal floats
# unless its config has ``flush_denormal: false`` or lacks the field (the run id hashes the field
# only when it is on), and its env block says whether every thread flushed.  Older records are
# brought up to it by :func:`migrate` as they are read.
RECORD_VERSION = 3
RECORD_FILE = "record.json"
DONE_FILE = "done"


def default_results_dir() -> Path:
    return Path(os.environ.get("ZSLBENCH_RESULTS", "results"))


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def make_run_id(identity: dict) -> str:
    """A short stable hash of everything that determines a run's result."""
    return hashlib.sha256(canonical_json(identity).encode()).hexdigest()[:16]


def run_dir(results: Path, run_id: str) -> Path:
    return Path(results) / "runs" / run_id


def is_done(results: Path, run_id: str) -> bool:
    return (run_dir(results, run_id) / DONE_FILE).exists()


def is_done_and_valid(results: Path, run_id: str) -> bool:
    """Whether a run is done and its record passes the record check (zslbench.schema): the runs
    a sweep skips.  A done run with a damaged record is run again (zslbench.tracks.base warns)."""
    if not is_done(results, run_id):
        return False
    try:
        read_record(run_dir(results, run_id) / RECORD_FILE)
    except RecordError:
        return False
    return True


def atomic_write(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Create `path` whole or not at all: `write(fh)` fills a temporary file in the same
    folder, which is fsynced and renamed over `path`; on any failure it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes it private; results are not
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    def write(fh: BinaryIO) -> None:
        fh.write(data)

    atomic_write(path, write)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def environment(device: str) -> dict:
    """The record's env block; `numerics` says what determines the numbers
    (zslbench.environment.numeric_environment). Call it where the run trains, so that the thread
    count is the one in effect."""
    import numpy
    import torch

    from zslbench.environment import numeric_environment

    numerics = numeric_environment(device)
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "device": device,
        "device_name": numerics.get("gpu") or numerics.get("cpu_model") or platform.machine(),
        "threads": torch.get_num_threads(),
        "numerics": numerics,
        "git_commit": git_commit(),
    }


def git_commit() -> str | None:
    """The commit of the zslbench source tree, when it is a git checkout."""
    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        if out.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
        )
        return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def as_written(record: Mapping[str, Any]) -> RunRecord:
    """The record as :func:`write_run` writes it and :func:`read_record` reads it back: stamped
    with the current RECORD_VERSION (a copy; `record` is not changed)."""
    return cast(RunRecord, dict(record, record_version=RECORD_VERSION))


def write_run(results: Path, run_id: str, record: Mapping[str, Any], files: dict[str, str] | None = None) -> Path:
    """Write a run's folder whole or not at all.

    Every file (side files, record.json, the done marker last) is written and fsynced in a
    temporary folder `runs/.<run_id>.<pid>.tmp`, which is then renamed to `runs/<run_id>`.
    A reader therefore sees either no run folder, the previous complete one, or the new
    complete one. A process killed mid-write leaves only a dot-folder that readers ignore
    and `clean_stale_temp` removes.
    """
    runs = Path(results) / "runs"
    folder = runs / run_id
    tmp: Path | None = None
    try:
        runs.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{run_id}.{os.getpid()}.", suffix=".tmp", dir=runs))
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private; a run folder is not
        record = as_written(record)
        payload = dict(files or {})
        payload[RECORD_FILE] = json.dumps(record, indent=2, sort_keys=True, default=str) + "\n"
        payload[DONE_FILE] = datetime.now(timezone.utc).isoformat() + "\n"
        for name, text in payload.items():  # dicts keep order: the done marker is written last
            with open(tmp / name, "wb") as fh:
                fh.write(text.encode("utf-8"))
                fh.flush()
                os.fsync(fh.fileno())
        if folder.exists():
            trash = Path(tempfile.mkdtemp(prefix=f".{run_id}.{os.getpid()}.", suffix=".old", dir=runs))
            os.replace(folder, trash / run_id)
            os.replace(tmp, folder)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, folder)
        tmp = None
        _fsync_dir(runs)
    except OSError as exc:
        raise ZSLBenchError(f"cannot write run record in {folder}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_temp(results: Path) -> list[Path]:
    """Remove the temporary run folders (``runs/.<run_id>.<pid>.<random>.tmp|old``) whose writer is
    gone: not this process, no live process of that pid on this host, and not made after the
    run's lock file was (a holder of the lock, on any host, may be writing it).  Called at the
    start of every run and sweep; returns what was removed."""
    from zslbench.locks import lock_path

    runs = Path(results) / "runs"
    removed: list[Path] = []
    if not runs.is_dir():
        return removed
    for entry in runs.iterdir():
        parts = entry.name.split(".")
        # .<run_id>.<pid>.<random>.tmp|old
        if not (entry.name.startswith(".") and len(parts) >= 5 and parts[-1] in ("tmp", "old")):
            continue
        try:
            pid = int(parts[2])
        except ValueError:
            continue
        if pid == os.getpid() or _pid_alive(pid):
            continue
        try:
            lock_time = lock_path(results, parts[1]).stat().st_mtime
        except OSError:
            lock_time = None
        try:
            if lock_time is not None and entry.lstat().st_mtime >= lock_time:
                continue
        except OSError:
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def read_record(path: Path) -> RunRecord:
    """Read one record.json, in the current schema (:func:`migrate`) and checked
    (zslbench.schema); RecordError with the path on any problem."""
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecordError(f"{path}: record not found") from None
    except (OSError, ValueError, RecursionError) as exc:  # ValueError: bad JSON, text or a 5000-digit int
        raise RecordError(f"{path}: unreadable run record ({exc})") from None
    if not isinstance(record, dict) or "run_id" not in record or "metrics" not in record:
        raise RecordError(f"{path}: not a zslbench run record (no run_id/metrics)")
    version = record.get("record_version")
    if version not in range(1, RECORD_VERSION + 1):
        raise RecordError(
            f"{path}: record format version {short_repr(version)} is not supported (this zslbench reads "
            f"versions 1 to {RECORD_VERSION}); rerun it with --force"
        )
    record = migrate(record)
    check_record(record, path)  # every field the code uses, typed and bounded (zslbench.schema)
    return cast(RunRecord, record)


def migrate(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record of any older format version in the current schema (RECORD_VERSION); the rest of
    zslbench sees only that.  The record's file is not changed.  The fields, their types and what
    each version added: zslbench.records.

    1 -> 2:
    * ``preset``: absent before presets; None says so (such a record's config holds every
      field, not only those that act on its run);
    * CZSL ``fisher_minmax`` was a bool (true: min-max over the trainable weights, today
      ``trainable_only``; false: ``none``) and A-GEM's reference gradient was the clean one
      (``agem_ref_grad=clean``).  Their EWC/MAS importances visited the images in index order,
      which no option reproduces;
    * ``threads`` was not a config field: the run used the thread count in its env block;
    * a CZSL record without ``track`` is of the features track.

    2 -> 3: a CPU run's env block gets ``flush_denormal`` (False unless the run asked for it).
    The run id and config stay: a config without ``flush_denormal`` is a run without flushing,
    today as then (zslbench.replay reruns it so).
    """
    version = record.get("record_version")
    record = dict(record)
    if version == 1 and isinstance(record.get("config") or {}, dict) and isinstance(record.get("env") or {}, dict):
        config = dict(record.get("config") or {})
        if "preset" not in record:
            record["preset"] = None
            if record.get("kind") == "czsl":
                if isinstance(config.get("fisher_minmax"), bool):
                    config["fisher_minmax"] = "trainable_only" if config["fisher_minmax"] else "none"
                config.setdefault("agem_ref_grad", "clean")
        if "threads" not in config:
            threads = (record.get("env") or {}).get("threads")
            if isinstance(threads, int) and not isinstance(threads, bool) and threads >= 1:
                config["threads"] = threads
        if record.get("kind") == "czsl" and not record.get("track"):
            record["track"] = "features"  # the only CZSL track before the image track
        record["config"] = config
        record["record_version"] = version = 2
    if version == 2:
        # flushing was off unless asked for (then on the run's one thread): the config says which
        # run it was already (its id hashes flush_denormal only when on), the env block now too
        env = record.get("env")
        if isinstance(env, dict) and not str(env.get("device", "cpu")).startswith("cuda"):
            record["env"] = {**env, "flush_denormal": bool(env.get("flush_denormal", False))}
        record["record_version"] = 3
    return record


def track_key(kind: str, track: str | None = None) -> str:
    """The track key of a (kind, track) pair: "gzsl", "czsl-features", "czsl-images" (a CZSL
    run without a track is of the features track)."""
    track = track or ("features" if kind == "czsl" else None)
    return f"{kind}-{track}" if track else str(kind)


def record_track_key(record: Mapping[str, Any]) -> str:
    """The track key of a (current-schema) record, from its ``kind`` and ``track``."""
    return track_key(str(record.get("kind")), record.get("track"))


def iter_records(results: Path, kind: str | None = None) -> Iterator[RunRecord]:
    """Every done record under results/runs; broken ones are skipped with a warning naming them."""
    runs = Path(results) / "runs"
    if not runs.is_dir():
        return
    for folder in sorted(runs.iterdir()):
        if folder.name.startswith(".") or not (folder / DONE_FILE).exists():
            continue
        try:
            record = read_record(folder / RECORD_FILE)
        except RecordError as exc:
            warnings.warn(f"skipping {exc}", stacklevel=2)
            continue
        if kind is None or record.get("kind") == kind:
            record["_dir"] = str(folder)
            yield record
