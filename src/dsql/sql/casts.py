"""Casts between SQL types, with PostgreSQL's pg_cast contexts and typmod coercion.

A cast is allowed in a context: IMPLICIT (anywhere, e.g. int4 -> int8 in an expression),
ASSIGNMENT (storing into a column: also numeric -> int4, any type -> text) or EXPLICIT
(CAST / ::, also text -> any type through the input function). `cast_fn` returns the per-row
converter for one (source, target) pair, bound once to the session context; it raises 42846
"cannot cast type X to Y" when the pair is not castable in the requested context.

After converting, a target typmod is applied (varchar(n), char(n), numeric(p,s), timestamp(p)),
with explicit-cast rules (silent truncation) only in the EXPLICIT context.

Example::

    f = cast_fn(registry.NUMERIC, registry.INT4)          # round half away, range check
    f(Decimal('2.5'))                                      # 3
    cast_value('2024-01-02', registry.TEXT, registry.DATE) # datetime.date(2024, 1, 2)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from dsql.errors import CannotCoerce, InvalidParameterValue, NumericValueOutOfRange
from dsql.sql.types import boolean, floating, integer, json, numeric, text
from dsql.sql.types import datetime as dt
from dsql.sql.types import registry as r
from dsql.sql.types.context import DEFAULT_CONTEXT, ValueContext
from dsql.sql.types.registry import SqlType, format_type

IMPLICIT, ASSIGNMENT, EXPLICIT = "i", "a", "e"
_RANK = {IMPLICIT: 0, ASSIGNMENT: 1, EXPLICIT: 2}

Fn = Callable[[Any], Any]
CtxFn = Callable[[ValueContext], Fn]


# -- numeric conversions -----------------------------------------------------------------------

def _float_to_int(lo: float, hi: float, label: str) -> Fn:
    def conv(x: float) -> int:
        x = float(round(x)) if math.isfinite(x) else x  # rint(): ties to even
        if x != x or not lo <= x < hi:
            raise NumericValueOutOfRange(f"{label} out of range")
        return int(x)
    return conv


float_to_int2 = _float_to_int(-32768.0, 32768.0, "smallint")
float_to_int4 = _float_to_int(-2147483648.0, 2147483648.0, "integer")
float_to_int8 = _float_to_int(-9.2233720368547758e18, 9.2233720368547758e18, "bigint")


def float8_to_float4(x: float) -> float:
    f = floating.to_float4(x)
    if math.isinf(f) and not math.isinf(x):
        raise floating.overflow()
    if f == 0.0 and x != 0.0:
        raise floating.underflow()
    return f


def int_to_float4(i: int) -> float:
    return floating.to_float4(float(i))


def numeric_to_float8(d: Decimal) -> float:
    x = float(d)
    if d.is_finite() and (math.isinf(x) or (x == 0.0 and d)):
        raise NumericValueOutOfRange(
            f'"{numeric.numeric_out(d)}" is out of range for type double precision')
    return x


def numeric_to_float4(d: Decimal) -> float:
    if not d.is_finite():
        return float(d)
    return floating.float4_in(numeric.numeric_out(d))


def float8_to_numeric(x: float) -> Decimal:
    return numeric.float_to_numeric(x, 15)


def float4_to_numeric(x: float) -> Decimal:
    return numeric.float_to_numeric(x, 6)


def _numeric_to_int(lo: int, hi: int, label: str) -> Fn:
    def conv(d: Decimal) -> int:
        return numeric.numeric_to_int(d, lo, hi, label)
    return conv


# -- jsonb -> scalar ---------------------------------------------------------------------------

_JSONB_KIND_NAMES = {json.K_NULL: "null", json.K_STRING: "string", json.K_NUMBER: "numeric",
                     json.K_BOOL: "boolean", json.K_ARRAY: "array", json.K_OBJECT: "object"}


def _jsonb_cast_error(v: Any, target: str) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"cannot cast jsonb {_JSONB_KIND_NAMES[json.kind(v)]} to type {target}")


def _jsonb_number(target: str) -> Callable[[Any], Decimal]:
    def get(v: Any) -> Decimal:
        if isinstance(v, (int, Decimal)) and not isinstance(v, bool):
            return v if isinstance(v, Decimal) else Decimal(v)
        raise _jsonb_cast_error(v, target)
    return get


def jsonb_to_bool(v: Any) -> bool:
    if v is True or v is False:
        return v
    raise _jsonb_cast_error(v, "boolean")


def _jsonb_then(target: str, then: Fn) -> Fn:
    get = _jsonb_number(target)
    return lambda v: then(get(v))


# -- the cast table (source oid, target oid) -> (context, converter or context->converter) ----

_I2, _I4, _I8 = (integer.INT2_MIN, integer.INT2_MAX), (integer.INT4_MIN, integer.INT4_MAX), \
    (integer.INT8_MIN, integer.INT8_MAX)


def _ident(v: Any) -> Any:
    return v


_FUNCS: dict[tuple[int, int], tuple[str, Fn]] = {
    (r.BOOL.oid, r.INT4.oid): (EXPLICIT, boolean.bool_to_int4),
    (r.BOOL.oid, r.TEXT.oid): (ASSIGNMENT, boolean.bool_to_text),
    (r.BOOL.oid, r.BPCHAR.oid): (ASSIGNMENT, boolean.bool_to_text),
    (r.BOOL.oid, r.VARCHAR.oid): (ASSIGNMENT, boolean.bool_to_text),
    (r.INT4.oid, r.BOOL.oid): (EXPLICIT, boolean.int4_to_bool),
    (r.INT8.oid, r.INT2.oid): (ASSIGNMENT, integer.to_int2),
    (r.INT8.oid, r.INT4.oid): (ASSIGNMENT, integer.to_int4),
    (r.INT4.oid, r.INT2.oid): (ASSIGNMENT, integer.to_int2),
    (r.INT2.oid, r.INT4.oid): (IMPLICIT, _ident),
    (r.INT2.oid, r.INT8.oid): (IMPLICIT, _ident),
    (r.INT4.oid, r.INT8.oid): (IMPLICIT, _ident),
    (r.INT2.oid, r.FLOAT4.oid): (IMPLICIT, int_to_float4),
    (r.INT4.oid, r.FLOAT4.oid): (IMPLICIT, int_to_float4),
    (r.INT8.oid, r.FLOAT4.oid): (IMPLICIT, int_to_float4),
    (r.INT2.oid, r.FLOAT8.oid): (IMPLICIT, float),
    (r.INT4.oid, r.FLOAT8.oid): (IMPLICIT, float),
    (r.INT8.oid, r.FLOAT8.oid): (IMPLICIT, float),
    (r.INT2.oid, r.NUMERIC.oid): (IMPLICIT, Decimal),
    (r.INT4.oid, r.NUMERIC.oid): (IMPLICIT, Decimal),
    (r.INT8.oid, r.NUMERIC.oid): (IMPLICIT, Decimal),
    (r.FLOAT4.oid, r.INT2.oid): (ASSIGNMENT, float_to_int2),
    (r.FLOAT4.oid, r.INT4.oid): (ASSIGNMENT, float_to_int4),
    (r.FLOAT4.oid, r.INT8.oid): (ASSIGNMENT, float_to_int8),
    (r.FLOAT8.oid, r.INT2.oid): (ASSIGNMENT, float_to_int2),
    (r.FLOAT8.oid, r.INT4.oid): (ASSIGNMENT, float_to_int4),
    (r.FLOAT8.oid, r.INT8.oid): (ASSIGNMENT, float_to_int8),
    (r.FLOAT4.oid, r.FLOAT8.oid): (IMPLICIT, _ident),
    (r.FLOAT8.oid, r.FLOAT4.oid): (ASSIGNMENT, float8_to_float4),
    (r.FLOAT4.oid, r.NUMERIC.oid): (ASSIGNMENT, float4_to_numeric),
    (r.FLOAT8.oid, r.NUMERIC.oid): (ASSIGNMENT, float8_to_numeric),
    (r.NUMERIC.oid, r.INT2.oid): (ASSIGNMENT, _numeric_to_int(*_I2, "smallint")),
    (r.NUMERIC.oid, r.INT4.oid): (ASSIGNMENT, _numeric_to_int(*_I4, "integer")),
    (r.NUMERIC.oid, r.INT8.oid): (ASSIGNMENT, _numeric_to_int(*_I8, "bigint")),
    (r.NUMERIC.oid, r.FLOAT4.oid): (IMPLICIT, numeric_to_float4),
    (r.NUMERIC.oid, r.FLOAT8.oid): (IMPLICIT, numeric_to_float8),
    (r.TEXT.oid, r.BPCHAR.oid): (IMPLICIT, _ident),
    (r.TEXT.oid, r.VARCHAR.oid): (IMPLICIT, _ident),
    (r.VARCHAR.oid, r.TEXT.oid): (IMPLICIT, _ident),
    (r.VARCHAR.oid, r.BPCHAR.oid): (IMPLICIT, _ident),
    (r.BPCHAR.oid, r.TEXT.oid): (IMPLICIT, text.bpchar_to_text),
    (r.BPCHAR.oid, r.VARCHAR.oid): (IMPLICIT, text.bpchar_to_text),
    (r.UNKNOWN.oid, r.TEXT.oid): (IMPLICIT, _ident),
    (r.DATE.oid, r.TIMESTAMP.oid): (IMPLICIT, dt.date_to_timestamp),
    (r.TIMESTAMP.oid, r.DATE.oid): (ASSIGNMENT, dt.timestamp_to_date),
    (r.TIMESTAMP.oid, r.TIME.oid): (ASSIGNMENT, dt.timestamp_to_time),
    (r.TIME.oid, r.INTERVAL.oid): (IMPLICIT, dt.time_to_interval),
    (r.INTERVAL.oid, r.TIME.oid): (ASSIGNMENT, dt.interval_to_time),
    (r.JSON.oid, r.JSONB.oid): (ASSIGNMENT, json.json_to_jsonb),
    (r.JSONB.oid, r.JSON.oid): (ASSIGNMENT, json.jsonb_to_json),
    (r.JSONB.oid, r.BOOL.oid): (EXPLICIT, jsonb_to_bool),
    (r.JSONB.oid, r.NUMERIC.oid): (EXPLICIT, _jsonb_number("numeric")),
    (r.JSONB.oid, r.INT2.oid): (EXPLICIT, _jsonb_then("smallint",
                                                      _numeric_to_int(*_I2, "smallint"))),
    (r.JSONB.oid, r.INT4.oid): (EXPLICIT, _jsonb_then("integer",
                                                      _numeric_to_int(*_I4, "integer"))),
    (r.JSONB.oid, r.INT8.oid): (EXPLICIT, _jsonb_then("bigint",
                                                      _numeric_to_int(*_I8, "bigint"))),
    (r.JSONB.oid, r.FLOAT4.oid): (EXPLICIT, _jsonb_then("real", numeric_to_float4)),
    (r.JSONB.oid, r.FLOAT8.oid): (EXPLICIT, _jsonb_then("double precision",
                                                        numeric_to_float8)),
}

# casts that depend on the session (time zone)
_CTX_FUNCS: dict[tuple[int, int], tuple[str, CtxFn]] = {
    (r.DATE.oid, r.TIMESTAMPTZ.oid): (IMPLICIT, lambda c: lambda v: dt.date_to_timestamptz(v, c)),
    (r.TIMESTAMP.oid, r.TIMESTAMPTZ.oid): (
        IMPLICIT, lambda c: lambda v: dt.timestamp_to_timestamptz(v, c)),
    (r.TIMESTAMPTZ.oid, r.TIMESTAMP.oid): (
        ASSIGNMENT, lambda c: lambda v: dt.timestamptz_to_timestamp(v, c)),
    (r.TIMESTAMPTZ.oid, r.DATE.oid): (ASSIGNMENT,
                                      lambda c: lambda v: dt.timestamptz_to_date(v, c)),
    (r.TIMESTAMPTZ.oid, r.TIME.oid): (ASSIGNMENT,
                                      lambda c: lambda v: dt.timestamptz_to_time(v, c)),
}

_STRING_OIDS = frozenset((r.TEXT.oid, r.VARCHAR.oid, r.BPCHAR.oid))


def cast_context(src: SqlType, dst: SqlType) -> str | None:
    """The weakest context in which src casts to dst (ignoring typmods), or None."""
    if src.oid == dst.oid:
        return IMPLICIT
    key = (src.oid, dst.oid)
    entry = _FUNCS.get(key) or _CTX_FUNCS.get(key)
    if entry is not None:
        return entry[0]
    if src.oid == r.UNKNOWN.oid:
        return IMPLICIT  # an untyped literal becomes any type through its input function
    if dst.oid in _STRING_OIDS:
        return ASSIGNMENT  # I/O conversion to a string type
    if src.oid in _STRING_OIDS:
        return EXPLICIT  # I/O conversion from a string type
    return None


def can_cast(src: SqlType, dst: SqlType, context: str = EXPLICIT) -> bool:
    c = cast_context(src, dst)
    return c is not None and _RANK[c] <= _RANK[context]


def _cannot(src: SqlType, dst: SqlType) -> CannotCoerce:
    return CannotCoerce(f"cannot cast type {format_type(src.base)} to {format_type(dst.base)}")


def _base_converter(src: SqlType, dst: SqlType, ctx: ValueContext) -> Fn:
    key = (src.oid, dst.oid)
    entry = _FUNCS.get(key)
    if entry is not None:
        return entry[1]
    ctx_entry = _CTX_FUNCS.get(key)
    if ctx_entry is not None:
        return ctx_entry[1](ctx)
    if src.oid == dst.oid:
        return _ident
    if dst.oid in _STRING_OIDS:
        return src.output_fn(ctx)  # I/O conversion: the output function
    if src.oid in _STRING_OIDS or src.oid == r.UNKNOWN.oid:
        return dst.base.input_fn(ctx)  # I/O conversion: the input function
    raise _cannot(src, dst)  # pragma: no cover - callers check cast_context first


def cast_fn(src: SqlType, dst: SqlType, ctx: ValueContext = DEFAULT_CONTEXT,
            context: str = EXPLICIT) -> Fn:
    """A converter from values of `src` to values of `dst` (NULL is the caller's business).

    REQUIRES: context is IMPLICIT, ASSIGNMENT or EXPLICIT. Raises CannotCoerce (42846).
    """
    assert context in _RANK, context
    c = cast_context(src, dst)
    if c is None or _RANK[c] > _RANK[context]:
        raise _cannot(src, dst)
    conv = _base_converter(src, dst, ctx)
    tfn = dst.typmod_fn
    if dst.typmod < 0 or tfn is None or (src.oid == dst.oid and src.typmod == dst.typmod):
        return conv
    typmod, explicit = dst.typmod, context == EXPLICIT
    if conv is _ident:
        return lambda v: tfn(v, typmod, explicit)
    return lambda v: tfn(conv(v), typmod, explicit)


def cast_value(value: Any, src: SqlType, dst: SqlType, ctx: ValueContext = DEFAULT_CONTEXT,
               context: str = EXPLICIT) -> Any:
    """Casts one value (None stays None). Convenient for tests; hot paths use cast_fn."""
    fn = cast_fn(src, dst, ctx, context)
    return None if value is None else fn(value)
