"""`dsql serve` as a child process on a data directory: for workloads, crash loops, benchmarks.

    with ServeProcess(data_dir) as srv:       # starts it, waits for "ready", learns the port
        conn = psycopg.connect(srv.dsn)
        srv.kill()                            # SIGKILL; srv.start() serves the directory again

The server listens on 127.0.0.1 on a free port (``--port 0``), with trust authentication and
the admin role `user` (default USER); `extra_args` go to `dsql serve` as they are. Its stderr
is drained by a thread into a bounded list of lines (the last ones are shown when it fails to
start).

Thread-safety: one owner thread calls start/kill/stop; `dsn` and `port` may be read from other
threads (a crash loop's clients), and change at each start.
Invariants: 1. at most one child is running; 2. `port` is the running child's port, 0 when none.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from types import TracebackType

USER = "verify"
START_S_MAX = 60.0
LOG_LINES_MAX = 200
READY = re.compile(r"ready: .*postgresql://[\d.]+:(\d+)/")


class ServeFailed(RuntimeError):
    """`dsql serve` did not come up (its last log lines are in the message)."""


class ServeProcess:
    """See the module docstring."""

    def __init__(self, data_dir: str | os.PathLike[str], *, extra_args: tuple[str, ...] = (),
                 user: str = USER) -> None:
        assert user, "a role name"
        self.data_dir = Path(data_dir)
        self.extra_args = extra_args
        self.user = user
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0
        self.lines: deque[str] = deque(maxlen=LOG_LINES_MAX)
        self.starts = 0

    @property
    def dsn(self) -> str:
        return (f"host=127.0.0.1 port={self.port} user={self.user} dbname=dsql sslmode=disable "
                f"connect_timeout=10")

    def start(self) -> ServeProcess:
        """Starts the server and waits until it listens. REQUIRES: none running."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        proc = self._spawn()
        self.proc = proc
        assert proc.stderr is not None
        deadline = time.monotonic() + START_S_MAX
        port = 0
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            self.lines.append(line.rstrip())
            m = READY.search(line)
            if m:
                port = int(m.group(1))
                break
        if not port:
            self._reap(signal.SIGKILL)
            raise ServeFailed("dsql serve did not start:\n" + "\n".join(list(self.lines)[-20:]))
        threading.Thread(target=self._drain, args=(proc,), daemon=True,
                         name="serve-stderr").start()
        self.port = port
        self.starts += 1
        assert self.running
        return self

    def _spawn(self) -> subprocess.Popen[str]:
        env = {k: v for k, v in os.environ.items() if k != "DSQL_ADMIN_PASSWORD"}
        argv = [sys.executable, "-m", "dsql.cli", "serve", "--host", "127.0.0.1", "--port", "0",
                "--data", str(self.data_dir), "--auth", "trust", "--admin-user", self.user,
                "--shutdown-timeout", "2", *self.extra_args]
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, env=env)

    def start_and_kill(self, after_s: float) -> None:
        """Starts a server and SIGKILLs it `after_s` later, ready or not (a crash during
        startup and recovery). REQUIRES: none running; after_s > 0."""
        assert after_s > 0
        assert self.proc is None or self.proc.poll() is not None, "already running"
        proc = self._spawn()
        time.sleep(after_s)
        proc.kill()
        proc.communicate(timeout=30)
        assert proc.returncode is not None

    @property
    def pid(self) -> int:
        assert self.proc is not None, "server not started"
        return self.proc.pid

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL, and wait for the process to be gone."""
        self._reap(signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM (a clean shutdown), then SIGKILL if it takes over 10 s."""
        self._reap(signal.SIGTERM)

    def _reap(self, sig: int) -> None:
        proc = self.proc
        self.port = 0
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        assert proc.poll() is not None
        self.proc = None

    def _drain(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            self.lines.append(line.rstrip())

    def __enter__(self) -> ServeProcess:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
