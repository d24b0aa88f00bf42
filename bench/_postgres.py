"""A throwaway PostgreSQL 15 cluster for benchmark baselines (not a benchmark itself).

`initdb` into a temporary directory (as user `postgres` when running as root), start
`postgres` on 127.0.0.1 with a free port and trust authentication, and remove everything on
stop. `bin_dir()` is None when the binaries are missing; benchmarks then report dsql's figures
without a PostgreSQL baseline.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

START_TIMEOUT_S = 30.0


def bin_dir() -> Path | None:
    path = Path(os.environ.get("DSQL_PG_BIN", "/usr/lib/postgresql/15/bin"))
    return path if (path / "postgres").exists() and (path / "initdb").exists() else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """REQUIRES: bin_dir() is not None. Use as a context manager."""

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        found = bin_dir()
        assert found is not None, "PostgreSQL binaries are missing"
        self.bin = found
        self.base = Path(tempfile.mkdtemp(prefix="dsql-bench-pg-"))
        self.data = self.base / "data"
        self.port = free_port()
        self.settings = {"fsync": "off", "synchronous_commit": "off", "max_connections": "50",
                         "shared_buffers": "64MB", **(settings or {})}
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres sslmode=disable"

    def __enter__(self) -> Cluster:
        if self._as:
            shutil.chown(self.base, user="postgres")
        subprocess.run([*self._as, str(self.bin / "initdb"), "-D", str(self.data), "-U",
                        "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "-N"],
                       check=True, capture_output=True, cwd=self.base)
        args = [*self._as, str(self.bin / "postgres"), "-D", str(self.data), "-p",
                str(self.port), "-k", str(self.base), "-c", "listen_addresses=127.0.0.1"]
        for k, v in self.settings.items():
            args += ["-c", f"{k}={v}"]
        self._proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, cwd=self.base,
                                      start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._ready():  # accepting connections, not only listening (startup, recovery)
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError("PostgreSQL did not start")
            time.sleep(0.05)
        return self

    def _ready(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            return False
        isready = self.bin / "pg_isready"
        if not isready.exists():
            return True
        probe = subprocess.run([str(isready), "-q", "-h", "127.0.0.1", "-p", str(self.port),
                                "-U", "postgres", "-d", "postgres"], capture_output=True)
        return probe.returncode == 0

    def __exit__(self, *exc: object) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            try:
                pid = int((self.data / "postmaster.pid").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                pid = proc.pid
            try:
                os.kill(pid, signal.SIGINT)
                proc.wait(30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                proc.kill()
        shutil.rmtree(self.base, ignore_errors=True)
