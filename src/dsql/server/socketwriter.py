"""Writing replies straight to a connection's socket from a worker thread.

A reply written through the asyncio transport costs a thread hop (call_soon_threadsafe wakes
the loop, which then writes). On plain TCP the worker instead writes to a duplicate of the
socket's descriptor: the loop keeps reading from its own descriptor and never writes after the
handshake, so the two never interleave. The duplicate keeps the socket alive until close(), so
the descriptor number cannot be reused for another connection while a worker still holds it.

A write is first tried in C++ holding the GIL (it never blocks): os.write would release the GIL
for the syscall, and with other connections' threads waiting for it this thread would then
queue behind their whole statements before it could go on.

Thread-safety: write() from the connection's worker (one at a time); close() once, after the
last write.
"""

from __future__ import annotations

import os
import select
from collections.abc import Callable
from typing import Any

from dsql._core._kernels.wire import send_now
from dsql.server.errors import ConnectionLost

WAIT_SLICE_S = 0.5
WAIT_SLICES_MAX = 2 * 86_400 * 7  # a week of slices: the bound on one blocked write


class SocketWriter:
    def __init__(self, fd: int) -> None:
        assert fd >= 0
        self._fd: int | None = fd

    @classmethod
    def for_transport(cls, transport: Any) -> SocketWriter | None:
        """A writer on a duplicate of the transport's socket, or None if it has none."""
        sock = transport.get_extra_info("socket")
        if sock is None:
            return None
        try:
            return cls(os.dup(sock.fileno()))
        except (OSError, ValueError):
            return None

    @property
    def fileno(self) -> int:
        assert self._fd is not None, "closed"
        return self._fd

    def write(self, data: bytes, gone: Callable[[], bool]) -> None:
        """Writes all of `data`, waiting while the socket buffer is full; raises
        ConnectionLost if the client is gone (`gone()` or a socket error)."""
        fd = self._fd
        assert fd is not None, "write after close"
        # First without giving up the GIL (the common case: the socket takes it all at once).
        sent = send_now(fd, data)
        if sent == len(data):
            return
        view = memoryview(data)[sent:]
        for _ in range(WAIT_SLICES_MAX):
            if gone():
                raise ConnectionLost("connection to client lost")
            try:
                n = os.write(fd, view)
            except BlockingIOError:  # the descriptor is non-blocking (shared with the loop)
                select.select([], [fd], [], WAIT_SLICE_S)
                continue
            except OSError as e:
                raise ConnectionLost(f"connection to client lost: {e.strerror}") from None
            view = view[n:]
            if not view:
                return
        raise ConnectionLost("client did not read for too long")

    def close(self) -> None:
        fd, self._fd = self._fd, None
        assert fd is not None, "closed twice"
        os.close(fd)
