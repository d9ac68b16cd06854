"""``zslbench data fetch`` for the image track: CUB-200-2011, the SUN Attribute DB and the
ImageNet ResNet-18 checkpoint.

The machinery is the xlsa17 one (:mod:`zslbench.data.fetch`): downloads to
``<data-dir>/downloads/`` resumed with HTTP ``Range`` and retried with backoff, a lock per data
folder, temp folders that the loaders never read.  For the datasets:

1. **Archives**: the official ``.tgz``/``.tar.gz`` files are downloaded (or taken from
   ``--from-archive``; several may be given, e.g. SUN's two) and read through to the end, so a
   truncated or corrupted gzip stream is refused.
2. **Safe extraction** into ``<data-dir>/.<name>.tmp-XXXX/``: members with absolute paths or
   ``..``, links that point outside the archive's tree, and device files refuse the archive.
3. **Layout**: the dataset folder is found in what the archives unpacked (CUB: the folder with
   ``images.txt``, ``CUB_200_2011/`` in the official archive; SUN: the folder with
   ``images.mat``, ``SUNAttributeDB/``, and the ``images/`` folder of the images archive) and
   assembled as ``CUB_200_2011/`` or ``SUN/{images, SUNAttributeDB}``.
4. **Validation** with the loader's checks (lists, splits, attributes, every listed image
   present and decodable), still in the temp folder; only then is the folder renamed into
   ``<data-dir>/`` (an older one moved aside first), so nothing is ever half-installed.

The checkpoint ``resnet18-f37072fd.pth`` is checked as ``torch.hub`` does it: the first hex
digits of its SHA-256 must equal the ones in its name; it lands in
``<data-dir>/resnet18-imagenet/`` by an atomic rename.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from zslbench.data.fetch import DOWNLOADS_DIR, _lock, _OfflineError, _one_line, _say, download, sha256_of
from zslbench.errors import DataError

CUB_URL = "https://data.caltech.edu/records/65de6-vp158/files/CUB_200_2011.tgz"
SUN_IMAGES_URL = "http://cs.brown.edu/~gmpatter/Attributes/SUNAttributeDB_Images.tar.gz"
SUN_DB_URL = "http://cs.brown.edu/~gmpatter/Attributes/SUNAttributeDB.tar.gz"
RESNET18_URL = "https://download.pytorch.org/models/resnet18-f37072fd.pth"


@dataclass(frozen=True)
class FetchSpec:
    name: str  # the --dataset name
    files: tuple[tuple[str, str], ...]  # (file name in downloads/, default URL)
    folder: str  # what lands in the data folder
    what: str  # for messages


FETCH_SPECS = {
    "cub-images": FetchSpec("cub-images", (("CUB_200_2011.tgz", CUB_URL),), "CUB_200_2011",
                            "CUB-200-2011"),
    "sun-images": FetchSpec("sun-images", (("SUNAttributeDB_Images.tar.gz", SUN_IMAGES_URL),
                                           ("SUNAttributeDB.tar.gz", SUN_DB_URL)), "SUN",
                            "the SUN Attribute DB (images archive, then attribute archive)"),
    "resnet18-imagenet": FetchSpec("resnet18-imagenet", (("resnet18-f37072fd.pth", RESNET18_URL),),
                                   "resnet18-imagenet", "the ImageNet ResNet-18 checkpoint"),
}
FETCHABLE = ("xlsa17", *FETCH_SPECS)

__all__ = [
    "FETCHABLE",
    "FETCH_SPECS",
    "ImageFetchResult",
    "check_checkpoint",
    "extract_tar",
    "fetch_checkpoint",
    "fetch_images",
    "hash_prefix",
]


@dataclass
class ImageFetchResult:
    data_dir: Path
    name: str
    path: Path | None = None  # the installed folder or file
    skipped: bool = False
    downloaded_bytes: int = 0
    sha256: dict = field(default_factory=dict)  # file name -> digest
    notes: list[str] = field(default_factory=list)


def _tmp_prefix(name: str) -> str:
    return f".{name}.tmp-"


def _old_prefix(name: str) -> str:
    return f".{name}.old-"


def _clean_stale(root: Path, name: str) -> None:
    for child in root.iterdir():
        if child.name.startswith((_tmp_prefix(name), _old_prefix(name))):
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)


def _root(data_dir) -> Path:
    from zslbench.data import default_data_dir

    root = Path(default_data_dir() if data_dir is None else data_dir).expanduser().absolute()
    if root.exists() and not root.is_dir():
        raise DataError(f"--data-dir: {root} is a file, not a folder")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"--data-dir: cannot create {root}: {_one_line(exc.strerror or exc)}") from None
    return root


def _check_urls(urls) -> None:
    from urllib.parse import urlsplit

    for url in urls:
        parts = urlsplit(str(url))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise DataError(f"--url: {url!r} is not an http(s) address (use --from-archive for a local file)")


class _Reading:
    """A read-only file object that advances a progress bar."""

    def __init__(self, fh, bar):
        self._fh, self._bar = fh, bar

    def read(self, n=-1):
        data = self._fh.read(n)
        if self._bar is not None:
            self._bar.update(len(data))
        return data

    def __getattr__(self, name):
        return getattr(self._fh, name)


def _safe_members(tar: tarfile.TarFile, archive: Path):
    """The archive's members, refusing any that could write outside the target folder."""
    for m in tar:
        name = m.name.replace("\\", "/")
        pure = PurePosixPath(name)
        if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in pure.parts:
            raise DataError(f"{archive}: member {m.name!r} has an unsafe path (absolute or with "
                            "'..'); refusing the archive")
        if m.issym() or m.islnk():
            link = m.linkname.replace("\\", "/")
            base = pure.parent if m.issym() else PurePosixPath()
            parts: list[str] = []
            for p in (base / link).parts if not link.startswith("/") else ("..",):
                if p == "..":
                    if not parts:
                        raise DataError(f"{archive}: member {m.name!r} links outside the archive "
                                        f"({m.linkname!r}); refusing the archive")
                    parts.pop()
                elif p not in ("", "."):
                    parts.append(p)
        elif not (m.isfile() or m.isdir()):
            raise DataError(f"{archive}: member {m.name!r} is a device or special file; "
                            "refusing the archive")
        yield m


