"""A plain-text progress bar on stderr: done/total, percent, rate, ETA and a running tally.

On a terminal the bar redraws in place at most ten times a second; elsewhere (a log file, CI)
it prints a line at every tenth of the way and at the end, so logs stay short.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def format_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    def __init__(
        self,
        total: int,
        *,
        stream: TextIO | None = None,
        enabled: bool = True,
        label: str = "scoring",
        width: int = 24,
    ) -> None:
        self.total = total
        self.done = 0
        self.tally: dict[str, int] = {}
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.label = label
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.t0 = time.monotonic()
        self._last_draw = 0.0
        self._last_decile = -1

    def advance(self, outcome: str) -> None:
        self.done += 1
        self.tally[outcome] = self.tally.get(outcome, 0) + 1
        self._maybe_draw()

    def line(self) -> str:
        elapsed = time.monotonic() - self.t0
        frac = self.done / self.total if self.total else 1.0
        filled = int(self.width * frac)
        bar = "#" * filled + "." * (self.width - filled)
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else None
        tally = " ".join(f"{k} {v}" for k, v in sorted(self.tally.items()))
        eta_text = format_duration(eta) if eta is not None else "?"
        return (
            f"{self.label} [{bar}] {self.done}/{self.total} {100 * frac:3.0f}% "
            f"{rate:.1f}/s ETA {eta_text}" + (f" | {tally}" if tally else "")
        )

    def _maybe_draw(self) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self.tty:
            if now - self._last_draw >= 0.1 or self.done == self.total:
                self._last_draw = now
                self.stream.write("\r\x1b[2K" + self.line())
                self.stream.flush()
            return
        decile = int(10 * self.done / self.total) if self.total else 10
        if decile != self._last_decile and (decile > self._last_decile):
            self._last_decile = decile
            self.stream.write(self.line() + "\n")
            self.stream.flush()

    def finish(self) -> None:
        if not self.enabled:
            return
        if self.tty:
            self.stream.write("\r\x1b[2K" + self.line() + "\n")
        elif self._last_decile < 10:
            self.stream.write(self.line() + "\n")
        self.stream.flush()
