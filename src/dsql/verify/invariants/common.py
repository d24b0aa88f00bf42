"""What the invariant workloads share: one transaction attempt, its outcome, and a client.

An attempt runs a body of statements on a PEP 249 connection and then COMMIT, and ends in one
of three outcomes:

- ``ok``       COMMIT returned: the transaction is acknowledged and must be durable;
- ``fail``     it did not commit: an error before COMMIT, or COMMIT refused with SQLSTATE
               40001 / 40P01 (``retryable`` tells which);
- ``unknown``  COMMIT raised something else (typically the connection was lost): it may or may
               not have committed. Checkers count these as "maybe".

A ``Client`` owns one connection and replaces it after any error that is not a retryable
conflict (the connection may be broken, or the server gone); reconnecting retries until the
client's stop event is set or `reconnect_s_max` passes.

Thread-safety: a Client belongs to one thread. `attempt` is reentrant (no shared state).
Invariants: 1. every attempt ends in exactly one outcome; 2. an outcome is ``ok`` only when
COMMIT returned without raising.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from dsql.verify.workload import RETRYABLE_SQLSTATES, sqlstate_of

OK = "ok"
FAIL = "fail"
UNKNOWN = "unknown"
OUTCOMES = (OK, FAIL, UNKNOWN)
RETRIES_MAX = 1000  # attempts of one logical operation before the client gives it up
RECONNECT_S_MAX = 60.0

Connect = Callable[[], Any]  # returns a PEP 249 connection (autocommit off)
T = TypeVar("T")


@dataclass
class Attempt(Generic[T]):
    """One attempt's outcome, the body's return value (when it ran to the end) and the error."""

    outcome: str
    value: T | None
    error: BaseException | None

    @property
    def retryable(self) -> bool:
        return (self.outcome == FAIL and self.error is not None
                and sqlstate_of(self.error) in RETRYABLE_SQLSTATES)


def _rollback_quietly(conn: Any) -> None:
    try:
        conn.rollback()
    except Exception:  # a lost connection cannot roll back; the server aborts for us
        pass


def attempt(conn: Any, body: Callable[[Any], T]) -> Attempt[T]:
    """Runs `body(cursor)` then COMMIT; see the module docstring for the outcomes.

    REQUIRES: `conn` has autocommit off (so the body's statements form one transaction).
    """
    assert conn is not None
    try:
        cur = conn.cursor()
        try:
            value = body(cur)
        finally:
            try:
                cur.close()
            except Exception:
                pass
    except Exception as exc:  # nothing was committed: COMMIT was never sent
        _rollback_quietly(conn)
        return Attempt(FAIL, None, exc)
    try:
        conn.commit()
    except Exception as exc:
        if sqlstate_of(exc) in RETRYABLE_SQLSTATES:
            return Attempt(FAIL, value, exc)
        return Attempt(UNKNOWN, value, exc)
    return Attempt(OK, value, None)


def fetch_all(cur: Any, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
    """Executes `sql` and returns every row as a tuple."""
    cur.execute(sql, params) if params else cur.execute(sql)
    rows = cur.fetchall()
    assert isinstance(rows, list)
    return [tuple(r) for r in rows]


def close_quietly(conn: Any) -> None:
    try:
        conn.close()
    except Exception:
        pass


class Client:
    """One connection, replaced after non-conflict errors. See the module docstring."""

    def __init__(self, connect: Connect, stop: threading.Event | None = None,
                 reconnect_s_max: float = RECONNECT_S_MAX) -> None:
        assert reconnect_s_max > 0
        self._connect = connect
        self.stop = stop or threading.Event()
        self.reconnect_s_max = reconnect_s_max
        self.conn: Any = None
        self.errors: list[str] = []  # non-conflict errors met (the last few)
        self.conflicts = 0  # attempts refused with 40001 / 40P01

    def ensure(self) -> bool:
        """A live connection, reconnecting as needed; False when stopped or out of time."""
        if self.conn is not None:
            return True
        deadline = time.monotonic() + self.reconnect_s_max
        delay_s = 0.02
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                self.conn = self._connect()
                return True
            except Exception as exc:
                self._note(f"connect: {type(exc).__name__}: {exc}")
                self.stop.wait(delay_s)
                delay_s = min(delay_s * 2, 0.5)
        return False

    def run(self, body: Callable[[Any], T]) -> Attempt[T]:
        """One attempt; drops the connection after any error but a retryable conflict."""
        if not self.ensure():
            return Attempt(FAIL, None, ConnectionError("no connection (stopped or timed out)"))
        result = attempt(self.conn, body)
        if result.error is not None and not result.retryable:
            self._note(f"{result.outcome}: {type(result.error).__name__}: {result.error}")
            close_quietly(self.conn)
            self.conn = None
        return result

    def run_until_done(self, body: Callable[[Any], T],
                       on_unknown: Callable[[], None] = lambda: None,
                       retries_max: int = RETRIES_MAX) -> Attempt[T]:
        """Retries `body` on conflicts until it commits, fails hard, or the client stops.
        An ``unknown`` outcome is final (retrying could apply the operation twice):
        `on_unknown` is called and the unknown attempt returned."""
        assert retries_max >= 1
        last: Attempt[T] = Attempt(FAIL, None, None)
        for _ in range(retries_max):
            if self.stop.is_set():
                break
            last = self.run(body)
            if last.outcome == UNKNOWN:
                on_unknown()
                return last
            if last.outcome == OK or not last.retryable:
                return last
            self.conflicts += 1
        return last

    def close(self) -> None:
        if self.conn is not None:
            close_quietly(self.conn)
            self.conn = None

    def _note(self, text: str) -> None:
        self.errors.append(text)
        del self.errors[:-20]


def read_only(conn: Any, body: Callable[[Any], T], tries_max: int = 20) -> T:
    """Runs a read-only transaction and returns the body's value (retrying conflicts, which a
    read-only transaction should never meet). Raises the last error if every try failed."""
    assert tries_max >= 1
    last: BaseException | None = None
    for _ in range(tries_max):
        result = attempt(conn, body)
        if result.outcome == OK:
            return result.value  # type: ignore[return-value]
        last = result.error
        if not result.retryable:
            break
    assert last is not None
    raise last
