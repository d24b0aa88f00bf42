"""Binary wire formats of the supported types, both directions (PostgreSQL's *send/*recv).

Each type's binary value is the body of a DataRow column or of a Bind parameter (the Int32
length in front of it belongs to the message). Layouts, big-endian throughout::

    bool         Byte1                    0 = false, anything else = true (1 is sent)
    int2/4/8     Int16 / Int32 / Int64    two's complement
    oid          UInt32
    float4/8     IEEE 754 binary32 / binary64
    text, varchar, bpchar, name, unknown, json
                 the UTF-8 bytes, no terminator (no NUL bytes allowed)
    "char"       one byte (zero = the empty string)
    jsonb        Byte1 version (= 1), then the jsonb text output in UTF-8
    bytea        the raw bytes
    uuid         16 bytes (RFC 4122 order)
    date         Int32 days since 2000-01-01; 0x7FFFFFFF = infinity, 0x80000000 = -infinity
    time         Int64 microseconds since midnight
    timestamp    Int64 microseconds since 2000-01-01 00:00:00 (local, no zone)
    timestamptz  Int64 microseconds since 2000-01-01 00:00:00 UTC
                 (both: INT64_MAX = infinity, INT64_MIN = -infinity)
    interval     Int64 microseconds, Int32 days, Int32 months
    numeric      Int16 ndigits, Int16 weight, UInt16 sign, UInt16 dscale, Int16 digit[ndigits]
                 digits are base 10000, most significant first; value =
                 sum(digit[i] * 10000^(weight - i)); sign 0x0000 +, 0x4000 -, 0xC000 NaN,
                 0xD000 +Infinity, 0xF000 -Infinity; dscale = digits after the decimal point
                 shown; no leading or trailing zero digits are sent; zero has ndigits = 0

Decoders take the value bytes and return the dsql Python representation
(docs/sql-values.md); a malformed value raises InvalidBinaryRepresentation (22P03), a value
outside dsql's range DatetimeFieldOverflow (22008). Encoders take a Python value of the
column's type and return its bytes.

Thread-safety: pure functions; safe from any thread.
"""

from __future__ import annotations

import struct
import uuid as _uuid
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from dsql.errors import (
    CharacterNotInRepertoire,
    DatetimeFieldOverflow,
    InvalidBinaryRepresentation,
)
from dsql.sql.types import json as _json
from dsql.sql.types import numeric as _numeric
from dsql.sql.types.datetime import INFINITY, NEG_INFINITY
from dsql.storage.interval import Interval

Encoder = Callable[[Any], bytes]
Decoder = Callable[[bytes], Any]

# Type OIDs with binary codecs (pg_type.oid).
BOOL, BYTEA, CHAR, NAME, INT8, INT2, INT4, TEXT, OID = 16, 17, 18, 19, 20, 21, 23, 25, 26
JSON, FLOAT4, FLOAT8, UNKNOWN, BPCHAR, VARCHAR = 114, 700, 701, 705, 1042, 1043
DATE, TIME, TIMESTAMP, TIMESTAMPTZ, INTERVAL = 1082, 1083, 1114, 1184, 1186
NUMERIC, UUID, JSONB = 1700, 2950, 3802

_INT32_MAX, _INT32_MIN = 2**31 - 1, -(2**31)
_INT64_MAX, _INT64_MIN = 2**63 - 1, -(2**63)
_USECS_PER_DAY = 86_400_000_000
_EPOCH_ORDINAL = date(2000, 1, 1).toordinal()
_MAX_ORDINAL = date.max.toordinal()
_EPOCH = datetime(2000, 1, 1)
_EPOCH_UTC = datetime(2000, 1, 1, tzinfo=timezone.utc)
_ONE_US = timedelta(microseconds=1)

_S_I16, _S_I32, _S_I64 = struct.Struct("!h"), struct.Struct("!i"), struct.Struct("!q")
_S_U32, _S_F4, _S_F8 = struct.Struct("!I"), struct.Struct("!f"), struct.Struct("!d")
_S_INTERVAL = struct.Struct("!qii")
_S_NUMHDR = struct.Struct("!hhHH")

