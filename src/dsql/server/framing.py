"""Splitting a PostgreSQL v3 byte stream into messages, with length caps.

Wire grammar (all integers big-endian, lengths count themselves but not the type byte)::

    startup-packet  := Int32 length, Int32 code, body[length - 8]      -- first packet(s) only
    message         := Byte1 type, Int32 length, body[length - 4]

Startup packets (StartupMessage, SSLRequest, GSSENCRequest, CancelRequest) are capped at
STARTUP_LENGTH_MAX bytes, like PostgreSQL's MAX_STARTUP_PACKET_LENGTH. Regular messages are
capped per type: the ones that carry statements or data (Query, Parse, Bind, CopyData,
FunctionCall, CopyFail) at `large_max` (1 GiB by default), authentication responses at
AUTH_MESSAGE_MAX, everything else at SMALL_MESSAGE_MAX. A message over its cap is rejected from
its header alone, before its body is buffered.

Thread-safety: a FrameBuffer belongs to one connection and is used from the event loop only.

Invariants:
  1. `_pos <= len(_buf)`; bytes before `_pos` belong to messages already returned.
  2. A returned message's body is exactly its declared length minus 4.
  3. After `next()` raises ProtocolViolation the buffer is poisoned: every later call raises.
"""

from __future__ import annotations

import struct

from dsql.server.errors import ProtocolViolation

STARTUP_LENGTH_MAX = 10_000
SMALL_MESSAGE_MAX = 10_000
AUTH_MESSAGE_MAX = 65_535
LARGE_MESSAGE_MAX = 1 << 30
COMPACT_BYTES_MIN = 1 << 16

# Frontend message types after startup (protocol v3).
FRONTEND_TYPES = frozenset(b"BCcDdEFfHPpQSX")
LARGE_TYPES = frozenset(b"BdFfPQ")

_I32 = struct.Struct("!i")
_HEADER = struct.Struct("!Bi")


class FrameBuffer:
    """Accumulates received bytes and yields complete messages as ``(type, body)``.

    In startup mode the type is 0 (startup packets have no type byte); call
    :meth:`end_startup` once the StartupMessage has been read.
    """

    def __init__(self, large_max: int = LARGE_MESSAGE_MAX) -> None:
        assert large_max >= SMALL_MESSAGE_MAX
        self._buf = bytearray()
        self._pos = 0
        self._large_max = large_max
        self._poisoned: ProtocolViolation | None = None
        self.startup = True

    def feed(self, data: bytes) -> None:
        if self._pos and self._pos == len(self._buf):
            self._buf.clear()
            self._pos = 0
        elif self._pos >= COMPACT_BYTES_MIN and self._pos * 2 >= len(self._buf):
            del self._buf[: self._pos]
            self._pos = 0
        self._buf += data

    @property
    def buffered_bytes(self) -> int:
        """Bytes received but not yet returned as messages."""
        return len(self._buf) - self._pos

    def end_startup(self) -> None:
        assert self.startup, "startup already ended"
        self.startup = False

    def _fail(self, message: str, detail: str | None = None) -> ProtocolViolation:
        self._poisoned = ProtocolViolation(message, detail=detail)
        return self._poisoned

    def next(self) -> tuple[int, bytes] | None:
        """The next complete message, or None if more bytes are needed.

        Raises ProtocolViolation (fatal, 08P01) for an invalid length or an unknown type.
        """
        if self._poisoned is not None:
            raise self._poisoned
        buf, pos = self._buf, self._pos
        avail = len(buf) - pos
        assert avail >= 0
        if self.startup:
            if avail < 4:
                return None
            (length,) = _I32.unpack_from(buf, pos)
            if length < 8 or length > STARTUP_LENGTH_MAX:
                raise self._fail("invalid length of startup packet",
                                 f"length {length}; allowed 8 to {STARTUP_LENGTH_MAX}")
            if avail < length:
                return None
            self._pos = pos + length
            return 0, bytes(buf[pos + 4: pos + length])
        if avail < 5:
            if avail >= 1 and buf[pos] not in FRONTEND_TYPES:
                raise self._fail(f"invalid frontend message type {buf[pos]}")
            return None
        mtype, length = _HEADER.unpack_from(buf, pos)
        if mtype not in FRONTEND_TYPES:
            raise self._fail(f"invalid frontend message type {mtype}")
        if mtype in LARGE_TYPES:
            cap = self._large_max
        elif mtype == 0x70:  # 'p': password / SASL response
            cap = AUTH_MESSAGE_MAX
        else:
            cap = SMALL_MESSAGE_MAX
        if length < 4 or length > cap:
            raise self._fail("invalid message length",
                             f"message type {chr(mtype)!r} declares length {length}; "
                             f"allowed 4 to {cap}")
        if avail < length + 1:
            return None
        self._pos = pos + 1 + length
        return mtype, bytes(buf[pos + 5: pos + 1 + length])
