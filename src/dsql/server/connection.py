"""One client connection: an asyncio.Protocol that frames bytes and hands messages to a worker.

Life of a connection:

1. Handshake (event-loop thread, a coroutine): SSLRequest / GSSENCRequest negotiation (TLS via
   ``loop.start_tls``), CancelRequest, StartupMessage, max_connections admission,
   authentication, then ``Backend.open_session`` in the worker pool and the greeting
   (AuthenticationOk, ParameterStatus..., BackendKeyData, ReadyForQuery).
2. Ready, thread mode (plain TCP, the default): the loop stops reading the socket and the
   connection's own thread (``_thread_main``) reads it through the C++ SocketReader, frames
   the bytes and feeds the messages, in order, to the Processor; the fast lane (fastpath.py)
   answers point SELECTs inside the reader. The loop reaches the thread through the inbox
   (control entries: shutdown, idle timeout) and an eventfd that wakes it.
   Ready, otherwise (TLS, ``connection_threads`` off): ``data_received`` frames messages into
   a bounded inbox (or the fast lane answers them on the loop); one job at a time runs in the
   server's worker pool (workers.py) and feeds them, in order, to the connection's Processor
   (which calls the Session). COPY FROM STDIN pulls later messages from the inbox.
3. End: Terminate, a fatal error, the client leaving, an idle-in-transaction timeout or server
   shutdown; the session is closed exactly once, on a worker.

Thread-safety contract:
  - ``data_received``, ``connection_lost``, the handshake, ``cancel_statement``,
    ``check_timeouts`` and ``begin_shutdown`` run on the event-loop thread.
  - The Wire methods (``write``, ``next_message``, ``statement_begin`` ...) run on the worker
    thread that is running this connection's job, or on the connection's own thread (thread
    mode, where that thread is the job for the connection's whole life).
  - The eventfd is written (``_wake``) and closed (``_release``) on the event-loop thread
    only, so it is never written after it is closed.
  - ``_lock`` guards the inbox, ``_job_running``, ``_gone`` and ``_session_state``.

Invariants:
  1. At most one job per connection runs at a time (``_job_running`` is set by whoever submits
     one and cleared by the job, both under ``_lock``), so messages are handled in order.
  2. ``_inbox_bytes`` is the sum of the body sizes in ``_inbox``; reading from the socket is
     paused while it exceeds INBOX_BYTES_HIGH and resumed below INBOX_BYTES_LOW.
  3. Bytes reach the client in the order they were produced: the handshake writes through
     the transport and finishes before the first job. Jobs write straight to a duplicate of
     the socket's descriptor (plain TCP, and only if the transport had nothing buffered), or
     through call_soon_threadsafe to the transport (TLS); a connection uses one way only. The
     duplicate descriptor is closed after the session, so it can never be reused under us.
  4. ``_session_state`` goes none -> opening -> open -> closing -> closed (or opening ->
     none when open_session fails); Session.close runs exactly once, and the server slot is
     released once, after it (or at once when no session was opened).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from dsql._core._kernels import wire
from dsql.errors import DsqlError
from dsql.server import messages as m
from dsql.server import parameters
from dsql.server.auth import Role
from dsql.server.backend import StartupInfo
from dsql.server.copy import ConnectionChannel
from dsql.server.errors import (
    AdminShutdown,
    ConnectionLost,
    IdleInTransactionTimeout,
    InvalidAuthorization,
    InvalidPassword,
    ProtocolViolation,
    QueryCanceled,
    TooManyConnections,
)
from dsql.server.fastpath import FastLane
from dsql.server.framing import FrameBuffer
from dsql.server.login import authenticate
from dsql.server.query import Processor
from dsql.server.socketwriter import SocketWriter
from dsql.server.startup import ClientRequest, parse_startup_packet, resolve_startup

if TYPE_CHECKING:
    from dsql.server.server import Server

log = logging.getLogger("dsql.server")

CONTROL = -1                      # an inbox entry carrying an exception to end the connection
INBOX_BYTES_HIGH = 8 << 20
INBOX_BYTES_LOW = 2 << 20
INBOX_MESSAGES_HIGH = 100_000
HANDSHAKE_QUEUE_MAX = 16
NEGOTIATIONS_MAX = 4              # SSLRequest / GSSENCRequest rounds before StartupMessage
JOB_MESSAGES_MAX = 10_000         # messages per job before it yields its pool thread
THREAD_WAIT_MS = 5_000            # thread mode: the longest wait before looking around
THREAD_ROUNDS_MAX = 1 << 62       # thread mode: the bound on a connection's loop
WAIT_SLICE_S = 0.5
WAIT_SLICES_MAX = 2 * 86_400 * 7  # a week of slices: the bound on any single wait


class _ClientGone(Exception):
    """The client closed the connection during the handshake."""


class Connection(asyncio.Protocol):
    """See the module docstring."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.config = server.config
        self.loop = server.loop
        self.transport: Any = None
        self.frames = FrameBuffer(self.config.message_size_max)
        self.phase = "handshake"          # handshake -> ready -> closed
        self.peer = ""
        self.pid = 0
        self.secret = 0
        self.request: ClientRequest | None = None
        self.tls = False
        self.opened_at = time.monotonic()
        self._hs_queue: asyncio.Queue[tuple[int, bytes] | None] = asyncio.Queue()
        self._hs_task: asyncio.Task[None] | None = None
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._inbox: deque[tuple[int, Any]] = deque()
        self._inbox_bytes = 0
        self._job_running = False
        self._reading_paused = False
        self._gone = False
        self._session_state = "none"
        self._writable = threading.Event()
        self._writable.set()
        self._direct: SocketWriter | None = None  # worker writes straight to the socket
        self._lane: FastLane | None = None  # C++ answers for point SELECTs (fastpath.py)
        # Thread mode: the connection's own thread reads its socket (see _thread_main).
        self._thread_mode = False
        self._busy = False  # thread mode: a message is being handled (idle tracking)
        self._wake_fd: int | None = None  # thread mode: an eventfd the loop wakes it through
        self._reader: Any = None  # thread mode: the C++ SocketReader
        self.processor: Processor | None = None
        # Statement and idle tracking; written by the worker, read by the watchdog.
        self.statement_started: float | None = None
        self._cancel_reason: str | None = None
        self._copy_cancel = False
        self.statement_timeout_ms = self.config.statement_timeout_ms
        self.idle_in_transaction_timeout_ms = self.config.idle_in_transaction_timeout_ms
        self.ready_status = "I"
        self.ready_at = time.monotonic()
        self.last_message_at = self.ready_at

    # -- asyncio.Protocol ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer or "local")
        if not self.server.register(self):
            log.warning("%s: refused: too many connections in startup", self.peer)
            self.phase = "closed"
            transport.close()
            return
        self._hs_task = self.loop.create_task(self._handshake())

    def data_received(self, data: bytes) -> None:
        if self._gone or self.phase == "closed":
            return
        if self._lane is not None and self.phase == "ready" and self._try_fast(data):
            return
        self.frames.feed(data)
        try:
            while True:
                msg = self.frames.next()
                if msg is None:
                    break
                if self.phase == "handshake":
                    self._handshake_message(msg)
                else:
                    self._enqueue(msg)
        except ProtocolViolation as exc:
            if self.phase == "handshake":
                self._fatal_now(exc)
            else:
                self._enqueue_control(exc)
                self._pause_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        with self._lock:
            self._gone = True
            self._cond.notify_all()
        self._writable.set()
        self._wake()
        if self._hs_task is not None and not self._hs_task.done():
            self._hs_queue.put_nowait(None)  # wakes the handshake: the client is gone
        self.phase = "closed"
        self._teardown()

    def _teardown(self) -> None:
        """Event-loop thread, once the socket is gone: close the session (unless a job is
        running, which closes it itself, or it is still opening) and release the slot."""
        assert self._gone
        with self._lock:
            state = self._session_state
            if state in ("opening", "closing"):
                return
            submit = state == "open" and not self._job_running
            if submit:
                self._job_running = True  # claim: no job starts after this
        if submit:
            self.server.workers.submit(self._close_session)
        elif state in ("none", "closed"):
            self._release()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    # -- handshake (event-loop thread) ---------------------------------------------------------

    def _handshake_message(self, msg: tuple[int, bytes]) -> None:
        mtype, body = msg
        if mtype == 0 and self.frames.startup:
            code = int.from_bytes(body[:4], "big", signed=True)
            if code not in (m.SSL_REQUEST_CODE, m.GSSENC_REQUEST_CODE, m.CANCEL_REQUEST_CODE):
                self.frames.end_startup()  # a StartupMessage: regular messages follow
        if self._hs_queue.qsize() >= HANDSHAKE_QUEUE_MAX:
            raise ProtocolViolation("too many messages during authentication")
        self._hs_queue.put_nowait(msg)

    async def handshake_packet(self) -> tuple[int, bytes]:
        msg = await self._hs_queue.get()
        if msg is None:
            raise _ClientGone()
        return msg

    def handshake_send(self, data: bytes) -> None:
        """Handshake write; the client being gone ends the handshake."""
        if self.transport is None or self.transport.is_closing() or self._gone:
            raise _ClientGone()
        self.transport.write(data)

    def _fatal_now(self, exc: BaseException) -> None:
        """Sends a FATAL ErrorResponse and closes (handshake phase, event-loop thread)."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(m.error_response(exc, "FATAL"))
            self.transport.close()
        self.phase = "closed"

    async def _handshake(self) -> None:
        try:
            await asyncio.wait_for(self._handshake_steps(), self.config.auth_timeout_s)
        except _ClientGone:
            pass
        except asyncio.TimeoutError:
            log.warning("%s: canceling authentication due to timeout", self.peer)
            self._close_transport()
        except (DsqlError, ConnectionError, OSError) as exc:
            if isinstance(exc, (InvalidPassword, InvalidAuthorization)):
                log.warning("%s: %s", self.peer, getattr(exc, "message", exc))
            elif isinstance(exc, DsqlError):
                log.info("%s: handshake failed: %s", self.peer, exc)
            if isinstance(exc, DsqlError):
                self._fatal_now(exc)
            else:
                self._close_transport()
        except Exception as exc:  # a bug: say so to the client and the log
            log.exception("%s: handshake failed", self.peer)
            self._fatal_now(exc)
        finally:
            if self._gone:
                self._teardown()

    async def _handshake_steps(self) -> None:
        for _ in range(NEGOTIATIONS_MAX + 1):
            mtype, body = await self.handshake_packet()
            assert mtype == 0, "startup packets have no type byte"
            packet = parse_startup_packet(body)
            if packet.is_cancel_request:
                self.server.cancel(packet.cancel_pid, packet.cancel_secret)
                self._close_transport()
                return
            if packet.is_ssl_request:
                await self._negotiate_tls()
                continue
            if packet.is_gssenc_request:
                self.handshake_send(b"N")
                continue
            break
        else:
            raise ProtocolViolation("too many encryption negotiation requests")
        req = resolve_startup(packet)
        self.request = req
        if self._gone:
            raise _ClientGone()
        if not self.server.admit(self):
            raise TooManyConnections("sorry, too many clients already")
        if req.protocol_minor > 0 or req.unrecognized_options:
            self.handshake_send(m.negotiate_protocol_version(0, req.unrecognized_options))
        role = await self._authenticate(req)
        await self._open_session(req, role)

    async def _negotiate_tls(self) -> None:
        ctx = self.server.ssl_context
        if self.tls:
            raise ProtocolViolation("SSLRequest received on an encrypted connection")
        if ctx is None:
            self.handshake_send(b"N")
            return
        if self.frames.buffered_bytes or not self._hs_queue.empty():
            raise ProtocolViolation("received unencrypted data after SSL request",
                                    detail="This could be a man-in-the-middle attack.")
        self.handshake_send(b"S")
        self.transport = await self.loop.start_tls(self.transport, self, ctx, server_side=True)
        self.tls = True

    async def _authenticate(self, req: ClientRequest) -> Role | None:
        role = await self.loop.run_in_executor(self.server.executor,
                                               self.server.roles.get_role, req.user)
        return await authenticate(self, self.config.auth_method, req.user, role,
                                  self.server.mock_key)

    async def _open_session(self, req: ClientRequest, role: Role | None) -> None:
        superuser = role.superuser if role is not None else False
        info = StartupInfo(user=req.user, database=req.database,
                           application_name=req.application_name, settings=dict(req.settings),
                           backend_pid=self.pid, is_superuser=superuser,
                           remote_address=self.peer)
        reported = parameters.defaults(self.config.server_version)
        reported.update(self.config.extra_parameters)
        proc = Processor(self, reported)
        channel = ConnectionChannel(proc)
        backend = self.server.backend

        def open_in_pool() -> tuple[Any, dict[str, str]]:
            session = backend.open_session(info, channel)
            return session, dict(session.parameter_status())

        with self._lock:
            self._session_state = "opening"
        try:
            session, engine_params = await self.loop.run_in_executor(self.server.executor,
                                                                      open_in_pool)
        except BaseException:
            with self._lock:
                self._session_state = "none"
            raise
        proc.session = session
        self.processor = proc
        with self._lock:
            self._session_state = "open"
        if self._gone:  # the client left while the session was opening
            self._teardown()
            return
        for name, value in engine_params.items():
            canon = parameters.canonical_name(name)
            if canon is not None:
                reported[canon] = value
        reported.update({
            "application_name": req.application_name, "client_encoding": req.client_encoding,
            "is_superuser": "on" if superuser else "off", "session_authorization": req.user,
        })
        proc.reported = reported
        proc.ctx = parameters.value_context(reported)
        timeouts = {k: v for k, v in req.settings.items()
                    if k.lower() in (parameters.STATEMENT_TIMEOUT,
                                     parameters.IDLE_IN_TRANSACTION_TIMEOUT)}
        if timeouts:
            proc.apply_parameter_changes(timeouts)
        greeting = b"".join(m.parameter_status(k, v) for k, v in reported.items())
        self.handshake_send(greeting + m.backend_key_data(self.pid, self.secret)
                   + m.ready_for_query(session.transaction_status))
        self._use_direct_writes()
        self._use_fast_lane(session)
        self.phase = "ready"
        self.ready_at = time.monotonic()
        log.info("connection authorized: user=%s database=%s application_name=%s pid=%d "
                 "from %s%s", req.user, req.database, req.application_name, self.pid,
                 self.peer, " (TLS)" if self.tls else "")
        threaded = self._use_thread_mode()
        while not self._hs_queue.empty():  # messages the client pipelined behind startup
            msg = self._hs_queue.get_nowait()
            if msg is not None:
                self._enqueue(msg)
        if threaded:
            threading.Thread(target=self._thread_main, name=f"dsql-conn-{self.pid}",
                             daemon=True).start()

    def _use_direct_writes(self) -> None:
        """Lets the worker write to the socket itself (one thread hop less per reply)."""
        if not self.tls and self.config.direct_writes \
                and self.transport.get_write_buffer_size() == 0:
            self._direct = SocketWriter.for_transport(self.transport)

    def _use_fast_lane(self, session: Any) -> None:
        """Point SELECTs answered by the C++ fast path on the event loop (server/fastpath.py);
        only with direct writes, which it shares."""
        fast_path = getattr(self.server.backend, "fast_path", None)
        if self._direct is None or not self.config.fast_path or fast_path is None \
                or not hasattr(session, "cached_point"):
            return
        assert self.processor is not None
        self._lane = self.processor.lane = FastLane(fast_path(), session)

    def _use_thread_mode(self) -> bool:
        """Gives the connection its own thread (plain TCP with direct writes only): it reads
        the socket itself, so a request wakes one thread instead of the event loop and then a
        worker, and the fast lane answers without the GIL. The loop stops reading the socket;
        the thread is this connection's job for its whole life (invariant 1)."""
        if self._direct is None or not self.config.connection_threads:
            return False
        self._wake_fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        with self._lock:
            self._job_running = True
            self._thread_mode = True
        self.transport.pause_reading()
        self._reading_paused = True
        if self._lane is not None:
            # Transactions in the lane too: they may wait (for a snapshot, for the commit's
            # fsync), which only a connection's own thread may do without the GIL.
            self._lane.transactions = True
        return True

    def _wake(self) -> None:
        """Event-loop thread: wakes the connection's thread (thread mode; else nothing)."""
        fd = self._wake_fd
        if fd is not None:
            try:
                os.eventfd_write(fd, 1)
            except OSError:
                pass

    def _lane_open(self) -> bool:
        """Whether the fast lane may answer the next bytes: nothing half-framed, the session
        idle, no unnamed statement or portal that a Query or Bind would replace."""
        proc = self.processor
        if self.frames.buffered_bytes or proc is None or proc.skip_until_sync \
                or proc.state.portals or "" in proc.state.statements:
            return False
        session = proc.session
        return session is not None and session.transaction_status == "I"

    def _try_fast(self, data: bytes) -> bool:
        """Event-loop thread: True when the fast lane answered all of `data` (see
        server/fastpath.py for when it may)."""
        direct = self._direct
        if self._job_running or self._inbox or direct is None or not self._lane_open():
            return False
        assert self._lane is not None
        rest = self._lane.conn.serve(data, direct.fileno)
        if rest is None:
            return False
        self.last_message_at = self.ready_at = time.monotonic()
        if rest:  # the socket is full: a job writes the rest (and what follows waits for it)
            with self._lock:
                self._job_running = True
            self.server.workers.submit(self._finish_write, rest)
        return True

    def _finish_write(self, rest: bytes) -> None:
        """Worker: the rest of a fast-lane reply, then the messages queued behind it."""
        try:
            self.write(rest)
        except ConnectionLost:
            self._finish()
            return
        except Exception:
            log.exception("%s: writing a reply failed", self.peer)
            self._finish()
            return
        self._run_job()

    # -- ready phase: the inbox (event-loop side) ----------------------------------------------

    def _enqueue(self, msg: tuple[int, Any]) -> None:
        self.last_message_at = time.monotonic()
        self._wake()
        with self._lock:
            self._inbox.append(msg)
            if msg[0] != CONTROL:
                self._inbox_bytes += len(msg[1])
            self._cond.notify()
            over = (self._inbox_bytes > INBOX_BYTES_HIGH
                    or len(self._inbox) > INBOX_MESSAGES_HIGH)
            start = not self._job_running and not self._gone
            if start:
                self._job_running = True
        if over:
            self._pause_reading()
        if start:
            self.server.workers.submit(self._run_job)

    def _enqueue_control(self, exc: BaseException, *, first: bool = False) -> None:
        """Queues an exception that ends the connection once the worker reaches it (`first`:
        right after the message being handled now)."""
        with self._lock:
            if first:
                self._inbox.appendleft((CONTROL, exc))
            else:
                self._inbox.append((CONTROL, exc))
            self._cond.notify()
            start = not self._job_running and not self._gone
            if start:
                self._job_running = True
        self._wake()
        if start:
            self.server.workers.submit(self._run_job)

    def _pause_reading(self) -> None:
        if not self._reading_paused and self.transport is not None:
            self._reading_paused = True
            self.transport.pause_reading()

    def _resume_reading(self) -> None:
        if self._reading_paused and self.transport is not None and not self._gone:
            self._reading_paused = False
            self.transport.resume_reading()

    def _close_transport(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def _write_now(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    # -- ready phase: the job (worker thread) --------------------------------------------------

    def _pop(self) -> tuple[int, Any] | None:
        """REQUIRES: _lock held. The next inbox entry, or None if empty."""
        if not self._inbox:
            return None
        msg = self._inbox.popleft()
        if msg[0] != CONTROL:
            self._inbox_bytes -= len(msg[1])
        assert self._inbox_bytes >= 0
        if self._reading_paused and self._inbox_bytes < INBOX_BYTES_LOW:
            self._on_loop(self._resume_reading)
        return msg

    def _on_loop(self, fn: Any, *args: Any) -> bool:
        """Worker thread: schedules fn on the event loop; False if the loop is already closed
        (the very end of a shutdown, when only session cleanup is left)."""
        try:
            self.loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:
            return False
        return True

    def _run_job(self) -> None:
        try:
            for _ in range(JOB_MESSAGES_MAX):
                with self._lock:
                    msg = None if self._gone else self._pop()
                    if msg is None:
                        self._job_running = False
                        gone = self._gone
                        break
                if not self._process(*msg):
                    self._finish()
                    return
            else:
                self.server.workers.submit(self._run_job)  # still running: yield the thread
                return
            if gone:
                self._claim_and_close_session()
        except Exception:
            log.exception("%s: connection job failed", self.peer)
            self._finish()

    def _process(self, mtype: int, body: Any) -> bool:
        proc = self.processor
        assert proc is not None
        try:
            if mtype == CONTROL:
                raise body
            return proc.handle(mtype, body)
        except ConnectionLost:
            return False
        except Exception as exc:
            if getattr(exc, "fatal", False):
                if isinstance(exc, ProtocolViolation):
                    log.warning("%s: %s", self.peer, exc.message)
                proc.out += m.error_response(exc, "FATAL")
            else:
                log.exception("%s: unexpected error", self.peer)
                proc.out += m.error_response(exc, "FATAL")
            return False

    def _finish(self) -> None:
        """Worker thread: flush what is pending, close the socket, close the session."""
        proc = self.processor
        if proc is not None:
            try:
                proc.flush()
            except ConnectionLost:
                pass
        self._on_loop(self._close_transport)
        self._claim_and_close_session()

    def _claim_and_close_session(self) -> None:
        with self._lock:
            self._job_running = True  # no job will start again
        self._close_session()

    def _close_session(self) -> None:
        with self._lock:
            if self._session_state != "open":
                return
            self._session_state = "closing"
        proc = self.processor
        try:
            if proc is not None and proc.session is not None:
                proc.session.close()
        except Exception:
            log.exception("%s: closing the session failed", self.peer)
        finally:
            with self._lock:
                self._session_state = "closed"
                direct, self._direct = self._direct, None
            if direct is not None:
                direct.close()
            self._on_loop(self._release)
            req = self.request
            log.info("disconnection: session time %.3f s user=%s database=%s pid=%d",
                     time.monotonic() - self.opened_at, req.user if req else "?",
                     req.database if req else "?", self.pid)

    def _release(self) -> None:
        """Gives the server slot back (idempotent; the server forgets the connection)."""
        self.server.release(self)
        fd, self._wake_fd = self._wake_fd, None  # (event-loop thread, as every _wake)
        if fd is not None:
            os.close(fd)

    # -- thread mode (the connection's thread) --------------------------------------------------

    def _thread_main(self) -> None:
        """Reads and handles this connection's messages until it ends: first what the loop
        queued (messages pipelined behind startup, control: shutdown, timeouts), then whole
        messages already framed, else the next bytes from the socket, which the C++ reader
        waits for without the GIL (answering what the fast lane can on the way)."""
        assert self._direct is not None and self._wake_fd is not None
        self._reader = wire.SocketReader(self._direct.fileno, self._wake_fd)
        try:
            for _ in range(THREAD_ROUNDS_MAX):
                msg = None
                if self._inbox or self._gone:  # (the loop wakes us after it appends)
                    with self._lock:
                        msg = None if self._gone else self._pop()
                        gone = self._gone
                    if gone:
                        break
                if msg is None:
                    try:
                        msg = self.frames.next()
                    except ProtocolViolation as exc:
                        msg = (CONTROL, exc)
                if msg is not None:
                    self._busy = True
                    if not self._process(*msg):
                        break
                    continue
                self._busy = False
                lane = self._lane
                fast = lane.conn if lane is not None and self._lane_open() else None
                event, data = self._reader.next(fast, THREAD_WAIT_MS)
                if event == wire.READ_DATA:
                    self.last_message_at = time.monotonic()
                    self.frames.feed(data)
                elif event == wire.READ_EOF:
                    break
                elif event == wire.READ_UNSENT:
                    self.write(data)
        except ConnectionLost:
            pass
        except Exception:
            log.exception("%s: connection thread failed", self.peer)
        self._busy = False
        self._finish()

    def _thread_next_message(self) -> tuple[int, bytes]:
        """next_message in thread mode: COPY data straight from the socket."""
        for _ in range(WAIT_SLICES_MAX):
            if self._copy_cancel:
                self._copy_cancel = False
                raise QueryCanceled("canceling statement due to user request")
            with self._lock:
                msg = self._pop()
                gone = self._gone
            if msg is None:
                msg = self.frames.next()
            if msg is not None:
                if msg[0] == CONTROL:
                    raise msg[1]
                return msg
            if gone:
                raise ConnectionLost("connection to client lost")
            event, data = self._reader.next(None, int(WAIT_SLICE_S * 1000))
            if event == wire.READ_DATA:
                self.last_message_at = time.monotonic()
                self.frames.feed(data)
            elif event == wire.READ_EOF:
                raise ConnectionLost("connection to client lost")
        raise ConnectionLost("client sent nothing for too long")

    # -- Wire (worker thread) ------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if self._direct is not None:
            self._direct.write(data, lambda: self._gone)
            return
        for _ in range(WAIT_SLICES_MAX):
            if self._gone:
                raise ConnectionLost("connection to client lost")
            if self._writable.wait(WAIT_SLICE_S):
                break
        else:
            raise ConnectionLost("client did not read for too long")
        if self._gone:
            raise ConnectionLost("connection to client lost")
        if not self._on_loop(self._write_now, data):
            raise ConnectionLost("the server is shutting down")

    def next_message(self) -> tuple[int, bytes]:
        if self._thread_mode:
            return self._thread_next_message()
        with self._cond:
            for _ in range(WAIT_SLICES_MAX):
                if self._copy_cancel:
                    self._copy_cancel = False
                    raise QueryCanceled("canceling statement due to user request")
                msg = self._pop()
                if msg is not None:
                    break
                if self._gone:
                    raise ConnectionLost("connection to client lost")
                self._cond.wait(WAIT_SLICE_S)
            else:
                raise ConnectionLost("client sent nothing for too long")
        if msg[0] == CONTROL:
            raise msg[1]
        return msg

    def statement_begin(self) -> None:
        self._cancel_reason = None
        self._copy_cancel = False
        self.statement_started = time.monotonic()

    def statement_end(self) -> None:
        self.statement_started = None

    def cancel_reason(self) -> str | None:
        return self._cancel_reason

    def set_timeouts(self, statement_ms: int | None, idle_in_transaction_ms: int | None
                     ) -> None:
        if statement_ms is not None:
            self.statement_timeout_ms = statement_ms
        if idle_in_transaction_ms is not None:
            self.idle_in_transaction_timeout_ms = idle_in_transaction_ms

    def ready(self, status: str) -> None:
        assert status in ("I", "T", "E"), status
        self.ready_status = status
        self.ready_at = time.monotonic()

    # -- control from the event loop -----------------------------------------------------------

    def cancel_statement(self, reason: str) -> bool:
        """Cancels the running statement, if any (CancelRequest, timeout, shutdown)."""
        proc = self.processor
        if self.statement_started is None or proc is None or proc.session is None:
            return False
        self._cancel_reason = reason
        with self._cond:
            self._copy_cancel = True
            self._cond.notify_all()
        self._wake()
        try:
            proc.session.cancel()
        except Exception:
            log.exception("%s: session.cancel() failed", self.peer)
        return True

    def check_timeouts(self, now: float) -> None:
        started = self.statement_started
        limit_ms = self.statement_timeout_ms
        if started is not None and limit_ms > 0 and self._cancel_reason is None \
                and (now - started) * 1000 >= limit_ms:
            log.info("%s: canceling statement due to statement timeout", self.peer)
            self.cancel_statement("timeout")
        idle_ms = self.idle_in_transaction_timeout_ms
        busy = self._busy if self._thread_mode else self._job_running
        status, last = self.ready_status, max(self.ready_at, self.last_message_at)
        lane = self._lane
        if lane is not None and lane.conn.in_txn:  # a transaction the C++ lane runs
            status, last = "T", max(last, lane.conn.last_served_s)
        if idle_ms > 0 and self.phase == "ready" and not busy and status in ("T", "E") \
                and (now - last) * 1000 >= idle_ms:
            self.idle_in_transaction_timeout_ms = 0
            self._enqueue_control(IdleInTransactionTimeout(
                "terminating connection due to idle-in-transaction timeout"))

    def begin_shutdown(self) -> None:
        """Server shutdown: end after the statement in flight (if any)."""
        exc = AdminShutdown("terminating connection due to administrator command")
        if self.phase == "handshake":
            self._fatal_now(exc)  # connection_lost then wakes the handshake, which tears down
        elif self.phase == "ready":
            self._enqueue_control(exc, first=True)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()
