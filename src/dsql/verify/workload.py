"""The list-append workload over any PEP 249 (DB-API 2.0) connection.

`clients` threads, each with its own connection from `connect()`, run `txns` short random
transactions (1..mops_max reads and appends over keys 0..keys-1) and record a Jepsen-style
history (history.py) with invoke and completion times on one monotonic clock. After all of
them finish, one final transaction reads every key, so that every committed append is seen.

Schema and statements (plain SQL, integers inlined as literals so that no paramstyle is
assumed; the values are ints the runner made, so nothing needs quoting)::

    CREATE TABLE IF NOT EXISTS lists (k int PRIMARY KEY, v text)   -- v = "1,2,3"
    DELETE FROM lists                                              -- each run starts empty
    read:    SELECT v FROM lists WHERE k = <k>                     -- no row = []
    append:  INSERT INTO lists (k, v) VALUES (<k>, '<v>')
             ON CONFLICT (k) DO UPDATE SET v = lists.v || ',' || EXCLUDED.v

The upsert is one statement that works whether or not the row exists yet. PostgreSQL at
REPEATABLE READ raises 40001 when the row changed after the snapshot (and aurora DSQL / dsql
at COMMIT), so an append never extends a list the transaction did not see. (SELECT-then-
INSERT/UPDATE would need a unique-violation path for the first append of a key.) The CREATE
and the DELETE run in separate transactions: dsql, like Aurora DSQL, does not mix DDL and DML.

Outcomes: `ok` when COMMIT returns; `fail` when a statement or COMMIT raises SQLSTATE 40001 or
40P01 (the transaction is retried, as a new op with fresh append values, up to `attempts_max`
times) or any other error before COMMIT (recorded in `errors`, no retry); `info` when COMMIT
raises anything else (the outcome is unknown; the client reconnects as a new process, as
Jepsen does). Isolation level and any other session setup belong to `connect()`.

Invariants: 1. op indices follow the times they carry (both are taken under one lock);
2. append values are unique per run; 3. a process has at most one op pending.
Thread-safety: run_list_append owns its threads; `connect` is called from them concurrently.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dsql.verify.history import APPEND, FAIL, INFO, INVOKE, OK, READ, MicroOp, Op, save_history

RETRYABLE_SQLSTATES = frozenset(("40001", "40P01"))
CLIENTS_MAX = 256
TXNS_MAX = 1_000_000
ERRORS_KEPT_MAX = 100

Connect = Callable[[], Any]  # returns a PEP 249 connection


@dataclass
class ListAppendRun:
    """A finished run: the history, and the unexpected errors met (empty when all went well)."""

    history: list[Op]
    errors: list[str] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for op in self.history if op.type == kind)

    def save(self, path: str) -> None:
        save_history(self.history, path)


def sqlstate_of(exc: BaseException) -> str | None:
    """The SQLSTATE an exception carries (psycopg: sqlstate, psycopg2: pgcode, dsql: sqlstate)."""
    for attr in ("sqlstate", "pgcode"):
        code = getattr(exc, attr, None)
        if isinstance(code, str) and len(code) == 5:
            return code
    return None


def parse_list(text: object) -> tuple[int, ...]:
    """The stored comma-separated text -> the list of ints ('' / NULL -> [])."""
    if text is None or text == "":
        return ()
    if not isinstance(text, str):
        raise TypeError(f"the list column holds text, not {text!r}")
    return tuple(int(x) for x in text.split(","))


class _Recorder:
    """The shared history under one lock; values and op indices are handed out here."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ops: list[Op] = []
        self.errors: list[str] = []
        self.next_value = 1
        self.t0_ns = time.monotonic_ns()

    def record(self, kind: str, process: int, mops: Sequence[MicroOp]) -> None:
        with self.lock:
            self.ops.append(Op(index=len(self.ops), type=kind, value=tuple(mops),
                               process=process, time_ns=time.monotonic_ns() - self.t0_ns))

    def values(self, template: Sequence[tuple[str, int]]) -> list[MicroOp]:
        with self.lock:
            out = []
            for f, key in template:
                if f == APPEND:
                    out.append(MicroOp(APPEND, key, self.next_value))
                    self.next_value += 1
                else:
                    out.append(MicroOp(READ, key, None))
            return out

    def error(self, text: str) -> None:
        with self.lock:
            if len(self.errors) < ERRORS_KEPT_MAX:
                self.errors.append(text)


def _statements(table: str, m: MicroOp) -> str:
    if m.f == READ:
        return f"SELECT v FROM {table} WHERE k = {int(m.key)}"
    assert isinstance(m.value, int)
    return (f"INSERT INTO {table} (k, v) VALUES ({int(m.key)}, '{int(m.value)}') "
            f"ON CONFLICT (k) DO UPDATE SET v = {table}.v || ',' || EXCLUDED.v")


def _run_txn(conn: Any, table: str, mops: Sequence[MicroOp]
             ) -> tuple[str, list[MicroOp], BaseException | None]:
    """Runs one transaction; returns (ok|fail|info, micro-ops with reads filled, error)."""
    done: list[MicroOp] = []
    try:
        cur = conn.cursor()
        try:
            for m in mops:
                cur.execute(_statements(table, m))
                if m.f == READ:
                    row = cur.fetchone()
                    done.append(MicroOp(READ, m.key, parse_list(None if row is None else row[0])))
                else:
                    done.append(m)
        finally:
            cur.close()
    except Exception as exc:  # any driver error aborts the transaction
        try:
            conn.rollback()
        except Exception:  # the connection may be gone; the caller replaces it
            pass
        return FAIL, done, exc
    try:
        conn.commit()
    except Exception as exc:
        return (FAIL if sqlstate_of(exc) in RETRYABLE_SQLSTATES else INFO), done, exc
    assert len(done) == len(mops)
    return OK, done, None


