"""The value layer's API and invariants, without a server.

Goal: the pieces the engine builds on behave as documented: type lookup and typmods, cast
contexts, SQL ordering keys, NULL handling in resolved calls, the datetime sentinels, and
text round trips. Method: direct checks of documented examples, plus hypothesis properties
against plain Python reference models (exact integer and Fraction arithmetic, round trips of
output through input).
"""

from __future__ import annotations

import math
import struct
from datetime import date, datetime, time, timezone
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsql import errors
from dsql.sql import casts
from dsql.sql.functions import catalog, comparison
from dsql.sql.functions import string as fstr
from dsql.sql.types import datetime as dt
from dsql.sql.types import floating, integer, interval, json, numeric
from dsql.sql.types import registry as r
from dsql.sql.types.context import ValueContext
from dsql.sql.types.timezones import zone_for
from dsql.storage.interval import Interval

FAST = settings(max_examples=200, deadline=None)
# JSON text without U+0000 and lone surrogates, which jsonb rejects (as PostgreSQL does)
_JSON_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")


# -- registry ----------------------------------------------------------------------------------

def test_lookup_type_names_and_typmods() -> None:
    assert r.lookup_type("integer") == r.INT4
    assert r.lookup_type("INT") == r.INT4
    assert r.lookup_type("double  precision") == r.FLOAT8
    assert r.lookup_type("float", [24]) == r.FLOAT4
    assert r.lookup_type("float", [25]) == r.FLOAT8
    assert r.format_type(r.lookup_type("varchar", [3])) == "character varying(3)"
    assert r.format_type(r.lookup_type("char")) == "character(1)"
    assert r.format_type(r.lookup_type("bpchar")) == "bpchar"
    assert r.format_type(r.lookup_type("numeric", [5, 2])) == "numeric(5,2)"
    assert r.format_type(r.lookup_type("timestamp with time zone", [3])) == \
        "timestamp(3) with time zone"
    assert r.lookup_type("varchar", [3]) != r.VARCHAR
    assert r.lookup_type("varchar", [3]).base == r.VARCHAR
    assert r.type_by_oid(1700) == r.NUMERIC
    assert {t.oid for t in r.ALL_TYPES} >= {16, 17, 20, 21, 23, 25, 114, 700, 701, 1042, 1043,
                                            1082, 1083, 1114, 1184, 1186, 1700, 2950, 3802}


@pytest.mark.parametrize("name, mods, state", [
    ("varchar", [0], "22023"), ("numeric", [0], "22023"), ("numeric", [1001], "22023"),
    ("numeric", [5, 1001], "22023"), ("nosuchtype", [], "42704"), ("timestamp", [-1], "22023"),
    ("integer", [3], "42601"),
])
def test_lookup_type_errors(name: str, mods: list[int], state: str) -> None:
    with pytest.raises(errors.DsqlError) as exc:
        r.lookup_type(name, mods)
    assert exc.value.sqlstate == state


def test_type_input_applies_typmod_with_assignment_rules() -> None:
    vc3 = r.lookup_type("varchar", [3])
    assert vc3.input("ab   ") == "ab "
    with pytest.raises(errors.StringDataRightTruncation):
        vc3.input("abcd")
    assert vc3.input("abcd", explicit=True) == "abc"
    assert r.lookup_type("char", [4]).input("ab") == "ab  "
    assert r.lookup_type("numeric", [5, 2]).input("3.14159") == Decimal("3.14")
    out = r.TIMESTAMPTZ.output_fn(ValueContext(timezone=zone_for("Asia/Kolkata")))
    assert out(datetime(2024, 1, 2, tzinfo=timezone.utc)) == "2024-01-02 05:30:00+05:30"


# -- casts -------------------------------------------------------------------------------------

def test_cast_contexts_follow_pg_cast() -> None:
    assert casts.cast_context(r.INT4, r.INT8) == casts.IMPLICIT
    assert casts.cast_context(r.INT8, r.INT4) == casts.ASSIGNMENT
    assert casts.cast_context(r.INT4, r.TEXT) == casts.ASSIGNMENT
    assert casts.cast_context(r.TEXT, r.INT4) == casts.EXPLICIT
    assert casts.cast_context(r.NUMERIC, r.FLOAT8) == casts.IMPLICIT
    assert casts.cast_context(r.FLOAT8, r.NUMERIC) == casts.ASSIGNMENT
    assert casts.cast_context(r.INT4, r.DATE) is None
    assert casts.can_cast(r.DATE, r.TIMESTAMPTZ, casts.IMPLICIT)
    assert not casts.can_cast(r.TIMESTAMPTZ, r.DATE, casts.IMPLICIT)
    with pytest.raises(errors.CannotCoerce, match="cannot cast type integer to date"):
        casts.cast_fn(r.INT4, r.DATE)
    with pytest.raises(errors.CannotCoerce):
        casts.cast_fn(r.TEXT, r.INT4, context=casts.ASSIGNMENT)


