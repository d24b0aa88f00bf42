"""SqlType: one PostgreSQL type (name, OID, typlen, category, typmod) and its I/O functions.

A SqlType is immutable; `with_typmod` makes varchar(3) from varchar. Equality is by OID and
typmod. The per-type text input and output, typmod application and the keys that make Python
sorting and hashing agree with SQL are attached here, so the binder, executor and wire layer
share one description of each type.

Example::

    t = lookup_type("numeric", [5, 2])          # numeric(5,2)
    v = t.input("3.14159")                       # Decimal('3.14')
    t.output(v)                                  # '3.14'
    format_type(t)                               # 'numeric(5,2)'

Hot paths should bind once: `fn = t.output_fn(ctx)` then call `fn(value)` per row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from dsql.errors import InvalidParameterValue, SqlSyntaxError, UndefinedObject
from dsql.sql.types import (
    array,
    boolean,
    bytea,
    floating,
    integer,
    interval,
    json,
    numeric,
    text,
    uuid,
)
from dsql.sql.types import datetime as dt
from dsql.sql.types.context import DEFAULT_CONTEXT, ValueContext

VARHDRSZ = 4
MAX_VARCHAR_LENGTH = 10485760
MAX_TIME_PRECISION = 6

InFn = Callable[..., Any]
OutFn = Callable[..., str]


@dataclass(frozen=True, slots=True)
class SqlType:
    """A PostgreSQL type, optionally with a typmod (-1 = none)."""

    name: str  # pg_type.typname, e.g. "int4", "varchar", "timestamptz"
    oid: int
    typmod: int = -1
    array_oid: int = field(default=0, compare=False)
    typlen: int = field(default=-1, compare=False)  # bytes, or -1 for variable length
    category: str = field(default="U", compare=False)  # pg_type.typcategory
    preferred: bool = field(default=False, compare=False)
    display: str = field(default="", compare=False)  # format_type() name without typmod
    in_fn: InFn | None = field(default=None, compare=False, repr=False)
    in_ctx: bool = field(default=False, compare=False, repr=False)
    out_fn: OutFn | None = field(default=None, compare=False, repr=False)
    out_ctx: bool = field(default=False, compare=False, repr=False)
    # applies a typmod to a value of this type: f(value, typmod, explicit) -> value
    typmod_fn: Callable[[Any, int, bool], Any] | None = field(default=None, compare=False,
                                                               repr=False)
    # maps values to keys whose Python order / equality is the SQL one (None: the value is)
    sort_key: Callable[[Any], Any] | None = field(default=None, compare=False, repr=False)
    group_key: Callable[[Any], Any] | None = field(default=None, compare=False, repr=False)

    def with_typmod(self, typmod: int) -> SqlType:
        return self if typmod == self.typmod else replace(self, typmod=typmod)

    @property
    def base(self) -> SqlType:
        return self.with_typmod(-1)

    # -- text I/O ------------------------------------------------------------------------------

    def input(self, text_value: str, ctx: ValueContext = DEFAULT_CONTEXT,
              explicit: bool = False) -> Any:
        """The input function plus typmod (assignment rules unless `explicit`)."""
        return self.input_fn(ctx, explicit)(text_value)

    def output(self, value: Any, ctx: ValueContext = DEFAULT_CONTEXT) -> str:
        assert value is not None, "NULL has no text output"
        assert self.out_fn is not None
        return self.out_fn(value, ctx) if self.out_ctx else self.out_fn(value)

    def input_fn(self, ctx: ValueContext = DEFAULT_CONTEXT,
                 explicit: bool = False) -> Callable[[str], Any]:
        fn = self.in_fn
        assert fn is not None, f"type {self.name} has no input function"
        base: Callable[[str], Any] = (lambda s: fn(s, ctx)) if self.in_ctx else fn
        tfn, typmod = self.typmod_fn, self.typmod
        if typmod < 0 or tfn is None:
            return base
        return lambda s: tfn(base(s), typmod, explicit)

    def output_fn(self, ctx: ValueContext = DEFAULT_CONTEXT) -> Callable[[Any], str]:
        fn = self.out_fn
        assert fn is not None
        if self.out_ctx:
            return lambda v: fn(v, ctx)
        return fn


# -- typmod helpers ----------------------------------------------------------------------------

def _varchar_typmod(v: str, typmod: int, explicit: bool) -> str:
    return text.varchar_apply_typmod(v, typmod - VARHDRSZ, explicit)


def _bpchar_typmod(v: str, typmod: int, explicit: bool) -> str:
    return text.bpchar_apply_typmod(v, typmod - VARHDRSZ, explicit)


def _numeric_typmod(v: Any, typmod: int, explicit: bool) -> Any:
    p, s = numeric.numeric_typmod_parts(typmod)
    return numeric.numeric_apply_typmod(v, p, s)


def _timestamp_typmod(v: Any, typmod: int, explicit: bool) -> Any:
    return dt.timestamp_apply_typmod(v, typmod)


def _time_typmod(v: Any, typmod: int, explicit: bool) -> Any:
    return dt.time_apply_typmod(v, typmod)


def _float_key(v: float) -> Any:
    return floating.float_sort_key(v)


# -- the types ---------------------------------------------------------------------------------

BOOL = SqlType("bool", 16, array_oid=1000, typlen=1, category="B", preferred=True,
               display="boolean", in_fn=boolean.bool_in, out_fn=boolean.bool_out)
BYTEA = SqlType("bytea", 17, array_oid=1001, typlen=-1, category="U", display="bytea",
                in_fn=bytea.bytea_in, out_fn=bytea.bytea_out)
INT8 = SqlType("int8", 20, array_oid=1016, typlen=8, category="N", display="bigint",
               in_fn=integer.int8_in, out_fn=str)
INT2 = SqlType("int2", 21, array_oid=1005, typlen=2, category="N", display="smallint",
               in_fn=integer.int2_in, out_fn=str)
INT4 = SqlType("int4", 23, array_oid=1007, typlen=4, category="N", display="integer",
               in_fn=integer.int4_in, out_fn=str)
TEXT = SqlType("text", 25, array_oid=1009, typlen=-1, category="S", preferred=True,
               display="text", in_fn=text.text_in, out_fn=text.text_out)
JSON = SqlType("json", 114, array_oid=199, typlen=-1, category="U", display="json",
               in_fn=json.json_in, out_fn=json.json_out)
FLOAT4 = SqlType("float4", 700, array_oid=1021, typlen=4, category="N", display="real",
                 in_fn=floating.float4_in, out_fn=floating.float4_out, sort_key=_float_key,
                 group_key=_float_key)
FLOAT8 = SqlType("float8", 701, array_oid=1022, typlen=8, category="N", preferred=True,
                 display="double precision", in_fn=floating.float8_in,
                 out_fn=floating.float8_out, sort_key=_float_key, group_key=_float_key)
UNKNOWN = SqlType("unknown", 705, typlen=-2, category="X", display="unknown",
                  in_fn=text.text_in, out_fn=text.text_out)
BPCHAR = SqlType("bpchar", 1042, array_oid=1014, typlen=-1, category="S", display="bpchar",
                 in_fn=text.text_in, out_fn=text.text_out, typmod_fn=_bpchar_typmod,
                 sort_key=text.bpchar_sort_key, group_key=text.bpchar_sort_key)
VARCHAR = SqlType("varchar", 1043, array_oid=1015, typlen=-1, category="S",
                  display="character varying", in_fn=text.text_in, out_fn=text.text_out,
                  typmod_fn=_varchar_typmod)
DATE = SqlType("date", 1082, array_oid=1182, typlen=4, category="D", display="date",
               in_fn=dt.date_in, in_ctx=True, out_fn=dt.date_out)
TIME = SqlType("time", 1083, array_oid=1183, typlen=8, category="D",
               display="time without time zone", in_fn=dt.time_in, in_ctx=True,
               out_fn=dt.time_out, typmod_fn=_time_typmod)
TIMESTAMP = SqlType("timestamp", 1114, array_oid=1115, typlen=8, category="D",
                    display="timestamp without time zone", in_fn=dt.timestamp_in, in_ctx=True,
                    out_fn=dt.timestamp_out, typmod_fn=_timestamp_typmod)
TIMESTAMPTZ = SqlType("timestamptz", 1184, array_oid=1185, typlen=8, category="D",
                      preferred=True, display="timestamp with time zone",
                      in_fn=dt.timestamptz_in, in_ctx=True, out_fn=dt.timestamptz_out,
                      out_ctx=True, typmod_fn=_timestamp_typmod)
INTERVAL = SqlType("interval", 1186, array_oid=1187, typlen=16, category="T", preferred=True,
                   display="interval", in_fn=interval.interval_in, out_fn=interval.interval_out,
                   sort_key=interval.interval_cmp_key, group_key=interval.interval_cmp_key)
NUMERIC = SqlType("numeric", 1700, array_oid=1231, typlen=-1, category="N", display="numeric",
                  in_fn=numeric.numeric_in, out_fn=numeric.numeric_out,
                  typmod_fn=_numeric_typmod, sort_key=numeric.numeric_sort_key,
                  group_key=numeric.numeric_sort_key)
UUID = SqlType("uuid", 2950, array_oid=2951, typlen=16, category="U", display="uuid",
               in_fn=uuid.uuid_in, out_fn=uuid.uuid_out)
JSONB = SqlType("jsonb", 3802, array_oid=3807, typlen=-1, category="U", display="jsonb",
                in_fn=json.jsonb_in, out_fn=json.jsonb_out, sort_key=json.JsonbSortKey,
                group_key=json.jsonb_group_key)

TEXT_ARRAY = SqlType("_text", 1009, typlen=-1, category="A", display="text[]",
                    in_fn=array.array_in, out_fn=array.array_out)

ALL_TYPES = (TEXT_ARRAY, BOOL, BYTEA, INT8, INT2, INT4, TEXT, JSON, FLOAT4, FLOAT8, UNKNOWN,
             BPCHAR, VARCHAR, DATE, TIME, TIMESTAMP, TIMESTAMPTZ, INTERVAL, NUMERIC, UUID, JSONB)
_BY_OID = {t.oid: t for t in ALL_TYPES}
_BY_NAME = {t.name: t for t in ALL_TYPES}


def type_by_oid(oid: int, typmod: int = -1) -> SqlType:
    t = _BY_OID.get(oid)
    if t is None:
        raise UndefinedObject(f"type with OID {oid} does not exist")
    return t.with_typmod(typmod)


# -- names as written in SQL -------------------------------------------------------------------

_ALIASES = {
    "bool": "bool", "boolean": "bool", "bytea": "bytea",
    "int8": "int8", "bigint": "int8", "int2": "int2", "smallint": "int2",
    "int4": "int4", "int": "int4", "integer": "int4", "text": "text",
    "json": "json", "jsonb": "jsonb", "float4": "float4", "real": "float4",
    "float8": "float8", "double precision": "float8", "float": "float8",
    "bpchar": "bpchar", "char": "bpchar", "character": "bpchar",
    "varchar": "varchar", "character varying": "varchar", "char varying": "varchar",
    "date": "date", "time": "time", "time without time zone": "time",
    "timestamp": "timestamp", "timestamp without time zone": "timestamp",
    "timestamptz": "timestamptz", "timestamp with time zone": "timestamptz",
    "interval": "interval", "numeric": "numeric", "decimal": "numeric", "dec": "numeric",
    "uuid": "uuid", "unknown": "unknown", "text[]": "_text", "_text": "_text",
}


def _length_typmod(type_label: str, mods: list[int]) -> int:
    if len(mods) != 1:
        raise SqlSyntaxError(f"invalid type modifier for type {type_label}")
    n = mods[0]
    if n < 1:
        raise InvalidParameterValue(f"length for type {type_label} must be at least 1")
    if n > MAX_VARCHAR_LENGTH:
        raise InvalidParameterValue(
            f"length for type {type_label} cannot exceed {MAX_VARCHAR_LENGTH}")
    return n + VARHDRSZ


def _precision_typmod(label: str, mods: list[int]) -> int:
    if len(mods) != 1:
        raise SqlSyntaxError(f"invalid type modifier for type {label}")
    p = mods[0]
    if p < 0:
        raise InvalidParameterValue(f"{label.upper()}({p}) precision must not be negative")
    return min(p, MAX_TIME_PRECISION)


def lookup_type(name: str, typmods: list[int] | tuple[int, ...] = ()) -> SqlType:
    """The type a SQL type name denotes: 'integer', 'varchar' + [3], 'numeric' + [5, 2],
    'double precision', 'timestamp with time zone', 'float' + [24] (= real), 'char' (= char(1)).
    """
    key = " ".join(name.lower().split())
    mods = list(typmods)
    canonical = _ALIASES.get(key)
    if canonical is None:
        raise UndefinedObject(f'type "{name}" does not exist')
    if key == "float" and mods:
        p = mods[0]
        if p < 1:
            raise InvalidParameterValue("precision for type float must be at least 1 bit")
        if p > 53:
            raise InvalidParameterValue("precision for type float must be less than 54 bits")
        return FLOAT4 if p <= 24 else FLOAT8
    t = _BY_NAME[canonical]
    if canonical == "varchar":
        return t.with_typmod(_length_typmod("varchar", mods)) if mods else t
    if canonical == "bpchar":
        if mods:
            return t.with_typmod(_length_typmod("char", mods))
        return t if key == "bpchar" else t.with_typmod(1 + VARHDRSZ)
    if canonical == "numeric":
        if not mods:
            return t
        if len(mods) > 2:
            raise SqlSyntaxError("invalid NUMERIC type modifier")
        return t.with_typmod(numeric.numeric_typmod(mods[0], mods[1] if len(mods) > 1 else 0))
    if canonical in ("time", "timestamp", "timestamptz"):
        label = {"time": "time", "timestamp": "timestamp", "timestamptz": "timestamp"}[canonical]
        return t.with_typmod(_precision_typmod(label, mods)) if mods else t
    if mods:
        raise SqlSyntaxError(f"type modifier is not allowed for type \"{t.name}\"")
    return t


def format_type(t: SqlType) -> str:
    """format_type(): 'integer', 'character varying(3)', 'numeric(5,2)',
    'timestamp(3) with time zone', 'character(1)'."""
    tm = t.typmod
    if t.oid == BPCHAR.oid:
        return f"character({tm - VARHDRSZ})" if tm >= 0 else "bpchar"
    if tm < 0:
        return t.display
    if t.oid == VARCHAR.oid:
        return f"character varying({tm - VARHDRSZ})"
    if t.oid == NUMERIC.oid:
        p, s = numeric.numeric_typmod_parts(tm)
        return f"numeric({p},{s})"
    if t.oid == TIME.oid:
        return f"time({tm}) without time zone"
    if t.oid == TIMESTAMP.oid:
        return f"timestamp({tm}) without time zone"
    if t.oid == TIMESTAMPTZ.oid:
        return f"timestamp({tm}) with time zone"
    return t.display
