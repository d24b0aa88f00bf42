"""format(formatstr, VARIADIC args): PostgreSQL's sprintf-like string builder.

A specifier is %[position$][-][width]type with type s (the value's text), I (an SQL
identifier, quoted when needed), L (an SQL literal, NULL unquoted) or %% (a percent sign);
width may be * or *n$ (taken from an argument). Arguments arrive already rendered as text
(None for NULL) by the binder, which knows their types.

    format_text("%s-%L", ["a", None])      # 'a-NULL'
    format_text("%2$s %1$s", ["x", "y"])   # 'y x'

Errors are 22023 (invalid_parameter_value) with PostgreSQL's messages, and 22004 for a NULL
identifier. The scan is bounded by the template's length.
"""

from __future__ import annotations

from collections.abc import Sequence

from dsql.errors import InvalidParameterValue, NullValueNotAllowed

# Words quote_ident() must quote (PostgreSQL's reserved and type-function keywords, abridged
# to the ones a generated identifier can collide with).
_RESERVED = frozenset("""
all analyse analyze and any array as asc asymmetric authorization between bigint binary bit
boolean both case cast char character check coalesce collate collation column concurrently
constraint create cross current_catalog current_date current_role current_schema current_time
current_timestamp current_user dec decimal default deferrable desc distinct do else end except
exists extract false fetch float for foreign freeze from full grant greatest group grouping
having ilike in initially inner inout int integer intersect interval into is isnull join
lateral leading least left like limit localtime localtimestamp national natural nchar none
normalize not notnull null nullif numeric offset on only or order out outer overlaps overlay
placing position precision primary real references returning right row select session_user
setof similar smallint some substring symmetric system_user table tablesample then time
timestamp to trailing treat trim true union unique user using values varchar variadic verbose
when where window with xmlattributes xmlconcat xmlelement xmlexists xmlforest xmlnamespaces
xmlparse xmlpi xmlroot xmlserialize xmltable
""".split())


def quote_ident(s: str) -> str:
    """An identifier as PostgreSQL's quote_ident writes it."""
    plain = bool(s) and (s[0].islower() or s[0] == "_") and s.isascii() and all(
        c.islower() or c.isdigit() or c == "_" for c in s) and s not in _RESERVED
    if plain:
        return s
    return '"' + s.replace('"', '""') + '"'


def quote_literal(s: str) -> str:
    """A string literal as PostgreSQL's quote_literal writes it (E'' when it has \\)."""
    body = s.replace("'", "''")
    if "\\" in s:
        return "E'" + body.replace("\\", "\\\\") + "'"
    return "'" + body + "'"


def _error(msg: str) -> InvalidParameterValue:
    return InvalidParameterValue(msg)


def _number(fmt: str, i: int) -> tuple[int | None, int]:
    """Digits at fmt[i:]: (value or None, index after them)."""
    j = i
    while j < len(fmt) and fmt[j].isdigit():
        j += 1
    if j == i:
        return None, i
    v = int(fmt[i:j])
    if v > 2**31 - 1:
        raise _error("number is out of range")
    return v, j


def format_text(fmt: str, args: Sequence[str | None]) -> str:
    """REQUIRES: args rendered as text. The formatted string."""
    assert isinstance(fmt, str), "the template is text"
    out: list[str] = []
    n = len(fmt)
    i = 0
    next_arg = 0
    while i < n:
        c = fmt[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        i += 1
        if i >= n:
            raise _error("unterminated format() type specifier")
        if fmt[i] == "%":
            out.append("%")
            i += 1
            continue
        # position
        pos: int | None = None
        v, j = _number(fmt, i)
        if v is not None and j < n and fmt[j] == "$":
            if v == 0:
                raise _error("format specifies argument 0, but arguments are numbered from 1")
            pos, i = v, j + 1
        left = False
        while i < n and fmt[i] == "-":
            left, i = True, i + 1
        width: int | None = None
        if i < n and fmt[i] == "*":
            i += 1
            wv, j = _number(fmt, i)
            if wv is not None:
                if j >= n or fmt[j] != "$":
                    raise _error("unterminated format() type specifier")
                if wv == 0:
                    raise _error("format specifies argument 0, but arguments are numbered "
                                 "from 1")
                windex, i = wv - 1, j + 1
            else:
                windex = next_arg
            if windex >= len(args):
                raise _error("too few arguments for format()")
            next_arg = windex + 1
            wtext = args[windex]
            width = 0 if wtext is None else int(wtext)
            if width < 0:
                left, width = True, -width
        else:
            width, i = _number(fmt, i)
        if i >= n:
            raise _error("unterminated format() type specifier")
        kind = fmt[i]
        i += 1
        if kind not in "sIL":
            raise _error(f'unrecognized format() type specifier "{kind}"')
        index = pos - 1 if pos is not None else next_arg
        if index >= len(args):
            raise _error("too few arguments for format()")
        next_arg = index + 1
        val = args[index]
        if kind == "s":
            text = "" if val is None else val
        elif kind == "L":
            text = "NULL" if val is None else quote_literal(val)
        else:
            if val is None:
                raise NullValueNotAllowed("null values cannot be formatted as an SQL identifier")
            text = quote_ident(val)
        if width is not None and len(text) < width:
            pad = " " * (width - len(text))
            text = text + pad if left else pad + text
        out.append(text)
    assert i == n
    return "".join(out)
