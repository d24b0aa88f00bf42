"""Session settings that change how values are read, written and computed.

A ValueContext travels with a statement: the executor binds it into the compiled expressions
(timestamptz input and output, `now()`, casts between timestamp and timestamptz, ...). It is
plain data; build a new one when a setting changes (SET TimeZone, a new transaction).

Example::

    ctx = ValueContext(timezone=zone_for("America/New_York"), timezone_name="America/New_York")
    timestamptz_out(value, ctx)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timezone, tzinfo


class TxnClock:
    """A session's current transaction and statement start times, set as each statement
    begins and read by now(), current_timestamp, statement_timestamp() ... when they run.

    Plans capture the session's ValueContext when they are bound and cached; the clock lets
    such a plan read the time of the transaction running it instead of the time it was bound.
    Times are kept as nanoseconds and turned into datetimes only when read (once per value).

    Thread-safety: one per session; set and read by the thread running the session.
    """

    __slots__ = ("_txn_ns", "_stmt_ns", "_txn_dt", "_stmt_dt")

    def __init__(self) -> None:
        self._txn_ns = self._stmt_ns = 0
        self._txn_dt: datetime | None = None
        self._stmt_dt: datetime | None = None

    def set(self, transaction_ns: int, statement_ns: int) -> None:
        """REQUIRES: ns since the Unix epoch, > 0."""
        assert transaction_ns > 0 and statement_ns > 0
        if transaction_ns != self._txn_ns:
            self._txn_ns, self._txn_dt = transaction_ns, None
        self._stmt_ns, self._stmt_dt = statement_ns, None

    @staticmethod
    def _at(ns: int) -> datetime:
        return datetime.fromtimestamp(ns // 1_000_000_000, timezone.utc).replace(
            microsecond=(ns // 1000) % 1_000_000)

    @property
    def transaction(self) -> datetime | None:
        if self._txn_dt is None and self._txn_ns:
            self._txn_dt = self._at(self._txn_ns)
        return self._txn_dt

    @property
    def statement(self) -> datetime | None:
        if self._stmt_dt is None and self._stmt_ns:
            self._stmt_dt = self._at(self._stmt_ns)
        return self._stmt_dt


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
    # Where the two come from when not given above: the session's clock (a cached plan runs
    # in many transactions); without one, the wall clock.
    clock: TxnClock | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        assert self.date_order in ("MDY", "DMY", "YMD"), self.date_order
        ts = self.transaction_timestamp
        assert ts is None or ts.tzinfo is not None, "transaction_timestamp must be UTC-aware"

    def with_timestamp(self, ts: datetime) -> ValueContext:
        """A copy for a new transaction that started at `ts` (UTC-aware)."""
        assert ts.tzinfo is not None
        return replace(self, transaction_timestamp=ts, statement_timestamp=ts)


DEFAULT_CONTEXT = ValueContext()
