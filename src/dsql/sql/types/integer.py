"""smallint, integer, bigint: input, output, overflow-checked arithmetic, bit operations.

PostgreSQL checks every result against the width of the result type and raises 22003
("integer out of range", "smallint out of range", "bigint out of range"). Division truncates
toward zero, and % takes the sign of the dividend (C semantics), unlike Python's // and %.

Functions are named <type>_<op>; an operator on mixed widths uses the wider type's function
(int2 + int4 is int4_add), exactly as PostgreSQL's cross-type operators return the wider type.
"""

from __future__ import annotations

import re

from dsql.errors import DivisionByZero, InvalidTextRepresentation, NumericValueOutOfRange

INT2_MIN, INT2_MAX = -(1 << 15), (1 << 15) - 1
INT4_MIN, INT4_MAX = -(1 << 31), (1 << 31) - 1
INT8_MIN, INT8_MAX = -(1 << 63), (1 << 63) - 1

# Leading C isspace(), an optional sign, ASCII digits only (PostgreSQL 15); then only spaces.
_INT_RE = re.compile(r"[ \t\n\r\v\f]*([+-]?[0-9]+)")
_TRAILING = " \t\n\r\v\f"


def _int_in(text: str, lo: int, hi: int, type_name: str) -> int:
    """pg_strtoint: digits accumulate as a negative number, so a magnitude beyond -lo is out
    of range even before trailing junk is seen; hi + 1 fails only after the junk check."""
    m = _INT_RE.match(text)
    if m is None:
        raise InvalidTextRepresentation(f'invalid input syntax for type {type_name}: "{text}"')
    value = int(m.group(1))
    if value < lo or value > -lo:
        raise NumericValueOutOfRange(f'value "{text}" is out of range for type {type_name}')
    if m.end() != len(text) and text[m.end():].strip(_TRAILING):
        raise InvalidTextRepresentation(f'invalid input syntax for type {type_name}: "{text}"')
    if value > hi:
        raise NumericValueOutOfRange(f'value "{text}" is out of range for type {type_name}')
    return value


def int2_in(text: str) -> int:
    if text.isdigit() and text.isascii() and len(text) < 5:
        return int(text)  # fast path: plain digits that cannot overflow
    return _int_in(text, INT2_MIN, INT2_MAX, "smallint")


def int4_in(text: str) -> int:
    if text.isdigit() and text.isascii() and len(text) < 10:
        return int(text)
    return _int_in(text, INT4_MIN, INT4_MAX, "integer")


def int8_in(text: str) -> int:
    if text.isdigit() and text.isascii() and len(text) < 19:
        return int(text)
    return _int_in(text, INT8_MIN, INT8_MAX, "bigint")


int_out = str


# -- range checks ------------------------------------------------------------------------------

def _int2_overflow() -> NumericValueOutOfRange:
    return NumericValueOutOfRange("smallint out of range")


def _int4_overflow() -> NumericValueOutOfRange:
    return NumericValueOutOfRange("integer out of range")


def _int8_overflow() -> NumericValueOutOfRange:
    return NumericValueOutOfRange("bigint out of range")


def int2_check(r: int) -> int:
    if INT2_MIN <= r <= INT2_MAX:
        return r
    raise _int2_overflow()


def int4_check(r: int) -> int:
    if INT4_MIN <= r <= INT4_MAX:
        return r
    raise _int4_overflow()


def int8_check(r: int) -> int:
    if INT8_MIN <= r <= INT8_MAX:
        return r
    raise _int8_overflow()


# -- arithmetic --------------------------------------------------------------------------------

def int2_add(a: int, b: int) -> int:
    r = a + b
    if INT2_MIN <= r <= INT2_MAX:
        return r
    raise _int2_overflow()


def int4_add(a: int, b: int) -> int:
    r = a + b
    if INT4_MIN <= r <= INT4_MAX:
        return r
    raise _int4_overflow()


