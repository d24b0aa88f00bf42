"""interval: input (PostgreSQL verbose and ISO 8601 forms), output, arithmetic, ordering.

Values are dsql.storage.interval.Interval(months, days, microseconds); the three fields are
kept apart (and each is range-checked as int32, int32, int64: "interval out of range").

Input accepts what interval_in accepts: '1 year 2 mons 3 days 04:05:06', '@ 1 minute ago',
'1.5 hours', '-1 day +02:03', '1-2' (years-months), '3 4:05:06', 'P1Y2M3DT4H5M6S',
'P0001-02-03T04:05:06'. Output uses IntervalStyle 'postgres': '1 year 2 mons 3 days 04:05:06',
'-1 days +02:03:00', '00:00:00'.

SQL comparison treats a month as 30 days and a day as 24 hours ('1 mon' = '30 days');
`interval_cmp_key` gives that order, and is the key to use for grouping and hashing.
"""

from __future__ import annotations

import math
import re

from dsql.errors import (
    DatetimeFieldOverflow,
    DivisionByZero,
    IntervalFieldOverflow,
    InvalidDatetimeFormat,
)
from dsql.sql.types import datetime_fields as df
from dsql.sql.types.datetime_fields import DateTimeError
from dsql.storage.interval import Interval

USECS_PER_SEC = 1_000_000
USECS_PER_MINUTE = 60_000_000
USECS_PER_HOUR = 3_600_000_000
USECS_PER_DAY = 86_400_000_000
DAYS_PER_MONTH = 30
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1

ZERO = Interval(0, 0, 0)


def _out_of_range() -> DatetimeFieldOverflow:
    return DatetimeFieldOverflow("interval out of range")


def make_interval_checked(months: int, days: int, usec: int) -> Interval:
    """An Interval after PostgreSQL's field range checks ("interval out of range", 22008)."""
    if not (INT32_MIN <= months <= INT32_MAX and INT32_MIN <= days <= INT32_MAX
            and INT64_MIN <= usec <= INT64_MAX):
        raise _out_of_range()
    return Interval(months, days, usec)


# -- input -------------------------------------------------------------------------------------

class _ItmIn:
    """struct pg_itm_in: the interval being accumulated, with overflow-checked adders."""

    __slots__ = ("usec", "mday", "mon", "year")

    def __init__(self) -> None:
        self.usec = self.mday = self.mon = self.year = 0

    def add_usec(self, v: int) -> None:
        self.usec += v
        if not INT64_MIN <= self.usec <= INT64_MAX:
            raise DateTimeError(df.FIELD_OVERFLOW)

    def fract_usec(self, frac: float, scale: int) -> None:
        if frac == 0:
            return
        frac *= scale
        usec = int(frac)
        frac -= usec
        if frac > 0.5:
            usec += 1
        elif frac < -0.5:
            usec -= 1
        self.add_usec(usec)

    def fract_days(self, frac: float, scale: int) -> None:
        if frac == 0:
            return
        frac *= scale
        extra = int(frac)
        self.mday += extra
        if not INT32_MIN <= self.mday <= INT32_MAX:
            raise DateTimeError(df.FIELD_OVERFLOW)
        self.fract_usec(frac - extra, USECS_PER_DAY)

    def fract_years(self, frac: float, scale: int) -> None:
        extra = int(round(frac * scale * 12))
        self.mon += extra
        if not INT32_MIN <= self.mon <= INT32_MAX:
            raise DateTimeError(df.FIELD_OVERFLOW)

    def micro(self, val: int, fval: float, scale: int) -> None:
        self.add_usec(val * scale)
        self.fract_usec(fval, scale)

    def days(self, val: int, scale: int) -> None:
        if not INT32_MIN <= val <= INT32_MAX:
            raise DateTimeError(df.FIELD_OVERFLOW)
        d = val * scale
        if not INT32_MIN <= d <= INT32_MAX:
            raise DateTimeError(df.FIELD_OVERFLOW)
        self.mday += d
        if not INT32_MIN <= self.mday <= INT32_MAX:
            raise DateTimeError(df.FIELD_OVERFLOW)

    def months(self, val: int) -> None:
        if not INT32_MIN <= val <= INT32_MAX:
            raise DateTimeError(df.FIELD_OVERFLOW)
        self.mon += val
        if not INT32_MIN <= self.mon <= INT32_MAX:
            raise DateTimeError(df.FIELD_OVERFLOW)

    def years(self, val: int, scale: int) -> None:
        if not INT32_MIN <= val <= INT32_MAX:
            raise DateTimeError(df.FIELD_OVERFLOW)
        y = val * scale
        if not INT32_MIN <= y <= INT32_MAX:
            raise DateTimeError(df.FIELD_OVERFLOW)
        self.year += y
        if not INT32_MIN <= self.year <= INT32_MAX:
            raise DateTimeError(df.FIELD_OVERFLOW)


