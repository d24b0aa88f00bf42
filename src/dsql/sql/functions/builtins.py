"""Registers the built-in operators and functions in the catalog (imported for its effect).

The overload sets mirror pg_operator / pg_proc for the supported types, so that resolution
picks the same overload PostgreSQL picks (int2 + int4 is int4, float4 + int4 is float8,
integer + numeric is numeric, 'a' || 1 is text || anynonarray, ...).
"""

from __future__ import annotations

import operator
import random as _random
import uuid as _uuid
from collections.abc import Callable
from typing import Any

from dsql.sql import casts
from dsql.sql.functions import comparison as cmp
from dsql.sql.functions import datetime as fdt
from dsql.sql.functions import format as fmt
from dsql.sql.functions import json as fjson
from dsql.sql.functions import math as fmath
from dsql.sql.functions import string as fstr
from dsql.sql.functions import to_char, to_char_num
from dsql.sql.functions.catalog import (
    ANY,
    ANYNONARRAY,
    FunctionDef,
    add_function,
    add_operator,
)
from dsql.sql.types import datetime as dt
from dsql.sql.types import floating, integer, interval, json, numeric
from dsql.sql.types import registry as r
from dsql.sql.types.context import ValueContext
from dsql.sql.types.registry import SqlType

B, I2, I4, I8 = r.BOOL, r.INT2, r.INT4, r.INT8
F4, F8, N = r.FLOAT4, r.FLOAT8, r.NUMERIC
T, VC, BP, BY = r.TEXT, r.VARCHAR, r.BPCHAR, r.BYTEA
D, TM, TS, TSZ, IV = r.DATE, r.TIME, r.TIMESTAMP, r.TIMESTAMPTZ, r.INTERVAL
U, J, JB, TA = r.UUID, r.JSON, r.JSONB, r.TEXT_ARRAY


def op(symbol: str, args: tuple[SqlType, ...], result: SqlType, impl: Callable[..., Any],
       **kw: Any) -> None:
    add_operator(FunctionDef(symbol, args, result, impl, **kw))


def fn(name: str, args: tuple[SqlType, ...], result: SqlType, impl: Callable[..., Any] | None,
       **kw: Any) -> None:
    add_function(FunctionDef(name, args, result, impl, **kw))


# -- integers ----------------------------------------------------------------------------------

_INT_OPS = {
    I2: {"+": integer.int2_add, "-": integer.int2_sub, "*": integer.int2_mul,
         "/": integer.int2_div},
    I4: {"+": integer.int4_add, "-": integer.int4_sub, "*": integer.int4_mul,
         "/": integer.int4_div},
    I8: {"+": integer.int8_add, "-": integer.int8_sub, "*": integer.int8_mul,
         "/": integer.int8_div},
}
_WIDTH = {I2.oid: 0, I4.oid: 1, I8.oid: 2}
_CMP = {"=": operator.eq, "<>": operator.ne, "<": operator.lt, "<=": operator.le,
        ">": operator.gt, ">=": operator.ge}

for a in (I2, I4, I8):
    for b in (I2, I4, I8):
        wide = a if _WIDTH[a.oid] >= _WIDTH[b.oid] else b
        for sym, impl in _INT_OPS[wide].items():
            op(sym, (a, b), wide, impl)
        for sym, impl in _CMP.items():
            op(sym, (a, b), B, impl)
for t, neg, absf, shl, shr in ((I2, integer.int2_neg, integer.int2_abs, integer.int2_shl,
                               integer.int2_shr),
                              (I4, integer.int4_neg, integer.int4_abs, integer.int4_shl,
                               integer.int4_shr),
                              (I8, integer.int8_neg, integer.int8_abs, integer.int8_shl,
                               integer.int8_shr)):
    op("%", (t, t), t, integer.int_mod)
    op("-", (t,), t, neg)
    op("+", (t,), t, lambda x: x)
    op("@", (t,), t, absf)
    op("~", (t,), t, integer.int_not)
    op("&", (t, t), t, integer.int_and)
    op("|", (t, t), t, integer.int_or)
    op("#", (t, t), t, integer.int_xor)
    op("<<", (t, I4), t, shl)
    op(">>", (t, I4), t, shr)
    fn("abs", (t,), t, absf)
    fn("mod", (t, t), t, integer.int_mod)
