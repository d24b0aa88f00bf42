"""The servers a workload runs against: `dsql serve` and PostgreSQL 15, both in their own
processes on 127.0.0.1, both durable (dsql fdatasyncs its journal per commit group; PostgreSQL
runs with fsync=on, synchronous_commit=on) and both at snapshot isolation (PostgreSQL's
default_transaction_isolation is REPEATABLE READ, dsql's only level).

    with DsqlServer() as srv, Postgres() as pg:
        psycopg.connect(srv.dsn); psycopg.connect(pg.dsn)
        srv.pid, pg.pid       # for peak-RSS readings (machine.peak_rss_kb / tree_peak_rss_kb)

`Postgres.available()` is False when the PostgreSQL binaries are missing; workloads then report
dsql alone and say so.

`with shared():` makes every DsqlServer / Postgres entered inside it the same running pair,
stopped when the block ends (for tests and smoke runs: it saves a start per workload, at the
price of workloads sharing a server; real runs give every workload fresh servers).

Thread-safety: start and stop from one thread; `dsn` and `pid` may be read from any thread.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dsql.bench import _postgres
from dsql.bench.machine import bench_dir

from dsql.server.child import ServeProcess

MAX_CONNECTIONS = 120  # the pgbench sweep goes to 64 clients

_shared: dict[str, Any] | None = None  # kind -> the running server, inside shared()


@contextlib.contextmanager
def shared() -> Iterator[None]:
    """Inside this block, servers are started once and reused (see the module docstring)."""
    global _shared
    assert _shared is None, "shared() does not nest"
    _shared = {}
    try:
        yield
    finally:
        pool, _shared = _shared, None
        for server in pool.values():
            server._stop()

PG_SETTINGS = {
    "fsync": "on",
    "synchronous_commit": "on",
    "default_transaction_isolation": "repeatable read",
    "max_connections": str(MAX_CONNECTIONS),
    "shared_buffers": "128MB",
}


class DsqlServer:
    """`dsql serve` on a fresh data directory (trust auth, role `postgres`), as a
    dsql.server.child.ServeProcess."""

    def __init__(self) -> None:
        self.base: Path | None = None
        self.child: ServeProcess | None = None

    @property
    def pid(self) -> int:
        assert self.child is not None, "server not started"
        return self.child.pid

    @property
    def port(self) -> int:
        return 0 if self.child is None else self.child.port

    @property
    def dsn(self) -> str:
        assert self.port > 0, "server not started"
        return (f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres "
                "sslmode=disable")

    def __enter__(self) -> DsqlServer:
        if _shared is not None:
            if "dsql" not in _shared:
                _shared["dsql"] = DsqlServer()._start()
            return _shared["dsql"]  # type: ignore[no-any-return]
        return self._start()

    def __exit__(self, *exc: Any) -> None:
        if _shared is None or _shared.get("dsql") is not self:
            self._stop()

    def _start(self) -> DsqlServer:
        self.base = Path(tempfile.mkdtemp(prefix="dsql-bench-serve-", dir=bench_dir()))
        self.child = ServeProcess(self.base / "data", user="postgres", extra_args=(
            "--max-connections", str(MAX_CONNECTIONS)))
        try:
            self.child.start()
        except BaseException:
            self._stop()
            raise
        return self

    def _stop(self) -> None:
        child, self.child = self.child, None
        if child is not None:
            child.stop()
        if self.base is not None:
            shutil.rmtree(self.base, ignore_errors=True)


class Postgres:
    """PostgreSQL 15 (bench/_postgres.py) with durable, REPEATABLE READ settings."""

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        self.settings = {**PG_SETTINGS, **(settings or {})}
        self._cluster: _postgres.Cluster | None = None

    @property
    def cluster(self) -> _postgres.Cluster:
        assert self._cluster is not None, "PostgreSQL not started"
        return self._cluster

    @staticmethod
    def available() -> bool:
        return _postgres.bin_dir() is not None

    @property
    def dsn(self) -> str:
        return self.cluster.dsn

    @property
    def pid(self) -> int:
        """The postmaster's pid (not runuser's, when started as root)."""
        text = (self.cluster.data / "postmaster.pid").read_text()
        return int(text.split()[0])

    def __enter__(self) -> Postgres:
        if _shared is not None:
            if "postgres" not in _shared:
                _shared["postgres"] = Postgres()._start()
            return _shared["postgres"]  # type: ignore[no-any-return]
        return self._start()

    def __exit__(self, *exc: Any) -> None:
        if _shared is None or _shared.get("postgres") is not self:
            self._stop()

    def _start(self) -> Postgres:
        self._cluster = _postgres.Cluster(self.settings)
        self._cluster.__enter__()
        return self

    def _stop(self) -> None:
        if self._cluster is not None:
            self._cluster.__exit__()


@contextlib.contextmanager
def pair(notes: list[str]) -> Iterator[tuple[DsqlServer, Postgres | None]]:
    """`dsql serve` and, when its binaries exist, PostgreSQL (else None and a note)."""
    with DsqlServer() as srv:
        if not Postgres.available():
            notes.append("PostgreSQL binaries missing: no baseline")
            yield srv, None
            return
        with Postgres() as pg:
            yield srv, pg
