"""COPY's text and csv row formats: splitting CopyData into fields and joining fields into rows.

The engine does COPY's row work (converting fields with the columns' input/output functions);
these helpers do the format part for it, as PostgreSQL's copyfromparse.c / copyto.c do.

text format (one row per line, ``\\n`` or ``\\r\\n``)::

    row    := field (DELIM field)* EOL
    field  := the NULL string (default \\N, compared before unescaping) | chars
    chars  := plain characters, or backslash escapes: \\b \\f \\n \\r \\t \\v, \\ooo (octal
              byte), \\xhh (hex byte), \\<any other char> (that char, e.g. \\\\ or \\<DELIM>)
    a line consisting of \\. ends the data

csv format (RFC 4180 with PostgreSQL's options)::

    row    := field (DELIM field)* EOL         -- EOL inside quotes belongs to the field
    field  := unquoted | QUOTE ( char | ESCAPE QUOTE | ESCAPE ESCAPE )* QUOTE ...
              an unquoted field equal to the NULL string (default empty) is NULL;
              a quoted empty field is the empty string

Thread-safety: RowDecoder is used by one thread; the functions are pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dsql.errors import CharacterNotInRepertoire
from dsql.server.errors import BadCopyFileFormat

Fields = list[str | None]
PENDING_BYTES_MAX = 1 << 30  # one row (or quoted field) may not exceed this

_TEXT_ESCAPES = {ord("b"): 8, ord("f"): 12, ord("n"): 10, ord("r"): 13, ord("t"): 9,
                 ord("v"): 11}


@dataclass(frozen=True)
class CopyFormat:
    """COPY options that shape the data (FORMAT, DELIMITER, NULL, QUOTE, ESCAPE, HEADER)."""

    csv: bool = False
    delimiter: str = "\t"
    null: str = "\\N"
    quote: str = '"'
    escape: str = '"'
    header: bool = False

    def __post_init__(self) -> None:
        assert len(self.delimiter) == 1 and len(self.quote) == 1 and len(self.escape) == 1
        assert self.delimiter not in ("\r", "\n")

    @classmethod
    def text(cls, delimiter: str = "\t", null: str = "\\N", header: bool = False) -> CopyFormat:
        return cls(csv=False, delimiter=delimiter, null=null, header=header)

    @classmethod
    def csv_format(cls, delimiter: str = ",", null: str = "", quote: str = '"',
                   escape: str | None = None, header: bool = False) -> CopyFormat:
        return cls(csv=True, delimiter=delimiter, null=null, quote=quote,
                   escape=quote if escape is None else escape, header=header)


# -- decoding ----------------------------------------------------------------------------------

def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        bad = " ".join(f"0x{b:02x}" for b in raw[e.start: e.start + 2])
        raise CharacterNotInRepertoire(
            f'invalid byte sequence for encoding "UTF8": {bad}') from None


def _text_field(raw: bytes) -> str:
    """Undoes text-format backslash escapes at the byte level (\\ooo and \\xhh are bytes)."""
    out = bytearray()
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c != 0x5C or i + 1 == n:  # not a backslash (or a trailing one, kept)
            out.append(c)
            i += 1
            continue
        nx = raw[i + 1]
        if nx in _TEXT_ESCAPES:
            out.append(_TEXT_ESCAPES[nx])
            i += 2
        elif 0x30 <= nx <= 0x37:
            j = i + 1
            while j < n and j < i + 4 and 0x30 <= raw[j] <= 0x37:
                j += 1
            out.append(int(raw[i + 1: j], 8) & 0xFF)
            i = j
        elif nx == 0x78 and i + 2 < n and chr(raw[i + 2]) in "0123456789abcdefABCDEF":
            j = i + 2
            while j < n and j < i + 4 and chr(raw[j]) in "0123456789abcdefABCDEF":
                j += 1
            out.append(int(raw[i + 2: j], 16))
            i = j
        else:
            out.append(nx)
            i += 2
    return _utf8(bytes(out))


def split_text_line(line: bytes, fmt: CopyFormat) -> Fields:
    """One text-format line (without its EOL) -> fields."""
    delim = fmt.delimiter.encode()
    null = fmt.null.encode()
    if b"\\" not in line:
        return [None if f == null else _utf8(f) for f in line.split(delim)]
    fields: Fields = []
    start = i = 0
    n = len(line)
    while i <= n:
        if i == n or line[i: i + 1] == delim:
            raw = line[start:i]
            fields.append(None if raw == null else _text_field(raw))
            start = i + 1
        elif line[i] == 0x5C:
            i += 1  # the escaped byte cannot be a delimiter
        i += 1
    return fields


def parse_csv_record(rec: str, fmt: CopyFormat) -> Fields | None:
    """One csv record (EOL excluded) -> fields, or None if it ends inside a quoted field."""
    delim, quote, escape, null = fmt.delimiter, fmt.quote, fmt.escape, fmt.null
    if quote not in rec:
        return [None if f == null else f for f in rec.split(delim)]
    fields: Fields = []
    i, n = 0, len(rec)
    while True:
        buf: list[str] = []
        saw_quote = in_quote = False
        start = i
        while i < n:
            c = rec[i]
            if in_quote:
                if c == escape and i + 1 < n and rec[i + 1] in (quote, escape) and (
                        escape != quote or rec[i + 1] == quote):
                    buf.append(rec[i + 1])
                    i += 2
                    continue
                if c == quote:
                    in_quote = False
                else:
                    buf.append(c)
            elif c == delim:
                break
            elif c == quote:
                in_quote = saw_quote = True
            else:
                buf.append(c)
            i += 1
        if in_quote:
            return None
        value = "".join(buf)
        fields.append(None if not saw_quote and rec[start:i] == null else value)
        if i >= n:
            return fields
        i += 1  # past the delimiter


class RowDecoder:
    """Turns CopyData chunks (split anywhere) into rows of fields (str, or None for NULL).

    Invariants: `_pending` holds bytes after the last complete row; `_done` is set once the
    end marker line has been seen (later data is ignored, as PostgreSQL does).
    """

    def __init__(self, fmt: CopyFormat) -> None:
        self.fmt = fmt
        self._pending = b""
        self._record = ""  # csv: lines of a record still inside quotes
        self._skip_header = fmt.header
        self._done = False

    def feed(self, chunk: bytes) -> list[Fields]:
        if self._done:
            return []
        data = self._pending + chunk if self._pending else chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            self._pending = data
            if len(data) > PENDING_BYTES_MAX:
                raise BadCopyFileFormat("COPY row is too long")
            return []
        self._pending = data[cut + 1:]
        return self._lines(data[:cut].split(b"\n"))

    def finish(self) -> list[Fields]:
        """The last row (without a final newline); raises 22P04 on an open quoted field."""
        rows: list[Fields] = []
        if self._pending and not self._done:
            rows = self._lines([self._pending])
            self._pending = b""
        if self._record and not self._done:
            raise BadCopyFileFormat("unterminated CSV quoted field")
        return rows

    def _lines(self, lines: list[bytes]) -> list[Fields]:
        rows: list[Fields] = []
        csv = self.fmt.csv
        for full in lines:
            line = full[:-1] if full.endswith(b"\r") else full
            if not self._record and line == b"\\.":
                self._done = True
                break
            if csv:
                text = _utf8(line)
                rec = self._record + "\n" + text if self._record else text
                fields = parse_csv_record(rec, self.fmt)
                if fields is None:  # inside quotes: the CR (if any) is data
                    self._record = rec if full is line else rec + "\r"
                    if len(self._record) > PENDING_BYTES_MAX:
                        raise BadCopyFileFormat("COPY row is too long")
                    continue
                self._record = ""
            else:
                fields = split_text_line(line, self.fmt)
            if self._skip_header:
                self._skip_header = False
                continue
            rows.append(fields)
        return rows


# -- encoding ----------------------------------------------------------------------------------

def _text_escape_table(delimiter: str) -> dict[int, str]:
    table = {8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v", 92: "\\\\"}
    table.setdefault(ord(delimiter), "\\" + delimiter)
    return table


def encode_rows(rows: Iterable[Sequence[str | None]], fmt: CopyFormat,
                header: Sequence[str] | None = None) -> bytes:
    """Rows of text-output strings (None = NULL) -> COPY data, one line per row."""
    lines: list[str] = []
    if fmt.csv:
        quote, escape, delim, null = fmt.quote, fmt.escape, fmt.delimiter, fmt.null
        specials = (delim, quote, escape, "\r", "\n")

        def field(v: str | None) -> str:
            if v is None:
                return null
            if v == null or v == "\\." or any(s in v for s in specials):
                if escape != quote:
                    v = v.replace(escape, escape + escape)
                return quote + v.replace(quote, escape + quote) + quote
            return v

        if header is not None:
            lines.append(delim.join(field(h) for h in header))
        lines.extend(delim.join(field(v) for v in row) for row in rows)
    else:
        table = _text_escape_table(fmt.delimiter)
        delim, null = fmt.delimiter, fmt.null
        if header is not None:
            lines.append(delim.join(h.translate(table) for h in header))
        lines.extend(delim.join(null if v is None else v.translate(table) for v in row)
                     for row in rows)
    if not lines:
        return b""
    return ("\n".join(lines) + "\n").encode("utf-8")