def test_cast_values() -> None:
    assert casts.cast_value(Decimal("2.5"), r.NUMERIC, r.INT4) == 3
    assert casts.cast_value(2.5, r.FLOAT8, r.INT4) == 2
    assert casts.cast_value(True, r.BOOL, r.TEXT) == "true"
    assert casts.cast_value(None, r.INT4, r.TEXT) is None
    assert casts.cast_value("ab  ", r.BPCHAR, r.TEXT) == "ab"
    with pytest.raises(errors.StringDataRightTruncation):
        casts.cast_value("abcd", r.TEXT, r.lookup_type("varchar", [3]), context=casts.ASSIGNMENT)
    assert casts.cast_value("abcd", r.TEXT, r.lookup_type("varchar", [3])) == "abc"


# -- ordering and equality keys ----------------------------------------------------------------

def test_sort_keys_give_sql_order() -> None:
    floats = [math.nan, 1.0, -math.inf, math.inf, -0.0, 0.0]
    assert sorted(floats, key=r.FLOAT8.sort_key)[-1] != sorted(floats, key=r.FLOAT8.sort_key)[-1]
    ordered = sorted(floats, key=r.FLOAT8.sort_key)
    assert ordered[0] == -math.inf and math.isnan(ordered[-1]) and ordered[-2] == math.inf
    nums = [Decimal("NaN"), Decimal("1.0"), Decimal("-Infinity"), Decimal("Infinity")]
    assert sorted(nums, key=r.NUMERIC.sort_key)[-1].is_nan()
    assert r.BPCHAR.group_key("ab  ") == r.BPCHAR.group_key("ab")
    assert r.INTERVAL.group_key(Interval(1, 0, 0)) == r.INTERVAL.group_key(Interval(0, 30, 0))
    assert r.JSONB.group_key([True]) != r.JSONB.group_key([1])
    assert r.JSONB.group_key({"a": 1}) == r.JSONB.group_key({"a": Decimal("1.0")})
    docs = [json.jsonb_in(t) for t in ('{"a":1}', "[]", "null", '"x"', "1", "true", "[1,2]")]
    shown = [json.jsonb_out(d) for d in sorted(docs, key=r.JSONB.sort_key)]
    assert shown == ["[]", "null", '"x"', "1", "true", "[1, 2]", '{"a": 1}']


def test_comparison_helpers() -> None:
    cmp = comparison.compare_fn(r.FLOAT8)
    assert comparison.greatest([1.0, None, math.nan], cmp) != 1.0
    assert comparison.least([None, None], cmp) is None
    assert comparison.select_common_type([r.INT4, r.NUMERIC]) == r.NUMERIC
    assert comparison.select_common_type([r.UNKNOWN, r.UNKNOWN]) == r.TEXT
    assert comparison.select_common_type([r.INT4, r.FLOAT4, r.INT8]) == r.FLOAT4
    with pytest.raises(errors.DatatypeMismatch, match="types integer and text cannot be"):
        comparison.select_common_type([r.INT4, r.TEXT])
    eq = comparison.comparison_ops(r.BPCHAR)["="]
    assert eq("ab ", "ab") and comparison.is_distinct_from(None, "x", eq)
    with pytest.raises(errors.DatatypeMismatch):
        comparison.compare_fn(r.JSON)


# -- resolved calls ----------------------------------------------------------------------------

