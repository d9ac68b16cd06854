"""`zslbench data fetch` against an HTTP server on 127.0.0.1 started by these tests.

The server (`http_server` of tests/conftest.py, stopped in teardown) serves a zip built here from
the genuine att_splits.mat files of ../shared/data/xlsa17 (APY and CUB) plus generated res101.mat
files aligned to their splits (small features: 16-d instead of 2048-d, which the loader accepts
with a warning).  It supports Range requests and can misbehave on demand: drop the connection
mid-body, ignore Range, answer an HTTP error.  Every case ends in success or one clear error, and
never leaves a partial dataset folder or a temp folder in the data dir.
"""

from __future__ import annotations

import io
import re
import socket
import zipfile
from pathlib import Path

import pytest
from _xlsa17_files import SHARED, genuine_available, res101_bytes

from support import one_error_line, zsl
from zslbench.data.features.fetch import ARCHIVE_NAME, fetch_xlsa17
from zslbench.data.features.specs import DATASETS
from zslbench.data.features.xlsa17 import check_dataset
from zslbench.errors import DataError

pytestmark = pytest.mark.skipif(
    not genuine_available(), reason=f"genuine xlsa17 att_splits files not found at {SHARED}"
)

ZIP_DATASETS = {"APY": "apy", "CUB": "cub"}
FAST = {"retries": 2, "backoff": 0.001, "timeout": 10.0, "progress": False}


# --------------------------------------------------------------------------- the archive


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> bytes:
    """xlsa17.zip as the official one unpacks: xlsa17/data/<DS>/{att_splits,res101}.mat."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xlsa17/README.txt", "test copy of the xlsa17 layout\n")
        for ds, name in ZIP_DATASETS.items():
            splits = SHARED / ds / "att_splits.mat"
            zf.writestr(f"xlsa17/data/{ds}/att_splits.mat", splits.read_bytes())
            zf.writestr(f"xlsa17/data/{ds}/res101.mat", res101_bytes(splits, DATASETS[name].n_unseen, dim=16))
    return buf.getvalue()


def corrupt(payload: bytes) -> bytes:
    """The archive with bytes flipped inside the compressed data of a res101.mat."""
    with zipfile.ZipFile(io.BytesIO(payload)) as zf:
        info = zf.getinfo("xlsa17/data/CUB/res101.mat")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    mid = start + info.compress_size // 2
    data = bytearray(payload)
    for i in range(mid, mid + 64):
        data[i] ^= 0xFF
    return bytes(data)


# --------------------------------------------------------------------------- the server


@pytest.fixture
def server(http_server, archive):
    """The archive at a mirror-like URL of the local server (tests/conftest.py)."""
    http_server.url = http_server.serve(f"/xian/{ARCHIVE_NAME}", archive)
    return http_server


@pytest.fixture
def closed_port_url():
    """A URL on 127.0.0.1 where nothing listens (connection refused): the port stays bound, not
    listening, for the whole test, so no other server can take it meanwhile."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{s.getsockname()[1]}/{ARCHIVE_NAME}"


# --------------------------------------------------------------------------- checks


def assert_no_leftovers(data_dir: Path, datasets: tuple[str, ...] = ()) -> None:
    """Only the given dataset folders, each complete and valid; no temp folder anywhere."""
    assert not [p.name for p in data_dir.iterdir() if p.name.startswith(".xlsa17.")]
    folder = data_dir / "xlsa17" / "data"
    present = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    assert present == sorted(datasets)
    for ds in datasets:
        res = check_dataset(ZIP_DATASETS[ds], data_dir)
        assert res.status != "fail", res.message
        assert res.path == str(folder / ds)


def assert_nothing_extracted(data_dir: Path) -> None:
    assert_no_leftovers(data_dir, ())
    assert not (data_dir / "downloads" / ARCHIVE_NAME).exists()


# --------------------------------------------------------------------------- the cases


def test_full_download_then_data_check_passes(server, tmp_path, archive):
    data_dir = tmp_path / "data"
    proc = zsl("data", "fetch", "--data-dir", str(data_dir), "--url", server.url, "--retry-wait", "0")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "xlsa17 ready" in proc.stdout and "APY, CUB" in proc.stdout
    assert [r["range"] for r in server.requests] == [None]
    assert_no_leftovers(data_dir, ("APY", "CUB"))
    assert not (data_dir / "downloads" / ARCHIVE_NAME).exists()  # removed after extraction
    check = zsl("data", "check", "--data-dir", str(data_dir))
    assert check.returncode == 0, check.stderr
    assert re.search(r"^apy\s.*\b(ok|warn)\s*$", check.stdout, re.M), check.stdout
    assert re.search(r"^cub\s.*\b(ok|warn)\s*$", check.stdout, re.M), check.stdout