def extract_tar(archive: Path, dest: Path, *, progress: bool | None = None,
                log: Callable[[str], None] | None = None, shown_as: Path | None = None) -> None:
    """Extract a ``.tgz``/``.tar.gz`` (or plain ``.tar``) archive safely into ``dest``.

    The whole file is read: a gzip stream is checked against its CRC and length at the end, and
    anything but zero padding after the end of the tar stream means a damaged archive (tarfile
    alone stops quietly at the first unreadable header).  DataError (one line) for a corrupted
    or truncated archive, an unsafe member or a folder that cannot take the files (named
    ``shown_as`` in the message when given)."""
    import gzip

    from zslbench.data.fetch import _progress_bar

    archive = Path(archive)
    if not archive.is_file():
        raise DataError(f"{archive}: no such file")
    size = archive.stat().st_size
    with open(archive, "rb") as raw:
        magic = raw.read(262)
        raw.seek(0)
        is_gzip = magic[:2] == b"\x1f\x8b"
        if not is_gzip and magic[257:262] != b"ustar":
            raise DataError(f"{archive}: not a .tgz/.tar.gz or .tar archive")
        bar = _progress_bar(size, 0, progress)
        bar.set_description(archive.name)
        try:
            stream = _Reading(raw, bar)
            src = gzip.GzipFile(fileobj=stream, mode="rb") if is_gzip else stream
            with tarfile.open(fileobj=src, mode="r|") as tar:
                kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                for member in _safe_members(tar, archive):
                    tar.extract(member, dest, set_attrs=False, **kwargs)
                while True:  # the rest: zero padding only; reading it checks the gzip CRC
                    chunk = src.read(1 << 20)
                    if not chunk:
                        break
                    if chunk.count(0) != len(chunk):
                        raise tarfile.ReadError("unreadable data after the last readable member")
        except DataError:
            raise
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EROFS):
                raise DataError(f"{archive}: corrupted or truncated archive "
                                f"({_one_line(exc) or type(exc).__name__})") from None
            raise DataError(f"{shown_as or dest}: cannot unpack {archive.name} there "
                            f"({_one_line(exc.strerror or exc)})") from None
        except getattr(tarfile, "FilterError", ()) as exc:
            raise DataError(f"{archive}: unsafe member ({_one_line(exc)}); refusing the archive") from None
        except (tarfile.TarError, EOFError, zlib.error) as exc:
            raise DataError(f"{archive}: corrupted or truncated archive "
                            f"({_one_line(exc) or type(exc).__name__})") from None
        finally:
            bar.close()
    _say(log, f"  unpacked {archive.name} ({size} bytes)")


