"""boolean: input ('t', 'yes', 'on', '1', any unique prefix...), output 't'/'f', casts.

PostgreSQL's boolin trims ASCII whitespace, then accepts case-insensitive prefixes of
true/false/yes/no, 'on'/'off' (at least two letters), and '1'/'0'.
"""

from __future__ import annotations

from dsql.errors import InvalidTextRepresentation

_SPACE = " \t\n\r\v\f"


def _parse(word: str) -> bool | None:
    n = len(word)
    if n == 0:
        return None
    w = word.lower()
    c = w[0]
    if c == "t":
        return True if "true".startswith(w) else None
    if c == "f":
        return False if "false".startswith(w) else None
    if c == "y":
        return True if "yes".startswith(w) else None
    if c == "n":
        return False if "no".startswith(w) else None
    if c == "o":
        if n < 2:
            return None
        if "on".startswith(w):
            return True
        if "off".startswith(w):
            return False
        return None
    if w == "1":
        return True
    if w == "0":
        return False
    return None


def bool_in(text: str) -> bool:
    """'t', 'TRUE', ' yes ', 'on', '1' -> True; 'f', 'no', 'off', '0' -> False."""
    value = _parse(text.strip(_SPACE))
    if value is None:
        raise InvalidTextRepresentation(f'invalid input syntax for type boolean: "{text}"')
    return value


def bool_out(value: bool) -> str:
    return "t" if value else "f"


def bool_to_text(value: bool) -> str:
    """The cast boolean -> text spells the word out (unlike the output function)."""
    return "true" if value else "false"


def int4_to_bool(value: int) -> bool:
    return value != 0


def bool_to_int4(value: bool) -> int:
    return 1 if value else 0
