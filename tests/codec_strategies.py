"""Hypothesis strategies for the Python values of every column type the codecs take,
weighted towards the values that break encodings: type limits, NaN, -0.0, infinities, empty
and NUL-laden strings, strings that are prefixes of each other, numerics that differ only in
trailing zeros, intervals of equal span, and PostgreSQL's date and numeric limits.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any

from hypothesis import strategies as st

from dsql.storage.interval import Interval
from dsql.storage.values import INFINITY, NEG_INFINITY

TYPES = ("bool", "int2", "int4", "int8", "float4", "float8", "numeric", "text", "varchar",
         "bpchar", "bytea", "date", "time", "timestamp", "timestamptz", "interval", "uuid")

I32 = (-(2**31), 2**31 - 1)
I64 = (-(2**63), 2**63 - 1)


def _ints(lo: int, hi: int) -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from([lo, lo + 1, -1, 0, 1, hi - 1, hi]),
                     st.integers(-300, 300), st.integers(lo, hi))


def _numerics() -> st.SearchStrategy[decimal.Decimal]:
    digits = st.one_of(st.text("0123456789", min_size=1, max_size=12),
                       st.text("09", min_size=1, max_size=6),  # shared prefixes, zeros
                       st.text("0123456789", min_size=100, max_size=300))
    exponent = st.one_of(st.integers(-20, 20), st.integers(-16_383, -16_000),
                         st.integers(100, 131_000))

    @st.composite
    def finite(draw: Any) -> decimal.Decimal:
        sign = draw(st.sampled_from(["", "-"]))
        d = draw(digits)
        e = draw(exponent)
        # Keep within PostgreSQL's limits: scale <= 16383, <= 131072 digits before the point.
        e = max(e, -16_383)
        e = min(e, 131_072 - len(d.lstrip("0") or "0"))
        return decimal.Decimal(f"{sign}{d}E{e}")

    special = st.sampled_from([decimal.Decimal(s) for s in
                               ("NaN", "Infinity", "-Infinity", "0", "-0", "0.000", "1",
                                "1.0", "1.00", "-1", "1E+2", "100", "0.1", "0.10")])
    return st.one_of(special, finite())


_TEXT_ALPHABET = ["\x00", "\x01", " ", "a", "b", "é", "\uffff", "\U0001d11e", "\x7f"]
_texts = st.one_of(st.text(st.sampled_from(_TEXT_ALPHABET), max_size=6), st.text(max_size=20))
_bytes = st.one_of(st.binary(max_size=20),
                   st.lists(st.sampled_from([b"\x00", b"\x01", b"\xfe", b"\xff", b"a"]),
                            max_size=6).map(b"".join))

_OFFSETS = [datetime.timezone.utc, datetime.timezone(datetime.timedelta(hours=5, minutes=30)),
            datetime.timezone(datetime.timedelta(hours=-8)),
            datetime.timezone(datetime.timedelta(hours=23, minutes=59))]
# Aware values whose UTC instant stays within Python's range (decode gives UTC).
_aware = st.datetimes(min_value=datetime.datetime(1, 1, 2),
                      max_value=datetime.datetime(9999, 12, 30),
                      timezones=st.sampled_from(_OFFSETS))
_infinities = st.sampled_from([INFINITY, NEG_INFINITY])
_day = 86_400_000_000

_intervals = st.one_of(
    st.builds(Interval, st.integers(-2, 2), st.integers(-60, 60),
              st.integers(-2, 2).map(lambda n: n * _day)),  # equal spans, other components
    st.builds(Interval, _ints(*I32), _ints(*I32), _ints(*I64)),
)
_uuids = st.one_of(st.uuids(), st.lists(st.sampled_from([0, 1, 0x7F, 0x80, 0xFF]), min_size=16,
                                        max_size=16).map(lambda b: uuid.UUID(bytes=bytes(b))))

STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "bool": st.booleans(),
    "int2": _ints(-(2**15), 2**15 - 1),
    "int4": _ints(*I32),
    "int8": _ints(*I64),
    "float4": st.one_of(st.floats(width=32), st.sampled_from([-0.0, 0.0, float("nan")])),
    "float8": st.one_of(st.floats(), st.sampled_from([-0.0, 0.0, float("nan"), 5e-324])),
    "numeric": _numerics(),
    "text": _texts,
    "varchar": _texts,
    "bpchar": _texts,
    "bytea": _bytes,
    "date": st.one_of(st.dates(), _infinities),
    "time": st.times(),
    "timestamp": st.one_of(st.datetimes(), _infinities),
    "timestamptz": st.one_of(_aware, _infinities),
    "interval": _intervals,
    "uuid": _uuids,
}


def values(type_name: str, *, nulls: bool = True) -> st.SearchStrategy[Any]:
    """Values of one column type, and None one time in a few when `nulls`."""
    s = STRATEGIES[type_name]
    return st.one_of(st.none(), s) if nulls else s
