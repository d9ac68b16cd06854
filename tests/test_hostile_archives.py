"""Hostile archives for `zslbench data fetch`: links, chains of links, compression bombs, stray
files, a Python without tarfile's data filter, a file system that refuses the writes.  Every
archive is built here (small: the limits are lowered through their environment variables where
a case needs it); every case ends with one clear line and nothing installed or left behind, or
with only the files the loaders read installed."""

from __future__ import annotations

import io
import resource
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from _image_layouts import make_cub
from _xlsa17_files import SHARED, genuine_available, res101_bytes

from support import cli_env, one_line, one_line_message
from zslbench.data.features.fetch import fetch_xlsa17
from zslbench.data.features.specs import DATASETS
from zslbench.data.images.fetch import fetch_images
from zslbench.errors import DataError

pytestmark = pytest.mark.filterwarnings("ignore::zslbench.data.features.xlsa17.DataWarning")

FAST = {"retries": 0, "backoff": 0.0, "timeout": 10.0, "progress": False}
ZEROS_MB = 20  # a compression bomb: 20 MB of zeros gzip to about 20 KB


@pytest.fixture(scope="module")
def cub_root(tmp_path_factory) -> Path:
    return make_cub(tmp_path_factory.mktemp("cub"))


def cub_tgz(path: Path, cub_root: Path, extra: list[tuple[tarfile.TarInfo, bytes | None]] = ()) -> Path:
    """The generated CUB layout as CUB_200_2011/ plus the ``extra`` members, in that order."""
    with tarfile.open(path, "w:gz") as tar:
        tar.add(cub_root, arcname="CUB_200_2011")
        for info, data in extra:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def file_member(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def link_member(name: str, target: str, kind=tarfile.SYMTYPE) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


def outside_and_inside(d: Path) -> list[str]:
    """What is in the data folder besides downloads/ (an empty list: nothing installed)."""
    return sorted(p.name for p in d.iterdir() if p.name != "downloads") if d.exists() else []


def fetch_cub(archive: Path, d: Path):
    return fetch_images("cub-images", d, from_archives=[archive], **FAST)


# --------------------------------------------------------------------------- links


@pytest.mark.parametrize(
    "extra, kind",
    [
        ([link_member("CUB_200_2011/alias.txt", "images.txt")], "symbolic link"),
        ([link_member("CUB_200_2011/hard.txt", "CUB_200_2011/images.txt", tarfile.LNKTYPE)], "hard link"),
        # a chain: each link looks inside on its own text, the second one passes through the first
        (
            [
                link_member("CUB_200_2011/up", ".."),
                link_member("CUB_200_2011/up/out", ".."),
                file_member("CUB_200_2011/up/out/escaped.txt", b"x"),
            ],
            "symbolic link",
        ),
    ],
    ids=["symlink-inside", "hardlink-inside", "chain"],
)
def test_link_members_refuse_the_archive(cub_root, tmp_path, extra, kind):
    archive = cub_tgz(tmp_path / "CUB_200_2011.tgz", cub_root, extra)
    d = tmp_path / "base" / "D"
    with pytest.raises(DataError) as excinfo:
        fetch_cub(archive, d)
    line = one_line_message(excinfo)
    assert kind in line and "refusing the archive" in line
    assert outside_and_inside(d) == []
    assert not list((tmp_path / "base").glob("escaped.txt")) and not list(tmp_path.glob("escaped.txt"))


def test_a_python_without_the_data_filter_unpacks_with_zslbenchs_own_writer(cub_root, tmp_path, monkeypatch):
    """Without tarfile's 'data' filter (Debian 12's Python 3.11.2): the same files, and the
    hostile archives still refused."""
    (tmp_path / "good").mkdir()
    (tmp_path / "chain").mkdir()
    good = cub_tgz(tmp_path / "good" / "CUB_200_2011.tgz", cub_root)
    with_filter = tmp_path / "with"
    fetch_cub(good, with_filter)
    monkeypatch.delattr(tarfile, "data_filter", raising=False)  # absent already on an old Python
    without = tmp_path / "without"
    fetch_cub(good, without)
    files = sorted(p.relative_to(with_filter) for p in with_filter.rglob("*") if p.is_file())
    assert files and files == sorted(p.relative_to(without) for p in without.rglob("*") if p.is_file())
    unpacked = [rel for rel in files if rel.parts[0] == "CUB_200_2011"]  # not the fetch's own dated record
    assert len(unpacked) > 10
    for rel in unpacked:
        assert (with_filter / rel).read_bytes() == (without / rel).read_bytes()
        assert not (without / rel).is_symlink() and (without / rel).stat().st_mode & 0o7777 == 0o644
    d = tmp_path / "D"
    with pytest.raises(DataError) as excinfo:  # a link member is refused before anything is written
        chain = [
            link_member("CUB_200_2011/up", ".."),
            link_member("CUB_200_2011/up/out", ".."),
            file_member("CUB_200_2011/up/out/escaped.txt", b"x"),
        ]
        fetch_cub(cub_tgz(tmp_path / "chain" / "CUB_200_2011.tgz", cub_root, chain), d)
    assert "link" in one_line_message(excinfo)
    assert outside_and_inside(d) == []


# --------------------------------------------------------------------------- sizes


def test_the_limits_have_documented_defaults_and_overrides(monkeypatch):
    from zslbench.data.archives import UnpackLimits, unpack_limits

    for var in ("ZSLBENCH_UNPACK_MAX_BYTES", "ZSLBENCH_UNPACK_MAX_MEMBER_BYTES", "ZSLBENCH_UNPACK_MAX_RATIO"):
        monkeypatch.delenv(var, raising=False)
    assert unpack_limits() == UnpackLimits(total=64 << 30, member=8 << 30, ratio=100.0)
    monkeypatch.setenv("ZSLBENCH_UNPACK_MAX_BYTES", "2G")
    monkeypatch.setenv("ZSLBENCH_UNPACK_MAX_MEMBER_BYTES", "500M")
    monkeypatch.setenv("ZSLBENCH_UNPACK_MAX_RATIO", "20")
    assert unpack_limits() == UnpackLimits(total=2 << 30, member=500 << 20, ratio=20.0)
    monkeypatch.setenv("ZSLBENCH_UNPACK_MAX_RATIO", "lots")
    with pytest.raises(DataError, match=r"\$ZSLBENCH_UNPACK_MAX_RATIO: 'lots' is not a positive size"):
        unpack_limits()


@pytest.mark.parametrize(
    "env, needle",
    [
        ({}, "times its size"),  # the default ratio
        ({"ZSLBENCH_UNPACK_MAX_MEMBER_BYTES": "1M"}, "per member"),
        ({"ZSLBENCH_UNPACK_MAX_BYTES": "4M"}, "ZSLBENCH_UNPACK_MAX_BYTES"),
    ],
    ids=["ratio", "member", "total"],
)
def test_a_tgz_bomb_is_refused_before_it_is_written(cub_root, tmp_path, monkeypatch, env, needle):
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    bomb = file_member("CUB_200_2011/bomb.bin", bytes(ZEROS_MB << 20))
    archive = cub_tgz(tmp_path / "CUB_200_2011.tgz", cub_root, [bomb])
    assert archive.stat().st_size < 1 << 20
    d = tmp_path / "D"
    with pytest.raises(DataError) as excinfo:
        fetch_cub(archive, d)
    line = one_line_message(excinfo)
    assert needle in line and "refusing the archive" in line
    assert outside_and_inside(d) == []


def test_only_the_files_the_loader_reads_are_installed(cub_root, tmp_path):
    stray = [
        file_member("CUB_200_2011/bomb.bin", b"\0" * 4096),
        file_member("CUB_200_2011/images/001.Class_001/unlisted.jpg", b"not listed"),
        file_member("CUB_200_2011/extra/notes.txt", b"x"),
    ]
    archive = cub_tgz(tmp_path / "CUB_200_2011.tgz", cub_root, stray)
    d = tmp_path / "D"
    fetch_cub(archive, d)
    installed = {p.relative_to(d / "CUB_200_2011").as_posix() for p in (d / "CUB_200_2011").rglob("*") if p.is_file()}
    assert "bomb.bin" not in installed and "extra/notes.txt" not in installed
    assert not any(p.endswith("unlisted.jpg") for p in installed)
    listed = (cub_root / "images.txt").read_text().split()[1::2]
    assert {f"images/{f}" for f in listed} <= installed and "images.txt" in installed
    assert not (d / "CUB_200_2011" / "extra").exists()


# --------------------------------------------------------------------------- the xlsa17 zip

needs_genuine = pytest.mark.skipif(
    not genuine_available(), reason=f"genuine xlsa17 att_splits files not found at {SHARED}"
)


def xlsa17_zip(path: Path, extra: dict[str, bytes] | None = None) -> Path:
    """xlsa17/data/CUB/{att_splits,res101}.mat (genuine splits, small generated features) + extra."""
    splits = SHARED / "CUB" / "att_splits.mat"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xlsa17/data/CUB/att_splits.mat", splits.read_bytes())
        zf.writestr("xlsa17/data/CUB/res101.mat", res101_bytes(splits, DATASETS["cub"].n_unseen, dim=16))
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path


def bare_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize(
    "env, needle",
    [
        ({}, "times its size"),
        ({"ZSLBENCH_UNPACK_MAX_MEMBER_BYTES": "1M"}, "per member"),
        ({"ZSLBENCH_UNPACK_MAX_BYTES": "4M"}, "ZSLBENCH_UNPACK_MAX_BYTES"),
    ],
    ids=["ratio", "member", "total"],
)
def test_a_zip_bomb_is_refused_before_it_is_written(tmp_path, monkeypatch, env, needle):
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    archive = bare_zip(
        tmp_path / "xlsa17.zip",
        {"xlsa17/data/APY/att_splits.mat": b"", "xlsa17/data/APY/res101.mat": bytes(ZEROS_MB << 20)},
    )
    d = tmp_path / "D"
    with pytest.raises(DataError) as excinfo:
        fetch_xlsa17(d, from_zip=archive, **FAST)
    line = one_line_message(excinfo)
    assert needle in line and "refusing the archive" in line
    assert outside_and_inside(d) == []


def test_zip_symlink_members_refuse_the_archive(tmp_path):
    info = zipfile.ZipInfo("xlsa17/data/CUB/res101.mat")
    info.external_attr = 0o120777 << 16
    with zipfile.ZipFile(tmp_path / "xlsa17.zip", "w") as zf:
        zf.writestr("xlsa17/data/CUB/att_splits.mat", b"")
        zf.writestr(info, "/etc/passwd")
    d = tmp_path / "D"
    with pytest.raises(DataError, match="symbolic link"):
        fetch_xlsa17(d, from_zip=tmp_path / "xlsa17.zip", **FAST)
    assert outside_and_inside(d) == []


@needs_genuine
def test_a_stray_file_in_a_dataset_folder_of_the_zip_is_not_installed(tmp_path):
    archive = xlsa17_zip(tmp_path / "xlsa17.zip", {"xlsa17/data/CUB/bomb.bin": b"\0" * 4096})
    d = tmp_path / "D"
    fetch_xlsa17(d, from_zip=archive, **FAST)
    assert sorted(p.name for p in (d / "xlsa17" / "data" / "CUB").iterdir()) == ["att_splits.mat", "res101.mat"]


# --------------------------------------------------------------------------- the file system says no


def _with_file_size_limit(limit: int):
    def limit_writes():  # a write past `limit` bytes fails with EFBIG (Python ignores SIGXFSZ)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limit_writes


def _fetch_limited(args: list[str], limit: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "zslbench", "data", "fetch", *args],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=300,
        preexec_fn=_with_file_size_limit(limit),
    )


