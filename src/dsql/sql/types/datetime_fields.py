"""Date/time input, lower layer: PostgreSQL's keyword tables, field splitting and decoders.

`parse_fields` splits input into typed fields exactly as PostgreSQL's ParseDateTime does; the
decoders here (decode_date, decode_number, decode_number_field, decode_time_common,
decode_timezone, validate_date) interpret single fields, and datetime_parse combines them.
Failures raise DateTimeError with PostgreSQL's internal DTERR code. Also here: Julian day
arithmetic (date2j / j2date) and the session's current time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import timezone as _tz

from dsql.sql.types import timezones
from dsql.sql.types.context import ValueContext

# -- error codes (datetime.h DTERR_*) -----------------------------------------------------------
BAD_FORMAT = -1
FIELD_OVERFLOW = -2
MD_FIELD_OVERFLOW = -3
INTERVAL_OVERFLOW = -4
TZDISP_OVERFLOW = -5
BAD_TIMEZONE = -6


class DateTimeError(Exception):
    """A decoding failure: `code` is one of the DTERR-like constants above."""

    def __init__(self, code: int, zone: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.zone = zone


# -- field types from parse_fields --------------------------------------------------------------
F_NUMBER, F_STRING, F_DATE, F_TIME, F_TZ, F_SPECIAL = range(6)

# -- token types (their bits form the masks) ----------------------------------------------------
RESERV, MONTH, YEAR, DAY, JULIAN, TZ, DTZ, DYNTZ, IGNORE_DTF, AMPM, HOUR, MINUTE, SECOND, \
    MILLISECOND, MICROSECOND, DOY, DOW, UNITS, ADBC, AGO = range(20)
ISOTIME, WEEK, DECADE, CENTURY, MILLENNIUM, DTZMOD = 23, 24, 25, 26, 27, 28
UNKNOWN_FIELD = 31


def M(t: int) -> int:
    return 1 << t


DATE_M = M(YEAR) | M(MONTH) | M(DAY)
TIME_M = M(HOUR) | M(MINUTE) | M(SECOND) | M(MILLISECOND) | M(MICROSECOND)
ALL_SECS_M = M(SECOND) | M(MILLISECOND) | M(MICROSECOND)

# -- token values (dtype and unit codes) --------------------------------------------------------
DTK_NUMBER, DTK_STRING, DTK_DATE, DTK_TIME, DTK_TZ, DTK_AGO, DTK_SPECIAL = 0, 1, 2, 3, 4, 5, 6
DTK_EARLY, DTK_LATE, DTK_EPOCH, DTK_NOW, DTK_YESTERDAY, DTK_TODAY, DTK_TOMORROW, DTK_ZULU = \
    9, 10, 11, 12, 13, 14, 15, 16
DTK_DELTA, DTK_SECOND, DTK_MINUTE, DTK_HOUR, DTK_DAY, DTK_WEEK, DTK_MONTH, DTK_QUARTER, \
    DTK_YEAR, DTK_DECADE, DTK_CENTURY, DTK_MILLENNIUM, DTK_MILLISEC, DTK_MICROSEC, DTK_JULIAN, \
    DTK_DOW, DTK_DOY, DTK_TZ_HOUR, DTK_TZ_MINUTE, DTK_ISOYEAR, DTK_ISODOW = range(17, 38)
AM, PM, HR24 = 0, 1, 2
AD, BC = 0, 1

TOKMAXLEN = 10

DATE_TOKENS: dict[str, tuple[int, int]] = {
    "-infinity": (RESERV, DTK_EARLY), "ad": (ADBC, AD), "allballs": (RESERV, DTK_ZULU),
    "am": (AMPM, AM), "apr": (MONTH, 4), "april": (MONTH, 4), "at": (IGNORE_DTF, 0),
    "aug": (MONTH, 8), "august": (MONTH, 8), "bc": (ADBC, BC), "d": (UNITS, DTK_DAY),
    "dec": (MONTH, 12), "december": (MONTH, 12), "dow": (UNITS, DTK_DOW),
    "doy": (UNITS, DTK_DOY), "dst": (DTZMOD, 3600), "epoch": (RESERV, DTK_EPOCH),
    "feb": (MONTH, 2), "february": (MONTH, 2), "fri": (DOW, 5), "friday": (DOW, 5),
    "h": (UNITS, DTK_HOUR), "infinity": (RESERV, DTK_LATE), "isodow": (UNITS, DTK_ISODOW),
    "isoyear": (UNITS, DTK_ISOYEAR), "j": (UNITS, DTK_JULIAN), "jan": (MONTH, 1),
    "january": (MONTH, 1), "jd": (UNITS, DTK_JULIAN), "jul": (MONTH, 7),
    "julian": (UNITS, DTK_JULIAN), "july": (MONTH, 7), "jun": (MONTH, 6), "june": (MONTH, 6),
    "m": (UNITS, DTK_MONTH), "mar": (MONTH, 3), "march": (MONTH, 3), "may": (MONTH, 5),
    "mm": (UNITS, DTK_MINUTE), "mon": (DOW, 1), "monday": (DOW, 1), "nov": (MONTH, 11),
    "november": (MONTH, 11), "now": (RESERV, DTK_NOW), "oct": (MONTH, 10),
    "october": (MONTH, 10), "on": (IGNORE_DTF, 0), "pm": (AMPM, PM), "s": (UNITS, DTK_SECOND),
    "sat": (DOW, 6), "saturday": (DOW, 6), "sep": (MONTH, 9), "sept": (MONTH, 9),
    "september": (MONTH, 9), "sun": (DOW, 0), "sunday": (DOW, 0), "t": (ISOTIME, DTK_TIME),
    "thu": (DOW, 4), "thur": (DOW, 4), "thurs": (DOW, 4), "thursday": (DOW, 4),
    "today": (RESERV, DTK_TODAY), "tomorrow": (RESERV, DTK_TOMORROW), "tue": (DOW, 2),
    "tues": (DOW, 2), "tuesday": (DOW, 2), "wed": (DOW, 3), "wednesday": (DOW, 3),
    "weds": (DOW, 3), "y": (UNITS, DTK_YEAR), "yesterday": (RESERV, DTK_YESTERDAY),
}

DELTA_TOKENS: dict[str, tuple[int, int]] = {
    "@": (IGNORE_DTF, 0), "ago": (AGO, 0), "c": (UNITS, DTK_CENTURY),
    "cent": (UNITS, DTK_CENTURY), "centuries": (UNITS, DTK_CENTURY),
    "century": (UNITS, DTK_CENTURY), "d": (UNITS, DTK_DAY), "day": (UNITS, DTK_DAY),
    "days": (UNITS, DTK_DAY), "dec": (UNITS, DTK_DECADE), "decade": (UNITS, DTK_DECADE),
    "decades": (UNITS, DTK_DECADE), "decs": (UNITS, DTK_DECADE), "h": (UNITS, DTK_HOUR),
    "hour": (UNITS, DTK_HOUR), "hours": (UNITS, DTK_HOUR), "hr": (UNITS, DTK_HOUR),
    "hrs": (UNITS, DTK_HOUR), "m": (UNITS, DTK_MINUTE), "microsecon": (UNITS, DTK_MICROSEC),
    "mil": (UNITS, DTK_MILLENNIUM), "millennia": (UNITS, DTK_MILLENNIUM),
    "millennium": (UNITS, DTK_MILLENNIUM), "millisecon": (UNITS, DTK_MILLISEC),
    "mils": (UNITS, DTK_MILLENNIUM), "min": (UNITS, DTK_MINUTE), "mins": (UNITS, DTK_MINUTE),
    "minute": (UNITS, DTK_MINUTE), "minutes": (UNITS, DTK_MINUTE), "mon": (UNITS, DTK_MONTH),
    "mons": (UNITS, DTK_MONTH), "month": (UNITS, DTK_MONTH), "months": (UNITS, DTK_MONTH),
    "ms": (UNITS, DTK_MILLISEC), "msec": (UNITS, DTK_MILLISEC),
    "msecond": (UNITS, DTK_MILLISEC), "mseconds": (UNITS, DTK_MILLISEC),
    "msecs": (UNITS, DTK_MILLISEC), "qtr": (UNITS, DTK_QUARTER),
    "quarter": (UNITS, DTK_QUARTER), "s": (UNITS, DTK_SECOND), "sec": (UNITS, DTK_SECOND),
    "second": (UNITS, DTK_SECOND), "seconds": (UNITS, DTK_SECOND), "secs": (UNITS, DTK_SECOND),
    "timezone": (UNITS, DTK_TZ), "timezone_h": (UNITS, DTK_TZ_HOUR),
    "timezone_m": (UNITS, DTK_TZ_MINUTE), "us": (UNITS, DTK_MICROSEC),
    "usec": (UNITS, DTK_MICROSEC), "usecond": (UNITS, DTK_MICROSEC),
    "useconds": (UNITS, DTK_MICROSEC), "usecs": (UNITS, DTK_MICROSEC),
    "w": (UNITS, DTK_WEEK), "week": (UNITS, DTK_WEEK), "weeks": (UNITS, DTK_WEEK),
    "y": (UNITS, DTK_YEAR), "year": (UNITS, DTK_YEAR), "years": (UNITS, DTK_YEAR),
    "yr": (UNITS, DTK_YEAR), "yrs": (UNITS, DTK_YEAR),
}

DAY_TAB = ((31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31),
           (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31))

MAXDATEFIELDS = 25
MAXDATELEN = 128
MAX_TZDISP_HOUR = 15
USECS_PER_DAY = 86_400_000_000
POSTGRES_EPOCH_JDATE = 2451545
UNIX_EPOCH_JDATE = 2440588

DIGITS = frozenset("0123456789")
_ALPHA = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ALNUM = DIGITS | _ALPHA
_SPACE = frozenset(" \t\n\r\v\f")
_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def isleap(y: int) -> bool:
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def date2j(y: int, m: int, d: int) -> int:
    """Julian day number of a proleptic Gregorian date (PostgreSQL's date2j)."""
    if m > 2:
        m += 1
        y += 4800
    else:
        m += 13
        y += 4799
    century = y // 100
    julian = y * 365 - 32167
    julian += y // 4 - century + century // 4
    julian += 7834 * m // 256 + d
    return julian


def j2date(jd: int) -> tuple[int, int, int]:
    """Inverse of date2j. REQUIRES: jd >= 0."""
    assert jd >= 0
    julian = jd + 32044
    quad = julian // 146097
    extra = (julian - quad * 146097) * 4 + 3
    julian += 60 + quad * 3 + extra // 146097
    quad = julian // 1461
    julian -= quad * 1461
    y = julian * 4 // 1461
    julian = ((julian + 305) % 365 if y != 0 else (julian + 306) % 366) + 123
    y += quad * 4
    year = y - 4800
    quad = julian * 2141 // 65536
    day = julian - 7834 * quad // 256
    month = (quad + 10) % 12 + 1
    return year, month, day


def j2day(jd: int) -> int:
    """Day of week, 0 = Sunday."""
    return (jd + 1) % 7


class TM:
    """Broken-down time being decoded (struct pg_tm plus fractional microseconds)."""

    __slots__ = ("year", "mon", "mday", "hour", "minute", "sec", "fsec", "yday", "wday",
                 "isdst")

    def __init__(self) -> None:
        self.year = self.mon = self.mday = 0
        self.hour = self.minute = self.sec = self.fsec = 0
        self.yday = self.wday = 0
        self.isdst = -1


# -- small C-library look-alikes ----------------------------------------------------------------

def strtol(s: str, i: int, bits: int = 32) -> tuple[int, int, bool]:
    """C strtol from s[i:]: (value, end index, overflowed). end == i when no digits."""
    n = len(s)
    j = i
    while j < n and s[j] in _SPACE:
        j += 1
    neg = False
    if j < n and s[j] in "+-":
        neg = s[j] == "-"
        j += 1
    k = j
    while k < n and s[k] in DIGITS:
        k += 1
    if k == j:
        return 0, i, False
    v = int(s[j:k])
    if neg:
        v = -v
    lim = 1 << (bits - 1)
    if v >= lim or v < -lim:
        return (lim - 1 if v > 0 else -lim), k, True
    return v, k, False


def parse_fraction(s: str) -> float:
    """'.123' -> 0.123 (digits only after the point; '.' alone is 0). REQUIRES: s[0] == '.'."""
    assert s.startswith(".")
    if len(s) == 1:
        return 0.0
    if not all(c in DIGITS for c in s[1:]):
        raise DateTimeError(BAD_FORMAT)
    return float(s)


def parse_fractional_second(s: str) -> int:
    return round(parse_fraction(s) * 1000000)


# -- ParseDateTime ------------------------------------------------------------------------------

def parse_fields(text: str, buflen: int = MAXDATELEN + MAXDATEFIELDS) -> list[tuple[str, int]]:
    """Splits date/time input into typed fields (lower-cased text), like ParseDateTime."""
    fields: list[tuple[str, int]] = []
    n = len(text)
    i = 0
    used = 0  # characters written to PostgreSQL's work buffer, terminators included

    def room(count: int) -> None:
        if used + count >= buflen:
            raise DateTimeError(BAD_FORMAT)

    while i < n:
        c = text[i]
        if c in _SPACE:
            i += 1
            continue
        if len(fields) >= MAXDATEFIELDS:
            raise DateTimeError(BAD_FORMAT)
        start = i
        if c in DIGITS:
            i += 1
            while i < n and text[i] in DIGITS:
                i += 1
            if i < n and text[i] == ":":
                ftype = F_TIME
                i += 1
                while i < n and (text[i] in DIGITS or text[i] in ":."):
                    i += 1
                field = text[start:i]
            elif i < n and text[i] in "-/.":
                delim = text[i]
                i += 1
                if i < n and text[i] in DIGITS:
                    ftype = F_NUMBER if delim == "." else F_DATE
                    while i < n and text[i] in DIGITS:
                        i += 1
                    if i < n and text[i] == delim:
                        ftype = F_DATE
                        i += 1
                        while i < n and (text[i] in DIGITS or text[i] == delim):
                            i += 1
                    field = text[start:i]
                else:
                    ftype = F_DATE
                    while i < n and (text[i] in _ALNUM or text[i] == delim):
                        i += 1
                    field = text[start:i].lower()
            else:
                ftype = F_NUMBER
                field = text[start:i]
        elif c == ".":
            i += 1
            while i < n and text[i] in DIGITS:
                i += 1
            ftype = F_NUMBER
            field = text[start:i]
        elif c in _ALPHA:
            ftype = F_STRING
            i += 1
            while i < n and text[i] in _ALPHA:
                i += 1
            is_date = False
            if i < n and text[i] in "-/.":
                is_date = True
            elif i < n and (text[i] == "+" or text[i] in DIGITS):
                if _lookup(DATE_TOKENS, text[start:i].lower()) is None:
                    is_date = True
            if is_date:
                ftype = F_DATE
                i += 1
                while i < n and (text[i] in "+-/_.:" or text[i] in _ALNUM):
                    i += 1
            field = text[start:i].lower()
        elif c in "+-":
            i += 1
            while i < n and text[i] in _SPACE:
                i += 1
            if i < n and text[i] in DIGITS:
                ftype = F_TZ
                j = i + 1
                while j < n and (text[j] in DIGITS or text[j] in ":.-"):
                    j += 1
                field = c + text[i:j]
                i = j
            elif i < n and text[i] in _ALPHA:
                ftype = F_SPECIAL
                j = i + 1
                while j < n and text[j] in _ALPHA:
                    j += 1
                field = c + text[i:j].lower()
                i = j
            else:
                raise DateTimeError(BAD_FORMAT)
        elif c in _PUNCT:
            i += 1
            continue
        else:
            raise DateTimeError(BAD_FORMAT)
        room(len(field))
        used += len(field) + 1
        fields.append((field, ftype))
    return fields


def _lookup(table: dict[str, tuple[int, int]], token: str) -> tuple[int, int] | None:
    return table.get(token[:TOKMAXLEN])


def decode_special(token: str) -> tuple[int, int]:
    """(type, value) of a lower-case date keyword; (UNKNOWN_FIELD, 0) if not one."""
    return _lookup(DATE_TOKENS, token) or (UNKNOWN_FIELD, 0)


def decode_units(token: str) -> tuple[int, int]:
    """(type, value) of a lower-case interval unit keyword; (UNKNOWN_FIELD, 0) if not one."""
    return _lookup(DELTA_TOKENS, token) or (UNKNOWN_FIELD, 0)


def decode_timezone_abbrev(token: str) -> tuple[int, int, str | None]:
    """(TZ|DTZ|DYNTZ|UNKNOWN_FIELD, PostgreSQL-signed offset, zone name for DYNTZ)."""
    meaning = timezones.abbreviation(token)
    if meaning is None:
        return UNKNOWN_FIELD, 0, None
    if isinstance(meaning, str):
        return DYNTZ, 0, meaning
    east, dst = meaning
    return (DTZ if dst else TZ), east, None


# -- field decoders -----------------------------------------------------------------------------

def decode_timezone(s: str) -> int:
    """'+05', '-08:00', '+0530', '+05:30:15' -> seconds WEST of UTC (PostgreSQL's sign)."""
    if not s or s[0] not in "+-":
        raise DateTimeError(BAD_FORMAT)
    hr, cp, ovf = strtol(s, 1)
    if ovf:
        raise DateTimeError(TZDISP_OVERFLOW)
    sec = 0
    if cp < len(s) and s[cp] == ":":
        mn, cp, ovf = strtol(s, cp + 1)
        if ovf:
            raise DateTimeError(TZDISP_OVERFLOW)
        if cp < len(s) and s[cp] == ":":
            sec, cp, ovf = strtol(s, cp + 1)
            if ovf:
                raise DateTimeError(TZDISP_OVERFLOW)
    elif cp == len(s) and len(s) > 3:
        mn = hr % 100 if hr >= 0 else -((-hr) % 100)
        hr = int(hr / 100)
    else:
        mn = 0
    if hr < 0 or hr > MAX_TZDISP_HOUR or mn < 0 or mn >= 60 or sec < 0 or sec >= 60:
        raise DateTimeError(TZDISP_OVERFLOW)
    tz = (hr * 60 + mn) * 60 + sec
    if s[0] == "-":
        tz = -tz
    if cp != len(s):
        raise DateTimeError(BAD_FORMAT)
    return -tz


def decode_time_common(s: str, interval_range_mmss: bool = False) -> tuple[int, int, int, int]:
    """'hh:mm[:ss[.fff]]' or 'mm:ss.fff' -> (hour, minute, second, microseconds)."""
    hour, cp, ovf = strtol(s, 0, 64)
    if ovf:
        raise DateTimeError(FIELD_OVERFLOW)
    if cp >= len(s) or s[cp] != ":":
        raise DateTimeError(BAD_FORMAT)
    minute, cp, ovf = strtol(s, cp + 1)
    if ovf:
        raise DateTimeError(FIELD_OVERFLOW)
    fsec = 0
    if cp == len(s):
        sec = 0
        if interval_range_mmss:
            hour, minute, sec = 0, hour, minute
    elif s[cp] == ".":
        fsec = parse_fractional_second(s[cp:])
        hour, minute, sec = 0, hour, minute
    elif s[cp] == ":":
        sec, cp, ovf = strtol(s, cp + 1)
        if ovf:
            raise DateTimeError(FIELD_OVERFLOW)
        if cp < len(s):
            if s[cp] != ".":
                raise DateTimeError(BAD_FORMAT)
            fsec = parse_fractional_second(s[cp:])
    else:
        raise DateTimeError(BAD_FORMAT)
    if hour < 0 or minute < 0 or minute > 59 or sec < 0 or sec > 60 or fsec < 0 \
            or fsec > 1000000:
        raise DateTimeError(FIELD_OVERFLOW)
    return hour, minute, sec, fsec


def decode_time(s: str, tm: TM) -> int:
    hour, minute, sec, fsec = decode_time_common(s)
    if hour > 2147483647:
        raise DateTimeError(FIELD_OVERFLOW)
    tm.hour, tm.minute, tm.sec, tm.fsec = hour, minute, sec, fsec
    return TIME_M


def time_overflows(hour: int, minute: int, sec: int, fsec: int) -> bool:
    if hour < 0 or hour > 24 or minute < 0 or minute >= 60 or sec < 0 or sec > 60 \
            or fsec < 0 or fsec > 1000000:
        return True
    return ((hour * 60 + minute) * 60 + sec) * 1000000 + fsec > USECS_PER_DAY


class DecodeState:
    """Decoder state shared by the field decoders (is2digits, the text-month flag)."""

    __slots__ = ("is2digits", "date_order")

    def __init__(self, date_order: str) -> None:
        self.is2digits = False
        self.date_order = date_order


def decode_number_field(s: str, fmask: int, tm: TM, st: DecodeState) -> tuple[int, int]:
    """A run-together date or time ('20011225', '040506.789'): (token kind, tmask)."""
    if any(c not in "0123456789." for c in s):
        raise DateTimeError(BAD_FORMAT)
    dot = s.find(".")
    if dot >= 0:
        tm.fsec = parse_fractional_second(s[dot:])
        s = s[:dot]
    elif (fmask & DATE_M) != DATE_M:
        if len(s) >= 6:
            tm.mday = int(s[-2:])
            tm.mon = int(s[-4:-2])
            tm.year = int(s[:-4] or "0")
            if len(s) - 4 == 2:
                st.is2digits = True
            return DTK_DATE, DATE_M
    if (fmask & TIME_M) != TIME_M:
        if len(s) == 6:
            tm.sec = int(s[4:6])
            tm.minute = int(s[2:4])
            tm.hour = int(s[:2])
            return DTK_TIME, TIME_M
        if len(s) == 4:
            tm.sec = 0
            tm.minute = int(s[2:4])
            tm.hour = int(s[:2])
            return DTK_TIME, TIME_M
    raise DateTimeError(BAD_FORMAT)


def decode_number(s: str, have_text_month: bool, fmask: int, tm: TM, st: DecodeState) -> int:
    """One numeric field of a date, placed by what has been seen: returns its tmask."""
    flen = len(s)
    val, cp, ovf = strtol(s, 0)
    if ovf:
        raise DateTimeError(FIELD_OVERFLOW)
    if cp == 0:
        raise DateTimeError(BAD_FORMAT)
    if cp < flen and s[cp] == ".":
        if cp > 2:
            _, tmask = decode_number_field(s, fmask | DATE_M, tm, st)
            return tmask
        tm.fsec = parse_fractional_second(s[cp:])
    elif cp < flen:
        raise DateTimeError(BAD_FORMAT)
    if flen == 3 and (fmask & DATE_M) == M(YEAR) and 1 <= val <= 366:
        tm.yday = val
        return M(DOY) | M(MONTH) | M(DAY)
    seen = fmask & DATE_M
    order = st.date_order
    if seen == 0:
        if flen >= 3 or order == "YMD":
            tmask = M(YEAR)
            tm.year = val
        elif order == "DMY":
            tmask = M(DAY)
            tm.mday = val
        else:
            tmask = M(MONTH)
            tm.mon = val
    elif seen == M(YEAR):
        tmask = M(MONTH)
        tm.mon = val
    elif seen == M(MONTH):
        if have_text_month:
            if flen >= 3 or order == "YMD":
                tmask = M(YEAR)
                tm.year = val
            else:
                tmask = M(DAY)
                tm.mday = val
        else:
            tmask = M(DAY)
            tm.mday = val
    elif seen == M(YEAR) | M(MONTH):
        if have_text_month and flen >= 3 and st.is2digits:
            tmask = M(DAY)
            tm.mday = tm.year
            tm.year = val
            st.is2digits = False
        else:
            tmask = M(DAY)
            tm.mday = val
    elif seen == M(DAY):
        tmask = M(MONTH)
        tm.mon = val
    elif seen == M(MONTH) | M(DAY):
        tmask = M(YEAR)
        tm.year = val
    elif seen == DATE_M:
        _, tmask = decode_number_field(s, fmask, tm, st)
        return tmask
    else:
        raise DateTimeError(BAD_FORMAT)
    if tmask == M(YEAR):
        st.is2digits = flen <= 2
    return tmask


def decode_date(s: str, fmask: int, tm: TM, st: DecodeState) -> int:
    """A delimited date field ('2024-01-02', '1/2/2024', 'jan-02-2024'): returns its tmask."""
    parts: list[str] = []
    i, n = 0, len(s)
    while i < n and len(parts) < MAXDATEFIELDS:
        while i < n and s[i] not in _ALNUM:
            i += 1
        if i >= n:
            raise DateTimeError(BAD_FORMAT)
        j = i
        if s[i] in DIGITS:
            while j < n and s[j] in DIGITS:
                j += 1
        else:
            while j < n and s[j] in _ALPHA:
                j += 1
        parts.append(s[i:j])
        i = j + 1 if j < n else j
    tmask = 0
    have_text_month = False
    pending: list[str] = []
    for p in parts:
        if p[0] in _ALPHA:
            typ, val = decode_special(p)
            if typ == IGNORE_DTF:
                continue
            if typ != MONTH:
                raise DateTimeError(BAD_FORMAT)
            tm.mon = val
            have_text_month = True
            if fmask & M(MONTH):
                raise DateTimeError(BAD_FORMAT)
            fmask |= M(MONTH)
            tmask |= M(MONTH)
        else:
            pending.append(p)
    for p in pending:
        if not p:
            raise DateTimeError(BAD_FORMAT)
        dmask = decode_number(p, have_text_month, fmask, tm, st)
        if fmask & dmask:
            raise DateTimeError(BAD_FORMAT)
        fmask |= dmask
        tmask |= dmask
    if (fmask & ~(M(DOY) | M(TZ))) != DATE_M:
        raise DateTimeError(BAD_FORMAT)
    return tmask


def validate_date(fmask: int, isjulian: bool, is2digits: bool, bc: bool, tm: TM) -> None:
    if fmask & M(YEAR):
        if isjulian:
            pass
        elif bc:
            if tm.year <= 0:
                raise DateTimeError(FIELD_OVERFLOW)
            tm.year = -(tm.year - 1)
        elif is2digits:
            if tm.year < 0:
                raise DateTimeError(FIELD_OVERFLOW)
            if tm.year < 70:
                tm.year += 2000
            elif tm.year < 100:
                tm.year += 1900
        elif tm.year <= 0:
            raise DateTimeError(FIELD_OVERFLOW)
    if fmask & M(DOY):
        tm.year, tm.mon, tm.mday = j2date(date2j(tm.year, 1, 1) + tm.yday - 1)
    if fmask & M(MONTH) and not 1 <= tm.mon <= 12:
        raise DateTimeError(MD_FIELD_OVERFLOW)
    if fmask & M(DAY) and not 1 <= tm.mday <= 31:
        raise DateTimeError(MD_FIELD_OVERFLOW)
    if (fmask & DATE_M) == DATE_M:
        if tm.mday > DAY_TAB[isleap(tm.year)][tm.mon - 1]:
            raise DateTimeError(FIELD_OVERFLOW)


# -- the current time, in the session zone ------------------------------------------------------

def current_utc(ctx: ValueContext) -> datetime:
    """The transaction timestamp (UTC-aware); the wall clock if the context has none."""
    ts = ctx.transaction_timestamp
    if ts is None and ctx.clock is not None:
        ts = ctx.clock.transaction
    return ts if ts is not None else datetime.now(_tz.utc)


def current_local(ctx: ValueContext) -> tuple[datetime, int]:
    """(naive local transaction time, PostgreSQL-signed offset) in the session zone."""
    local = current_utc(ctx).astimezone(ctx.timezone)
    off = local.utcoffset()
    assert off is not None
    return local.replace(tzinfo=None), -(off.days * 86400 + off.seconds)


def determine_tz_offset(tm: TM, zone: object) -> int:
    """PostgreSQL-signed offset (seconds west) of local time `tm` in `zone` (0 if unknowable)."""
    try:
        local = datetime(tm.year, tm.mon, tm.mday) + timedelta(
            hours=tm.hour, minutes=tm.minute, seconds=tm.sec)
    except (ValueError, OverflowError):
        return 0
    try:
        return -timezones.utc_offset_for_local(local, zone)  # type: ignore[arg-type]
    except (ValueError, OverflowError):
        return 0
