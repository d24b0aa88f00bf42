"""text, varchar(n), char(n): typmod rules and char(n)'s blank-padded semantics.

All three are Python str. Lengths count characters (the server encoding is UTF-8), and
ordering is by code point (the C collation), which is what Python's str comparison does.

varchar(n) and char(n) typmods: on assignment (INSERT, UPDATE, the input function) a longer
value is an error (22001 "value too long for type character varying(3)") unless the excess is
all spaces, which are cut; an explicit cast ('abcd'::varchar(3)) truncates silently. char(n)
pads with spaces to n and ignores trailing spaces when comparing, measuring length and
converting to text.
"""

from __future__ import annotations

from dsql.errors import StringDataRightTruncation


def text_in(text: str) -> str:
    return text


def text_out(value: str) -> str:
    return value


def varchar_apply_typmod(s: str, n: int, explicit: bool) -> str:
    """Applies varchar(n). REQUIRES: n >= 1."""
    if len(s) <= n:
        return s
    if not explicit and s[n:].strip(" "):
        raise StringDataRightTruncation(f"value too long for type character varying({n})")
    return s[:n]


def bpchar_apply_typmod(s: str, n: int, explicit: bool) -> str:
    """Applies char(n): pads to n characters, or cuts (see the module docstring)."""
    size = len(s)
    if size == n:
        return s
    if size < n:
        return s + " " * (n - size)
    if not explicit and s[n:].strip(" "):
        raise StringDataRightTruncation(f"value too long for type character({n})")
    return s[:n]


def bpchar_to_text(s: str) -> str:
    """char(n) -> text/varchar drops the trailing spaces."""
    return s.rstrip(" ")


def bpchar_length(s: str) -> int:
    return len(s.rstrip(" "))


def bpchar_eq(a: str, b: str) -> bool:
    return a.rstrip(" ") == b.rstrip(" ")


def bpchar_ne(a: str, b: str) -> bool:
    return a.rstrip(" ") != b.rstrip(" ")


def bpchar_lt(a: str, b: str) -> bool:
    return a.rstrip(" ") < b.rstrip(" ")


def bpchar_le(a: str, b: str) -> bool:
    return a.rstrip(" ") <= b.rstrip(" ")


def bpchar_gt(a: str, b: str) -> bool:
    return a.rstrip(" ") > b.rstrip(" ")


def bpchar_ge(a: str, b: str) -> bool:
    return a.rstrip(" ") >= b.rstrip(" ")


def bpchar_sort_key(s: str) -> str:
    """Sort and group char(n) values by this key (trailing spaces do not count)."""
    return s.rstrip(" ")
