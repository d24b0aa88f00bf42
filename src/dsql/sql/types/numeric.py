"""numeric: arbitrary precision decimals with PostgreSQL's scales, typmods and special values.

Representation: decimal.Decimal whose exponent is minus the display scale (Decimal('1.50') is
numeric 1.50), never an exponent above zero, never a negative zero; plus Decimal('NaN'),
Decimal('Infinity') and Decimal('-Infinity'). Every function here returns values in that form.

Result scales follow PostgreSQL: + and - keep the larger input scale, * adds the scales,
/ picks at least 16 significant digits (select_div_scale), and sqrt/exp/ln/log/power choose
their scales the way numeric.c does. Rounding is half away from zero. Limits: 131072 digits
before the point and 16383 after ("value overflows numeric format", 22003).

Ordering treats NaN as equal to itself and above +Infinity (Decimal's own comparisons raise on
NaN); use the comparison functions or `numeric_sort_key`.
"""

from __future__ import annotations

import decimal
import math
import re
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from dsql.errors import (
    DivisionByZero,
    FeatureNotSupported,
    InvalidArgumentForLogarithm,
    InvalidArgumentForPowerFunction,
    InvalidParameterValue,
    InvalidTextRepresentation,
    NumericValueOutOfRange,
)

MAX_INTEGER_DIGITS = 131072  # NUMERIC_WEIGHT_MAX + 1 base-10000 digits
MAX_DSCALE = 16383  # NUMERIC_DSCALE_MAX
MAX_PRECISION = 1000  # NUMERIC_MAX_PRECISION (typmod)
MIN_SCALE, MAX_SCALE = -1000, 1000  # typmod scale range (PostgreSQL 15)
MAX_DISPLAY_SCALE = 1000  # NUMERIC_MAX_DISPLAY_SCALE
MAX_RESULT_SCALE = 2000  # NUMERIC_MAX_RESULT_SCALE
MIN_SIG_DIGITS = 16  # NUMERIC_MIN_SIG_DIGITS

# Exact arithmetic: enough precision that + - * never round (products of two maximal values).
_CTX = decimal.Context(prec=2 * (MAX_INTEGER_DIGITS + MAX_DSCALE) + 10, rounding=ROUND_HALF_UP,
                       Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN,
                       traps=[decimal.InvalidOperation, decimal.DivisionByZero])

NAN = Decimal("NaN")
PINF = Decimal("Infinity")
NINF = Decimal("-Infinity")
ZERO = Decimal(0)
ONE = Decimal(1)
_QUANT = {s: Decimal((0, (1,), -s)) for s in range(-MAX_RESULT_SCALE, MAX_DSCALE + 1)}

_NUM_RE = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE][ \t\n\r\v\f]*([+-]?[0-9]+))?"
                     r"[ \t\n\r\v\f]*\Z")
_SPACE = " \t\n\r\v\f"
_SPECIALS = (("nan", NAN), ("infinity", PINF), ("+infinity", PINF), ("-infinity", NINF),
             ("inf", PINF), ("+inf", PINF), ("-inf", NINF))


def _overflow() -> NumericValueOutOfRange:
    return NumericValueOutOfRange("value overflows numeric format")


def _syntax(text: str) -> InvalidTextRepresentation:
    return InvalidTextRepresentation(f'invalid input syntax for type numeric: "{text}"')


def make(d: Decimal) -> Decimal:
    """Normalizes a finite Decimal into numeric form and checks the numeric limits."""
    exp = d.as_tuple().exponent
    assert isinstance(exp, int), "make() takes finite values"
    if exp > 0:
        if d and d.adjusted() >= MAX_INTEGER_DIGITS:
            raise _overflow()
        d = d.quantize(ONE, context=_CTX)
    elif -exp > MAX_DSCALE:
        raise _overflow()
    if not d:
        return d.copy_abs()
    if d.adjusted() >= MAX_INTEGER_DIGITS:
        raise _overflow()
    return d


def scale_of(d: Decimal) -> int:
    """The display scale of a finite numeric. REQUIRES: d is in numeric form."""
    exp = d.as_tuple().exponent
    assert isinstance(exp, int) and exp <= 0
    return -exp


# -- input and output --------------------------------------------------------------------------

_PLAIN_RE = re.compile(r"-?[0-9]{1,300}(?:\.[0-9]{1,300})?")


