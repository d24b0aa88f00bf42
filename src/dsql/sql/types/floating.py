"""real and double precision: input, shortest round-trip output, checked arithmetic, ordering.

Values are Python floats; a `real` is a float that is exactly representable in IEEE single
precision (every real-producing function rounds through `to_float4`).

Output follows PostgreSQL 12+ with extra_float_digits = 1 (the default): the shortest digits
that read back to the same value, in fixed notation when the decimal exponent is in [-4, 15)
for double precision and [-4, 6) for real, else as 1.5e+20; plus 'NaN', 'Infinity', '-0'.

Arithmetic raises 22003 "value out of range: overflow" when finite inputs give an infinity
and "value out of range: underflow" when non-zero inputs give zero, and 22012 for x / 0 unless
x is NaN. SQL ordering puts NaN above every other value and makes NaN equal to itself; the
comparison functions here implement that (Python's float comparisons do not).
"""

from __future__ import annotations

import math
import re
import struct
from fractions import Fraction

from dsql.errors import DivisionByZero, InvalidTextRepresentation, NumericValueOutOfRange

INF = math.inf
NAN = math.nan
FLOAT4_MAX = 3.4028234663852886e38

_F32 = struct.Struct("<f")
_U32 = struct.Struct("<I")

_DEC_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX_RE = re.compile(r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)"
                     r"(?:[pP][+-]?[0-9]+)?")
_SPECIALS = (  # checked in order, like PostgreSQL's fallback after strtod fails
    ("nan", NAN), ("infinity", INF), ("+infinity", INF), ("-infinity", -INF),
    ("inf", INF), ("+inf", INF), ("-inf", -INF))
_SPACE = " \t\n\r\v\f"


def _syntax(type_name: str, text: str) -> InvalidTextRepresentation:
    return InvalidTextRepresentation(f'invalid input syntax for type {type_name}: "{text}"')


def _out_of_range(type_name: str, text: str) -> NumericValueOutOfRange:
    return NumericValueOutOfRange(f'"{text}" is out of range for type {type_name}')


def _scan(text: str, type_name: str) -> tuple[str, float]:
    """Parses like strtod() plus PostgreSQL's checks; returns (literal, double value)."""
    body = text.lstrip(_SPACE)
    if not body:
        raise _syntax(type_name, text)
    m = _DEC_RE.match(body)
    if m is not None:
        lit = m.group(0)
        hexm = _HEX_RE.match(body) if lit in ("0", "+0", "-0") else None
        if hexm is not None:
            lit = hexm.group(0)
            sign = -1.0 if lit[0] == "-" else 1.0
            digits = lit.lstrip("+-")
            try:
                value = sign * float.fromhex(digits)
            except OverflowError:
                raise _out_of_range(type_name, text) from None
        else:
            value = float(lit)
        if body[len(lit):].strip(_SPACE):
            raise _syntax(type_name, text)
        return lit, value
    low = body.lower()
    for word, value in _SPECIALS:
        if low.startswith(word):
            if body[len(word):].strip(_SPACE):
                # strtod would have taken the longest match ("infinity" over "inf") first
                if word in ("inf", "+inf", "-inf") and low[len(word):].startswith("inity"):
                    continue
                raise _syntax(type_name, text)
            return body[:len(word)], value
    raise _syntax(type_name, text)


def _nonzero_literal(lit: str) -> bool:
    mant = re.split(r"[eEpP]", lit, maxsplit=1)[0]
    if mant.lower().lstrip("+-").startswith("0x"):
        mant = mant.lower().lstrip("+-")[2:]
    return any(c not in "0.+-" for c in mant)


def float8_in(text: str) -> float:
    """'1.5', ' 1e3 ', 'NaN', '-Infinity', 'inf', '0x1p3' -> float; 22P02 / 22003 on error."""
    lit, value = _scan(text, "double precision")
    if math.isinf(value) and "n" not in lit.lower():
        raise _out_of_range("double precision", text)
    if value == 0.0 and _nonzero_literal(lit):
        raise _out_of_range("double precision", text)
    return value


def float4_in(text: str) -> float:
    lit, value = _scan(text, "real")
    if math.isnan(value) or (math.isinf(value) and "n" in lit.lower()):
        return value
    if math.isinf(value):
        raise _out_of_range("real", text)
    result = _decimal_to_float4(lit, value)
    if math.isinf(result) or (result == 0.0 and _nonzero_literal(lit)):
        raise _out_of_range("real", text)
    return result


# -- single precision helpers ------------------------------------------------------------------

def to_float4(x: float) -> float:
    """Rounds a double to the nearest single (ties to even); overflow gives +-Infinity."""
    try:
        return _F32.unpack(_F32.pack(x))[0]
    except OverflowError:
        return math.copysign(INF, x)