def _find_dirs(top: Path, predicate, limit: int = 4) -> list[Path]:
    """Folders under ``top`` (at most ``limit`` levels deep) for which ``predicate`` holds,
    shallowest first."""
    found, level = [], [top]
    for _ in range(limit + 1):
        nxt = []
        for d in level:
            if predicate(d):
                found.append(d)
            try:
                nxt += sorted(c for c in d.iterdir() if c.is_dir() and not c.is_symlink())
            except OSError:
                continue
        level = nxt
    return found


def _assemble(spec: FetchSpec, unpacked: Path, stage: Path, sources: str) -> Path:
    """Move what the archives unpacked into ``stage/<folder>`` in the official layout."""
    if spec.name == "cub-images":
        cands = _find_dirs(unpacked, lambda d: (d / "images.txt").is_file() or (
            d.name == "CUB_200_2011" and (d / "images").is_dir()))
        if not cands:
            raise DataError(f"{sources}: no CUB-200-2011 folder in the archive "
                            "(expected CUB_200_2011/ with images.txt and images/)")
        cands.sort(key=lambda d: (d.name != "CUB_200_2011", len(d.parts)))
        target = stage / "CUB_200_2011"
        os.replace(cands[0], target)
        return target
    db = _find_dirs(unpacked, lambda d: (d / "images.mat").is_file()
                    or (d.name == "SUNAttributeDB" and d.is_dir()))
    if not db:
        raise DataError(f"{sources}: no SUNAttributeDB folder (with images.mat) in the archives; "
                        "sun-images needs both SUNAttributeDB_Images.tar.gz and SUNAttributeDB.tar.gz")
    db.sort(key=lambda d: (not (d / "images.mat").is_file(), len(d.parts)))
    images = _find_dirs(unpacked, lambda d: d.name.lower() == "images" and d != db[0])
    if not images:
        raise DataError(f"{sources}: no images/ folder in the archives; sun-images needs both "
                        "SUNAttributeDB_Images.tar.gz and SUNAttributeDB.tar.gz")
    target = stage / "SUN"
    target.mkdir()
    os.replace(db[0], target / "SUNAttributeDB")
    os.replace(images[0], target / "images")
    return target


def _move_into_place(src: Path, dst: Path, root: Path, name: str) -> None:
    trash = None
    if dst.exists() or dst.is_symlink():
        trash = Path(tempfile.mkdtemp(prefix=_old_prefix(name), dir=root))
        os.replace(dst, trash / dst.name)
    try:
        os.replace(src, dst)
    finally:
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)