def numeric_in(text: str) -> Decimal:
    """'1.50', ' 1e3 ', '.5', 'NaN', '-Infinity', 'inf' -> Decimal; 22P02 / 22003 on error."""
    if _PLAIN_RE.fullmatch(text) is not None:  # fast path: plain digits, nothing to normalize
        d = Decimal(text)
        return d if d or not d.is_signed() else d.copy_abs()
    body = text.lstrip(_SPACE)
    low = body[:9].lower()
    for word, value in _SPECIALS:
        if low.startswith(word):
            if body[len(word):].strip(_SPACE):
                if word in ("inf", "+inf", "-inf"):
                    continue  # "infinityx" fails as "infinity" too; nothing else can match
                raise _syntax(text)
            return value
    m = _NUM_RE.match(body)
    if m is None:
        raise _syntax(text)
    sign, ip, fp, ex = m.groups()
    fp = fp or ""
    if not ip and not fp:
        raise _syntax(text)
    exp10 = 0
    if ex is not None:
        exp10 = int(ex)
        if abs(exp10) >= 1073741823:  # INT_MAX / 2
            raise _overflow()
    d = Decimal(f"{sign}{ip or '0'}{fp}E{exp10 - len(fp)}")
    return make(d)


def numeric_out(d: Decimal) -> str:
    """Plain notation keeping the scale: '1.50', '1000', '-0.0015', 'NaN', '-Infinity'."""
    if d.is_finite():
        return format(d, "f")
    if d.is_nan():
        return "NaN"
    return "Infinity" if d > 0 else "-Infinity"


# -- typmods -----------------------------------------------------------------------------------

def numeric_typmod(precision: int, scale: int = 0) -> int:
    """The typmod PostgreSQL stores for numeric(precision, scale); validates both."""
    if not 1 <= precision <= MAX_PRECISION:
        raise InvalidParameterValue(
            f"NUMERIC precision {precision} must be between 1 and {MAX_PRECISION}")
    if not MIN_SCALE <= scale <= MAX_SCALE:
        raise InvalidParameterValue(
            f"NUMERIC scale {scale} must be between {MIN_SCALE} and {MAX_SCALE}")
    return ((precision << 16) | (scale & 0x7FF)) + 4


def numeric_typmod_parts(typmod: int) -> tuple[int, int]:
    """(precision, scale) of a numeric typmod. REQUIRES: typmod >= 4."""
    assert typmod >= 4, typmod
    raw = typmod - 4
    return (raw >> 16) & 0xFFFF, ((raw & 0x7FF) ^ 1024) - 1024


def numeric_apply_typmod(d: Decimal, precision: int, scale: int) -> Decimal:
    """Rounds to `scale` and checks the digits before the point ("numeric field overflow")."""
    if not d.is_finite():
        if d.is_nan():
            return d
        raise NumericValueOutOfRange(
            "numeric field overflow",
            detail=f"A field with precision {precision}, scale {scale} cannot hold an infinite "
                   "value.")
    q = d.quantize(_QUANT[scale], rounding=ROUND_HALF_UP, context=_CTX)
    maxdigits = precision - scale
    if q and q.adjusted() + 1 > maxdigits:
        bound = f"10^{maxdigits}" if maxdigits else "1"
        raise NumericValueOutOfRange(
            "numeric field overflow",
            detail=f"A field with precision {precision}, scale {scale} must round to an "
                   f"absolute value less than {bound}.")
    if scale < 0:
        q = q.quantize(ONE, context=_CTX)
    return q if q else q.copy_abs()


# -- arithmetic --------------------------------------------------------------------------------

def _special_add(a: Decimal, b: Decimal) -> Decimal:
    if a.is_nan() or b.is_nan():
        return NAN
    if a.is_infinite() and b.is_infinite() and a != b:
        return NAN
    return a if a.is_infinite() else b


def numeric_add(a: Decimal, b: Decimal) -> Decimal:
    if a.is_finite() and b.is_finite():
        r = _CTX.add(a, b)
        if r and r.adjusted() >= MAX_INTEGER_DIGITS:
            raise _overflow()
        return r
    return _special_add(a, b)


def numeric_sub(a: Decimal, b: Decimal) -> Decimal:
    if a.is_finite() and b.is_finite():
        r = _CTX.subtract(a, b)
        if r and r.adjusted() >= MAX_INTEGER_DIGITS:
            raise _overflow()
        return r if r or not r.is_signed() else r.copy_abs()
    return _special_add(a, b.copy_negate())


