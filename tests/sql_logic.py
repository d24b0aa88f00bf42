"""The data-driven SQL test runner (sqllogictest / DuckDB style) over dsql sessions.

Goal: SQL behaviour as data. Method: each file in tests/sql/*.test is a list of records
separated by blank lines, run in order against one fresh database:

    statement ok                      the next lines are one statement; it must succeed
    statement error <SQLSTATE> [text] it must fail with this SQLSTATE (and message substring)
    query <types> [rowsort]           a query; after `----` its rows, columns tab-separated,
                                      as psql prints values (NULL for null, (empty) for '')
    connection <name>                 later records run on session <name> (default: "default")
    reopen                            close every session and the database, open it again
    sleep <ms>                        wait
    # ...                             a comment
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsql.engine import Database, DatabaseOptions
from dsql.errors import DsqlError
from dsql.session import Session
from dsql.sql.types import registry as r


@dataclass
class Record:
    kind: str
    arg: str
    sql: str
    expected: list[str]
    line: int


def parse(text: str) -> list[Record]:
    lines = text.split("\n")
    out: list[Record] = []
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        if not line or line.startswith("#"):
            i += 1
            continue
        start = i + 1
        head, _, arg = line.partition(" ")
        if head in ("connection", "reopen", "sleep"):
            out.append(Record(head, arg.strip(), "", [], start))
            i += 1
            continue
        if head not in ("statement", "query"):
            raise ValueError(f"line {start}: unknown record {line!r}")
        i += 1
        sql_lines: list[str] = []
        while i < len(lines) and lines[i].strip() and lines[i].strip() != "----":
            sql_lines.append(lines[i])
            i += 1
        expected: list[str] = []
        if i < len(lines) and lines[i].strip() == "----":
            i += 1
            while i < len(lines) and lines[i].strip():
                expected.append(lines[i].rstrip("\n"))
                i += 1
        out.append(Record(head, arg.strip(), "\n".join(sql_lines), expected, start))
    return out


def fmt(value: Any, type_oid: int, ctx: Any) -> str:
    if value is None:
        return "NULL"
    s = r.type_by_oid(type_oid).output(value, ctx) if type_oid != 705 else str(value)
    return "(empty)" if s == "" else s


class Runner:
    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="dsql-logic-")
        self.db = Database.open(self.dir, DatabaseOptions(durability="unsafe-no-sync"))
        self.sessions: dict[str, Session] = {}
        self.current = "default"

    def session(self) -> Session:
        s = self.sessions.get(self.current)
        if s is None:
            s = self.sessions[self.current] = Session(self.db)
        return s

    def close(self) -> None:
        self.db.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def run(self, records: list[Record], name: str) -> None:
        for rec in records:
            where = f"{name}:{rec.line}"
            if rec.kind == "connection":
                self.current = rec.arg
            elif rec.kind == "sleep":
                time.sleep(int(rec.arg) / 1000)
            elif rec.kind == "reopen":
                self.sessions.clear()
                self.db.close()
                self.db = Database.open(self.dir, DatabaseOptions(durability="unsafe-no-sync"))
            elif rec.kind == "statement":
                self._statement(rec, where)
            else:
                self._query(rec, where)

    def _statement(self, rec: Record, where: str) -> None:
        s = self.session()
        if rec.arg == "ok":
            try:
                s.execute(rec.sql)
            except DsqlError as e:
                raise AssertionError(f"{where}: expected success, got {e.sqlstate} {e}\n"
                                     f"{rec.sql}") from e
            return
        kind, _, rest = rec.arg.partition(" ")
        assert kind == "error", f"{where}: bad statement record {rec.arg!r}"
        state, _, text = rest.partition(" ")
        try:
            s.execute(rec.sql)
        except DsqlError as e:
            assert e.sqlstate == state, f"{where}: expected {state}, got {e.sqlstate} {e}"
            assert text in str(e), f"{where}: expected message with {text!r}, got {e}"
            return
        raise AssertionError(f"{where}: expected error {state}, statement succeeded\n{rec.sql}")

    def _query(self, rec: Record, where: str) -> None:
        s = self.session()
        parts = rec.arg.split()
        types = parts[0] if parts else ""
        sort = "rowsort" in parts[1:]
        try:
            res = s.execute(rec.sql)
        except DsqlError as e:
            raise AssertionError(f"{where}: query failed: {e.sqlstate} {e}\n{rec.sql}") from e
        assert res.columns is not None, f"{where}: statement returned no rows"
        assert len(res.columns) == len(types), \
            f"{where}: {len(res.columns)} columns, record says {types!r}"
        ctx = s._ctx
        got = ["\t".join(fmt(v, c.type_oid, ctx) for v, c in zip(row, res.columns, strict=True))
               for row in res.rows]
        exp = [e.replace("    ", "\t") if "\t" not in e else e for e in rec.expected]
        if sort:
            got, exp = sorted(got), sorted(exp)
        assert got == exp, (f"{where}: rows differ\n{rec.sql}\n--- expected\n" + "\n".join(exp)
                            + "\n--- got\n" + "\n".join(got))


def run_file(path: Path) -> None:
    runner = Runner()
    try:
        runner.run(parse(path.read_text()), path.name)
    finally:
        runner.close()
