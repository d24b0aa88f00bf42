"""Time zones: names from the tz database, PostgreSQL's default abbreviations, local<->UTC.

PostgreSQL resolves a zone name case-insensitively against the tz database (as does
`zone_for`), also accepts simple POSIX specs such as 'UTC+5' (five hours *west*), and reads
abbreviations like 'EST' or 'CEST' in date/time input from its 'Default' abbreviation set
(reproduced in ABBREVIATIONS: fixed offsets east of UTC in seconds with a daylight-saving flag,
or the zone whose rules give the meaning).

Converting a local time that a DST change skips or repeats follows PostgreSQL: the later of the
two possible UTC instants wins in both cases (see `utc_offset_for_local`).
"""

from __future__ import annotations

import bisect
import re
import struct
import zoneinfo
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from pathlib import Path

UTC = timezone.utc

# PostgreSQL 15 share/timezonesets/Default, lower-cased.
ABBREVIATIONS: dict[str, tuple[int, bool] | str] = {
    "eat": (10800, False),
    "sast": (7200, False),
    "wat": (3600, False),
    "act": (-18000, False),
    "akdt": (-28800, True),
    "akst": (-32400, False),
    "art": "America/Argentina/Buenos_Aires",
    "arst": "America/Argentina/Buenos_Aires",
    "bot": (-14400, False),
    "bra": (-10800, False),
    "brst": (-7200, True),
    "brt": (-10800, False),
    "cot": (-18000, False),
    "cdt": (-18000, True),
    "clst": (-10800, True),
    "clt": "America/Santiago",
    "cst": (-21600, False),
    "edt": (-14400, True),
    "egst": (0, True),
    "egt": (-3600, False),
    "est": (-18000, False),
    "fnt": (-7200, False),
    "fnst": (-3600, True),
    "gft": (-10800, False),
    "gyt": "America/Guyana",
    "mdt": (-21600, True),
    "mst": (-25200, False),
    "ndt": (-9000, True),
    "nft": (-12600, False),
    "nst": (-12600, False),
    "pet": (-18000, False),
    "pdt": (-25200, True),
    "pmdt": (-7200, True),
    "pmst": (-10800, False),
    "pst": (-28800, False),
    "pyst": (-10800, True),
    "pyt": "America/Asuncion",
    "uyst": (-7200, True),
    "uyt": (-10800, False),
    "vet": "America/Caracas",
    "wgst": (-7200, True),
    "wgt": (-10800, False),
    "davt": "Antarctica/Davis",
    "ddut": (36000, False),
    "mawt": "Antarctica/Mawson",
    "aft": (16200, False),
    "almt": (21600, False),
    "almst": (25200, True),
    "amst": "Asia/Yerevan",
    "amt": (-14400, False),
    "anast": "Asia/Anadyr",
    "anat": "Asia/Anadyr",
    "azst": "Asia/Baku",
    "azt": "Asia/Baku",
    "bdt": (21600, False),
    "bnt": (28800, False),
    "bort": (28800, False),
    "btt": (21600, False),
    "cct": (28800, False),
    "gest": "Asia/Tbilisi",
    "get": "Asia/Tbilisi",
    "hkt": (28800, False),
    "ict": (25200, False),
    "idt": (10800, True),
    "irkst": "Asia/Irkutsk",
    "irkt": "Asia/Irkutsk",
    "irt": (12600, False),
    "ist": (7200, False),
    "jayt": (32400, False),
    "jst": (32400, False),
    "kdt": (36000, True),
    "kgst": (21600, True),
    "kgt": "Asia/Bishkek",
    "krast": "Asia/Krasnoyarsk",
    "krat": "Asia/Krasnoyarsk",
    "kst": (32400, False),
    "lkt": "Asia/Colombo",
    "magst": "Asia/Magadan",
    "magt": "Asia/Magadan",
    "mmt": (23400, False),
    "myt": (28800, False),
    "novst": "Asia/Novosibirsk",
    "novt": "Asia/Novosibirsk",
    "npt": (20700, False),
    "omsst": "Asia/Omsk",
    "omst": "Asia/Omsk",
    "petst": "Asia/Kamchatka",
    "pett": "Asia/Kamchatka",
    "pht": (28800, False),
    "pkt": (18000, False),
    "pkst": (21600, True),
    "sgt": "Asia/Singapore",
    "tjt": (18000, False),
    "tmt": "Asia/Ashgabat",
    "ulast": (32400, True),
    "ulat": "Asia/Ulaanbaatar",
    "uzst": (21600, True),
    "uzt": (18000, False),
    "vlast": "Asia/Vladivostok",
    "vlat": "Asia/Vladivostok",
    "xjt": (21600, False),
    "yakst": "Asia/Yakutsk",
    "yakt": "Asia/Yakutsk",
    "yekst": (21600, True),
    "yekt": "Asia/Yekaterinburg",
    "adt": (-10800, True),
    "ast": (-14400, False),
    "azost": (0, True),
    "azot": (-3600, False),
    "fkst": "Atlantic/Stanley",
    "fkt": "Atlantic/Stanley",
    "acsst": (37800, True),
    "acdt": (37800, True),
    "acst": (34200, False),
    "acwst": (31500, False),
    "aesst": (39600, True),
    "aedt": (39600, True),
    "aest": (36000, False),
    "awsst": (32400, True),
    "awst": (28800, False),
    "cadt": (37800, True),
    "cast": (34200, False),
    "lhdt": "Australia/Lord_Howe",
    "lhst": (37800, False),
    "ligt": (36000, False),
    "nzt": (43200, False),
    "sadt": (37800, True),
    "wadt": (28800, True),
    "wast": (25200, False),
    "wdt": (32400, True),
    "gmt": (0, False),
    "uct": (0, False),
    "ut": (0, False),
    "utc": (0, False),
    "z": (0, False),
    "zulu": (0, False),
    "bst": (3600, True),
    "bdst": (7200, True),
    "cest": (7200, True),
    "cet": (3600, False),
    "cetdst": (7200, True),
    "eest": (10800, True),
    "eet": (7200, False),
    "eetdst": (10800, True),
    "fet": (10800, False),
    "mest": (7200, True),
    "mesz": (7200, True),
    "met": (3600, False),
    "metdst": (7200, True),
    "mez": (3600, False),
    "msd": (14400, True),
    "msk": "Europe/Moscow",
    "volt": "Europe/Volgograd",
    "wet": (0, False),
    "wetdst": (3600, True),
    "cxt": (25200, False),
    "iot": "Indian/Chagos",
    "mut": (14400, False),
    "must": (18000, True),
    "mvt": (18000, False),
    "ret": (14400, False),
    "sct": (14400, False),
    "tft": (18000, False),
    "chadt": (49500, True),
    "chast": (45900, False),
    "chut": (36000, False),
    "ckt": "Pacific/Rarotonga",
    "easst": "Pacific/Easter",
    "east": "Pacific/Easter",
    "fjst": (46800, True),
    "fjt": (43200, False),
    "galt": (-21600, False),
    "gamt": (-32400, False),
    "gilt": (43200, False),
    "hst": (-36000, False),
    "kost": "Pacific/Kosrae",
    "lint": "Pacific/Kiritimati",
    "mart": (-34200, False),
    "mht": (43200, False),
    "mpt": (36000, False),
    "nut": "Pacific/Niue",
    "nzdt": (46800, True),
    "nzst": (43200, False),
    "pgt": (36000, False),
    "pont": (39600, False),
    "pwt": (32400, False),
    "taht": (-36000, False),
    "tkt": "Pacific/Fakaofo",
    "tot": (46800, False),
    "trut": (36000, False),
    "tvt": (43200, False),
    "vut": (39600, False),
    "wakt": (43200, False),
    "wft": (43200, False),
    "yapt": (36000, False),
}