def int8_add(a: int, b: int) -> int:
    r = a + b
    if INT8_MIN <= r <= INT8_MAX:
        return r
    raise _int8_overflow()


def int2_sub(a: int, b: int) -> int:
    r = a - b
    if INT2_MIN <= r <= INT2_MAX:
        return r
    raise _int2_overflow()


def int4_sub(a: int, b: int) -> int:
    r = a - b
    if INT4_MIN <= r <= INT4_MAX:
        return r
    raise _int4_overflow()


def int8_sub(a: int, b: int) -> int:
    r = a - b
    if INT8_MIN <= r <= INT8_MAX:
        return r
    raise _int8_overflow()


def int2_mul(a: int, b: int) -> int:
    r = a * b
    if INT2_MIN <= r <= INT2_MAX:
        return r
    raise _int2_overflow()


def int4_mul(a: int, b: int) -> int:
    r = a * b
    if INT4_MIN <= r <= INT4_MAX:
        return r
    raise _int4_overflow()


def int8_mul(a: int, b: int) -> int:
    r = a * b
    if INT8_MIN <= r <= INT8_MAX:
        return r
    raise _int8_overflow()


def _trunc_div(a: int, b: int) -> int:
    """a / b rounded toward zero. REQUIRES: b != 0."""
    q = a // b
    if q < 0 and q * b != a:
        q += 1
    return q


def int2_div(a: int, b: int) -> int:
    if b == 0:
        raise DivisionByZero("division by zero")
    return int2_check(_trunc_div(a, b))


def int4_div(a: int, b: int) -> int:
    if b == 0:
        raise DivisionByZero("division by zero")
    return int4_check(_trunc_div(a, b))


def int8_div(a: int, b: int) -> int:
    if b == 0:
        raise DivisionByZero("division by zero")
    return int8_check(_trunc_div(a, b))


def int_mod(a: int, b: int) -> int:
    """a % b with the sign of a (never overflows: INT_MIN % -1 is 0)."""
    if b == 0:
        raise DivisionByZero("division by zero")
    r = abs(a) % abs(b)
    return -r if a < 0 else r


int2_mod = int4_mod = int8_mod = int_mod


def int2_neg(a: int) -> int:
    return int2_check(-a)


def int4_neg(a: int) -> int:
    return int4_check(-a)


def int8_neg(a: int) -> int:
    return int8_check(-a)


def int2_abs(a: int) -> int:
    return int2_check(abs(a))


def int4_abs(a: int) -> int:
    return int4_check(abs(a))


def int8_abs(a: int) -> int:
    return int8_check(abs(a))


def int_sign(a: int) -> int:
    return (a > 0) - (a < 0)


# -- bit operations (two's complement, C shift semantics on x86: the count is masked) ---------

def _wrap(value: int, bits: int) -> int:
    mask = (1 << bits) - 1
    value &= mask
    return value - (1 << bits) if value >> (bits - 1) else value


def int_and(a: int, b: int) -> int:
    return a & b


def int_or(a: int, b: int) -> int:
    return a | b


def int_xor(a: int, b: int) -> int:
    return a ^ b


def int_not(a: int) -> int:
    return ~a


def int2_shl(a: int, b: int) -> int:
    return _wrap(a << (b & 31), 16)  # int2 is promoted to int in C, then narrowed


def int4_shl(a: int, b: int) -> int:
    return _wrap(a << (b & 31), 32)


def int8_shl(a: int, b: int) -> int:
    return _wrap(a << (b & 63), 64)


def int2_shr(a: int, b: int) -> int:
    return a >> (b & 31)


def int4_shr(a: int, b: int) -> int:
    return a >> (b & 31)


def int8_shr(a: int, b: int) -> int:
    return a >> (b & 63)


# -- narrowing casts ---------------------------------------------------------------------------

def to_int2(value: int) -> int:
    return int2_check(value)


def to_int4(value: int) -> int:
    return int4_check(value)


def to_int8(value: int) -> int:
    return int8_check(value)