def _f32_neighbor(f: float, toward: float) -> float:
    """The adjacent single-precision value from finite single `f` in the direction of `toward`."""
    bits = _U32.unpack(_F32.pack(f))[0]
    if f == 0.0:
        bits = 1 if toward > 0 else 0x80000001
    elif (toward > f) == (f > 0):
        bits += 1
    else:
        bits -= 1
    return _F32.unpack(_U32.pack(bits))[0]


def _decimal_to_float4(lit: str, d: float) -> float:
    """Correctly rounded decimal -> single, avoiding the double-rounding trap through `d`."""
    f = to_float4(d)
    if f == d or math.isinf(f):
        return f
    g = _f32_neighbor(f, d)
    if math.isinf(g) or (f + g) / 2 != d:
        return f
    # d sits exactly between two singles: decide with the exact decimal value.
    if lit.lower().lstrip("+-").startswith("0x"):
        return f  # a hexadecimal literal that needs more than 53 bits: not worth the care
    exact = Fraction(lit)
    mid = Fraction(f) + (Fraction(g) - Fraction(f)) / 2
    if exact == mid:
        even = f if _U32.unpack(_F32.pack(f))[0] % 2 == 0 else g
        return even
    closer_to_f = abs(exact - Fraction(f)) < abs(exact - Fraction(g))
    return f if closer_to_f else g


# -- output ------------------------------------------------------------------------------------

def _format(neg: bool, digits: str, exp10: int, fixed_max: int) -> str:
    """digits d1d2d3... with value 0.d1d2.. * 10^(exp10+1), i.e. exp10 is d1's exponent."""
    sign = "-" if neg else ""
    if -4 <= exp10 < fixed_max:
        if exp10 < 0:
            return f"{sign}0.{'0' * (-exp10 - 1)}{digits}"
        if len(digits) <= exp10 + 1:
            return sign + digits + "0" * (exp10 + 1 - len(digits))
        return f"{sign}{digits[:exp10 + 1]}.{digits[exp10 + 1:]}"
    mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    esign = "-" if exp10 < 0 else "+"
    return f"{sign}{mant}e{esign}{abs(exp10):02d}"


def _shortest_digits(r: str) -> tuple[str, int]:
    """Splits a positive repr()-style number into significant digits and the first's exponent."""
    m, _, e = r.partition("e")
    ip, _, fp = m.partition(".")
    exp = int(e) if e else 0
    all_digits = ip + fp
    point_exp = exp - len(fp)
    stripped = all_digits.lstrip("0")
    trimmed = stripped.rstrip("0")
    point_exp += len(stripped) - len(trimmed)
    return trimmed, point_exp + len(trimmed) - 1


def float8_out(v: float) -> str:
    """Shortest round-trip text, PostgreSQL style: 0.1, 1e+15, 1.5e-05, NaN, -Infinity, -0."""
    if 1e-4 <= abs(v) < 1e15:
        r = repr(v)
        return r[:-2] if r.endswith(".0") else r
    if v != v:
        return "NaN"
    if v == 0.0:
        return "-0" if math.copysign(1.0, v) < 0 else "0"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    a = abs(v)
    if a < _TWO_53:
        digits, exp10 = _shortest_digits(repr(a))
    else:
        digits, exp10 = _shortest_open(a, math.nextafter(a, 0.0), math.nextafter(a, INF), 17)
    return _format(v < 0, digits, exp10, 15)


_TWO_53 = float(1 << 53)
_TWO_24 = float(1 << 24)


def _shortest_open(a: float, prev: float, nxt: float, max_digits: int) -> tuple[str, int]:
    """PostgreSQL's Ryu (bounds excluded): the shortest decimal strictly between the midpoints
    to the neighbours of positive `a`, closest to `a` (ties to an even last digit)."""
    fa = Fraction(a)
    lo = (Fraction(prev) + fa) / 2
    hi = (fa + Fraction(nxt)) / 2 if not math.isinf(nxt) else fa + (fa - Fraction(prev)) / 2
    for p in range(1, max_digits + 1):
        mant, _, e = f"{a:.{p - 1}e}".partition("e")
        base = int(mant.replace(".", ""))
        exp = int(e) - (p - 1)
        scale = Fraction(10) ** exp
        best: tuple[Fraction, int] | None = None
        for cand in (base - 1, base, base + 1):
            if cand <= 0:
                continue
            value = cand * scale
            if lo < value < hi:
                dist = abs(value - fa)
                if best is None or dist < best[0] or (dist == best[0] and cand % 2 == 0):
                    best = (dist, cand)
        if best is not None:
            return _shortest_digits(f"{best[1]}e{exp}")
    raise AssertionError(f"no shortest form for {a!r}")  # pragma: no cover


