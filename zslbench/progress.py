"""Progress bars on stderr that stay silent when stderr is not a terminal.

The one tqdm wrapper of the package: epochs and tasks of a training run, images decoded or
checked, bytes downloaded or unpacked (``unit="B"``), runs of a sweep.
"""

from __future__ import annotations

import sys


class Progress:
    """A bar of ``total`` steps (None: unknown), shown when ``enabled`` (None: stderr is a terminal)."""

    def __init__(
        self,
        total: int | None,
        desc: str,
        unit: str,
        enabled: bool | None = None,
        *,
        initial: int = 0,
    ) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.bar = None
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

    def update(self, n: int = 1, **postfix) -> None:
        """Advance by ``n`` steps, showing ``postfix`` (e.g. ``loss=0.3``) beside the bar."""
        if self.bar is not None:
            if postfix:
                self.bar.set_postfix(postfix, refresh=False)
            self.bar.update(n)

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
