"""Running statements on dsql and on PostgreSQL and comparing what they answer.

An Outcome is what a client sees: the column count and the rows as PostgreSQL text output
(None for NULL), or the error's SQLSTATE. PostgreSQL is read through psycopg with every type
loaded as its text output; dsql's values go through the types' output functions (the same
ones the wire server uses), so both sides are compared as text, float8 included (both print
the shortest text that round-trips; the server runs with extra_float_digits=1).

A Case is one statement (query or DML). Queries run in autocommit; a DML statement runs in a
transaction that then reads every table (ordered totally) and rolls back, so the database is
the same before every case and each case can be replayed alone.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import psycopg
from psycopg.adapt import Loader

from dsql.engine import Database
from dsql.errors import DsqlError
from dsql.server.values import text_encoder
from dsql.session import Session

MAX_ROWS = 100_000


@dataclass(frozen=True)
class Outcome:
    columns: int = 0
    rows: tuple[tuple[str | None, ...], ...] = ()
    sqlstate: str | None = None
    message: str = ""
    types: tuple[int, ...] = ()  # the columns' type OIDs
    names: tuple[str, ...] = ()  # the columns' names

    def show(self, limit: int = 12) -> str:
        if self.sqlstate is not None:
            return f"ERROR {self.sqlstate}: {self.message}"
        body = "\n".join(f"      {row}" for row in self.rows[:limit])
        more = f"\n      ... {len(self.rows) - limit} more" if len(self.rows) > limit else ""
        return f"{self.columns} columns, {len(self.rows)} rows\n{body}{more}"


@dataclass
class Case:
    """One generated statement; `ordered` when its ORDER BY makes the row order total."""

    sql: str
    ordered: bool = False
    dml: bool = False
    # the engine picks one of several equal values to show (DISTINCT, set operations,
    # GROUP BY keys): numeric 2 and 2.000 are then interchangeable
    loose: bool = False
    tables: list[tuple[str, str]] = field(default_factory=list)  # (table, total ORDER BY)


class _TextLoader(Loader):
    def load(self, data: Any) -> str:
        return bytes(data).decode("utf-8")


class PgSide:
    """PostgreSQL through psycopg, autocommit, every value loaded as text."""

    def __init__(self, dsn: str) -> None:
        self.conn = psycopg.connect(dsn, autocommit=True)
        for info in psycopg.postgres.types:
            self.conn.adapters.register_loader(info.oid, _TextLoader)
            if info.array_oid:
                self.conn.adapters.register_loader(info.array_oid, _TextLoader)
        self.conn.execute("SET TimeZone = 'UTC'")
        self.conn.execute("SET extra_float_digits = 1")
        self.conn.execute("SET DateStyle = 'ISO, MDY'")

    def run(self, sql: str) -> Outcome:
        try:
            cur = self.conn.execute(sql.encode())
        except psycopg.Error as e:
            return Outcome(sqlstate=e.sqlstate or "?????", message=str(e).splitlines()[0])
        if cur.description is None:
            return Outcome()
        rows = cur.fetchall()
        assert len(rows) <= MAX_ROWS
        return Outcome(len(cur.description), tuple(tuple(r) for r in rows),
                       types=tuple(d.type_code for d in cur.description),
                       names=tuple(d.name for d in cur.description))

    def close(self) -> None:
        self.conn.close()


class DsqlSide:
    """dsql's embedded engine: one in-memory database and one session."""

    def __init__(self) -> None:
        self.db = Database.open(":memory:")
        self.session = Session(self.db)
        self.session.execute("SET TimeZone = 'UTC'")

    def run(self, sql: str) -> Outcome:
        s = self.session
        try:
            res = s.execute(sql)
        except DsqlError as e:
            return Outcome(sqlstate=e.sqlstate, message=str(e).splitlines()[0] if str(e) else "")
        if res.columns is None:
            return Outcome()
        encs = [text_encoder(c.type_oid, s._ctx) for c in res.columns]
        rows = tuple(tuple(None if v is None else enc(v).decode("utf-8")
                           for enc, v in zip(encs, row, strict=True)) for row in res.rows)
        assert len(rows) <= MAX_ROWS
        return Outcome(len(res.columns), rows, types=tuple(c.type_oid for c in res.columns),
                       names=tuple(c.name for c in res.columns))

    def close(self) -> None:
        self.session.close()
        self.db.close()


