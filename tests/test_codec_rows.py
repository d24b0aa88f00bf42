"""The row codec from Python: rows come back exactly as written.

Goal: for every column type, decode(encode(row)) gives back the same values exactly (float
bits, numeric digits and scale, bpchar spaces, interval components, the same instant for
timestamptz, in UTC), batches equal single calls, rows written before columns were added decode
with None there, and arbitrary bytes never crash the decoder. Method: hypothesis draws random
layouts over all types and rows weighted to edge values (tests/codec_strategies.py); values are
compared by an identity check stricter than ==.
"""

from __future__ import annotations

import datetime
import decimal
import gc
import struct
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codec_strategies import TYPES, values
from dsql.storage.codec import DecodeError, Interval, RowLayout


def identical(type_name: str, got: Any, want: Any) -> bool:
    if want is None or got is None:
        return got is None and want is None
    if type_name == "float8":
        return type(got) is float and struct.pack("<d", got) == struct.pack("<d", want)
    if type_name == "float4":
        return type(got) is float and struct.pack("<f", got) == struct.pack("<f", want)
    if type_name == "numeric":
        want = decimal.Decimal(want)
        if want.is_nan():  # PostgreSQL has one NaN
            return got.is_nan() and not got.is_signed()
        if want.is_zero():  # ... and no negative zero
            return got.is_zero() and not got.is_signed() and \
                got.as_tuple().exponent == want.as_tuple().exponent
        return got.as_tuple() == want.as_tuple()
    if type_name == "interval":
        return isinstance(got, Interval) and got.components == want.components
    if type_name == "timestamptz" and isinstance(want, datetime.datetime):
        return got == want and got.tzinfo is datetime.timezone.utc
    return type(got) is type(want) and got == want


@st.composite
def layouts_and_rows(draw: Any) -> tuple[list[str], list[tuple[Any, ...]]]:
    types = draw(st.lists(st.sampled_from(TYPES), min_size=0, max_size=10))
    rows = draw(st.lists(st.tuples(*[values(t) for t in types]), min_size=1, max_size=5))
    return types, rows


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(layouts_and_rows())
def test_rows_round_trip_exactly(case: tuple[list[str], list[tuple[Any, ...]]]) -> None:
    types, rows = case
    layout = RowLayout(types)
    encoded = layout.encode_many(rows)
    assert encoded == [layout.encode(r) for r in rows]
    decoded = layout.decode_many(encoded)
    singles = [layout.decode(b) for b in encoded]
    for row, back, single in zip(rows, decoded, singles, strict=True):
        assert type(back) is tuple and len(back) == len(types)
        for type_name, want, got, got1 in zip(types, row, back, single, strict=True):
            assert identical(type_name, got, want), (type_name, want, got)
            assert identical(type_name, got1, want), (type_name, want, got1)


def test_every_type_in_one_row() -> None:
    import uuid

    utc = datetime.timezone.utc
    row = (True, -32768, 2**31 - 1, -(2**63), 1.5, -0.0, decimal.Decimal("-12.3400"), "héllo",
           "v", "ab  ", b"\x00\xff", datetime.date(1, 1, 1), datetime.time(23, 59, 59, 999999),
           datetime.datetime(9999, 12, 31, 23, 59, 59, 999999),
           datetime.datetime(2024, 2, 29, 12, tzinfo=utc), Interval(1, -2, 3),
           uuid.UUID(int=2**128 - 1))
    layout = RowLayout(["bool", "int2", "int4", "int8", "float4", "float8", "numeric", "text",
                        "varchar", "bpchar", "bytea", "date", "time", "timestamp", "timestamptz",
                        "interval", "uuid"])
    back = layout.decode(layout.encode(row))
    for type_name, want, got in zip(layout.types, row, back, strict=True):
        assert identical(type_name, got, want), (type_name, want, got)


def test_compact_encoding() -> None:
    layout = RowLayout(["int4", "text", "int8", "bool"])
    # ncols, bitmap, varint 5, len + "hi", NULL (no bytes), bool
    assert layout.encode((5, "hi", None, True)) == b"\x04\x04\x0a\x02hi\x01"
    assert RowLayout([]).encode(()) == b"\x00"


def test_rows_written_before_columns_were_added_decode_with_none() -> None:
    before = RowLayout(["int4", "text"])
    after = RowLayout(["int4", "text", "bool", "numeric"])
    assert after.decode(before.encode((1, "x"))) == (1, "x", None, None)
    try:
        before.decode(after.encode((1, None, True, None)))
    except DecodeError:
        pass
    else:
        raise AssertionError("a row wider than its layout must not decode")


def test_decoded_tuples_of_atomic_values_are_not_tracked_by_the_collector() -> None:
    atomic = RowLayout(["int4", "text", "float8", "timestamptz"])
    t = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    (row,) = atomic.decode_many([atomic.encode((1, "a", 2.0, t))])
    assert not gc.is_tracked(row)
    with_interval = RowLayout(["int4", "interval"])
    row = with_interval.decode(with_interval.encode((1, Interval(1, 2, 3))))
    assert gc.is_tracked(row)  # Interval instances are tracked, so the tuple must be too
    gc.collect()
    assert row[1].components == (1, 2, 3)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40), st.lists(st.sampled_from(TYPES), max_size=4))
def test_arbitrary_bytes_never_crash_the_decoder(raw: bytes, types: list[str]) -> None:
    layout = RowLayout(types)
    try:
        back = layout.decode(raw)
    except (DecodeError, ValueError):
        return
    assert len(back) == len(types)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(layouts_and_rows())
def test_every_truncation_of_a_row_is_rejected(case: tuple[list[str], list[tuple]]) -> None:
    types, rows = case
    layout = RowLayout(types)
    row = layout.encode(rows[0])
    for n in range(len(row)):
        try:
            layout.decode(row[:n])
        except DecodeError:
            continue
        raise AssertionError(f"a truncation to {n} of {len(row)} bytes decoded")


def test_scan_decoded_matches_scan_then_decode() -> None:
    """RowLayout.scan_decoded (values decoded in place from the store) gives what a store scan
    followed by decode_many gives, forward and reverse, across shards, in batches."""
    from dsql.storage.codec import KeyLayout, key_column
    from dsql.storage.store import MvccStore, ShardMap

    keys = KeyLayout(7, [key_column("int8")])
    rows = RowLayout(["int4", "text", "float8"])
    data = {i: (i % 13, f"row {i}", i / 4) for i in range(0, 500, 3)}
    for make in (MvccStore, ShardMap):
        store = make()
        if isinstance(store, ShardMap):
            store.split(keys.encode((200,)))
        store.apply(1, [(keys.encode((i,)), rows.encode(v)) for i, v in data.items()])
        store.apply(2, [(keys.encode((9,)), None)])
        store.advance_watermark(2)
        lo, hi = keys.prefix_bounds()
        for ts in (1, 2):
            for reverse in (False, True):
                expected = [rows.decode(v) for _, v in store.scan_all(lo, hi, ts,
                                                                      reverse=reverse)]
                got: list[tuple] = []
                cur_lo, cur_hi = lo, hi
                while True:
                    batch, raw_keys, resume = rows.scan_decoded(store, cur_lo, cur_hi, ts, 17,
                                                                reverse, True)
                    assert raw_keys is not None and len(raw_keys) == len(batch)
                    got += batch
                    if resume is None:
                        break
                    if reverse:
                        cur_hi = resume
                    else:
                        cur_lo = resume
                assert got == expected
