"""to_char(timestamp | timestamptz | interval, format): PostgreSQL's date/time templates.

A format is compiled once (cached) into a list of steps. Supported patterns: HH HH12 HH24 MI SS
MS US SSSS SSSSS AM PM A.M. P.M. (and lower case) Y,YYY YYYY YYY YY Y IYYY IYY IY I BC AD
B.C. A.D. MONTH Month month MON Mon mon MM DAY Day day DY Dy dy DDD IDDD DD D ID W WW IW CC J
Q RM rm TZ tz TZH TZM OF; modifiers FM (no padding), TH / th (ordinal suffix), TM and FX
(accepted, no effect in the C locale), SP (ignored); "quoted text" and \\" literals. Anything
else is copied.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

from dsql.sql.types import datetime as dt
from dsql.sql.types.context import ValueContext
from dsql.storage.interval import Interval

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")


class _Fields:
    """Everything a template can ask about one value."""

    __slots__ = ("year", "mon", "mday", "hour", "minute", "sec", "usec", "yday", "wday",
                 "iso_year", "iso_week", "iso_wday", "julian", "tz_abbrev", "tz_east",
                 "is_interval")

    def __init__(self) -> None:
        self.tz_abbrev = ""
        self.tz_east = 0
        self.is_interval = False


def _from_datetime(d: datetime) -> _Fields:
    f = _Fields()
    f.year, f.mon, f.mday = d.year, d.month, d.day
    f.hour, f.minute, f.sec, f.usec = d.hour, d.minute, d.second, d.microsecond
    f.yday = d.timetuple().tm_yday
    f.wday = (d.weekday() + 1) % 7
    iso = d.isocalendar()
    f.iso_year, f.iso_week, f.iso_wday = iso[0], iso[1], iso[2]
    f.julian = dt.date_to_julian(d.date())
    return f


def _ordinal(n: int, upper: bool) -> str:
    n = abs(n)
    if 11 <= n % 100 <= 13:
        s = "th"
    else:
        s = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return s.upper() if upper else s


def _num(value: int, width: int, fm: bool) -> str:
    if fm:
        return str(value)
    if value < 0:
        return "-" + str(-value).zfill(width)
    return str(value).zfill(width)


def _name(text: str, style: str, fm: bool, width: int) -> str:
    if style == "upper":
        text = text.upper()
    elif style == "lower":
        text = text.lower()
    return text if fm else text.ljust(width)


def _year_digits(y: int, n: int) -> int:
    return abs(y) % (10 ** n)


Step = Callable[[_Fields], str]

# keyword -> (maker(fm) -> function of fields giving (text, number for TH or None))
_KEYWORDS: dict[str, Callable[[bool], Callable[[_Fields], tuple[str, int | None]]]] = {}


def _kw(*names: str) -> Callable[[Any], Any]:
    def deco(fn: Any) -> Any:
        for n in names:
            _KEYWORDS[n] = fn
        return fn
    return deco


def _numeric(getter: Callable[[_Fields], int], width: int) -> Any:
    def make(fm: bool) -> Callable[[_Fields], tuple[str, int | None]]:
        return lambda f: (_num(getter(f), width, fm), getter(f))
    return make


def _hour12(f: _Fields) -> int:
    h = f.hour % 12
    return 12 if h == 0 else h


for _names, _get, _w in (
        (("HH", "hh", "HH12", "hh12"), _hour12, 2),
        (("HH24", "hh24"), lambda f: f.hour, 2),
        (("MI", "mi"), lambda f: f.minute, 2),
        (("SS", "ss"), lambda f: f.sec, 2),
        (("MS", "ms"), lambda f: f.usec // 1000, 3),
        (("US", "us"), lambda f: f.usec, 6),
        (("MM", "mm"), lambda f: f.mon, 2),
        (("DDD", "ddd"), lambda f: f.yday, 3),
        (("IDDD", "iddd"), lambda f: (f.iso_week - 1) * 7 + f.iso_wday, 3),
        (("DD", "dd"), lambda f: f.mday, 2),
        (("D", "d"), lambda f: f.wday + 1, 1),
        (("ID", "id"), lambda f: f.iso_wday, 1),
        (("W", "w"), lambda f: (f.mday - 1) // 7 + 1, 1),
        (("WW", "ww"), lambda f: (f.yday - 1) // 7 + 1, 2),
        (("IW", "iw"), lambda f: f.iso_week, 2),
        (("CC", "cc"), lambda f: (f.year + 99) // 100 if f.year > 0 else f.year // 100, 2),
        (("J", "j"), lambda f: f.julian, 1),
        (("Q", "q"), lambda f: (f.mon - 1) // 3 + 1, 1),
        (("YYYY", "yyyy"), lambda f: f.year, 4),
        (("YYY", "yyy"), lambda f: _year_digits(f.year, 3), 3),
        (("YY", "yy"), lambda f: _year_digits(f.year, 2), 2),
        (("Y", "y"), lambda f: _year_digits(f.year, 1), 1),
        (("IYYY", "iyyy"), lambda f: f.iso_year, 4),
        (("IYY", "iyy"), lambda f: _year_digits(f.iso_year, 3), 3),
        (("IY", "iy"), lambda f: _year_digits(f.iso_year, 2), 2),
        (("I", "i"), lambda f: _year_digits(f.iso_year, 1), 1),
        (("SSSS", "ssss", "SSSSS", "sssss"), lambda f: (f.hour * 60 + f.minute) * 60 + f.sec, 1),
):
    _kw(*_names)(_numeric(_get, _w))


@_kw("Y,YYY", "y,yyy")
def _year_comma(fm: bool) -> Any:
    return lambda f: (f"{f.year // 1000},{f.year % 1000:03d}", f.year)


def _text_kw(names: tuple[str, str, str], getter: Callable[[_Fields], str], width: int) -> None:
    for name, style in zip(names, ("upper", "cap", "lower"), strict=True):
        def make(fm: bool, style: str = style) -> Any:
            return lambda f: (_name(getter(f), style, fm, width), None)
        _KEYWORDS[name] = make


_text_kw(("MONTH", "Month", "month"), lambda f: MONTHS[f.mon - 1], 9)
_text_kw(("MON", "Mon", "mon"), lambda f: MONTHS[f.mon - 1][:3], 0)
_text_kw(("DAY", "Day", "day"), lambda f: DAYS[f.wday], 9)
_text_kw(("DY", "Dy", "dy"), lambda f: DAYS[f.wday][:3], 0)


def _meridiem(upper_am: str, upper_pm: str) -> Any:
    return lambda fm: lambda f: ((upper_pm if f.hour >= 12 else upper_am), None)


for _am, _pm in (("AM", "PM"), ("A.M.", "P.M."), ("am", "pm"), ("a.m.", "p.m.")):
    _KEYWORDS[_am] = _meridiem(_am, _pm)
    _KEYWORDS[_pm] = _meridiem(_am, _pm)

for _ad, _bc in (("AD", "BC"), ("A.D.", "B.C."), ("ad", "bc"), ("a.d.", "b.c.")):
    _KEYWORDS[_ad] = _KEYWORDS[_bc] = (
        lambda ad, bc: lambda fm: lambda f: ((ad if f.year > 0 else bc), None))(_ad, _bc)


@_kw("RM")
def _rm_upper(fm: bool) -> Any:
    return lambda f: (ROMAN[f.mon - 1] if fm else ROMAN[f.mon - 1].ljust(4), None)


@_kw("rm")
def _rm_lower(fm: bool) -> Any:
    return lambda f: ((ROMAN[f.mon - 1] if fm else ROMAN[f.mon - 1].ljust(4)).lower(), None)


@_kw("TZ")
def _tz_upper(fm: bool) -> Any:
    return lambda f: (f.tz_abbrev.upper(), None)


@_kw("tz")
def _tz_lower(fm: bool) -> Any:
    return lambda f: (f.tz_abbrev.lower(), None)


@_kw("TZH", "tzh")
def _tzh(fm: bool) -> Any:
    def get(f: _Fields) -> tuple[str, int | None]:
        sign = "-" if f.tz_east < 0 else "+"
        return f"{sign}{abs(f.tz_east) // 3600:02d}", None
    return get


@_kw("TZM", "tzm")
def _tzm(fm: bool) -> Any:
    return lambda f: (f"{(abs(f.tz_east) % 3600) // 60:02d}", None)


@_kw("OF", "of")
def _of(fm: bool) -> Any:
    def get(f: _Fields) -> tuple[str, int | None]:
        sign = "-" if f.tz_east < 0 else "+"
        hh, rem = divmod(abs(f.tz_east), 3600)
        mm = rem // 60
        return (f"{sign}{hh:02d}" + (f":{mm:02d}" if mm else "")), None
    return get


_BY_LENGTH = sorted(_KEYWORDS, key=len, reverse=True)


@lru_cache(maxsize=256)
def compile_format(fmt: str) -> tuple[Step, ...]:
    """Compiles a to_char template into steps (cached by template text)."""
    steps: list[Step] = []
    i, n = 0, len(fmt)
    while i < n:
        fm = False
        j = i
        while True:  # prefixes
            if fmt.startswith(("FM", "fm"), j):
                fm = True
                j += 2
            elif fmt.startswith(("TM", "tm", "FX", "fx"), j):
                j += 2
            else:
                break
        kw = next((k for k in _BY_LENGTH if fmt.startswith(k, j)), None)
        if kw is not None:
            getter = _KEYWORDS[kw](fm)
            j += len(kw)
            suffix = ""
            if fmt.startswith(("TH", "th"), j):
                suffix = fmt[j:j + 2]
                j += 2
            if fmt.startswith(("SP", "sp"), j):
                j += 2
            steps.append(_with_suffix(getter, suffix))
            i = j
            continue
        if j > i:  # a lone prefix: PostgreSQL drops it
            i = j
            continue
        c = fmt[i]
        if c == '"':
            j = i + 1
            buf = []
            while j < n and fmt[j] != '"':
                if fmt[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(fmt[j])
                j += 1
            literal = "".join(buf)
            steps.append(lambda f, s=literal: s)
            i = j + 1
            continue
        if c == "\\" and i + 1 < n and fmt[i + 1] == '"':
            steps.append(lambda f: '"')
            i += 2
            continue
        steps.append(lambda f, s=c: s)
        i += 1
    return tuple(steps)


def _with_suffix(getter: Callable[[_Fields], tuple[str, int | None]], suffix: str) -> Step:
    if not suffix:
        return lambda f: getter(f)[0]
    upper = suffix == "TH"

    def step(f: _Fields) -> str:
        text, number = getter(f)
        return text + (_ordinal(number, upper) if number is not None else "")
    return step


def _render(fields: _Fields, fmt: str) -> str | None:
    if not fmt:
        return None
    return "".join(step(fields) for step in compile_format(fmt))


def to_char_timestamp(ts: Any, fmt: str) -> str | None:
    if not dt.is_finite(ts):
        return None
    return _render(_from_datetime(ts), fmt)


def to_char_timestamptz(ts: Any, fmt: str, ctx: ValueContext) -> str | None:
    if not dt.is_finite(ts):
        return None
    local, east = dt.to_local(ts, ctx)
    fields = _from_datetime(local)
    fields.tz_east = east
    if ctx.timezone is dt.UTC:
        fields.tz_abbrev = "UTC"
    else:
        fields.tz_abbrev = ts.astimezone(ctx.timezone).tzname() or ""
    return _render(fields, fmt)


def to_char_interval(iv: Interval, fmt: str) -> str | None:
    f = _Fields()
    f.is_interval = True
    f.year, f.mon = int(iv.months / 12), iv.months - int(iv.months / 12) * 12
    f.mday = iv.days
    t = iv.microseconds
    f.hour = int(t / 3_600_000_000)
    t -= f.hour * 3_600_000_000
    f.minute = int(t / 60_000_000)
    t -= f.minute * 60_000_000
    f.sec = int(t / 1_000_000)
    f.usec = t - f.sec * 1_000_000
    f.yday = f.mday
    f.wday = 0
    f.iso_year, f.iso_week, f.iso_wday = f.year, 1, 1
    f.julian = f.mday
    return _render(f, fmt)