def run_case(side: PgSide | DsqlSide, case: Case) -> list[Outcome]:
    """The outcomes of a case: [statement] for a query; for DML also each table afterwards."""
    if not case.dml:
        return [side.run(case.sql)]
    begin = side.run("BEGIN")
    assert begin.sqlstate is None, begin
    outs = [side.run(case.sql)]
    if outs[0].sqlstate is None:
        for table, order in case.tables:
            outs.append(side.run(f"SELECT * FROM {table} ORDER BY {order}"))
    end = side.run("ROLLBACK")
    assert end.sqlstate is None, end
    return outs


def _tie_key(types: tuple[int, ...]) -> Callable[[tuple[str | None, ...]], tuple[Any, ...]]:
    """Row -> a key under which values that compare equal in SQL are equal: numeric 1.50 and
    1.5, float8 -0 and 0, interval '1 day' and '24:00:00' are ties an ORDER BY may leave in
    either order."""
    norms = [_NORMALIZE.get(t) for t in types]

    def key(row: tuple[str | None, ...]) -> tuple[Any, ...]:
        return tuple(v if f is None or v is None else f(v)
                     for v, f in zip(row, norms, strict=True))
    return key


def _norm_numeric(v: str) -> Any:
    try:
        d = Decimal(v)
    except InvalidOperation:
        return v
    return v if d.is_nan() else d


def _norm_float(v: str) -> Any:
    return 0.0 if v in ("0", "-0") else v


def _norm_interval(v: str) -> Any:
    """PostgreSQL compares intervals as months*30 days + days, 24 h a day, in microseconds."""
    m = _INTERVAL.fullmatch(v)
    if m is None:
        return v
    units = {"year": 360 * 86400 * 10**6, "mon": 30 * 86400 * 10**6, "day": 86400 * 10**6}
    total = 0
    for n, unit in _INTERVAL_PART.findall(m.group(1) or ""):
        total += int(n) * units[unit.rstrip("s")]
    if m.group(2):
        sign = -1 if m.group(2).startswith("-") else 1
        h, mi, sec = m.group(2).lstrip("+-").split(":")
        total += sign * ((int(h) * 3600 + int(mi) * 60) * 10**6 + int(Decimal(sec) * 10**6))
    return ("interval", total)


_INTERVAL = re.compile(r"((?:-?\d+ (?:years?|mons?|days?) ?)*)([+-]?\d+:\d\d:\d\d(?:\.\d+)?)?")
_INTERVAL_PART = re.compile(r"(-?\d+) (years?|mons?|days?)")
_NORMALIZE: dict[int, Callable[[str], Any]] = {1700: _norm_numeric, 701: _norm_float,
                                                700: _norm_float, 1186: _norm_interval}


def same(case: Case, pg: Outcome, mine: Outcome, ordered: bool) -> bool:
    if pg.sqlstate is not None or mine.sqlstate is not None:
        return pg.sqlstate == mine.sqlstate
    if pg.columns != mine.columns or pg.types != mine.types or pg.names != mine.names:
        return False
    key = _tie_key(pg.types)
    if Counter(pg.rows) != Counter(mine.rows):
        if not case.loose:
            return False
        if Counter(map(key, pg.rows)) != Counter(map(key, mine.rows)):
            return False
    if not ordered or pg.rows == mine.rows:
        return True
    # the same multiset in another order: acceptable only if it differs within ties
    return [key(row) for row in pg.rows] == [key(row) for row in mine.rows]


def compare(case: Case, pg: list[Outcome], mine: list[Outcome]) -> str | None:
    """None when the outcomes agree, else a description of the first difference."""
    for i, (p, m) in enumerate(zip(pg, mine, strict=False)):
        ordered = case.ordered if i == 0 else True
        if not same(case, p, m, ordered):
            what = "result" if i == 0 else f"table {case.tables[i - 1][0]} afterwards"
            how = "in order" if ordered else "as multisets"
            types = ""
            if p.sqlstate is None and m.sqlstate is None and p.types != m.types:
                types = f"\n    column types: pg {p.types}, dsql {m.types}"
            if p.sqlstate is None and m.sqlstate is None and p.names != m.names:
                types += f"\n    column names: pg {p.names}, dsql {m.names}"
            return (f"{what} differs ({how}):\n    pg:   {p.show()}\n    dsql: {m.show()}"
                    f"{types}")
    if len(pg) != len(mine):
        return f"pg gave {len(pg)} outcomes, dsql {len(mine)}"
    return None