NUMERIC_POS, NUMERIC_NEG, NUMERIC_NAN = 0x0000, 0x4000, 0xC000
NUMERIC_PINF, NUMERIC_NINF = 0xD000, 0xF000
NUMERIC_DSCALE_MASK = 0x3FFF
NUMERIC_DIGITS_MAX = 0xFFFF  # ndigits is sent as Int16 but PostgreSQL reads it unsigned-safe


class BinaryFormatError(InvalidBinaryRepresentation):
    """A value whose byte length does not fit its type; the Bind layer names the parameter."""

    def __init__(self) -> None:
        super().__init__("incorrect binary data format")


def _fixed(data: bytes, size: int) -> None:
    if len(data) != size:
        raise BinaryFormatError()


# -- bool, integers, floats, oid ---------------------------------------------------------------

def encode_bool(v: bool) -> bytes:
    return b"\x01" if v else b"\x00"


def decode_bool(data: bytes) -> bool:
    _fixed(data, 1)
    return data[0] != 0


def encode_int2(v: int) -> bytes:
    return _S_I16.pack(v)


def decode_int2(data: bytes) -> int:
    _fixed(data, 2)
    return int(_S_I16.unpack(data)[0])


def encode_int4(v: int) -> bytes:
    return _S_I32.pack(v)


def decode_int4(data: bytes) -> int:
    _fixed(data, 4)
    return int(_S_I32.unpack(data)[0])


def encode_int8(v: int) -> bytes:
    return _S_I64.pack(v)


def decode_int8(data: bytes) -> int:
    _fixed(data, 8)
    return int(_S_I64.unpack(data)[0])


def encode_oid(v: int) -> bytes:
    return _S_U32.pack(v)


def decode_oid(data: bytes) -> int:
    _fixed(data, 4)
    return int(_S_U32.unpack(data)[0])


def encode_float4(v: float) -> bytes:
    return _S_F4.pack(v)


def decode_float4(data: bytes) -> float:
    _fixed(data, 4)
    return float(_S_F4.unpack(data)[0])


def encode_float8(v: float) -> bytes:
    return _S_F8.pack(v)


def decode_float8(data: bytes) -> float:
    _fixed(data, 8)
    return float(_S_F8.unpack(data)[0])


# -- strings, bytea, uuid, json ----------------------------------------------------------------

def encode_text(v: str) -> bytes:
    return v.encode("utf-8")


def decode_text(data: bytes) -> str:
    """UTF-8 text without NUL bytes; anything else is 22021 as in PostgreSQL."""
    try:
        s = data.decode("utf-8")
    except UnicodeDecodeError as e:
        bad = " ".join(f"0x{b:02x}" for b in data[e.start: e.start + 2])
        raise CharacterNotInRepertoire(
            f'invalid byte sequence for encoding "UTF8": {bad}') from None
    if "\0" in s:
        raise CharacterNotInRepertoire('invalid byte sequence for encoding "UTF8": 0x00')
    return s


def encode_char(v: str) -> bytes:
    """The one-byte "char" type; the empty string is the zero byte (as charsend sends it)."""
    assert len(v) <= 1 and (not v or ord(v) < 256), "a \"char\" value is one byte"
    return bytes([ord(v)]) if v else b"\0"


def decode_char(data: bytes) -> str:
    _fixed(data, 1)
    return chr(data[0]) if data[0] else ""


def encode_bytea(v: bytes) -> bytes:
    return bytes(v)


def decode_bytea(data: bytes) -> bytes:
    return bytes(data)


def encode_uuid(v: _uuid.UUID) -> bytes:
    return v.bytes


def decode_uuid(data: bytes) -> _uuid.UUID:
    _fixed(data, 16)
    return _uuid.UUID(bytes=bytes(data))


def decode_json(data: bytes) -> str:
    return str(_json.json_in(decode_text(data)))


def encode_jsonb(v: Any) -> bytes:
    return b"\x01" + _json.jsonb_out(v).encode("utf-8")


def decode_jsonb(data: bytes) -> Any:
    if len(data) < 1:
        raise BinaryFormatError()
    if data[0] != 1:
        raise InvalidBinaryRepresentation(f"unsupported jsonb version number {data[0]}")
    return _json.jsonb_in(decode_text(data[1:]))


# -- date and time -----------------------------------------------------------------------------

def _date_range() -> DatetimeFieldOverflow:
    return DatetimeFieldOverflow("date out of range")


