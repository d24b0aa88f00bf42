"""The interval value: months, days and microseconds kept apart, as PostgreSQL stores them.

The three parts are independent (1 month is not 30 days until a calculation says so); SQL-level
equality and ordering (which do treat 1 month as 30 days) live in dsql.sql.types.interval.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Interval:
    months: int
    days: int
    microseconds: int
