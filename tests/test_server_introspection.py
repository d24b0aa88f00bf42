"""What clients introspect: psql's \\d family, pg_catalog / information_schema, reg* casts and
the introspection functions, through a real `dsql serve` over the SQL engine.

Goal: psql's describe commands and the catalog queries drivers send work unchanged and show
dsql's tables, columns, keys, indexes, schemas and roles. Method: psql 15, psycopg 3, asyncpg
and pg8000 against `dsql serve` (engine_serve.py); expected output is what PostgreSQL 15
prints for the same schema (checked by hand against a real server when written).
"""

from __future__ import annotations

import asyncio
import decimal
import os
import subprocess
from pathlib import Path

import psycopg
import pytest

from engine_serve import ADMIN, PASSWORD, EngineServer, engine_server  # noqa: F401

PSQL = Path(os.environ.get("DSQL_PG_BIN", "/usr/lib/postgresql/15/bin")) / "psql"


@pytest.fixture(scope="module")
def srv(engine_server: EngineServer) -> EngineServer:  # noqa: F811
    with psycopg.connect(engine_server.dsn(), autocommit=True) as c:
        c.execute("CREATE TABLE items (id int PRIMARY KEY, name varchar(20) NOT NULL "
                  "DEFAULT 'none', price numeric(8,2), tags text)")
        c.execute("CREATE INDEX items_name ON items (name)")
        c.execute("CREATE UNIQUE INDEX items_tags ON items (tags)")
        c.execute("CREATE SCHEMA app")
        c.execute("CREATE TABLE app.kv (k text, v int CHECK (v > 0), UNIQUE (k))")
    return engine_server


def psql(s: EngineServer, *args: str) -> str:
    env = {**os.environ, "PGPASSWORD": PASSWORD, "PGCONNECT_TIMEOUT": "10"}
    out = subprocess.run([str(PSQL), "-X", "-h", s.host, "-p", str(s.port), "-U", ADMIN,
                          "-d", "dsql", *args], capture_output=True, text=True, timeout=60,
                         env=env)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    return out.stdout


def test_psql_d_and_dt(srv: EngineServer) -> None:
    out = psql(srv, "-c", r"\d")
    assert " public | items | table | admin" in out and "(1 row)" in out
    assert psql(srv, "-c", r"\dt").splitlines()[3] == " public | items | table | admin"
    assert " app    | kv   | table | admin" in psql(srv, "-c", r"\dt app.*")


def test_psql_d_table(srv: EngineServer) -> None:
    out = psql(srv, "-c", r"\d items")
    lines = out.splitlines()
    assert lines[0].strip() == 'Table "public.items"'
    assert lines[3:7] == [
        " id     | integer               |           | not null | ",
        " name   | character varying(20) |           | not null | 'none'",
        " price  | numeric(8,2)          |           |          | ",
        " tags   | text                  |           |          | ",
    ]
    assert lines[7:11] == ["Indexes:", '    "items_pkey" PRIMARY KEY, btree (id)',
                           '    "items_name" btree (name)', '    "items_tags" UNIQUE, btree (tags)']
    out = psql(srv, "-c", r"\d app.kv")
    assert '"kv_k_key" UNIQUE CONSTRAINT, btree (k)' in out
    assert "Check constraints:" in out and "CHECK ((v > 0))" in out


def test_psql_l_dn_du_di(srv: EngineServer) -> None:
    assert " dsql | admin | UTF8 " in psql(srv, "-c", r"\l")
    out = psql(srv, "-c", r"\dn")
    assert " app    | admin" in out and " public | admin" in out and "pg_catalog" not in out
    assert "Superuser" in psql(srv, "-c", r"\du").split(" admin ")[1]
    out = psql(srv, "-c", r"\di")
    for name in ("items_name", "items_pkey", "items_tags"):
        assert f" public | {name} " in out and "| index | admin | items" in out


