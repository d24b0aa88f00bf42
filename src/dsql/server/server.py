"""The listening server: accepts connections, admits them up to max_connections, routes
CancelRequests, enforces timeouts (a watchdog on the event loop) and shuts down cleanly.

Shutdown (SIGTERM / SIGINT through the runner, or ``shutdown()``): stop accepting; every
connection ends after the statement it is running (FATAL 57P01 "terminating connection due to
administrator command"); statements still running after ``shutdown_timeout_s`` are cancelled,
and connections still open a little later are aborted; then ``Backend.close()`` (which flushes
the journal) runs and the worker pool stops.

Thread-safety: all methods run on the event-loop thread except where noted.

Invariants:
  1. ``_sessions`` holds admitted connections only, keyed by their unique backend pid; its size
     never exceeds max_connections.
  2. ``_connections`` holds every connection from connection_made until it is released; its
     size never exceeds max_connections + HANDSHAKES_EXTRA (more sockets are closed at once).
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import logging
import os
import secrets
import ssl
import struct
import time
from concurrent.futures import ThreadPoolExecutor

from dsql.server.auth import RoleStore
from dsql.server.backend import Backend
from dsql.server.config import ServerConfig
from dsql.server.connection import Connection
from dsql.server.workers import WorkerPool

log = logging.getLogger("dsql.server")

WATCHDOG_INTERVAL_S = 0.02
SHUTDOWN_GRACE_S = 2.0          # after cancelling, before aborting sockets
EXTRA_WORKERS = 8
HANDSHAKES_EXTRA = 64           # sockets beyond max_connections allowed to be in startup
SHUTDOWN_POLL_S = 0.02


class Server:
    """A PostgreSQL protocol server over one Backend. Start with ``await start()``."""

    def __init__(self, config: ServerConfig, backend: Backend, roles: RoleStore,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.config = config
        self.backend = backend
        self.roles = roles
        self.ssl_context = ssl_context
        self.loop: asyncio.AbstractEventLoop = None  # type: ignore[assignment] # set in start()
        # Connection jobs (one per connection at most) and the rare awaited calls.
        self.workers = WorkerPool(config.max_connections + EXTRA_WORKERS, "dsql-session")
        self.executor = ThreadPoolExecutor(max_workers=EXTRA_WORKERS,
                                           thread_name_prefix="dsql-handshake")
        self.mock_key = secrets.token_bytes(32)
        self.host = config.host
        self.port = config.port
        self._pids = itertools.count(max(1000, os.getpid() % 100_000 * 100) % (2**31 - 1))
        self._server: asyncio.base_events.Server | None = None
        self._connections: set[Connection] = set()
        self._sessions: dict[int, Connection] = {}
        self._watchdog: asyncio.TimerHandle | None = None
        self._closing = False

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """REQUIRES: not started. Binds the socket and starts the watchdog."""
        assert self._server is None, "started twice"
        self.loop = asyncio.get_running_loop()
        self._server = await self.loop.create_server(
            lambda: Connection(self), self.config.host, self.config.port,
            reuse_address=True, backlog=max(128, self.config.max_connections))
        sock = self._server.sockets[0]
        self.host, self.port = sock.getsockname()[:2]
        self._schedule_watchdog()
        log.info("listening on %s:%d (max_connections %d, auth %s, tls %s)", self.host,
                 self.port, self.config.max_connections, self.config.auth_method,
                 "on" if self.ssl_context else "off")

    async def shutdown(self) -> None:
        """Stops accepting, lets running statements finish (with a deadline), closes all."""
        if self._closing:
            return
        self._closing = True
        log.info("shutting down: %d connection(s) open", len(self._connections))
        if self._server is not None:
            self._server.close()
        for conn in list(self._connections):
            conn.begin_shutdown()
        deadline = time.monotonic() + self.config.shutdown_timeout_s
        while self._connections and time.monotonic() < deadline:
            await asyncio.sleep(SHUTDOWN_POLL_S)
        if self._connections:
            log.warning("shutdown: cancelling %d statement(s) still running",
                        len(self._connections))
            for conn in list(self._connections):
                conn.cancel_statement("shutdown")
            grace = time.monotonic() + SHUTDOWN_GRACE_S
            while self._connections and time.monotonic() < grace:
                await asyncio.sleep(SHUTDOWN_POLL_S)
        for conn in list(self._connections):
            conn.abort()
        grace = time.monotonic() + SHUTDOWN_GRACE_S  # sessions close after their sockets
        while self._connections and time.monotonic() < grace:
            await asyncio.sleep(SHUTDOWN_POLL_S)
        if self._connections:
            log.warning("shutdown: %d session(s) did not close in time",
                        len(self._connections))
        if self._watchdog is not None:
            self._watchdog.cancel()
        try:
            await self.loop.run_in_executor(self.executor, self.backend.close)
        except Exception:
            log.exception("closing the backend failed")
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.workers.shutdown()
        log.info("shut down")

    # -- connections ---------------------------------------------------------------------------

    def register(self, conn: Connection) -> bool:
        """A new socket; False (close it) when too many are open, handshakes included."""
        if self._closing or len(self._connections) >= self.config.max_connections \
                + HANDSHAKES_EXTRA:
            return False
        self._connections.add(conn)
        return True

    def admit(self, conn: Connection) -> bool:
        """Gives `conn` a backend pid and secret, or False when max_connections is reached."""
        if self._closing or len(self._sessions) >= self.config.max_connections:
            return False
        assert conn not in self._sessions.values() and conn in self._connections
        pid = next(self._pids)
        while pid in self._sessions or pid <= 0:
            pid = next(self._pids) if pid < 2**31 - 1 else 1000
        conn.pid = pid
        conn.secret = struct.unpack("!i", secrets.token_bytes(4))[0]
        self._sessions[pid] = conn
        assert len(self._sessions) <= self.config.max_connections
        return True

    def release(self, conn: Connection) -> None:
        self._connections.discard(conn)
        if self._sessions.get(conn.pid) is conn:
            del self._sessions[conn.pid]

    def cancel(self, pid: int, secret: int) -> None:
        """A CancelRequest: cancels pid's running statement if the secret matches."""
        conn = self._sessions.get(pid)
        if conn is None or not hmac.compare_digest(struct.pack("!i", conn.secret),
                                                   struct.pack("!i", secret)):
            log.info("cancel request for pid %d ignored (no such backend or wrong key)", pid)
            return
        if conn.cancel_statement("user"):
            log.info("cancel request for pid %d: statement cancelled", pid)

    @property
    def connection_count(self) -> int:
        return len(self._sessions)

    # -- timeouts ------------------------------------------------------------------------------

    def _schedule_watchdog(self) -> None:
        self._watchdog = self.loop.call_later(WATCHDOG_INTERVAL_S, self._tick)

    def _tick(self) -> None:
        now = time.monotonic()
        for conn in list(self._sessions.values()):
            try:
                conn.check_timeouts(now)
            except Exception:
                log.exception("timeout check failed for pid %d", conn.pid)
        if not self._closing:
            self._schedule_watchdog()
