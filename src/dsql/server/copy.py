"""The ClientChannel of one connection: COPY data moving between the client and a statement.

COPY FROM STDIN: ``copy_in`` sends CopyInResponse, flushes, and hands the running statement an
iterator that pulls CopyData payloads from the connection's inbox in order (Flush and Sync are
ignored during copy-in, as the protocol says). COPY TO STDOUT: ``copy_out`` sends
CopyOutResponse and returns a writer whose CopyData messages go out in batches of FLUSH_BYTES.

Thread-safety: used only on the thread running the statement (backend contract 4).
"""

from __future__ import annotations

from collections.abc import Iterator

from dsql.server import messages as m
from dsql.server.errors import ProtocolViolation, QueryCanceled
from dsql.server.query import COPY_DATA, COPY_DONE, COPY_FAIL, FLUSH, SYNC, Processor

COPY_MESSAGES_MAX = 1 << 40  # a bound on the receive loop; far above any real copy


class ConnectionChannel:
    """Implements backend.ClientChannel over a Processor and its Wire."""

    def __init__(self, processor: Processor) -> None:
        self._proc = processor

    def copy_in(self, *, column_count: int, binary: bool = False) -> Iterator[bytes]:
        assert 0 <= column_count <= 65535
        proc = self._proc
        proc.out += m.copy_response(b"G", binary, column_count)
        proc.flush()
        return self._payloads()

    def _payloads(self) -> Iterator[bytes]:
        wire = self._proc.wire
        for _ in range(COPY_MESSAGES_MAX):
            mtype, body = wire.next_message()
            if mtype == COPY_DATA:
                yield body
            elif mtype == COPY_DONE:
                return
            elif mtype == COPY_FAIL:
                reason = m.Reader(body).cstring()
                raise QueryCanceled(f"COPY from stdin failed: {reason}")
            elif mtype in (FLUSH, SYNC):
                continue
            else:
                raise ProtocolViolation(
                    f"unexpected message type 0x{mtype:02X} during COPY from stdin",
                    fatal=False)
        raise ProtocolViolation("COPY from stdin has too many messages")

    def copy_out(self, *, column_count: int, binary: bool = False) -> CopyOutWriter:
        assert 0 <= column_count <= 65535
        self._proc.out += m.copy_response(b"H", binary, column_count)
        return CopyOutWriter(self._proc)


class CopyOutWriter:
    """backend.CopyOut: CopyData per write, CopyDone at close."""

    def __init__(self, processor: Processor) -> None:
        self._proc = processor
        self._closed = False

    def write(self, data: bytes) -> None:
        assert not self._closed, "write after close"
        if data:
            self._proc.out += m.copy_data(data)
            if len(self._proc.out) >= 256 * 1024:
                self._proc.flush()

    def close(self) -> None:
        assert not self._closed, "closed twice"
        self._closed = True
        self._proc.out += m.COPY_DONE
