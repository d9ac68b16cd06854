"""File locks (``fcntl.flock``): the one lock implementation of the package.

:class:`FileLock` is an exclusive lock on one file.  Its users: one lock per run
(:class:`RunLock`, ``<results>/locks/<key>.lock``), so that two sweeps over one results folder
never train the same run twice; one lock per data folder while ``zslbench data fetch`` installs
into it; one lock per decoded-image cache file while it is built.

A run lock is held for as long as the run is being trained.  The kernel releases a flock when
the process holding it dies, however it dies (SIGKILL, OOM killer, a SLURM job cancelled), so a
lock left behind by a dead process is never an obstacle: the next process that asks gets it.
A run lock's file only carries information for humans (pid, host and start time of the holder)
and is removed by the holder on release; the data locks keep their file.

Removing a flock file safely: the holder unlinks the path while it still holds the lock, and
an acquirer checks after locking that the path still names the inode it locked (otherwise it
locked a file that has just been removed, and it tries again).

Shared filesystems (SLURM): on NFS, Linux implements flock with POSIX byte-range locks through
the NFS lock manager (NFSv3 lockd, NFSv4 built in), so locks hold across nodes; a node that
crashes loses its locks when its lease expires (about 90 s on NFSv4).  Lustre needs the
``flock`` mount option; a filesystem without lock support makes acquire raise an error naming
the lock file, and the run fails instead of risking a double run.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
import time
from datetime import datetime, timezone
from pathlib import Path

from zslbench.errors import ZSLBenchError

LOCK_DIR = "locks"


def lock_path(results: Path, key: str) -> Path:
    return Path(results) / LOCK_DIR / f"{key}.lock"


class FileLock:
    """An exclusive, process-death-safe lock on the file ``path`` (created when missing).

    ``remove``: the holder deletes the file on release (it then only lives while held, and
    carries the holder's pid, host and start time for humans).
    """

    def __init__(self, path: str | os.PathLike, *, remove: bool = True) -> None:
        self.path = Path(path)
        self.remove = remove
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, wait: bool = False, poll: float = 0.5) -> bool:
        """Take the lock; with wait=False return False at once when another process holds it,
        with wait=True try again every ``poll`` seconds until it is free."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    if not wait:
                        return False
                    time.sleep(poll)
                    continue
                raise ZSLBenchError(
                    f"{self.path}: cannot lock ({exc.strerror}); the folder must be on a "
                    "filesystem with file locks (flock)"
                ) from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same:  # the previous holder removed the file after we opened it: retry
                os.close(fd)
                continue
            self._fd = fd
            if self.remove:
                info = (
                    f"pid={os.getpid()} host={socket.gethostname()} started={datetime.now(timezone.utc).isoformat()}\n"
                )
                os.ftruncate(fd, 0)
                os.pwrite(fd, info.encode(), 0)
            return True

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            if self.remove:
                os.unlink(self.path)  # while still holding the lock (see the module docstring)
        except FileNotFoundError:
            pass
        finally:
            os.close(self._fd)  # closing the last descriptor releases the flock
            self._fd = None

    def holder(self) -> str:
        """What the lock file says about its holder ('' when unknown)."""
        try:
            return self.path.read_text().strip()
        except OSError:
            return ""

    def __enter__(self):
        self.acquire(wait=True)
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class RunLock(FileLock):
    """The lock of one run key: ``<results>/locks/<key>.lock``."""

    def __init__(self, results: Path, key: str) -> None:
        super().__init__(lock_path(results, key))