def test_interrupted_download_resumes_with_range(server, tmp_path, archive):
    cut = len(archive) // 3
    server.drop_after = cut
    messages: list[str] = []
    result = fetch_xlsa17(tmp_path, server.url, log=messages.append, **FAST)
    reqs = server.requests
    assert len(reqs) == 2
    assert reqs[0]["range"] is None and reqs[0]["sent"] == cut
    assert reqs[1]["range"] == f"bytes={cut}-" and reqs[1]["status"] == 206
    assert reqs[1]["sent"] == len(archive) - cut < len(archive)
    assert result.downloaded_bytes == len(archive)
    assert any("interrupted" in m for m in messages)
    assert result.datasets == ["APY", "CUB"]
    assert_no_leftovers(tmp_path, ("APY", "CUB"))


def test_failed_fetch_keeps_the_part_and_the_next_call_resumes(server, tmp_path, archive):
    cut = len(archive) // 2
    server.drop_after = cut
    with pytest.raises(DataError, match=r"connection closed after \d+ of \d+ bytes"):
        fetch_xlsa17(tmp_path, server.url, **{**FAST, "retries": 0})
    part = tmp_path / "downloads" / (ARCHIVE_NAME + ".part")
    assert part.stat().st_size == cut
    assert_no_leftovers(tmp_path, ())
    result = fetch_xlsa17(tmp_path, server.url, **FAST)  # e.g. the user runs it again
    assert server.requests[-1]["range"] == f"bytes={cut}-"
    assert result.downloaded_bytes == len(archive) - cut
    assert not part.exists()
    assert_no_leftovers(tmp_path, ("APY", "CUB"))


def test_server_that_ignores_range_gets_a_full_download(server, tmp_path, archive):
    server.ignore_range = True
    server.drop_after = len(archive) // 2
    messages: list[str] = []
    result = fetch_xlsa17(tmp_path, server.url, log=messages.append, **FAST)
    reqs = server.requests
    assert [r["status"] for r in reqs] == [200, 200]
    assert reqs[1]["range"] == f"bytes={len(archive) // 2}-"  # asked to resume...
    assert reqs[1]["sent"] == len(archive)  # ...got everything again
    assert any("ignored" in m for m in messages)
    assert result.datasets == ["APY", "CUB"]
    assert_no_leftovers(tmp_path, ("APY", "CUB"))


def test_corrupted_zip_is_refused_and_nothing_is_left(server, tmp_path, archive):
    server.serve(f"/xian/{ARCHIVE_NAME}", corrupt(archive))
    with pytest.raises(DataError, match=r"corrupted") as err:
        fetch_xlsa17(tmp_path, server.url, **FAST)
    assert "\n" not in str(err.value)
    assert_nothing_extracted(tmp_path)
    assert not (tmp_path / "downloads" / (ARCHIVE_NAME + ".part")).exists()


def test_wrong_checksum_is_refused(server, tmp_path, archive):
    with pytest.raises(DataError, match=r"SHA-256 mismatch.*expected 0{64}"):
        fetch_xlsa17(tmp_path, server.url, sha256="0" * 64, **FAST)
    assert_nothing_extracted(tmp_path)


def test_right_checksum_is_accepted(server, tmp_path, archive):
    import hashlib

    digest = hashlib.sha256(archive).hexdigest()
    result = fetch_xlsa17(tmp_path, server.url, sha256=digest.upper(), **FAST)
    assert result.sha256 == digest
    assert_no_leftovers(tmp_path, ("APY", "CUB"))


def test_http_404_fails_at_once_with_one_line(server, tmp_path):
    server.status = 404
    proc = zsl("data", "fetch", "--data-dir", str(tmp_path), "--url", server.url, "--retry-wait", "0")
    one_error_line(proc, "HTTP 404", server.url)
    assert len(server.requests) == 1  # no retry
    assert_nothing_extracted(tmp_path)


def test_http_500_is_retried_then_a_clear_error(server, tmp_path):
    server.status = 500
    with pytest.raises(DataError) as err:
        fetch_xlsa17(tmp_path, server.url, **FAST)
    message = str(err.value)
    assert len(server.requests) == FAST["retries"] + 1
    assert "HTTP 500" in message and "--from-zip" in message
    assert str(tmp_path / "downloads" / ARCHIVE_NAME) in message  # where to put it by hand
    assert "\n" not in message
    assert_nothing_extracted(tmp_path)


def test_connection_refused_says_how_to_fetch_by_hand(closed_port_url, tmp_path):
    proc = zsl(
        "data", "fetch", "--data-dir", str(tmp_path), "--url", closed_port_url, "--retries", "1", "--retry-wait", "0"
    )
    line = one_error_line(proc, "--from-zip")
    assert "refused" in line.lower()
    assert_nothing_extracted(tmp_path)


