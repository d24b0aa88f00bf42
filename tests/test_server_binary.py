"""Binary wire codecs (dsql.server.binary) against PostgreSQL 15's own send/recv functions.

Goal: every supported type's binary format is byte-for-byte PostgreSQL's, both directions.
Method: (1) a live PostgreSQL (fixture `postgres_server`) returns literals of each type in
binary result format; our decoder must produce the value dsql's text input gives for the same
literal, and our encoder must reproduce PostgreSQL's bytes exactly. (2) Bytes we encode are
sent to PostgreSQL as binary Bind parameters and its text output must be the literal's. (3)
hypothesis round-trips decode(encode(v)) == v on generated values, and malformed inputs give
22P03 / 22008 / 22021 instead of crashing.
"""

from __future__ import annotations

import struct
import uuid
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsql.errors import DsqlError
from dsql.server import binary
from dsql.sql.types import registry
from dsql.storage.interval import Interval

# (type name as written in SQL, type OID, literals)
CASES: list[tuple[str, int, list[str]]] = [
    ("boolean", binary.BOOL, ["true", "false"]),
    ("smallint", binary.INT2, ["0", "1", "-1", "32767", "-32768"]),
    ("integer", binary.INT4, ["0", "42", "-7", "2147483647", "-2147483648"]),
    ("bigint", binary.INT8, ["0", "9223372036854775807", "-9223372036854775808", "123456789012"]),
    ("real", binary.FLOAT4, ["0", "-0", "1.5", "0.1", "3.4028235e38", "1e-45", "NaN",
                             "Infinity", "-Infinity"]),
    ("double precision", binary.FLOAT8, ["0", "-0", "0.1", "1e308", "5e-324", "NaN",
                                         "-Infinity", "3.141592653589793"]),
    ("numeric", binary.NUMERIC, [
        "0", "0.00", "1", "-1", "0.0001", "0.001", "12345.678", "100000", "1e20", "-123.4500",
        "1e-20", "NaN", "Infinity", "-Infinity", "99999999999999999999.99999",
        "0.1234567890123456789", "10000", "9999", "-0.5", "1000000.0000001", "7e-5"]),
    ("text", binary.TEXT, ["", "hello", "héllo ☃ 𝄞", "tab\there"]),
    ("varchar", binary.VARCHAR, ["", "abc"]),
    ("char(5)", binary.BPCHAR, ["ab", "abcde"]),
    ("bytea", binary.BYTEA, ["\\x", "\\x00ff10", "\\x" + "ab" * 100]),
    ("date", binary.DATE, ["2000-01-01", "1999-12-31", "0001-01-01", "9999-12-31",
                           "2024-02-29", "infinity", "-infinity"]),
    ("time", binary.TIME, ["00:00", "23:59:59.999999", "12:34:56.5"]),
    ("timestamp", binary.TIMESTAMP, [
        "2000-01-01 00:00", "1970-01-01", "0001-01-01", "9999-12-31 23:59:59.999999",
        "2024-02-29 12:00:00.123456", "1999-12-31 23:59:59.999999", "infinity", "-infinity"]),
    ("timestamptz", binary.TIMESTAMPTZ, [
        "2000-01-01 00:00+00", "2024-06-01 12:00:00+02", "1900-03-04 05:06:07.000008+00",
        "infinity", "-infinity"]),
    ("interval", binary.INTERVAL, ["1 mon 2 days 3 s", "-1 year", "00:00:00.000001",
                                   "1 day -1 hour", "0"]),
    ("uuid", binary.UUID, ["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                           "00000000-0000-0000-0000-000000000000"]),
    ("json", binary.JSON, ['{"a": 1, "a": 2}', "[1,  2]", '"x"']),
    ("jsonb", binary.JSONB, ['{"b": 1, "a": [true, null]}', '"x"', "1.50", "[]", "null"]),
]

# Types outside the SQL value registry: (type, oid, [(literal, expected Python value)]).
EXTRA_CASES: list[tuple[str, int, list[tuple[str, Any]]]] = [
    ("name", binary.NAME, [("pg_class", "pg_class"), ("", "")]),
    ("oid", binary.OID, [("0", 0), ("4294967295", 4294967295), ("26", 26)]),
    ('"char"', binary.CHAR, [("a", "a"), ("", "")]),
]


def canonical(v: Any) -> Any:
    """A key that tells apart what SQL equality does not (scale, -0.0, NaN, interval fields)."""
    if isinstance(v, float):
        return ("float", struct.pack("!d", v))
    if isinstance(v, Decimal):
        return ("numeric", str(v))
    if isinstance(v, Interval):
        return ("interval", v.components)
    if isinstance(v, datetime):
        return ("datetime", v.isoformat())
    return (type(v).__name__, repr(v))


def sql_literal(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def pg_binary_values(conn: psycopg.Connection, type_sql: str, literals: list[str]) -> list[bytes]:
    """PostgreSQL's binary send output of each literal cast to `type_sql`."""
    cols = ", ".join(f"{sql_literal(lit)}::{type_sql}" for lit in literals)
    res = conn.pgconn.exec_params(f"SELECT {cols}".encode(), [], result_format=1)
    assert res.status == psycopg.pq.ExecStatus.TUPLES_OK, res.error_message
    return [res.get_value(0, i) for i in range(len(literals))]


def pg_text_of_binary(conn: psycopg.Connection, type_sql: str, oid: int,
                      values: list[bytes]) -> list[str]:
    """PostgreSQL's text output of each binary value sent as a Bind parameter of type `oid`."""
    cols = ", ".join(f"${i + 1}::{type_sql}::text" for i in range(len(values)))
    res = conn.pgconn.exec_params(f"SELECT {cols}".encode(), values,
                                  param_types=[oid] * len(values),
                                  param_formats=[1] * len(values), result_format=0)
    assert res.status == psycopg.pq.ExecStatus.TUPLES_OK, res.error_message
    return [res.get_value(0, i).decode() for i in range(len(values))]


@pytest.fixture(scope="module")
def pg(postgres_server: Any) -> Any:
    with psycopg.connect(postgres_server.dsn, autocommit=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        yield conn


@pytest.mark.parametrize(("type_sql", "oid", "literals"), CASES, ids=[c[0] for c in CASES])
def test_codec_matches_postgres(pg: psycopg.Connection, type_sql: str, oid: int,
                                literals: list[str]) -> None:
    pg_bytes = pg_binary_values(pg, type_sql, literals)
    sql_type = registry.lookup_type(
        type_sql.split("(")[0],
        [int(type_sql.split("(")[1].rstrip(")"))] if "(" in type_sql else [])
    assert sql_type.oid == oid
    enc, dec = binary.encoder(oid), binary.decoder(oid)
    assert enc is not None and dec is not None
    for lit, raw in zip(literals, pg_bytes, strict=True):
        expected = sql_type.input(lit)
        assert canonical(dec(raw)) == canonical(expected), (type_sql, lit)
        assert enc(expected) == raw, (type_sql, lit, enc(expected).hex(), raw.hex())
    # PostgreSQL reads our bytes back to the same text it prints for the literal.
    ours = [enc(sql_type.input(lit)) for lit in literals]
    pg_text = pg.pgconn.exec_params(
        ("SELECT " + ", ".join(f"{sql_literal(lit)}::{type_sql}::text" for lit in literals))
        .encode(), [], result_format=0)
    want = [pg_text.get_value(0, i).decode() for i in range(len(literals))]
    assert pg_text_of_binary(pg, type_sql, oid, ours) == want


@pytest.mark.parametrize(("type_sql", "oid", "cases"), EXTRA_CASES,
                         ids=[c[0] for c in EXTRA_CASES])
def test_catalog_types_match_postgres(pg: psycopg.Connection, type_sql: str, oid: int,
                                      cases: list[tuple[str, Any]]) -> None:
    pg_bytes = pg_binary_values(pg, type_sql, [lit for lit, _ in cases])
    enc, dec = binary.encoder(oid), binary.decoder(oid)
    assert enc is not None and dec is not None
    for (lit, value), raw in zip(cases, pg_bytes, strict=True):
        assert dec(raw) == value, lit
        assert enc(value) == raw, lit


def test_random_numerics_match_postgres(pg: psycopg.Connection) -> None:
    """Numerics of many shapes (weights, scales, signs) give PostgreSQL's exact bytes."""
    import random

    rng = random.Random(6)
    literals = []
    for _ in range(400):
        int_digits = rng.choice([0, 1, 3, 4, 5, 8, 9, 17, 40])
        frac_digits = rng.choice([0, 1, 2, 3, 4, 5, 7, 12, 30])
        ip = "".join(rng.choice("0123456789") for _ in range(int_digits)) or "0"
        fp = "".join(rng.choice("0000123456789") for _ in range(frac_digits))
        lit = ("-" if rng.random() < 0.3 else "") + ip + ("." + fp if fp else "")
        literals.append(lit)
    for start in range(0, len(literals), 100):
        chunk = literals[start: start + 100]
        for lit, raw in zip(chunk, pg_binary_values(pg, "numeric", chunk), strict=True):
            value = registry.NUMERIC.input(lit)
            assert binary.encode_numeric(value) == raw, lit
            assert str(binary.decode_numeric(raw)) == str(value), lit


# -- round trips and malformed input without a server -----------------------------------------

_ROUND_TRIP = [
    (binary.BOOL, st.booleans()),
    (binary.INT2, st.integers(-(2**15), 2**15 - 1)),
    (binary.INT4, st.integers(-(2**31), 2**31 - 1)),
    (binary.INT8, st.integers(-(2**63), 2**63 - 1)),
    (binary.OID, st.integers(0, 2**32 - 1)),
    (binary.FLOAT8, st.floats(allow_nan=False)),
    (binary.FLOAT4, st.floats(width=32, allow_nan=False)),
    (binary.TEXT, st.text().filter(lambda s: "\0" not in s)),
    (binary.BYTEA, st.binary()),
    (binary.UUID, st.uuids()),
    (binary.DATE, st.dates()),
    (binary.TIME, st.times().map(lambda t: t.replace(fold=0))),
    (binary.TIMESTAMP, st.datetimes()),
    (binary.TIMESTAMPTZ, st.datetimes().map(lambda d: d.replace(tzinfo=timezone.utc))),
    (binary.INTERVAL, st.builds(Interval, st.integers(-(2**31), 2**31 - 1),
                                st.integers(-(2**31), 2**31 - 1),
                                st.integers(-(2**63), 2**63 - 1))),
    (binary.NUMERIC, st.decimals(allow_nan=False, allow_infinity=False, places=None)
     .filter(lambda d: -d.as_tuple().exponent <= 1000 and d.adjusted() < 1000)
     .map(lambda d: registry.NUMERIC.input(format(d, "f")))),
]


@pytest.mark.parametrize(("oid", "strategy"), _ROUND_TRIP, ids=[str(o) for o, _ in _ROUND_TRIP])
def test_round_trip(oid: int, strategy: st.SearchStrategy[Any]) -> None:
    enc, dec = binary.encoder(oid), binary.decoder(oid)
    assert enc is not None and dec is not None

    @settings(max_examples=150, deadline=None)
    @given(strategy)
    def check(v: Any) -> None:
        assert canonical(dec(enc(v))) == canonical(v)

    check()


def test_special_values() -> None:
    from dsql.sql.types.datetime import INFINITY, NEG_INFINITY

    for oid in (binary.DATE, binary.TIMESTAMP, binary.TIMESTAMPTZ):
        enc, dec = binary.ENCODERS[oid], binary.DECODERS[oid]
        assert dec(enc(INFINITY)) is INFINITY
        assert dec(enc(NEG_INFINITY)) is NEG_INFINITY
    assert binary.encode_date(date(2000, 1, 1)) == b"\0\0\0\0"
    assert binary.encode_timestamp(datetime(2000, 1, 1, 0, 0, 1)) == struct.pack("!q", 10**6)
    assert binary.encode_time(time(0, 0, 0, 7)) == struct.pack("!q", 7)
    assert binary.decode_uuid(uuid.UUID(int=5).bytes) == uuid.UUID(int=5)
    assert binary.encode_numeric(Decimal("NaN")) == struct.pack("!hhHH", 0, 0, 0xC000, 0)


@pytest.mark.parametrize(("oid", "raw", "sqlstate"), [
    (binary.INT4, b"\0\0\0", "22P03"),
    (binary.INT8, b"\0" * 9, "22P03"),
    (binary.BOOL, b"", "22P03"),
    (binary.UUID, b"\0" * 15, "22P03"),
    (binary.NUMERIC, struct.pack("!hhHH", 1, 0, 0, 0), "22P03"),          # digit missing
    (binary.NUMERIC, struct.pack("!hhHHh", 1, 0, 0x1234, 0, 1), "22P03"),  # bad sign
    (binary.NUMERIC, struct.pack("!hhHHh", 1, 0, 0, 0, 10000), "22P03"),   # bad digit
    (binary.NUMERIC, struct.pack("!hhHH", 0, 0, 0, 0x8000), "22P03"),      # bad scale
    (binary.TEXT, b"\xff\xfe", "22021"),
    (binary.TEXT, b"a\0b", "22021"),
    (binary.JSONB, b"\x02{}", "22P03"),
    (binary.JSON, b"{", "22P02"),
    (binary.DATE, struct.pack("!i", 3_000_000), "22008"),
    (binary.TIMESTAMP, struct.pack("!q", 2**62), "22008"),
    (binary.TIME, struct.pack("!q", 86_400_000_000), "22008"),
])
def test_malformed_values_raise_sqlstate(oid: int, raw: bytes, sqlstate: str) -> None:
    dec = binary.DECODERS[oid]
    with pytest.raises(DsqlError) as info:
        dec(raw)
    assert info.value.sqlstate == sqlstate


def test_numeric_digits_beyond_dscale_are_cut() -> None:
    # 1.2345 sent with dscale 2: PostgreSQL's numeric_recv truncates to 1.23.
    raw = struct.pack("!hhHHhh", 2, 0, 0, 2, 1, 2345)
    assert str(binary.decode_numeric(raw)) == "1.23"
    assert binary.decode_timestamp(struct.pack("!q", -1)) == datetime(2000, 1, 1) - timedelta(
        microseconds=1)