def _time_for_interval(s: str, itm: _ItmIn) -> None:
    hour, minute, sec, fsec = df.decode_time_common(s)
    itm.usec = fsec
    itm.add_usec(hour * USECS_PER_HOUR)
    itm.add_usec(minute * USECS_PER_MINUTE)
    itm.add_usec(sec * USECS_PER_SEC)


def decode_interval(fields: list[tuple[str, int]]) -> _ItmIn:
    """DecodeInterval: fields read right to left so that units precede their values."""
    itm = _ItmIn()
    is_before = False
    parsing_unit_val = False
    fmask = 0
    typ = df.IGNORE_DTF
    nf = len(fields)
    for i in range(nf - 1, -1, -1):
        field, ftype = fields[i]
        tmask = 0
        if ftype == df.F_TIME:
            _time_for_interval(field, itm)
            tmask = df.TIME_M
            typ = df.DTK_DAY
            parsing_unit_val = False
        elif ftype in (df.F_TZ, df.F_DATE, df.F_NUMBER):
            handled = False
            if ftype == df.F_TZ and ":" in field[1:]:
                try:
                    _time_for_interval(field[1:], itm)
                    handled = True
                except DateTimeError:
                    handled = False
                if handled:
                    if field[0] == "-":
                        itm.usec = -itm.usec
                    tmask = df.TIME_M
                    typ = df.DTK_DAY
                    parsing_unit_val = False
            if not handled:
                if typ == df.IGNORE_DTF:
                    typ = df.DTK_SECOND
                val, cp, ovf = df.strtol(field, 0, 64)
                if ovf:
                    raise DateTimeError(df.FIELD_OVERFLOW)
                fval = 0.0
                if cp < len(field) and field[cp] == "-":
                    val2, cp2, ovf2 = df.strtol(field, cp + 1)
                    if ovf2 or val2 < 0 or val2 >= 12:
                        raise DateTimeError(df.FIELD_OVERFLOW)
                    if cp2 != len(field):
                        raise DateTimeError(df.BAD_FORMAT)
                    typ = df.DTK_MONTH
                    if field[0] == "-":
                        val2 = -val2
                    val = val * 12 + val2
                    if not INT64_MIN <= val <= INT64_MAX:
                        raise DateTimeError(df.FIELD_OVERFLOW)
                elif cp < len(field) and field[cp] == ".":
                    fval = df.parse_fraction(field[cp:])
                    if field[0] == "-":
                        fval = -fval
                elif cp != len(field):
                    raise DateTimeError(df.BAD_FORMAT)
                tmask = _apply_unit(itm, typ, val, fval)
                if typ == df.DTK_HOUR:
                    typ = df.DTK_DAY
                parsing_unit_val = False
        elif ftype in (df.F_STRING, df.F_SPECIAL):
            if parsing_unit_val:
                raise DateTimeError(df.BAD_FORMAT)
            utyp, uval = df.decode_units(field)
            if utyp == df.UNKNOWN_FIELD:
                utyp, uval = df.decode_special(field)
            if utyp == df.IGNORE_DTF:
                continue
            if utyp == df.UNITS:
                typ = uval
                parsing_unit_val = True
            elif utyp == df.AGO:  # PostgreSQL 15 accepts "ago" anywhere
                is_before = True
                typ = uval
            else:  # 'infinity' and other reserved words are not intervals in PostgreSQL 15
                raise DateTimeError(df.BAD_FORMAT)
        else:
            raise DateTimeError(df.BAD_FORMAT)
        if tmask & fmask:
            raise DateTimeError(df.BAD_FORMAT)
        fmask |= tmask
    if fmask == 0 or parsing_unit_val:
        raise DateTimeError(df.BAD_FORMAT)
    if is_before:
        itm.usec, itm.mday, itm.mon, itm.year = -itm.usec, -itm.mday, -itm.mon, -itm.year
    return itm


