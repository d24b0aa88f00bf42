"""A progress bar on stderr for long benchmark runs, with the current throughput (operations
over the last redraw window, about 0.1 s).

    with progress.Bar("ycsb A zipfian dsql", total_s=5.0) as bar:
        while ...: bar.add(ops)       # redraws at most 10 times a second

Off when stderr is not a TTY or after `configure(enabled=False)` (`dsql bench --quiet`); then
every call is a cheap no-op. `note(text)` prints a one-line status when enabled.

Thread-safety: `Bar.add` may be called from several client threads (a lock guards the counts).
Invariants: 1. the bar never writes when disabled; 2. the fraction shown is clamped to [0, 1].
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, TextIO

REDRAW_S = 0.1
WIDTH = 24

_enabled: bool | None = None  # None: decide from stderr.isatty()


def configure(enabled: bool | None) -> None:
    """True/False forces the bar on/off; None restores the TTY check."""
    global _enabled
    _enabled = enabled


def enabled(stream: TextIO | None = None) -> bool:
    if _enabled is not None:
        return _enabled
    s = stream or sys.stderr
    try:
        return bool(s.isatty())
    except (AttributeError, ValueError):
        return False


def note(text: str) -> None:
    if enabled():
        sys.stderr.write(f"\r\x1b[K{text}\n")
        sys.stderr.flush()


class Bar:
    """Progress over a time budget (`total_s`) or an operation count (`total_ops`)."""

    def __init__(self, label: str, *, total_s: float | None = None,
                 total_ops: int | None = None, unit: str = "ops/s",
                 stream: TextIO | None = None) -> None:
        if (total_s is None) == (total_ops is None):
            raise ValueError("give exactly one of total_s and total_ops")
        self.label = label
        self.total_s = total_s
        self.total_ops = total_ops
        self.unit = unit
        self.stream = stream or sys.stderr
        self.on = enabled(self.stream)
        self.ops = 0
        self.start = time.perf_counter()
        self._last_draw = 0.0
        self._window_start = self.start  # the current rate is over the last redraw window
        self._window_ops = 0
        self._lock = threading.Lock()

    def add(self, ops: int = 1) -> None:
        if not self.on:
            return
        with self._lock:
            self.ops += ops
            now = time.perf_counter()
            if now - self._last_draw < REDRAW_S:
                return
            self._last_draw = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = max(now - self.start, 1e-9)
        if self.total_s is not None:
            frac = elapsed / self.total_s
        else:
            assert self.total_ops is not None
            frac = self.ops / max(self.total_ops, 1)
        frac = min(max(frac, 0.0), 1.0)
        filled = int(frac * WIDTH)
        rate = (self.ops - self._window_ops) / max(now - self._window_start, 1e-9)
        self._window_start, self._window_ops = now, self.ops
        self.stream.write(f"\r\x1b[K[{'#' * filled}{'.' * (WIDTH - filled)}] {frac:4.0%} "
                          f"{self.label}  {rate:,.0f} {self.unit}")
        self.stream.flush()

    def close(self) -> None:
        if self.on:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
