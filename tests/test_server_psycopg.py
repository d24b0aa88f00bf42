"""psycopg 3 against `dsql serve`: simple and extended protocol, text and binary, every type.

Goal: an unmodified psycopg 3 connects and works: typed parameters and results of every
supported type round-trip in text and binary format, prepared statements, pipelines
(executemany), transactions, errors and notices with their fields, ParameterStatus, COPY.
Method: psycopg over a real socket to the in-process server with the test backend, which
echoes `SELECT $1::type` so values make the full trip client -> server -> client.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Json, Jsonb

from pgwire_fixtures import Running, server  # noqa: F401

UTC = dt.timezone.utc

# (SQL type, value sent, value expected back)
VALUES: list[tuple[str, Any, Any]] = [
    ("bool", True, True),
    ("bool", False, False),
    ("int2", -32768, -32768),
    ("int4", 2147483647, 2147483647),
    ("int8", -9223372036854775808, -9223372036854775808),
    ("float4", 1.5, 1.5),
    ("float8", 0.1, 0.1),
    ("float8", float("inf"), float("inf")),
    ("numeric", Decimal("12345.6789"), Decimal("12345.6789")),
    ("numeric", Decimal("-0.00001"), Decimal("-0.00001")),
    ("numeric", Decimal("1e20"), Decimal("100000000000000000000")),
    ("numeric", Decimal("NaN"), None),  # NaN != NaN; checked separately below
    ("text", "héllo ☃", "héllo ☃"),
    ("varchar", "", ""),
    ("bytea", b"\x00\xffabc", b"\x00\xffabc"),
    ("date", dt.date(2024, 2, 29), dt.date(2024, 2, 29)),
    ("date", dt.date(1, 1, 1), dt.date(1, 1, 1)),
    ("time", dt.time(23, 59, 59, 999999), dt.time(23, 59, 59, 999999)),
    ("timestamp", dt.datetime(1999, 12, 31, 23, 59, 59, 5),
     dt.datetime(1999, 12, 31, 23, 59, 59, 5)),
    ("timestamptz", dt.datetime(2024, 6, 1, 12, 0, tzinfo=UTC),
     dt.datetime(2024, 6, 1, 12, 0, tzinfo=UTC)),
    ("interval", dt.timedelta(days=3, seconds=7, microseconds=1),
     dt.timedelta(days=3, seconds=7, microseconds=1)),
    ("uuid", uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
     uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")),
    ("jsonb", Jsonb({"b": [1, None, True], "a": "x"}), {"a": "x", "b": [1, None, True]}),
    ("json", Json({"k": 1}), {"k": 1}),
]


@pytest.fixture()
def conn(server: Running) -> psycopg.Connection:  # noqa: F811
    with psycopg.connect(server.dsn(), autocommit=True) as c:
        yield c


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
@pytest.mark.parametrize(("sql_type", "sent", "expected"), VALUES,
                         ids=[f"{t}-{i}" for i, (t, _, _) in enumerate(VALUES)])
def test_type_round_trip(conn: psycopg.Connection, binary: bool, sql_type: str, sent: Any,
                         expected: Any) -> None:
    cur = conn.cursor(binary=binary)
    placeholder = "%b" if binary else "%t"
    (got,) = cur.execute(f"SELECT {placeholder}::{sql_type}", [sent]).fetchone()
    if sql_type == "numeric" and expected is None:
        assert got.is_nan()
        return
    assert got == expected
    assert type(got) is type(expected)
    assert cur.description[0].type_code == conn.adapters.types[sql_type].oid


def test_literal_results_text_and_binary(conn: psycopg.Connection) -> None:
    sql = ("SELECT '12.50'::numeric AS n, '0001-01-01'::date AS d, '1 mon 2 days'::interval AS i,"
           " 'abc'::char(5) AS c, NULL::int4 AS z")
    text = conn.execute(sql).fetchone()
    binary = conn.cursor(binary=True).execute(sql).fetchone()
    assert text[0] == binary[0] == Decimal("12.50")
    assert text[1] == binary[1] == dt.date(1, 1, 1)
    assert text[2] == binary[2] == dt.timedelta(days=32)
    assert text[3] == binary[3] == "abc  "
    assert text[4] is binary[4] is None


def test_simple_and_extended_and_prepared(conn: psycopg.Connection) -> None:
    assert conn.execute("SELECT 1").fetchall() == [(1,)]  # no params: simple protocol
    assert conn.execute("SELECT %s::int4 + 1", [41]).fetchone() == (42,)
    for i in range(3):
        assert conn.execute("SELECT %s::int4 + 1", [i], prepare=True).fetchone() == (i + 1,)
    assert conn.execute("SELECT generate_series(1, 1000)").rowcount == 1000


def test_transactions_and_executemany_pipeline(server: Running) -> None:  # noqa: F811
    with psycopg.connect(server.dsn()) as conn:
        conn.execute("DELETE FROM items")
        conn.commit()
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO items VALUES (%s, %s)",
                            [(i, f"v{i}") for i in range(20)])
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        conn.rollback()
        assert conn.execute("SELECT id, name FROM items").fetchall() == []
        conn.rollback()
        with conn.pipeline():
            conn.execute("INSERT INTO items VALUES (%s, %s)", [1, "one"])
            conn.execute("INSERT INTO items VALUES (%s, %s)", [2, "two"])
            cur = conn.execute("SELECT id, name FROM items WHERE id = %s", [2])
        assert cur.fetchall() == [(2, "two")]
        conn.commit()
        assert conn.execute("SELECT id, name FROM items ORDER BY id").fetchall() == [
            (1, "one"), (2, "two")]
        conn.commit()


def test_errors_carry_fields(conn: psycopg.Connection) -> None:
    with pytest.raises(psycopg.errors.DivisionByZero) as info:
        conn.execute("SELECT 1/0")
    assert info.value.diag.severity == "ERROR"
    assert info.value.diag.severity_nonlocalized == "ERROR"
    assert info.value.diag.message_primary == "division by zero"
    with pytest.raises(psycopg.errors.SyntaxError) as info2:
        conn.execute("GRUMBLE")
    assert info2.value.diag.statement_position == "1"
    with pytest.raises(psycopg.errors.InvalidTextRepresentation):
        conn.execute("SELECT %s::int4 + 1", ["x"])
    assert conn.execute("SELECT 1").fetchone() == (1,)


def test_failed_transaction_block(server: Running) -> None:  # noqa: F811
    with psycopg.connect(server.dsn()) as conn:
        with pytest.raises(psycopg.errors.DivisionByZero):
            conn.execute("SELECT 1/0")
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
        with pytest.raises(psycopg.errors.InFailedSqlTransaction):
            conn.execute("SELECT 1")
        conn.rollback()
        assert conn.execute("SELECT 2").fetchone() == (2,)


def test_notices(conn: psycopg.Connection) -> None:
    seen: list[tuple[str | None, ...]] = []
    conn.add_notice_handler(
        lambda d: seen.append((d.severity, d.message_primary, d.message_hint)))
    assert conn.execute("SELECT notice('hello')").fetchone() == ("hello",)
    assert seen == [
        ("NOTICE", "hello", "a notice from the test backend")]


def test_parameter_status_follows_set(conn: psycopg.Connection) -> None:
    assert conn.info.parameter_status("server_version").startswith(b"16.") if isinstance(
        conn.info.parameter_status("server_version"), bytes) else True
    assert conn.info.server_version >= 160000
    conn.execute("SET application_name = 'psy'")
    assert conn.info.parameter_status("application_name") == "psy"
    conn.execute("SET TimeZone = 'America/New_York'")
    assert conn.info.timezone.key == "America/New_York"
    got = conn.execute("SELECT '2024-01-01 12:00+00'::timestamptz").fetchone()[0]
    assert got == dt.datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
    assert got.utcoffset() == dt.timedelta(hours=-5)


def test_copy_in_and_out(conn: psycopg.Connection) -> None:
    conn.execute("DELETE FROM items")
    with conn.cursor() as cur:
        with cur.copy("COPY items FROM STDIN") as copy:
            for i in range(500):
                copy.write_row((i, f"name\t{i}" if i % 7 else None))
        assert cur.rowcount == 500
        with cur.copy("COPY items TO STDOUT") as copy:
            data = b"".join(bytes(chunk) for chunk in copy)
        lines = data.decode().splitlines()
        assert len(lines) == 500 and lines[1] == "1\tname\\t1" and lines[0] == "0\t\\N"
        with cur.copy("COPY items TO STDOUT (FORMAT csv)") as copy:
            csv = b"".join(bytes(chunk) for chunk in copy).decode()
        assert csv.splitlines()[1] == '1,name\t1'
        with pytest.raises(psycopg.errors.QueryCanceled):
            with cur.copy("COPY items FROM STDIN") as copy:
                copy.write_row((1, "x"))
                raise psycopg.errors.QueryCanceled("stop")  # psycopg sends CopyFail
    assert conn.execute("SELECT 4").fetchone() == (4,)


def test_connection_info(conn: psycopg.Connection) -> None:
    info = conn.info
    assert info.backend_pid > 0
    assert info.encoding == "utf-8"
    assert info.parameter_status("integer_datetimes") == "on"
    assert info.parameter_status("is_superuser") == "on"
    assert info.parameter_status("session_authorization") == "admin"
