"""Reading downloaded archives safely: zip (xlsa17) and ``.tgz``/``.tar.gz`` (the image datasets).

Every byte of an archive is checked (the zip CRCs; a gzip stream's CRC and length, read to its
end), and no member may write outside the target folder: absolute paths, ``..``, links of any
kind (no dataset archive holds one, so no member can pass through a link an earlier member made)
and device files refuse the whole archive (DataError, one line).  A tar archive is only
unpacked by a Python whose ``tarfile`` has the ``data`` extraction filter.

Sizes are bounded before anything is written (:class:`UnpackLimits`): the unpacked bytes of one
member, of the whole archive, and their ratio to the archive's size, each overridable through an
environment variable.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from zslbench.data.download import say
from zslbench.errors import DataError, one_line
from zslbench.progress import Progress

_COPY_CHUNK = 1 << 22

__all__ = [
    "UnpackLimits",
    "check_zip",
    "check_zip_members",
    "extract_tar",
    "extract_zip_member",
    "parse_size",
    "unpack_limits",
    "zip_member_parts",
]


# --------------------------------------------------------------------------- limits

_GIB = 1 << 30
_SUFFIXES = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
#: Below this many unpacked bytes the ratio is not checked (small archives of text compress well).
RATIO_FLOOR = 16 << 20


@dataclass(frozen=True)
class UnpackLimits:
    """Upper bounds on what one archive may unpack to (bytes; ratio: unpacked / archive size)."""

    total: int = 64 * _GIB
    member: int = 8 * _GIB
    ratio: float = 100.0


#: environment variable -> field of UnpackLimits
LIMIT_VARS = {
    "ZSLBENCH_UNPACK_MAX_BYTES": "total",
    "ZSLBENCH_UNPACK_MAX_MEMBER_BYTES": "member",
    "ZSLBENCH_UNPACK_MAX_RATIO": "ratio",
}


def parse_size(var: str, text: str) -> float:
    """A size from the environment variable ``var`` (``500M``, ``64G``, a plain number); DataError
    unless it is positive."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text.lower())
    value = float(m.group(1)) * _SUFFIXES[m.group(2)] if m else 0.0
    if not m or value <= 0:
        raise DataError(f"${var}: {text!r} is not a positive size (e.g. 500M, 64G or a plain number)")
    return value


def unpack_limits() -> UnpackLimits:
    """The limits in effect: the defaults, each overridden by its environment variable."""
    values: dict[str, Any] = {}
    for var, name in LIMIT_VARS.items():
        text = os.environ.get(var)
        if text is not None and text.strip():
            value = parse_size(var, text)
            values[name] = value if name == "ratio" else int(value)
    return UnpackLimits(**values)


class _Budget:
    """Counts the bytes an archive unpacks to and refuses a member that would exceed a limit."""

    def __init__(self, archive: Path, limits: UnpackLimits | None = None):
        self.archive = Path(archive)
        self.limits = limits or unpack_limits()
        self.size = max(1, self.archive.stat().st_size)
        self.total = 0

    def take(self, name: str, nbytes: int) -> None:
        lim = self.limits
        if nbytes > lim.member:
            raise DataError(
                f"{self.archive}: member {name!r} unpacks to {nbytes} bytes, more than "
                f"the limit of {lim.member} per member ($ZSLBENCH_UNPACK_MAX_MEMBER_BYTES); "
                "refusing the archive"
            )
        self.add(nbytes)

    def add(self, nbytes: int) -> None:
        lim = self.limits
        self.total += nbytes
        if self.total > lim.total:
            raise DataError(
                f"{self.archive}: unpacks to more than {lim.total} bytes, the limit "
                "($ZSLBENCH_UNPACK_MAX_BYTES); refusing the archive"
            )
        if self.total > RATIO_FLOOR and self.total > lim.ratio * self.size:
            raise DataError(
                f"{self.archive}: unpacks to more than {lim.ratio:g} times its size of "
                f"{self.size} bytes ($ZSLBENCH_UNPACK_MAX_RATIO): a compression bomb or "
                "not a dataset archive; refusing the archive"
            )