def numeric_mul(a: Decimal, b: Decimal) -> Decimal:
    if a.is_finite() and b.is_finite():
        r = _CTX.multiply(a, b)
        if r and r.adjusted() >= MAX_INTEGER_DIGITS:
            raise _overflow()
        if scale_of(r) > MAX_DSCALE:
            r = r.quantize(_QUANT[MAX_DSCALE], context=_CTX)
        return r if r or not r.is_signed() else r.copy_abs()
    if a.is_nan() or b.is_nan():
        return NAN
    if not a or not b:
        return NAN  # infinity * 0
    return PINF if a.is_signed() == b.is_signed() else NINF


def _weight_and_first(x: Decimal) -> tuple[int, int]:
    """PostgreSQL's base-10000 weight and first base-10000 digit of |x| (0, 0 for zero)."""
    if not x:
        return 0, 0
    w = x.adjusted() // 4
    return w, int(x.copy_abs().scaleb(-4 * w, _CTX))


def div_scale(a: Decimal, b: Decimal) -> int:
    """select_div_scale(): at least 16 significant digits, not below either input's scale."""
    w1, f1 = _weight_and_first(a)
    w2, f2 = _weight_and_first(b)
    qweight = w1 - w2
    if f1 <= f2:
        qweight -= 1
    rscale = MIN_SIG_DIGITS - qweight * 4
    rscale = max(rscale, scale_of(a), scale_of(b), 0)
    return min(rscale, MAX_DISPLAY_SCALE)


def _to_scaled_int(x: Decimal, scale: int) -> int:
    """x * 10^scale as an int. REQUIRES: scale >= scale_of(x)."""
    return int(x.scaleb(scale, _CTX))


def _from_scaled_int(n: int, scale: int) -> Decimal:
    return Decimal(n).scaleb(-scale, _CTX)


def div_round(a: Decimal, b: Decimal, rscale: int) -> Decimal:
    """a / b rounded half away from zero to `rscale` digits. REQUIRES: finite, b != 0."""
    q, rem = _CTX.divmod(a.scaleb(rscale, _CTX), b)  # q truncated toward zero, exact
    if rem and _CTX.multiply(rem, 2).copy_abs() >= b.copy_abs():
        q = _CTX.add(q, -1 if a.is_signed() != b.is_signed() else 1)
    return make(q.scaleb(-rscale, _CTX).quantize(_QUANT[rscale], context=_CTX))


def _division_by_zero() -> DivisionByZero:
    return DivisionByZero("division by zero")


def _special_div(a: Decimal, b: Decimal) -> Decimal:
    if a.is_nan() or b.is_nan():
        return NAN
    if a.is_infinite():
        if b.is_infinite():
            return NAN
        if not b:
            raise _division_by_zero()
        return a if not b.is_signed() else a.copy_negate()
    return ZERO  # finite / infinite


def numeric_div(a: Decimal, b: Decimal) -> Decimal:
    if a.is_finite() and b.is_finite():
        if not b:
            raise _division_by_zero()
        return div_round(a, b, div_scale(a, b))
    return _special_div(a, b)


def numeric_div_trunc(a: Decimal, b: Decimal) -> Decimal:
    """div(a, b): the quotient truncated toward zero, scale 0."""
    if a.is_finite() and b.is_finite():
        if not b:
            raise _division_by_zero()
        q = _CTX.divide_int(a, b)
        return make(q)
    if a.is_infinite() and b.is_finite() and not b:
        raise _division_by_zero()
    r = _special_div(a, b)
    return r


def numeric_mod(a: Decimal, b: Decimal) -> Decimal:
    if a.is_finite() and b.is_finite():
        if not b:
            raise _division_by_zero()
        r = _CTX.remainder(a, b)
        return r if r or not r.is_signed() else r.copy_abs()
    if a.is_nan() or b.is_nan():
        return NAN
    if a.is_infinite():
        if b.is_finite() and not b:
            raise _division_by_zero()
        return NAN
    return a  # finite % infinite


def numeric_neg(a: Decimal) -> Decimal:
    if a.is_nan() or not a:
        return a
    return a.copy_negate()


def numeric_abs(a: Decimal) -> Decimal:
    return a.copy_abs()


