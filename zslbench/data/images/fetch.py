"""``zslbench data fetch`` for the image track: CUB-200-2011, the SUN Attribute DB and the
ImageNet ResNet-18 checkpoint.

The machinery is that of every fetch (:mod:`zslbench.data.download`): downloads to
``<data-dir>/downloads/`` resumed with HTTP ``Range`` and retried with backoff, a lock per data
folder, temp folders that the loaders never read; archives are read by
:mod:`zslbench.data.archives`.  For the datasets:

1. **Archives**: the official ``.tgz``/``.tar.gz`` files are downloaded (or taken from
   ``--from-archive``; several may be given, e.g. SUN's two) and read through to the end, so a
   truncated or corrupted gzip stream is refused.
2. **Safe extraction** into ``<data-dir>/.<name>.tmp-XXXX/``: members with absolute paths or
   ``..``, links, device files and sizes beyond the limits of :mod:`zslbench.data.archives`
   refuse the archive.
3. **Layout**: the dataset folder is found in what the archives unpacked (CUB: the folder with
   ``images.txt``, ``CUB_200_2011/`` in the official archive; SUN: the folder with
   ``images.mat``, ``SUNAttributeDB/``, and the ``images/`` folder of the images archive) and
   assembled as ``CUB_200_2011/`` or ``SUN/{images, SUNAttributeDB}``.
4. **Validation** with the loader's checks (lists, splits, attributes, every listed image
   present and decodable), still in the temp folder; files the loader does not read are
   deleted there (an unlisted file is never installed); only then is the folder renamed into
   ``<data-dir>/`` (an older one moved aside first), so nothing is ever half-installed.

The checkpoint ``resnet18-f37072fd.pth`` is checked as ``torch.hub`` does it: the first hex
digits of its SHA-256 must equal the ones in its name; it lands in
``<data-dir>/resnet18-imagenet/`` by an atomic rename.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from zslbench.data.archives import extract_tar
from zslbench.data.download import (
    DOWNLOADS_DIR,
    DownloadError,
    check_http_url,
    clean_stale,
    create_root,
    download,
    fetch_lock,
    install_file,
    move_into_place,
    resolve_root,
    say,
    sha256_of,
    staging_dir,
)
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
    "cub-images": FetchSpec("cub-images", (("CUB_200_2011.tgz", CUB_URL),), "CUB_200_2011", "CUB-200-2011"),
    "sun-images": FetchSpec(
        "sun-images",
        (("SUNAttributeDB_Images.tar.gz", SUN_IMAGES_URL), ("SUNAttributeDB.tar.gz", SUN_DB_URL)),
        "SUN",
        "the SUN Attribute DB (images archive, then attribute archive)",
    ),
    "resnet18-imagenet": FetchSpec(
        "resnet18-imagenet",
        (("resnet18-f37072fd.pth", RESNET18_URL),),
        "resnet18-imagenet",
        "the ImageNet ResNet-18 checkpoint",
    ),
}
FETCHABLE = ("xlsa17", *FETCH_SPECS)

__all__ = [
    "FETCHABLE",
    "FETCH_SPECS",
    "ImageFetchResult",
    "check_checkpoint",
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
    final_urls: dict = field(default_factory=dict)  # file name -> address read after redirects
    notes: list[str] = field(default_factory=list)


def _root(data_dir) -> Path:
    return create_root(resolve_root(data_dir))


def _check_urls(urls) -> None:
    for url in urls:
        check_http_url(url, "--from-archive")


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
        cands = _find_dirs(
            unpacked, lambda d: (d / "images.txt").is_file() or (d.name == "CUB_200_2011" and (d / "images").is_dir())
        )
        if not cands:
            raise DataError(
                f"{sources}: no CUB-200-2011 folder in the archive (expected CUB_200_2011/ with images.txt and images/)"
            )
        cands.sort(key=lambda d: (d.name != "CUB_200_2011", len(d.parts)))
        target = stage / "CUB_200_2011"
        os.replace(cands[0], target)
        return target
    db = _find_dirs(unpacked, lambda d: (d / "images.mat").is_file() or (d.name == "SUNAttributeDB" and d.is_dir()))
    if not db:
        raise DataError(
            f"{sources}: no SUNAttributeDB folder (with images.mat) in the archives; "
            "sun-images needs both SUNAttributeDB_Images.tar.gz and SUNAttributeDB.tar.gz"
        )
    db.sort(key=lambda d: (not (d / "images.mat").is_file(), len(d.parts)))
    images = _find_dirs(unpacked, lambda d: d.name.lower() == "images" and d != db[0])
    if not images:
        raise DataError(
            f"{sources}: no images/ folder in the archives; sun-images needs both "
            "SUNAttributeDB_Images.tar.gz and SUNAttributeDB.tar.gz"
        )
    target = stage / "SUN"
    target.mkdir()
    os.replace(db[0], target / "SUNAttributeDB")
    os.replace(images[0], target / "images")
    return target


def _keep_only_read_files(key: str, stage: Path) -> list[str]:
    """Delete from the assembled folder in ``stage`` every file the loader does not read (the
    list, split and attribute files and the listed images are kept); the deleted paths, relative
    to ``stage``."""
    from zslbench.data.images.sources import scan

    listing = scan(key, stage)
    keep = {os.path.normpath(p) for p in [*listing.sources, *listing.paths()]}
    dropped = []
    for folder, dirs, names in os.walk(listing.root, topdown=False):
        for name in names:
            path = os.path.join(folder, name)
            if os.path.normpath(path) not in keep:
                os.unlink(path)
                dropped.append(os.path.relpath(path, stage))
        for name in dirs:
            with contextlib.suppress(OSError):
                os.rmdir(os.path.join(folder, name))  # only empty ones
    return sorted(dropped)


def _write_record(root: Path, name: str, sources: list[str], digests: dict, final_urls: dict) -> None:
    from zslbench.store import atomic_write_text

    record = {
        "dataset": name,
        "sources": sources,
        "sha256": digests,
        "final_urls": final_urls,
        "fetched_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    atomic_write_text(root / DOWNLOADS_DIR / f"{name}.fetched.json", json.dumps(record, indent=2) + "\n")


def _get_files(
    spec: FetchSpec, root: Path, urls, retries, backoff, timeout, progress, log, result: ImageFetchResult
) -> list[tuple[Path, bool]]:
    """Download the spec's files (or reuse ones in downloads/); [(path, downloaded here)]."""
    urls = list(urls) or [u for _, u in spec.files]
    if len(urls) != len(spec.files):
        raise DataError(
            f"--url: {spec.name} needs {len(spec.files)} address(es) in this order: "
            + ", ".join(n for n, _ in spec.files)
        )
    _check_urls(urls)
    out = []
    for (fname, _), url in zip(spec.files, urls):
        path = root / DOWNLOADS_DIR / fname
        if path.is_file():
            say(log, f"using the file already downloaded at {path}")
            out.append((path, True))
            continue
        say(log, f"downloading {url}\n  to {path}")
        try:
            meta: dict = {}
            got, _size = download(
                url, path, retries=retries, backoff=backoff, timeout=timeout, progress=progress, log=log, meta=meta
            )
            result.final_urls[fname] = meta.get("url", url)
        except DownloadError as exc:
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
        return fetch_checkpoint(
            data_dir, urls, from_archives, retries=retries, backoff=backoff, timeout=timeout, progress=progress, log=log
        )
    if name not in FETCH_SPECS:
        raise DataError(f"--dataset: cannot fetch {name!r}; valid: {', '.join(FETCHABLE)}")
    from zslbench.data.images.real import check_images

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
    with fetch_lock(root):
        clean_stale(root, name)
        if not archives_given and not urls and (root / spec.folder).is_dir():
            res = check_images(key, root, decode=False)
            if res.status != "fail":
                result.skipped = True
                say(
                    log,
                    f"{spec.what} is already in place in {root / spec.folder} "
                    f"({res.images} images, {res.classes} classes): nothing to download "
                    f"('zslbench data check --dataset {name}' decodes every image)",
                )
                return result
        if archives_given:
            files = [(a, False) for a in archives_given]
        else:
            files = _get_files(spec, root, urls, retries, backoff, timeout, progress, log, result)
        tmp = staging_dir(root, name)
        sources = ", ".join(p.name for p, _ in files)
        try:
            unpacked, stage = tmp / "unpacked", tmp / "stage"
            unpacked.mkdir()
            stage.mkdir()
            try:
                try:
                    say(log, "unpacking:")
                    for path, _here in files:
                        extract_tar(path, unpacked, progress=progress, log=log, shown_as=root)
                    _assemble(spec, unpacked, stage, sources)
                    say(log, "validating (every image is decoded):")
                    res = check_images(key, stage, decode=True, progress=progress)
                    if res.status == "fail":
                        raise DataError(
                            f"{sources}: {spec.what} failed validation: " + res.message.replace(str(stage) + os.sep, "")
                        )
                    dropped = _keep_only_read_files(key, stage)
                except OSError as exc:
                    raise DataError(
                        f"{root}: cannot unpack {sources} there ({' '.join(str(exc.strerror or exc).split())})"
                    ) from None
            except DataError as exc:
                downloaded = [p for p, here in files if here]
                if not downloaded:
                    raise
                for p in downloaded:
                    p.unlink(missing_ok=True)
                raise DataError(f"{exc}; the downloaded file(s) were deleted") from None
            say(
                log,
                f"  {res.images} images, {res.classes} classes, {res.attributes} attributes, "
                f"split {res.split}: {res.status}",
            )
            if dropped:
                say(log, f"  {len(dropped)} file(s) that zslbench does not read were not installed (e.g. {dropped[0]})")
            if res.status == "warn":
                result.notes.append(res.message.replace(str(stage), str(root)))
            result.sha256 = {p.name: sha256_of(p) for p, _ in files}
            move_into_place(stage / spec.folder, root / spec.folder, root, name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        _write_record(root, name, [str(p) for p, _ in files], result.sha256, result.final_urls)
        if not keep_archives:
            for path, here in files:
                if here:
                    path.unlink(missing_ok=True)
        say(log, f"{name} ready in {root / spec.folder}")
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
        raise DataError(
            f"{path}: SHA-256 {digest[:16]}... does not start with {prefix!r} as its "
            "name says: corrupted or another file"
        )
    return digest


def fetch_checkpoint(
    data_dir=None,
    urls=(),
    from_files=(),
    *,
    retries: int = 5,
    backoff: float = 1.0,
    timeout: float = 60.0,
    progress: bool | None = None,
    log: Callable[[str], None] | None = None,
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
    with fetch_lock(root):
        clean_stale(root, spec.name)
        if not from_files and not urls and final.is_file():
            try:
                result.sha256 = {fname: check_checkpoint(final)}
                result.skipped = True
                say(log, f"{final} is already in place and matches its hash prefix: nothing to download")
                return result
            except DataError as exc:
                say(log, f"{exc}; fetching it again")
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
                say(log, f"using the file already downloaded at {src}")
            else:
                say(log, f"downloading {url}\n  to {src}")
                try:
                    meta: dict = {}
                    result.downloaded_bytes, _ = download(
                        url,
                        src,
                        retries=retries,
                        backoff=backoff,
                        timeout=timeout,
                        progress=progress,
                        log=log,
                        meta=meta,
                    )
                    result.final_urls[fname] = meta.get("url", url)
                except DownloadError as exc:
                    raise DataError(
                        f"cannot download {exc.url} ({exc.reason}; {exc.attempts} attempt(s)); get "
                        f"{fname} elsewhere and pass --from-archive PATH, or put it at {src}"
                    ) from None
        digest = sha256_of(src)
        prefix = hash_prefix(fname)
        if prefix is not None and not digest.startswith(prefix):
            if here:
                src.unlink(missing_ok=True)
            raise DataError(
                f"{src}: SHA-256 {digest[:16]}... does not start with {prefix!r} as "
                f"{fname} requires: corrupted or another file" + ("; the downloaded file was deleted" if here else "")
            )
        install_file(src, final, move=here)
        result.sha256 = {fname: digest}
        _write_record(root, spec.name, [str(src)], result.sha256, result.final_urls)
        say(log, f"resnet18-imagenet ready: {final} (sha256 {digest})")
        return result
