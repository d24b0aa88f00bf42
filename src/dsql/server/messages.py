"""Backend message encoders and a bounds-checked reader for frontend message bodies.

Each encoder returns the complete message (type byte, length, body) as bytes, ready to append
to a connection's output batch. Byte layouts follow the PostgreSQL protocol v3 documentation
("Message Formats"); all integers are big-endian.

Thread-safety: pure functions and per-message Reader objects; safe from any thread.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

from dsql.server.errors import ProtocolViolation

_I16 = struct.Struct("!h")
_I32 = struct.Struct("!i")
_U32 = struct.Struct("!I")
_HDR = struct.Struct("!ci")

PROTOCOL_V3 = 196608  # 3.0
SSL_REQUEST_CODE = 80877103
GSSENC_REQUEST_CODE = 80877104
CANCEL_REQUEST_CODE = 80877102

# Authentication request codes (message 'R').
AUTH_OK = 0
AUTH_CLEARTEXT = 3
AUTH_MD5 = 5
AUTH_SASL = 10
AUTH_SASL_CONTINUE = 11
AUTH_SASL_FINAL = 12


def message(mtype: bytes, body: bytes = b"") -> bytes:
    """A message of type `mtype` (one byte) with `body`."""
    assert len(mtype) == 1
    return _HDR.pack(mtype, len(body) + 4) + body


def cstr(s: str) -> bytes:
    """A NUL-terminated UTF-8 string; embedded NULs (which cannot travel) become spaces."""
    if "\0" in s:
        s = s.replace("\0", " ")
    return s.encode("utf-8", "surrogateescape") + b"\0"


PARSE_COMPLETE = message(b"1")
BIND_COMPLETE = message(b"2")
CLOSE_COMPLETE = message(b"3")
NO_DATA = message(b"n")
PORTAL_SUSPENDED = message(b"s")
EMPTY_QUERY_RESPONSE = message(b"I")
COPY_DONE = message(b"c")
_READY = {s: message(b"Z", s.encode()) for s in "ITE"}


def auth_request(code: int, extra: bytes = b"") -> bytes:
    return message(b"R", _I32.pack(code) + extra)


def parameter_status(name: str, value: str) -> bytes:
    return message(b"S", cstr(name) + cstr(value))


def backend_key_data(pid: int, secret: int) -> bytes:
    return message(b"K", struct.pack("!ii", pid, secret))


def ready_for_query(status: str) -> bytes:
    """ReadyForQuery with transaction status I (idle), T (in a block) or E (failed block)."""
    return _READY[status]


def command_complete(tag: str) -> bytes:
    return message(b"C", cstr(tag))


def negotiate_protocol_version(minor: int, unrecognized: Sequence[str]) -> bytes:
    body = struct.pack("!ii", minor, len(unrecognized))
    return message(b"v", body + b"".join(cstr(o) for o in unrecognized))


def parameter_description(type_oids: Sequence[int]) -> bytes:
    assert len(type_oids) <= 65535
    return message(b"t", struct.pack(f"!H{len(type_oids)}I", len(type_oids), *type_oids))


def row_description(fields: Iterable[tuple[str, int, int, int, int, int, int]]) -> bytes:
    """Fields: (name, table_oid, column_no, type_oid, typlen, typmod, format)."""
    parts = []
    n = 0
    for name, table_oid, column_no, type_oid, typlen, typmod, fmt in fields:
        parts.append(cstr(name))
        parts.append(struct.pack("!IhIhih", table_oid, column_no, type_oid, typlen, typmod, fmt))
        n += 1
    assert n <= 65535
    return message(b"T", _I16.pack(n) + b"".join(parts))


def copy_response(mtype: bytes, binary: bool, column_count: int) -> bytes:
    """CopyInResponse ('G') or CopyOutResponse ('H'): overall format and per-column formats."""
    assert mtype in (b"G", b"H") and 0 <= column_count <= 65535
    fmt = 1 if binary else 0
    return message(mtype, struct.pack(f"!bH{column_count}h", fmt, column_count,
                                      *([fmt] * column_count)))


def copy_data(data: bytes) -> bytes:
    return _HDR.pack(b"d", len(data) + 4) + data


# -- ErrorResponse / NoticeResponse ------------------------------------------------------------

def error_fields(exc: BaseException, severity: str) -> bytes:
    """The field list of an ErrorResponse/NoticeResponse for `exc`.

    S and V carry the severity, C the SQLSTATE, M the message; D, H and P (1-based character
    position in the statement) when the error has them. A non-DsqlError is an internal error.
    """
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str) and len(sqlstate) == 5:
        text = getattr(exc, "message", None) or str(exc)
    else:
        sqlstate = "XX000"
        text = f"internal error: {type(exc).__name__}: {exc}"
    out = [b"S", cstr(severity), b"V", cstr(severity), b"C", cstr(sqlstate), b"M", cstr(text)]
    for code, attr in ((b"D", "detail"), (b"H", "hint")):
        value = getattr(exc, attr, None)
        if value:
            out += [code, cstr(str(value))]
    position = getattr(exc, "position", None)
    if isinstance(position, int) and position > 0:
        out += [b"P", cstr(str(position))]
    out.append(b"\0")
    return b"".join(out)


def error_response(exc: BaseException, severity: str = "ERROR") -> bytes:
    assert severity in ("ERROR", "FATAL", "PANIC")
    return message(b"E", error_fields(exc, severity))


def notice_response(exc: BaseException, severity: str = "NOTICE") -> bytes:
    assert severity in ("WARNING", "NOTICE", "DEBUG", "INFO", "LOG")
    return message(b"N", error_fields(exc, severity))


# -- reading frontend message bodies -----------------------------------------------------------

class Reader:
    """Reads fields from one message body; any overrun or bad string is a ProtocolViolation.

    Invariant: 0 <= pos <= len(data).
    """

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _need(self, n: int) -> int:
        pos = self.pos
        if n < 0 or pos + n > len(self.data):
            raise ProtocolViolation("insufficient data left in message")
        self.pos = pos + n
        return pos

    def byte1(self) -> int:
        return self.data[self._need(1)]

    def int16(self) -> int:
        return _I16.unpack_from(self.data, self._need(2))[0]

    def uint16(self) -> int:
        return struct.unpack_from("!H", self.data, self._need(2))[0]

    def int32(self) -> int:
        return _I32.unpack_from(self.data, self._need(4))[0]

    def uint32(self) -> int:
        return _U32.unpack_from(self.data, self._need(4))[0]

    def raw(self, n: int) -> bytes:
        start = self._need(n)
        return self.data[start: start + n]

    def cstring(self) -> str:
        """A NUL-terminated string; it must be valid UTF-8."""
        end = self.data.find(b"\0", self.pos)
        if end < 0:
            raise ProtocolViolation("invalid string in message")
        raw = self.data[self.pos: end]
        self.pos = end + 1
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            bad = raw[e.start: e.start + 1].hex()
            raise ProtocolViolation(
                f'invalid byte sequence for encoding "UTF8": 0x{bad}') from None

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def finish(self) -> None:
        """REQUIRES: the whole body has been read; otherwise the message is malformed."""
        if self.pos != len(self.data):
            raise ProtocolViolation("invalid message format",
                                    detail=f"{len(self.data) - self.pos} unexpected bytes")


# -- the hot frontend messages, read in one go -------------------------------------------------

def _name(body: bytes, start: int) -> tuple[str, int]:
    end = body.find(b"\0", start)
    if end < 0:
        raise ProtocolViolation("invalid string in message")
    try:
        return body[start:end].decode("utf-8"), end + 1
    except UnicodeDecodeError as e:
        bad = body[start + e.start: start + e.start + 1].hex()
        raise ProtocolViolation(f'invalid byte sequence for encoding "UTF8": 0x{bad}') from None


def read_bind(body: bytes) -> tuple[str, str, tuple[int, ...], list[bytes | None],
                                    tuple[int, ...]]:
    """Bind: (portal, statement, parameter formats, parameter values (None = NULL),
    result formats). Same checks as Reader, without a method call per field."""
    portal, pos = _name(body, 0)
    stmt, pos = _name(body, pos)
    try:
        (n,) = _I16.unpack_from(body, pos)
        if n < 0:
            raise ProtocolViolation("invalid number of parameter formats in Bind message")
        formats = struct.unpack_from(f"!{n}h", body, pos + 2)
        pos += 2 + 2 * n
        (n,) = _I16.unpack_from(body, pos)
        if n < 0:
            raise ProtocolViolation("invalid number of parameters in Bind message")
        pos += 2
        values: list[bytes | None] = []
        end = len(body)
        for _ in range(n):
            (length,) = _I32.unpack_from(body, pos)
            pos += 4
            if length == -1:
                values.append(None)
                continue
            if length < -1 or pos + length > end:
                raise ProtocolViolation("insufficient data left in message" if length >= 0
                                        else f"invalid parameter length {length}")
            values.append(body[pos: pos + length])
            pos += length
        (n,) = _I16.unpack_from(body, pos)
        if n < 0:
            raise ProtocolViolation("invalid number of result formats in Bind message")
        result_formats = struct.unpack_from(f"!{n}h", body, pos + 2)
        pos += 2 + 2 * n
    except struct.error:
        raise ProtocolViolation("insufficient data left in message") from None
    if pos != len(body):
        raise ProtocolViolation("invalid message format",
                                detail=f"{len(body) - pos} unexpected bytes")
    return portal, stmt, formats, values, result_formats


def read_execute(body: bytes) -> tuple[str, int]:
    """Execute: (portal, row limit; 0 = all)."""
    portal, pos = _name(body, 0)
    if len(body) != pos + 4:
        raise ProtocolViolation("insufficient data left in message" if len(body) < pos + 4
                                else "invalid message format")
    return portal, _I32.unpack_from(body, pos)[0]
