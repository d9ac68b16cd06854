"""Progress on stderr: a bar on a terminal; elsewhere (a log file, a batch job) a plain line at
most every ``ZSLBENCH_PROGRESS_SECONDS`` seconds, so that short work stays silent and long work
(a paper-profile f-CLSWGAN run takes hours on a CPU) says where it is.

The one tqdm wrapper of the package: epochs and tasks of a training run, images decoded or
checked, bytes downloaded or unpacked (``unit="B"``), runs of a sweep.
"""

from __future__ import annotations

import math
import os
import sys
import time

DEFAULT_LINE_SECONDS = 60.0


def env_seconds(name: str, default: float) -> float | None:
    """An interval in seconds from the environment variable ``name``: ``default`` when unset or
    not a number, None (never) for ``off`` or a negative number."""
    text = os.environ.get(name, "").strip().lower()
    if not text:
        return default
    if text in ("off", "none", "no"):
        return None
    try:
        value = float(text)
    except ValueError:
        return default
    return value if value >= 0 else None  # NaN compares false: never


def line_seconds() -> float | None:
    """Seconds between two progress lines off a terminal (``ZSLBENCH_PROGRESS_SECONDS``, default
    60); None when there are none."""
    return env_seconds("ZSLBENCH_PROGRESS_SECONDS", DEFAULT_LINE_SECONDS)


def duration(seconds: float) -> str:
    """``42s``, ``7m05s``, ``2h14m``."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def amount(n: float, unit: str) -> str:
    """A count as written in a progress line: ``3``, or bytes as ``12.5 MiB``."""
    if unit != "B":
        return f"{n:g}"
    if n < 1024:
        return f"{n:.0f} B"
    exponent = min(3, int(math.log(n, 1024)))
    return f"{n / 1024**exponent:.1f} {('KiB', 'MiB', 'GiB')[exponent - 1]}"


class Progress:
    """A bar of ``total`` steps (None: unknown), shown when ``enabled`` (None: stderr is a
    terminal).  With ``enabled=None`` off a terminal it writes timed lines instead (see the
    module); ``enabled=False`` is silent (a sweep's workers: the sweep reports each run)."""

    def __init__(
        self,
        total: int | None,
        desc: str,
        unit: str,
        enabled: bool | None = None,
        *,
        initial: int = 0,
    ) -> None:
        self.total, self.desc, self.unit, self.n, self.initial = total, desc, unit, initial, initial
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.bar = None
        self.every = line_seconds() if enabled is None and not self.enabled else None
        self.start = self.last = time.monotonic()
        self.postfix: dict = {}
        if self.enabled:
            from tqdm.auto import tqdm

            scale = {"unit_scale": True, "unit_divisor": 1024} if unit == "B" else {}
            self.bar = tqdm(
                total=total,
                initial=initial,
                desc=desc,
                unit=unit,
                leave=False,
                file=sys.stderr,
                dynamic_ncols=True,
                **scale,
            )

    @property
    def shown(self) -> bool:
        return self.bar is not None

    def set_total(self, total: int | None) -> None:
        """The number of steps, once known (a generative model says it with its first epoch)."""
        self.total = total
        if self.bar is not None and self.bar.total != total:
            self.bar.total = total
            self.bar.refresh()

    def start_at(self, n: int) -> None:
        """Count from ``n`` steps already done (a run continued from a saved state): the
        position shows them, the time left counts only the steps made here."""
        self.n = self.initial = n
        if self.bar is not None:
            self.bar.n = self.bar.initial = n
            self.bar.refresh()

    def update(self, n: int = 1, **postfix) -> None:
        """Advance by ``n`` steps, showing ``postfix`` (e.g. ``loss=0.3``) beside the bar."""
        self.n += n
        if self.bar is not None:
            if postfix:
                self.bar.set_postfix(postfix, refresh=False)
            self.bar.update(n)
        elif self.every is not None:
            self.postfix = postfix or self.postfix
            now = time.monotonic()
            if now - self.last >= self.every:
                self.last = now
                print(self.line(now), file=sys.stderr, flush=True)

    def line(self, now: float) -> str:
        """``f-clswgan/cub/seed1: epoch 3/56 (H=12.3), 7m26s elapsed, about 2h11m left``."""
        elapsed = now - self.start
        done = amount(self.n, self.unit)
        if self.total:
            done += f"/{amount(self.total, self.unit)}"
        text = f"{self.desc}: {self.unit} {done}" if self.unit != "B" else f"{self.desc}: {done}"
        if self.postfix:
            text += " (" + ", ".join(f"{k}={v}" for k, v in self.postfix.items()) + ")"
        text += f", {duration(elapsed)} elapsed"
        if self.total and self.initial < self.n < self.total:
            text += f", about {duration(elapsed * (self.total - self.n) / (self.n - self.initial))} left"
        return text

    def write(self, message: str) -> None:
        """Print a line on stderr above the bar (without breaking it)."""
        if self.bar is not None:
            self.bar.write(message, file=sys.stderr)
        else:
            print(message, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
