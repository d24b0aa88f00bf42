"""uuid: input in PostgreSQL's accepted forms, canonical lower-case output.

Accepted: 32 hex digits, optionally in braces, with a hyphen allowed after any group of four
digits ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{A0EEBC999C0B...}', 'a0ee-bc99-...').
No whitespace is allowed (22P02).
"""

from __future__ import annotations

import uuid as _uuid

from dsql.errors import InvalidTextRepresentation

_HEXDIGITS = frozenset("0123456789abcdefABCDEF")


def uuid_in(text: str) -> _uuid.UUID:
    s = text
    i = 0
    n = len(s)
    braces = n > 0 and s[0] == "{"
    if braces:
        i = 1
    digits: list[str] = []
    for k in range(16):
        if i + 1 >= n or s[i] not in _HEXDIGITS or s[i + 1] not in _HEXDIGITS:
            raise _syntax(text)
        digits.append(s[i:i + 2])
        i += 2
        if i < n and s[i] == "-" and k % 2 == 1 and k < 15:
            i += 1
    if braces:
        if i >= n or s[i] != "}":
            raise _syntax(text)
        i += 1
    if i != n:
        raise _syntax(text)
    return _uuid.UUID("".join(digits))


def _syntax(text: str) -> InvalidTextRepresentation:
    return InvalidTextRepresentation(f'invalid input syntax for type uuid: "{text}"')


def uuid_out(value: _uuid.UUID) -> str:
    return str(value)
