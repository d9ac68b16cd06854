"""Downloading and installing data files: the machinery of every ``zslbench data fetch``.

Each fetcher (:mod:`zslbench.data.features.fetch` for xlsa17, :mod:`zslbench.data.images.fetch`
for the image datasets and the backbone checkpoint) is built from these parts:

* :func:`download` (standard library only) streams a URL to ``<dest>.part`` under
  ``<data-dir>/downloads/``.  An interrupted transfer is resumed with an HTTP ``Range`` request;
  a server that ignores ``Range`` (answers 200) is downloaded again from the start.  Transient
  failures (connection reset or refused, timeouts, HTTP 5xx/408/429) are retried with
  exponential backoff; other HTTP errors (404...) fail at once with :class:`DownloadError`.  The
  ``.part`` file is kept after a network failure so that the next call resumes it.  A failed
  attempt forgives the failures before it only when the ``.part`` file grew past its largest
  size so far; at most :func:`max_attempts` requests are made in all; a transfer slower than
  :data:`MIN_RATE` bytes/s over any ``timeout`` seconds (monotonic clock) is a failure; only
  redirects to http(s) addresses are followed, and the address finally read is reported.
* :func:`verify_file` checks the size announced by the server and a SHA-256 when one is known
  (archive formats are checked by :mod:`zslbench.data.archives`).
* :func:`fetch_lock` holds one lock per data folder (``<data-dir>/downloads/.lock``): a second
  fetch into the same folder fails at once.
* :func:`staging_dir` makes ``<data-dir>/.<name>.tmp-XXXX``, a folder the loaders never read,
  where a fetcher unpacks and validates; :func:`move_into_place` renames the result into place
  (an older copy moved aside to ``.<name>.old-XXXX`` first, then deleted), so nothing is ever
  half-installed; :func:`install_file` does the same for a single file; :func:`clean_stale`
  removes the temp folders of a fetch that was killed.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import re
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from zslbench.errors import DataError, one_line
from zslbench.locks import FileLock
from zslbench.progress import Progress

DOWNLOADS_DIR = "downloads"

_CHUNK = 1 << 16
_HASH_CHUNK = 1 << 22
_USER_AGENT = "zslbench-fetch/1 (+python urllib)"
_RETRY_HTTP = frozenset({408, 425, 429, 500, 502, 503, 504})
#: The slowest transfer accepted, in bytes per second, averaged over each ``timeout`` seconds.
MIN_RATE = 1024

__all__ = [
    "DOWNLOADS_DIR",
    "DownloadError",
    "check_http_url",
    "clean_stale",
    "create_root",
    "download",
    "fetch_lock",
    "install_file",
    "max_attempts",
    "move_into_place",
    "normalise_sha256",
    "resolve_root",
    "say",
    "sha256_of",
    "staging_dir",
    "verify_file",
]


def say(log: Callable[[str], None] | None, message: str) -> None:
    """Pass ``message`` to ``log`` (a fetcher's progress messages), when there is one."""
    if log is not None:
        log(message)


class DownloadError(DataError):
    """A download that failed for good (after its retries); the fetcher adds what to do."""

    def __init__(self, url: str, reason: str, attempts: int):
        super().__init__(f"{url}: download failed after {attempts} attempt(s): {reason}")
        self.url = url
        self.reason = reason
        self.attempts = attempts


class _Transient(Exception):
    """A failure worth retrying (network trouble, server overload)."""

    forgivable = True  # whether growth of the .part file forgives the failures before it


class _TooSlow(_Transient):
    """A transfer below the minimum rate: retried, but never counted as progress."""

    forgivable = False


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http(s) addresses only (urllib alone also follows ftp://)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        from urllib.parse import urlsplit

        if urlsplit(newurl).scheme.lower() not in ("http", "https"):
            raise DataError(
                f"{req.full_url}: the server redirects to {one_line(newurl)!r}; only http(s) addresses are followed"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_HttpOnlyRedirects)


def max_attempts(retries: int) -> int:
    """The most requests one download makes in all, whatever progress each one makes."""
    return 10 * (retries + 1)


# --------------------------------------------------------------------------- download


def _parse_content_range(value: str | None) -> tuple[int, int | None] | None:
    """``bytes START-END/TOTAL`` -> (START, TOTAL or None); None when unparsable."""
    if not value:
        return None
    m = re.fullmatch(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*", value)
    if not m:
        return None
    total = None if m.group(3) == "*" else int(m.group(3))
    return int(m.group(1)), total


def _content_length(resp) -> int | None:
    value = resp.headers.get("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _attempt(
    url: str,
    part: Path,
    timeout: float,
    progress: bool | None,
    log,
    counter: list[int],
    meta: dict | None = None,
    min_rate: float = MIN_RATE,
) -> int | None:
    """One HTTP request that appends to ``part``; returns the expected total size (or None).

    Every byte received is added to ``counter[0]``; ``meta["url"]`` is set to the address read
    (after redirects).  Fewer than ``min_rate * timeout`` bytes in any ``timeout`` seconds fail.

    Raises _Transient for failures worth retrying, DataError for final ones.  On return the
    part file holds the whole body (its size equals the total when the total is known).
    """
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": _USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        resp = _OPENER.open(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        code = exc.code
        if code == 416 and offset:
            cr = _parse_content_range(exc.headers.get("Content-Range"))
            exc.close()
            if cr is not None and cr[1] == offset:
                return offset  # the part file is already complete
            part.unlink(missing_ok=True)  # the part is longer than the file: start over
            raise _Transient(f"HTTP 416 for a resume at byte {offset}; restarting") from None
        exc.close()
        if code in _RETRY_HTTP:
            raise _Transient(f"HTTP {code} {exc.reason}") from None
        raise DataError(f"{url}: HTTP {code} {one_line(exc.reason)}; check the URL (--url)") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise _Transient(one_line(reason) or type(exc).__name__) from None

    with resp:
        if meta is not None:
            meta["url"] = resp.geturl()
        status = resp.status
        if status == 206:
            cr = _parse_content_range(resp.headers.get("Content-Range"))
            if cr is None or cr[0] != offset:
                part.unlink(missing_ok=True)
                raise _Transient("the server answered the resume with another byte range; restarting")
            total = cr[1]
            mode = "ab"
        elif status == 200:
            if offset:
                say(
                    log,
                    f"the server ignored the resume request; downloading again from the start "
                    f"({offset} bytes discarded)",
                )
            offset = 0
            total = _content_length(resp)
            mode = "wb"
        else:
            raise DataError(f"{url}: unexpected HTTP status {status}")
        length = _content_length(resp)
        received = 0
        bar = Progress(total, part.name.removesuffix(".part"), "B", progress, initial=offset)
        window_start, window_bytes = time.monotonic(), 0
        with open(part, mode) as out, bar:
            while True:
                now = time.monotonic()
                if now - window_start >= timeout:
                    if window_bytes < min_rate * (now - window_start):
                        out.flush()
                        raise _TooSlow(
                            f"{window_bytes} bytes in {now - window_start:.3g}s, slower than "
                            f"{min_rate:g} bytes/s over --timeout {timeout:g}s"
                        )
                    window_start, window_bytes = now, 0
                try:
                    chunk = resp.read1(_CHUNK)
                except (OSError, http.client.HTTPException) as exc:
                    out.flush()
                    raise _Transient(
                        f"connection lost after {offset + received} bytes ({one_line(exc) or type(exc).__name__})"
                    ) from None
                if not chunk:
                    break
                out.write(chunk)
                window_bytes += len(chunk)
                received += len(chunk)
                counter[0] += len(chunk)
                bar.update(len(chunk))
        if length is not None and received < length:
            raise _Transient(f"connection closed after {offset + received} of {offset + length} bytes")
        if total is not None and offset + received != total:
            size = offset + received
            if size > total:
                part.unlink(missing_ok=True)
                raise DataError(f"{url}: received {size} bytes but the server announced {total}")
            raise _Transient(f"connection closed after {size} of {total} bytes")
        return total


def download(
    url: str,
    dest: str | os.PathLike,
    *,
    retries: int = 5,
    backoff: float = 1.0,
    max_wait: float = 60.0,
    timeout: float = 60.0,
    progress: bool | None = None,
    log: Callable[[str], None] | None = None,
    meta: dict | None = None,
    min_rate: float = MIN_RATE,
) -> tuple[int, int | None]:
    """Download ``url`` to ``dest`` (via ``dest + ".part"``, resumable); returns (bytes received, size).

    Up to ``retries`` failed attempts in a row are retried (each resumes where the file stops),
    waiting ``backoff * 2**(k-1)`` seconds (at most ``max_wait``) before retry k; an attempt after
    which the ``.part`` file is larger than it ever was restarts the count, one slower than
    ``min_rate`` bytes/s over ``timeout`` seconds does not.  At most :func:`max_attempts`
    requests in all.  ``progress``: True/False, or None for a bar only on a terminal.  ``meta``,
    when given, gets ``"url"``: the address finally read (after redirects).  Final failures raise
    DataError with one line.
    """
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    part.parent.mkdir(parents=True, exist_ok=True)
    counter = [0]
    failures = attempts = 0
    cap = max_attempts(retries)
    largest = part.stat().st_size if part.exists() else 0
    if largest:
        say(log, f"resuming {part} at byte {largest}")
    while True:
        attempts += 1
        try:
            size = _attempt(url, part, timeout, progress, log, counter, meta, min_rate)
        except _Transient as exc:
            now = part.stat().st_size if part.exists() else 0
            grew, largest = now > largest, max(largest, now)
            # a failed attempt that made the file larger than ever forgives the failures before it
            failures = 1 if grew and exc.forgivable else failures + 1
            if failures > retries:
                raise DownloadError(url, str(exc), attempts) from None
            if attempts >= cap:
                raise DownloadError(
                    url, f"{exc}; stopped after {attempts} attempts in all (at most 10 x (--retries + 1))", attempts
                ) from None
            wait = min(max_wait, backoff * (2 ** max(0, failures - 1)))
            say(log, f"download interrupted: {exc}; retrying in {wait:.3g}s")
            time.sleep(wait)
            continue
        os.replace(part, dest)
        return counter[0], size if size is not None else dest.stat().st_size


# --------------------------------------------------------------------------- verify


def sha256_of(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_HASH_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def normalise_sha256(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", text):
        raise DataError(f"--sha256: {value!r} is not a SHA-256 digest (64 hex digits)")
    return text


def verify_file(path: str | os.PathLike, sha256: str | None = None, size: int | None = None) -> str:
    """Check that ``path`` is a file of ``size`` bytes (when given) with the SHA-256 ``sha256``
    (when given); returns its SHA-256.  Raises DataError naming the file and the problem."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    actual_size = path.stat().st_size
    if size is not None and actual_size != size:
        raise DataError(f"{path}: size {actual_size} bytes, expected {size}")
    digest = sha256_of(path)
    if sha256 is not None and digest != sha256:
        raise DataError(
            f"{path}: SHA-256 mismatch: got {digest}, expected {sha256} "
            "(corrupted download or another version of the archive)"
        )
    return digest


# --------------------------------------------------------------------------- the data folder


def resolve_root(data_dir: str | os.PathLike | None) -> Path:
    """The absolute data folder (default :func:`zslbench.data.default_data_dir`); DataError when
    it is a file.  Nothing is created."""
    from zslbench.data import default_data_dir

    root = Path(default_data_dir() if data_dir is None else data_dir).expanduser().absolute()
    if root.exists() and not root.is_dir():
        raise DataError(f"--data-dir: {root} is a file, not a folder")
    return root


def create_root(root: Path) -> Path:
    """Create the data folder ``root`` (DataError when that fails); returns it."""
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"--data-dir: cannot create {root}: {one_line(exc.strerror or exc)}") from None
    return root


def check_http_url(url: str, local_option: str) -> None:
    """DataError unless ``url`` is an http(s) address; ``local_option`` names the option that
    takes a local file instead (e.g. ``--from-zip``)."""
    from urllib.parse import urlsplit

    parts = urlsplit(str(url))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DataError(f"--url: {url!r} is not an http(s) address (use {local_option} for a local file)")


@contextlib.contextmanager
def fetch_lock(root: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``<root>/downloads/.lock``; a second fetch fails at once."""
    lock = FileLock(root / DOWNLOADS_DIR / ".lock", remove=False)
    if not lock.acquire(wait=False):
        raise DataError(f"{root}: another 'zslbench data fetch' is running on this folder")
    try:
        yield
    finally:
        lock.release()


def tmp_prefix(name: str) -> str:
    return f".{name}.tmp-"


def old_prefix(name: str) -> str:
    return f".{name}.old-"


def staging_dir(root: Path, name: str) -> Path:
    """A new empty folder ``<root>/.<name>.tmp-XXXX`` (the loaders never look there)."""
    return Path(tempfile.mkdtemp(prefix=tmp_prefix(name), dir=root))


def clean_stale(root: Path, name: str) -> None:
    """Remove the temp files and folders left by a fetch of ``name`` that was killed."""
    if not root.is_dir():
        return
    for child in root.iterdir():
        if child.name.startswith((tmp_prefix(name), old_prefix(name))):
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)


def move_into_place(src: Path, dst: Path, root: Path, name: str, olds: list[Path] | None = None) -> None:
    """Rename ``src`` to ``dst``; what is there already (``olds``, default ``dst`` itself when it
    exists) is first moved aside to ``<root>/.<name>.old-XXXX`` and deleted afterwards, so that
    ``dst`` is always either the old copy, absent, or the new one."""
    if olds is None:
        olds = [dst] if dst.exists() or dst.is_symlink() else []
    trash = Path(tempfile.mkdtemp(prefix=old_prefix(name), dir=root)) if olds else None
    try:
        for i, old in enumerate(olds):
            assert trash is not None  # made above whenever there is an old copy
            os.replace(old, trash / f"{i}-{old.name}")
        os.replace(src, dst)
    finally:
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)


def install_file(src: Path, final: Path, *, move: bool) -> None:
    """Put the file ``src`` at ``final`` atomically (moved when ``move``, else copied): written
    to a temp file beside ``final``, flushed to disk, then renamed."""
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    os.close(fd)
    try:
        if move:
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