fn("to_hex", (I4,), T, fstr.to_hex32)
fn("to_hex", (I8,), T, fstr.to_hex64)

# -- floating point ----------------------------------------------------------------------------

_F4_OPS = {"+": floating.float4_add, "-": floating.float4_sub, "*": floating.float4_mul,
           "/": floating.float4_div}
_F8_OPS = {"+": floating.float8_add, "-": floating.float8_sub, "*": floating.float8_mul,
           "/": floating.float8_div}
_FCMP = {"=": floating.float_eq, "<>": floating.float_ne, "<": floating.float_lt,
         "<=": floating.float_le, ">": floating.float_gt, ">=": floating.float_ge}
for a in (F4, F8):
    for b in (F4, F8):
        res = F4 if a is F4 and b is F4 else F8
        for sym, impl in (_F4_OPS if res is F4 else _F8_OPS).items():
            op(sym, (a, b), res, impl)
        for sym, impl in _FCMP.items():
            op(sym, (a, b), B, impl)
for t in (F4, F8):
    op("-", (t,), t, floating.float_neg)
    op("+", (t,), t, lambda x: x)
    op("@", (t,), t, floating.float_abs)
    fn("abs", (t,), t, floating.float_abs)
op("^", (F8, F8), F8, fmath.dpow)
op("|/", (F8,), F8, fmath.dsqrt)
op("||/", (F8,), F8, fmath.dcbrt)
for name, impl in (("ceil", fmath.dceil), ("ceiling", fmath.dceil), ("floor", fmath.dfloor),
                   ("round", fmath.dround), ("trunc", fmath.dtrunc), ("sign", fmath.dsign),
                   ("sqrt", fmath.dsqrt), ("cbrt", fmath.dcbrt), ("exp", fmath.dexp),
                   ("ln", fmath.dln), ("log", fmath.dlog10), ("log10", fmath.dlog10),
                   ("degrees", fmath.ddegrees), ("radians", fmath.dradians)):
    fn(name, (F8,), F8, impl)
fn("power", (F8, F8), F8, fmath.dpow)
fn("pow", (F8, F8), F8, fmath.dpow)
fn("pi", (), F8, fmath.dpi)

# -- numeric -----------------------------------------------------------------------------------

for sym, impl in (("+", numeric.numeric_add), ("-", numeric.numeric_sub),
                  ("*", numeric.numeric_mul), ("/", numeric.numeric_div),
                  ("%", numeric.numeric_mod), ("^", numeric.numeric_power)):
    op(sym, (N, N), N, impl)
for sym, impl in (("=", numeric.numeric_eq), ("<>", numeric.numeric_ne),
                  ("<", numeric.numeric_lt), ("<=", numeric.numeric_le),
                  (">", numeric.numeric_gt), (">=", numeric.numeric_ge)):
    op(sym, (N, N), B, impl)
op("-", (N,), N, numeric.numeric_neg)
op("+", (N,), N, lambda x: x)
op("@", (N,), N, numeric.numeric_abs)
op("|/", (N,), N, numeric.numeric_sqrt)
for name, impl in (("abs", numeric.numeric_abs), ("ceil", numeric.numeric_ceil),
                   ("ceiling", numeric.numeric_ceil), ("floor", numeric.numeric_floor),
                   ("round", numeric.numeric_round), ("trunc", numeric.numeric_trunc),
                   ("sign", numeric.numeric_sign), ("sqrt", numeric.numeric_sqrt),
                   ("exp", numeric.numeric_exp), ("ln", numeric.numeric_ln),
                   ("log", lambda x: numeric.numeric_log(numeric.Decimal(10), x)),
                   ("log10", lambda x: numeric.numeric_log(numeric.Decimal(10), x))):
    fn(name, (N,), N, impl)
fn("scale", (N,), I4, numeric.numeric_scale)
fn("round", (N, I4), N, numeric.numeric_round)
fn("trunc", (N, I4), N, numeric.numeric_trunc)
fn("mod", (N, N), N, numeric.numeric_mod)
fn("div", (N, N), N, numeric.numeric_div_trunc)
fn("power", (N, N), N, numeric.numeric_power)
fn("pow", (N, N), N, numeric.numeric_power)
fn("log", (N, N), N, numeric.numeric_log)