def _float4_shortest(a: float) -> tuple[str, int]:
    """Shortest decimal digits that read back (as a single) to the positive single `a`."""
    if a >= _TWO_24:
        nxt = _f32_neighbor(a, INF) if a < FLOAT4_MAX else INF
        return _shortest_open(a, _f32_neighbor(a, 0.0), nxt, 9)
    fa = Fraction(a)
    for p in range(1, 10):
        mant, _, e = f"{a:.{p - 1}e}".partition("e")
        base = int(mant.replace(".", ""))
        exp = int(e) - (p - 1)
        best: tuple[Fraction, int] | None = None
        for cand in (base, base - 1, base + 1):
            if cand <= 0:
                continue
            if to_float4(float(f"{cand}e{exp}")) == a:
                dist = abs(cand * Fraction(10) ** exp - fa)
                if best is None or dist < best[0] or (dist == best[0] and cand % 2 == 0):
                    best = (dist, cand)
        if best is not None:
            return _shortest_digits(f"{best[1]}e{exp}")
    raise AssertionError(f"no shortest form for {a!r}")  # pragma: no cover


def float4_out(v: float) -> str:
    if v != v:
        return "NaN"
    if v == 0.0:
        return "-0" if math.copysign(1.0, v) < 0 else "0"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    digits, exp10 = _float4_shortest(abs(v))
    return _format(v < 0, digits, exp10, 6)


# -- arithmetic --------------------------------------------------------------------------------

def overflow() -> NumericValueOutOfRange:
    return NumericValueOutOfRange("value out of range: overflow")


def underflow() -> NumericValueOutOfRange:
    return NumericValueOutOfRange("value out of range: underflow")


def float8_add(a: float, b: float) -> float:
    r = a + b
    if r - r != 0.0 and r == r and not (math.isinf(a) or math.isinf(b)):
        raise overflow()
    return r


def float8_sub(a: float, b: float) -> float:
    r = a - b
    if r - r != 0.0 and r == r and not (math.isinf(a) or math.isinf(b)):
        raise overflow()
    return r


def float8_mul(a: float, b: float) -> float:
    r = a * b
    if r - r != 0.0 and r == r and not (math.isinf(a) or math.isinf(b)):
        raise overflow()
    if r == 0.0 and a != 0.0 and b != 0.0:
        raise underflow()
    return r


def float8_div(a: float, b: float) -> float:
    if b == 0.0:
        if a != a:
            return a
        raise DivisionByZero("division by zero")
    r = a / b
    if math.isinf(r) and not math.isinf(a):
        raise overflow()
    if r == 0.0 and a != 0.0 and not math.isinf(b):
        raise underflow()
    return r


def float4_add(a: float, b: float) -> float:
    r = to_float4(a + b)
    if math.isinf(r) and not (math.isinf(a) or math.isinf(b)):
        raise overflow()
    return r


def float4_sub(a: float, b: float) -> float:
    r = to_float4(a - b)
    if math.isinf(r) and not (math.isinf(a) or math.isinf(b)):
        raise overflow()
    return r


def float4_mul(a: float, b: float) -> float:
    r = to_float4(a * b)
    if math.isinf(r) and not (math.isinf(a) or math.isinf(b)):
        raise overflow()
    if r == 0.0 and a != 0.0 and b != 0.0:
        raise underflow()
    return r


def float4_div(a: float, b: float) -> float:
    if b == 0.0:
        if a != a:
            return a
        raise DivisionByZero("division by zero")
    r = to_float4(a / b)
    if math.isinf(r) and not math.isinf(a):
        raise overflow()
    if r == 0.0 and a != 0.0 and not math.isinf(b):
        raise underflow()
    return r


def float_neg(a: float) -> float:
    return -a


def float_abs(a: float) -> float:
    return abs(a)


# -- comparison (NaN == NaN, NaN above everything) --------------------------------------------

def float_eq(a: float, b: float) -> bool:
    return a == b or (a != a and b != b)


def float_ne(a: float, b: float) -> bool:
    return not (a == b or (a != a and b != b))


def float_lt(a: float, b: float) -> bool:
    if a != a:
        return False
    return b != b or a < b


def float_le(a: float, b: float) -> bool:
    if b != b:
        return True
    return a == a and a <= b


def float_gt(a: float, b: float) -> bool:
    return float_lt(b, a)


def float_ge(a: float, b: float) -> bool:
    return float_le(b, a)


def float_cmp(a: float, b: float) -> int:
    if float_lt(a, b):
        return -1
    return 1 if float_lt(b, a) else 0


def float_sort_key(a: float) -> tuple[int, float]:
    """A key that orders like SQL: NaN after +Infinity and equal to itself; -0 equals 0."""
    if a != a:
        return (1, 0.0)
    return (0, a + 0.0)