def test_resolution_and_strict_calls() -> None:
    call = catalog.resolve_operator("+", [r.INT4, r.NUMERIC]).bind()
    assert call(1, Decimal("2.5")) == Decimal("3.5")
    assert call(None, Decimal("1")) is None
    res = catalog.resolve_operator("+", [r.FLOAT4, r.INT4])
    assert res.result == r.FLOAT8
    concat = catalog.resolve_function("concat", [r.UNKNOWN, r.INT4, r.BOOL]).bind()
    assert concat("a", None, True) == "at"
    with pytest.raises(errors.UndefinedFunction, match=r"function nosuch\(integer\)"):
        catalog.resolve_function("nosuch", [r.INT4])
    with pytest.raises(errors.UndefinedFunction, match="operator does not exist: integer \\+ uuid"):
        catalog.resolve_operator("+", [r.INT4, r.UUID])
    with pytest.raises(errors.AmbiguousFunction):
        catalog.resolve_function("to_hex", [r.INT2])
    ctx = ValueContext(timezone=zone_for("America/New_York"),
                       transaction_timestamp=datetime(2024, 3, 9, 17, tzinfo=timezone.utc))
    plus = catalog.resolve_operator("+", [r.TIMESTAMPTZ, r.INTERVAL]).bind(ctx)
    assert plus(datetime(2024, 3, 9, 17, tzinfo=timezone.utc), Interval(0, 1, 0)) == \
        datetime(2024, 3, 10, 16, tzinfo=timezone.utc)  # one local day across the DST change
    now = catalog.resolve_function("now", []).bind(ctx)
    assert now() == ctx.transaction_timestamp


# -- datetime sentinels ------------------------------------------------------------------------

def test_infinity_sentinels_order_and_print() -> None:
    assert dt.NEG_INFINITY < date(1, 1, 1) < dt.INFINITY
    assert datetime(9999, 12, 31) < dt.INFINITY and dt.INFINITY > datetime(1, 1, 1)
    assert sorted([dt.INFINITY, date(2024, 1, 1), dt.NEG_INFINITY])[0] is dt.NEG_INFINITY
    assert dt.INFINITY == dt.INFINITY and dt.INFINITY != dt.NEG_INFINITY
    assert dt.date_out(dt.INFINITY) == "infinity"
    assert dt.timestamp_out(dt.NEG_INFINITY) == "-infinity"
    assert not dt.is_finite(dt.INFINITY) and dt.is_finite(date(2024, 1, 1))


def test_like_matcher_is_cached_and_literal() -> None:
    m = fstr.like_matcher("a.b%")
    assert m is fstr.like_matcher("a.b%")
    assert m("a.bc") and not m("axbc")
    assert fstr.like("line1\nline2", "line1%") and fstr.like("a\nb", "a_b")
    assert fstr.ilike("ÀB", "àb") and not fstr.like("ab", "a")
    with pytest.raises(errors.InvalidEscapeSequence):
        fstr.like("a", "a", "xy")


# -- properties against reference models -------------------------------------------------------

def _c_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


@FAST
@given(st.integers(-(2**31), 2**31 - 1), st.integers(-(2**31), 2**31 - 1),
       st.sampled_from(["+", "-", "*", "/", "%"]))
def test_int4_arithmetic_matches_exact_model(a: int, b: int, op: str) -> None:
    fn = {"+": integer.int4_add, "-": integer.int4_sub, "*": integer.int4_mul,
          "/": integer.int4_div, "%": integer.int4_mod}[op]
    if op in "/%" and b == 0:
        with pytest.raises(errors.DivisionByZero):
            fn(a, b)
        return
    exact = {"+": a + b, "-": a - b, "*": a * b, "/": _c_div(a, b) if b else 0,
             "%": a - b * _c_div(a, b) if b else 0}[op]
    if -(2**31) <= exact < 2**31:
        assert fn(a, b) == exact
    else:
        with pytest.raises(errors.NumericValueOutOfRange, match="integer out of range"):
            fn(a, b)


_decimals = st.decimals(allow_nan=False, allow_infinity=False, min_value=-10**12,
                        max_value=10**12, places=6)


@FAST
@given(_decimals, _decimals)
def test_numeric_division_is_correctly_rounded(a: Decimal, b: Decimal) -> None:
    a, b = numeric.make(a), numeric.make(b)
    if not b:
        return
    q = numeric.numeric_div(a, b)
    scale = numeric.scale_of(q)
    exact = Fraction(a) / Fraction(b) * 10**scale
    floor = math.floor(abs(exact))
    want = floor + (1 if abs(exact) - floor >= Fraction(1, 2) else 0)
    assert abs(Fraction(q) * 10**scale) == want
    assert scale >= max(numeric.scale_of(a), numeric.scale_of(b))
    assert Fraction(numeric.numeric_add(a, b)) == Fraction(a) + Fraction(b)
    assert Fraction(numeric.numeric_mul(a, b)) == Fraction(a) * Fraction(b)


