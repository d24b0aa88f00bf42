"""Interrupting a running statement: Session.cancel from another thread, statement_timeout.

The executor's row loops call `check()` every CHECK_EVERY_ROWS rows (storage scans per batch,
generate_series, joins through their sources), so a cancel or an expired timeout ends the
statement with 57014 within a batch's time, not only between statements.

    it = checked(rows, interrupt.check)      # yields rows; calls check() every 1024

Thread-safety: `Interrupt.cancel` may be called from any thread; everything else from the
thread running the session's statements. A flag write and read are atomic under the GIL.

Invariants:
  1. A cancel takes effect only while a statement runs (`begin()`..`end()`); one arriving while
     the session is idle has no lasting effect (PostgreSQL ignores it too).
  2. deadline_ns is 0 (none) or a time.monotonic_ns() value set at the statement's start.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from dsql.errors import InvalidParameterValue
from dsql.sql.errors import QueryCanceled

T = TypeVar("T")
CHECK_EVERY_ROWS = 1024
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "min": 60_000.0, "h": 3_600_000.0,
             "d": 86_400_000.0}
_DURATION = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.I)
_TIMEOUT_MS_MAX = (1 << 31) - 1  # PostgreSQL's INT_MAX milliseconds


def timeout_ms(name: str, value: str) -> int:
    """A timeout setting's value in ms ('250', '250ms', '5s', '1min'), as PostgreSQL reads it
    (a number without a unit is milliseconds). Raises 22023 for anything else."""
    m = _DURATION.match(value.strip("'\""))
    unit = m.group(2).lower() if m else ""
    if m is None or unit not in _UNITS_MS and unit != "":
        raise InvalidParameterValue(f'invalid value for parameter "{name}": "{value}"',
                                    hint='Valid units for this parameter are "us", "ms", "s", '
                                         '"min", "h", and "d".')
    ms = round(float(m.group(1)) * _UNITS_MS.get(unit, 1.0))
    if ms < 0 or ms > _TIMEOUT_MS_MAX:
        raise InvalidParameterValue(f"{ms} ms is outside the valid range for parameter "
                                    f'"{name}" (0 .. {_TIMEOUT_MS_MAX})')
    assert 0 <= ms <= _TIMEOUT_MS_MAX
    return ms


class Interrupt:
    """One session's cancel flag and statement deadline."""

    __slots__ = ("cancelled", "running", "deadline_ns", "timeout_ns")

    def __init__(self) -> None:
        self.cancelled = False
        self.running = False
        self.deadline_ns = 0
        self.timeout_ns = 0  # statement_timeout, 0 = none

    def cancel(self) -> None:
        """From any thread: the running statement (if any) fails with 57014."""
        if self.running:
            self.cancelled = True

    def begin(self) -> None:
        assert not self.running, "statements of one session do not nest"
        t = self.timeout_ns
        self.deadline_ns = time.monotonic_ns() + t if t else 0
        self.running = True

    def end(self) -> None:
        self.running = False
        self.cancelled = False
        self.deadline_ns = 0

    def check(self) -> None:
        """Raises QueryCanceled (57014) when cancelled or past the deadline."""
        if self.cancelled:
            self.cancelled = False
            raise QueryCanceled("canceling statement due to user request")
        d = self.deadline_ns
        if d and time.monotonic_ns() > d:
            raise QueryCanceled("canceling statement due to statement timeout")


def checked(items: Iterable[T], check: Callable[[], None] | None) -> Iterator[T]:
    """`items`, calling check() before the first and after every CHECK_EVERY_ROWS items."""
    if check is None:
        yield from items
        return
    check()
    n = 0
    for x in items:
        n += 1
        if n >= CHECK_EVERY_ROWS:
            n = 0
            check()
        yield x
