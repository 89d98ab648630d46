"""Where an import's time went, in one log line per import (for operators and profiling)."""

from __future__ import annotations

import logging
import time

log = logging.getLogger("worker.timing")


class Laps:
    def __init__(self, what: str) -> None:
        self.what = what
        # The path the import took, once known ("fast", "checked").
        self.path = ""
        self._last = self._start = time.monotonic()
        self._laps: list[tuple[str, float]] = []

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self._laps.append((name, now - self._last))
        self._last = now

    def report(self) -> None:
        parts = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in self._laps)
        what = f"{self.what} ({self.path})" if self.path else self.what
        log.info("%s: %s; %.2f s in all", what, parts, time.monotonic() - self._start)