def test_catalog_queries(srv: EngineServer) -> None:
    with psycopg.connect(srv.dsn(), autocommit=True) as c:
        oid = c.execute("SELECT 'items'::regclass::oid").fetchone()[0]
        assert oid >= 16384
        assert c.execute("SELECT %s::oid::regclass::text", (oid,)).fetchone() == ("items",)
        assert c.execute("SELECT relname, relkind FROM pg_class WHERE oid = %s",
                         (oid,)).fetchall() == [("items", "r")]
        rows = c.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull "
            "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relname = 'items' AND a.attnum > 0 "
            "ORDER BY a.attnum").fetchall()
        assert rows == [("id", "integer", True), ("name", "character varying(20)", True),
                        ("price", "numeric(8,2)", False), ("tags", "text", False)]
        assert c.execute("SELECT typname, typlen FROM pg_type WHERE oid = 'int8'::regtype"
                         ).fetchone() == ("int8", 8)
        assert c.execute("SELECT 'varchar'::regtype::text, to_regtype('nope'), "
                         "to_regclass('items') IS NOT NULL").fetchone() == \
            ("character varying", None, True)
        assert c.execute("SELECT pg_get_indexdef('items_tags'::regclass)").fetchone() == \
            ("CREATE UNIQUE INDEX items_tags ON public.items USING btree (tags)",)
        assert c.execute("SELECT conname, contype, pg_get_constraintdef(oid) FROM "
                         "pg_constraint WHERE conrelid = 'items'::regclass").fetchall() == \
            [("items_pkey", "p", "PRIMARY KEY (id)")]
        with pytest.raises(psycopg.errors.UndefinedTable):
            c.execute("SELECT 'nope'::regclass")


def test_information_schema(srv: EngineServer) -> None:
    with psycopg.connect(srv.dsn(), autocommit=True) as c:
        assert c.execute("SELECT table_schema, table_name FROM information_schema.tables "
                         "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN "
                         "('pg_catalog', 'information_schema') ORDER BY 1, 2").fetchall() == \
            [("app", "kv"), ("public", "items")]
        assert c.execute("SELECT column_name, data_type, is_nullable, column_default, "
                         "character_maximum_length FROM information_schema.columns "
                         "WHERE table_name = 'items' ORDER BY ordinal_position").fetchall() == [
            ("id", "integer", "NO", None, None),
            ("name", "character varying", "NO", "'none'", 20),
            ("price", "numeric", "YES", None, None), ("tags", "text", "YES", None, None)]
        assert c.execute("SELECT constraint_name, constraint_type FROM "
                         "information_schema.table_constraints WHERE table_name = 'kv' "
                         "ORDER BY 1").fetchall() == [("kv_k_key", "UNIQUE"),
                                                      ("kv_v_check", "CHECK")]
        assert c.execute("SELECT column_name FROM information_schema.key_column_usage WHERE "
                         "constraint_name = 'items_pkey'").fetchall() == [("id",)]
        names = [r[0] for r in c.execute("SELECT schema_name FROM information_schema.schemata"
                                         " ORDER BY 1").fetchall()]
        assert {"app", "public", "pg_catalog", "information_schema"} <= set(names)


def test_functions(srv: EngineServer) -> None:
    with psycopg.connect(srv.dsn(), autocommit=True) as c:
        row = c.execute("SELECT version(), current_schema(), current_schemas(true), "
                        "current_database(), current_user, session_user, "
                        "pg_backend_pid() > 0, pg_is_in_recovery(), "
                        "has_table_privilege('items', 'SELECT'), "
                        "pg_encoding_to_char(6), pg_get_userbyid(10)").fetchone()
        assert row[0].startswith("PostgreSQL 16")
        assert row[1:] == ("public", ["pg_catalog", "public"], "dsql", "admin", "admin",
                           True, False, True, "UTF8", "admin")
        assert c.execute("SELECT current_setting('search_path'), "
                         "set_config('application_name', 'x', false), "
                         "current_setting('application_name')").fetchone() == \
            ('"$user", public', "x", "x")
        assert c.execute("SELECT pg_table_is_visible('items'::regclass), "
                         "pg_table_is_visible('app.kv'::regclass), "
                         "obj_description('items'::regclass, 'pg_class'), "
                         "col_description('items'::regclass, 1)").fetchone() == \
            (True, False, None, None)
        assert c.execute("SELECT array_to_string(ARRAY['a', 'b'], ','), 2 = ANY('{1,2}'::int4[]),"
                         " 'pg_toast' !~ '^pg_', E'a\\tb'").fetchone() == \
            ("a,b", True, False, "a\tb")
        rows = c.execute("SELECT relname FROM pg_class c WHERE c.relnamespace = "
                         "'public'::regnamespace AND EXISTS (SELECT 1 FROM pg_index i "
                         "WHERE i.indexrelid = c.oid AND i.indisunique) ORDER BY 1").fetchall()
        assert rows == [("items_pkey",), ("items_tags",)]


