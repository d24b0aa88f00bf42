"""asyncpg's type introspection against the engine's `dsql serve`.

Goal: results and parameters whose type asyncpg has no built-in codec for (int2vector, oidvector,
int4[] / text[] / oid[] / bool[] arrays) work, because asyncpg's own introspection query
(asyncpg.introspection.INTRO_LOOKUP_TYPES: WITH RECURSIVE, `$1::oid[]`, LEFT JOINs of pg_type /
pg_range, array_agg, ::regtype::text) runs through the normal executor and returns the rows
PostgreSQL 15 returns for the same type OIDs. Method: asyncpg over real sockets to a real
engine-backed `dsql serve` (engine_serve.py); the introspection query itself is run on dsql and
on a private PostgreSQL 15 (pg_server.py) and the row sets compared; the `x::oid[]` parse fix
is checked on sqlglot directly.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import asyncpg.introspection as intro
import pytest
import sqlglot

import dsql.sql  # noqa: F401  (installs the parser tweak)
from engine_serve import ADMIN, PASSWORD, EngineServer, engine_server  # noqa: F401
from pg_server import PostgresServer

# type OIDs asyncpg introspects: arrays, vectors; their elements come back at depth 1
INTRO_OIDS = [1007, 1009, 1028, 22, 30, 1000, 1005, 1016, 1015, 1003, 1022, 1231, 1182, 1185,
              2951, 1001, 3807, 2210, 1014, 1187, 1115]


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


async def _connect(s: EngineServer) -> asyncpg.Connection:
    return await asyncpg.connect(host=s.host, port=s.port, user=ADMIN, password=PASSWORD,
                                 database="dsql")


@pytest.fixture(scope="module")
def srv(engine_server: EngineServer) -> EngineServer:  # noqa: F811
    async def setup() -> None:
        c = await _connect(engine_server)
        try:
            await c.execute("CREATE TABLE ai (id int PRIMARY KEY, a int, b text)")
            await c.execute("CREATE INDEX ai_ab ON ai (a, b)")
        finally:
            await c.close()
    run(setup())
    return engine_server


def test_sqlglot_parses_array_casts_of_oid_types() -> None:
    for sql, want in [("SELECT $1::oid[]", "CAST($1 AS OID[])"),
                      ("SELECT x = ANY($1::oid[])", "ANY(CAST($1 AS OID[]))"),
                      ("SELECT CAST(x AS regtype[])", "CAST(x AS REGTYPE[])"),
                      ("SELECT x::regclass[][]", "CAST(x AS REGCLASS[][])"),
                      ("SELECT x::oid[3]", "CAST(x AS OID[])"),
                      ("SELECT x::int4[]", "CAST(x AS INT[])")]:
        assert want in sqlglot.parse_one(sql, dialect="postgres").sql(dialect="postgres"), sql
    # a subscript after a parenthesised cast stays a subscript; plain oid is untouched
    assert sqlglot.parse_one("SELECT (x::oid)[1]", dialect="postgres").find(sqlglot.exp.Bracket)
    assert sqlglot.parse_one("SELECT x::oid", dialect="postgres").sql(
        dialect="postgres") == "SELECT CAST(x AS OID)"


def test_fetch_types_needing_introspection(srv: EngineServer) -> None:
    async def go() -> None:
        c = await _connect(srv)
        try:
            rows = await c.fetch("SELECT indkey, indclass FROM pg_index i JOIN pg_class c "
                                 "ON c.oid = i.indexrelid WHERE c.relname = 'ai_ab'")
            assert rows[0]["indkey"] == [2, 3] and len(rows[0]["indclass"]) == 2
            assert await c.fetchval("SELECT ARRAY[1,2]::int4[]") == [1, 2]
            r = await c.fetchrow("SELECT '{a,b}'::text[]")
            assert list(r.keys()) == ["text"] and r[0] == ["a", "b"]
            assert await c.fetchval("SELECT $1::int4[]", [1, None, -3]) == [1, None, -3]
            assert await c.fetchval("SELECT $1::text[]", ["x", None, ""]) == ["x", None, ""]
            assert await c.fetchval("SELECT $1::oid[]", [1, 2**32 - 1]) == [1, 2**32 - 1]
            assert await c.fetchval("SELECT 3 = ANY($1::int8[])", [1, 3]) is True
            assert await c.fetchval("SELECT ARRAY[true, NULL]") == [True, None]
            assert await c.fetchval("SELECT $1::int4[]", []) == []
            oids = await c.fetchval("SELECT array_agg(oid ORDER BY oid) FROM pg_type "
                                    "WHERE typname IN ('int4', 'text')")
            assert oids == [23, 25]
            row = await c.fetchrow("SELECT proargtypes FROM pg_proc WHERE proname = 'lower'")
            assert row is None or isinstance(row[0], list)
        finally:
            await c.close()
    run(go())


def test_set_type_codec_and_settings(srv: EngineServer) -> None:
    async def go() -> None:
        c = await _connect(srv)
        try:
            assert c.get_settings().server_version.startswith("16")
            await c.set_type_codec("int4", schema="pg_catalog", encoder=str,
                                   decoder=lambda s: f"<{s}>", format="text")
            assert await c.fetchval("SELECT 41 + 1") == "<42>"
            assert await c.fetchval("SELECT ARRAY[1, 2]::int4[]") == ["<1>", "<2>"]
        finally:
            await c.close()
    run(go())


async def _introspect(c: asyncpg.Connection, query: str) -> set[tuple[Any, ...]]:
    rows = await c.fetch(query, INTRO_OIDS)
    return {tuple(r.values()) for r in rows}


def test_introspection_query_matches_postgres(srv: EngineServer,
                                              postgres_server: PostgresServer) -> None:
    async def go() -> tuple[Any, ...]:
        d = await _connect(srv)
        p = await asyncpg.connect(host=postgres_server.host, port=postgres_server.port,
                                  user=postgres_server.user, database="postgres")
        try:
            out = []
            for q in (intro.INTRO_LOOKUP_TYPES, intro.INTRO_LOOKUP_TYPES_13):
                out.append((await _introspect(d, q), await _introspect(p, q)))
            cols = [a.name for a in (await d.prepare(intro.INTRO_LOOKUP_TYPES)).get_attributes()]
            pcols = [a.name for a in (await p.prepare(intro.INTRO_LOOKUP_TYPES)).get_attributes()]
            ptypes = [a.type.name for a in
                      (await p.prepare(intro.INTRO_LOOKUP_TYPES)).get_attributes()]
            dtypes = [a.type.name for a in
                      (await d.prepare(intro.INTRO_LOOKUP_TYPES)).get_attributes()]
            return out, (cols, dtypes), (pcols, ptypes)
        finally:
            await d.close()
            await p.close()
    pairs, dshape, pshape = run(go())
    assert dshape == pshape
    for dsql_rows, pg_rows in pairs:
        assert dsql_rows == pg_rows
        assert len(pg_rows) == 2 * len(INTRO_OIDS) - 1  # elements at depth 1; int2 twice


def test_arrays_of_other_element_types(srv: EngineServer) -> None:
    """Arrays of numeric, date, timestamptz, uuid, bytea, jsonb, interval: introspected, then
    sent and received in binary."""
    import datetime as dt
    import uuid
    from decimal import Decimal

    async def go() -> None:
        c = await _connect(srv)
        try:
            t = dt.datetime(2020, 1, 1, 8, tzinfo=dt.timezone.utc)
            u = uuid.UUID(int=7)
            for sql, value in [("$1::numeric[]", [Decimal("1.50"), None]),
                               ("$1::date[]", [dt.date(2000, 2, 29)]),
                               ("$1::timestamptz[]", [t]), ("$1::uuid[]", [u]),
                               ("$1::bytea[]", [b"\x00\x01"]),
                               ("$1::interval[]", [dt.timedelta(days=1)])]:
                assert await c.fetchval(f"SELECT {sql}", value) == value, sql
            assert await c.fetchval("SELECT ARRAY['{\"a\": 1}'::jsonb]") == ['{"a": 1}']
            assert await c.fetchval("SELECT '{pg_type}'::regclass[]::oid[]") == [1247]
        finally:
            await c.close()
    run(go())


def test_list_parameters_from_psycopg(srv: EngineServer) -> None:
    """psycopg sends a list of small ints as int2[] (text or binary): it binds as an array
    and casts element-wise, as PostgreSQL's array coercion does."""
    import psycopg
    with psycopg.connect(srv.dsn(), autocommit=True) as c:
        assert c.execute("SELECT %s::int4[]", ([1, 2],)).fetchone() == ([1, 2],)
        assert c.execute("SELECT %b::int8[]", ([1, None],)).fetchone() == ([1, None],)
        assert c.execute("SELECT 2 = ANY(%s)", ([1, 2],)).fetchone() == (True,)
        assert c.execute("SELECT %s::text[]", (["a", None],)).fetchone() == (["a", None],)
