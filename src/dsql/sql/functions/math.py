"""Mathematical functions on double precision (the numeric ones live in types.numeric).

PostgreSQL's float8 functions check their domains and results: sqrt of a negative number and
0 ^ -1 are 2201F, ln(0) and ln(-1) are 2201E, results that overflow or underflow are 22003.
round() and the float -> integer casts round half to even (rint); the numeric versions round
half away from zero. Signed zeros survive ceil/floor/trunc/round as in C ('-0').
"""

from __future__ import annotations

import math

from dsql.errors import InvalidArgumentForLogarithm, InvalidArgumentForPowerFunction
from dsql.sql.types.floating import overflow, underflow

INF = math.inf


def _keep_zero_sign(r: float, x: float) -> float:
    return math.copysign(0.0, x) if r == 0.0 else r


def dround(x: float) -> float:
    """round(double precision): ties to even, like rint()."""
    if not math.isfinite(x):
        return x
    return _keep_zero_sign(float(round(x)), x)


def dceil(x: float) -> float:
    if not math.isfinite(x):
        return x
    return _keep_zero_sign(float(math.ceil(x)), x)


def dfloor(x: float) -> float:
    if not math.isfinite(x):
        return x
    return _keep_zero_sign(float(math.floor(x)), x)


def dtrunc(x: float) -> float:
    if not math.isfinite(x):
        return x
    return _keep_zero_sign(float(math.trunc(x)), x)


def dsign(x: float) -> float:
    if x > 0:
        return 1.0
    if x < 0:
        return -1.0
    return 0.0


def dabs(x: float) -> float:
    return abs(x)


def dsqrt(x: float) -> float:
    if x < 0:
        raise InvalidArgumentForPowerFunction("cannot take square root of a negative number")
    r = math.sqrt(x)
    if r == 0.0 and x != 0.0:  # pragma: no cover - sqrt never underflows
        raise underflow()
    return r


def dcbrt(x: float) -> float:
    return math.cbrt(x)


def dexp(x: float) -> float:
    if x != x:
        return x
    if math.isinf(x):
        return x if x > 0 else 0.0
    try:
        r = math.exp(x)
    except OverflowError:
        raise overflow() from None
    if math.isinf(r):
        raise overflow()
    if r == 0.0:
        raise underflow()
    return r


def _check_log_arg(x: float) -> None:
    if x == 0.0:
        raise InvalidArgumentForLogarithm("cannot take logarithm of zero")
    if x < 0:
        raise InvalidArgumentForLogarithm("cannot take logarithm of a negative number")


def dln(x: float) -> float:
    _check_log_arg(x)
    r = math.log(x)
    if math.isinf(r) and not math.isinf(x):  # pragma: no cover
        raise overflow()
    if r == 0.0 and x != 1.0:  # pragma: no cover
        raise underflow()
    return r


def dlog10(x: float) -> float:
    _check_log_arg(x)
    r = math.log10(x)
    if r == 0.0 and x != 1.0:  # pragma: no cover
        raise underflow()
    return r


def dpow(x: float, y: float) -> float:
    """power(double precision, double precision) with PostgreSQL's special cases."""
    if x != x:
        return 1.0 if y == 0.0 else x
    if y != y:
        return 1.0 if x == 1.0 else y
    if x == 0 and y < 0:
        raise InvalidArgumentForPowerFunction("zero raised to a negative power is undefined")
    if x < 0 and math.isfinite(y) and math.floor(y) != y:
        raise InvalidArgumentForPowerFunction(
            "a negative number raised to a non-integer power yields a complex result")
    if math.isinf(y):
        absx = abs(x)
        if absx == 1.0:
            return 1.0
        if y > 0:
            return y if absx > 1.0 else 0.0
        return 0.0 if absx > 1.0 else -y
    if math.isinf(x):
        if y == 0.0:
            return 1.0
        if x > 0:
            return x if y > 0 else 0.0
        halfy = y / 2
        odd = math.floor(halfy) != halfy
        if y > 0:
            return x if odd else -x
        return -0.0 if odd else 0.0
    try:
        r = math.pow(x, y)
    except OverflowError:
        raise overflow() from None
    if math.isinf(r):
        raise overflow()
    if r == 0.0 and x != 0.0:
        raise underflow()
    return r


def dpi() -> float:
    return math.pi


def ddegrees(x: float) -> float:
    r = x * (180.0 / math.pi)
    if math.isinf(r) and not math.isinf(x):
        raise overflow()
    return r


def dradians(x: float) -> float:
    r = x * (math.pi / 180.0)
    if math.isinf(r) and not math.isinf(x):
        raise overflow()
    return r
