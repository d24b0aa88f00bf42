"""A throwaway PostgreSQL 15 server for differential tests, and its pytest fixture.

Goal: let tests compare dsql against the real thing. Method: `initdb` into a temporary directory
(as user `postgres` when the tests run as root, since PostgreSQL refuses to run as root), start
`postgres` on 127.0.0.1 with a free port and its unix socket inside that directory, talk to it
with `psql` through subprocess (one batched script per call), and remove everything at the end.

Use it through the session-scoped fixture::

    pytest_plugins = ["pg_server"]

    def test_something(postgres_server: PostgresServer) -> None:
        rows = postgres_server.query("SELECT 1::int + 1")

`evaluate()` runs many scalar expressions in one round trip and returns, for each, its text
output (the type's output function, as a client sees it), SQL NULL, or the error's SQLSTATE and
message, without one error aborting the others.

If the binaries are missing the fixture FAILS (it does not skip): CI must install `postgresql`
(Debian/Ubuntu package `postgresql`, version 15; override the location with DSQL_PG_BIN).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_BIN = Path(os.environ.get("DSQL_PG_BIN", "/usr/lib/postgresql/15/bin"))
START_TIMEOUT_S = 30.0
QUERY_TIMEOUT_S = 120.0

# Evaluates one expression; errors are caught (one subtransaction each) so a batch keeps going.
# format('%s', x) renders x with its type's output function, exactly what psql would print.
EVAL_FUNCTION = r"""
CREATE FUNCTION dsql_eval(q text) RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE
  r text;
  is_null boolean;
BEGIN
  EXECUTE 'SELECT x IS NULL, format(''%s'', x) FROM (SELECT (' || q || ') AS x) s'
    INTO is_null, r;
  IF is_null THEN
    RETURN 'N';
  END IF;
  RETURN 'V' || r;
EXCEPTION WHEN others THEN
  RETURN 'E' || SQLSTATE || ' ' || SQLERRM;
