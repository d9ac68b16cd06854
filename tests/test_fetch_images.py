"""`zslbench data fetch` for cub-images, sun-images and resnet18-imagenet: from a local HTTP
server on 127.0.0.1 (`http_server` of tests/conftest.py) and from archives on disk.  Every case
ends installed and valid, or with one clear line and nothing half-installed."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path

import pytest
from _image_layouts import cub_archive, first_image, make_cub, make_sun, sun_archives, truncate

from support import one_error_line, zsl
from zslbench.data import images as images_mod
from zslbench.data.images import backbone_checkpoint, load_image_dataset
from zslbench.data.images.check import check_image_data
from zslbench.data.images.fetch import check_checkpoint, fetch_checkpoint, fetch_images, hash_prefix
from zslbench.errors import DataError

# the small generated datasets differ from the official counts: a DataWarning each load
pytestmark = pytest.mark.filterwarnings("ignore::zslbench.data.features.xlsa17.DataWarning")

FAST = {"retries": 2, "backoff": 0.001, "timeout": 10.0, "progress": False}


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    root = tmp_path_factory.mktemp("sources")
    cub = make_cub(root)
    sun = make_sun(root)
    arch = root / "archives"
    arch.mkdir()
    return {
        "cub_root": cub,
        "sun_root": sun,
        "cub": cub_archive(arch / "CUB_200_2011.tgz", cub),
        "sun": sun_archives(arch, sun),
    }


def assert_clean(data_dir: Path, installed: tuple[str, ...] = ()) -> None:
    """Only the expected dataset folders (besides downloads/ and cache/); no temp folders."""
    names = sorted(p.name for p in data_dir.iterdir() if p.name not in ("downloads", "cache"))
    assert names == sorted(installed)


# --------------------------------------------------------------------------- CUB


def test_acceptance_cub_archive_installs_and_checks(sources, tmp_path):
    d = tmp_path / "D"
    proc = zsl("data", "fetch", "--dataset", "cub-images", "--from-archive", str(sources["cub"]), "--data-dir", str(d))
    assert proc.returncode == 0, proc.stderr
    assert "cub-images ready" in proc.stdout
    assert_clean(d, ("CUB_200_2011",))
    proc = zsl("data", "check", "--data-dir", str(d), "--dataset", "cub-images")
    assert proc.returncode == 0, proc.stderr
    assert "cub-images" in proc.stdout and "warn" in proc.stdout  # 48 images, not the official 11,788
    data = load_image_dataset("cub", "auto", d, image_size=16)
    assert data.source == "images" and data.n_images == 48


def _repack_cub(tmp_path, sources, damage) -> Path:
    import shutil

    work = tmp_path / "work"
    root = shutil.copytree(sources["cub_root"], work / "CUB_200_2011")
    damage(root)
    return cub_archive(tmp_path / "CUB_200_2011.tgz", root)


@pytest.mark.parametrize(
    "damage, needle",
    [
        (lambda r: truncate(first_image(r), 0.4), "cannot decode"),
        (lambda r: (r / "train_test_split.txt").unlink(), "train_test_split.txt: missing"),
        (lambda r: first_image(r).unlink(), "image file missing"),
    ],
)
def test_bad_cub_archives_are_refused_with_one_line(sources, tmp_path, damage, needle):
    archive = _repack_cub(tmp_path, sources, damage)
    d = tmp_path / "D"
    line = one_error_line(
        zsl("data", "fetch", "--dataset", "cub-images", "--from-archive", str(archive), "--data-dir", str(d))
    )
    assert needle in line and "CUB_200_2011.tgz" in line
    assert str(d / ".") not in line  # no temp folder names in the message
    assert_clean(d)


def test_failed_fetch_keeps_the_installed_folder(sources, tmp_path):
    d = tmp_path / "D"
    fetch_images("cub-images", d, from_archives=[sources["cub"]], **FAST)
    before = sorted(p.name for p in (d / "CUB_200_2011").iterdir())
    bad = _repack_cub(tmp_path, sources, lambda r: (r / "classes.txt").unlink())
    with pytest.raises(DataError, match="classes.txt: missing"):
        fetch_images("cub-images", d, from_archives=[bad], **FAST)
    assert sorted(p.name for p in (d / "CUB_200_2011").iterdir()) == before
    assert_clean(d, ("CUB_200_2011",))
    # a good archive replaces an installed folder
    fetch_images("cub-images", d, from_archives=[sources["cub"]], **FAST)
    assert_clean(d, ("CUB_200_2011",))


def test_truncated_or_corrupted_archive_is_refused(sources, tmp_path):
    cut = tmp_path / "CUB_200_2011.tgz"
    payload = sources["cub"].read_bytes()
    cut.write_bytes(payload[: len(payload) * 2 // 3])
    d = tmp_path / "D"
    with pytest.raises(DataError, match="corrupted or truncated archive"):
        fetch_images("cub-images", d, from_archives=[cut], **FAST)
    flipped = bytearray(payload)
    for i in range(len(payload) // 2, len(payload) // 2 + 64):
        flipped[i] ^= 0xFF
    cut.write_bytes(bytes(flipped))
    with pytest.raises(DataError, match="corrupted or truncated archive"):
        fetch_images("cub-images", d, from_archives=[cut], **FAST)
    assert_clean(d)


def _tar_with(path: Path, members: list[tarfile.TarInfo], extra: Path | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        if extra is not None:
            tar.add(extra, arcname="CUB_200_2011")
        for info in members:
            tar.addfile(info, io.BytesIO(b"x" * info.size) if info.isfile() else None)
    return path


def _member(name, kind=tarfile.REGTYPE, link=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.size = 1 if kind == tarfile.REGTYPE else 0
    return info


@pytest.mark.parametrize(
    "member, needle",
    [
        (_member("../evil.txt"), "unsafe path"),
        (_member("/tmp/abs-evil.txt"), "unsafe path"),
        (_member("CUB_200_2011/../../evil.txt"), "unsafe path"),
        (_member("CUB_200_2011/link", tarfile.SYMTYPE, "../../../etc/passwd"), "links outside"),
        (_member("CUB_200_2011/abslink", tarfile.SYMTYPE, "/etc/passwd"), "links outside"),
        (_member("CUB_200_2011/dev", tarfile.CHRTYPE), "device or special file"),
    ],
)
def test_unsafe_members_refuse_the_archive(sources, tmp_path, member, needle):
    archive = _tar_with(tmp_path / "CUB_200_2011.tgz", [member], extra=sources["cub_root"])
    d = tmp_path / "D"
    with pytest.raises(DataError, match=needle):
        fetch_images("cub-images", d, from_archives=[archive], **FAST)
    assert_clean(d)
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/abs-evil.txt").exists()


def test_cub_download_from_loopback_server_resumes_and_skips_when_in_place(sources, http_server, tmp_path):
    payload = sources["cub"].read_bytes()
    url = http_server.serve("/records/CUB_200_2011.tgz", payload)
    http_server.drop_after = len(payload) // 3
    d = tmp_path / "D"
    result = fetch_images("cub-images", d, urls=[url], **FAST)
    assert not result.skipped and result.downloaded_bytes == len(payload)
    assert [r["range"] for r in http_server.requests] == [None, f"bytes={len(payload) // 3}-"]
    assert result.sha256 == {"CUB_200_2011.tgz": hashlib.sha256(payload).hexdigest()}
    assert not (d / "downloads" / "CUB_200_2011.tgz").exists()  # deleted after install
    assert check_image_data("cub-images", d).status == "warn"
    again = fetch_images("cub-images", d, urls=(), **FAST)
    assert again.skipped and len(http_server.requests) == 2


def test_downloaded_archive_that_fails_validation_is_deleted(sources, http_server, tmp_path):
    bad = _repack_cub(tmp_path, sources, lambda r: truncate(first_image(r), 0.3))
    url = http_server.serve("/CUB_200_2011.tgz", bad.read_bytes())
    d = tmp_path / "D"
    with pytest.raises(DataError, match="cannot decode"):
        fetch_images("cub-images", d, urls=[url], **FAST)
    assert_clean(d)
    assert not list((d / "downloads").glob("*.tgz*"))


def test_http_404_is_one_line(http_server, tmp_path):
    proc = zsl(
        "data",
        "fetch",
        "--dataset",
        "cub-images",
        "--url",
        http_server.base + "/nothing.tgz",
        "--data-dir",
        str(tmp_path / "D"),
        "--retry-wait",
        "0",
    )
    assert "HTTP 404" in one_error_line(proc)


# --------------------------------------------------------------------------- SUN


def test_sun_from_two_archives_and_from_the_server(sources, http_server, tmp_path):
    d = tmp_path / "D"
    proc = zsl(
        "data",
        "fetch",
        "--dataset",
        "sun-images",
        "--data-dir",
        str(d),
        *[a for p in sources["sun"] for a in ("--from-archive", str(p))],
    )
    assert proc.returncode == 0, proc.stderr
    assert_clean(d, ("SUN",))
    assert sorted(p.name for p in (d / "SUN").iterdir()) == ["SUNAttributeDB", "images"]
    assert check_image_data("sun-images", d).status == "warn"  # 10 classes, not 717
    urls = [http_server.serve(f"/Attributes/{p.name}", p.read_bytes()) for p in sources["sun"]]
    d2 = tmp_path / "D2"
    result = fetch_images("sun-images", d2, urls=urls, **FAST)
    assert not result.skipped and sorted(result.sha256) == sorted(p.name for p in sources["sun"])
    a = load_image_dataset("sun", "auto", d, image_size=16)
    b = load_image_dataset("sun", "auto", d2, image_size=16)
    assert a.fingerprint == b.fingerprint and a.n_images == 200


def test_sun_needs_both_archives(sources, tmp_path):
    d = tmp_path / "D"
    with pytest.raises(DataError, match="needs both"):
        fetch_images("sun-images", d, from_archives=[sources["sun"][0]], **FAST)
    with pytest.raises(DataError, match="needs both"):
        fetch_images("sun-images", d, from_archives=[sources["sun"][1]], **FAST)
    with pytest.raises(DataError, match="needs 2 address"):
        fetch_images("sun-images", d, urls=["http://127.0.0.1:9/a.tar.gz"], **FAST)
    assert_clean(d)


# --------------------------------------------------------------------------- the checkpoint


def test_hash_prefix():
    assert hash_prefix("resnet18-f37072fd.pth") == "f37072fd"
    assert hash_prefix("resnet18.pth") is None


@pytest.fixture
def checkpoint(monkeypatch, tmp_path):
    """A stand-in checkpoint file named like torch.hub files, with its own hash prefix."""
    payload = os.urandom(4096)
    name = f"resnet18-{hashlib.sha256(payload).hexdigest()[:8]}.pth"
    monkeypatch.setattr(images_mod, "BACKBONE_FILE", name)
    path = tmp_path / name
    path.write_bytes(payload)
    return path


def test_checkpoint_from_server_and_from_file(checkpoint, http_server, tmp_path):
    url = http_server.serve(f"/models/{checkpoint.name}", checkpoint.read_bytes())
    d = tmp_path / "D"
    result = fetch_checkpoint(d, urls=[url], **FAST)
    assert result.path == d / "resnet18-imagenet" / checkpoint.name
    assert backbone_checkpoint(d).read_bytes() == checkpoint.read_bytes()
    assert not (d / "downloads" / checkpoint.name).exists()
    assert fetch_checkpoint(d, **FAST).skipped
    d2 = tmp_path / "D2"
    fetch_images("resnet18-imagenet", d2, from_archives=[checkpoint], **FAST)
    assert check_checkpoint(backbone_checkpoint(d2))
    assert checkpoint.exists()  # a file given with --from-archive is left alone


def test_checkpoint_with_the_wrong_hash_is_refused(checkpoint, http_server, tmp_path):
    url = http_server.serve(f"/models/{checkpoint.name}", b"not the checkpoint")
    d = tmp_path / "D"
    with pytest.raises(DataError, match="does not start with") as info:
        fetch_checkpoint(d, urls=[url], **FAST)
    assert "deleted" in str(info.value)
    assert not (d / "resnet18-imagenet").exists() or not any((d / "resnet18-imagenet").iterdir())
    assert not (d / "downloads" / checkpoint.name).exists()


def test_cli_checkpoint_hash_check_and_data_check(tmp_path):
    wrong = tmp_path / "resnet18-f37072fd.pth"
    wrong.write_bytes(b"something else")
    d = tmp_path / "D"
    line = one_error_line(
        zsl("data", "fetch", "--dataset", "resnet18-imagenet", "--from-archive", str(wrong), "--data-dir", str(d))
    )
    assert "does not start with 'f37072fd'" in line
    assert not (d / "resnet18-imagenet" / "resnet18-f37072fd.pth").exists()
    # a damaged file in place fails the check
    (d / "resnet18-imagenet").mkdir(parents=True)
    (d / "resnet18-imagenet" / "resnet18-f37072fd.pth").write_bytes(b"damaged")
    proc = zsl("data", "check", "--data-dir", str(d), "--dataset", "resnet18-imagenet")
    assert "does not start with" in one_error_line(proc)


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--dataset", "cub-images", "--from-zip", "x.zip"], "--from-zip"),
        (["--dataset", "cub-images", "--from-archive", "/nonexistent/x.tgz"], "--from-archive"),
        (["--dataset", "cub-images", "--url", "ftp://x/y.tgz"], "--url"),
        (["--dataset", "sun-images", "--sha256", "ab"], "--sha256"),
        (["--dataset", "resnet18-imagenet", "--from-archive", "a", "--from-archive", "b"], "one file"),
    ],
)
def test_bad_fetch_options_exit_2(tmp_path, args, needle):
    line = one_error_line(zsl("data", "fetch", "--data-dir", str(tmp_path / "D"), *args))
    assert needle in line
