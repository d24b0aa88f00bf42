"""Runs data-driven SQL files (tests/sql/*.test) against a real PostgreSQL 15 and compares.

Goal: the expected rows and SQLSTATEs in the .test files are PostgreSQL's, not dsql's. Method:
start a private server (pg_server.PostgresServer), give each file a fresh database, run every
record through psycopg (text results, as psql prints them), and report each difference;
`--write` replaces expected rows with PostgreSQL's instead (review the diff before
committing). Records PostgreSQL cannot run the same way (dsql-only behaviour, `reopen`) should
live in Python tests instead. A 5 s statement_timeout turns a PostgreSQL lock wait (dsql
never waits) into an error rather than a hang.

    python tests/sql_pgcheck.py tests/sql/views.test tests/sql/query_cte.test [--write]
"""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from pg_server import PostgresServer  # noqa: E402
from sql_logic import Record, parse  # noqa: E402


def _text(v: bytes | None) -> str:
    if v is None:
        return "NULL"
    s = v.decode()
    return "(empty)" if s == "" else s


def check_file(server: PostgresServer, path: Path, write: bool) -> int:
    """Number of differences (0 when writing)."""
    dbname = "chk_" + "".join(ch if ch.isalnum() else "_" for ch in path.stem)
    with psycopg.connect(server.dsn, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {dbname}")
    text = path.read_text()
    lines = text.split("\n")
    conns: dict[str, psycopg.Connection] = {}
    current = "default"
    bad = 0
    edits: list[tuple[int, int, list[str]]] = []
    try:
        for rec in parse(text):
            if rec.kind == "connection":
                current = rec.arg
                continue
            if rec.kind != "statement" and rec.kind != "query":
                continue
            conn = conns.get(current)
            if conn is None:
                dsn = server.dsn.replace("dbname=postgres", f"dbname={dbname}")
                conn = conns[current] = psycopg.connect(dsn, autocommit=True)
                conn.execute("SET statement_timeout = '5s'")
            bad += _record(conn, rec, path.name, lines, edits, write)
    finally:
        for c in conns.values():
            c.close()
        with psycopg.connect(server.dsn, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
    if write and edits:
        for a, b, new in sorted(edits, reverse=True):
            lines[a:b] = new
        path.write_text("\n".join(lines))
    return bad


def _record(conn: psycopg.Connection, rec: Record, name: str, lines: list[str],
            edits: list[tuple[int, int, list[str]]], write: bool) -> int:
    where = f"{name}:{rec.line}"
    cur = conn.cursor()
    err: psycopg.Error | None = None
    try:
        cur.execute(rec.sql.encode(), prepare=False)
    except psycopg.Error as e:
        err = e
    if rec.kind == "statement":
        if rec.arg == "ok":
            if err is not None:
                print(f"{where}: PostgreSQL fails: {err.sqlstate} {err}")
                return 1
            return 0
        _, state, *rest = rec.arg.split(None, 2)
        if err is None:
            print(f"{where}: PostgreSQL succeeds, the file expects {state}")
            return 1
        if err.sqlstate != state or (rest and rest[0] not in str(err)):
            print(f"{where}: PostgreSQL {err.sqlstate} {str(err).splitlines()[0]!r}, the file "
                  f"expects {state} {rest[0] if rest else ''!r}")
            return 1
        return 0
    if err is not None:
        print(f"{where}: PostgreSQL fails the query: {err.sqlstate} {err}")
        return 1
    res = cur.pgresult
    assert res is not None
    got = ["\t".join(_text(res.get_value(i, j)) for j in range(res.nfields))
           for i in range(res.ntuples)]
    parts = rec.arg.split()
    bad = 0
    if len(parts[0] if parts else "") != res.nfields:
        print(f"{where}: PostgreSQL returns {res.nfields} columns, the record says {parts[0]!r}")
        bad = 1
    want = [e.replace("    ", "\t") if "\t" not in e else e for e in rec.expected]
    sort = "rowsort" in parts[1:]
    if (sorted(got) == sorted(want)) if sort else (got == want):
        return bad
    if write:
        i = rec.line
        while lines[i].strip() != "----":
            i += 1
        j = i + 1
        while j < len(lines) and lines[j].strip():
            j += 1
        edits.append((i + 1, j, got))
        print(f"{where}: rows written")
        return bad
    print(f"{where}: rows differ\n{rec.sql}\n--- file\n" + "\n".join(want)
          + "\n--- PostgreSQL\n" + "\n".join(got))
    return bad + 1


def main(argv: list[str]) -> int:
    write = "--write" in argv
    files = [Path(a) for a in argv if a != "--write"]
    if not files:
        print(__doc__)
        return 2
    with PostgresServer() as server:
        total = 0
        for f in files:
            n = check_file(server, f, write)
            print(f"{f.name}: {n} differences")
            total += n
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