def test_second_call_downloads_nothing(server, tmp_path):
    first = fetch_xlsa17(tmp_path, server.url, **FAST)
    assert not first.skipped
    n = len(server.requests)
    proc = zsl("data", "fetch", "--data-dir", str(tmp_path), "--url", server.url)
    assert proc.returncode == 0, proc.stderr
    assert "already in place" in proc.stdout and "nothing to download" in proc.stdout
    assert len(server.requests) == n
    assert_no_leftovers(tmp_path, ("APY", "CUB"))


def test_from_zip_needs_no_network_and_keeps_the_zip(tmp_path, archive):
    src = tmp_path / "elsewhere" / ARCHIVE_NAME
    src.parent.mkdir()
    src.write_bytes(archive)
    data_dir = tmp_path / "data"
    result = fetch_xlsa17(data_dir, from_zip=src, **FAST)
    assert result.datasets == ["APY", "CUB"] and result.downloaded_bytes == 0
    assert src.read_bytes() == archive
    assert_no_leftovers(data_dir, ("APY", "CUB"))


def test_zip_put_in_downloads_by_hand_is_used(tmp_path, archive, closed_port_url):
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / ARCHIVE_NAME).write_bytes(archive)
    result = fetch_xlsa17(tmp_path, closed_port_url, **FAST)
    assert result.datasets == ["APY", "CUB"] and result.downloaded_bytes == 0
    assert_no_leftovers(tmp_path, ("APY", "CUB"))


def test_dataset_that_fails_validation_is_not_put_in_place(tmp_path, archive):
    # CUB's features for too few images: the splits index images that do not exist.
    src = tmp_path / "bad.zip"
    with zipfile.ZipFile(io.BytesIO(archive)) as zin, zipfile.ZipFile(src, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xlsa17/data/CUB/res101.mat":
                data = res101_bytes(SHARED / "APY" / "att_splits.mat", DATASETS["apy"].n_unseen, 16)
            zout.writestr(info.filename, data)
    data_dir = tmp_path / "data"
    with pytest.raises(DataError, match=r"dataset CUB failed validation: .*CUB/att_splits.mat"):
        fetch_xlsa17(data_dir, from_zip=src, **FAST)
    assert_no_leftovers(data_dir, ())  # not even the valid APY: all or nothing


@pytest.mark.parametrize(
    "member", ["../evil.mat", "/abs/xlsa17/data/CUB/res101.mat", "xlsa17/data/CUB/../../../evil.mat"]
)
def test_zip_slip_paths_are_refused(tmp_path, archive, member):
    src = tmp_path / "slip.zip"
    src.write_bytes(archive)
    with zipfile.ZipFile(src, "a") as zf:
        zf.writestr(member, b"x")
    data_dir = tmp_path / "data"
    with pytest.raises(DataError, match="unsafe path"):
        fetch_xlsa17(data_dir, from_zip=src, **FAST)
    assert_no_leftovers(data_dir, ())
    assert not (tmp_path / "evil.mat").exists()


def test_archive_without_datasets_is_refused(tmp_path):
    src = tmp_path / "empty.zip"
    with zipfile.ZipFile(src, "w") as zf:
        zf.writestr("xlsa17/README.txt", "nothing here")
    with pytest.raises(DataError, match="no dataset folder"):
        fetch_xlsa17(tmp_path / "data", from_zip=src, **FAST)
    assert_no_leftovers(tmp_path / "data", ())


def test_broken_dataset_in_place_is_replaced(tmp_path, archive):
    src = tmp_path / ARCHIVE_NAME
    src.write_bytes(archive)
    data_dir = tmp_path / "data"
    broken = data_dir / "xlsa17" / "data" / "CUB"
    broken.mkdir(parents=True)
    (broken / "att_splits.mat").write_bytes(b"half a file")
    result = fetch_xlsa17(data_dir, from_zip=src, **FAST)
    assert not result.skipped
    assert_no_leftovers(data_dir, ("APY", "CUB"))


def test_stale_temp_folder_of_a_killed_fetch_is_removed(tmp_path, archive):
    src = tmp_path / ARCHIVE_NAME
    src.write_bytes(archive)
    data_dir = tmp_path / "data"
    stale = data_dir / ".xlsa17.tmp-dead" / "xlsa17" / "data" / "CUB"
    stale.mkdir(parents=True)
    fetch_xlsa17(data_dir, from_zip=src, **FAST)
    assert_no_leftovers(data_dir, ("APY", "CUB"))


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--sha256", "abc"], "--sha256"),
        (["--from-zip", "/nonexistent/xlsa17.zip"], "--from-zip"),
        (["--from-zip", "x.zip", "--url", "http://127.0.0.1:9/x.zip"], "--url"),
        (["--url", "ftp://example.org/xlsa17.zip"], "--url"),
        (["--url", "xlsa17.zip"], "--from-zip"),
    ],
)
def test_bad_options_exit_2_with_one_line(tmp_path, args, needle):
    proc = zsl("data", "fetch", "--data-dir", str(tmp_path / "d"), *args)
    one_error_line(proc, needle)
