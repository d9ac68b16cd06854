"""Progress bars on stderr that stay silent when stderr is not a terminal."""

from __future__ import annotations

import sys


class Progress:
    def __init__(self, total: int, desc: str, unit: str, enabled: bool | None = None) -> None:
        enabled = sys.stderr.isatty() if enabled is None else enabled
        self.bar = None
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=desc, unit=unit, leave=False, file=sys.stderr)

    def update(self, **postfix) -> None:
        if self.bar is not None:
            self.bar.set_postfix(postfix, refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
