"""bytea: hex ('\\x4142') and escape ('ab\\101\\\\') input, hex output.

Input follows byteain: after '\\x', pairs of hex digits with whitespace allowed before each
pair (22023 on an odd count or a bad digit); otherwise the escape format, where a backslash
must start '\\\\' or three octal digits '\\ooo' (first digit 0-3), else 22P02.
"""

from __future__ import annotations

from dsql.errors import InvalidParameterValue, InvalidTextRepresentation

_HEX_SPACE = " \n\t\r"
_HEX = "0123456789abcdefABCDEF"


def bytea_in(text: str) -> bytes:
    if text.startswith("\\x"):
        return _hex_decode(text, 2)
    raw = text.encode()
    if b"\\" not in raw:
        return raw
    out = bytearray()
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c != 0x5C:
            out.append(c)
            i += 1
        elif i + 3 < n and 0x30 <= raw[i + 1] <= 0x33 and 0x30 <= raw[i + 2] <= 0x37 \
                and 0x30 <= raw[i + 3] <= 0x37:
            out.append(((raw[i + 1] - 0x30) << 6) | ((raw[i + 2] - 0x30) << 3)
                       | (raw[i + 3] - 0x30))
            i += 4
        elif i + 1 < n and raw[i + 1] == 0x5C:
            out.append(0x5C)
            i += 2
        else:
            raise InvalidTextRepresentation("invalid input syntax for type bytea")
    return bytes(out)


def _hex_decode(text: str, start: int) -> bytes:
    out = bytearray()
    i, n = start, len(text)
    while i < n:
        c = text[i]
        if c in _HEX_SPACE:
            i += 1
            continue
        if c not in _HEX:
            raise InvalidParameterValue(f'invalid hexadecimal digit: "{c}"')
        if i + 1 >= n:
            raise InvalidParameterValue("invalid hexadecimal data: odd number of digits")
        d = text[i + 1]
        if d not in _HEX:
            raise InvalidParameterValue(f'invalid hexadecimal digit: "{d}"')
        out.append(int(text[i:i + 2], 16))
        i += 2
    return bytes(out)


def bytea_out(value: bytes) -> str:
    return "\\x" + value.hex()
