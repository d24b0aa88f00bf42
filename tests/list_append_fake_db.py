"""A fake PEP 249 driver over the simulated engine, for testing the list-append runner.

It understands exactly the statements dsql.verify.workload issues (CREATE TABLE IF NOT EXISTS,
DELETE, the point SELECT, the upsert append) and nothing else. A transaction begins at its
first statement; COMMIT that loses the conflict check raises an error with SQLSTATE 40001.
Faults can be injected: `lost_ack_every` makes every n-th writing COMMIT commit and then raise
a connection error (outcome unknown to the client); `statement_error_every` makes every n-th
statement raise a non-retryable error. Statements yield the GIL (time.sleep(0)) so client
threads interleave.

Thread-safety: one lock guards the engine; each connection belongs to one thread.
"""

from __future__ import annotations

import random
import re
import threading
import time

from dsql.verify.sim_engine import Flaw, SimEngine, SimTxn

SELECT = re.compile(r"SELECT v FROM (\w+) WHERE k = (\d+)$")
APPEND = re.compile(r"INSERT INTO (\w+) \(k, v\) VALUES \((\d+), '(\d+)'\) ON CONFLICT \(k\) "
                    r"DO UPDATE SET v = \1\.v \|\| ',' \|\| EXCLUDED\.v$")


class FakeError(Exception):
    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


class FakeDB:
    def __init__(self, flaw: Flaw = Flaw.NONE, *, lost_ack_every: int = 0,
                 statement_error_every: int = 0) -> None:
        self.flaw = flaw
        self.lock = threading.Lock()
        self.engine = SimEngine(flaw, random.Random(0))
        self.lost_ack_every = lost_ack_every
        self.statement_error_every = statement_error_every
        self.commits = 0
        self.statements = 0
        self.connections = 0

    def connect(self) -> FakeConnection:
        with self.lock:
            self.connections += 1
        return FakeConnection(self)


class FakeConnection:
    def __init__(self, db: FakeDB) -> None:
        self.db = db
        self.txn: SimTxn | None = None
        self.closed = False

    def cursor(self) -> FakeCursor:
        assert not self.closed
        return FakeCursor(self)

    def _txn(self) -> SimTxn:
        if self.txn is None:
            self.txn = self.db.engine.begin()
        return self.txn

    def commit(self) -> None:
        time.sleep(0)
        with self.db.lock:
            txn, self.txn = self.txn, None
            if txn is None:
                return
            writes = bool(txn.writes)
            if not self.db.engine.commit(txn):
                raise FakeError("change conflicts with another transaction (OC000)", "40001")
            if writes:
                self.db.commits += 1
                if self.db.lost_ack_every and self.db.commits % self.db.lost_ack_every == 0:
                    raise FakeError("connection lost during COMMIT", "08006")

    def rollback(self) -> None:
        with self.db.lock:
            if self.txn is not None and self.txn.active:
                self.db.engine.abort(self.txn)
            self.txn = None

    def close(self) -> None:
        self.rollback()
        self.closed = True


class FakeCursor:
    def __init__(self, conn: FakeConnection) -> None:
        self.conn = conn
        self.row: tuple[object, ...] | None = None

    def execute(self, sql: str) -> None:
        time.sleep(0)
        db = self.conn.db
        with db.lock:
            db.statements += 1
            if db.statement_error_every and db.statements % db.statement_error_every == 0:
                raise FakeError("injected statement failure", "XX000")
            if sql.startswith("CREATE TABLE IF NOT EXISTS "):
                return
            if sql.startswith("DELETE FROM "):
                db.engine = SimEngine(db.flaw, random.Random(0))
                self.conn.txn = None
                return
            if m := SELECT.match(sql):
                value = db.engine.read(self.conn._txn(), int(m.group(2)))
                self.row = (",".join(map(str, value)),) if value else None
                return
            if m := APPEND.match(sql):
                db.engine.append(self.conn._txn(), int(m.group(2)), int(m.group(3)))
                return
        raise FakeError(f"fake driver does not understand {sql!r}", "42601")

    def fetchone(self) -> tuple[object, ...] | None:
        row, self.row = self.row, None
        return row

    def close(self) -> None:
        self.row = None
