"""`dsql serve` over the real SQL engine (not the test backend), as a subprocess.

Goal: client tests (psql, psycopg, asyncpg, pg8000, SQLAlchemy, pgjdbc) talk to exactly what
users run. Method: `python -m dsql.cli serve --port 0 --data TMP --admin-user admin` with
DSQL_ADMIN_PASSWORD set (SCRAM), port read from the "ready" log line; SIGTERM at the end.

    from engine_serve import EngineServer, engine_server  # noqa: F401 (module fixture)
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ADMIN, PASSWORD = "admin", "s3cret"
START_TIMEOUT_S = 60.0


class EngineServer:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.host = "127.0.0.1"
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None
        self.log: list[str] = []

    def start(self) -> EngineServer:
        assert self.proc is None, "already started"
        env = {**os.environ, "DSQL_ADMIN_PASSWORD": PASSWORD}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dsql.cli", "serve", "--port", "0", "--data",
             str(self.data_dir), "--admin-user", ADMIN, "--shutdown-timeout", "5"],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
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
                break
        if not self.port:
            self.stop()
            raise RuntimeError("dsql serve did not start:\n" + "".join(self.log))
        # keep draining stderr so the server never blocks on a full pipe
        import threading
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    def _drain(self) -> None:
        proc = self.proc
        assert proc is not None and proc.stderr is not None
        for line in proc.stderr:
            if len(self.log) < 10_000:
                self.log.append(line)

    def dsn(self, user: str = ADMIN, password: str = PASSWORD, dbname: str = "dsql") -> str:
        return (f"host={self.host} port={self.port} user={user} password={password} "
                f"dbname={dbname}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)


@pytest.fixture(scope="module")
def engine_server() -> Iterator[EngineServer]:
    with tempfile.TemporaryDirectory(prefix="dsql-serve-") as d:
        srv = EngineServer(Path(d)).start()
        try:
            yield srv
        finally:
            srv.stop()