# -- boolean -----------------------------------------------------------------------------------

for sym, impl in _CMP.items():
    op(sym, (B, B), B, impl)

# -- strings -----------------------------------------------------------------------------------


def _textanycat(types: tuple[SqlType, ...], ctx: ValueContext) -> Callable[..., Any]:
    """text || anynonarray and anynonarray || text: the other side is cast to text."""
    a = casts.cast_fn(types[0], T, ctx, casts.EXPLICIT)
    b = casts.cast_fn(types[1], T, ctx, casts.EXPLICIT)
    return lambda x, y: a(x) + b(y)


op("||", (T, T), T, fstr.textcat)
op("||", (T, ANYNONARRAY), T, None, binder=_textanycat)
op("||", (ANYNONARRAY, T), T, None, binder=_textanycat)
op("||", (BY, BY), BY, fstr.byteacat)
for t in (T, BY):
    for sym, impl in _CMP.items():
        op(sym, (t, t), B, impl)
for sym, impl in cmp.comparison_ops(BP).items():
    op(sym, (BP, BP), B, impl)
for like_sym, ci, neg in (("~~", False, False), ("~~*", True, False), ("!~~", False, True),
                          ("!~~*", True, True)):
    def _like(s: str, p: str, ci: bool = ci, neg: bool = neg) -> bool:
        return fstr.like_matcher(p, "\\", ci)(s) != neg
    op(like_sym, (T, T), B, _like)
    op(like_sym, (BP, T), B, _like)
op("^@", (T, T), B, fstr.starts_with)

for name, impl in (("length", fstr.length), ("char_length", fstr.length),
                   ("character_length", fstr.length), ("octet_length", fstr.octet_length),
                   ("bit_length", fstr.bit_length), ("lower", fstr.lower),
                   ("upper", fstr.upper), ("initcap", fstr.initcap), ("reverse", fstr.reverse),
                   ("md5", fstr.md5), ("ascii", fstr.ascii_code), ("btrim", fstr.btrim),
                   ("ltrim", fstr.ltrim), ("rtrim", fstr.rtrim)):
    fn(name, (T,), I4 if name.endswith("length") or name == "ascii" else T, impl)
for name in ("length", "char_length", "character_length"):
    fn(name, (BP,), I4, lambda s: len(s.rstrip(" ")))
fn("octet_length", (BP,), I4, fstr.octet_length)
fn("length", (BY,), I4, fstr.bytea_length)
fn("octet_length", (BY,), I4, fstr.bytea_length)
fn("md5", (BY,), T, fstr.bytea_md5)
fn("chr", (I4,), T, fstr.chr_)
for name, impl in (("btrim", fstr.btrim), ("ltrim", fstr.ltrim), ("rtrim", fstr.rtrim),
                   ("strpos", fstr.strpos), ("starts_with", fstr.starts_with)):
    fn(name, (T, T), B if name == "starts_with" else (I4 if name == "strpos" else T), impl)
fn("position", (T, T), I4, fstr.position)
fn("substr", (T, I4), T, fstr.substr)
fn("substr", (T, I4, I4), T, fstr.substr)
fn("substring", (T, I4), T, fstr.substr)
fn("substring", (T, I4, I4), T, fstr.substr)
fn("substr", (BY, I4), BY, fstr.bytea_substr)
fn("substr", (BY, I4, I4), BY, fstr.bytea_substr)
fn("replace", (T, T, T), T, fstr.replace)
fn("translate", (T, T, T), T, fstr.translate)
fn("lpad", (T, I4), T, fstr.lpad)
fn("lpad", (T, I4, T), T, fstr.lpad)
fn("rpad", (T, I4), T, fstr.rpad)
fn("rpad", (T, I4, T), T, fstr.rpad)
fn("left", (T, I4), T, fstr.left)
fn("right", (T, I4), T, fstr.right)
fn("repeat", (T, I4), T, fstr.repeat)
fn("split_part", (T, T, I4), T, fstr.split_part)
fn("like", (T, T), B, lambda s, p: fstr.like(s, p))
fn("like_escape", (T, T), T, None, binder=lambda types, ctx: _like_escape)