def _write_record(root: Path, name: str, sources: list[str], digests: dict) -> None:
    from zslbench.store import atomic_write_text

    record = {"dataset": name, "sources": sources, "sha256": digests,
              "fetched_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    atomic_write_text(root / DOWNLOADS_DIR / f"{name}.fetched.json", json.dumps(record, indent=2) + "\n")


def _get_files(spec: FetchSpec, root: Path, urls, retries, backoff, timeout, progress, log,
               result: ImageFetchResult) -> list[tuple[Path, bool]]:
    """Download the spec's files (or reuse ones in downloads/); [(path, downloaded here)]."""
    urls = list(urls) or [u for _, u in spec.files]
    if len(urls) != len(spec.files):
        raise DataError(f"--url: {spec.name} needs {len(spec.files)} address(es) in this order: "
                        + ", ".join(n for n, _ in spec.files))
    _check_urls(urls)
    out = []
    for (fname, _), url in zip(spec.files, urls):
        path = root / DOWNLOADS_DIR / fname
        if path.is_file():
            _say(log, f"using the file already downloaded at {path}")
            out.append((path, True))
            continue
        _say(log, f"downloading {url}\n  to {path}")
        try:
            got, _size = download(url, path, retries=retries, backoff=backoff, timeout=timeout,
                                  progress=progress, log=log)
        except _OfflineError as exc:
            raise DataError(
                f"cannot download {exc.url} ({exc.reason}; {exc.attempts} attempt(s)). If this "
                f"machine is offline or the server is down, get {fname} elsewhere and put it at "
                f"{path} (then run 'zslbench data fetch --dataset {spec.name}' again) or pass "
                f"--from-archive PATH; --url takes a mirror"
            ) from None
        result.downloaded_bytes += got
        out.append((path, True))
    return out


def fetch_images(
    name: str,
    data_dir: str | os.PathLike | None = None,
    urls: tuple[str, ...] | list[str] = (),
    from_archives: tuple | list = (),
    *,
    keep_archives: bool = False,
    retries: int = 5,
    backoff: float = 1.0,
    timeout: float = 60.0,
    progress: bool | None = None,
    log: Callable[[str], None] | None = None,
) -> ImageFetchResult:
    """Install ``cub-images`` or ``sun-images`` into ``data_dir`` (see the module docstring)."""
    if name == "resnet18-imagenet":
        return fetch_checkpoint(data_dir, urls, from_archives, retries=retries, backoff=backoff,
                                timeout=timeout, progress=progress, log=log)
    if name not in FETCH_SPECS:
        raise DataError(f"--dataset: cannot fetch {name!r}; valid: {', '.join(FETCHABLE)}")
    from zslbench.data.image_sources import check_images

    spec = FETCH_SPECS[name]
    key = "cub" if name == "cub-images" else "sun"
    if urls and from_archives:
        raise DataError("--url and --from-archive exclude each other")
    archives_given = [Path(a).expanduser() for a in from_archives]
    for a in archives_given:
        if not a.is_file():
            raise DataError(f"--from-archive: {a} is not a file")
    root = _root(data_dir)
    result = ImageFetchResult(data_dir=root, name=name, path=root / spec.folder)
    with _lock(root):
        _clean_stale(root, name)
        if not archives_given and not urls and (root / spec.folder).is_dir():
            res = check_images(key, root, decode=False)
            if res.status != "fail":
                result.skipped = True
                _say(log, f"{spec.what} is already in place in {root / spec.folder} "
                          f"({res.images} images, {res.classes} classes): nothing to download "
                          f"('zslbench data check --dataset {name}' decodes every image)")
                return result
        if archives_given:
            files = [(a, False) for a in archives_given]
        else:
            files = _get_files(spec, root, urls, retries, backoff, timeout, progress, log, result)
        tmp = Path(tempfile.mkdtemp(prefix=_tmp_prefix(name), dir=root))
        sources = ", ".join(p.name for p, _ in files)
        try:
            unpacked, stage = tmp / "unpacked", tmp / "stage"
            unpacked.mkdir()
            stage.mkdir()
            try:
                _say(log, "unpacking:")
                for path, _here in files:
                    extract_tar(path, unpacked, progress=progress, log=log, shown_as=root)
                _assemble(spec, unpacked, stage, sources)
                _say(log, "validating (every image is decoded):")
                res = check_images(key, stage, decode=True, progress=progress)
                if res.status == "fail":
                    raise DataError(f"{sources}: {spec.what} failed validation: "
                                    + res.message.replace(str(stage) + os.sep, ""))
            except DataError as exc:
                downloaded = [p for p, here in files if here]
                if not downloaded:
                    raise
                for p in downloaded:
                    p.unlink(missing_ok=True)
                raise DataError(f"{exc}; the downloaded file(s) were deleted") from None
            _say(log, f"  {res.images} images, {res.classes} classes, {res.attributes} attributes, "
                      f"split {res.split}: {res.status}")
            if res.status == "warn":
                result.notes.append(res.message.replace(str(stage), str(root)))
            result.sha256 = {p.name: sha256_of(p) for p, _ in files}
            _move_into_place(stage / spec.folder, root / spec.folder, root, name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        _write_record(root, name, [str(p) for p, _ in files], result.sha256)
        if not keep_archives:
            for path, here in files:
                if here:
                    path.unlink(missing_ok=True)
        _say(log, f"{name} ready in {root / spec.folder}")
        return result


# --------------------------------------------------------------------------- the checkpoint


def hash_prefix(file_name: str) -> str | None:
    """The hex digits after the last '-' of a torch.hub checkpoint name (``resnet18-f37072fd.pth``
    -> ``f37072fd``); None when the name carries none."""
    m = re.search(r"-([a-f0-9]+)\.[^.]+$", file_name)
    return m.group(1) if m else None


def check_checkpoint(path: Path) -> str:
    """SHA-256 of ``path``, checked against the hash prefix in its name (DataError otherwise)."""
    if not path.is_file():
        raise DataError(f"{path}: missing (get it with 'zslbench data fetch --dataset resnet18-imagenet')")
    digest = sha256_of(path)
    prefix = hash_prefix(path.name)
    if prefix is None or not digest.startswith(prefix):
        raise DataError(f"{path}: SHA-256 {digest[:16]}... does not start with {prefix!r} as its "
                        "name says: corrupted or another file")
    return digest


def fetch_checkpoint(
    data_dir=None, urls=(), from_files=(), *, retries: int = 5, backoff: float = 1.0,
    timeout: float = 60.0, progress: bool | None = None, log: Callable[[str], None] | None = None,
) -> ImageFetchResult:
    """Install ``<data-dir>/resnet18-imagenet/resnet18-f37072fd.pth`` (downloaded or copied from
    ``--from-archive``), checked against the hash prefix in its name."""
    from zslbench.data import images as images_mod

    spec = FETCH_SPECS["resnet18-imagenet"]
    fname = images_mod.BACKBONE_FILE
    if urls and from_files:
        raise DataError("--url and --from-archive exclude each other")
    if len(from_files) > 1 or len(urls) > 1:
        raise DataError("resnet18-imagenet takes one file (--from-archive) or one address (--url)")
    root = _root(data_dir)
    final = root / images_mod.BACKBONE_DIR / fname
    result = ImageFetchResult(data_dir=root, name=spec.name, path=final)
    with _lock(root):
        _clean_stale(root, spec.name)
        if not from_files and not urls and final.is_file():
            try:
                result.sha256 = {fname: check_checkpoint(final)}
                result.skipped = True
                _say(log, f"{final} is already in place and matches its hash prefix: nothing to download")
                return result
            except DataError as exc:
                _say(log, f"{exc}; fetching it again")
        if from_files:
            src = Path(from_files[0]).expanduser()
            if not src.is_file():
                raise DataError(f"--from-archive: {src} is not a file")
            here = False
        else:
            url = urls[0] if urls else spec.files[0][1]
            _check_urls([url])
            src = root / DOWNLOADS_DIR / fname
            here = True
            if src.is_file():
                _say(log, f"using the file already downloaded at {src}")
            else:
                _say(log, f"downloading {url}\n  to {src}")
                try:
                    result.downloaded_bytes, _ = download(url, src, retries=retries, backoff=backoff,
                                                          timeout=timeout, progress=progress, log=log)
                except _OfflineError as exc:
                    raise DataError(
                        f"cannot download {exc.url} ({exc.reason}; {exc.attempts} attempt(s)); get "
                        f"{fname} elsewhere and pass --from-archive PATH, or put it at {src}"
                    ) from None
        digest = sha256_of(src)
        prefix = hash_prefix(fname)
        if prefix is not None and not digest.startswith(prefix):
            if here:
                src.unlink(missing_ok=True)
            raise DataError(f"{src}: SHA-256 {digest[:16]}... does not start with {prefix!r} as "
                            f"{fname} requires: corrupted or another file"
                            + ("; the downloaded file was deleted" if here else ""))
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{fname}.", suffix=".tmp", dir=final.parent)
        os.close(fd)
        try:
            if here:
                os.replace(src, tmp)
            else:
                shutil.copyfile(src, tmp)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        result.sha256 = {fname: digest}
        _write_record(root, spec.name, [str(src)], result.sha256)
        _say(log, f"resnet18-imagenet ready: {final} (sha256 {digest})")
        return result