END
$fn$;
"""


@dataclass(frozen=True)
class PgResult:
    """One evaluated expression: `value` (text output) or None for NULL, or an error."""

    value: str | None = None
    sqlstate: str | None = None
    message: str | None = None

    @property
    def is_error(self) -> bool:
        return self.sqlstate is not None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert 0 < port < 65536
    return int(port)


def _dollar_tag(text: str) -> str:
    """A dollar-quote tag that does not occur in `text`."""
    for n in range(1000):
        tag = f"$q{n}$"
        if tag not in text:
            return tag
    raise ValueError("no free dollar-quote tag")  # pragma: no cover


def dollar_quote(text: str) -> str:
    tag = _dollar_tag(text)
    return f"{tag}{text}{tag}"


class PostgresServer:
    """A private PostgreSQL cluster. Not thread-safe: one test thread talks to it at a time."""

    def __init__(self, bin_dir: Path = PG_BIN) -> None:
        self.bin_dir = bin_dir
        self.base_dir = Path(tempfile.mkdtemp(prefix="dsql-pg-"))
        self.data_dir = self.base_dir / "data"
        self.socket_dir = self.base_dir
        self.port = _free_port()
        self.host = "127.0.0.1"
        self.user = "postgres"
        self._proc: subprocess.Popen[bytes] | None = None
        self._as_postgres: list[str] = []
        if os.geteuid() == 0:
            self._as_postgres = ["runuser", "-u", "postgres", "--"]

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """REQUIRES: not started. Creates the cluster and waits until it accepts connections."""
        assert self._proc is None, "server already started"
        for name in ("initdb", "postgres", "psql"):
            if not (self.bin_dir / name).exists():
                raise RuntimeError(
                    f"PostgreSQL binary {self.bin_dir / name} is missing: differential tests need "
                    "a real PostgreSQL 15. CI must install the `postgresql` package "
                    "(apt-get install postgresql), or set DSQL_PG_BIN to its bin directory.")
        if self._as_postgres:
            shutil.chown(self.base_dir, user="postgres")
        log = self.base_dir / "initdb.log"
        cmd = [*self._as_postgres, str(self.bin_dir / "initdb"), "-D", str(self.data_dir),
               "-U", self.user, "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "-N"]
        with open(log, "wb") as out:
            rc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=self.base_dir)
        if rc.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{log.read_text(errors='replace')}")
        server_log = open(self.base_dir / "server.log", "wb")  # noqa: SIM115 - lives with proc
        self._proc = subprocess.Popen(
            [*self._as_postgres, str(self.bin_dir / "postgres"), "-D", str(self.data_dir),
             "-p", str(self.port), "-k", str(self.socket_dir),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
             "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             "-c", "timezone=UTC", "-c", "datestyle=ISO, MDY", "-c", "intervalstyle=postgres",
             "-c", "extra_float_digits=1", "-c", "max_connections=20",
             "-c", "shared_buffers=16MB"],
            stdout=server_log, stderr=subprocess.STDOUT, cwd=self.base_dir,
            start_new_session=True)
        server_log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            probe = subprocess.run(self._psql_cmd(["-c", "SELECT 1"]), capture_output=True)
            if probe.returncode == 0:
                break
            if self._proc.poll() is not None or time.monotonic() > deadline:
                text = (self.base_dir / "server.log").read_text(errors="replace")
                self.stop()
                raise RuntimeError(f"PostgreSQL did not start:\n{text}")
            time.sleep(0.1)
        try:
            self.psql(EVAL_FUNCTION)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Fast shutdown, then removes the cluster directory. Safe to call twice."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            # Signal the postmaster itself (runuser does not pass signals on): fast shutdown.
            pid = self._postmaster_pid()
            target = pid if pid is not None else proc.pid
            try:
                os.kill(target, signal.SIGINT)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(target, signal.SIGQUIT)  # immediate shutdown
                proc.wait(timeout=30)
        shutil.rmtree(self.base_dir, ignore_errors=True)

    def _postmaster_pid(self) -> int | None:
        try:
            first = (self.data_dir / "postmaster.pid").read_text().splitlines()[0]
            return int(first)
        except (OSError, ValueError, IndexError):
            return None

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- talking to it ------------------------------------------------------------------------

    @property
    def dsn(self) -> str:
        return f"host={self.host} port={self.port} user={self.user} dbname=postgres"

    def _psql_cmd(self, args: Sequence[str]) -> list[str]:
        return [str(self.bin_dir / "psql"), "-X", "-q", "-h", self.host, "-p", str(self.port),
                "-U", self.user, "-d", "postgres", *args]

    def psql(self, script: str, *, stop_on_error: bool = True) -> str:
        """Runs a script; returns stdout (unaligned, tuples only). Raises on error if asked."""
        args = ["-At", "-v", f"ON_ERROR_STOP={1 if stop_on_error else 0}"]
        out = subprocess.run(self._psql_cmd(args), input=script.encode(), capture_output=True,
                             timeout=QUERY_TIMEOUT_S)
        if out.returncode != 0 or (stop_on_error and out.stderr.strip()):
            raise RuntimeError(f"psql failed ({out.returncode}): {out.stderr.decode()}")
        return out.stdout.decode()

    def query(self, sql: str) -> list[list[str]]:
        """Rows of one query as lists of text fields (NULL as '')."""
        text = self.psql(f"\\pset fieldsep '\\t'\n{sql.rstrip(';')};\n")
        return [line.split("\t") for line in text.splitlines()]

    def evaluate(self, exprs: Sequence[str], *,
                 settings: dict[str, str] | None = None) -> list[PgResult]:
        """Evaluates each SQL expression in its own subtransaction; one result per expression.

        `settings` are applied with SET first (e.g. {"TimeZone": "America/New_York"}).
        """
        lines = []
        for name, value in (settings or {}).items():
            lines.append(f"SET {name} = {dollar_quote(value)};")
        for expr in exprs:
            lines.append(f"SELECT dsql_eval({dollar_quote(expr)});")
        args = ["-At", "-0", "-v", "ON_ERROR_STOP=1"]
        out = subprocess.run(self._psql_cmd(args), input="\n".join(lines).encode(),
                             capture_output=True, timeout=QUERY_TIMEOUT_S)
        if out.returncode != 0:
            raise RuntimeError(f"psql failed ({out.returncode}): {out.stderr.decode()}")
        records = out.stdout.decode().split("\0")
        assert records[-1] == "", "psql output does not end with a record separator"
        records.pop()
        assert len(records) == len(exprs), (len(records), len(exprs))
        results = []
        for rec in records:
            kind, rest = rec[:1], rec[1:]
            if kind == "N":
                results.append(PgResult())
            elif kind == "V":
                results.append(PgResult(value=rest))
            else:
                assert kind == "E", rec
                results.append(PgResult(sqlstate=rest[:5], message=rest[6:]))
        return results


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL 15 server shared by the whole test session; fails if it cannot be started."""
    server = PostgresServer()
    try:
        server.start()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()
