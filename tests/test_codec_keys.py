"""The key codec from Python: bytewise order of keys is PostgreSQL's order, for every type.

Goal: for every column type, direction and NULL placement, alone and in composite keys,
comparing encoded keys bytewise gives the order of tests/pg_order.py (a plain-Python model of
PostgreSQL's comparison functions), decode(encode(x)) is equal to x in PostgreSQL's sense, key
ranges from prefix_bounds hold exactly the keys with those leading values, and arbitrary bytes
never crash the decoder. Method: hypothesis draws values weighted to edge cases
(tests/codec_strategies.py); all pairs of a drawn list are compared; hand-picked edge cases sit
beside the properties.
"""

from __future__ import annotations

import datetime
import decimal
import math
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codec_strategies import TYPES, values
from dsql.storage.codec import (
    INFINITY,
    NEG_INFINITY,
    DecodeError,
    Interval,
    KeyLayout,
    key_column,
    key_successor,
)
from pg_order import Column, key_equal, key_order

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def sign(x: int) -> int:
    return (x > 0) - (x < 0)


def check_order_and_round_trip(columns: list[Column], rows: list[tuple[Any, ...]]) -> None:
    layout = KeyLayout(1234, columns)
    keys = layout.encode_many(rows)
    assert keys == [layout.encode(r) for r in rows]
    decoded = layout.decode_many(keys)
    for row, key, back in zip(rows, keys, decoded, strict=True):
        for (type_name, _, _), want, got in zip(columns, row, back, strict=True):
            assert key_equal(type_name, got, want), (type_name, want, got)
        assert layout.encode(back) == key  # the decoded value is the same key
    for i in range(len(rows)):
        for j in range(i + 1, len(rows)):
            want = key_order(columns, rows[i], rows[j])
            got = sign((keys[i] > keys[j]) - (keys[i] < keys[j]))
            assert got == want, (rows[i], rows[j], keys[i], keys[j])


@pytest.mark.parametrize("type_name", TYPES)
@SETTINGS
@given(data=st.data(), descending=st.booleans(), nulls_first=st.booleans())
def test_single_column_order_and_round_trip(type_name: str, data: st.DataObject,
                                            descending: bool, nulls_first: bool) -> None:
    vals = data.draw(st.lists(values(type_name), min_size=2, max_size=25))
    check_order_and_round_trip([(type_name, descending, nulls_first)], [(v,) for v in vals])


@st.composite
def layouts_and_rows(draw: Any) -> tuple[list[Column], list[tuple[Any, ...]]]:
    columns = draw(st.lists(st.tuples(st.sampled_from(TYPES), st.booleans(), st.booleans()),
                            min_size=1, max_size=4))
    # Few distinct values per column, so later columns often decide.
    pools = [draw(st.lists(values(c[0]), min_size=1, max_size=3)) for c in columns]
    rows = draw(st.lists(st.tuples(*[st.sampled_from(p) for p in pools]), min_size=2,
                         max_size=20))
    return columns, rows


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(layouts_and_rows())
def test_composite_keys_order_column_by_column(case: tuple[list[Column], list[tuple]]) -> None:
    columns, rows = case
    check_order_and_round_trip(columns, rows)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(layouts_and_rows(), st.data())
def test_prefix_bounds_hold_exactly_the_keys_with_those_leading_values(
        case: tuple[list[Column], list[tuple]], data: st.DataObject) -> None:
    columns, rows = case
    layout = KeyLayout(77, columns)
    other = KeyLayout(78, columns)
    n = data.draw(st.integers(0, len(columns)))
    leading = data.draw(st.sampled_from(rows))[:n]
    lo, hi = layout.prefix_bounds(leading)
    assert lo < hi
    for row in rows:
        key = layout.encode(row)
        matches = all(key_order([c], (a,), (b,)) == 0
                      for c, a, b in zip(columns[:n], row[:n], leading, strict=True))
        assert (lo <= key < hi) == matches
        assert not lo <= other.encode(row) < hi