def test_psycopg_typeinfo(srv: EngineServer) -> None:
    from psycopg.types import TypeInfo
    with psycopg.connect(srv.dsn()) as c:
        info = TypeInfo.fetch(c, "int4")
        assert info is not None and (info.oid, info.array_oid) == (23, 1007)
        assert TypeInfo.fetch(c, "hstore") is None  # runs in a savepoint; the txn survives
        assert c.execute("SELECT 1").fetchone() == (1,)


def test_asyncpg(srv: EngineServer) -> None:
    asyncpg = pytest.importorskip("asyncpg")

    async def main() -> None:
        conn = await asyncpg.connect(host=srv.host, port=srv.port, user=ADMIN,
                                     password=PASSWORD, database="dsql")
        try:
            stmt = await conn.prepare("SELECT relname, relkind FROM pg_class WHERE oid = $1")
            oid = await conn.fetchval("SELECT 'items'::regclass::oid")
            # parameter types are inferred from use (oid, int4, varchar), as PostgreSQL does
            rows = await stmt.fetch(oid)
            assert [r[0] for r in rows] == ["items"] and rows[0][1] in ("r", b"r")
            assert [p.name for p in stmt.get_parameters()] == ["oid"]
            assert await conn.fetchval("SELECT count(*) FROM pg_attribute WHERE attrelid = $1 "
                                       "AND attnum > 0", oid) == 4
            await conn.execute("INSERT INTO items (id, name, price) VALUES ($1, $2, $3)", 1,
                               "one", decimal.Decimal("2.50"))
            assert await conn.fetchval("SELECT name FROM items WHERE id = $1", 1) == "one"
            assert await conn.fetchval("SELECT price FROM items WHERE name = $1", "one") == \
                decimal.Decimal("2.50")
            assert await conn.fetchval("SELECT 'items'::regclass") == "items"
            with pytest.raises(asyncpg.UndefinedTableError):  # an error at Parse + Flush
                await conn.fetch("SELECT * FROM nope")
            assert await conn.fetchval("SELECT 1") == 1
        finally:
            await conn.close()
    asyncio.run(main())


def test_pg8000(srv: EngineServer) -> None:
    pg8000 = pytest.importorskip("pg8000.native")
    conn = pg8000.Connection(ADMIN, host=srv.host, port=srv.port, password=PASSWORD,
                             database="dsql")
    try:
        assert conn.run("SELECT typname FROM pg_type WHERE oid = :o", o=25) == [["text"]]
        assert conn.run("SELECT table_name FROM information_schema.tables WHERE "
                        "table_schema = 'app'") == [["kv"]]
    finally:
        conn.close()


def test_psql_plus_forms(srv: EngineServer) -> None:
    assert "| heap          | 0 bytes |" in psql(srv, "-c", r"\dt+ items")
    out = psql(srv, "-c", r"\d+ items")
    assert " id     | integer               |           | not null |" in out
    assert "Access method: heap" in out
    assert " pg_catalog | abs  | integer          | integer             | func" in \
        psql(srv, "-c", r"\df abs")
    assert " pg_default | admin |" in psql(srv, "-c", r"\db")
