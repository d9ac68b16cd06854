"""``zslbench data fetch`` for xlsa17: download, verify and unpack the xlsa17 ("GBU") archive.

``fetch_xlsa17`` takes the official ``xlsa17.zip`` (docs/paper-protocol.md#gbu-format) from a URL or from a
local file and leaves ``<data_dir>/xlsa17/data/<DS>/`` exactly as the official zip unpacks, for
every dataset folder the archive holds, each one validated by the loader before it is moved
into place.  The download, the checks, the lock and the moves are those of
:mod:`zslbench.data.download`; the steps, and what each guarantees:

1. **Download** to ``<data_dir>/downloads/xlsa17.zip`` (resumed, retried with backoff).
2. **Verify**: the size announced by the server and, when a checksum is known (``sha256=`` or
   :data:`XLSA17_SHA256`), the SHA-256.  Then the archive itself: a zip that cannot be opened or
   whose CRCs do not match is refused and (when it was downloaded here) deleted.
3. **Extract atomically**: into ``<data_dir>/.xlsa17.tmp-XXXX`` (a folder the loader never
   looks in), validate every dataset folder with :func:`zslbench.data.features.xlsa17.check_dataset`,
   then rename each dataset folder into ``<data_dir>/xlsa17/data/``.  A failure before the
   renames leaves the data folder as it was; each rename is atomic, so a dataset folder is
   either the old one, absent, or the new validated one.
4. **Idempotent**: after a fetch, ``<data_dir>/xlsa17/fetched.json`` lists the datasets the
   archive held; a later call finds them present and valid and downloads nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from zslbench.data.archives import check_zip, check_zip_members, extract_zip_member, zip_member_parts
from zslbench.data.download import (
    DOWNLOADS_DIR,
    DownloadError,
    check_http_url,
    clean_stale,
    create_root,
    download,
    fetch_lock,
    move_into_place,
    normalise_sha256,
    resolve_root,
    say,
    staging_dir,
    verify_file,
)
from zslbench.data.features.specs import DATASETS
from zslbench.data.features.xlsa17_files import FEATURES_FILE, SPLITS_FILE
from zslbench.errors import DataError, one_line

OFFICIAL_URL = "http://datasets.d2.mpi-inf.mpg.de/xian/xlsa17.zip"
ARCHIVE_NAME = "xlsa17.zip"
MARKER_FILE = "fetched.json"
NAME = "xlsa17"  # the temp folders: .xlsa17.tmp-XXXX, .xlsa17.old-XXXX

#: SHA-256 of the official xlsa17.zip, checked on every download when set.  It is None because no
#: checksum of the official archive has been verified by this project: the archive was never
#: downloaded here (no network), the authors publish none, and a digest copied from elsewhere
#: unverified could reject the genuine file.  Set it once a download has been checked by hand
#: (``sha256sum xlsa17.zip``); until then pass ``--sha256`` to check a known digest.  Both
#: vintages (2018/2019) of the release exist under the same URL, so one pinned digest may not
#: fit every copy: the loader's validation of the unpacked files runs in every case.
XLSA17_SHA256: str | None = None

_DIR_NAMES = {spec.dir_name.lower(): spec for spec in DATASETS.values()}
#: The files of a dataset folder that are installed: those the loader reads.
_INSTALLED = (FEATURES_FILE, SPLITS_FILE)

__all__ = [
    "ARCHIVE_NAME",
    "OFFICIAL_URL",
    "XLSA17_SHA256",
    "FetchResult",
    "extract_archive",
    "fetch_xlsa17",
    "verify_archive",
]


@dataclass
class FetchResult:
    """What a fetch did."""

    data_dir: Path
    datasets: list[str] = field(default_factory=list)  # dataset folder names, e.g. ["APY", "CUB"]
    skipped: bool = False  # everything was in place: nothing downloaded or extracted
    downloaded_bytes: int = 0  # bytes received over the network by this call
    archive: Path | None = None
    sha256: str | None = None
    notes: list[str] = field(default_factory=list)  # loader warnings (data usable but unusual)


def verify_archive(path: str | os.PathLike, sha256: str | None = None, size: int | None = None) -> str:
    """Check the size, the SHA-256 (when given) and the zip's integrity; returns the digest.

    Raises DataError naming the file and the problem.
    """
    digest = verify_file(path, sha256, size)
    check_zip(path)
    return digest


# --------------------------------------------------------------------------- extract


def _locate(zf: zipfile.ZipFile) -> dict[str, list[tuple[zipfile.ZipInfo, tuple[str, ...]]]]:
    """The members the loader reads in each dataset folder ``[xlsa17/]data/<DS>/``:
    {DS: [(info, path inside DS)]}; other files are not installed."""
    found: dict[tuple[tuple[str, ...], str], list] = {}
    for info in zf.infolist():
        parts = zip_member_parts(info.filename)
        if info.is_dir():
            continue
        for i in range(len(parts) - 2):
            if (
                parts[i].lower() == "data"
                and parts[i + 1].lower() in _DIR_NAMES
                and parts[i + 2 :] in ((FEATURES_FILE,), (SPLITS_FILE,))
            ):
                prefix = parts[:i]
                key = (prefix, _DIR_NAMES[parts[i + 1].lower()].dir_name)
                found.setdefault(key, []).append((info, parts[i + 2 :]))
                break

    # One folder per dataset: the official layout xlsa17/data/<DS> first, then the shortest path.
    def rank(item):
        (prefix, _ds), _members = item
        return ([p.lower() for p in prefix] != ["xlsa17"], len(prefix), prefix)

    chosen: dict[str, list] = {}
    for (_prefix, ds), members in sorted(found.items(), key=rank):
        chosen.setdefault(ds, members)
    return chosen


def extract_archive(
    archive: str | os.PathLike,
    data_dir: str | os.PathLike,
    *,
    log: Callable[[str], None] | None = None,
) -> tuple[list[str], list[str]]:
    """Unpack, validate and move into place every dataset folder of ``archive``.

    Returns (dataset folder names, loader warnings).  Raises DataError when the archive holds no
    dataset folder, has unsafe paths, or any dataset fails the loader's checks; then nothing in
    ``data_dir`` has changed.
    """
    from zslbench.data.features.xlsa17 import check_dataset

    archive = Path(archive)
    root = Path(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    tmp = staging_dir(root, NAME)
    try:
        try:
            with zipfile.ZipFile(archive) as zf:
                chosen = _locate(zf)
                if not chosen:
                    names = ", ".join(sorted(s.dir_name for s in DATASETS.values()))
                    raise DataError(
                        f"{archive}: no dataset folder found in the archive "
                        f"(expected xlsa17/data/<{names.replace(', ', '|')}>/)"
                    )
                check_zip_members(archive, [info for members in chosen.values() for info, _ in members])
                for ds, members in chosen.items():
                    for info, inner in members:
                        extract_zip_member(zf, info, tmp.joinpath("xlsa17", "data", ds, *inner), tmp)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise DataError(f"{archive}: corrupted zip archive ({one_line(exc)})") from None
        except OSError as exc:
            raise DataError(f"{root}: cannot unpack {archive.name} there ({one_line(exc.strerror or exc)})") from None
        notes: list[str] = []
        for ds in sorted(chosen):
            name = next(s.name for s in DATASETS.values() if s.dir_name == ds)
            res = check_dataset(name, tmp)
            if res.status == "fail":
                message = res.message.replace(str(tmp / "xlsa17"), f"{archive.name}:xlsa17")
                raise DataError(f"{archive}: dataset {ds} failed validation: {message}")
            say(log, f"  {ds}: {res.status} ({res.vintage} vintage, {res.images} images, {res.classes} classes)")
            if res.status == "warn":
                notes.append(f"{ds}: {res.message}".replace(str(tmp / "xlsa17"), str(root / "xlsa17")))
        _move_datasets(tmp / "xlsa17" / "data", root / "xlsa17" / "data", sorted(chosen), root)
        return sorted(chosen), notes
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _move_datasets(src_root: Path, dst_root: Path, names: list[str], root: Path) -> None:
    """Rename each ``src_root/<DS>`` to ``dst_root/<DS>``, moving older folders aside first."""
    dst_root.mkdir(parents=True, exist_ok=True)
    for ds in names:
        olds = [c for c in dst_root.iterdir() if c.name.lower() == ds.lower()]
        move_into_place(src_root / ds, dst_root / ds, root, NAME, olds)


# --------------------------------------------------------------------------- the whole fetch


def _marker_path(root: Path) -> Path:
    return root / "xlsa17" / MARKER_FILE


def _expected_datasets(root: Path) -> list[str]:
    """The dataset folders a completed fetch left (from its marker), else all five."""
    marker = _marker_path(root)
    everything = sorted(s.dir_name for s in DATASETS.values())
    try:
        listed = json.loads(marker.read_text()).get("datasets")
    except (OSError, ValueError, AttributeError):
        return everything
    if isinstance(listed, list) and listed and all(isinstance(d, str) and d.lower() in _DIR_NAMES for d in listed):
        return sorted(_DIR_NAMES[d.lower()].dir_name for d in listed)
    return everything


def _in_place(root: Path) -> list[str] | None:
    """The expected dataset folders when all are present and pass the checks, else None."""
    from zslbench.data.features.xlsa17 import check_dataset, find_dataset_dir

    if not root.is_dir():
        return None
    expected = _expected_datasets(root)
    for ds in expected:
        spec = _DIR_NAMES[ds.lower()]
        if find_dataset_dir(root, spec.name) is None:
            return None
    for ds in expected:
        if check_dataset(_DIR_NAMES[ds.lower()].name, root).status == "fail":
            return None
    return expected


def _write_marker(
    root: Path, datasets: list[str], source: str, digest: str, size: int, final_url: str | None = None
) -> None:
    from zslbench.store import atomic_write_text

    record = {
        "datasets": sorted(datasets),
        "source": source,
        "final_url": final_url,  # the address read after redirects (None: not downloaded by this call)
        "archive_sha256": digest,
        "archive_bytes": size,
        "fetched_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    atomic_write_text(_marker_path(root), json.dumps(record, indent=2) + "\n")


def fetch_xlsa17(
    data_dir: str | os.PathLike | None = None,
    url: str = OFFICIAL_URL,
    from_zip: str | os.PathLike | None = None,
    sha256: str | None = None,
    *,
    keep_zip: bool = False,
    retries: int = 5,
    backoff: float = 1.0,
    timeout: float = 60.0,
    progress: bool | None = None,
    log: Callable[[str], None] | None = None,
) -> FetchResult:
    """Download (or take ``from_zip``), verify and unpack xlsa17 into ``data_dir``.

    ``data_dir`` defaults to :func:`zslbench.data.default_data_dir`.  ``sha256`` defaults to
    :data:`XLSA17_SHA256` for the official URL (None: no checksum known; size and zip checks and
    the loader's validation still run).  The downloaded zip is deleted after a successful
    extraction unless ``keep_zip``; a zip given with ``from_zip`` is never modified.  Every
    failure raises DataError with one line and leaves no partial dataset folder.
    """
    root = resolve_root(data_dir)
    want_sha = normalise_sha256(sha256)
    if want_sha is None and from_zip is None and url == OFFICIAL_URL:
        want_sha = XLSA17_SHA256
    result = FetchResult(data_dir=root)
    if from_zip is None:
        check_http_url(url, "--from-zip")
    if from_zip is not None:
        from_zip = Path(from_zip).expanduser()
        if not from_zip.is_file():
            raise DataError(f"--from-zip: {from_zip} is not a file")
    create_root(root)

    with fetch_lock(root):
        clean_stale(root, NAME)
        in_place = _in_place(root)
        if in_place is not None:
            result.skipped = True
            result.datasets = in_place
            say(
                log,
                f"xlsa17 is already in place in {root / 'xlsa17' / 'data'} "
                f"({', '.join(in_place)}): nothing to download",
            )
            return result

        downloaded_here = from_zip is None
        meta: dict = {}
        if from_zip is not None:
            archive = from_zip
            size = None
            say(log, f"using {archive}")
        else:
            archive = root / DOWNLOADS_DIR / ARCHIVE_NAME
            size = None
            if archive.is_file():
                say(log, f"using the archive already downloaded at {archive}")
            else:
                say(log, f"downloading {url}\n  to {archive}")
                try:
                    result.downloaded_bytes, size = download(
                        url,
                        archive,
                        retries=retries,
                        backoff=backoff,
                        timeout=timeout,
                        progress=progress,
                        log=log,
                        meta=meta,
                    )
                except DownloadError as exc:
                    raise DataError(
                        f"cannot download {exc.url} ({exc.reason}; {exc.attempts} attempt(s)). "
                        f"If this machine is offline or the server is down, get xlsa17.zip "
                        f"elsewhere and put it at {archive} (then run 'zslbench data fetch' "
                        f"again) or run 'zslbench data fetch --from-zip PATH/TO/xlsa17.zip'; "
                        f"--url takes a mirror"
                    ) from None
        result.archive = archive
        try:
            digest = verify_archive(archive, want_sha, size)
        except DataError as exc:
            if not downloaded_here:
                raise
            archive.unlink(missing_ok=True)
            raise DataError(f"{exc}; the downloaded file was deleted") from None
        result.sha256 = digest
        checksum = "matches the expected value" if want_sha else "not checked: no checksum known"
        say(log, f"verified {archive.name}: {archive.stat().st_size} bytes, sha256 {digest} ({checksum})")
        say(log, "extracting and validating:")
        try:
            result.datasets, result.notes = extract_archive(archive, root, log=log)
        except DataError as exc:
            if not downloaded_here:
                raise
            archive.unlink(missing_ok=True)
            raise DataError(f"{exc}; the downloaded file was deleted") from None
        _write_marker(
            root, result.datasets, str(from_zip) if from_zip else url, digest, archive.stat().st_size, meta.get("url")
        )
        if downloaded_here and not keep_zip:
            archive.unlink(missing_ok=True)
        say(log, f"xlsa17 ready in {root / 'xlsa17' / 'data'}: {', '.join(result.datasets)}")
        return result
