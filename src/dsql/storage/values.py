"""Values of SQL types that Python's own types cannot hold.

PostgreSQL's ``date``, ``timestamp`` and ``timestamptz`` have ``'infinity'`` and
``'-infinity'``; Python's ``datetime.date`` and ``datetime.datetime`` do not. The codecs map
them to the two constants here, for all three types: encode ``INFINITY`` into a date column and
decoding gives ``INFINITY`` back. They compare with dates and datetimes as PostgreSQL does
(``NEG_INFINITY`` < every date < ``INFINITY``) and print as PostgreSQL prints them.

Finite values outside Python's range (years before 1 or after 9999, which PostgreSQL allows)
cannot be built from Python; decoding one raises ValueError.

>>> import datetime
>>> NEG_INFINITY < datetime.date(1, 1, 1) < INFINITY
True
>>> str(INFINITY)
'infinity'
"""

from __future__ import annotations

import datetime
from typing import Final


class InfiniteTime:
    """``'infinity'`` (sign +1) or ``'-infinity'`` (sign -1) of a date or timestamp column.

    Only the two module constants exist; compare them with ``is``.
    """

    __slots__ = ("sign",)
    sign: int

    def __init__(self, sign: int) -> None:
        if sign not in (1, -1):
            raise ValueError("sign must be 1 or -1")
        object.__setattr__(self, "sign", sign)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("InfiniteTime is immutable")

    def __repr__(self) -> str:
        return "INFINITY" if self.sign > 0 else "NEG_INFINITY"

    def __str__(self) -> str:
        return "infinity" if self.sign > 0 else "-infinity"

    def __reduce__(self) -> str:
        return repr(self)  # pickles as a reference to the module constant

    def _rank(self, other: object) -> int | None:
        """-1, 0 or 1: how other orders against self; None if not comparable."""
        if isinstance(other, InfiniteTime):
            return (other.sign > self.sign) - (other.sign < self.sign)
        if isinstance(other, datetime.date):  # datetime.datetime is a date too
            return -self.sign
        return None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, InfiniteTime) and other.sign == self.sign

    def __hash__(self) -> int:
        return hash(("InfiniteTime", self.sign))

    def __lt__(self, other: object) -> bool:
        r = self._rank(other)
        return NotImplemented if r is None else r > 0

    def __le__(self, other: object) -> bool:
        r = self._rank(other)
        return NotImplemented if r is None else r >= 0

    def __gt__(self, other: object) -> bool:
        r = self._rank(other)
        return NotImplemented if r is None else r < 0

    def __ge__(self, other: object) -> bool:
        r = self._rank(other)
        return NotImplemented if r is None else r <= 0


INFINITY: Final = InfiniteTime(1)
NEG_INFINITY: Final = InfiniteTime(-1)
