"""Misuse and bad input of the codecs: clear exceptions, never a crash.

Goal: a value of the wrong Python type raises TypeError and an out-of-range value ValueError,
each naming the column position and SQL type; bad layouts are refused at construction; bytes
that are not a key or row of the layout raise DecodeError (a ValueError); a failed encode
leaves the layout usable. Method: a table of (type, bad value, exception) cases run against
both codecs, plus hand-made corrupt byte strings.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any

import pytest

from dsql.storage.codec import (
    INFINITY,
    DecodeError,
    Interval,
    KeyLayout,
    RowLayout,
    key_column,
)

UTC = datetime.timezone.utc
NAIVE = datetime.datetime(2024, 1, 1)
AWARE = datetime.datetime(2024, 1, 1, tzinfo=UTC)

BAD_VALUES: list[tuple[str, Any, type[Exception], str]] = [
    ("int2", 40000, ValueError, "out of range for int2"),
    ("int2", -32769, ValueError, "out of range"),
    ("int4", 2**31, ValueError, "out of range"),
    ("int8", 2**63, ValueError, "out of range"),
    ("int8", -(2**200), ValueError, "out of range"),
    ("int4", "1", TypeError, "expected int, got str"),
    ("int4", 1.0, TypeError, "expected int, got float"),
    ("int4", True, TypeError, "expected int, got bool"),
    ("bool", 1, TypeError, "expected bool"),
    ("float8", "1.5", TypeError, "expected float"),
    ("float8", 10**400, ValueError, "too large"),
    ("float4", 1e39, ValueError, "overflows float4"),
    ("float4", 1e-50, ValueError, "underflows float4"),
    ("numeric", 1.5, TypeError, "expected decimal.Decimal or int"),
    ("numeric", decimal.Decimal("sNaN"), ValueError, "not a PostgreSQL numeric"),
    ("numeric", decimal.Decimal("1E+131072"), ValueError, "numeric range"),
    ("numeric", decimal.Decimal("1E-16384"), ValueError, "numeric range"),
    ("text", b"abc", TypeError, "expected str, got bytes"),
    ("text", "\ud800", ValueError, "UTF-8"),
    ("bpchar", 5, TypeError, "expected str"),
    ("bytea", "abc", TypeError, "expected bytes"),
    ("date", NAIVE, TypeError, "datetime.date (not datetime)"),
    ("date", "2024-01-01", TypeError, "expected datetime.date"),
    ("time", datetime.time(1, tzinfo=UTC), ValueError, "has a time zone"),
    ("time", NAIVE, TypeError, "expected datetime.time"),
    ("timestamp", AWARE, ValueError, "has a time zone"),
    ("timestamp", datetime.date(2024, 1, 1), TypeError, "expected datetime.datetime"),
    ("timestamptz", NAIVE, ValueError, "is naive"),
    ("interval", datetime.timedelta(days=1), TypeError, "expected dsql.storage.interval"),
    ("uuid", "00000000-0000-0000-0000-000000000000", TypeError, "expected uuid.UUID"),
    ("uuid", uuid.UUID(int=1).bytes, TypeError, "expected uuid.UUID"),
]


@pytest.mark.parametrize(("type_name", "value", "exc", "message"), BAD_VALUES)
def test_bad_values_name_the_column(type_name: str, value: Any, exc: type[Exception],
                                    message: str) -> None:
    key = KeyLayout(1, [key_column("int4"), key_column(type_name)])
    with pytest.raises(exc, match=f"key column 1 \\({type_name}\\)") as info:
        key.encode((7, value))
    assert message in str(info.value)
    row = RowLayout(["text", "int4", type_name])
    with pytest.raises(exc, match=f"row column 2 \\({type_name}\\)"):
        row.encode_many([("ok", 1, None), ("a", 2, value)])
    # The layouts stay usable after a failed encode.
    assert key.decode(key.encode((7, None))) == (7, None)
    assert row.decode(row.encode(("a", 2, None))) == ("a", 2, None)


def test_naive_tzinfo_that_returns_no_offset_is_naive() -> None:
    class NoOffset(datetime.tzinfo):
        def utcoffset(self, dt: datetime.datetime | None) -> None:
            return None

    layout = RowLayout(["timestamptz"])
    with pytest.raises(ValueError, match="is naive"):
        layout.encode((datetime.datetime(2024, 1, 1, tzinfo=NoOffset()),))


def test_wrong_number_of_values() -> None:
    key = KeyLayout(1, [key_column("int4")] * 2)
    with pytest.raises(ValueError, match="has 2 columns, got 3 values"):
        key.encode((1, 2, 3))
    with pytest.raises(ValueError, match="has 2 columns, got 1 values"):
        key.encode((1,))
    with pytest.raises(ValueError, match="has 2 columns, got 3 values"):
        key.prefix_bounds((1, 2, 3))
    with pytest.raises(ValueError):
        RowLayout(["int4"]).encode(())
    with pytest.raises(TypeError, match="tuple or list"):
        key.encode("ab")
    with pytest.raises(TypeError, match="must be a list"):
        key.encode_many(b"rows")


def test_bad_layouts_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown column type 'integer'"):
        KeyLayout(1, [("integer", False, False)])
    with pytest.raises(ValueError, match="unknown column type"):
        RowLayout(["int4", "money"])
    with pytest.raises(TypeError, match="must be a tuple"):
        KeyLayout(1, ["int4"])
    with pytest.raises(TypeError, match="must be bools"):
        KeyLayout(1, [("int4", 0, 1)])
    with pytest.raises(ValueError, match="prefix must be in"):
        KeyLayout(2**32 - 1, [])
    with pytest.raises(ValueError, match="prefix must be in"):
        KeyLayout(-1, [])
    with pytest.raises(TypeError, match="prefix must be an int"):
        KeyLayout("1", [])
    with pytest.raises(ValueError, match="at most 1600 columns"):
        RowLayout(["int4"] * 1601)
    with pytest.raises(ValueError, match="unknown column type"):
        key_column("int")  # type: ignore[arg-type]


def test_corrupt_keys_raise_decode_error() -> None:
    layout = KeyLayout(9, [key_column("text"), key_column("numeric")])
    good = layout.encode(("a", decimal.Decimal(1)))
    other = KeyLayout(10, [key_column("text"), key_column("numeric")])
    cases = [b"", b"\x00\x00", other.encode(("a", 1)), good + b"\x00",
             good[:4] + b"\x07", good[:4] + b"\x01a\x00\x05",
             good[:4] + b"\x01\xff\xfe\x00\x01\x01\x09"]
    for bad in cases:
        with pytest.raises(DecodeError):
            layout.decode(bad)
    with pytest.raises(DecodeError, match="prefix 10 is not this layout's 9"):
        layout.decode(other.encode(("a", 1)))
    assert issubclass(DecodeError, ValueError)
    with pytest.raises(TypeError, match="expected bytes"):
        layout.decode("not bytes")


def test_invalid_utf8_in_a_text_column_is_a_decode_error() -> None:
    layout = KeyLayout(0, [key_column("text")])
    with pytest.raises(DecodeError, match="UTF-8"):
        layout.decode(b"\x00\x00\x00\x00\x01\xff\x00\x01")
    rows = RowLayout(["text"])
    with pytest.raises(DecodeError, match="UTF-8"):
        rows.decode_many([b"\x01\x00\x01\xff"])


def zigzag_varint(n: int) -> bytes:
    u = (n << 1) ^ (n >> 63)
    out = bytearray()
    while u >= 0x80:
        out.append((u & 0x7F) | 0x80)
        u >>= 7
    return bytes(out + bytes([u]))


def test_values_python_cannot_hold_raise_on_decode() -> None:
    # Written as raw encodings: PostgreSQL allows years outside 1..9999 and 24:00:00.
    time_layout = RowLayout(["time"])
    with pytest.raises(ValueError, match="24:00:00"):
        time_layout.decode(b"\x01\x00" + zigzag_varint(86_400_000_000))
    date_layout = RowLayout(["date"])
    with pytest.raises(ValueError, match="outside Python's date range"):
        date_layout.decode(b"\x01\x00" + zigzag_varint(3_000_000))  # year 10213
    with pytest.raises(ValueError, match="outside Python's datetime range"):
        RowLayout(["timestamp"]).decode(b"\x01\x00" + (-(2**62)).to_bytes(8, "little",
                                                                          signed=True))
    assert date_layout.decode(date_layout.encode((INFINITY,))) == (INFINITY,)


def test_corrupt_rows_raise_decode_error() -> None:
    layout = RowLayout(["int2", "text"])
    for bad in (b"", b"\x02", b"\x02\x00\x80\x80\x04\x00", b"\x02\x04", b"\x02\x00\x02\x05ab",
                b"\x03\x00\x00\x00\x00", b"\x02\x00\x02\x00\x00"):
        with pytest.raises(DecodeError):
            layout.decode(bad)


def test_interval_validates_its_fields() -> None:
    with pytest.raises(ValueError, match="months"):
        Interval(months=2**31)
    with pytest.raises(TypeError, match="microseconds"):
        Interval(microseconds=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Interval(days=True)


def test_layouts_are_reentrant() -> None:
    # A tzinfo's utcoffset() runs Python code in the middle of an encode, where another thread
    # (or the callback itself) may use the same layout; no call may see another's scratch state.
    keys = KeyLayout(1, [key_column("int4"), key_column("timestamptz")])
    rows = RowLayout(["int4", "timestamptz", "numeric"])
    hour = datetime.timedelta(hours=1)

    class Reentrant(datetime.tzinfo):
        def utcoffset(self, dt: datetime.datetime | None) -> datetime.timedelta:
            keys.encode((99, AWARE))
            rows.encode_many([(98, AWARE, decimal.Decimal("123.456"))] * 3)
            return hour

    local = datetime.datetime(2024, 1, 1, 1, tzinfo=Reentrant())
    values = (5, local, decimal.Decimal("-7.5"))
    assert keys.decode(keys.encode(values[:2])) == (5, AWARE)
    assert rows.decode_many(rows.encode_many([values, values])) == [(5, AWARE,
                                                                     decimal.Decimal("-7.5"))] * 2
    with pytest.raises(TypeError, match="immutable"):
        keys.__init__(2, [])  # type: ignore[misc]


def test_big_ints_are_numerics_within_postgres_limits() -> None:
    layout = RowLayout(["numeric"])
    big = 10**5000 + 1
    assert layout.decode(layout.encode((big,))) == (decimal.Decimal(big),)
    with pytest.raises(ValueError, match="numeric range"):
        layout.encode((10**131_072,))