_POSIX_RE = re.compile(r"(?:[A-Za-z]+|<[+\-A-Za-z0-9]+>)?([+-]?)(\d{1,2})"
                       r"(?::(\d{2}))?(?::(\d{2}))?")
_zone_names_lower: dict[str, str] | None = None


def _lower_names() -> dict[str, str]:
    global _zone_names_lower
    if _zone_names_lower is None:
        _zone_names_lower = {n.lower(): n for n in zoneinfo.available_timezones()}
    return _zone_names_lower


@lru_cache(maxsize=512)
def zone_for(name: str) -> tzinfo | None:
    """The tz database zone (or POSIX fixed-offset spec) called `name`, case-insensitively."""
    if not name or len(name) > 255 or name.startswith(("/", ".")) or ".." in name:
        return None
    if name.upper() in ("UTC", "GMT", "ZULU", "UCT", "Z"):
        return UTC if name.upper() != "Z" else None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, IsADirectoryError, OSError):
        pass
    real = _lower_names().get(name.lower())
    if real is not None:
        return zoneinfo.ZoneInfo(real)
    m = _POSIX_RE.fullmatch(name)
    if m is not None:
        sign, hh, mm, ss = m.groups()
        secs = int(hh) * 3600 + int(mm or 0) * 60 + int(ss or 0)
        if secs <= 24 * 3600:
            east = -secs if sign != "-" else secs  # POSIX offsets count west of UTC
            return fixed_offset(east)
    return None


@lru_cache(maxsize=256)
def fixed_offset(east_seconds: int) -> tzinfo:
    """A fixed-offset zone, `east_seconds` east of UTC."""
    if east_seconds == 0:
        return UTC
    return timezone(timedelta(seconds=east_seconds))