# --------------------------------------------------------------------------- zip


def check_zip(path: str | os.PathLike) -> None:
    """DataError unless ``path`` is a zip archive whose members all match their CRCs."""
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError) as exc:
        raise DataError(
            f"{path}: not a valid zip archive ({one_line(exc)}); the file is corrupted or incomplete"
        ) from None
    if bad is not None:
        raise DataError(f"{path}: corrupted zip archive: CRC check failed for {bad!r}")


def zip_member_parts(name: str) -> tuple[str, ...]:
    """The path parts of a zip member; DataError for names that could escape the target."""
    text = name.replace("\\", "/")
    pure = PurePosixPath(text)
    if text.startswith("/") or re.match(r"^[A-Za-z]:", text) or ".." in pure.parts:
        raise DataError(f"zip member {name!r}: unsafe path (absolute or with '..'); refusing the archive")
    return tuple(p for p in pure.parts if p not in ("", "."))


def check_zip_members(archive: Path, infos: list[zipfile.ZipInfo], limits: UnpackLimits | None = None) -> None:
    """DataError when a member is a link or the members would unpack beyond the limits; checked
    on the sizes the zip declares (a member never yields more than its declared size)."""
    budget = _Budget(archive, limits)
    for info in infos:
        if stat.S_ISLNK(info.external_attr >> 16):
            raise DataError(
                f"{archive}: member {info.filename!r} is a symbolic link; the dataset "
                "archives hold none: refusing the archive"
            )
        budget.take(info.filename, info.file_size)


def extract_zip_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, root: Path) -> None:
    """Write the member ``info`` to ``target``, which must lie inside ``root``."""
    resolved = target.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise DataError(f"zip member {info.filename!r}: unsafe path; refusing the archive")
    target.parent.mkdir(parents=True, exist_ok=True)
    with zf.open(info) as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst, _COPY_CHUNK)


# --------------------------------------------------------------------------- tar


class _Reading:
    """A read-only file object that advances a progress bar."""

    def __init__(self, fh, bar):
        self._fh, self._bar = fh, bar

    def read(self, n=-1):
        data = self._fh.read(n)
        self._bar.update(len(data))
        return data

    def __getattr__(self, name):
        return getattr(self._fh, name)


def _safe_members(tar: tarfile.TarFile, archive: Path, budget: _Budget):
    """The archive's members, refusing any that could write outside the target folder, any link
    and any member beyond the size limits (checked on its header, before it is written)."""
    for m in tar:
        name = m.name.replace("\\", "/")
        pure = PurePosixPath(name)
        if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in pure.parts:
            raise DataError(
                f"{archive}: member {m.name!r} has an unsafe path (absolute or with '..'); refusing the archive"
            )
        if m.issym() or m.islnk():
            link = m.linkname.replace("\\", "/")
            base = pure.parent if m.issym() else PurePosixPath()
            parts: list[str] = []
            for p in (base / link).parts if not link.startswith("/") else ("..",):
                if p == "..":
                    if not parts:
                        raise DataError(
                            f"{archive}: member {m.name!r} links outside the archive "
                            f"({m.linkname!r}); refusing the archive"
                        )
                    parts.pop()
                elif p not in ("", "."):
                    parts.append(p)
            kind = "symbolic link" if m.issym() else "hard link"
            raise DataError(
                f"{archive}: member {m.name!r} is a {kind} ({m.linkname!r}); the dataset "
                "archives hold none: refusing the archive"
            )
        if not (m.isfile() or m.isdir()):
            raise DataError(f"{archive}: member {m.name!r} is a device or special file; refusing the archive")
        if m.isfile():
            budget.take(m.name, m.size)
        yield m