def _apply_unit(itm: _ItmIn, typ: int, val: int, fval: float) -> int:
    m = df.M
    if typ == df.DTK_MICROSEC:
        itm.micro(val, fval, 1)
        return m(df.MICROSECOND)
    if typ == df.DTK_MILLISEC:
        itm.micro(val, fval, 1000)
        return m(df.MILLISECOND)
    if typ == df.DTK_SECOND:
        itm.micro(val, fval, USECS_PER_SEC)
        return m(df.SECOND) if fval == 0 else df.ALL_SECS_M
    if typ == df.DTK_MINUTE:
        itm.micro(val, fval, USECS_PER_MINUTE)
        return m(df.MINUTE)
    if typ == df.DTK_HOUR:
        itm.micro(val, fval, USECS_PER_HOUR)
        return m(df.HOUR)
    if typ == df.DTK_DAY:
        itm.days(val, 1)
        itm.fract_usec(fval, USECS_PER_DAY)
        return m(df.DAY)
    if typ == df.DTK_WEEK:
        itm.days(val, 7)
        itm.fract_days(fval, 7)
        return m(df.WEEK)
    if typ == df.DTK_MONTH:
        itm.months(val)
        itm.fract_days(fval, DAYS_PER_MONTH)
        return m(df.MONTH)
    if typ == df.DTK_YEAR:
        itm.years(val, 1)
        itm.fract_years(fval, 1)
        return m(df.YEAR)
    if typ == df.DTK_DECADE:
        itm.years(val, 10)
        itm.fract_years(fval, 10)
        return m(df.DECADE)
    if typ == df.DTK_CENTURY:
        itm.years(val, 100)
        itm.fract_years(fval, 100)
        return m(df.CENTURY)
    if typ == df.DTK_MILLENNIUM:
        itm.years(val, 1000)
        itm.fract_years(fval, 1000)
        return m(df.MILLENNIUM)
    raise DateTimeError(df.BAD_FORMAT)


_ISO_NUM = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _iso_number(s: str, i: int) -> tuple[int, float, int]:
    if i >= len(s) or not (s[i].isdigit() or s[i] in "-."):
        raise DateTimeError(df.BAD_FORMAT)
    m = _ISO_NUM.match(s, i)
    if m is None:
        raise DateTimeError(df.BAD_FORMAT)
    val = float(m.group(0))
    if math.isnan(val) or val < -1.0e15 or val > 1.0e15:
        raise DateTimeError(df.FIELD_OVERFLOW)
    ipart = math.floor(val) if val >= 0 else -math.floor(-val)
    return int(ipart), val - ipart, m.end()


def _iso_int_width(s: str, i: int) -> int:
    if i < len(s) and s[i] == "-":
        i += 1
    j = i
    while j < len(s) and s[j].isdigit():
        j += 1
    return j - i


