"""The servers a workload runs against: `dsql serve` and PostgreSQL 15, both in their own
processes on 127.0.0.1, both durable (dsql fdatasyncs its journal per commit group; PostgreSQL
runs with fsync=on, synchronous_commit=on) and both at snapshot isolation (PostgreSQL's
default_transaction_isolation is REPEATABLE READ, dsql's only level).

    with DsqlServer() as srv, Postgres() as pg:
        psycopg.connect(srv.dsn); psycopg.connect(pg.dsn)
        srv.pid, pg.pid       # for peak-RSS readings (machine.peak_rss_kb / tree_peak_rss_kb)

`Postgres.available()` is False when the PostgreSQL binaries are missing; workloads then report
dsql alone and say so.

Thread-safety: start and stop from one thread; `dsn` and `pid` may be read from any thread.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from dsql.bench import _postgres
from dsql.bench.machine import bench_dir

START_TIMEOUT_S = 60.0
MAX_CONNECTIONS = 120  # the pgbench sweep goes to 64 clients

PG_SETTINGS = {
    "fsync": "on",
    "synchronous_commit": "on",
    "default_transaction_isolation": "repeatable read",
    "max_connections": str(MAX_CONNECTIONS),
    "shared_buffers": "128MB",
}


class DsqlServer:
    """`dsql serve` on a fresh data directory (trust auth, role `postgres`)."""

    def __init__(self, data_dir: Path | None = None) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="dsql-bench-serve-", dir=bench_dir()))
        self.data = data_dir or self.base / "data"
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None
        self.log: list[str] = []

    @property
    def pid(self) -> int:
        assert self.proc is not None, "server not started"
        return self.proc.pid

    @property
    def dsn(self) -> str:
        assert self.port > 0, "server not started"
        return (f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres "
                "sslmode=disable")

    def __enter__(self) -> DsqlServer:
        env = {k: v for k, v in os.environ.items() if k != "DSQL_ADMIN_PASSWORD"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dsql.cli", "serve", "--port", "0", "--data", str(self.data),
             "--admin-user", "postgres", "--max-connections", str(MAX_CONNECTIONS),
             "--shutdown-timeout", "5"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        assert self.proc.stderr is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.log.append(line)
            m = re.search(r"ready: .*postgresql://[\d.]+:(\d+)/", line)
            if m:
                self.port = int(m.group(1))
                threading.Thread(target=self.log.extend, args=(self.proc.stderr,),
                                 daemon=True).start()
                return self
        self.__exit__()
        raise RuntimeError("dsql serve did not start:\n" + "".join(self.log[-20:]))

    def __exit__(self, *exc: Any) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        shutil.rmtree(self.base, ignore_errors=True)


class Postgres:
    """PostgreSQL 15 (bench/_postgres.py) with durable, REPEATABLE READ settings."""

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        self.cluster = _postgres.Cluster({**PG_SETTINGS, **(settings or {})})

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
        self.cluster.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.cluster.__exit__()
