"""A TEST-ONLY backend for the wire-protocol server: a toy SQL interpreter, not dsql's engine.

Goal: give the protocol tests something real clients can talk to before the SQL engine is
wired in. It implements dsql.server.backend's Session/Backend shapes for a handful of
statement forms (matched by regular expressions), enough to drive every protocol path:

    SELECT <items>            items: $n[::type], '<literal>'::type, '<literal>', integers,
                              NULL, [AS name]; e.g. SELECT $1::numeric, 'x'::bytea AS b
    SELECT $1::int4 + 1       arithmetic on one parameter
    SELECT 1/0                22012 division_by_zero
    SELECT generate_series(a, b)      b - a + 1 rows
    SELECT pg_sleep(s)        waits, cancellable (57014)
    SELECT notice('text')     one NoticeResponse, one row
    SELECT version()
    SELECT arm_sync_failure()  the next Sync fails with 40001 (as a commit conflict would)
    SELECT id, name FROM items [WHERE id = $1|n] [ORDER BY id]
    INSERT INTO items VALUES (a, b)[, (c, d)...]   (parameters or literals)
    DELETE FROM items
    COPY items FROM STDIN [(FORMAT csv)] / COPY items TO STDOUT [(FORMAT csv)]
    BEGIN / START TRANSACTION / COMMIT / END / ROLLBACK    (I/T/E status, 25P02 when failed)
    SET name = value / SET name TO value / SHOW name
    anything else: 42601 syntax error with a position

The `items (id int4, name text)` table is shared by all sessions of one backend; a transaction
block snapshots it at BEGIN and restores it at ROLLBACK (no isolation: it is a test fixture).
The server code never imports this module.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsql.errors import DivisionByZero, DsqlError, SqlSyntaxError
from dsql.server.backend import ClientChannel, StartupInfo
from dsql.server.copyformat import CopyFormat, RowDecoder, encode_rows
from dsql.server.errors import QueryCanceled
from dsql.sql.types import registry

ITEMS_OID = 16384
INT4, TEXT, VOID = 23, 25, 2278
_EXTRA_TYPES = {"name": 19, "oid": 26, '"char"': 18}
SLEEP_MAX_S = 30.0


class InFailedTransaction(DsqlError):
    sqlstate = "25P02"


class UndefinedTable(DsqlError):
    sqlstate = "42P01"


@dataclass
class Col:
    name: str
    type_oid: int
    typmod: int = -1
    table_oid: int = 0
    column_no: int = 0


@dataclass
class Prep:
    sql: str
    param_type_oids: list[int]
    columns: list[Col] | None


@dataclass
class Result:
    columns: list[Col] | None
    rows: list[tuple[Any, ...]]
    command_tag: str
    notices: list[DsqlError] = field(default_factory=list)
    parameter_changes: dict[str, str] = field(default_factory=dict)


ITEM_COLUMNS = [Col("id", INT4, -1, ITEMS_OID, 1), Col("name", TEXT, -1, ITEMS_OID, 2)]


def type_oid(name: str) -> int:
    low = name.lower()
    if low in _EXTRA_TYPES:
        return _EXTRA_TYPES[low]
    return registry.lookup_type(low).oid


def _input(oid: int, text: str) -> Any:
    if oid in (19, 18):
        return text
    if oid == 26:
        return int(text)
    return registry.type_by_oid(oid).input(text)


def split_script(sql: str) -> list[str]:
    """Statements separated by ';' outside single quotes; empty ones dropped."""
    out, cur, quoted = [], [], False
    for c in sql:
        if c == "'":
            quoted = not quoted
        if c == ";" and not quoted:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    out.append("".join(cur))
    return [s.strip() for s in out if s.strip()]


def split_items(text: str) -> list[str]:
    out, cur, depth, quoted = [], [], 0, False
    for c in text:
        if c == "'":
            quoted = not quoted
        elif not quoted and c == "(":
            depth += 1
        elif not quoted and c == ")":
            depth -= 1
        if c == "," and not quoted and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
    out.append("".join(cur).strip())
    return out


_ITEM_RE = re.compile(
    r"""(?:\$(?P<param>\d+)|'(?P<lit>(?:[^']|'')*)'|(?P<int>-?\d+)|(?P<null>null))
        (?:::(?P<type>"char"|[a-z_][a-z0-9_ ]*?(?:\(\d+\))?))?
        (?:\s+as\s+(?P<alias>\w+))?$""", re.IGNORECASE | re.VERBOSE)
_PLUS_RE = re.compile(r"select \$(\d+)::(\w+) \+ (\d+)$", re.IGNORECASE)
_SERIES_RE = re.compile(r"select generate_series\((\d+),\s*(\d+)\)$", re.IGNORECASE)
_SLEEP_RE = re.compile(r"select pg_sleep\(([\d.]+)\)$", re.IGNORECASE)
_NOTICE_RE = re.compile(r"select notice\('([^']*)'\)$", re.IGNORECASE)
_ITEMS_SELECT_RE = re.compile(
    r"select id, name from items(?: where id = (\$1|\d+))?( order by id)?$", re.IGNORECASE)
_INSERT_RE = re.compile(r"insert into items values (.+)$", re.IGNORECASE | re.DOTALL)
_SET_RE = re.compile(r"set (?:session )?(\w+)\s*(?:=|to)\s*(.+)$", re.IGNORECASE)
_SHOW_RE = re.compile(r"show (\w+)$", re.IGNORECASE)
_COPY_RE = re.compile(
    r"copy\s+items\s+(from\s+stdin|to\s+stdout)(?:\s+(?:with\s+)?(\(format csv\)|csv))?\s*$",
    re.IGNORECASE)
_PARAM_RE = re.compile(r"\$(\d+)(?:::(\w+))?")


class TestDatabase:
    """State shared by the sessions of one backend."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: list[tuple[int | None, str | None]] = []
        self.sessions_opened = 0
        self.sessions_closed = 0
        self.closed = False


