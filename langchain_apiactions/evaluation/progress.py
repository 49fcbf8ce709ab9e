"""The progress bar of `apiactions eval` (tqdm: a bar on a terminal, nothing on a pipe)."""

from __future__ import annotations

import sys
from typing import Any, TextIO

__all__ = ["ProgressBar", "progress_bar"]


class ProgressBar:
    """`evaluate`'s `progress` callback drawn by tqdm: a bar on a terminal that ends its
    line when closed, and nothing at all on a pipe or a file (no `\\r` frames in logs).
    """

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out if out is not None else sys.stderr
        self._bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        from tqdm import tqdm

        if self._bar is None or self._bar.total != total or done < self._bar.n:
            self.close()
            self._bar = tqdm(total=total, file=self.out, disable=None, unit="case", ascii=True)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        """End the bar's line (a terminal only)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def progress_bar(out: TextIO | None = None) -> ProgressBar:
    """A progress bar for `evaluate(..., progress=...)`; call `.close()` when done."""
    return ProgressBar(out)