def _like_escape(pattern: str, escape: str) -> str:
    """Rewrites a pattern with a custom escape into the default backslash form."""
    esc = fstr.check_escape(escape)
    out = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if esc is not None and c == esc:
            if i + 1 >= n:
                raise fstr.InvalidEscapeSequence(
                    "LIKE pattern must not end with escape character")
            nxt = pattern[i + 1]
            out.append("\\" + nxt if nxt in "%_\\" or nxt == esc else nxt)
            i += 2
            continue
        out.append("\\\\" if c == "\\" else c)
        i += 1
    return "".join(out)


def _text_args(types: tuple[SqlType, ...], ctx: ValueContext) -> list[Callable[[Any], str]]:
    return [t.output_fn(ctx) if t.oid != r.UNKNOWN.oid else str for t in types]


def _concat_binder(types: tuple[SqlType, ...], ctx: ValueContext) -> Callable[..., Any]:
    outs = _text_args(types, ctx)
    return lambda *vals: "".join(o(v) for o, v in zip(outs, vals, strict=True) if v is not None)


def _concat_ws_binder(types: tuple[SqlType, ...], ctx: ValueContext) -> Callable[..., Any]:
    outs = _text_args(types, ctx)

    def concat_ws(*vals: Any) -> Any:
        if vals[0] is None:
            return None
        sep = outs[0](vals[0])
        return sep.join(o(v) for o, v in zip(outs[1:], vals[1:], strict=True) if v is not None)
    return concat_ws


def _format_binder(types: tuple[SqlType, ...], ctx: ValueContext) -> Callable[..., Any]:
    outs = _text_args(types, ctx)

    def format_(*vals: Any) -> Any:
        if vals[0] is None:
            return None
        return fmt.format_text(outs[0](vals[0]), [None if v is None else o(v) for o, v in
                                                  zip(outs[1:], vals[1:], strict=True)])
    return format_


fn("concat", (ANY,), T, None, binder=_concat_binder, strict=False, variadic=True)
fn("format", (T,), T, lambda s: fmt.format_text(s, []))
fn("format", (T, ANY), T, None, binder=_format_binder, strict=False, variadic=True)
fn("concat_ws", (T, ANY), T, None, binder=_concat_ws_binder, strict=False, variadic=True)

# -- uuid, json --------------------------------------------------------------------------------

# volatile (expr.VOLATILE: never folded at plan time); Aurora DSQL's advice for primary keys
fn("gen_random_uuid", (), U, _uuid.uuid4)
fn("random", (), F8, _random.random)  # [0, 1), the process's generator

for sym, impl in _CMP.items():
    op(sym, (U, U), B, impl)
for sym, impl in cmp.comparison_ops(JB).items():
    op(sym, (JB, JB), B, impl)
op("->", (JB, T), JB, json.jsonb_object_field)
op("->", (JB, I4), JB, json.jsonb_array_element)
op("->>", (JB, T), T, json.jsonb_object_field_text)
op("->>", (JB, I4), T, json.jsonb_array_element_text)
op("#>", (JB, TA), JB, json.jsonb_extract_path)
op("#>>", (JB, TA), T, json.jsonb_extract_path_text)
op("@>", (JB, JB), B, json.jsonb_contains)
op("<@", (JB, JB), B, json.jsonb_contained)
op("?", (JB, T), B, json.jsonb_exists)
op("?|", (JB, TA), B, json.jsonb_exists_any)
op("?&", (JB, TA), B, json.jsonb_exists_all)
op("||", (JB, JB), JB, json.jsonb_concat)
op("-", (JB, T), JB, json.jsonb_delete_key)
op("->", (J, T), J, json.json_object_field)
op("->", (J, I4), J, json.json_array_element)
op("->>", (J, T), T, lambda v, k: json.json_as_text(json.json_object_field(v, k)))
op("->>", (J, I4), T, lambda v, i: json.json_as_text(json.json_array_element(v, i)))
op("#>", (J, TA), J, json.json_extract_path)
op("#>>", (J, TA), T, lambda v, p: json.json_as_text(json.json_extract_path(v, p)))
fn("jsonb_typeof", (JB,), T, json.jsonb_typeof)
fn("json_typeof", (J,), T, json.json_typeof)
fn("jsonb_array_length", (JB,), I4, json.jsonb_array_length)
fn("json_array_length", (J,), I4, json.json_array_length)


