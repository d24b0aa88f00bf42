"""Cursor: execute / executemany with psycopg-style parameters, fetch*, description."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from dsql.dbapi import params as dbparams
from dsql.dbapi.exceptions import InterfaceError, ProgrammingError, translate
from dsql.errors import DsqlError

if TYPE_CHECKING:
    from dsql.dbapi.connection import Connection

_BEGIN = "BEGIN"
_ROWCOUNTS_MAX = 1024
_rowcounts: dict[str, int] = {}  # command tag -> rowcount, for the tags seen most


def _rowcount(tag: str) -> int:
    """The rowcount a command tag reports ("UPDATE 1" -> 1, "BEGIN" -> -1), remembered."""
    last = tag.rsplit(" ", 1)[-1]
    rowcount = int(last) if last.isdigit() else -1
    if len(_rowcounts) >= _ROWCOUNTS_MAX:
        _rowcounts.clear()
    _rowcounts[tag] = rowcount
    return rowcount


class Cursor:
    arraysize = 1

    def __init__(self, conn: Connection) -> None:
        self.connection = conn
        self._rows: list[tuple[Any, ...]] = []
        self._pos = 0
        self.description: list[tuple[Any, ...]] | None = None
        self.rowcount = -1
        self.statusmessage: str | None = None
        self.closed = False
        self._desc_of: object = None
        self._desc: list[tuple[Any, ...]] = []

    def execute(self, query: str, params: Sequence[Any] | dict[str, Any] | None = None
                ) -> Cursor:
        conn = self.connection
        if self.closed or conn.closed:
            raise InterfaceError("the cursor is closed")
        if type(params) is tuple or type(params) is list:
            sql, n = dbparams.convert(query)
            if n != len(params):
                sql, values = dbparams.bind(query, params)  # raises the right error
            values = params
        else:
            sql, values = dbparams.bind(query, params) if params is not None else (query, ())
        session = conn.session
        try:
            if not conn.autocommit and not session.in_block:
                session.execute(_BEGIN)
            res = session.execute(sql, values)
        except DsqlError as e:
            raise translate(e) from e
        cols = res.columns
        if cols is None:
            self.description = None  # (fetch* refuse to read the rows then)
        else:
            if cols is not self._desc_of:
                self._desc_of = cols
                self._desc = [(c.name, c.type_oid, None, None, None, None, None) for c in cols]
            self.description = self._desc
        self._rows = res.rows
        self._pos = 0
        tag = res.command_tag
        self.statusmessage = tag
        rowcount = _rowcounts.get(tag)
        if rowcount is None:
            rowcount = _rowcount(tag)
        self.rowcount = rowcount
        return self

    def executemany(self, query: str, seq: Sequence[Any]) -> None:
        total = 0
        for p in seq:
            self.execute(query, p)
            if self.rowcount > 0:
                total += self.rowcount
        self.rowcount = total

    def fetchone(self) -> tuple[Any, ...] | None:
        if self.description is None:
            raise ProgrammingError("the last operation didn't produce a result")
        if self._pos >= len(self._rows):
            return None
        row = self._rows[self._pos]
        self._pos += 1
        return row

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        if self.description is None:
            raise ProgrammingError("the last operation didn't produce a result")
        n = self.arraysize if size is None else size
        rows = self._rows[self._pos:self._pos + n]
        self._pos += len(rows)
        return rows

    def fetchall(self) -> list[tuple[Any, ...]]:
        if self.description is None:
            raise ProgrammingError("the last operation didn't produce a result")
        rows = self._rows[self._pos:]
        self._pos = len(self._rows)
        return rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        while (row := self.fetchone()) is not None:
            yield row

    def close(self) -> None:
        self.closed = True

    def setinputsizes(self, sizes: Any) -> None:
        pass

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        pass

    def __enter__(self) -> Cursor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