def _write_member(tar: tarfile.TarFile, member: tarfile.TarInfo, dest: Path, archive: Path) -> None:
    """Unpack one member that `_safe_members` let through (a regular file or a folder, never a
    link) without tarfile's own extraction: where tarfile has no 'data' filter (Pythons before
    3.10.12 and 3.11.4, e.g. Debian 12's 3.11.2) it is the filter.  The target is ``dest``
    joined with the member's parts, checked to lie inside ``dest`` once resolved; a file is
    created without following a link at its own name (none can exist on the way: no link is
    ever unpacked), with mode 0644 and no owner, time or permission from the archive."""
    parts = PurePosixPath(member.name.replace("\\", "/")).parts
    target = dest.joinpath(*parts)
    root = dest.resolve()
    where = target.resolve()
    if where != root and root not in where.parents:
        raise DataError(f"{archive}: member {member.name!r} would be written outside the target; refusing the archive")
    if member.isdir():
        target.mkdir(parents=True, exist_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    source = tar.extractfile(member)
    if source is None:
        raise DataError(f"{archive}: member {member.name!r} has no data; refusing the archive")
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o644)
    with os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(source, out, 1 << 20)


def extract_tar(
    archive: Path,
    dest: Path,
    *,
    progress: bool | None = None,
    log: Callable[[str], None] | None = None,
    shown_as: Path | None = None,
    limits: UnpackLimits | None = None,
) -> None:
    """Extract a ``.tgz``/``.tar.gz`` (or plain ``.tar``) archive safely into ``dest``.

    The whole file is read: a gzip stream is checked against its CRC and length at the end, and
    anything but zero padding after the end of the tar stream means a damaged archive (tarfile
    alone stops quietly at the first unreadable header).  DataError (one line) for a corrupted
    or truncated archive, an unsafe member, sizes beyond ``limits`` (default
    :func:`unpack_limits`) or a folder that cannot take the files (named ``shown_as`` in the
    message when given)."""
    import gzip

    archive = Path(archive)
    if not archive.is_file():
        raise DataError(f"{archive}: no such file")
    budget = _Budget(archive, limits)
    size = archive.stat().st_size
    with open(archive, "rb") as raw:
        magic = raw.read(262)
        raw.seek(0)
        is_gzip = magic[:2] == b"\x1f\x8b"
        if not is_gzip and magic[257:262] != b"ustar":
            raise DataError(f"{archive}: not a .tgz/.tar.gz or .tar archive")
        bar = Progress(size, archive.name, "B", progress)
        try:
            stream = _Reading(raw, bar)
            src = gzip.GzipFile(fileobj=stream, mode="rb") if is_gzip else stream
            with tarfile.open(fileobj=src, mode="r|") as tar:
                with_filter = hasattr(tarfile, "data_filter")
                for member in _safe_members(tar, archive, budget):
                    if with_filter:
                        tar.extract(member, dest, set_attrs=False, filter="data")
                    else:
                        _write_member(tar, member, Path(dest), archive)
                while True:  # the rest: zero padding only; reading it checks the gzip CRC
                    chunk = src.read(1 << 20)
                    if not chunk:
                        break
                    if chunk.count(0) != len(chunk):
                        raise tarfile.ReadError("unreadable data after the last readable member")
                    budget.add(len(chunk))
        except DataError:
            raise
        except OSError as exc:
            if exc.errno is None or exc.errno == errno.EIO:  # reading the archive
                raise DataError(
                    f"{archive}: corrupted or truncated archive ({one_line(exc) or type(exc).__name__})"
                ) from None
            raise DataError(
                f"{shown_as or dest}: cannot unpack {archive.name} there ({one_line(exc.strerror or exc)})"
            ) from None
        except getattr(tarfile, "FilterError", ()) as exc:
            raise DataError(f"{archive}: unsafe member ({one_line(exc)}); refusing the archive") from None
        except (tarfile.TarError, EOFError, zlib.error) as exc:
            raise DataError(
                f"{archive}: corrupted or truncated archive ({one_line(exc) or type(exc).__name__})"
            ) from None
        finally:
            bar.close()
    say(log, f"  unpacked {archive.name} ({size} bytes)")
