"""Comparison helpers: SQL ordering per type, GREATEST / LEAST, IS DISTINCT FROM, and
select_common_type (the type of CASE, COALESCE, GREATEST, UNION branches).

Most types order correctly with Python's operators; the exceptions (floats and numeric with
NaN, char(n) ignoring trailing blanks, interval's 30-day months, jsonb's btree order) get
their comparison from here, so that the executor never has to know which is which.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

from dsql.errors import CannotCoerce, DatatypeMismatch
from dsql.sql import casts
from dsql.sql.types import floating, interval, json, numeric, text
from dsql.sql.types import registry as r
from dsql.sql.types.registry import SqlType, format_type

Cmp = Callable[[Any, Any], int]


def _natural(a: Any, b: Any) -> int:
    return -1 if a < b else (1 if a > b else 0)


def _bpchar(a: str, b: str) -> int:
    return _natural(a.rstrip(" "), b.rstrip(" "))


def _interval(a: Any, b: Any) -> int:
    return _natural(interval.interval_cmp_key(a), interval.interval_cmp_key(b))


_SPECIAL: dict[int, Cmp] = {
    r.FLOAT4.oid: floating.float_cmp,
    r.FLOAT8.oid: floating.float_cmp,
    r.NUMERIC.oid: numeric.numeric_cmp,
    r.BPCHAR.oid: _bpchar,
    r.INTERVAL.oid: _interval,
    r.JSONB.oid: json.jsonb_cmp,
}


def compare_fn(t: SqlType) -> Cmp:
    """A three-way comparison (-1, 0, 1) with SQL semantics for non-NULL values of type t."""
    if t.oid == r.JSON.oid:
        raise DatatypeMismatch("could not identify a comparison function for type json")
    return _SPECIAL.get(t.oid, _natural)


def _op(cmp: Cmp, test: Callable[[int], bool]) -> Callable[[Any, Any], bool]:
    return lambda a, b: test(cmp(a, b))


def comparison_ops(t: SqlType) -> dict[str, Callable[[Any, Any], bool]]:
    """{'=': eq, '<>': ne, '<': lt, ...} for type t; plain Python operators where exact."""
    if t.oid not in _SPECIAL:
        return {"=": operator.eq, "<>": operator.ne, "<": operator.lt, "<=": operator.le,
                ">": operator.gt, ">=": operator.ge}
    if t.oid == r.BPCHAR.oid:
        return {"=": text.bpchar_eq, "<>": text.bpchar_ne, "<": text.bpchar_lt,
                "<=": text.bpchar_le, ">": text.bpchar_gt, ">=": text.bpchar_ge}
    if t.oid in (r.FLOAT4.oid, r.FLOAT8.oid):
        return {"=": floating.float_eq, "<>": floating.float_ne, "<": floating.float_lt,
                "<=": floating.float_le, ">": floating.float_gt, ">=": floating.float_ge}
    if t.oid == r.INTERVAL.oid:
        return {"=": interval.interval_eq, "<>": interval.interval_ne,
                "<": interval.interval_lt, "<=": interval.interval_le,
                ">": interval.interval_gt, ">=": interval.interval_ge}
    cmp = _SPECIAL[t.oid]
    return {"=": _op(cmp, lambda c: c == 0), "<>": _op(cmp, lambda c: c != 0),
            "<": _op(cmp, lambda c: c < 0), "<=": _op(cmp, lambda c: c <= 0),
            ">": _op(cmp, lambda c: c > 0), ">=": _op(cmp, lambda c: c >= 0)}


def greatest(values: Sequence[Any], cmp: Cmp) -> Any:
    """GREATEST(...): NULLs are ignored; NULL only when every argument is NULL."""
    best = None
    for v in values:
        if v is not None and (best is None or cmp(v, best) > 0):
            best = v
    return best


def least(values: Sequence[Any], cmp: Cmp) -> Any:
    best = None
    for v in values:
        if v is not None and (best is None or cmp(v, best) < 0):
            best = v
    return best


def is_distinct_from(a: Any, b: Any, eq: Callable[[Any, Any], bool]) -> bool:
    if a is None or b is None:
        return (a is None) != (b is None)
    return not eq(a, b)


def select_common_type(types: Sequence[SqlType], context: str = "CASE") -> SqlType:
    """PostgreSQL's select_common_type: the type CASE/COALESCE/GREATEST/UNION resolve to.

    Raises DatatypeMismatch (42804) "CASE types integer and text cannot be matched" when
    categories differ, and CannotCoerce when an input cannot be implicitly converted.
    """
    assert types, "select_common_type needs at least one type"
    ptype = types[0]
    for ntype in types[1:]:
        if ntype.oid == r.UNKNOWN.oid or ntype.oid == ptype.oid:
            continue
        if ptype.oid == r.UNKNOWN.oid:
            ptype = ntype
        elif ntype.category != ptype.category:
            raise DatatypeMismatch(f"{context} types {format_type(ptype.base)} and "
                                   f"{format_type(ntype.base)} cannot be matched")
        elif not ptype.preferred and casts.can_cast(ptype, ntype, casts.IMPLICIT) \
                and not casts.can_cast(ntype, ptype, casts.IMPLICIT):
            ptype = ntype
    if ptype.oid == r.UNKNOWN.oid:
        ptype = r.TEXT
    for t in types:
        if not casts.can_cast(t, ptype, casts.IMPLICIT):
            raise CannotCoerce(f"{context} could not convert type {format_type(t.base)} to "
                               f"{format_type(ptype.base)}")
    return ptype.base
