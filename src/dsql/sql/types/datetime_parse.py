"""Date/time text input, decoded the way PostgreSQL's datetime.c does it.

Input is split into fields (`parse_fields`, PostgreSQL's ParseDateTime) typed as number, string,
date, time, signed zone or special; `decode_datetime` and `decode_time_only` then interpret
the fields in context with bit masks of what has been seen (DecodeDateTime / DecodeTimeOnly),
so that the same strings are accepted, with the same meaning, and the same ones rejected:
'2024-01-02 03:04:05.6+02', 'January 8, 1999', '1/8/1999' (MDY), '19990108', 'J2451187',
'2024-01-02T03:04:05Z', 'today', 'epoch', 'infinity', zone names and abbreviations...

Failures raise DateTimeError with PostgreSQL's internal code; the type modules turn it into
the user-facing error (22007 invalid syntax, 22008 field out of range, 22009 bad zone
displacement, 22023 unknown zone) carrying the original string.

Years outside 1..9999 (and BC dates) decode fine here but cannot become Python dates; the type
modules report them as out of range.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dsql.sql.types import timezones
from dsql.sql.types.context import ValueContext
from dsql.sql.types.datetime_fields import (
    ADBC,
    AM,
    AMPM,
    BAD_FORMAT,
    BAD_TIMEZONE,
    BC,
    DATE_M,
    DAY,
    DIGITS,
    DOW,
    DTK_DATE,
    DTK_EARLY,
    DTK_EPOCH,
    DTK_JULIAN,
    DTK_LATE,
    DTK_NOW,
    DTK_TIME,
    DTK_TODAY,
    DTK_TOMORROW,
    DTK_YESTERDAY,
    DTK_ZULU,
    DTZ,
    DTZMOD,
    DYNTZ,
    F_DATE,
    F_NUMBER,
    F_SPECIAL,
    F_STRING,
    F_TIME,
    F_TZ,
    FIELD_OVERFLOW,
    HR24,
    IGNORE_DTF,
    ISOTIME,
    MONTH,
    PM,
    RESERV,
    TIME_M,
    TM,
    TZ,
    UNITS,
    UNKNOWN_FIELD,
    USECS_PER_DAY,
    DateTimeError,
    DecodeState,
    M,
    current_local,
    decode_date,
    decode_number,
    decode_number_field,
    decode_special,
    decode_time,
    decode_timezone,
    decode_timezone_abbrev,
    determine_tz_offset,
    j2date,
    parse_fraction,
    strtol,
    time_overflows,
    validate_date,
)

# -- DecodeDateTime -----------------------------------------------------------------------------

class Decoded:
    """The result of decoding: dtype (DTK_DATE, DTK_EPOCH, DTK_LATE, DTK_EARLY), the fields and
    the PostgreSQL-signed zone offset (seconds west of UTC; None if the input named none)."""

    __slots__ = ("dtype", "tm", "tz", "time_only")

    def __init__(self, dtype: int, tm: TM, tz: int | None, time_only: bool = False) -> None:
        self.dtype = dtype
        self.tm = tm
        self.tz = tz
        self.time_only = time_only


def decode_datetime(fields: list[tuple[str, int]], ctx: ValueContext) -> Decoded:
    """Interprets fields as a date and time (DecodeDateTime); tz defaults to the session zone."""
    tm = TM()
    st = DecodeState(ctx.date_order)
    fmask = 0
    ptype = 0
    mer = HR24
    have_text_month = False
    isjulian = False
    bc = False
    tz = 0
    named_tz = None
    abbrev_zone: str | None = None
    abbrev_token = ""
    dtype = DTK_DATE
    nf = len(fields)
    for i in range(nf):
        field, ftype = fields[i]
        tmask = 0
        if ftype == F_DATE:
            if ptype == DTK_JULIAN:
                jday, cp, ovf = strtol(field, 0)
                if ovf or jday < 0:
                    raise DateTimeError(FIELD_OVERFLOW)
                tm.year, tm.mon, tm.mday = j2date(jday)
                isjulian = True
                tz = decode_timezone(field[cp:])
                tmask = DATE_M | TIME_M | M(TZ)
                ptype = 0
            elif ptype != 0 or (fmask & (M(MONTH) | M(DAY))) == (M(MONTH) | M(DAY)):
                if field[0] in DIGITS or ptype != 0:
                    if ptype != 0:
                        if ptype != DTK_TIME:
                            raise DateTimeError(BAD_FORMAT)
                        ptype = 0
                    if (fmask & TIME_M) == TIME_M:
                        raise DateTimeError(BAD_FORMAT)
                    dash = field.find("-")
                    if dash < 0:
                        raise DateTimeError(BAD_FORMAT)
                    tz = decode_timezone(field[dash:])
                    _, tmask = decode_number_field(field[:dash], fmask, tm, st)
                    tmask |= M(TZ)
                else:
                    named_tz = timezones.zone_for(field)
                    if named_tz is None:
                        raise DateTimeError(BAD_TIMEZONE, field)
                    tmask = M(TZ)
            else:
                tmask = decode_date(field, fmask, tm, st)
        elif ftype == F_TIME:
            if ptype != 0:
                if ptype != DTK_TIME:
                    raise DateTimeError(BAD_FORMAT)
                ptype = 0
            tmask = decode_time(field, tm)
            if time_overflows(tm.hour, tm.minute, tm.sec, tm.fsec):
                raise DateTimeError(FIELD_OVERFLOW)
        elif ftype == F_TZ:
            tz = decode_timezone(field)
            tmask = M(TZ)
        elif ftype == F_NUMBER:
            if ptype != 0:
                value, cp, ovf = strtol(field, 0)
                if ovf:
                    raise DateTimeError(FIELD_OVERFLOW)
                if cp < len(field) and field[cp] != ".":
                    raise DateTimeError(BAD_FORMAT)
                if ptype == DTK_JULIAN:
                    if value < 0:
                        raise DateTimeError(FIELD_OVERFLOW)
                    tmask = DATE_M
                    tm.year, tm.mon, tm.mday = j2date(value)
                    isjulian = True
                    if cp < len(field):
                        t = parse_fraction(field[cp:]) * USECS_PER_DAY
                        _dt2time(t, tm)
                        tmask |= TIME_M
                elif ptype == DTK_TIME:
                    _, tmask = decode_number_field(field, fmask | DATE_M, tm, st)
                    if tmask != TIME_M:
                        raise DateTimeError(BAD_FORMAT)
                else:
                    raise DateTimeError(BAD_FORMAT)
                ptype = 0
                dtype = DTK_DATE
            else:
                flen = len(field)
                dot = field.find(".")
                if dot >= 0 and not fmask & DATE_M:
                    tmask = decode_date(field, fmask, tm, st)
                elif dot >= 0 and dot > 2:
                    _, tmask = decode_number_field(field, fmask, tm, st)
                elif flen >= 6 and (not fmask & DATE_M or not fmask & TIME_M):
                    _, tmask = decode_number_field(field, fmask, tm, st)
                else:
                    tmask = decode_number(field, have_text_month, fmask, tm, st)
        elif ftype in (F_STRING, F_SPECIAL):
            typ, val, zone_name = decode_timezone_abbrev(field)
            if typ == UNKNOWN_FIELD:
                typ, val = decode_special(field)
            if typ == IGNORE_DTF:
                continue
            tmask = M(typ)
            if typ == RESERV:
                if val == DTK_NOW:
                    tmask = DATE_M | TIME_M | M(TZ)
                    dtype = DTK_DATE
                    local, tz = current_local(ctx)
                    _set_from_datetime(tm, local)
                elif val in (DTK_YESTERDAY, DTK_TODAY, DTK_TOMORROW):
                    tmask = DATE_M
                    dtype = DTK_DATE
                    local, _ = current_local(ctx)
                    d = local.date().toordinal() + {DTK_YESTERDAY: -1, DTK_TODAY: 0,
                                                    DTK_TOMORROW: 1}[val]
                    tm.year, tm.mon, tm.mday = j2date(d + 1721425)
                elif val == DTK_ZULU:
                    tmask = TIME_M | M(TZ)
                    dtype = DTK_DATE
                    tm.hour = tm.minute = tm.sec = 0
                    tz = 0
                elif val in (DTK_EPOCH, DTK_LATE, DTK_EARLY):
                    tmask = DATE_M | TIME_M | M(TZ)
                    dtype = val
                else:  # pragma: no cover - the tables hold no other reserved words
                    raise DateTimeError(BAD_FORMAT)
            elif typ == MONTH:
                if fmask & M(MONTH) and not have_text_month and not fmask & M(DAY) \
                        and 1 <= tm.mon <= 31:
                    tm.mday = tm.mon
                    tmask = M(DAY)
                have_text_month = True
                tm.mon = val
            elif typ == DTZMOD:
                tmask |= M(DTZ)
                tm.isdst = 1
                tz -= val
            elif typ == DTZ:
                tmask |= M(TZ)
                tm.isdst = 1
                tz = -val
            elif typ == TZ:
                tm.isdst = 0
                tz = -val
            elif typ == DYNTZ:
                tmask |= M(TZ)
                abbrev_zone = zone_name
                abbrev_token = field
            elif typ == AMPM:
                mer = val
            elif typ == ADBC:
                bc = val == BC
            elif typ == DOW:
                tm.wday = val
            elif typ == UNITS:
                tmask = 0
                if ptype != 0:
                    raise DateTimeError(BAD_FORMAT)
                ptype = val
            elif typ == ISOTIME:
                tmask = 0
                if (fmask & DATE_M) != DATE_M:
                    raise DateTimeError(BAD_FORMAT)
                if ptype != 0:
                    raise DateTimeError(BAD_FORMAT)
                ptype = val
            elif typ == UNKNOWN_FIELD:
                named_tz = timezones.zone_for(field)
                if named_tz is None:
                    raise DateTimeError(BAD_FORMAT)
                tmask = M(TZ)
            else:
                raise DateTimeError(BAD_FORMAT)
        else:
            raise DateTimeError(BAD_FORMAT)
        if tmask & fmask:
            raise DateTimeError(BAD_FORMAT)
        fmask |= tmask
    if ptype != 0:
        raise DateTimeError(BAD_FORMAT)
    result_tz: int | None = tz if fmask & M(TZ) else None
    if dtype == DTK_DATE:
        validate_date(fmask, isjulian, st.is2digits, bc, tm)
        if mer != HR24 and tm.hour > 12:
            raise DateTimeError(FIELD_OVERFLOW)
        if mer == AM and tm.hour == 12:
            tm.hour = 0
        elif mer == PM and tm.hour != 12:
            tm.hour += 12
        if (fmask & DATE_M) != DATE_M:
            if (fmask & TIME_M) == TIME_M:
                return Decoded(dtype, tm, result_tz, time_only=True)
            raise DateTimeError(BAD_FORMAT)
        if named_tz is not None:
            if fmask & M(DTZMOD):
                raise DateTimeError(BAD_FORMAT)
            result_tz = determine_tz_offset(tm, named_tz)
        if abbrev_zone is not None:
            if fmask & M(DTZMOD):
                raise DateTimeError(BAD_FORMAT)
            result_tz = _abbrev_tz_offset(tm, abbrev_zone, abbrev_token)
        if result_tz is None:
            if fmask & M(DTZMOD):
                raise DateTimeError(BAD_FORMAT)
            result_tz = determine_tz_offset(tm, ctx.timezone)
    return Decoded(dtype, tm, result_tz)


def _abbrev_tz_offset(tm: TM, zone_name: str, abbrev: str) -> int:
    """DetermineTimeZoneAbbrevOffset: what a dynamic abbreviation (MSK...) meant then."""
    zone = timezones.zone_for(zone_name)
    if zone is None:
        return 0
    tz = determine_tz_offset(tm, zone)
    try:
        local = datetime(tm.year, tm.mon, tm.mday) + timedelta(
            hours=tm.hour, minutes=tm.minute, seconds=tm.sec)
    except (ValueError, OverflowError):
        return tz
    utc_seconds = int((local - _UNIX_EPOCH).total_seconds()) + tz
    east = timezones.abbreviation_offset(zone_name, abbrev, utc_seconds)
    return tz if east is None else -east


_UNIX_EPOCH = datetime(1970, 1, 1)


def _set_from_datetime(tm: TM, dt: datetime) -> None:
    tm.year, tm.mon, tm.mday = dt.year, dt.month, dt.day
    tm.hour, tm.minute, tm.sec, tm.fsec = dt.hour, dt.minute, dt.second, dt.microsecond


def _dt2time(usec: float, tm: TM) -> None:
    t = int(usec)
    tm.hour = t // 3_600_000_000
    t -= tm.hour * 3_600_000_000
    tm.minute = t // 60_000_000
    t -= tm.minute * 60_000_000
    tm.sec = t // 1_000_000
    tm.fsec = t - tm.sec * 1_000_000


# -- DecodeTimeOnly -----------------------------------------------------------------------------

def decode_time_only(fields: list[tuple[str, int]], ctx: ValueContext) -> Decoded:
    """Interprets fields as a time of day, optionally with a date and zone (DecodeTimeOnly)."""
    tm = TM()
    st = DecodeState(ctx.date_order)
    fmask = 0
    ptype = 0
    mer = HR24
    isjulian = False
    bc = False
    tz = 0
    named_tz = None
    abbrev_zone: str | None = None
    dtype = DTK_TIME
    nf = len(fields)
    for i in range(nf):
        field, ftype = fields[i]
        tmask = 0
        if ftype == F_DATE:
            if i == 0 and nf >= 2 and (fields[nf - 1][1] == F_DATE or fields[1][1] == F_TIME):
                tmask = decode_date(field, fmask, tm, st)
            elif field[0] in DIGITS:
                if (fmask & TIME_M) == TIME_M:
                    raise DateTimeError(BAD_FORMAT)
                dash = field.find("-")
                if dash < 0:
                    raise DateTimeError(BAD_FORMAT)
                tz = decode_timezone(field[dash:])
                _, tmask = decode_number_field(field[:dash], fmask | DATE_M, tm, st)
                tmask |= M(TZ)
            else:
                named_tz = timezones.zone_for(field)
                if named_tz is None:
                    raise DateTimeError(BAD_TIMEZONE, field)
                tmask = M(TZ)
        elif ftype == F_TIME:
            if ptype != 0:
                if ptype != DTK_TIME:
                    raise DateTimeError(BAD_FORMAT)
                ptype = 0
            tmask = decode_time(field, tm)
        elif ftype == F_TZ:
            tz = decode_timezone(field)
            tmask = M(TZ)
        elif ftype == F_NUMBER:
            if ptype != 0:
                value, cp, ovf = strtol(field, 0)
                if ovf:
                    raise DateTimeError(FIELD_OVERFLOW)
                if cp < len(field) and field[cp] != ".":
                    raise DateTimeError(BAD_FORMAT)
                if ptype == DTK_JULIAN:
                    if value < 0:
                        raise DateTimeError(FIELD_OVERFLOW)
                    tmask = DATE_M
                    tm.year, tm.mon, tm.mday = j2date(value)
                    isjulian = True
                    if cp < len(field):
                        _dt2time(parse_fraction(field[cp:]) * USECS_PER_DAY, tm)
                        tmask |= TIME_M
                elif ptype == DTK_TIME:
                    _, tmask = decode_number_field(field, fmask | DATE_M, tm, st)
                    if tmask != TIME_M:
                        raise DateTimeError(BAD_FORMAT)
                else:
                    raise DateTimeError(BAD_FORMAT)
                ptype = 0
                dtype = DTK_DATE
            else:
                flen = len(field)
                dot = field.find(".")
                if dot >= 0:
                    if i == 0 and nf >= 2 and fields[nf - 1][1] == F_DATE:
                        tmask = decode_date(field, fmask, tm, st)
                    elif dot > 2:
                        _, tmask = decode_number_field(field, fmask | DATE_M, tm, st)
                    else:
                        raise DateTimeError(BAD_FORMAT)
                elif flen > 4:
                    _, tmask = decode_number_field(field, fmask | DATE_M, tm, st)
                else:
                    tmask = decode_number(field, False, fmask | DATE_M, tm, st)
        elif ftype in (F_STRING, F_SPECIAL):
            typ, val, zone_name = decode_timezone_abbrev(field)
            if typ == UNKNOWN_FIELD:
                typ, val = decode_special(field)
            if typ == IGNORE_DTF:
                continue
            tmask = M(typ)
            if typ == RESERV:
                if val == DTK_NOW:
                    tmask = TIME_M
                    dtype = DTK_TIME
                    local, _ = current_local(ctx)
                    _set_from_datetime(tm, local)
                elif val == DTK_ZULU:
                    tmask = TIME_M | M(TZ)
                    dtype = DTK_TIME
                    tm.hour = tm.minute = tm.sec = 0
                    tm.isdst = 0
                else:
                    raise DateTimeError(BAD_FORMAT)
            elif typ == DTZMOD:
                tmask |= M(DTZ)
                tm.isdst = 1
                tz -= val
            elif typ == DTZ:
                tmask |= M(TZ)
                tm.isdst = 1
                tz = -val
            elif typ == TZ:
                tm.isdst = 0
                tz = -val
            elif typ == DYNTZ:
                tmask |= M(TZ)
                abbrev_zone = zone_name
            elif typ == AMPM:
                mer = val
            elif typ == ADBC:
                bc = val == BC
            elif typ in (UNITS, ISOTIME):
                tmask = 0
                if ptype != 0:
                    raise DateTimeError(BAD_FORMAT)
                ptype = val
            elif typ == UNKNOWN_FIELD:
                named_tz = timezones.zone_for(field)
                if named_tz is None:
                    raise DateTimeError(BAD_FORMAT)
                tmask = M(TZ)
            else:
                raise DateTimeError(BAD_FORMAT)
        else:
            raise DateTimeError(BAD_FORMAT)
        if tmask & fmask:
            raise DateTimeError(BAD_FORMAT)
        fmask |= tmask
    if ptype != 0:
        raise DateTimeError(BAD_FORMAT)
    validate_date(fmask, isjulian, st.is2digits, bc, tm)
    if mer != HR24 and tm.hour > 12:
        raise DateTimeError(FIELD_OVERFLOW)
    if mer == AM and tm.hour == 12:
        tm.hour = 0
    elif mer == PM and tm.hour != 12:
        tm.hour += 12
    if time_overflows(tm.hour, tm.minute, tm.sec, tm.fsec):
        raise DateTimeError(FIELD_OVERFLOW)
    if (fmask & TIME_M) != TIME_M:
        raise DateTimeError(BAD_FORMAT)
    del named_tz, abbrev_zone  # the zone only matters for time with time zone
    return Decoded(dtype, tm, tz if fmask & M(TZ) else None)