def numeric_sign(a: Decimal) -> Decimal:
    if a.is_nan():
        return NAN
    if not a:
        return ZERO
    return Decimal(-1) if a.is_signed() else ONE


# -- comparison --------------------------------------------------------------------------------

def numeric_cmp(a: Decimal, b: Decimal) -> int:
    if a.is_nan():
        return 0 if b.is_nan() else 1
    if b.is_nan():
        return -1
    return -1 if a < b else (1 if a > b else 0)


def numeric_eq(a: Decimal, b: Decimal) -> bool:
    return a == b or (a.is_nan() and b.is_nan())


def numeric_ne(a: Decimal, b: Decimal) -> bool:
    return not numeric_eq(a, b)


def numeric_lt(a: Decimal, b: Decimal) -> bool:
    return numeric_cmp(a, b) < 0


def numeric_le(a: Decimal, b: Decimal) -> bool:
    return numeric_cmp(a, b) <= 0


def numeric_gt(a: Decimal, b: Decimal) -> bool:
    return numeric_cmp(a, b) > 0


def numeric_ge(a: Decimal, b: Decimal) -> bool:
    return numeric_cmp(a, b) >= 0


def numeric_sort_key(a: Decimal) -> tuple[int, Decimal]:
    """Orders like SQL (NaN last and equal to itself) and groups equal values together."""
    if a.is_nan():
        return (1, ZERO)
    return (0, a)


# -- rounding ----------------------------------------------------------------------------------

def _clamp_scale(scale: int) -> int:
    return max(-MAX_RESULT_SCALE, min(scale, MAX_RESULT_SCALE))


def numeric_round(a: Decimal, scale: int = 0) -> Decimal:
    if not a.is_finite():
        return a
    scale = _clamp_scale(scale)
    q = a.quantize(_QUANT[scale], rounding=ROUND_HALF_UP, context=_CTX)
    if scale < 0:
        q = q.quantize(ONE, context=_CTX)
    return make(q)


def numeric_trunc(a: Decimal, scale: int = 0) -> Decimal:
    if not a.is_finite():
        return a
    scale = _clamp_scale(scale)
    q = a.quantize(_QUANT[scale], rounding=ROUND_DOWN, context=_CTX)
    if scale < 0:
        q = q.quantize(ONE, context=_CTX)
    return make(q)


def numeric_ceil(a: Decimal) -> Decimal:
    if not a.is_finite():
        return a
    return make(a.quantize(ONE, rounding=decimal.ROUND_CEILING, context=_CTX))


def numeric_floor(a: Decimal) -> Decimal:
    if not a.is_finite():
        return a
    return make(a.quantize(ONE, rounding=decimal.ROUND_FLOOR, context=_CTX))


def numeric_scale(a: Decimal) -> int | None:
    """scale(numeric): the display scale; NULL for NaN and infinities."""
    return scale_of(a) if a.is_finite() else None


# -- transcendental functions ------------------------------------------------------------------

def _nbase_weight(x: Decimal) -> int:
    return x.adjusted() // 4 if x else 0


def _round_to(value: Decimal, rscale: int) -> Decimal:
    """Rounds half away from zero to rscale (0 <= rscale <= 1000) and normalizes."""
    return make(value.quantize(_QUANT[rscale], rounding=ROUND_HALF_UP, context=_CTX))


def _work_ctx(sig_digits: int) -> decimal.Context:
    return decimal.Context(prec=max(sig_digits, 1) + 12, rounding=ROUND_HALF_UP,
                           Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN,
                           traps=[decimal.InvalidOperation, decimal.DivisionByZero])