def _json_builder(build: Callable[..., Any]) -> Callable[..., Any]:
    def binder(types: tuple[SqlType, ...], ctx: ValueContext) -> Callable[..., Any]:
        return lambda *vals: build(list(zip(vals, types, strict=True)), ctx)
    return binder


for name, build, result in (("jsonb_build_object", fjson.jsonb_build_object, JB),
                            ("json_build_object", fjson.json_build_object, J),
                            ("jsonb_build_array", fjson.jsonb_build_array, JB),
                            ("json_build_array", fjson.json_build_array, J)):
    fn(name, (ANY,), result, None, binder=_json_builder(build), strict=False, variadic=True)
    fn(name, (), result, None, binder=_json_builder(build), strict=False)
fn("to_jsonb", (ANY,), JB, None, strict=False,
   binder=lambda types, ctx: lambda v: fjson.to_jsonb(v, types[0], ctx))
fn("to_json", (ANY,), J, None, strict=False,
   binder=lambda types, ctx: lambda v: fjson.to_json_text(v, types[0], ctx))

# -- date and time -----------------------------------------------------------------------------

for t in (D, TM, TS, TSZ):
    for sym, impl in _CMP.items():
        op(sym, (t, t), B, impl)
for sym, impl in cmp.comparison_ops(IV).items():
    op(sym, (IV, IV), B, impl)


def _cross_cmp(a: SqlType, b: SqlType, target: SqlType) -> None:
    """date/timestamp/timestamptz compared across types, by casting to the wider one."""
    for sym, impl in _CMP.items():
        def binder(types: tuple[SqlType, ...], ctx: ValueContext, impl: Any = impl) -> Any:
            ca = casts.cast_fn(a, target, ctx, casts.IMPLICIT)
            cb = casts.cast_fn(b, target, ctx, casts.IMPLICIT)
            return lambda x, y: impl(ca(x), cb(y))
        op(sym, (a, b), B, None, binder=binder)


for a_t, b_t, wide in ((D, TS, TS), (TS, D, TS), (D, TSZ, TSZ), (TSZ, D, TSZ),
                       (TS, TSZ, TSZ), (TSZ, TS, TSZ)):
    _cross_cmp(a_t, b_t, wide)

op("+", (D, I4), D, dt.date_pli)
op("+", (I4, D), D, lambda n, d: dt.date_pli(d, n))
op("-", (D, I4), D, dt.date_mii)
op("-", (D, D), I4, dt.date_mi)
op("+", (D, IV), TS, dt.date_pl_interval)
op("+", (IV, D), TS, lambda i, d: dt.date_pl_interval(d, i))
op("-", (D, IV), TS, dt.date_mi_interval)
op("+", (D, TM), TS, dt.date_pl_time)
op("+", (TM, D), TS, lambda t, d: dt.date_pl_time(d, t))
op("+", (TS, IV), TS, dt.timestamp_pl_interval)
op("+", (IV, TS), TS, lambda i, t: dt.timestamp_pl_interval(t, i))
op("-", (TS, IV), TS, dt.timestamp_mi_interval)
op("-", (TS, TS), IV, dt.timestamp_mi)
op("+", (TSZ, IV), TSZ, dt.timestamptz_pl_interval, needs_ctx=True)
op("+", (IV, TSZ), TSZ, lambda i, t, c: dt.timestamptz_pl_interval(t, i, c), needs_ctx=True)
op("-", (TSZ, IV), TSZ, dt.timestamptz_mi_interval, needs_ctx=True)
op("-", (TSZ, TSZ), IV, dt.timestamptz_mi)
op("+", (TM, IV), TM, dt.time_pl_interval)
op("+", (IV, TM), TM, lambda i, t: dt.time_pl_interval(t, i))
op("-", (TM, IV), TM, dt.time_mi_interval)
op("-", (TM, TM), IV, dt.time_mi_time)
op("+", (IV, IV), IV, interval.interval_add)
op("-", (IV, IV), IV, interval.interval_sub)
op("-", (IV,), IV, interval.interval_neg)
op("+", (IV,), IV, lambda x: x)
op("*", (IV, F8), IV, interval.interval_mul)
op("*", (F8, IV), IV, lambda f, i: interval.interval_mul(i, f))
op("/", (IV, F8), IV, interval.interval_div)