def _timestamp_range() -> DatetimeFieldOverflow:
    return DatetimeFieldOverflow("timestamp out of range")


def encode_date(v: Any) -> bytes:
    if v is INFINITY:
        return _S_I32.pack(_INT32_MAX)
    if v is NEG_INFINITY:
        return _S_I32.pack(_INT32_MIN)
    return _S_I32.pack(v.toordinal() - _EPOCH_ORDINAL)


def decode_date(data: bytes) -> Any:
    _fixed(data, 4)
    (days,) = _S_I32.unpack(data)
    if days == _INT32_MAX:
        return INFINITY
    if days == _INT32_MIN:
        return NEG_INFINITY
    ordinal = days + _EPOCH_ORDINAL
    if not 1 <= ordinal <= _MAX_ORDINAL:
        raise _date_range()
    return date.fromordinal(ordinal)


def encode_time(v: time) -> bytes:
    return _S_I64.pack(((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000 + v.microsecond)


def decode_time(data: bytes) -> time:
    _fixed(data, 8)
    (us,) = _S_I64.unpack(data)
    if not 0 <= us < _USECS_PER_DAY:
        raise DatetimeFieldOverflow("time out of range")
    secs, micro = divmod(us, 1_000_000)
    hours, rem = divmod(secs, 3600)
    return time(hours, rem // 60, rem % 60, micro)


def encode_timestamp(v: Any) -> bytes:
    if v is INFINITY:
        return _S_I64.pack(_INT64_MAX)
    if v is NEG_INFINITY:
        return _S_I64.pack(_INT64_MIN)
    assert v.tzinfo is None, "timestamp values are naive"
    return _S_I64.pack((v - _EPOCH) // _ONE_US)


def decode_timestamp(data: bytes) -> Any:
    _fixed(data, 8)
    (us,) = _S_I64.unpack(data)
    if us == _INT64_MAX:
        return INFINITY
    if us == _INT64_MIN:
        return NEG_INFINITY
    try:
        return _EPOCH + timedelta(microseconds=us)
    except OverflowError:
        raise _timestamp_range() from None


def encode_timestamptz(v: Any) -> bytes:
    if v is INFINITY:
        return _S_I64.pack(_INT64_MAX)
    if v is NEG_INFINITY:
        return _S_I64.pack(_INT64_MIN)
    if v.tzinfo is None:  # REQUIRES says UTC-aware; a naive value is taken as UTC
        return _S_I64.pack((v - _EPOCH) // _ONE_US)
    return _S_I64.pack((v - _EPOCH_UTC) // _ONE_US)


def decode_timestamptz(data: bytes) -> Any:
    _fixed(data, 8)
    (us,) = _S_I64.unpack(data)
    if us == _INT64_MAX:
        return INFINITY
    if us == _INT64_MIN:
        return NEG_INFINITY
    try:
        return _EPOCH_UTC + timedelta(microseconds=us)
    except OverflowError:
        raise _timestamp_range() from None


def encode_interval(v: Interval) -> bytes:
    return _S_INTERVAL.pack(v.microseconds, v.days, v.months)


def decode_interval(data: bytes) -> Interval:
    _fixed(data, 16)
    micro, days, months = _S_INTERVAL.unpack(data)
    return Interval(months=months, days=days, microseconds=micro)


# -- numeric -----------------------------------------------------------------------------------

# PostgreSQL sends dscale 32 for the infinities: numeric_send reads the dscale bits of the
# special value's short header (0xD000 & 0x1F80) >> 7. Receivers ignore it; we match the bytes.
_NUMERIC_SPECIAL = {
    "NaN": _S_NUMHDR.pack(0, 0, NUMERIC_NAN, 0),
    "Infinity": _S_NUMHDR.pack(0, 0, NUMERIC_PINF, 32),
    "-Infinity": _S_NUMHDR.pack(0, 0, NUMERIC_NINF, 32),
}


def encode_numeric(v: Decimal) -> bytes:
    """Base-10000 digits aligned on the decimal point; see the grammar above."""
    if not v.is_finite():
        key = "NaN" if v.is_nan() else ("Infinity" if v > 0 else "-Infinity")
        return _NUMERIC_SPECIAL[key]
    sign, digit_tuple, exp = v.as_tuple()
    assert isinstance(exp, int)
    coef = int("".join(map(str, digit_tuple))) if digit_tuple else 0
    if exp > 0:
        coef *= 10**exp
        exp = 0
    dscale = -exp
    pad = (-dscale) % 4  # align the fraction to whole base-10000 digits
    n = coef * 10**pad if pad else coef
    groups: list[int] = []
    while n:
        n, r = divmod(n, 10000)
        groups.append(r)
    if not groups:
        return _S_NUMHDR.pack(0, 0, NUMERIC_POS, dscale)
    groups.reverse()
    weight = len(groups) - 1 - (dscale + pad) // 4
    while groups[-1] == 0:
        groups.pop()
    assert groups and groups[0] != 0
    header = _S_NUMHDR.pack(len(groups), weight, NUMERIC_NEG if sign else NUMERIC_POS, dscale)
    return header + struct.pack(f"!{len(groups)}h", *groups)


def decode_numeric(data: bytes) -> Decimal:
    if len(data) < 8:
        raise BinaryFormatError()
    ndigits, weight, sign, dscale = _S_NUMHDR.unpack_from(data)
    if ndigits < 0 or len(data) != 8 + 2 * ndigits:
        raise BinaryFormatError()
    if sign == NUMERIC_NAN:
        return Decimal("NaN")
    if sign == NUMERIC_PINF:
        return Decimal("Infinity")
    if sign == NUMERIC_NINF:
        return Decimal("-Infinity")
    if sign not in (NUMERIC_POS, NUMERIC_NEG):
        raise InvalidBinaryRepresentation('invalid sign in external "numeric" value')
    if dscale != (dscale & NUMERIC_DSCALE_MASK):
        raise InvalidBinaryRepresentation('invalid scale in external "numeric" value')
    digits = struct.unpack_from(f"!{ndigits}h", data, 8)
    n = 0
    for d in digits:
        if not 0 <= d < 10000:
            raise InvalidBinaryRepresentation('invalid digit in external "numeric" value')
        n = n * 10000 + d
    shift = 4 * (weight - ndigits + 1) + dscale  # decimal digits to append (or drop if < 0)
    if shift >= 0:
        n *= 10**shift
    else:
        n //= 10 ** (-shift)  # digits beyond dscale are cut, as numeric_recv does
    text = f"{'-' if sign == NUMERIC_NEG and n else ''}{n}E-{dscale}"
    return _numeric.make(Decimal(text))


# -- the tables --------------------------------------------------------------------------------

ENCODERS: dict[int, Encoder] = {
    BOOL: encode_bool, BYTEA: encode_bytea, CHAR: encode_char, NAME: encode_text,
    INT8: encode_int8, INT2: encode_int2, INT4: encode_int4, TEXT: encode_text, OID: encode_oid,
    JSON: encode_text, FLOAT4: encode_float4, FLOAT8: encode_float8, UNKNOWN: encode_text,
    BPCHAR: encode_text, VARCHAR: encode_text, DATE: encode_date, TIME: encode_time,
    TIMESTAMP: encode_timestamp, TIMESTAMPTZ: encode_timestamptz, INTERVAL: encode_interval,
    NUMERIC: encode_numeric, UUID: encode_uuid, JSONB: encode_jsonb,
}

DECODERS: dict[int, Decoder] = {
    BOOL: decode_bool, BYTEA: decode_bytea, CHAR: decode_char, NAME: decode_text,
    INT8: decode_int8, INT2: decode_int2, INT4: decode_int4, TEXT: decode_text, OID: decode_oid,
    JSON: decode_json, FLOAT4: decode_float4, FLOAT8: decode_float8, UNKNOWN: decode_text,
    BPCHAR: decode_text, VARCHAR: decode_text, DATE: decode_date, TIME: decode_time,
    TIMESTAMP: decode_timestamp, TIMESTAMPTZ: decode_timestamptz, INTERVAL: decode_interval,
    NUMERIC: decode_numeric, UUID: decode_uuid, JSONB: decode_jsonb,
}

assert ENCODERS.keys() == DECODERS.keys()


def encoder(type_oid: int) -> Encoder | None:
    """The binary send function for a type OID, or None if it has none."""
    return ENCODERS.get(type_oid)


def decoder(type_oid: int) -> Decoder | None:
    """The binary receive function for a type OID, or None if it has none."""
    return DECODERS.get(type_oid)