def numeric_sqrt(a: Decimal) -> Decimal:
    if a.is_nan() or (a.is_infinite() and not a.is_signed()):
        return a
    if a.is_signed() and a:
        raise InvalidArgumentForPowerFunction("cannot take square root of a negative number")
    sweight = (_nbase_weight(a) + 1) * 4 // 2 - 1
    rscale = max(MIN_SIG_DIGITS - sweight, scale_of(a), 0)
    rscale = min(rscale, MAX_DISPLAY_SCALE)
    # floor(sqrt(a) * 10^(rscale+1)) exactly, then round half away on the last digit.
    sa = scale_of(a)
    n = _to_scaled_int(a, sa)  # a = n / 10^sa
    shift = 2 * (rscale + 1) - sa
    t = math.isqrt(n * 10**shift) if shift >= 0 else math.isqrt(n // 10**-shift)
    q, last = divmod(t, 10)
    if last >= 5:
        q += 1
    return make(_from_scaled_int(q, rscale))


def _to_double(a: Decimal) -> float:
    return float(a)  # saturates to +-inf, never raises


def numeric_exp(a: Decimal) -> Decimal:
    if not a.is_finite():
        if a.is_nan():
            return a
        return PINF if a > 0 else ZERO
    val = _to_double(a) * 0.434294481903252
    val = max(min(val, MAX_RESULT_SCALE), -MAX_RESULT_SCALE)
    rscale = MIN_SIG_DIGITS - int(val)
    rscale = min(max(rscale, scale_of(a), 0), MAX_DISPLAY_SCALE)
    val = _to_double(a)
    if abs(val) >= MAX_RESULT_SCALE * 3:
        if val > 0:
            raise _overflow()
        return _round_to(ZERO, rscale)
    dweight = int(val * 0.434294481903252)
    return _round_to(_work_ctx(dweight + rscale + 2).exp(a), rscale)


def estimate_ln_dweight(a: Decimal) -> int:
    """numeric.c's estimate of the decimal weight of ln(a) (0 for inputs ln rejects)."""
    if a.is_signed() or not a:
        return 0
    if _POINT_NINE <= a <= _ONE_POINT_ONE:
        x = _CTX.subtract(a, ONE)
        return x.adjusted() if x else 0
    w, first = _weight_and_first(a)
    digits = a.as_tuple().digits
    k = a.adjusted() - 4 * w + 1
    rest = digits[k:]
    if any(rest):  # a second base-10000 digit exists
        second = 0
        for i in range(4):
            second = second * 10 + (rest[i] if i < len(rest) else 0)
        value, dweight = first * 10000 + second, 4 * w - 4
    else:
        value, dweight = first, 4 * w
    ln_var = math.log(value) + dweight * 2.302585092994046
    return int(math.log10(abs(ln_var)))


_POINT_NINE = Decimal("0.9")
_ONE_POINT_ONE = Decimal("1.1")


def _check_ln_arg(a: Decimal) -> None:
    if not a:
        raise InvalidArgumentForLogarithm("cannot take logarithm of zero")
    if a.is_signed():
        raise InvalidArgumentForLogarithm("cannot take logarithm of a negative number")


def numeric_ln(a: Decimal) -> Decimal:
    if not a.is_finite():
        if a.is_nan():
            return a
        if a > 0:
            return PINF
        raise InvalidArgumentForLogarithm("cannot take logarithm of a negative number")
    _check_ln_arg(a)
    dweight = estimate_ln_dweight(a)
    rscale = MIN_SIG_DIGITS - dweight
    rscale = min(max(rscale, scale_of(a), 0), MAX_DISPLAY_SCALE)
    return _round_to(_work_ctx(max(dweight, 0) + rscale + 2).ln(a), rscale)


def numeric_log(base: Decimal, num: Decimal) -> Decimal:
    """log(base, num); log(x) is numeric_log(10, x)."""
    if not base.is_finite() or not num.is_finite():
        return _log_special(base, num)
    _check_ln_arg(base)
    _check_ln_arg(num)
    result_dweight = estimate_ln_dweight(num) - estimate_ln_dweight(base)
    rscale = MIN_SIG_DIGITS - result_dweight
    rscale = min(max(rscale, scale_of(base), scale_of(num), 0), MAX_DISPLAY_SCALE)
    if base == ONE:
        raise _division_by_zero()
    ctx = _work_ctx(rscale + abs(result_dweight) + 4)
    return _round_to(ctx.divide(ctx.ln(num), ctx.ln(base)), rscale)


def _log_special(base: Decimal, num: Decimal) -> Decimal:
    if base.is_nan() or num.is_nan():
        return NAN
    if base.is_signed() or num.is_signed():
        raise InvalidArgumentForLogarithm("cannot take logarithm of a negative number")
    if not base or not num:
        raise InvalidArgumentForLogarithm("cannot take logarithm of zero")
    if base.is_infinite():
        return NAN if num.is_infinite() else ZERO
    return PINF  # log(finite positive, +Infinity)


def _is_integral(x: Decimal) -> bool:
    return x.is_finite() and x == x.to_integral_value(rounding=ROUND_DOWN)


def numeric_power(a: Decimal, b: Decimal) -> Decimal:
    if a.is_nan() or b.is_nan():
        if (a.is_nan() and b.is_finite() and not b) or (b.is_nan() and a == ONE):
            return ONE
        return NAN
    if not a.is_finite() or not b.is_finite():
        return _power_special(a, b)
    if not a and b.is_signed():
        raise InvalidArgumentForPowerFunction("zero raised to a negative power is undefined")
    if a.is_signed() and not _is_integral(b):
        raise InvalidArgumentForPowerFunction(
            "a negative number raised to a non-integer power yields a complex result")
    if _is_integral(b) and abs(b) <= 2147483647:
        rscale = min(max(MIN_SIG_DIGITS, scale_of(a), 0), MAX_DISPLAY_SCALE)
        return _power_int(a, int(b), rscale)
    if not a:
        return _round_to(ZERO, MIN_SIG_DIGITS)
    neg = a.is_signed() and int(b) % 2 == 1
    base = a.copy_abs()
    ln_dweight = estimate_ln_dweight(base)
    low = _work_ctx(8 + max(ln_dweight, 0))
    val = float(low.multiply(low.ln(base), b))
    if abs(val) > MAX_RESULT_SCALE * 3.01:
        if val > 0:
            raise _overflow()
        return _round_to(ZERO, MAX_DISPLAY_SCALE)
    val *= 0.434294481903252
    rscale = MIN_SIG_DIGITS - int(val)
    rscale = min(max(rscale, scale_of(base), scale_of(b), 0), MAX_DISPLAY_SCALE)
    sig = max(rscale + int(val), 0)
    r = _round_to(_work_ctx(sig + 6).power(base, b), rscale)
    return r.copy_negate() if neg and r else r


def _power_int(a: Decimal, n: int, rscale: int) -> Decimal:
    """a ** n for an integer n, rounded to rscale (power_var_int)."""
    if n == 0:
        return _round_to(ONE, rscale)
    if not a:
        if n < 0:
            raise _division_by_zero()
        return _round_to(ZERO, rscale)
    log10 = float(_work_ctx(20).log10(a.copy_abs())) * n  # decimal weight of the result
    if log10 >= MAX_INTEGER_DIGITS + 1:
        raise _overflow()
    if log10 < -(rscale + 2):
        return _round_to(ZERO, rscale)
    if n > 0 and a.as_tuple().exponent == 0 and log10 < 10000:
        return _round_to(_CTX.power(a, n), rscale)  # exact integer power
    sig = max(int(log10) + 1, 0) + rscale + 2
    return _round_to(_work_ctx(sig + 6).power(a, n), rscale)


def _power_special(a: Decimal, b: Decimal) -> Decimal:
    if b.is_infinite():
        if a == ONE:
            return ONE
        mag = a.copy_abs()
        if b > 0:
            if mag < ONE:
                return ZERO
            return PINF if mag > ONE else ONE
        if not a:
            raise InvalidArgumentForPowerFunction("zero raised to a negative power is undefined")
        if mag < ONE:
            return PINF
        return ZERO if mag > ONE else ONE
    # a is infinite, b finite
    if not b:
        return ONE
    if a > 0:
        return ZERO if b.is_signed() else PINF
    if b.is_signed():
        return ZERO
    if _is_integral(b) and int(b) % 2 == 1:
        return NINF
    return PINF


# -- conversions -------------------------------------------------------------------------------

def int_to_numeric(value: int) -> Decimal:
    return Decimal(value)


def numeric_to_int(a: Decimal, lo: int, hi: int, type_label: str) -> int:
    """Rounds half away from zero; 0A000 for NaN and infinity, 22003 outside [lo, hi]."""
    if a.is_nan():
        raise FeatureNotSupported(f"cannot convert NaN to {type_label}")
    if a.is_infinite():
        raise FeatureNotSupported(f"cannot convert infinity to {type_label}")
    r = int(a.to_integral_value(rounding=ROUND_HALF_UP))
    if r < lo or r > hi:
        raise NumericValueOutOfRange(f"{type_label} out of range")
    return r


def float_to_numeric(x: float, digits: int = 15) -> Decimal:
    """float8 -> numeric keeps 15 significant digits (DBL_DIG); float4 -> numeric keeps 6."""
    if x != x:
        return NAN
    if math.isinf(x):
        return PINF if x > 0 else NINF
    return numeric_in(f"{x:.{digits}g}")