@FAST
@given(_decimals)
def test_numeric_text_round_trips(a: Decimal) -> None:
    a = numeric.make(a)
    assert numeric.numeric_in(numeric.numeric_out(a)) == a
    assert numeric.scale_of(numeric.numeric_in(numeric.numeric_out(a))) == numeric.scale_of(a)


@FAST
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float8_output_round_trips(x: float) -> None:
    text = floating.float8_out(x)
    assert floating.float8_in(text) == x
    assert math.copysign(1, floating.float8_in(text)) == math.copysign(1, x)


@FAST
@given(st.integers(0, 2**32 - 1))
def test_float4_output_round_trips(bits: int) -> None:
    x = struct.unpack("<f", struct.pack("<I", bits))[0]
    if not math.isfinite(x):
        return
    text = floating.float4_out(x)
    assert floating.float4_in(text) == x
    assert len(text.split("e")[0].replace("-", "").replace(".", "").lstrip("0")) <= 9


@FAST
@given(st.integers(-(10**6), 10**6), st.integers(-(10**5), 10**5),
       st.integers(-(10**13), 10**13))
def test_interval_text_round_trips(months: int, days: int, usec: int) -> None:
    iv = Interval(months, days, usec)
    assert interval.interval_in(interval.interval_out(iv)) == iv


@FAST
@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
       st.sampled_from(["UTC", "America/New_York", "Asia/Kolkata", "Europe/Dublin"]))
def test_timestamp_text_round_trips(ts: datetime, tz: str) -> None:
    ctx = ValueContext(timezone=zone_for(tz))
    assert dt.timestamp_in(dt.timestamp_out(ts), ctx) == ts
    aware = ts.replace(tzinfo=timezone.utc)
    assert dt.timestamptz_in(dt.timestamptz_out(aware, ctx), ctx) == aware
    assert dt.date_in(dt.date_out(ts.date()), ctx) == ts.date()
    t = ts.time()
    assert dt.time_in(dt.time_out(t), ctx) == t


@FAST
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(_JSON_CHARS, max_size=5),
                    lambda kids: st.lists(kids, max_size=3)
                    | st.dictionaries(st.text(_JSON_CHARS, max_size=3), kids, max_size=3),
                    max_leaves=8))
def test_jsonb_text_round_trips(doc: object) -> None:
    import json as pyjson
    v = json.jsonb_in(pyjson.dumps(doc))
    assert json.jsonb_eq(json.jsonb_in(json.jsonb_out(v)), v)
    assert json.jsonb_contains(v, v)


def test_interval_arithmetic_examples() -> None:
    iv = interval.interval_in("1 mon")
    assert interval.interval_out(interval.interval_div(iv, 7)) == "4 days 06:51:25.6896"
    assert interval.interval_out(interval.interval_mul(interval.interval_in("1 day"), 1.5)) == \
        "1 day 12:00:00"
    with pytest.raises(errors.DatetimeFieldOverflow, match="interval out of range"):
        interval.interval_add(Interval(2**31 - 1, 0, 0), Interval(1, 0, 0))
    assert dt.time_pl_interval(time(23), Interval(0, 0, 7_200_000_000)) == time(1)
    assert dt.date_mi(date(2024, 1, 2), date(2023, 1, 2)) == 365
    assert dt.timestamp_mi(datetime(2024, 1, 2, 3), datetime(2024, 1, 1, 1, 30)) == \
        Interval(0, 1, 5_400_000_000)
    assert dt.date_pli(date(2024, 1, 31), 1) == date(2024, 2, 1)
    assert dt.timestamp_pl_interval(datetime(2024, 1, 31), Interval(1, 0, 0)) == \
        datetime(2024, 2, 29)


@pytest.mark.parametrize("value, shown", [
    ("america/new_york", "America/New_York"), ("5", "<+05>-05"), ("-3.5", "<-03:30>+03:30"),
    ("UTC+3", "UTC+3"), ("utc", "UTC"), ("PST8PDT", "PST8PDT")])
def test_timezone_setting_names_like_show(value: str, shown: str) -> None:
    from dsql.sql.types.timezones import timezone_setting
    assert timezone_setting(value)[1] == shown


def test_timezone_setting_rejects_unknown_zones() -> None:
    from dsql.sql.types.timezones import timezone_setting
    with pytest.raises(errors.InvalidParameterValue, match='parameter "TimeZone": "Mars/Base"'):
        timezone_setting("Mars/Base")
