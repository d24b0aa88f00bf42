"""Date/time functions: now(), date_trunc, extract / date_part, age, make_*, AT TIME ZONE.

Functions that depend on the session (time zone, transaction start) take the ValueContext as
their last argument. extract() returns numeric (PostgreSQL 14+ scales: second has 6 decimals,
milliseconds 3, epoch 6) and date_part() returns double precision computed PostgreSQL's way.
to_char lives in functions.to_char.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from dsql.errors import DatetimeFieldOverflow, FeatureNotSupported, InvalidParameterValue
from dsql.sql.types import datetime as dt
from dsql.sql.types import datetime_fields as df
from dsql.sql.types import numeric, timezones
from dsql.sql.types.context import ValueContext
from dsql.sql.types.interval import USECS_PER_DAY, make_interval_checked
from dsql.storage.interval import Interval

TIMESTAMP_NAME = "timestamp without time zone"
TIMESTAMPTZ_NAME = "timestamp with time zone"


# -- the current time --------------------------------------------------------------------------

def now(ctx: ValueContext) -> datetime:
    """now() / current_timestamp / transaction_timestamp(): the transaction's start."""
    return df.current_utc(ctx)


def statement_timestamp(ctx: ValueContext) -> datetime:
    ts = ctx.statement_timestamp
    if ts is None and ctx.clock is not None:
        ts = ctx.clock.statement
    return ts or df.current_utc(ctx)


def clock_timestamp(ctx: ValueContext) -> datetime:
    return datetime.now(dt.UTC)


def current_date(ctx: ValueContext) -> date:
    return dt.to_local(df.current_utc(ctx), ctx)[0].date()


def localtimestamp(ctx: ValueContext) -> datetime:
    return dt.to_local(df.current_utc(ctx), ctx)[0]


def localtime(ctx: ValueContext) -> time:
    return dt.to_local(df.current_utc(ctx), ctx)[0].time()


# -- units -------------------------------------------------------------------------------------

def _units(name: str) -> tuple[str, int, int]:
    """(lower-cased name, token type, value): interval units first, then date keywords."""
    low = name.lower()[:63]
    typ, val = df.decode_units(low)
    if typ == df.UNKNOWN_FIELD:
        typ, val = df.decode_special(low)
    return low, typ, val


def _not_recognized(low: str, type_name: str) -> InvalidParameterValue:
    return InvalidParameterValue(f'unit "{low}" not recognized for type {type_name}')


def _not_supported(low: str, type_name: str) -> FeatureNotSupported:
    return FeatureNotSupported(f'unit "{low}" not supported for type {type_name}')


# -- date_trunc --------------------------------------------------------------------------------

