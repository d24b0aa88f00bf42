"""date, time, timestamp, timestamptz: input, output, conversions, arithmetic.

Representation:
  date         datetime.date
  time         datetime.time (microseconds)
  timestamp    naive datetime.datetime
  timestamptz  datetime.datetime in UTC (tzinfo=timezone.utc); shown in the session zone
  'infinity' / '-infinity' of date, timestamp and timestamptz are the sentinels INFINITY and
  NEG_INFINITY (below), which compare above / below every date and datetime.

Output uses DateStyle ISO: '2024-01-02', '03:04:05.123', '2024-01-02 03:04:05',
'2024-01-02 03:04:05.123+00' (timestamptz in the context's zone, offset as +HH[:MM[:SS]]).

Known limits (documented divergences from PostgreSQL): years must be 1..9999 (PostgreSQL allows
4713 BC .. 294276 AD; other years raise 22008 "date out of range" / "timestamp out of range"),
and time cannot be '24:00:00' (PostgreSQL allows that one value).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from dsql.errors import (
    DatetimeFieldOverflow,
    InvalidDatetimeFormat,
    InvalidParameterValue,
    InvalidTimeZoneDisplacementValue,
)
from dsql.sql.types import datetime_fields as df
from dsql.sql.types import datetime_parse as dp
from dsql.sql.types import timezones
from dsql.sql.types.context import ValueContext
from dsql.sql.types.datetime_fields import DateTimeError
from dsql.sql.types.interval import (
    USECS_PER_DAY,
    justify_hours,
    make_interval_checked,
)
from dsql.storage.interval import Interval
from dsql.storage.values import INFINITY as _INFINITY
from dsql.storage.values import NEG_INFINITY as _NEG_INFINITY
from dsql.storage.values import InfiniteTime

UTC = timezone.utc
EPOCH_DATE = date(1970, 1, 1)
EPOCH = datetime(1970, 1, 1)
EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
PG_EPOCH = datetime(2000, 1, 1)
JULIAN_OFFSET = 1721425  # date.toordinal() + JULIAN_OFFSET == PostgreSQL's date2j()


# 'infinity' / '-infinity': the storage codecs' sentinels, so values round-trip unchanged.
INFINITY: Any = _INFINITY
NEG_INFINITY: Any = _NEG_INFINITY


def is_finite(v: object) -> bool:
    return not isinstance(v, InfiniteTime)


# -- errors ------------------------------------------------------------------------------------

def parse_error(exc: DateTimeError, text: str, type_name: str) -> Exception:
    """The user-facing error for a decoding failure (DateTimeParseError)."""
    code = exc.code
    if code in (df.FIELD_OVERFLOW, df.MD_FIELD_OVERFLOW):
        err = DatetimeFieldOverflow(f'date/time field value out of range: "{text}"')
        if code == df.MD_FIELD_OVERFLOW:
            err.hint = 'Perhaps you need a different "datestyle" setting.'
        return err
    if code == df.TZDISP_OVERFLOW:
        return InvalidTimeZoneDisplacementValue(
            f'time zone displacement out of range: "{text}"')
    if code == df.BAD_TIMEZONE:
        return InvalidParameterValue(f'time zone "{exc.zone}" not recognized')
    return InvalidDatetimeFormat(f'invalid input syntax for type {type_name}: "{text}"')


def _tm_to_naive(tm: df.TM) -> datetime:
    """REQUIRES: a validated date; hour may be 24 and seconds 60 (they carry)."""
    base = datetime(tm.year, tm.mon, tm.mday)
    if tm.hour or tm.minute or tm.sec or tm.fsec:
        base += timedelta(hours=tm.hour, minutes=tm.minute, seconds=tm.sec,
                          microseconds=tm.fsec)
    return base


# -- fast paths for the ISO forms clients send (anything unusual takes the full parser) -------

_ISO_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)\Z")
_ISO_TS = re.compile(r"(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?"
                     r"(?:(Z)|([+-])(\d\d)(?::?(\d\d))?)?\Z")


def _fast_timestamp(text: str) -> tuple[datetime, int | None] | None:
    """(naive datetime, seconds east or None) for plain ISO text with in-range fields."""
    m = _ISO_TS.match(text)
    if m is None:
        return None
    frac, z, sign, oh, om = m.group(7, 8, 9, 10, 11)
    try:
        value = datetime.fromisoformat(text[:19] + "." + frac.ljust(6, "0") if frac
                                       else text[:19])
    except ValueError:
        return None  # hour 24, second 60, year 0, 30 February...: the full parser decides
    if z is not None:
        return value, 0
    if sign is None:
        return value, None
    hours, minutes = int(oh), int(om or 0)
    if hours > 15 or minutes > 59:
        return None
    east = hours * 3600 + minutes * 60
    return value, (-east if sign == "-" else east)


# -- date --------------------------------------------------------------------------------------

def date_in(text: str, ctx: ValueContext) -> Any:
    """'2024-01-02', 'Jan 2 2024', '1/2/2024', 'today', 'infinity' -> date (or a sentinel)."""
    m = _ISO_DATE.match(text)
    if m is not None and m.group(1) != "0000":
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            pass  # let the full parser produce PostgreSQL's error
    try:
        d = dp.decode_datetime(df.parse_fields(text, df.MAXDATELEN + 1), ctx)
    except DateTimeError as exc:
        raise parse_error(exc, text, "date") from None
    if d.time_only:
        raise InvalidDatetimeFormat(f'invalid input syntax for type date: "{text}"')
    if d.dtype == df.DTK_LATE:
        return INFINITY
    if d.dtype == df.DTK_EARLY:
        return NEG_INFINITY
    if d.dtype == df.DTK_EPOCH:
        return EPOCH_DATE
    tm = d.tm
    if not 1 <= tm.year <= 9999:
        raise DatetimeFieldOverflow(f'date out of range: "{text}"')
    return date(tm.year, tm.mon, tm.mday)


def date_out(d: Any) -> str:
    if d.__class__ is date:
        return d.isoformat()
    return "infinity" if d is INFINITY else "-infinity"


def _date_overflow() -> DatetimeFieldOverflow:
    return DatetimeFieldOverflow("date out of range")


def date_pli(d: Any, days: int) -> Any:
    """date + integer."""
    if d.__class__ is not date:
        return d
    try:
        return d + timedelta(days=days)
    except OverflowError:
        raise _date_overflow() from None


def date_mii(d: Any, days: int) -> Any:
    """date - integer."""
    return date_pli(d, -days)


def date_mi(a: Any, b: Any) -> int:
    """date - date: the number of days between them."""
    if a.__class__ is not date or b.__class__ is not date:
        raise DatetimeFieldOverflow("cannot subtract infinite dates")
    return (a - b).days


def date_to_julian(d: date) -> int:
    return d.toordinal() + JULIAN_OFFSET


# -- time --------------------------------------------------------------------------------------

def time_in(text: str, ctx: ValueContext) -> time:
    """'04:05:06.789', '4:05 PM', '040506', 'allballs', '2024-01-02 04:05' -> time."""
    try:
        d = dp.decode_time_only(df.parse_fields(text, df.MAXDATELEN + 1), ctx)
    except DateTimeError as exc:
        raise parse_error(exc, text, "time") from None
    tm = d.tm
    usec = ((tm.hour * 60 + tm.minute) * 60 + tm.sec) * 1000000 + tm.fsec
    if usec >= USECS_PER_DAY:
        raise DatetimeFieldOverflow(f'date/time field value out of range: "{text}"')
    return time_from_usec(usec)


def time_from_usec(usec: int) -> time:
    """REQUIRES: 0 <= usec < one day."""
    assert 0 <= usec < USECS_PER_DAY, usec
    s, us = divmod(usec, 1000000)
    m, s = divmod(s, 60)
    h, m = divmod(m, 60)
    return time(h, m, s, us)


def time_to_usec(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1000000 + t.microsecond


def time_out(t: time) -> str:
    s = t.isoformat()
    return s.rstrip("0") if t.microsecond else s


def time_pl_interval(t: time, iv: Interval) -> time:
    """time + interval wraps around midnight; months and days are ignored."""
    return time_from_usec((time_to_usec(t) + iv.microseconds) % USECS_PER_DAY)


def time_mi_interval(t: time, iv: Interval) -> time:
    return time_from_usec((time_to_usec(t) - iv.microseconds) % USECS_PER_DAY)


def time_mi_time(a: time, b: time) -> Interval:
    return Interval(0, 0, time_to_usec(a) - time_to_usec(b))


def time_to_interval(t: time) -> Interval:
    return Interval(0, 0, time_to_usec(t))


def interval_to_time(iv: Interval) -> time:
    return time_from_usec(iv.microseconds % USECS_PER_DAY)


# -- timestamp ---------------------------------------------------------------------------------

def _decode_timestamp(text: str, ctx: ValueContext, type_name: str) -> dp.Decoded:
    try:
        d = dp.decode_datetime(df.parse_fields(text), ctx)
    except DateTimeError as exc:
        raise parse_error(exc, text, type_name) from None
    if d.time_only:
        raise InvalidDatetimeFormat(f'invalid input syntax for type {type_name}: "{text}"')
    return d


def _ts_range_error(text: str) -> DatetimeFieldOverflow:
    return DatetimeFieldOverflow(f'timestamp out of range: "{text}"')


def timestamp_in(text: str, ctx: ValueContext) -> Any:
    """'2024-01-02 03:04:05.6', '2024-01-02T03:04:05+02' (zone ignored), 'epoch', 'infinity'."""
    fast = _fast_timestamp(text)
    if fast is not None:
        return fast[0]
    d = _decode_timestamp(text, ctx, "timestamp")
    if d.dtype == df.DTK_LATE:
        return INFINITY
    if d.dtype == df.DTK_EARLY:
        return NEG_INFINITY
    if d.dtype == df.DTK_EPOCH:
        return EPOCH
    tm = d.tm
    if not 1 <= tm.year <= 9999:
        raise _ts_range_error(text)
    try:
        return _tm_to_naive(tm)
    except OverflowError:
        raise _ts_range_error(text) from None


def timestamptz_in(text: str, ctx: ValueContext) -> Any:
    """Like timestamp_in; a zone in the text (or the session's) converts the value to UTC."""
    fast = _fast_timestamp(text)
    if fast is not None:
        local, east = fast
        if east is None:
            return local_to_utc(local, ctx.timezone)
        try:
            return (local - timedelta(seconds=east)).replace(tzinfo=UTC)
        except OverflowError:
            pass
    d = _decode_timestamp(text, ctx, "timestamp with time zone")
    if d.dtype == df.DTK_LATE:
        return INFINITY
    if d.dtype == df.DTK_EARLY:
        return NEG_INFINITY
    if d.dtype == df.DTK_EPOCH:
        return EPOCH_UTC
    tm = d.tm
    if not 1 <= tm.year <= 9999:
        raise _ts_range_error(text)
    assert d.tz is not None
    try:
        return (_tm_to_naive(tm) + timedelta(seconds=d.tz)).replace(tzinfo=UTC)
    except OverflowError:
        raise _ts_range_error(text) from None


def timestamp_out(ts: Any) -> str:
    if ts.__class__ is datetime:
        s = ts.isoformat(" ")
        return s.rstrip("0") if ts.microsecond else s
    return "infinity" if ts is INFINITY else "-infinity"


def format_offset(east_seconds: int) -> str:
    """'+00', '-05', '+05:30', '-04:56:02' (EncodeTimezone)."""
    sign = "-" if east_seconds < 0 else "+"
    s = abs(east_seconds)
    hh, rem = divmod(s, 3600)
    mm, ss = divmod(rem, 60)
    if ss:
        return f"{sign}{hh:02d}:{mm:02d}:{ss:02d}"
    if mm:
        return f"{sign}{hh:02d}:{mm:02d}"
    return f"{sign}{hh:02d}"


def to_local(ts: datetime, ctx: ValueContext) -> tuple[datetime, int]:
    """(naive local time, seconds east of UTC) of a UTC timestamptz in the session zone."""
    zone = ctx.timezone
    if zone is UTC:
        return ts.replace(tzinfo=None), 0
    try:
        local = ts.astimezone(zone)
    except OverflowError:
        raise DatetimeFieldOverflow("timestamp out of range") from None
    off = local.utcoffset()
    assert off is not None
    return local.replace(tzinfo=None), off.days * 86400 + off.seconds


def timestamptz_out(ts: Any, ctx: ValueContext) -> str:
    if ts.__class__ is not datetime:
        return "infinity" if ts is INFINITY else "-infinity"
    if ctx.timezone is UTC:
        s = ts.isoformat(" ")[:-6]
        return (s.rstrip("0") if ts.microsecond else s) + "+00"
    local, east = to_local(ts, ctx)
    s = local.isoformat(" ")
    if local.microsecond:
        s = s.rstrip("0")
    return s + format_offset(east)


def local_to_utc(local: datetime, zone: Any) -> datetime:
    """A naive local time in `zone` as a UTC-aware datetime (PostgreSQL's DST rules)."""
    try:
        east = timezones.utc_offset_for_local(local, zone)
        return (local - timedelta(seconds=east)).replace(tzinfo=UTC)
    except OverflowError:
        raise DatetimeFieldOverflow("timestamp out of range") from None


# -- conversions -------------------------------------------------------------------------------

def date_to_timestamp(d: Any) -> Any:
    if d.__class__ is not date:
        return d
    return datetime(d.year, d.month, d.day)


def date_to_timestamptz(d: Any, ctx: ValueContext) -> Any:
    if d.__class__ is not date:
        return d
    return local_to_utc(datetime(d.year, d.month, d.day), ctx.timezone)


def timestamp_to_date(ts: Any) -> Any:
    if ts.__class__ is not datetime:
        return ts
    return ts.date()


def timestamptz_to_date(ts: Any, ctx: ValueContext) -> Any:
    if ts.__class__ is not datetime:
        return ts
    return to_local(ts, ctx)[0].date()


def timestamp_to_timestamptz(ts: Any, ctx: ValueContext) -> Any:
    if ts.__class__ is not datetime:
        return ts
    return local_to_utc(ts, ctx.timezone)


def timestamptz_to_timestamp(ts: Any, ctx: ValueContext) -> Any:
    if ts.__class__ is not datetime:
        return ts
    return to_local(ts, ctx)[0]


def timestamp_to_time(ts: Any) -> time | None:
    """The time of day; NULL (None) for an infinite timestamp, as in PostgreSQL."""
    if ts.__class__ is not datetime:
        return None
    return ts.time()


def timestamptz_to_time(ts: Any, ctx: ValueContext) -> time | None:
    if ts.__class__ is not datetime:
        return None
    return to_local(ts, ctx)[0].time()


def date_pl_time(d: Any, t: time) -> Any:
    """date + time -> timestamp."""
    if d.__class__ is not date:
        return d
    return datetime.combine(d, t)


# -- arithmetic with intervals -----------------------------------------------------------------

def _ts_overflow() -> DatetimeFieldOverflow:
    return DatetimeFieldOverflow("timestamp out of range")


def add_months(y: int, m: int, d: int, months: int) -> tuple[int, int, int]:
    """Moves (y, m, d) by whole months, clamping the day to the length of the target month."""
    total = y * 12 + (m - 1) + months
    y, m = divmod(total, 12)
    m += 1
    limit = df.DAY_TAB[df.isleap(y)][m - 1]
    return y, m, min(d, limit)


def _shift_local(local: datetime, months: int, days: int) -> datetime:
    if months:
        y, m, d = add_months(local.year, local.month, local.day, months)
        if not 1 <= y <= 9999:
            raise _ts_overflow()
        local = local.replace(year=y, month=m, day=d)
    if days:
        local = local + timedelta(days=days)
    return local


def timestamp_pl_interval(ts: Any, iv: Interval) -> Any:
    """timestamp + interval: months (clamped to month end), then days, then time."""
    if ts.__class__ is not datetime:
        return ts
    try:
        local = _shift_local(ts, iv.months, iv.days)
        return local + timedelta(microseconds=iv.microseconds)
    except OverflowError:
        raise _ts_overflow() from None


def timestamp_mi_interval(ts: Any, iv: Interval) -> Any:
    return timestamp_pl_interval(ts, Interval(-iv.months, -iv.days, -iv.microseconds))


def timestamptz_pl_interval(ts: Any, iv: Interval, ctx: ValueContext) -> Any:
    """timestamptz + interval: months and days move the local time in the session zone."""
    if ts.__class__ is not datetime:
        return ts
    try:
        if iv.months or iv.days:
            zone = ctx.timezone
            local, _ = to_local(ts, ctx)
            local = _shift_local(local, iv.months, iv.days)
            ts = local_to_utc(local, zone)
        return ts + timedelta(microseconds=iv.microseconds)
    except OverflowError:
        raise _ts_overflow() from None


def timestamptz_mi_interval(ts: Any, iv: Interval, ctx: ValueContext) -> Any:
    return timestamptz_pl_interval(ts, Interval(-iv.months, -iv.days, -iv.microseconds), ctx)


def date_pl_interval(d: Any, iv: Interval) -> Any:
    """date + interval -> timestamp."""
    return timestamp_pl_interval(date_to_timestamp(d), iv)


def date_mi_interval(d: Any, iv: Interval) -> Any:
    return timestamp_mi_interval(date_to_timestamp(d), iv)


def _delta_usec(a: datetime, b: datetime) -> int:
    delta = a - b
    return (delta.days * 86400 + delta.seconds) * 1000000 + delta.microseconds


def timestamp_mi(a: Any, b: Any) -> Interval:
    """timestamp - timestamp: an interval of days and time (justify_hours applied)."""
    if a.__class__ is not datetime or b.__class__ is not datetime:
        raise DatetimeFieldOverflow("cannot subtract infinite timestamps")
    return justify_hours(make_interval_checked(0, 0, _delta_usec(a, b)))


timestamptz_mi = timestamp_mi


def epoch_usec(ts: datetime) -> int:
    """Microseconds since 1970-01-01 (naive = as UTC)."""
    if ts.tzinfo is not None:
        ts = ts.replace(tzinfo=None)
    return _delta_usec(ts, EPOCH)


def from_epoch_usec(usec: int) -> datetime:
    try:
        return EPOCH + timedelta(microseconds=usec)
    except OverflowError:
        raise _ts_overflow() from None


# -- typmods (precision of fractional seconds) --------------------------------------------------

_SCALES = [1000000, 100000, 10000, 1000, 100, 10, 1]


def round_usec(usec: int, precision: int) -> int:
    """Rounds microseconds since 2000-01-01 half away from zero to `precision` digits."""
    assert 0 <= precision <= 6, precision
    scale = _SCALES[precision]
    half = scale // 2
    if usec >= 0:
        return (usec + half) // scale * scale
    return -((-usec + half) // scale * scale)


def timestamp_apply_typmod(ts: Any, precision: int) -> Any:
    """timestamp(p) / timestamptz(p): rounds the fractional seconds (PostgreSQL's way)."""
    if ts.__class__ is not datetime or precision >= 6:
        return ts
    naive = ts.replace(tzinfo=None)
    usec = _delta_usec(naive, PG_EPOCH)
    rounded = round_usec(usec, precision)
    try:
        out = PG_EPOCH + timedelta(microseconds=rounded)
    except OverflowError:
        raise _ts_overflow() from None
    return out.replace(tzinfo=ts.tzinfo)


def time_apply_typmod(t: time, precision: int) -> time:
    if precision >= 6:
        return t
    usec = round_usec(time_to_usec(t), precision)
    if usec >= USECS_PER_DAY:
        raise DatetimeFieldOverflow("time out of range")
    return time_from_usec(usec)