def decode_iso8601_interval(s: str) -> _ItmIn:
    """'P1Y2M3DT4H5M6S', 'P1W', 'PT36H', 'P0001-02-03T04:05:06', 'P00010203T040506'."""
    itm = _ItmIn()
    if len(s) < 2 or s[0] != "P":
        raise DateTimeError(df.BAD_FORMAT)
    i = 1
    n = len(s)
    datepart = True
    havefield = False
    while i < n:
        if s[i] == "T":
            datepart = False
            havefield = False
            i += 1
            continue
        start = i
        val, fval, i = _iso_number(s, i)
        unit = s[i] if i < n else "\0"
        i += 1
        if datepart:
            if unit == "Y":
                itm.years(val, 1)
                itm.fract_years(fval, 1)
            elif unit == "M":
                itm.months(val)
                itm.fract_days(fval, DAYS_PER_MONTH)
            elif unit == "W":
                itm.days(val, 7)
                itm.fract_days(fval, 7)
            elif unit == "D":
                itm.days(val, 1)
                itm.fract_usec(fval, USECS_PER_DAY)
            elif unit in "T\0-":
                if unit != "-" and _iso_int_width(s, start) == 8 and not havefield:
                    itm.years(int(val / 10000), 1)
                    itm.months(int(val / 100) % 100 if val >= 0 else -(int(-val / 100) % 100))
                    itm.days(val % 100 if val >= 0 else -(-val % 100), 1)
                    itm.fract_usec(fval, USECS_PER_DAY)
                    if unit == "\0":
                        return itm
                    datepart = False
                    havefield = False
                    continue
                if havefield:
                    raise DateTimeError(df.BAD_FORMAT)
                itm.years(val, 1)
                itm.fract_years(fval, 1)
                if unit == "\0":
                    return itm
                if unit == "T":
                    datepart = False
                    havefield = False
                    continue
                val, fval, i = _iso_number(s, i)
                itm.months(val)
                itm.fract_days(fval, DAYS_PER_MONTH)
                if i >= n:
                    return itm
                if s[i] == "T":
                    datepart = False
                    havefield = False
                    i += 1
                    continue
                if s[i] != "-":
                    raise DateTimeError(df.BAD_FORMAT)
                val, fval, i = _iso_number(s, i + 1)
                itm.days(val, 1)
                itm.fract_usec(fval, USECS_PER_DAY)
                if i >= n:
                    return itm
                if s[i] == "T":
                    datepart = False
                    havefield = False
                    i += 1
                    continue
                raise DateTimeError(df.BAD_FORMAT)
            else:
                raise DateTimeError(df.BAD_FORMAT)
        else:
            if unit == "H":
                itm.micro(val, fval, USECS_PER_HOUR)
            elif unit == "M":
                itm.micro(val, fval, USECS_PER_MINUTE)
            elif unit == "S":
                itm.micro(val, fval, USECS_PER_SEC)
            elif unit in "\0:":
                if unit == "\0" and _iso_int_width(s, start) == 6 and not havefield:
                    itm.micro(_tdiv(val, 10000), 0, USECS_PER_HOUR)
                    itm.micro(_tmod(_tdiv(val, 100), 100), 0, USECS_PER_MINUTE)
                    itm.micro(_tmod(val, 100), 0, USECS_PER_SEC)
                    itm.fract_usec(fval, 1)
                    return itm
                if havefield:
                    raise DateTimeError(df.BAD_FORMAT)
                itm.micro(val, fval, USECS_PER_HOUR)
                if unit == "\0":
                    return itm
                val, fval, i = _iso_number(s, i)
                itm.micro(val, fval, USECS_PER_MINUTE)
                if i >= n:
                    return itm
                if s[i] != ":":
                    raise DateTimeError(df.BAD_FORMAT)
                val, fval, i = _iso_number(s, i + 1)
                itm.micro(val, fval, USECS_PER_SEC)
                if i >= n:
                    return itm
                raise DateTimeError(df.BAD_FORMAT)
            else:
                raise DateTimeError(df.BAD_FORMAT)
        havefield = True
    return itm


