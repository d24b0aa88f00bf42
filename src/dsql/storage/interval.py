"""PostgreSQL's ``interval``: months, days and microseconds, kept apart.

PostgreSQL keeps the three fields separately (a month is not a fixed number of days) but
compares intervals by one number, ``(months * 30 + days) * 86_400_000_000 + microseconds``, so
``'1 mon' = '30 days'`` is true. ``Interval`` does the same: ``==``, ``<``, ``hash`` use
:attr:`Interval.sort_key`, while :attr:`Interval.components` tells equal intervals apart.

>>> Interval(months=1) == Interval(days=30)
True
>>> Interval(months=1).components == Interval(days=30).components
False
"""

from __future__ import annotations

from dataclasses import dataclass

USECS_PER_DAY = 86_400_000_000
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _check(name: str, value: object, lo: int, hi: int) -> None:
    if type(value) is bool or not isinstance(value, int):
        raise TypeError(f"Interval.{name} must be an int, not {type(value).__name__}")
    if not lo <= value <= hi:
        raise ValueError(f"Interval.{name} = {value} is outside [{lo}, {hi}]")


@dataclass(frozen=True, eq=False)
class Interval:
    """An interval value: ``months`` and ``days`` are int32, ``microseconds`` int64.

    Equality, order and hash are PostgreSQL's (by :attr:`sort_key`); the fields are kept
    exactly as given, as the key and row codecs keep them.
    """

    months: int = 0
    days: int = 0
    microseconds: int = 0

    def __post_init__(self) -> None:
        _check("months", self.months, _INT32_MIN, _INT32_MAX)
        _check("days", self.days, _INT32_MIN, _INT32_MAX)
        _check("microseconds", self.microseconds, _INT64_MIN, _INT64_MAX)

    @property
    def sort_key(self) -> int:
        """PostgreSQL's comparison value: ``(months * 30 + days) * 86400e6 + microseconds``."""
        return (self.months * 30 + self.days) * USECS_PER_DAY + self.microseconds

    @property
    def components(self) -> tuple[int, int, int]:
        """``(months, days, microseconds)``: identity, where ``==`` is PostgreSQL equality."""
        return (self.months, self.days, self.microseconds)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Interval):
            return NotImplemented
        return self.sort_key == other.sort_key

    def __hash__(self) -> int:
        return hash(self.sort_key)

    def __lt__(self, other: Interval) -> bool:
        if not isinstance(other, Interval):
            return NotImplemented
        return self.sort_key < other.sort_key

    def __le__(self, other: Interval) -> bool:
        if not isinstance(other, Interval):
            return NotImplemented
        return self.sort_key <= other.sort_key

    def __gt__(self, other: Interval) -> bool:
        if not isinstance(other, Interval):
            return NotImplemented
        return self.sort_key > other.sort_key

    def __ge__(self, other: Interval) -> bool:
        if not isinstance(other, Interval):
            return NotImplemented
        return self.sort_key >= other.sort_key
