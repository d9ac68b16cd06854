"""Reading downloaded archives safely: zip (xlsa17) and ``.tgz``/``.tar.gz`` (the image datasets).

Every byte of an archive is checked (the zip CRCs; a gzip stream's CRC and length, read to its
end), and no member may write outside the target folder: absolute paths, ``..``, links that
point outside the archive's tree and device files refuse the whole archive (DataError, one line).
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from zslbench.data.download import say
from zslbench.errors import DataError, one_line
from zslbench.progress import Progress

_COPY_CHUNK = 1 << 22

__all__ = ["check_zip", "extract_tar", "extract_zip_member", "zip_member_parts"]


# --------------------------------------------------------------------------- zip


def check_zip(path: str | os.PathLike) -> None:
    """DataError unless ``path`` is a zip archive whose members all match their CRCs."""
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError) as exc:
        raise DataError(f"{path}: not a valid zip archive ({one_line(exc)}); "
                        "the file is corrupted or incomplete") from None
    if bad is not None:
        raise DataError(f"{path}: corrupted zip archive: CRC check failed for {bad!r}")


def zip_member_parts(name: str) -> tuple[str, ...]:
    """The path parts of a zip member; DataError for names that could escape the target."""
    text = name.replace("\\", "/")
    pure = PurePosixPath(text)
    if text.startswith("/") or re.match(r"^[A-Za-z]:", text) or ".." in pure.parts:
        raise DataError(f"zip member {name!r}: unsafe path (absolute or with '..'); refusing the archive")
    return tuple(p for p in pure.parts if p not in ("", "."))


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
        bar = Progress(size, archive.name, "B", progress)
        try:
            stream = _Reading(raw, bar)
            src = gzip.GzipFile(fileobj=stream, mode="rb") if is_gzip else stream
            with tarfile.open(fileobj=src, mode="r|") as tar:
                kwargs: dict[str, Any] = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
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
                                f"({one_line(exc) or type(exc).__name__})") from None
            raise DataError(f"{shown_as or dest}: cannot unpack {archive.name} there "
                            f"({one_line(exc.strerror or exc)})") from None
        except getattr(tarfile, "FilterError", ()) as exc:
            raise DataError(f"{archive}: unsafe member ({one_line(exc)}); refusing the archive") from None
        except (tarfile.TarError, EOFError, zlib.error) as exc:
            raise DataError(f"{archive}: corrupted or truncated archive "
                            f"({one_line(exc) or type(exc).__name__})") from None
        finally:
            bar.close()
    say(log, f"  unpacked {archive.name} ({size} bytes)")
