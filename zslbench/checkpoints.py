"""Where a long run keeps its state between epochs, so that a run stopped part-way (Ctrl-C, a
SLURM time limit, a killed process) continues from its last saved epoch when it is started
again with the same options, and so the same run id (docs/commands.md#long-runs).

The harness opens a :class:`Checkpoint` for the run it trains (:func:`checkpointing`, around
the training); a generative model finds it as ``GenerativeTask.checkpoint`` and decides what
its state is.  The file is ``<results>/partial/<run_id>.pt``, written whole or not at all, at
most every ``ZSLBENCH_CHECKPOINT_SECONDS`` seconds (default 600; ``off``: never), and removed
once the run's record is written.  A continued run gives the numbers of an uninterrupted one.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from zslbench.progress import env_seconds

DEFAULT_SECONDS = 600.0
_CURRENT: ContextVar[Checkpoint | None] = ContextVar("zslbench_checkpoint", default=None)
_SAVED: dict[Path, None] = {}  # the states this process saved (an interrupted command names them)


def save_interval() -> float | None:
    """Seconds between two saves (``ZSLBENCH_CHECKPOINT_SECONDS``; ``off`` or a negative
    number: None, no saves)."""
    return env_seconds("ZSLBENCH_CHECKPOINT_SECONDS", DEFAULT_SECONDS)


def partial_path(results: Path, run_id: str) -> Path:
    return Path(results) / "partial" / f"{run_id}.pt"


class Checkpoint:
    """The saved state of one run: :meth:`load` it once at the start, :meth:`save` it when
    :meth:`due` says so (the save time counts from the start of the run, then from each save)."""

    def __init__(self, path: Path, every: float | None) -> None:
        self.path, self.every = Path(path), every
        self.last = time.monotonic()

    def due(self) -> bool:
        return self.every is not None and time.monotonic() - self.last >= self.every

    def save(self, state: dict[str, Any]) -> None:
        """Write ``state`` (tensors, numbers, lists, dicts; ``torch.save``) in place of the
        previous one, atomically."""
        import torch

        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            torch.save(state, tmp)
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)
        self.last = time.monotonic()
        _SAVED[self.path] = None

    def load(self) -> dict[str, Any] | None:
        """The saved state, or None when there is none; a file that cannot be read is set aside
        with a warning (the run then starts from the beginning)."""
        import torch

        if not self.path.is_file():
            return None
        try:
            state = torch.load(self.path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises several types for a damaged or foreign file
            warnings.warn(f"{self.path}: unreadable saved state ({type(exc).__name__}); starting over", stacklevel=2)
            return None
        if not isinstance(state, dict):
            warnings.warn(f"{self.path}: not a saved state; starting over", stacklevel=2)
            return None
        return state

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
        _SAVED.pop(self.path, None)


@contextmanager
def checkpointing(results: Path, run_id: str, fresh: bool = False) -> Iterator[Checkpoint]:
    """The run's checkpoint for the code inside (:func:`current`); ``fresh`` discards a saved
    state first (``--force``: train from the beginning)."""
    checkpoint = Checkpoint(partial_path(results, run_id), save_interval())
    if fresh:
        checkpoint.clear()
    token = _CURRENT.set(checkpoint)
    try:
        yield checkpoint
    finally:
        _CURRENT.reset(token)


def current() -> Checkpoint | None:
    """The checkpoint of the run being trained, if the harness opened one."""
    return _CURRENT.get()


def kept() -> list[Path]:
    """The saved states this process wrote that are still there (a stopped run's)."""
    return [path for path in _SAVED if path.is_file()]
