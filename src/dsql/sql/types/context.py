"""Session settings that change how values are read, written and computed.

A ValueContext travels with a statement: the executor binds it into the compiled expressions
(timestamptz input and output, `now()`, casts between timestamp and timestamptz, ...). It is
plain data; build a new one when a setting changes (SET TimeZone, a new transaction).

Example::

    ctx = ValueContext(timezone=zone_for("America/New_York"), timezone_name="America/New_York")
    timestamptz_out(value, ctx)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone, tzinfo


@dataclass(frozen=True, slots=True)
class ValueContext:
    """Settings with PostgreSQL's defaults: TimeZone UTC, DateStyle 'ISO, MDY'."""

    timezone: tzinfo = timezone.utc
    timezone_name: str = "UTC"
    date_order: str = "MDY"  # DateStyle field order for ambiguous input: MDY, DMY or YMD
    # The transaction's start time (UTC-aware): now(), current_timestamp, 'now', 'today'.
    transaction_timestamp: datetime | None = None
    # The statement's start time (statement_timestamp()); defaults to the transaction's.
    statement_timestamp: datetime | None = None

    def __post_init__(self) -> None:
        assert self.date_order in ("MDY", "DMY", "YMD"), self.date_order
        ts = self.transaction_timestamp
        assert ts is None or ts.tzinfo is not None, "transaction_timestamp must be UTC-aware"

    def with_timestamp(self, ts: datetime) -> ValueContext:
        """A copy for a new transaction that started at `ts` (UTC-aware)."""
        assert ts.tzinfo is not None
        return replace(self, transaction_timestamp=ts, statement_timestamp=ts)


DEFAULT_CONTEXT = ValueContext()
