"""String functions and LIKE / ILIKE, with PostgreSQL's argument rules and errors.

Strings are Python str (UTF-8 server encoding, C collation). Case mapping follows the C.UTF-8
locale: one character maps to one character ('ß' stays 'ß' in upper()), unlike Python's
full Unicode mapping. All functions here are strict (the caller handles NULL) except concat,
concat_ws, which take NULLs as PostgreSQL does.

LIKE patterns are compiled once into a matcher: `like_matcher(pattern, escape)` (cached).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from functools import lru_cache

from dsql.errors import (
    InvalidEscapeSequence,
    InvalidParameterValue,
    ProgramLimitExceeded,
    SubstringError,
)

MAX_STRING_BYTES = (1 << 30) - 1  # PostgreSQL's MaxAllocSize: the largest text value


def _too_long() -> ProgramLimitExceeded:
    return ProgramLimitExceeded("requested length too large")


# -- case mapping (C.UTF-8: per character, one to one) ----------------------------------------

def _map_chars(s: str, method: Callable[[str], str]) -> str:
    out = []
    for ch in s:
        m = method(ch)
        out.append(m if len(m) == 1 else ch)
    return "".join(out)


def lower(s: str) -> str:
    if s.isascii():
        return s.lower()
    return _map_chars(s, str.lower)


def upper(s: str) -> str:
    if s.isascii():
        return s.upper()
    return _map_chars(s, str.upper)


def initcap(s: str) -> str:
    """First letter of each alphanumeric run upper-cased, the rest lower-cased."""
    out = []
    in_word = False
    for ch in s:
        if in_word:
            m = ch.lower()
        else:
            m = ch.upper()
        out.append(m if len(m) == 1 else ch)
        in_word = ch.isalnum()
    return "".join(out)


# -- lengths -----------------------------------------------------------------------------------

def length(s: str) -> int:
    return len(s)


def octet_length(s: str) -> int:
    return len(s.encode())


def bit_length(s: str) -> int:
    return 8 * len(s.encode())


def bytea_length(b: bytes) -> int:
    return len(b)


# -- substrings --------------------------------------------------------------------------------

def substr(s: str, start: int, count: int | None = None) -> str:
    """substr(s, start [, count]): 1-based; positions before 1 count toward `count`."""
    if count is None:
        return s[max(start, 1) - 1:]
    if count < 0:
        raise SubstringError("negative substring length not allowed")
    end = start + count  # exclusive, 1-based
    if end <= 1:
        return ""
    return s[max(start, 1) - 1:end - 1]


bytea_substr = substr  # the same slicing rules apply to bytes


def left(s: str, n: int) -> str:
    if n >= 0:
        return s[:n]
    return s[:max(len(s) + n, 0)]


def right(s: str, n: int) -> str:
    if n >= 0:
        return s[len(s) - n:] if n < len(s) else s
    return s[min(-n, len(s)):]


def strpos(s: str, sub: str) -> int:
    """position(sub IN s): 1-based, 0 when absent; an empty `sub` is found at 1."""
    return s.find(sub) + 1


def position(sub: str, s: str) -> int:
    return s.find(sub) + 1


def starts_with(s: str, prefix: str) -> bool:
    return s.startswith(prefix)


def split_part(s: str, delim: str, n: int) -> str:
    if n == 0:
        raise InvalidParameterValue("field position must not be zero")
    if not delim:
        return s if n in (1, -1) else ""
    parts = s.split(delim)
    if n > 0:
        return parts[n - 1] if n <= len(parts) else ""
    return parts[n] if -n <= len(parts) else ""


# -- building strings --------------------------------------------------------------------------

def _check_size(s: str) -> str:
    if len(s) > MAX_STRING_BYTES // 4 and len(s.encode()) > MAX_STRING_BYTES:
        raise _too_long()
    return s


def repeat(s: str, n: int) -> str:
    if n <= 0 or not s:
        return ""
    if len(s) * n > MAX_STRING_BYTES:
        raise _too_long()
    return _check_size(s * n)


def reverse(s: str) -> str:
    return s[::-1]


def replace(s: str, old: str, new: str) -> str:
    if not old:
        return s
    return s.replace(old, new)


def translate(s: str, src: str, dst: str) -> str:
    table: dict[int, int | None] = {}
    for i, ch in enumerate(src):
        if ord(ch) in table:
            continue
        table[ord(ch)] = ord(dst[i]) if i < len(dst) else None
    return s.translate(table)


def lpad(s: str, n: int, fill: str = " ") -> str:
    if n <= 0:
        return ""
    if len(s) >= n or not fill:
        return s[:n]
    need = n - len(s)
    pad = (fill * (need // len(fill) + 1))[:need]
    return pad + s


def rpad(s: str, n: int, fill: str = " ") -> str:
    if n <= 0:
        return ""
    if len(s) >= n or not fill:
        return s[:n]
    need = n - len(s)
    pad = (fill * (need // len(fill) + 1))[:need]
    return s + pad


def btrim(s: str, chars: str = " ") -> str:
    return s.strip(chars) if chars else s


def ltrim(s: str, chars: str = " ") -> str:
    return s.lstrip(chars) if chars else s


def rtrim(s: str, chars: str = " ") -> str:
    return s.rstrip(chars) if chars else s


def concat(*parts: str | None) -> str:
    """concat(...): NULL arguments are skipped. REQUIRES: parts already in text form."""
    return "".join(p for p in parts if p is not None)


def concat_ws(sep: str | None, *parts: str | None) -> str | None:
    if sep is None:
        return None
    return sep.join(p for p in parts if p is not None)


def textcat(a: str, b: str) -> str:
    """text || text."""
    return a + b


def byteacat(a: bytes, b: bytes) -> bytes:
    return a + b


# -- codes and digests -------------------------------------------------------------------------

def ascii_code(s: str) -> int:
    return ord(s[0]) if s else 0


def chr_(n: int) -> str:
    if n < 0:
        raise InvalidParameterValue("character number must be positive")
    if n == 0:
        raise ProgramLimitExceeded("null character not permitted")
    if n > 0x10FFFF:
        raise ProgramLimitExceeded(f"requested character too large for encoding: {n}")
    if 0xD800 <= n <= 0xDFFF:
        raise ProgramLimitExceeded(f"requested character not valid for encoding: {n}")
    return chr(n)


def md5(s: str) -> str:
    return hashlib.md5(s.encode()).hexdigest()


def bytea_md5(b: bytes) -> str:
    return hashlib.md5(b).hexdigest()


def to_hex32(n: int) -> str:
    return format(n & 0xFFFFFFFF, "x")


def to_hex64(n: int) -> str:
    return format(n & 0xFFFFFFFFFFFFFFFF, "x")


# -- LIKE / ILIKE ------------------------------------------------------------------------------

_LIKE_TRUE, _LIKE_FALSE, _LIKE_ABORT = 1, 0, -1


def _escape_error() -> InvalidEscapeSequence:
    return InvalidEscapeSequence("LIKE pattern must not end with escape character")


def _match_text(t: str, p: str, esc: str | None) -> int:
    """PostgreSQL's MatchText, for patterns ending in a lone escape: the error is raised only
    if matching gets that far (so 'ab' LIKE 'x\\' is false, not an error)."""
    tl, pl = len(t), len(p)
    ti = pi = 0
    if pl == 1 and p[0] == "%" and esc != "%":
        return _LIKE_TRUE
    while ti < tl and pi < pl:
        c = p[pi]
        if esc is not None and c == esc:
            pi += 1
            if pi >= pl:
                raise _escape_error()
            if p[pi] != t[ti]:
                return _LIKE_FALSE
        elif c == "%":
            pi += 1
            while pi < pl:
                if p[pi] == "%":
                    pi += 1
                elif p[pi] == "_":
                    if ti >= tl:
                        return _LIKE_ABORT
                    ti += 1
                    pi += 1
                else:
                    break
            if pi >= pl:
                return _LIKE_TRUE
            if esc is not None and p[pi] == esc:
                if pl - pi < 2:
                    raise _escape_error()
                first = p[pi + 1]
            else:
                first = p[pi]
            while ti < tl:
                if t[ti] == first:
                    m = _match_text(t[ti:], p[pi:], esc)
                    if m != _LIKE_FALSE:
                        return m
                ti += 1
            return _LIKE_ABORT
        elif c == "_":
            ti += 1
            pi += 1
            continue
        elif c != t[ti]:
            return _LIKE_FALSE
        ti += 1
        pi += 1
    if ti < tl:
        return _LIKE_FALSE
    while pi < pl and p[pi] == "%":
        pi += 1
    return _LIKE_TRUE if pi >= pl else _LIKE_ABORT


def _ends_with_lone_escape(pattern: str, esc: str | None) -> bool:
    if esc is None:
        return False
    i, n = 0, len(pattern)
    while i < n:
        if pattern[i] == esc:
            if i + 1 >= n:
                return True
            i += 2
        else:
            i += 1
    return False


def _like_regex(pattern: str, escape: str | None) -> str:
    out = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if escape is not None and c == escape:
            if i + 1 >= n:
                raise InvalidEscapeSequence("LIKE pattern must not end with escape character")
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if c == "%":
            out.append(".*")
        elif c == "_":
            out.append(".")
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def check_escape(escape: str) -> str | None:
    """The escape character of a LIKE ... ESCAPE clause ('' disables escaping)."""
    if len(escape) > 1:
        err = InvalidEscapeSequence("invalid escape string")
        err.hint = "Escape string must be empty or one character."
        raise err
    return escape or None


@lru_cache(maxsize=1024)
def like_matcher(pattern: str, escape: str = "\\",
                 case_insensitive: bool = False) -> Callable[[str], bool]:
    """A predicate s -> s LIKE pattern (ILIKE when case_insensitive), compiled once."""
    esc = check_escape(escape)
    if case_insensitive:
        pattern = lower(pattern)
        if esc is not None:
            esc = lower(esc)
    if _ends_with_lone_escape(pattern, esc):
        return _ci(lambda s: _match_text(s, pattern, esc) == _LIKE_TRUE, case_insensitive)
    # fast paths for the common shapes
    if esc is None or esc not in pattern:
        body = pattern
        if "_" not in body:
            if "%" not in body:
                return _ci(body.__eq__, case_insensitive)
            if body.endswith("%") and "%" not in body[:-1]:
                prefix = body[:-1]
                return _ci(lambda s: s.startswith(prefix), case_insensitive)
    rx = re.compile(_like_regex(pattern, esc), re.DOTALL)
    return _ci(lambda s: rx.fullmatch(s) is not None, case_insensitive)


def _ci(pred: Callable[[str], bool], case_insensitive: bool) -> Callable[[str], bool]:
    if not case_insensitive:
        return pred
    return lambda s: pred(lower(s))


def like(s: str, pattern: str, escape: str = "\\") -> bool:
    return like_matcher(pattern, escape)(s)


def ilike(s: str, pattern: str, escape: str = "\\") -> bool:
    return like_matcher(pattern, escape, True)(s)