def test_prefix_bounds_of_the_whole_layout() -> None:
    layout = KeyLayout(5, [key_column("int4")])
    lo, hi = layout.prefix_bounds()
    assert (lo, hi) == (b"\x00\x00\x00\x05", b"\x00\x00\x00\x06")
    assert key_successor(b"a\xff\xff") == b"b"
    with pytest.raises(ValueError):
        key_successor(b"\xff\xff")


def test_integer_limits_and_width() -> None:
    layout = KeyLayout(0, [key_column("int8")])
    ks = [layout.encode((v,)) for v in (-(2**63), -1, 0, 1, 2**63 - 1)]
    assert ks == sorted(ks)
    assert all(len(k) == 4 + 1 + 8 for k in ks)
    small = KeyLayout(0, [key_column("int2", descending=True)])
    assert small.encode((32767,)) < small.encode((-32768,))


def test_floats_nan_negative_zero_infinities() -> None:
    layout = KeyLayout(0, [key_column("float8")])
    order = [-math.inf, -1e308, -5e-324, 0.0, 5e-324, 1e308, math.inf, math.nan]
    ks = [layout.encode((v,)) for v in order]
    assert ks == sorted(ks) and len(set(ks)) == len(ks)
    assert layout.encode((-0.0,)) == layout.encode((0.0,))
    assert math.copysign(1, layout.decode(layout.encode((-0.0,)))[0]) == 1
    assert layout.encode((-math.nan,)) == layout.encode((math.nan,))


def test_numeric_trailing_zeros_are_one_key_and_decode_to_smallest_scale() -> None:
    layout = KeyLayout(0, [key_column("numeric")])
    d = decimal.Decimal
    assert layout.encode((d("1.0"),)) == layout.encode((d("1.00"),)) == layout.encode((1,))
    assert layout.decode(layout.encode((d("1.500"),)))[0].as_tuple() == d("1.5").as_tuple()
    assert str(layout.decode(layout.encode((d("1E+3"),)))[0]) == "1000"
    assert str(layout.decode(layout.encode((d("-0.00"),)))[0]) == "0"
    order = ["-Infinity", "-1E+131071", "-10", "-9.99", "-0.001", "0", "1E-16383", "0.5",
             "0.50001", "1", "10", "1E+131071", "Infinity", "NaN"]
    ks = [layout.encode((d(s),)) for s in order]
    assert ks == sorted(ks) and len(set(ks)) == len(ks)


def test_huge_numerics_round_trip() -> None:
    layout = KeyLayout(0, [key_column("numeric", descending=True)])
    big = decimal.Decimal("9" * 131_072 + "." + "3" * 16_383)
    (back,) = layout.decode(layout.encode((big,)))
    assert back == big
    smaller = decimal.Decimal("8" + "9" * 131_071 + "." + "3" * 16_383)
    assert layout.encode((big,)) < layout.encode((smaller,))  # DESC
    with pytest.raises(ValueError, match="numeric range"):
        layout.encode((decimal.Decimal("1E+131072"),))
    with pytest.raises(ValueError, match="numeric range"):
        layout.encode((decimal.Decimal("1E-16384"),))


def test_text_with_nul_bytes_sorts_and_delimits() -> None:
    layout = KeyLayout(0, [key_column("text"), key_column("int4")])
    order = ["", "\x00", "\x00\x00", "\x00\x01", "\x01", "a", "a\x00", "ab", "é", "\uffff",
             "\U0001d11e"]
    for s, t in zip(order, order[1:], strict=False):
        assert layout.encode((s, 2**31 - 1)) < layout.encode((t, -(2**31)))
    assert layout.decode(layout.encode(("a\x00b", 3))) == ("a\x00b", 3)