def test_a_write_error_while_unpacking_a_zip_is_one_line(tmp_path):
    archive = bare_zip(
        tmp_path / "xlsa17.zip",
        {"xlsa17/data/CUB/att_splits.mat": b"", "xlsa17/data/CUB/res101.mat": bytes(range(256)) * 256},
    )
    d = tmp_path / "D"
    proc = _fetch_limited(["--from-zip", str(archive), "--data-dir", str(d)], 16 << 10)
    assert proc.returncode == 2, proc.stderr
    line = one_line(proc.stderr)
    assert "cannot unpack xlsa17.zip there" in line and "File too large" in line
    assert outside_and_inside(d) == []


def test_a_write_error_while_unpacking_a_tgz_is_one_line(cub_root, tmp_path):
    archive = cub_tgz(
        tmp_path / "CUB_200_2011.tgz", cub_root, [file_member("CUB_200_2011/big.bin", bytes(range(256)) * 256)]
    )
    d = tmp_path / "D"
    proc = _fetch_limited(["--dataset", "cub-images", "--from-archive", str(archive), "--data-dir", str(d)], 16 << 10)
    assert proc.returncode == 2, proc.stderr
    line = one_line(proc.stderr)
    assert "cannot unpack CUB_200_2011.tgz there" in line and "File too large" in line
    assert outside_and_inside(d) == []
