"""Connection: one dsql Session over a shared Database (one per data directory per process)."""

from __future__ import annotations

import os
from typing import Any

from dsql.dbapi.cursor import Cursor
from dsql.dbapi.exceptions import InterfaceError, translate
from dsql.engine import Database, DatabaseOptions
from dsql.errors import DsqlError
from dsql.session import Session
from dsql.txn.limits import Limits


def connect(path: str | os.PathLike[str] = ":memory:", *, autocommit: bool = False,
            durability: str = "fdatasync", limits: Limits | None = None) -> Connection:
    """Opens a data directory (":memory:" for a throwaway database) and a session on it.
    `durability` and `limits` apply when this call opens the directory first."""
    opts = DatabaseOptions(durability=durability, limits=limits or Limits())
    db = Database.open(path, opts)
    return Connection(db, autocommit)


class Connection:
    def __init__(self, db: Database, autocommit: bool = False) -> None:
        self._db = db
        self.session = Session(db)
        self.autocommit = autocommit
        self.closed = False

    # -- PEP 249 --------------------------------------------------------------------------------
    def cursor(self) -> Cursor:
        self._check()
        return Cursor(self)

    def commit(self) -> None:
        self._check()
        if self.session.in_block:
            self._run("COMMIT")

    def rollback(self) -> None:
        self._check()
        if self.session.in_block:
            self._run("ROLLBACK")

    def close(self) -> None:
        if self.closed:
            return
        if self.session.in_block:
            self.session.execute("ROLLBACK")
        self.session.close()
        self._db.close()
        self.closed = True

    def execute(self, query: str, params: Any = None) -> Cursor:
        cur = self.cursor()
        cur.execute(query, params)
        return cur

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self.closed:
            return
        if exc_type is None:
            self.commit()
        else:
            self.rollback()
        self.close()

    # -- internals -------------------------------------------------------------------------------
    def _check(self) -> None:
        if self.closed:
            raise InterfaceError("the connection is closed")

    def _run(self, sql: str) -> None:
        try:
            self.session.execute(sql)
        except DsqlError as e:
            raise translate(e) from e
