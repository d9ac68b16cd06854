"""Leaving the process after Ctrl-C or SIGTERM with the documented exit code."""

from __future__ import annotations

import os
import sys


def exit_interrupted(code: int = 130) -> None:
    """Flush stdout/stderr and exit with `code` (130 = 128 + SIGINT) at once.

    Called once everything is cleaned up and the user has been told how to resume. CPython can
    otherwise end the process by re-raising SIGINT at exit when a KeyboardInterrupt passed
    through some C-level evaluation earlier, even though it was handled, which changes the exit
    status seen by callers that do not go through a shell."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
