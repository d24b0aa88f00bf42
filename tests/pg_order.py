"""PostgreSQL's ordering of SQL values, in plain Python: the reference the key codec is tested
against (tests/test_codec_keys.py). Written from PostgreSQL's comparison functions (btint*cmp,
float8_cmp_internal, cmp_numerics, bpcharcmp with C collation, byteacmp, timestamp_cmp,
interval_cmp_value, uuid_cmp), independently of the C++ code.
"""

from __future__ import annotations

import datetime
import decimal
import math
import uuid
from collections.abc import Sequence
from typing import Any

from dsql.storage.interval import Interval
from dsql.storage.values import INFINITY, NEG_INFINITY

Column = tuple[str, bool, bool]  # (type_name, descending, nulls_first)


def _cmp(a: Any, b: Any) -> int:
    return (a > b) - (a < b)


def _float_cmp(a: float, b: float) -> int:
    if math.isnan(a) or math.isnan(b):
        return _cmp(math.isnan(a), math.isnan(b))  # NaN == NaN, NaN above everything
    return _cmp(a, b)  # -0.0 == 0.0 in Python as in PostgreSQL


def _numeric_cmp(a: decimal.Decimal, b: decimal.Decimal) -> int:
    if a.is_nan() or b.is_nan():
        return _cmp(a.is_nan(), b.is_nan())
    return _cmp(a, b)  # Decimal orders infinities and compares 1.0 == 1.00


def _time_rank(v: Any) -> tuple[int, Any]:
    if v is NEG_INFINITY:
        return (-1, 0)
    if v is INFINITY:
        return (1, 0)
    return (0, v)


def compare_values(type_name: str, a: Any, b: Any) -> int:
    """PostgreSQL's order of two non-NULL values of one type: -1, 0 or 1."""
    if type_name in ("bool", "int2", "int4", "int8", "time"):
        return _cmp(a, b)
    if type_name in ("float4", "float8"):
        return _float_cmp(a, b)
    if type_name == "numeric":
        return _numeric_cmp(decimal.Decimal(a), decimal.Decimal(b))
    if type_name in ("text", "varchar"):
        return _cmp(a.encode(), b.encode())
    if type_name == "bpchar":
        return _cmp(a.rstrip(" ").encode(), b.rstrip(" ").encode())
    if type_name == "bytea":
        return _cmp(bytes(a), bytes(b))
    if type_name in ("date", "timestamp", "timestamptz"):
        return _cmp(_time_rank(a), _time_rank(b))
    if type_name == "interval":
        return _cmp(a.sort_key, b.sort_key)
    if type_name == "uuid":
        return _cmp(a.bytes, b.bytes)
    raise AssertionError(f"no reference order for {type_name}")


def compare_rows(columns: Sequence[Column], a: Sequence[Any], b: Sequence[Any]) -> int:
    """PostgreSQL's ORDER BY of two rows under the columns' directions and NULL placement."""
    for (type_name, descending, nulls_first), x, y in zip(columns, a, b, strict=True):
        if x is None or y is None:
            if x is None and y is None:
                continue
            return -1 if (x is None) == nulls_first else 1
        c = compare_values(type_name, x, y)
        if c:
            return -c if descending else c
    return 0


def key_order(columns: Sequence[Column], a: Sequence[Any], b: Sequence[Any]) -> int:
    """The order the key encoding promises: PostgreSQL's, with intervals of equal span (equal
    in PostgreSQL) told apart by (months, days) in the column's direction."""
    c = compare_rows(columns, a, b)
    if c:
        return c
    for (type_name, descending, _), x, y in zip(columns, a, b, strict=True):
        if type_name == "interval" and x is not None and y is not None:
            t = _cmp((x.months, x.days), (y.months, y.days))
            if t:
                return -t if descending else t
    return 0


def key_equal(type_name: str, got: Any, want: Any) -> bool:
    """Whether a value decoded from a key is the one encoded, in PostgreSQL's sense, and in
    the form the key codec documents (exact intervals, UTC timestamptz)."""
    if want is None or got is None:
        return got is None and want is None
    if type_name == "interval":
        return isinstance(got, Interval) and got.components == want.components
    if type_name == "timestamptz" and isinstance(got, datetime.datetime):
        if got.tzinfo is not datetime.timezone.utc:
            return False
    if type_name == "uuid" and not isinstance(got, uuid.UUID):
        return False
    return compare_values(type_name, got, want) == 0
