"""One-dimensional arrays (as Python lists): PostgreSQL's array literal input and output.

Enough for the places scalar functions take arrays (jsonb #> '{a,b}', ?| and ?& key lists).
Input: '{a,"b c",NULL,\\"x}' -> ['a', 'b c', None, '"x']; whitespace around unquoted elements
is dropped; a malformed literal is 22P02 "malformed array literal".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dsql.errors import InvalidTextRepresentation

_SPACE = " \t\n\r\v\f"


def _malformed(text: str) -> InvalidTextRepresentation:
    return InvalidTextRepresentation(f'malformed array literal: "{text}"')


def array_in(text: str, element_in: Callable[[str], Any] = str) -> list[Any]:
    s = text.strip(_SPACE)
    if not s.startswith("{") or not s.endswith("}"):
        raise _malformed(text)
    body = s[1:-1]
    out: list[Any] = []
    if not body.strip(_SPACE):
        return out
    i, n = 0, len(body)
    while True:
        while i < n and body[i] in _SPACE:
            i += 1
        buf: list[str] = []
        quoted = False
        if i < n and body[i] == '"':
            quoted = True
            i += 1
            while i < n and body[i] != '"':
                if body[i] == "\\" and i + 1 < n:
                    i += 1
                buf.append(body[i])
                i += 1
            if i >= n:
                raise _malformed(text)
            i += 1
            while i < n and body[i] in _SPACE:
                i += 1
        else:
            while i < n and body[i] not in ',{}"':
                if body[i] == "\\" and i + 1 < n:
                    i += 1
                buf.append(body[i])
                i += 1
        item = "".join(buf)
        if not quoted:
            item = item.strip(_SPACE)
            if not item:
                raise _malformed(text)
        out.append(None if not quoted and item.upper() == "NULL" else element_in(item))
        if i >= n:
            return out
        if body[i] != ",":
            raise _malformed(text)
        i += 1


def _quote(item: str) -> str:
    if item == "" or item.upper() == "NULL" or any(c in item for c in ' {},"\\\t\n\r\v\f'):
        return '"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return item


def array_out(items: list[Any], element_out: Callable[[Any], str] = str) -> str:
    return "{" + ",".join("NULL" if x is None else _quote(element_out(x)) for x in items) + "}"
