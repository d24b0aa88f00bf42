"""Running a Server: in a background thread (tests, embedding) or as `dsql serve`'s main loop.

``serve_command(args)`` is the whole `dsql serve`: build the config, TLS, the backend for the
data directory, the role store (the catalog's roles; the admin role from ``--admin-user`` and
``DSQL_ADMIN_PASSWORD`` is created there at first start), then serve until SIGTERM or SIGINT
and shut down cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import signal
import ssl
import sys
import threading
from pathlib import Path
from typing import Any

from dsql.server.auth import InMemoryRoleStore, RoleStore
from dsql.server.backend import Backend
from dsql.server.config import ServerConfig, default_data_dir, parse_duration_ms
from dsql.server.errors import BackendUnavailable
from dsql.server.factory import load_backend_factory, open_backend
from dsql.server.options import ADMIN_PASSWORD_ENV
from dsql.server.server import Server
from dsql.server.tls import TlsSetupError, generate_self_signed, server_context
from dsql.txn.limits import Limits

log = logging.getLogger("dsql.server")

START_TIMEOUT_S = 30.0


def new_event_loop(preference: str = "auto") -> asyncio.AbstractEventLoop:
    """uvloop's loop when installed (and not refused), else asyncio's."""
    if preference in ("auto", "uvloop"):
        try:
            import uvloop
        except ImportError:
            if preference == "uvloop":
                raise ValueError("--loop uvloop: uvloop is not installed") from None
        else:
            return uvloop.new_event_loop()  # type: ignore[no-any-return]
    return asyncio.new_event_loop()


def tls_context(config: ServerConfig, data_dir: Path | None) -> ssl.SSLContext | None:
    """The TLS context the options ask for, or None (SSLRequest is then answered 'N')."""
    if config.tls_cert and config.tls_key:
        return server_context(config.tls_cert, config.tls_key)
    if config.tls_self_signed:
        directory = (data_dir or default_data_dir()) / "tls"
        cert, key = generate_self_signed(directory, config.host)
        log.info("generated a self-signed TLS certificate: %s", cert)
        return server_context(cert, key)
    return None


async def cancel_leftover_tasks() -> None:
    """After shutdown: cancels tasks still pending (e.g. handshakes of aborted sockets)."""
    current = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class ServerThread:
    """A Server on its own event loop in a daemon thread.

    Example::

        with ServerThread(ServerConfig(port=0), backend, roles) as srv:
            psycopg.connect(host=srv.host, port=srv.port, user="admin")
    """

    def __init__(self, config: ServerConfig, backend: Backend, roles: RoleStore,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.config = config
        self.loop = new_event_loop(config.loop)
        self.server = Server(config, backend, roles, ssl_context)
        self._thread = threading.Thread(target=self._run, name="dsql-server", daemon=True)
        self._started = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None

    @property
    def host(self) -> str:
        return str(self.server.host)

    @property
    def port(self) -> int:
        return int(self.server.port)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._main())
        except BaseException as e:  # reported to start()
            self._error = e
            self._started.set()
        finally:
            self.loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        await self.server.start()
        self._started.set()
        await self._stop.wait()
        await self.server.shutdown()
        await cancel_leftover_tasks()

    def start(self) -> ServerThread:
        self._thread.start()
        if not self._started.wait(START_TIMEOUT_S):
            raise RuntimeError("the server did not start")
        if self._error is not None:
            raise RuntimeError(f"the server did not start: {self._error}") from self._error
        return self

    def stop(self, timeout_s: float = 60.0) -> None:
        """Graceful shutdown (as on SIGTERM); waits for it. Safe to call twice."""
        stop = self._stop
        if stop is not None and self._thread.is_alive():
            self.loop.call_soon_threadsafe(stop.set)
        self._thread.join(timeout_s)
        assert not self._thread.is_alive(), "server thread did not stop"

    def call(self, fn: Any, *args: Any) -> None:
        """Runs fn(*args) on the server's event loop (tests poke at internals this way)."""
        self.loop.call_soon_threadsafe(fn, *args)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- dsql serve --------------------------------------------------------------------------------

def serve_command(args: argparse.Namespace) -> int:
    """`dsql serve`: runs until SIGTERM/SIGINT; returns the exit status."""
    logging.getLogger("dsql.server").setLevel(logging.INFO)
    password = os.environ.get(ADMIN_PASSWORD_ENV)
    auth = args.auth or ("scram-sha-256" if password else "trust")
    admin = args.admin_user or getpass.getuser()
    try:
        config = ServerConfig(
            host=args.host, port=args.port, max_connections=args.max_connections,
            auth_method=auth, tls_cert=args.tls_cert, tls_key=args.tls_key,
            tls_self_signed=args.tls_self_signed,
            statement_timeout_ms=parse_duration_ms(args.statement_timeout),
            idle_in_transaction_timeout_ms=parse_duration_ms(args.idle_in_transaction_timeout),
            shutdown_timeout_s=args.shutdown_timeout, loop=args.loop,
            fast_path=args.fast_path, connection_threads=args.connection_threads)
    except ValueError as e:
        print(f"dsql serve: {e}", file=sys.stderr)
        return 2
    if auth != "trust" and not password:
        print(f"dsql serve: --auth {auth} needs the admin password in ${ADMIN_PASSWORD_ENV}",
              file=sys.stderr)
        return 2
    if auth == "trust":
        log.warning("authentication is trust: role %r connects without a password", admin)
    data_dir = Path(args.data).expanduser() if args.data else default_data_dir()
    try:
        ssl_context = tls_context(config, data_dir)
        if args.backend:
            backend = load_backend_factory(args.backend)(data_dir)
        else:
            backend = open_backend(data_dir, Limits.parse_server(
                args.max_transaction_rows, args.max_transaction_bytes,
                args.max_transaction_age))
        roles = build_role_store(backend, admin, password)
    except (BackendUnavailable, TlsSetupError, ValueError) as e:
        print(f"dsql serve: {e}", file=sys.stderr)
        return 2
    loop = new_event_loop(config.loop)
    asyncio.set_event_loop(loop)
    server = Server(config, backend, roles, ssl_context)
    try:
        return loop.run_until_complete(_serve(server, data_dir))
    finally:
        loop.close()


def build_role_store(backend: Backend, admin: str, password: str | None) -> RoleStore:
    """The catalog's roles when the backend keeps them (the engine: the admin role is created
    there at first start), else an in-memory store holding just the admin role."""
    role_store = getattr(backend, "role_store", None)
    if callable(role_store):
        return role_store(admin, password)  # type: ignore[no-any-return]
    roles = InMemoryRoleStore()
    roles.add(admin, password, superuser=True)
    return roles


async def _serve(server: Server, data_dir: Path) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await server.start()
    except OSError as e:
        print(f"dsql serve: cannot listen on {server.config.host}:{server.config.port}: {e}",
              file=sys.stderr)
        return 2
    log.info("dsql serve ready: data %s, postgresql://%s:%d/ (loop %s)", data_dir,
             server.host, server.port, type(loop).__module__.split(".")[0])
    await stop.wait()
    log.info("received shutdown signal")
    await server.shutdown()
    await cancel_leftover_tasks()
    return 0
