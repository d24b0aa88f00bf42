"""A hand-written PostgreSQL v3 protocol client for tests that need exact control of messages.

Builds frontend messages byte by byte (independently of the server's own encoders) and reads
backend messages one at a time. Not thread-safe: one test thread per RawClient.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Sequence
from typing import Any

Message = tuple[str, bytes]


def msg(mtype: bytes, body: bytes = b"") -> bytes:
    return mtype + struct.pack("!i", len(body) + 4) + body


def cstr(s: str) -> bytes:
    return s.encode() + b"\0"


def startup_packet(params: dict[str, str], version: int = 196608) -> bytes:
    body = struct.pack("!i", version) + b"".join(cstr(k) + cstr(v) for k, v in params.items())
    body += b"\0"
    return struct.pack("!i", len(body) + 4) + body


def query(sql: str) -> bytes:
    return msg(b"Q", cstr(sql))


def parse(name: str, sql: str, oids: Sequence[int] = ()) -> bytes:
    return msg(b"P", cstr(name) + cstr(sql) + struct.pack(f"!h{len(oids)}I", len(oids), *oids))


def bind(portal: str, stmt: str, params: Sequence[bytes | None] = (),
         formats: Sequence[int] = (), result_formats: Sequence[int] = ()) -> bytes:
    body = cstr(portal) + cstr(stmt)
    body += struct.pack(f"!h{len(formats)}h", len(formats), *formats)
    body += struct.pack("!h", len(params))
    for p in params:
        body += struct.pack("!i", -1) if p is None else struct.pack("!i", len(p)) + p
    body += struct.pack(f"!h{len(result_formats)}h", len(result_formats), *result_formats)
    return msg(b"B", body)


def describe(kind: str, name: str) -> bytes:
    return msg(b"D", kind.encode() + cstr(name))


def execute(portal: str, max_rows: int = 0) -> bytes:
    return msg(b"E", cstr(portal) + struct.pack("!i", max_rows))


def close(kind: str, name: str) -> bytes:
    return msg(b"C", kind.encode() + cstr(name))


SYNC = msg(b"S")
FLUSH = msg(b"H")
TERMINATE = msg(b"X")
COPY_DONE = msg(b"c")


def copy_data(data: bytes) -> bytes:
    return msg(b"d", data)


def copy_fail(reason: str) -> bytes:
    return msg(b"f", cstr(reason))


def fields(body: bytes) -> dict[str, str]:
    """ErrorResponse / NoticeResponse fields by code letter."""
    out: dict[str, str] = {}
    i = 0
    while body[i] != 0:
        code = chr(body[i])
        end = body.index(b"\0", i + 1)
        out[code] = body[i + 1: end].decode()
        i = end + 1
    return out


def data_row(body: bytes) -> list[bytes | None]:
    (n,) = struct.unpack_from("!h", body)
    pos, out = 2, []
    for _ in range(n):
        (ln,) = struct.unpack_from("!i", body, pos)
        pos += 4
        if ln < 0:
            out.append(None)
        else:
            out.append(body[pos: pos + ln])
            pos += ln
    return out


def row_description(body: bytes) -> list[dict[str, Any]]:
    (n,) = struct.unpack_from("!h", body)
    pos, out = 2, []
    for _ in range(n):
        end = body.index(b"\0", pos)
        name = body[pos:end].decode()
        table, col, oid, typlen, typmod, fmt = struct.unpack_from("!IhIhih", body, end + 1)
        out.append({"name": name, "table_oid": table, "column_no": col, "type_oid": oid,
                    "typlen": typlen, "typmod": typmod, "format": fmt})
        pos = end + 1 + 18
    return out


class RawClient:
    """One socket to the server; `read()` returns (type letter, body)."""

    def __init__(self, host: str, port: int, timeout_s: float = 10.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout_s)
        self.buf = b""
        self.params: dict[str, str] = {}
        self.pid = 0
        self.secret = 0

    def send(self, *data: bytes) -> None:
        self.sock.sendall(b"".join(data))

    def _fill(self, n: int) -> bool:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                return False
            self.buf += chunk
        return True

    def read_raw(self, n: int) -> bytes:
        assert self._fill(n), "connection closed"
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read(self) -> Message:
        if not self._fill(5):
            raise ConnectionError("connection closed by server")
        mtype = chr(self.buf[0])
        (length,) = struct.unpack_from("!i", self.buf, 1)
        if not self._fill(1 + length):
            raise ConnectionError("connection closed mid-message")
        body = self.buf[5: 1 + length]
        self.buf = self.buf[1 + length:]
        return mtype, body

    def read_until(self, *types: str) -> list[Message]:
        out = []
        for _ in range(100_000):
            m = self.read()
            out.append(m)
            if m[0] in types:
                return out
        raise AssertionError("no end message")

    def read_until_ready(self) -> list[Message]:
        return self.read_until("Z")

    def closed_by_server(self) -> bool:
        """True if the server closed the connection (after any pending messages)."""
        try:
            for _ in range(1000):
                self.read()
        except (ConnectionError, OSError):
            return True
        return False

    def startup(self, user: str = "admin", database: str = "dsql", **params: str
                ) -> list[Message]:
        """Trust-auth startup; returns the messages up to and including ReadyForQuery."""
        self.send(startup_packet({"user": user, "database": database, **params}))
        msgs = self.read_until_ready()
        for t, body in msgs:
            if t == "S":
                k, v, _ = body.split(b"\0")
                self.params[k.decode()] = v.decode()
            elif t == "K":
                self.pid, self.secret = struct.unpack("!ii", body)
            elif t == "E":
                raise AssertionError(f"startup failed: {fields(body)}")
        return msgs

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