def _close(conn: Any) -> None:
    try:
        conn.close()
    except Exception:
        pass


def _client(connect: Connect, rec: _Recorder, templates: list[list[tuple[str, int]]],
            next_template: Callable[[], int | None], process: int, clients: int, table: str,
            attempts_max: int) -> None:
    conn = connect()
    try:
        for _ in range(TXNS_MAX):
            i = next_template()
            if i is None:
                break
            for _attempt in range(attempts_max):
                mops = rec.values(templates[i])
                rec.record(INVOKE, process, mops)
                outcome, done, exc = _run_txn(conn, table, mops)
                if outcome == OK:
                    rec.record(OK, process, done)
                    break
                rec.record(outcome, process, mops)
                assert exc is not None
                if outcome == FAIL and sqlstate_of(exc) in RETRYABLE_SQLSTATES:
                    continue
                rec.error(f"process {process}: {outcome} on {type(exc).__name__}: {exc}")
                if outcome == INFO:
                    process += clients  # a new identity: the old op may still be in flight
                _close(conn)
                conn = connect()
                break
    except Exception as exc:  # e.g. connect() failed: the run reports it
        rec.error(f"process {process}: client stopped: {type(exc).__name__}: {exc}")
    finally:
        _close(conn)


def run_list_append(connect: Connect, clients: int = 4, txns: int = 100, keys: int = 4,
                    seed: int = 0, *, mops_max: int = 4, read_fraction: float = 0.5,
                    attempts_max: int = 10, table: str = "lists",
                    final_read: bool = True, skew_fraction: float = 0.0) -> ListAppendRun:
    """Runs the list-append workload (see the module docstring) and returns its history.

    REQUIRES: 1 <= clients <= CLIENTS_MAX, 0 <= txns <= TXNS_MAX, keys >= 1, mops_max >= 1,
    `table` a plain identifier. The table is created if missing and emptied first.
    `skew_fraction` of the transactions have the write-skew shape: read two keys, append to
    one of them (two such transactions over the same pair, concurrent, are a G2-item).

    Example::

        run = run_list_append(lambda: psycopg.connect(dsn), clients=4, txns=200, keys=4)
        assert check(run.history).valid
    """
    if not (1 <= clients <= CLIENTS_MAX and 0 <= txns <= TXNS_MAX and keys >= 1
            and mops_max >= 1 and attempts_max >= 1 and 0.0 <= read_fraction <= 1.0
            and 0.0 <= skew_fraction <= 1.0 and (keys >= 2 or skew_fraction == 0.0)):
        raise ValueError("need 1 <= clients <= 256, 0 <= txns, keys >= 1, mops_max >= 1, "
                         "attempts_max >= 1, 0 <= read_fraction <= 1, 0 <= skew_fraction <= 1 "
                         "(and keys >= 2 for skew)")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", table):
        raise ValueError(f"table must be a plain identifier, not {table!r}")
    _prepare(connect, table)
    rng = random.Random(seed)
    templates = [_template(rng, keys, mops_max, read_fraction, skew_fraction)
                 for _ in range(txns)]
    rec = _Recorder()
    cursor = iter(range(txns))
    cursor_lock = threading.Lock()

    def next_template() -> int | None:
        with cursor_lock:
            return next(cursor, None)

    threads = [threading.Thread(target=_client, name=f"list-append-{p}",
                                args=(connect, rec, templates, next_template, p, clients, table,
                                      attempts_max))
               for p in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if final_read:
        last = max((op.process for op in rec.ops if isinstance(op.process, int)),
                   default=clients - 1)
        _final_read(connect, rec, table, keys, process=last + 1)
    invokes = sum(1 for op in rec.ops if op.type == INVOKE)
    assert 2 * invokes == len(rec.ops), "every invoke got its completion"
    return ListAppendRun(history=rec.ops, errors=rec.errors)


def _template(rng: random.Random, keys: int, mops_max: int, read_fraction: float,
              skew_fraction: float) -> list[tuple[str, int]]:
    """One transaction's shape: random reads and appends, or (skew_fraction of the time)
    read k1, read k2, append to one of them. No extra random draws when skew_fraction == 0,
    so seeds give the same runs as before the option existed."""
    if skew_fraction > 0.0 and rng.random() < skew_fraction:
        k1, k2 = rng.sample(range(keys), 2)
        return [(READ, k1), (READ, k2), (APPEND, rng.choice((k1, k2)))]
    return [(READ if rng.random() < read_fraction else APPEND, rng.randrange(keys))
            for _ in range(rng.randint(1, mops_max))]


def _prepare(connect: Connect, table: str) -> None:
    conn = connect()
    try:
        cur = conn.cursor()
        cur.execute(f"CREATE TABLE IF NOT EXISTS {table} (k int PRIMARY KEY, v text)")
        conn.commit()
        cur.execute(f"DELETE FROM {table}")
        conn.commit()
        cur.close()
    finally:
        _close(conn)


def _final_read(connect: Connect, rec: _Recorder, table: str, keys: int, process: int) -> None:
    conn = connect()
    try:
        mops = [MicroOp(READ, k, None) for k in range(keys)]
        for _ in range(10):
            rec.record(INVOKE, process, mops)
            outcome, done, exc = _run_txn(conn, table, mops)
            rec.record(outcome, process, done if outcome == OK else mops)
            if outcome == OK:
                return
            rec.error(f"final read: {outcome} on {type(exc).__name__}: {exc}")
            if outcome == INFO:
                process += 1
        rec.error("final read: gave up")
    finally:
        _close(conn)