def test_bpchar_ignores_trailing_spaces() -> None:
    layout = KeyLayout(0, [key_column("bpchar")])
    assert layout.encode(("ab",)) == layout.encode(("ab   ",))
    assert layout.decode(layout.encode(("ab  ",))) == ("ab",)
    assert layout.encode((" a",)) != layout.encode(("a",))


def test_intervals_of_equal_span_are_adjacent_distinct_keys() -> None:
    layout = KeyLayout(0, [key_column("interval")])
    month, days30 = Interval(months=1), Interval(days=30)
    assert month == days30  # PostgreSQL equality...
    assert layout.encode((days30,)) < layout.encode((month,))  # ...distinct, adjacent keys
    assert layout.encode((Interval(days=29, microseconds=86_400_000_000 - 1),)) < \
        layout.encode((days30,))
    assert layout.encode((month,)) < layout.encode((Interval(days=30, microseconds=1),))
    (back,) = layout.decode(layout.encode((month,)))
    assert back.components == (1, 0, 0)


def test_dates_and_timestamps_with_infinities() -> None:
    for type_name, finite in (("date", datetime.date(2000, 1, 1)),
                              ("timestamp", datetime.datetime(2000, 1, 1)),
                              ("timestamptz", datetime.datetime(2000, 1, 1,
                                                                tzinfo=datetime.timezone.utc))):
        layout = KeyLayout(0, [key_column(type_name)])
        ks = [layout.encode((v,)) for v in (NEG_INFINITY, finite, INFINITY)]
        assert ks == sorted(ks)
        assert [layout.decode(k)[0] for k in ks] == [NEG_INFINITY, finite, INFINITY]


def test_timestamptz_decodes_as_the_same_instant_in_utc() -> None:
    layout = KeyLayout(0, [key_column("timestamptz")])
    tz = datetime.timezone(datetime.timedelta(hours=-5))
    t = datetime.datetime(2024, 3, 1, 12, 0, tzinfo=tz)
    (back,) = layout.decode(layout.encode((t,)))
    assert back == t and back.tzinfo is datetime.timezone.utc and back.hour == 17


@pytest.mark.parametrize(("descending", "nulls_first"),
                         [(False, False), (False, True), (True, False), (True, True)])
def test_null_placement(descending: bool, nulls_first: bool) -> None:
    layout = KeyLayout(0, [("text", descending, nulls_first)])
    null = layout.encode((None,))
    for v in ("", "\x00", "\U0010ffff" * 3):
        assert (null < layout.encode((v,))) == nulls_first
    assert layout.decode(null) == (None,)


def test_uuid_orders_as_bytes() -> None:
    layout = KeyLayout(0, [key_column("uuid")])
    a = uuid.UUID(bytes=b"\x00" * 15 + b"\x01")
    b = uuid.UUID(bytes=b"\x80" + b"\x00" * 15)
    assert layout.encode((a,)) < layout.encode((b,))
    (back,) = layout.decode(layout.encode((b,)))
    assert back == b and hash(back) == hash(b) and str(back) == str(b)
    assert type(back) is uuid.UUID and back.is_safe is uuid.SafeUUID.unknown


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40), st.lists(st.tuples(st.sampled_from(TYPES), st.booleans(),
                                                  st.booleans()), max_size=3))
def test_arbitrary_bytes_never_crash_the_decoder(raw: bytes, columns: list[Column]) -> None:
    layout = KeyLayout(0, columns)
    try:
        back = layout.decode(b"\x00\x00\x00\x00" + raw)
    except (DecodeError, ValueError):
        return
    assert len(back) == len(columns)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(layouts_and_rows())
def test_every_truncation_of_a_key_is_rejected(case: tuple[list[Column], list[tuple]]) -> None:
    columns, rows = case
    layout = KeyLayout(3, columns)
    key = layout.encode(rows[0])
    for n in range(len(key)):
        with pytest.raises(DecodeError):
            layout.decode(key[:n])
    with pytest.raises(DecodeError):
        layout.decode(key + b"\x00")