def utc_offset_for_local(local: datetime, zone: tzinfo) -> int:
    """Seconds east of UTC that apply to naive local time `local` in `zone`.

    For a time in a spring-forward gap PostgreSQL takes the offset from before the change; for
    a time that occurs twice it takes the second (standard time). Both pick the later UTC
    instant, which is the smaller of the two offsets Python reports for fold=0 and fold=1.
    """
    if zone is UTC:
        return 0
    a = local.replace(tzinfo=zone, fold=0).utcoffset()
    b = local.replace(tzinfo=zone, fold=1).utcoffset()
    assert a is not None and b is not None, "zone gives no offset"
    off = min(a, b)
    return off.days * 86400 + off.seconds


def offset_at_utc(utc: datetime, zone: tzinfo) -> int:
    """Seconds east of UTC in `zone` at the naive UTC instant `utc`."""
    if zone is UTC:
        return 0
    off = utc.replace(tzinfo=UTC).astimezone(zone).utcoffset()
    assert off is not None
    return off.days * 86400 + off.seconds


_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)")


def timezone_setting(value: str) -> tuple[tzinfo, str]:
    """SET TimeZone = value: the zone and the name SHOW reports ('america/new_york' shows as
    'America/New_York'; a bare number is hours east of UTC and shows as '<+05>-05').

    Raises InvalidParameterValue (22023) for anything PostgreSQL rejects.
    """
    from dsql.errors import InvalidParameterValue

    v = value.strip()
    if _NUMBER_RE.fullmatch(v):
        hours = float(v)
        if abs(hours) <= 15:
            east = round(hours * 3600)
            sign = "+" if east >= 0 else "-"
            hh, rem = divmod(abs(east), 3600)
            label = f"{hh:02d}" + (f":{rem // 60:02d}" if rem else "")
            other = "-" if sign == "+" else "+"
            return fixed_offset(east), f"<{sign}{label}>{other}{label}"
    zone = zone_for(v) if v.upper() != "Z" else None
    if zone is None:
        raise InvalidParameterValue(f'invalid value for parameter "TimeZone": "{value}"')
    if zone is UTC:
        return zone, v.upper() if v.upper() in ("UTC", "GMT", "UCT", "ZULU") else "UTC"
    key = getattr(zone, "key", None)
    return zone, key if isinstance(key, str) else v


def abbreviation(name: str) -> tuple[int, bool] | str | None:
    """A lower-case abbreviation's meaning: (seconds east, is_dst), a zone name, or None."""
    return ABBREVIATIONS.get(name)


# -- what an abbreviation meant in a zone's history (for abbreviations such as MSK) -------------

@lru_cache(maxsize=64)
def _transitions(zone_name: str) -> tuple[list[int], list[tuple[int, bool, str]]] | None:
    """(transition times, [(utc offset, is_dst, abbreviation) in force from each]) read from
    the zone's TZif file; the first entry covers the time before the first transition."""
    for base in zoneinfo.TZPATH:
        path = Path(base) / zone_name
        if path.is_file():
            break
    else:
        return None
    data = path.read_bytes()
    if data[:4] != b"TZif":
        return None

    def header(off: int) -> tuple[int, int, int, int, int, int]:
        return struct.unpack(">6l", data[off + 20:off + 44])  # type: ignore[return-value]
    isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt = header(0)
    off = 44
    tsize = 4
    if data[4:5] >= b"2":  # skip the 32-bit block, read the 64-bit one
        off += timecnt * 5 + typecnt * 6 + charcnt + leapcnt * 8 + isstdcnt + isutcnt
        isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt = header(off)
        off += 44
        tsize = 8
    fmt = f">{timecnt}{'q' if tsize == 8 else 'l'}"
    times = list(struct.unpack(fmt, data[off:off + timecnt * tsize]))
    off += timecnt * tsize
    idx = list(data[off:off + timecnt])
    off += timecnt
    types = []
    for i in range(typecnt):
        utoff, isdst, abbrind = struct.unpack(">lBB", data[off + 6 * i:off + 6 * i + 6])
        types.append((utoff, bool(isdst), abbrind))
    off += 6 * typecnt
    chars = data[off:off + charcnt]

    def name(abbrind: int) -> str:
        end = chars.index(b"\0", abbrind)
        return chars[abbrind:end].decode()
    infos = [(u, d, name(a)) for u, d, a in types]
    first = next((t for t in infos if not t[1]), infos[0])
    return times, [first] + [infos[i] for i in idx]


def abbreviation_offset(zone_name: str, abbrev: str, utc_seconds: int) -> int | None:
    """Seconds east of UTC that `abbrev` meant in the zone: its latest use at or before the
    instant, else its earliest use after it (pg_interpret_timezone_abbrev); None if unused."""
    tr = _transitions(zone_name)
    if tr is None:
        return None
    times, infos = tr
    want = abbrev.upper()
    pos = bisect.bisect_right(times, utc_seconds)  # infos[pos] is in force at the instant
    for i in range(pos, -1, -1):
        if infos[i][2] == want:
            return infos[i][0]
    for i in range(pos + 1, len(infos)):
        if infos[i][2] == want:
            return infos[i][0]
    return None
