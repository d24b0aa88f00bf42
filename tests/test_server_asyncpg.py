"""asyncpg and pg8000 against `dsql serve`.

Goal: asyncpg (extended protocol with named statements, binary format for every builtin type,
cursors with row limits -> PortalSuspended, executemany pipelining) and pg8000 (unnamed
statements, parameters sent without types so the server must infer them, text results) work
unchanged. Method: both drivers over real sockets to the in-process server with the test
backend. asyncpg's catalog introspection (for non-builtin types) needs the engine's pg_catalog
and is not exercised here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import asyncpg
import pg8000.dbapi
import pg8000.native
import pytest

from pgwire_fixtures import Running, server  # noqa: F401

UTC = dt.timezone.utc

ASYNCPG_VALUES: list[tuple[str, Any]] = [
    ("bool", True), ("int2", -2), ("int4", 2**31 - 1), ("int8", -(2**63)),
    ("float4", 0.5), ("float8", 1e-300), ("numeric", Decimal("-1234567890.0987654321")),
    ("numeric", Decimal("0.000")), ("text", "ünïcödé"), ("varchar", "v"), ("bytea", b"\0\1"),
    ("date", dt.date(2000, 1, 1)), ("time", dt.time(1, 2, 3, 4)),
    ("timestamp", dt.datetime(2038, 1, 19, 3, 14, 8)),
    ("timestamptz", dt.datetime(1969, 7, 20, 20, 17, 40, tzinfo=UTC)),
    ("interval", dt.timedelta(days=-1, microseconds=5)),
    ("uuid", uuid.UUID(int=12345)), ("json", '{"a": [1, 2]}'), ("jsonb", '{"a": [1, 2]}'),
]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def connect(srv: Running) -> asyncpg.Connection:
    return await asyncpg.connect(host=srv.host, port=srv.port, user="admin", database="dsql",
                                 ssl=False)


def test_asyncpg_types_binary_round_trip(server: Running) -> None:  # noqa: F811
    async def body() -> None:
        conn = await connect(server)
        try:
            for sql_type, value in ASYNCPG_VALUES:
                got = await conn.fetchval(f"SELECT $1::{sql_type}", value)
                assert got == value, (sql_type, got, value)
            assert await conn.fetchval("SELECT $1::int4 + 1", 41) == 42
            assert await conn.fetchval("SELECT 'NaN'::numeric") != await conn.fetchval(
                "SELECT 'NaN'::numeric")
        finally:
            await conn.close()

    run(body())


def test_asyncpg_statements_errors_and_transactions(server: Running) -> None:  # noqa: F811
    async def body() -> None:
        conn = await connect(server)
        try:
            assert await conn.fetch("SELECT 1") == [(1,)]
            stmt = await conn.prepare("SELECT $1::int4 + 1")
            assert [p.name for p in stmt.get_parameters()] == ["int4"]
            assert [a.name for a in stmt.get_attributes()] == ["?column?"]
            assert await stmt.fetchval(1) == 2 and await stmt.fetchval(2) == 3
            with pytest.raises(asyncpg.DivisionByZeroError) as info:
                await conn.fetch("SELECT 1/0")
            assert info.value.sqlstate == "22012"
            await conn.execute("DELETE FROM items")
            await conn.executemany("INSERT INTO items VALUES ($1, $2)",
                                   [(i, f"n{i}") for i in range(50)])
            try:
                async with conn.transaction():
                    await conn.execute("INSERT INTO items VALUES ($1, $2)", 99, "gone")
                    raise RuntimeError("roll back")
            except RuntimeError:
                pass
            rows = await conn.fetch("SELECT id, name FROM items ORDER BY id")
            assert len(rows) == 50 and rows[-1]["name"] == "n49"
            assert await conn.fetchval("SELECT id, name FROM items WHERE id = $1", 7) == 7
        finally:
            await conn.close()

    run(body())


def test_asyncpg_cursor_uses_row_limits(server: Running) -> None:  # noqa: F811
    async def body() -> None:
        conn = await connect(server)
        try:
            async with conn.transaction():
                seen = [r[0] async for r in conn.cursor("SELECT generate_series(1, 95)",
                                                        prefetch=10)]
                assert seen == list(range(1, 96))
                cur = await conn.cursor("SELECT generate_series(1, 30)")
                assert [r[0] for r in await cur.fetch(7)] == list(range(1, 8))
                assert (await cur.fetchrow())[0] == 8
                assert [r[0] for r in await cur.fetch(100)] == list(range(9, 31))
        finally:
            await conn.close()

    run(body())


def test_pg8000_native_and_dbapi(server: Running) -> None:  # noqa: F811
    con = pg8000.native.Connection("admin", host=server.host, port=server.port,
                                   database="dsql")
    try:
        assert con.run("SELECT 1") == [[1]]
        assert con.run("SELECT :v::int4 + 1", v=41) == [[42]]
        assert con.run("SELECT :v::numeric", v=Decimal("1.25")) == [[Decimal("1.25")]]
        assert con.run("SELECT :v::date", v=dt.date(2020, 2, 2)) == [[dt.date(2020, 2, 2)]]
        assert con.run("SELECT :v::timestamptz", v=dt.datetime(2020, 2, 2, tzinfo=UTC)) == [
            [dt.datetime(2020, 2, 2, tzinfo=UTC)]]
        assert con.run("SELECT :v::bytea", v=b"\x01\x02") == [[b"\x01\x02"]]
        assert con.run("SELECT :v::text", v="x") == [["x"]]
        assert con.run("SELECT :v::bool", v=True) == [[True]]
        with pytest.raises(pg8000.native.DatabaseError) as info:
            con.run("SELECT 1/0")
        assert info.value.args[0]["C"] == "22012"
        assert con.run("SELECT 2") == [[2]]
    finally:
        con.close()
    db = pg8000.dbapi.connect(user="admin", host=server.host, port=server.port,
                              database="dsql")
    try:
        cur = db.cursor()
        cur.execute("DELETE FROM items")
        db.commit()
        cur.execute("INSERT INTO items VALUES (%s, %s)", (1, "a"))
        db.rollback()
        cur.execute("SELECT id, name FROM items")
        assert cur.fetchall() == ()
        cur.execute("INSERT INTO items VALUES (%s, %s)", (2, "b"))
        db.commit()
        cur.execute("SELECT id, name FROM items")
        assert cur.fetchall() == ([2, "b"],)
        db.commit()
    finally:
        db.close()