def _trunc_fields(val: int, d: datetime, low: str, type_name: str) -> tuple[datetime, bool]:
    """Truncates naive `d` to unit `val`; returns it and whether days or more were cut."""
    y, m = d.year, d.month
    if val == df.DTK_WEEK:
        monday = d.date() - timedelta(days=d.weekday())
        return datetime(monday.year, monday.month, monday.day), True
    if val == df.DTK_MILLENNIUM:
        return datetime(((y + 999) // 1000) * 1000 - 999, 1, 1), True
    if val == df.DTK_CENTURY:
        return datetime(((y + 99) // 100) * 100 - 99, 1, 1), True
    if val == df.DTK_DECADE:
        return datetime(max((y // 10) * 10, 1), 1, 1), True
    if val == df.DTK_YEAR:
        return datetime(y, 1, 1), True
    if val == df.DTK_QUARTER:
        return datetime(y, 3 * ((m - 1) // 3) + 1, 1), True
    if val == df.DTK_MONTH:
        return datetime(y, m, 1), True
    if val == df.DTK_DAY:
        return datetime(y, m, d.day), True
    if val == df.DTK_HOUR:
        return d.replace(minute=0, second=0, microsecond=0), False
    if val == df.DTK_MINUTE:
        return d.replace(second=0, microsecond=0), False
    if val == df.DTK_SECOND:
        return d.replace(microsecond=0), False
    if val == df.DTK_MILLISEC:
        return d.replace(microsecond=(d.microsecond // 1000) * 1000), False
    if val == df.DTK_MICROSEC:
        return d, False
    raise _not_supported(low, type_name)


def date_trunc(unit: str, ts: Any) -> Any:
    """date_trunc(text, timestamp)."""
    low, typ, val = _units(unit)
    if typ != df.UNITS:
        raise _not_recognized(low, TIMESTAMP_NAME)
    if not dt.is_finite(ts):
        return ts
    return _trunc_fields(val, ts, low, TIMESTAMP_NAME)[0]


def date_trunc_tz(unit: str, ts: Any, ctx: ValueContext, zone: Any = None) -> Any:
    """date_trunc(text, timestamptz [, zone]): truncates in the session (or given) zone."""
    low, typ, val = _units(unit)
    if typ != df.UNITS:
        raise _not_recognized(low, TIMESTAMPTZ_NAME)
    if not dt.is_finite(ts):
        return ts
    z = ctx.timezone if zone is None else zone
    local = ts.astimezone(z)
    off = local.utcoffset()
    assert off is not None
    naive = local.replace(tzinfo=None)
    cut, redotz = _trunc_fields(val, naive, low, TIMESTAMPTZ_NAME)
    if redotz:
        return dt.local_to_utc(cut, z)
    return (cut - off).replace(tzinfo=dt.UTC)


def date_trunc_interval(unit: str, iv: Interval) -> Interval:
    """date_trunc(text, interval)."""
    low, typ, val = _units(unit)
    if typ != df.UNITS:
        raise _not_recognized(low, "interval")
    years = _cdiv(iv.months, 12)
    months = _cmod(iv.months, 12)
    t = iv.microseconds
    if val == df.DTK_MILLENNIUM:
        return Interval(_cdiv(years, 1000) * 1000 * 12, 0, 0)
    if val == df.DTK_CENTURY:
        return Interval(_cdiv(years, 100) * 100 * 12, 0, 0)
    if val == df.DTK_DECADE:
        return Interval(_cdiv(years, 10) * 10 * 12, 0, 0)
    if val == df.DTK_YEAR:
        return Interval(years * 12, 0, 0)
    if val == df.DTK_QUARTER:
        return Interval(years * 12 + 3 * _cdiv(months, 3), 0, 0)
    if val == df.DTK_MONTH:
        return Interval(iv.months, 0, 0)
    if val == df.DTK_DAY:
        return Interval(iv.months, iv.days, 0)
    scale = {df.DTK_HOUR: 3_600_000_000, df.DTK_MINUTE: 60_000_000, df.DTK_SECOND: 1_000_000,
             df.DTK_MILLISEC: 1000, df.DTK_MICROSEC: 1}.get(val)
    if scale is None:
        raise _not_supported(low, "interval")
    return Interval(iv.months, iv.days, _cdiv(t, scale) * scale)


def _cdiv(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _cmod(a: int, b: int) -> int:
    r = abs(a) % abs(b)
    return r if a >= 0 else -r


# -- extract / date_part -----------------------------------------------------------------------

def _scaled(n: int, scale: int) -> Decimal:
    """n / 10^scale as a numeric with exactly `scale` decimals (int64_div_fast_to_numeric)."""
    return numeric.make(Decimal(n).scaleb(-scale))


def _infinite_part(val: int, typ: int, sign: int, low: str, type_name: str) -> Any:
    if typ == df.UNITS and val in (df.DTK_YEAR, df.DTK_DECADE, df.DTK_CENTURY,
                                   df.DTK_MILLENNIUM, df.DTK_JULIAN, df.DTK_ISOYEAR):
        return numeric.PINF if sign > 0 else numeric.NINF
    if typ == df.RESERV and val == df.DTK_EPOCH:
        return numeric.PINF if sign > 0 else numeric.NINF
    if typ == df.UNITS and val in (df.DTK_MICROSEC, df.DTK_MILLISEC, df.DTK_SECOND,
                                   df.DTK_MINUTE, df.DTK_HOUR, df.DTK_DAY, df.DTK_MONTH,
                                   df.DTK_QUARTER, df.DTK_WEEK, df.DTK_DOW, df.DTK_ISODOW,
                                   df.DTK_DOY, df.DTK_TZ, df.DTK_TZ_MINUTE, df.DTK_TZ_HOUR):
        return None
    if typ in (df.UNITS, df.RESERV):
        raise _not_supported(low, type_name)
    raise _not_recognized(low, type_name)


def _year_part(val: int, y: int) -> int:
    if val == df.DTK_YEAR:
        return y
    if val == df.DTK_DECADE:
        return y // 10
    if val == df.DTK_CENTURY:
        return (y + 99) // 100
    return (y + 999) // 1000  # millennium


def _timestamp_part(val: int, d: datetime, fsec_total: int) -> Decimal | None:
    """The numeric fields shared by timestamp and timestamptz (None: not such a field)."""
    if val == df.DTK_MICROSEC:
        return Decimal(fsec_total)
    if val == df.DTK_MILLISEC:
        return _scaled(fsec_total, 3)
    if val == df.DTK_SECOND:
        return _scaled(fsec_total, 6)
    simple = {df.DTK_MINUTE: d.minute, df.DTK_HOUR: d.hour, df.DTK_DAY: d.day,
              df.DTK_MONTH: d.month}
    if val in simple:
        return Decimal(simple[val])
    if val == df.DTK_QUARTER:
        return Decimal((d.month - 1) // 3 + 1)
    if val == df.DTK_WEEK:
        return Decimal(d.isocalendar()[1])
    if val in (df.DTK_YEAR, df.DTK_DECADE, df.DTK_CENTURY, df.DTK_MILLENNIUM):
        return Decimal(_year_part(val, d.year))
    if val == df.DTK_JULIAN:
        day_usec = ((d.hour * 60 + d.minute) * 60 + d.second) * 1_000_000 + d.microsecond
        return numeric.numeric_add(
            Decimal(dt.date_to_julian(d.date())),
            numeric.numeric_div(Decimal(day_usec), Decimal(USECS_PER_DAY)))
    if val == df.DTK_ISOYEAR:
        return Decimal(d.isocalendar()[0])
    if val in (df.DTK_DOW, df.DTK_ISODOW):
        dow = (d.weekday() + 1) % 7
        return Decimal(7 if val == df.DTK_ISODOW and dow == 0 else dow)
    if val == df.DTK_DOY:
        return Decimal(d.timetuple().tm_yday)
    return None


def extract_timestamp(unit: str, ts: Any) -> Decimal | None:
    """extract(field FROM timestamp) -> numeric."""
    low, typ, val = _units(unit)
    if not dt.is_finite(ts):
        return _infinite_part(val, typ, ts.sign, low, TIMESTAMP_NAME)
    if typ == df.UNITS:
        r = _timestamp_part(val, ts, ts.second * 1_000_000 + ts.microsecond)
        if r is None:
            raise _not_supported(low, TIMESTAMP_NAME)
        return r
    if typ == df.RESERV:
        if val == df.DTK_EPOCH:
            return _scaled(dt.epoch_usec(ts), 6)
        raise _not_supported(low, TIMESTAMP_NAME)
    raise _not_recognized(low, TIMESTAMP_NAME)


def extract_timestamptz(unit: str, ts: Any, ctx: ValueContext) -> Decimal | None:
    low, typ, val = _units(unit)
    if not dt.is_finite(ts):
        return _infinite_part(val, typ, ts.sign, low, TIMESTAMPTZ_NAME)
    local, east = dt.to_local(ts, ctx)
    if typ == df.UNITS:
        if val == df.DTK_TZ:
            return Decimal(east)
        if val == df.DTK_TZ_HOUR:
            return Decimal(_cdiv(east, 3600))
        if val == df.DTK_TZ_MINUTE:
            return Decimal(_cmod(_cdiv(east, 60), 60))
        r = _timestamp_part(val, local, local.second * 1_000_000 + local.microsecond)
        if r is None:
            raise _not_supported(low, TIMESTAMPTZ_NAME)
        return r
    if typ == df.RESERV:
        if val == df.DTK_EPOCH:
            return _scaled(dt.epoch_usec(ts), 6)
        raise _not_supported(low, TIMESTAMPTZ_NAME)
    raise _not_recognized(low, TIMESTAMPTZ_NAME)


def extract_date(unit: str, d: Any) -> Decimal | None:
    low, typ, val = _units(unit)
    if not dt.is_finite(d):
        return _infinite_part(val, typ, d.sign, low, "date")
    if typ == df.UNITS:
        if val in (df.DTK_MICROSEC, df.DTK_MILLISEC, df.DTK_SECOND, df.DTK_MINUTE, df.DTK_HOUR,
                   df.DTK_TZ, df.DTK_TZ_HOUR, df.DTK_TZ_MINUTE):
            raise _not_supported(low, "date")
        if val == df.DTK_JULIAN:
            return Decimal(dt.date_to_julian(d))
        r = _timestamp_part(val, datetime(d.year, d.month, d.day), 0)
        if r is None:
            raise _not_supported(low, "date")
        return r
    if typ == df.RESERV:
        if val == df.DTK_EPOCH:
            return Decimal((d - dt.EPOCH_DATE).days * 86400)
        raise _not_supported(low, "date")
    raise _not_recognized(low, "date")


def extract_time(unit: str, t: time) -> Decimal:
    low, typ, val = _units(unit)
    usec_in_min = t.second * 1_000_000 + t.microsecond
    if typ == df.UNITS:
        if val == df.DTK_MICROSEC:
            return Decimal(usec_in_min)
        if val == df.DTK_MILLISEC:
            return _scaled(usec_in_min, 3)
        if val == df.DTK_SECOND:
            return _scaled(usec_in_min, 6)
        if val == df.DTK_MINUTE:
            return Decimal(t.minute)
        if val == df.DTK_HOUR:
            return Decimal(t.hour)
        raise _not_supported(low, "time without time zone")
    if typ == df.RESERV and val == df.DTK_EPOCH:
        return _scaled(dt.time_to_usec(t), 6)
    if typ == df.RESERV:
        raise _not_supported(low, "time without time zone")
    raise _not_recognized(low, "time without time zone")


def extract_interval(unit: str, iv: Interval) -> Decimal:
    low, typ, val = _units(unit)
    year, mon = _cdiv(iv.months, 12), _cmod(iv.months, 12)
    t = iv.microseconds
    hour = _cdiv(t, 3_600_000_000)
    t -= hour * 3_600_000_000
    minute = _cdiv(t, 60_000_000)
    t -= minute * 60_000_000
    if typ == df.UNITS:
        if val == df.DTK_MICROSEC:
            return Decimal(t)
        if val == df.DTK_MILLISEC:
            return _scaled(t, 3)
        if val == df.DTK_SECOND:
            return _scaled(t, 6)
        simple = {df.DTK_MINUTE: minute, df.DTK_HOUR: hour, df.DTK_DAY: iv.days,
                  df.DTK_MONTH: mon, df.DTK_QUARTER: _cdiv(mon, 3) + 1, df.DTK_YEAR: year,
                  df.DTK_DECADE: _cdiv(year, 10), df.DTK_CENTURY: _cdiv(year, 100),
                  df.DTK_MILLENNIUM: _cdiv(year, 1000)}
        if val in simple:
            return Decimal(simple[val])
        raise _not_supported(low, "interval")
    if typ == df.RESERV and val == df.DTK_EPOCH:
        secs = (1461 * year + 120 * mon + 4 * iv.days) * (86400 // 4)
        return _scaled(secs * 1_000_000 + iv.microseconds, 6)
    if typ == df.RESERV:
        raise _not_supported(low, "interval")
    raise _not_recognized(low, "interval")


def _float_part(val: int, typ: int, d: datetime, epoch_usec: int) -> float | None:
    """date_part()'s double precision arithmetic for the fields where it differs."""
    fsec = d.microsecond
    if typ == df.UNITS and val == df.DTK_MILLISEC:
        return d.second * 1000.0 + fsec / 1000.0
    if typ == df.UNITS and val == df.DTK_SECOND:
        return d.second + fsec / 1000000.0
    if typ == df.UNITS and val == df.DTK_JULIAN:
        return dt.date_to_julian(d.date()) + (
            ((d.hour * 60 + d.minute) * 60) + d.second + fsec / 1000000.0) / 86400.0
    if typ == df.RESERV and val == df.DTK_EPOCH:
        return epoch_usec / 1000000.0
    return None


def date_part_timestamp(unit: str, ts: Any) -> float | None:
    """date_part(text, timestamp) -> double precision."""
    low, typ, val = _units(unit)
    if dt.is_finite(ts):
        f = _float_part(val, typ, ts, dt.epoch_usec(ts))
        if f is not None:
            return f
    r = extract_timestamp(unit, ts)
    return None if r is None else float(r)


def date_part_timestamptz(unit: str, ts: Any, ctx: ValueContext) -> float | None:
    low, typ, val = _units(unit)
    if dt.is_finite(ts):
        local, _ = dt.to_local(ts, ctx)
        f = _float_part(val, typ, local, dt.epoch_usec(ts))
        if f is not None:
            return f
    r = extract_timestamptz(unit, ts, ctx)
    return None if r is None else float(r)


def date_part_interval(unit: str, iv: Interval) -> float:
    low, typ, val = _units(unit)
    t = _cmod(iv.microseconds, 60_000_000)
    if typ == df.UNITS and val == df.DTK_SECOND:
        return (t // 1_000_000 if t >= 0 else -(-t // 1_000_000)) + (
            _cmod(t, 1_000_000)) / 1000000.0
    if typ == df.UNITS and val == df.DTK_MILLISEC:
        sec = t // 1_000_000 if t >= 0 else -(-t // 1_000_000)
        return sec * 1000.0 + _cmod(t, 1_000_000) / 1000.0
    if typ == df.RESERV and val == df.DTK_EPOCH:
        year, mon = _cdiv(iv.months, 12), _cmod(iv.months, 12)
        result = iv.microseconds / 1000000.0
        result += (365.25 * 86400) * year
        result += (30.0 * 86400) * mon
        result += 86400.0 * iv.days
        return result
    return float(extract_interval(unit, iv))


# -- age ---------------------------------------------------------------------------------------

def _age(a: datetime, b: datetime) -> Interval:
    fsec = a.microsecond - b.microsecond
    sec = a.second - b.second
    mi = a.minute - b.minute
    hour = a.hour - b.hour
    mday = a.day - b.day
    mon = a.month - b.month
    year = a.year - b.year
    neg = a < b
    if neg:
        fsec, sec, mi, hour, mday, mon, year = -fsec, -sec, -mi, -hour, -mday, -mon, -year
    while fsec < 0:
        fsec += 1_000_000
        sec -= 1
    while sec < 0:
        sec += 60
        mi -= 1
    while mi < 0:
        mi += 60
        hour -= 1
    while hour < 0:
        hour += 24
        mday -= 1
    ref = a if neg else b
    while mday < 0:
        mday += df.DAY_TAB[df.isleap(ref.year)][ref.month - 1]
        mon -= 1
    while mon < 0:
        mon += 12
        year -= 1
    if neg:
        fsec, sec, mi, hour, mday, mon, year = -fsec, -sec, -mi, -hour, -mday, -mon, -year
    usec = ((hour * 60 + mi) * 60 + sec) * 1_000_000 + fsec
    return make_interval_checked(year * 12 + mon, mday, usec)


def age(a: Any, b: Any) -> Interval:
    """age(timestamp, timestamp): a symbolic difference in years, months and days."""
    if not dt.is_finite(a) or not dt.is_finite(b):
        raise DatetimeFieldOverflow("cannot subtract infinite timestamps")
    return _age(a, b)


def age_tz(a: Any, b: Any, ctx: ValueContext) -> Interval:
    if not dt.is_finite(a) or not dt.is_finite(b):
        raise DatetimeFieldOverflow("cannot subtract infinite timestamps")
    return _age(dt.to_local(a, ctx)[0], dt.to_local(b, ctx)[0])


def age1(ts: Any, ctx: ValueContext) -> Interval:
    """age(timestamp): from the timestamp to midnight of the current date."""
    today = current_date(ctx)
    return age(datetime(today.year, today.month, today.day), ts)


def age1_tz(ts: Any, ctx: ValueContext) -> Interval:
    today = current_date(ctx)
    return age_tz(dt.date_to_timestamptz(today, ctx), ts, ctx)


# -- constructors ------------------------------------------------------------------------------

def make_date(year: int, month: int, day: int) -> date:
    if year == 0:
        raise DatetimeFieldOverflow(f"date field value out of range: {year}-"
                                    f"{month:02d}-{day:02d}")
    try:
        if year < 0:
            raise ValueError
        return date(year, month, day)
    except ValueError:
        raise DatetimeFieldOverflow(
            f"date field value out of range: {year}-{month:02d}-{day:02d}") from None


def _make_time_usec(hour: int, minute: int, sec: float) -> int:
    if hour < 0 or minute < 0 or minute > 59 or sec < 0 or sec > 60 or hour > 24 \
            or sec != sec:
        raise DatetimeFieldOverflow(
            f"time field value out of range: {hour}:{minute:02d}:{_fmt_sec(sec)}")
    usec = ((hour * 60 + minute) * 60) * 1_000_000 + round(sec * 1_000_000)
    if usec > USECS_PER_DAY:
        raise DatetimeFieldOverflow(
            f"time field value out of range: {hour}:{minute:02d}:{_fmt_sec(sec)}")
    return usec


def _fmt_sec(sec: float) -> str:
    return f"{sec:02g}"  # C's %02g


def make_time(hour: int, minute: int, sec: float) -> time:
    usec = _make_time_usec(hour, minute, sec)
    if usec >= USECS_PER_DAY:
        raise DatetimeFieldOverflow("time out of range")
    return dt.time_from_usec(usec)


def make_timestamp(year: int, month: int, day: int, hour: int, minute: int,
                   sec: float) -> datetime:
    d = make_date(year, month, day)
    usec = _make_time_usec(hour, minute, sec)
    try:
        return datetime(d.year, d.month, d.day) + timedelta(microseconds=usec)
    except OverflowError:
        raise DatetimeFieldOverflow("timestamp out of range") from None


def make_timestamptz(year: int, month: int, day: int, hour: int, minute: int, sec: float,
                     ctx: ValueContext, zone: str | None = None) -> datetime:
    local = make_timestamp(year, month, day, hour, minute, sec)
    z = ctx.timezone if zone is None else zone_or_error(zone)
    return dt.local_to_utc(local, z)


def make_interval(years: int = 0, months: int = 0, weeks: int = 0, days: int = 0,
                  hours: int = 0, mins: int = 0, secs: float = 0.0) -> Interval:
    if secs != secs or secs in (float("inf"), float("-inf")):
        raise DatetimeFieldOverflow("interval out of range")
    usec = round((hours * 3600 + mins * 60) * 1_000_000 + secs * 1_000_000)
    return make_interval_checked(years * 12 + months, weeks * 7 + days, usec)


# -- time zones --------------------------------------------------------------------------------

def zone_or_error(name: str) -> Any:
    """A zone named in SQL (abbreviation first, then the tz database), or 22023."""
    meaning = timezones.abbreviation(name.lower())
    if isinstance(meaning, tuple):
        return timezones.fixed_offset(meaning[0])
    if isinstance(meaning, str):
        z = timezones.zone_for(meaning)
        if z is not None:
            return z
    z = timezones.zone_for(name)
    if z is None:
        raise InvalidParameterValue(f'time zone "{name}" not recognized')
    return z


def timestamp_at_zone(ts: Any, zone_name: str) -> Any:
    """timestamp AT TIME ZONE zone -> timestamptz (the wall time read in that zone)."""
    if not dt.is_finite(ts):
        return ts
    return dt.local_to_utc(ts, zone_or_error(zone_name))


def timestamptz_at_zone(ts: Any, zone_name: str) -> Any:
    """timestamptz AT TIME ZONE zone -> timestamp (the wall time in that zone)."""
    if not dt.is_finite(ts):
        return ts
    z = zone_or_error(zone_name)
    try:
        return ts.astimezone(z).replace(tzinfo=None)
    except OverflowError:
        raise DatetimeFieldOverflow("timestamp out of range") from None


def to_timestamp(seconds: float) -> Any:
    """to_timestamp(double precision): Unix epoch seconds -> timestamptz."""
    if seconds != seconds:
        raise DatetimeFieldOverflow("timestamp cannot be NaN")
    if seconds == float("inf"):
        return dt.INFINITY
    if seconds == float("-inf"):
        return dt.NEG_INFINITY
    usec = round(seconds * 1_000_000)
    try:
        return (dt.EPOCH + timedelta(microseconds=usec)).replace(tzinfo=dt.UTC)
    except OverflowError:
        raise DatetimeFieldOverflow(
            f'timestamp out of range: "{seconds}"') from None


def isfinite(v: Any) -> bool:
    return dt.is_finite(v)