for name in ("now", "current_timestamp", "transaction_timestamp"):
    fn(name, (), TSZ, fdt.now, needs_ctx=True)
fn("statement_timestamp", (), TSZ, fdt.statement_timestamp, needs_ctx=True)
fn("clock_timestamp", (), TSZ, fdt.clock_timestamp, needs_ctx=True)
fn("current_date", (), D, fdt.current_date, needs_ctx=True)
fn("localtimestamp", (), TS, fdt.localtimestamp, needs_ctx=True)
fn("localtime", (), TM, fdt.localtime, needs_ctx=True)
fn("date_trunc", (T, TS), TS, fdt.date_trunc)
fn("date_trunc", (T, TSZ), TSZ, fdt.date_trunc_tz, needs_ctx=True)
fn("date_trunc", (T, TSZ, T), TSZ,
   lambda u, ts, z, ctx: fdt.date_trunc_tz(u, ts, ctx, fdt.zone_or_error(z)), needs_ctx=True)
fn("date_trunc", (T, IV), IV, fdt.date_trunc_interval)
fn("extract", (T, TS), N, fdt.extract_timestamp)
fn("extract", (T, TSZ), N, fdt.extract_timestamptz, needs_ctx=True)
fn("extract", (T, D), N, fdt.extract_date)
fn("extract", (T, TM), N, fdt.extract_time)
fn("extract", (T, IV), N, fdt.extract_interval)
fn("date_part", (T, TS), F8, fdt.date_part_timestamp)
fn("date_part", (T, TSZ), F8, fdt.date_part_timestamptz, needs_ctx=True)
fn("date_part", (T, D), F8, lambda u, d: fdt.date_part_timestamp(u, dt.date_to_timestamp(d)))
fn("date_part", (T, TM), F8, lambda u, t: float(fdt.extract_time(u, t)))
fn("date_part", (T, IV), F8, fdt.date_part_interval)
fn("age", (TS, TS), IV, fdt.age)
fn("age", (TSZ, TSZ), IV, fdt.age_tz, needs_ctx=True)
fn("age", (TS,), IV, fdt.age1, needs_ctx=True)
fn("age", (TSZ,), IV, fdt.age1_tz, needs_ctx=True)
fn("make_date", (I4, I4, I4), D, fdt.make_date)
fn("make_time", (I4, I4, F8), TM, fdt.make_time)
fn("make_timestamp", (I4, I4, I4, I4, I4, F8), TS, fdt.make_timestamp)
fn("make_timestamptz", (I4, I4, I4, I4, I4, F8), TSZ, fdt.make_timestamptz, needs_ctx=True)
fn("make_timestamptz", (I4, I4, I4, I4, I4, F8, T), TSZ,
   lambda y, mo, d, h, mi, s, z, ctx: fdt.make_timestamptz(y, mo, d, h, mi, s, ctx, z),
   needs_ctx=True)
fn("make_interval", (I4, I4, I4, I4, I4, I4, F8), IV, fdt.make_interval)
fn("justify_days", (IV,), IV, interval.justify_days)
fn("justify_hours", (IV,), IV, interval.justify_hours)
fn("justify_interval", (IV,), IV, interval.justify_interval)
fn("to_char", (TS, T), T, to_char.to_char_timestamp)
fn("to_char", (TSZ, T), T, to_char.to_char_timestamptz, needs_ctx=True)
fn("to_char", (IV, T), T, to_char.to_char_interval)
for _t in (I4, I8, N, F4, F8):
    fn("to_char", (_t, T), T, to_char_num.to_char_number)
fn("timezone", (T, TS), TSZ, lambda z, ts: fdt.timestamp_at_zone(ts, z))
fn("timezone", (T, TSZ), TS, lambda z, ts: fdt.timestamptz_at_zone(ts, z))
fn("to_timestamp", (F8,), TSZ, fdt.to_timestamp)
for t in (D, TS, TSZ):
    fn("isfinite", (t,), B, fdt.isfinite)
fn("isfinite", (IV,), B, lambda i: True)

# catalog introspection functions (format_type, pg_get_indexdef, ~, ...) register themselves
from dsql.sql.functions import introspection as _introspection  # noqa: E402,F401
