"""Building JSON from SQL values: to_json / to_jsonb, json[b]_build_object, json[b]_build_array.

SQL values become JSON by type: numbers stay numbers (NaN and infinities become strings), text
becomes a string, booleans stay booleans, json/jsonb are embedded, dates and timestamps use ISO
8601 with a 'T' ('2024-01-02T03:04:05', timestamptz with '+00:00'), anything else uses its text
output as a string. json text output has PostgreSQL's spacing: '{"a" : 1, "b" : [1, 2]}'.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from dsql.errors import InvalidParameterValue
from dsql.sql.types import datetime as dt
from dsql.sql.types import json, numeric
from dsql.sql.types import registry as r
from dsql.sql.types.context import ValueContext
from dsql.sql.types.registry import SqlType

_NUMBER_OIDS = frozenset((r.INT2.oid, r.INT4.oid, r.INT8.oid, r.FLOAT4.oid, r.FLOAT8.oid,
                          r.NUMERIC.oid))


def _xsd_datetime(v: Any, t: SqlType, ctx: ValueContext) -> str:
    if not dt.is_finite(v):
        return "infinity" if v is dt.INFINITY else "-infinity"
    if t.oid == r.DATE.oid:
        return dt.date_out(v)
    if t.oid == r.TIMESTAMP.oid:
        s = v.isoformat("T")
        return s.rstrip("0") if v.microsecond else s
    local, east = dt.to_local(v, ctx)
    s = local.isoformat("T")
    if local.microsecond:
        s = s.rstrip("0")
    sign = "-" if east < 0 else "+"
    hh, rem = divmod(abs(east), 3600)
    mm, ss = divmod(rem, 60)
    return s + f"{sign}{hh:02d}:{mm:02d}" + (f":{ss:02d}" if ss else "")


def to_jsonb(v: Any, t: SqlType, ctx: ValueContext) -> Any:
    """The jsonb value of a SQL value of type t (None -> JSON null)."""
    if v is None:
        return json.JSON_NULL
    oid = t.oid
    if oid == r.BOOL.oid:
        return v
    if oid in _NUMBER_OIDS:
        if isinstance(v, float):
            if not math.isfinite(v):
                return t.output(v)
            return numeric.numeric_in(t.output(v))
        if isinstance(v, Decimal) and not v.is_finite():
            return numeric.numeric_out(v)
        return v
    if oid == r.JSONB.oid:
        return v
    if oid == r.JSON.oid:
        return json.jsonb_in(v)
    if oid in (r.DATE.oid, r.TIMESTAMP.oid, r.TIMESTAMPTZ.oid):
        return _xsd_datetime(v, t, ctx)
    return t.output(v, ctx)


def to_json_text(v: Any, t: SqlType, ctx: ValueContext) -> str:
    """The json text of a SQL value of type t (datum_to_json)."""
    if v is None:
        return "null"
    oid = t.oid
    if oid == r.BOOL.oid:
        return "true" if v else "false"
    if oid in _NUMBER_OIDS:
        s = t.output(v)
        if (isinstance(v, float) and not math.isfinite(v)) or (
                isinstance(v, Decimal) and not v.is_finite()):
            return json.escape_json(s)
        return s
    if oid == r.JSON.oid:
        return v
    if oid == r.JSONB.oid:
        return json.jsonb_out(v)
    if oid in (r.DATE.oid, r.TIMESTAMP.oid, r.TIMESTAMPTZ.oid):
        return json.escape_json(_xsd_datetime(v, t, ctx))
    return json.escape_json(t.output(v, ctx))


def _key_text(i: int, v: Any, t: SqlType, ctx: ValueContext) -> str:
    if v is None:
        raise InvalidParameterValue(f"argument {i + 1}: key must not be null")
    if t.oid in (r.JSON.oid, r.JSONB.oid):
        raise InvalidParameterValue("key value must be scalar, not array, composite, or json")
    return t.output(v, ctx)


def _check_even(args: Sequence[Any], fname: str) -> None:
    if len(args) % 2:
        err = InvalidParameterValue("argument list must have even number of elements")
        err.hint = (f"The arguments of {fname}() must consist of alternating keys and "
                    "values.")
        raise err


def jsonb_build_object(args: Sequence[tuple[Any, SqlType]], ctx: ValueContext) -> Any:
    _check_even(args, "jsonb_build_object")
    pairs = []
    for i in range(0, len(args), 2):
        kv, kt = args[i]
        vv, vt = args[i + 1]
        pairs.append((_key_text(i, kv, kt, ctx), to_jsonb(vv, vt, ctx)))
    return json._make_object(pairs)


def json_build_object(args: Sequence[tuple[Any, SqlType]], ctx: ValueContext) -> str:
    _check_even(args, "json_build_object")
    parts = []
    for i in range(0, len(args), 2):
        kv, kt = args[i]
        vv, vt = args[i + 1]
        key = json.escape_json(_key_text(i, kv, kt, ctx))
        parts.append(f"{key} : {to_json_text(vv, vt, ctx)}")
    return "{" + ", ".join(parts) + "}"


def jsonb_build_array(args: Sequence[tuple[Any, SqlType]], ctx: ValueContext) -> Any:
    return [to_jsonb(v, t, ctx) for v, t in args]


def json_build_array(args: Sequence[tuple[Any, SqlType]], ctx: ValueContext) -> str:
    return "[" + ", ".join(to_json_text(v, t, ctx) for v, t in args) + "]"