def _tdiv(a: int, b: int) -> int:
    """C integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _tmod(a: int, b: int) -> int:
    """C remainder (sign of the dividend)."""
    r = abs(a) % abs(b)
    return r if a >= 0 else -r


def interval_in(text: str) -> Interval:
    try:
        try:
            itm = decode_interval(df.parse_fields(text, 256))
        except DateTimeError as exc:
            if exc.code != df.BAD_FORMAT:
                raise
            itm = decode_iso8601_interval(text)
    except DateTimeError as exc:
        if exc.code == df.FIELD_OVERFLOW:
            raise IntervalFieldOverflow(
                f'interval field value out of range: "{text}"') from None
        if exc.code == df.TZDISP_OVERFLOW:  # pragma: no cover - zones never reach intervals
            raise IntervalFieldOverflow(f'interval field value out of range: "{text}"') from None
        raise InvalidDatetimeFormat(f'invalid input syntax for type interval: "{text}"') from None
    months = itm.year * 12 + itm.mon
    if not INT32_MIN <= months <= INT32_MAX:
        raise _out_of_range()
    return Interval(months, itm.mday, itm.usec)


# -- output ------------------------------------------------------------------------------------

def append_seconds(sec: int, fsec: int, fillzeros: bool = True) -> str:
    """Seconds with up to six fraction digits, trailing zeros dropped (signs ignored)."""
    s = f"{abs(sec):02d}" if fillzeros else str(abs(sec))
    if fsec:
        s += "." + f"{abs(fsec):06d}".rstrip("0")
    return s


def interval_out(iv: Interval) -> str:
    """IntervalStyle postgres: '1 year 2 mons -3 days +04:05:06.5', '00:00:00'."""
    year = _tdiv(iv.months, 12)
    mon = _tmod(iv.months, 12)
    mday = iv.days
    t = iv.microseconds
    hour = _tdiv(t, USECS_PER_HOUR)
    t -= hour * USECS_PER_HOUR
    minute = _tdiv(t, USECS_PER_MINUTE)
    t -= minute * USECS_PER_MINUTE
    sec = _tdiv(t, USECS_PER_SEC)
    fsec = t - sec * USECS_PER_SEC
    parts: list[str] = []
    is_before = False
    is_zero = True
    for value, unit in ((year, "year"), (mon, "mon"), (mday, "day")):
        if value == 0:
            continue
        plus = "+" if is_before and value > 0 else ""
        parts.append(f"{plus}{value} {unit}{'s' if value != 1 else ''}")
        is_before = value < 0
        is_zero = False
    if is_zero or hour or minute or sec or fsec:
        minus = hour < 0 or minute < 0 or sec < 0 or fsec < 0
        sign = "-" if minus else ("+" if is_before else "")
        parts.append(f"{sign}{abs(hour):02d}:{abs(minute):02d}:{append_seconds(sec, fsec)}")
    return " ".join(parts)


# -- arithmetic --------------------------------------------------------------------------------

def interval_add(a: Interval, b: Interval) -> Interval:
    return make_interval_checked(a.months + b.months, a.days + b.days,
                                 a.microseconds + b.microseconds)


def interval_sub(a: Interval, b: Interval) -> Interval:
    return make_interval_checked(a.months - b.months, a.days - b.days,
                                 a.microseconds - b.microseconds)


def interval_neg(a: Interval) -> Interval:
    return make_interval_checked(-a.months, -a.days, -a.microseconds)


def _tsround(x: float) -> float:
    return round(x * 1000000.0) / 1000000.0


def _fits_int32(x: float) -> bool:
    return -2147483648.0 <= x < 2147483648.0


def _fits_int64(x: float) -> bool:
    return -9.2233720368547758e18 <= x < 9.2233720368547758e18


def interval_mul(span: Interval, factor: float) -> Interval:
    """interval * float8, cascading fractional months into days and days into time."""
    result_double = span.months * factor
    if math.isnan(result_double) or not _fits_int32(result_double):
        raise _out_of_range()
    month = int(result_double)
    result_double = span.days * factor
    if math.isnan(result_double) or not _fits_int32(result_double):
        raise _out_of_range()
    day = int(result_double)
    month_remainder_days = _tsround((span.months * factor - month) * DAYS_PER_MONTH)
    sec_remainder = _tsround((span.days * factor - day + month_remainder_days
                              - int(month_remainder_days)) * 86400)
    if abs(sec_remainder) >= 86400:
        day += int(sec_remainder / 86400)
        sec_remainder -= int(sec_remainder / 86400) * 86400
    day += int(month_remainder_days)
    result_double = round(span.microseconds * factor + sec_remainder * USECS_PER_SEC)
    if math.isnan(result_double) or not _fits_int64(result_double):
        raise _out_of_range()
    return make_interval_checked(month, day, int(result_double))


def interval_div(span: Interval, factor: float) -> Interval:
    if factor == 0.0:
        raise DivisionByZero("division by zero")
    result_double = span.months / factor
    if math.isnan(result_double) or not _fits_int32(result_double):
        raise _out_of_range()
    month = int(result_double)
    result_double = span.days / factor
    if math.isnan(result_double) or not _fits_int32(result_double):
        raise _out_of_range()
    day = int(result_double)
    month_remainder_days = _tsround((span.months / factor - month) * DAYS_PER_MONTH)
    sec_remainder = _tsround((span.days / factor - day + month_remainder_days
                              - int(month_remainder_days)) * 86400)
    if abs(sec_remainder) >= 86400:
        day += int(sec_remainder / 86400)
        sec_remainder -= int(sec_remainder / 86400) * 86400
    day += int(month_remainder_days)
    result_double = round(span.microseconds / factor + sec_remainder * USECS_PER_SEC)
    if math.isnan(result_double) or not _fits_int64(result_double):
        raise _out_of_range()
    return make_interval_checked(month, day, int(result_double))


def justify_hours(iv: Interval) -> Interval:
    """Moves whole 24-hour periods of the time field into days."""
    days = iv.days + _tdiv(iv.microseconds, USECS_PER_DAY)
    usec = _tmod(iv.microseconds, USECS_PER_DAY)
    if days > 0 and usec < 0:
        usec += USECS_PER_DAY
        days -= 1
    elif days < 0 and usec > 0:
        usec -= USECS_PER_DAY
        days += 1
    return make_interval_checked(iv.months, days, usec)


def justify_days(iv: Interval) -> Interval:
    """Moves whole 30-day periods into months."""
    months = iv.months + _tdiv(iv.days, DAYS_PER_MONTH)
    days = _tmod(iv.days, DAYS_PER_MONTH)
    if months > 0 and days < 0:
        days += DAYS_PER_MONTH
        months -= 1
    elif months < 0 and days > 0:
        days -= DAYS_PER_MONTH
        months += 1
    return make_interval_checked(months, days, iv.microseconds)


def justify_interval(iv: Interval) -> Interval:
    """justify_days(justify_hours(iv)) with the signs made consistent."""
    days = iv.days + _tdiv(iv.microseconds, USECS_PER_DAY)
    usec = _tmod(iv.microseconds, USECS_PER_DAY)
    months = iv.months + _tdiv(days, DAYS_PER_MONTH)
    days = _tmod(days, DAYS_PER_MONTH)
    if months > 0 and (days < 0 or (days == 0 and usec < 0)):
        days += DAYS_PER_MONTH
        months -= 1
    elif months < 0 and (days > 0 or (days == 0 and usec > 0)):
        days -= DAYS_PER_MONTH
        months += 1
    if days > 0 and usec < 0:
        usec += USECS_PER_DAY
        days -= 1
    elif days < 0 and usec > 0:
        usec -= USECS_PER_DAY
        days += 1
    return make_interval_checked(months, days, usec)


# -- comparison --------------------------------------------------------------------------------

def interval_cmp_key(iv: Interval) -> int:
    """The total span in microseconds, with 30-day months: SQL equality and order."""
    return (iv.months * DAYS_PER_MONTH + iv.days) * USECS_PER_DAY + iv.microseconds


def interval_eq(a: Interval, b: Interval) -> bool:
    return interval_cmp_key(a) == interval_cmp_key(b)


def interval_ne(a: Interval, b: Interval) -> bool:
    return interval_cmp_key(a) != interval_cmp_key(b)


def interval_lt(a: Interval, b: Interval) -> bool:
    return interval_cmp_key(a) < interval_cmp_key(b)


def interval_le(a: Interval, b: Interval) -> bool:
    return interval_cmp_key(a) <= interval_cmp_key(b)


def interval_gt(a: Interval, b: Interval) -> bool:
    return interval_cmp_key(a) > interval_cmp_key(b)


def interval_ge(a: Interval, b: Interval) -> bool:
    return interval_cmp_key(a) >= interval_cmp_key(b)
