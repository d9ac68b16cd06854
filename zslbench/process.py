"""What every process zslbench starts for training (the command line, a sweep's pool worker, a
SLURM task) sets first, before any parallel operation: subnormal floats flushed on the threads
it will create (:mod:`zslbench.subnormal`) and freed memory kept (:mod:`zslbench.allocator`)."""

from __future__ import annotations

from zslbench.allocator import keep_freed_memory
from zslbench.subnormal import flush_at_process_start


def start_process() -> None:
    """Call before the process's first parallel torch operation."""
    flush_at_process_start()
    keep_freed_memory()