class TestSession:
    def __init__(self, db: TestDatabase, startup: StartupInfo, client: ClientChannel) -> None:
        self.db = db
        self.startup = startup
        self.client = client
        self.transaction_status = "I"
        self._snapshot: list[tuple[int | None, str | None]] | None = None
        self._settings: dict[str, str] = {"TimeZone": "UTC", "DateStyle": "ISO, MDY",
                                          "statement_timeout": "0"}
        self._settings.update(startup.settings)
        self._cancel = threading.Event()
        self._running = False
        self.closed = False
        self.sync_calls = 0
        self._fail_sync = False

    # -- Session protocol ------------------------------------------------------------------

    def parameter_status(self) -> Mapping[str, str]:
        return {"server_version": "16.4", "TimeZone": self._settings["TimeZone"],
                "DateStyle": self._settings["DateStyle"]}

    def execute_script(self, sql: str) -> Iterator[Result]:
        for stmt in split_script(sql):
            yield self._guarded(stmt, [])

    def prepare(self, sql: str, param_type_oids: Sequence[int] = ()) -> Prep:
        stmt = sql.strip().rstrip(";").strip()
        found: dict[int, int] = {}
        for num, typ in _PARAM_RE.findall(stmt):
            n = int(num)
            if typ:
                found[n] = type_oid(typ)
            else:
                found.setdefault(n, 0)
        if _INSERT_RE.match(stmt):
            for n in found:
                found[n] = found[n] or (INT4 if n % 2 == 1 else TEXT)
        m = _ITEMS_SELECT_RE.match(stmt)
        if m and m.group(1) == "$1":
            found[1] = found.get(1) or INT4
        count = max(found, default=0)
        oids = [found.get(i + 1, 0) or TEXT for i in range(count)]
        for i, o in enumerate(param_type_oids[:count]):
            if o not in (0, 705):
                oids[i] = o
        columns = self._describe(stmt, oids)
        return Prep(stmt, oids, columns)

    def execute_prepared(self, prepared: Prep, params: Sequence[object]) -> Result:
        return self._guarded(prepared.sql, list(params))

    def sync(self) -> None:
        """The end of an extended-protocol implicit transaction."""
        self.sync_calls += 1
        if self._fail_sync:
            self._fail_sync = False
            raise DsqlError("change conflicts with another transaction (OC000)",
                            sqlstate="40001")

    def cancel(self) -> None:
        if self._running:
            self._cancel.set()

    def close(self) -> None:
        assert not self.closed, "session closed twice"
        self.closed = True
        if self._snapshot is not None:
            with self.db.lock:
                self.db.items = self._snapshot
        with self.db.lock:
            self.db.sessions_closed += 1

    # -- execution -------------------------------------------------------------------------

    def _guarded(self, stmt: str, params: list[Any]) -> Result:
        low = stmt.lower()
        if self.transaction_status == "E" and low not in ("rollback", "commit", "end"):
            raise InFailedTransaction("current transaction is aborted, commands ignored until "
                                      "end of transaction block")
        self._cancel.clear()
        self._running = True
        try:
            return self._run(stmt, params)
        except DsqlError:
            if self.transaction_status == "T":
                self.transaction_status = "E"
            raise
        finally:
            self._running = False

    def _describe(self, stmt: str, oids: list[int]) -> list[Col] | None:
        low = stmt.lower()
        if _PLUS_RE.match(stmt):
            return [Col("?column?", INT4)]
        if _SERIES_RE.match(stmt):
            return [Col("generate_series", INT4)]
        if _SLEEP_RE.match(stmt):
            return [Col("pg_sleep", VOID)]
        if low == "select arm_sync_failure()":
            return [Col("arm_sync_failure", INT4)]
        if _NOTICE_RE.match(stmt) or low == "select version()":
            return [Col("notice" if "notice" in low else "version", TEXT)]
        if _ITEMS_SELECT_RE.match(stmt):
            return list(ITEM_COLUMNS)
        if _SHOW_RE.match(stmt):
            return [Col(_SHOW_RE.match(stmt).group(1).lower(), TEXT)]  # type: ignore[union-attr]
        if low.startswith("select ") and low != "select 1/0":
            return [self._item(item, oids, [])[0] for item in split_items(stmt[7:])]
        if low == "select 1/0":
            return [Col("?column?", INT4)]
        return None

    def _item(self, item: str, oids: list[int], params: list[Any]) -> tuple[Col, Any]:
        m = _ITEM_RE.match(item.strip())
        if m is None:
            raise SqlSyntaxError(f'syntax error at or near "{item.split()[0]}"')
        typ = m.group("type")
        alias = m.group("alias")
        if m.group("param"):
            n = int(m.group("param"))
            oid = type_oid(typ) if typ else (oids[n - 1] if n <= len(oids) else TEXT)
            value = params[n - 1] if params else None
            return Col(alias or (typ or "?column?"), oid), value
        if m.group("null"):
            return Col(alias or "?column?", type_oid(typ) if typ else TEXT), None
        if m.group("int") is not None:
            oid = type_oid(typ) if typ else INT4
            return Col(alias or "?column?", oid), _input(oid, m.group("int"))
        text = m.group("lit").replace("''", "'")
        name = alias or (typ.split("(")[0] if typ else "?column?")
        if typ and "(" in typ:  # char(5) and friends: apply the typmod
            base, mod = typ.split("(")
            t = registry.lookup_type(base, [int(mod.rstrip(")"))])
            return Col(name, t.oid, t.typmod), t.input(text)
        oid = type_oid(typ) if typ else TEXT
        return Col(name, oid), _input(oid, text)

    def _run(self, stmt: str, params: list[Any]) -> Result:
        low = stmt.lower()
        if low in ("begin", "begin transaction", "begin work", "start transaction"):
            notices = []
            if self.transaction_status != "I":
                notices.append(DsqlError("there is already a transaction in progress",
                                         sqlstate="25001"))
            else:
                with self.db.lock:
                    self._snapshot = list(self.db.items)
                self.transaction_status = "T"
            return Result(None, [], "BEGIN", notices=notices)
        if low in ("commit", "end", "rollback"):
            failed = self.transaction_status == "E"
            if low == "rollback" or failed:
                if self._snapshot is not None:
                    with self.db.lock:
                        self.db.items = self._snapshot
            self._snapshot = None
            self.transaction_status = "I"
            return Result(None, [], "ROLLBACK" if (low == "rollback" or failed) else "COMMIT")
        if low == "select 1/0":
            raise DivisionByZero("division by zero")
        m = _PLUS_RE.match(stmt)
        if m:
            return Result([Col("?column?", INT4)], [(int(params[0]) + int(m.group(3)),)],
                          "SELECT 1")
        m = _SERIES_RE.match(stmt)
        if m:
            rows = [(i,) for i in range(int(m.group(1)), int(m.group(2)) + 1)]
            return Result([Col("generate_series", INT4)], rows, f"SELECT {len(rows)}")
        m = _SLEEP_RE.match(stmt)
        if m:
            if self._cancel.wait(min(float(m.group(1)), SLEEP_MAX_S)):
                raise QueryCanceled("canceling statement due to user request")
            return Result([Col("pg_sleep", VOID)], [("",)], "SELECT 1")
        m = _NOTICE_RE.match(stmt)
        if m:
            return Result([Col("notice", TEXT)], [(m.group(1),)], "SELECT 1",
                          notices=[DsqlError(m.group(1), sqlstate="00000",
                                             hint="a notice from the test backend")])
        if low == "select arm_sync_failure()":
            self._fail_sync = True
            return Result([Col("arm_sync_failure", INT4)], [(1,)], "SELECT 1")
        if low == "select version()":
            return Result([Col("version", TEXT)], [("PostgreSQL 16.4 (dsql test backend)",)],
                          "SELECT 1")
        m = _ITEMS_SELECT_RE.match(stmt)
        if m:
            with self.db.lock:
                rows = list(self.db.items)
            if m.group(1):
                key = params[0] if m.group(1) == "$1" else int(m.group(1))
                rows = [r for r in rows if r[0] == key]
            if m.group(2):
                rows.sort(key=lambda r: (r[0] is None, r[0]))
            return Result(list(ITEM_COLUMNS), rows, f"SELECT {len(rows)}")
        m = _INSERT_RE.match(stmt)
        if m:
            return self._insert(m.group(1), params)
        if low == "delete from items":
            with self.db.lock:
                n = len(self.db.items)
                self.db.items = []
            return Result(None, [], f"DELETE {n}")
        m = _SET_RE.match(stmt)
        if m:
            name, value = m.group(1), m.group(2).strip().strip("'")
            canonical = {"timezone": "TimeZone", "datestyle": "DateStyle"}.get(
                name.lower(), name.lower())
            self._settings[canonical] = value
            return Result(None, [], "SET", parameter_changes={canonical: value})
        m = _SHOW_RE.match(stmt)
        if m:
            name = m.group(1).lower()
            value = {k.lower(): v for k, v in self._settings.items()}.get(name)
            if value is None:
                raise DsqlError(f'unrecognized configuration parameter "{name}"',
                                sqlstate="42704")
            return Result([Col(name, TEXT)], [(value,)], "SHOW")
        m = _COPY_RE.match(stmt)
        if m:
            fmt = CopyFormat.csv_format() if m.group(2) else CopyFormat.text()
            return self._copy(m.group(1).lower().startswith("from"), fmt)
        if low.startswith("select "):
            cols, values = [], []
            for item in split_items(stmt[7:]):
                col, value = self._item(item, [], params)
                cols.append(col)
                values.append(value)
            return Result(cols, [tuple(values)], "SELECT 1")
        if low.startswith("select * from ") or low.startswith("from "):
            raise UndefinedTable(f'relation "{low.split()[-1]}" does not exist')
        word = stmt.split()[0] if stmt.split() else stmt
        err = SqlSyntaxError(f'syntax error at or near "{word}"')
        err.position = 1  # type: ignore[attr-defined]
        raise err

    def _insert(self, values_sql: str, params: list[Any]) -> Result:
        rows: list[tuple[int | None, str | None]] = []
        for group in re.findall(r"\(([^)]*)\)", values_sql):
            parts = split_items(group)
            vals: list[Any] = []
            for p in parts:
                if p.startswith("$"):
                    vals.append(params[int(p[1:]) - 1])
                elif p.lower() == "null":
                    vals.append(None)
                elif p.startswith("'"):
                    vals.append(p[1:-1].replace("''", "'"))
                else:
                    vals.append(int(p))
            if len(vals) != 2:
                raise SqlSyntaxError("INSERT has more expressions than target columns")
            rows.append((None if vals[0] is None else int(vals[0]),
                         None if vals[1] is None else str(vals[1])))
        with self.db.lock:
            self.db.items.extend(rows)
        return Result(None, [], f"INSERT 0 {len(rows)}")

    def _copy(self, copy_in: bool, fmt: CopyFormat) -> Result:
        if copy_in:
            decoder = RowDecoder(fmt)
            rows: list[tuple[int | None, str | None]] = []
            for chunk in self.client.copy_in(column_count=2):
                for fields in decoder.feed(chunk):
                    rows.append(self._copy_row(fields, len(rows) + 1))
            for fields in decoder.finish():
                rows.append(self._copy_row(fields, len(rows) + 1))
            with self.db.lock:
                self.db.items.extend(rows)
            return Result(None, [], f"COPY {len(rows)}")
        with self.db.lock:
            items = list(self.db.items)
        out = self.client.copy_out(column_count=2)
        text_rows = [(None if i is None else str(i), n) for i, n in items]
        for start in range(0, len(text_rows), 1000):
            out.write(encode_rows(text_rows[start: start + 1000], fmt))
        out.close()
        return Result(None, [], f"COPY {len(items)}")

    @staticmethod
    def _copy_row(fields: list[str | None], line: int) -> tuple[int | None, str | None]:
        if len(fields) != 2:
            what = ("extra data after last expected column" if len(fields) > 2
                    else "missing data for column")
            raise DsqlError(f"{what} (line {line})", sqlstate="22P04")
        ident = fields[0]
        return (None if ident is None else registry.INT4.input(ident), fields[1])


class PgwireTestBackend:
    """Backend (dsql.server.backend) over one TestDatabase."""

    def __init__(self) -> None:
        self.db = TestDatabase()
        self.sessions: list[TestSession] = []
        self.open_delay_s = 0.0

    def open_session(self, startup: StartupInfo, client: ClientChannel) -> TestSession:
        if startup.database == "nosuchdb":
            raise DsqlError(f'database "{startup.database}" does not exist', sqlstate="3D000")
        if self.open_delay_s:
            time.sleep(self.open_delay_s)
        session = TestSession(self.db, startup, client)
        with self.db.lock:
            self.db.sessions_opened += 1
            self.sessions.append(session)
        return session

    def close(self) -> None:
        self.db.closed = True


def make_backend(data_dir: Path) -> PgwireTestBackend:
    """For `dsql serve --backend pgwire_backend:make_backend` in subprocess tests."""
    return PgwireTestBackend()
