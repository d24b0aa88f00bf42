"""Fixtures for the wire-protocol server tests: an in-process server on a free loopback port.

Import the fixtures into a test module with ``from pgwire_fixtures import *  # noqa``.
The server runs on its own event loop in a thread (dsql.server.runner.ServerThread) with the
TEST-ONLY backend from pgwire_backend.py. Roles: admin (superuser, SCRAM password "secret"),
alice (SCRAM "wonderland"), bob (md5 "builder"), nopass (no password).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from dsql.server.auth import InMemoryRoleStore
from dsql.server.config import ServerConfig
from dsql.server.runner import ServerThread
from pgwire_backend import PgwireTestBackend


def make_roles() -> InMemoryRoleStore:
    roles = InMemoryRoleStore()
    roles.add("admin", "secret", superuser=True)
    roles.add("alice", "wonderland")
    roles.add("bob", "builder", encryption="md5")
    roles.add("nopass")
    return roles


@dataclasses.dataclass
class Running:
    thread: ServerThread
    backend: PgwireTestBackend

    @property
    def host(self) -> str:
        return self.thread.host

    @property
    def port(self) -> int:
        return self.thread.port

    def dsn(self, user: str = "admin", **extra: Any) -> str:
        parts = {"host": self.host, "port": self.port, "user": user, "dbname": "dsql",
                 "sslmode": "disable", **extra}
        return " ".join(f"{k}={v}" for k, v in parts.items())


@contextlib.contextmanager
def running_server(backend: PgwireTestBackend | None = None, ssl_context: Any = None,
                   **config: Any) -> Iterator[Running]:
    backend = backend or PgwireTestBackend()
    cfg = ServerConfig(host="127.0.0.1", port=0, **config)
    thread = ServerThread(cfg, backend, make_roles(), ssl_context).start()
    try:
        yield Running(thread, backend)
    finally:
        thread.stop()


@pytest.fixture(scope="module", params=["threads", "workers"])
def server(request: pytest.FixtureRequest) -> Iterator[Running]:
    """A trust-auth server shared by a test module, in both connection models: a thread per
    connection (the default) and the event loop handing messages to a worker pool."""
    with running_server(shutdown_timeout_s=2.0,
                        connection_threads=request.param == "threads") as srv:
        yield srv
