"""psql against `dsql serve`, and `dsql serve` itself as a process.

Goal: the system's psql (15) works unchanged (-c, -At, scripts with ON_ERROR_STOP, COPY from
stdin and to stdout, notices and errors as psql prints them), and the `dsql serve` command
starts, logs readable lines, authenticates with SCRAM from DSQL_ADMIN_PASSWORD, honours a
CancelRequest from psycopg's classic cancel(), and exits 0 on SIGTERM after closing sessions.
Method: subprocesses (psql, `python -m dsql.cli serve --backend pgwire_backend:make_backend`)
over loopback TCP.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from pgwire_fixtures import Running, server  # noqa: F401

PSQL = Path(os.environ.get("DSQL_PG_BIN", "/usr/lib/postgresql/15/bin")) / "psql"
TESTS = Path(__file__).resolve().parent

if not PSQL.exists():
    raise FileNotFoundError(f"{PSQL} is missing: CI installs postgresql (psql, pgbench)")


def psql(srv_host: str, port: int, *args: str, stdin: str = "", user: str = "admin",
         password: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10", "PGSSLMODE": "prefer"}
    if password is not None:
        env["PGPASSWORD"] = password
    return subprocess.run([str(PSQL), "-X", "-h", srv_host, "-p", str(port), "-U", user,
                           "-d", "dsql", *args], input=stdin, capture_output=True, text=True,
                          timeout=30, env=env)


def test_psql_c_and_at(server: Running) -> None:  # noqa: F811
    out = psql(server.host, server.port, "-At", "-c", "SELECT 1")
    assert (out.returncode, out.stdout, out.stderr) == (0, "1\n", "")
    out = psql(server.host, server.port, "-At", "-F", ",", "-c",
               "SELECT 'a'::text AS x, 2 AS y, NULL::int4 AS z")
    assert out.stdout == "a,2,\n"
    out = psql(server.host, server.port, "-c", "SELECT generate_series(1, 3)")
    assert out.stdout.split("\n")[:6] == [" generate_series ", "-----------------",
                                          "               1", "               2",
                                          "               3", "(3 rows)"]


def test_psql_errors_and_notices(server: Running) -> None:  # noqa: F811
    out = psql(server.host, server.port, "-At", "-c", "SELECT 1/0")
    assert out.returncode == 1
    assert "ERROR:  division by zero" in out.stderr
    out = psql(server.host, server.port, "-At", "-c", "SELECT notice('heads up')")
    assert out.returncode == 0 and out.stdout == "heads up\n"
    assert "NOTICE:  heads up" in out.stderr and "HINT:  a notice from the test backend" \
        in out.stderr
    out = psql(server.host, server.port, "-c", "WIBBLE")
    assert "syntax error" in out.stderr and "LINE 1: WIBBLE" in out.stderr


def test_psql_script_transactions_and_copy(server: Running) -> None:  # noqa: F811
    script = "\n".join([
        "\\set ON_ERROR_STOP 1",
        "DELETE FROM items;",
        "BEGIN;",
        "COPY items FROM STDIN;",
        "1\tone",
        "2\ttwo",
        "\\.",
        "COMMIT;",
        "COPY items TO STDOUT (FORMAT csv);",
        "SELECT id, name FROM items ORDER BY id;",
    ]) + "\n"
    out = psql(server.host, server.port, "-Atq", stdin=script)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["1,one", "2,two", "1|one", "2|two"]
    out = psql(server.host, server.port, "-At", "-c", "\\copy items to stdout")
    assert out.stdout == "1\tone\n2\ttwo\n"
    out = psql(server.host, server.port, "-At", "-v", "ON_ERROR_STOP=1",
               stdin="SELECT 1;\nSELECT 1/0;\nSELECT 3;\n")
    assert out.returncode == 3 and out.stdout == "1\n"


# -- dsql serve as a process -------------------------------------------------------------------

class ServeProcess:
    def __init__(self, proc: subprocess.Popen[str], port: int, lines: list[str]) -> None:
        self.proc, self.port, self.lines = proc, port, lines


@pytest.fixture()
def serve(tmp_path: Path) -> Iterator[ServeProcess]:
    env = {**os.environ, "PYTHONPATH": f"{TESTS}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "DSQL_ADMIN_PASSWORD": "s3cret"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dsql.cli", "serve", "--port", "0", "--data", str(tmp_path),
         "--admin-user", "admin", "--backend", "pgwire_backend:make_backend",
         "--shutdown-timeout", "5"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    lines: list[str] = []
    port = 0
    assert proc.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        m = re.search(r"ready: .*postgresql://[\d.]+:(\d+)/", line)
        if m:
            port = int(m.group(1))
            break
    assert port, "".join(lines)
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)  # type: ignore[arg-type]
    reader.start()
    sp = ServeProcess(proc, port, lines)
    yield sp
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)


def test_serve_process_scram_cancel_and_sigterm(serve: ServeProcess) -> None:
    out = psql("127.0.0.1", serve.port, "-At", "-c", "SELECT 1", password="s3cret")
    assert (out.returncode, out.stdout) == (0, "1\n"), out.stderr
    out = psql("127.0.0.1", serve.port, "-At", "-c", "SELECT 1", password="wrong")
    assert out.returncode == 2
    assert 'password authentication failed for user "admin"' in out.stderr
    dsn = f"host=127.0.0.1 port={serve.port} user=admin password=s3cret dbname=dsql"
    with psycopg.connect(dsn, autocommit=True) as conn:
        threading.Timer(0.3, conn.cancel).start()  # the classic libpq cancel
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute("SELECT pg_sleep(20)")
        busy = psycopg.connect(dsn, autocommit=True)
        result: list[object] = []
        worker = threading.Thread(
            target=lambda: result.append(busy.execute("SELECT pg_sleep(0.7)").fetchone()))
        worker.start()
        time.sleep(0.2)
        serve.proc.send_signal(signal.SIGTERM)
        worker.join(10)
        assert result == [("",)]  # the running statement finished before shutdown
        assert serve.proc.wait(15) == 0
        busy.close()
    log = "".join(serve.lines)
    assert "listening on 127.0.0.1:" in log
    assert "connection authorized: user=admin database=dsql" in log
    assert "password authentication failed" in log
    assert "received shutdown signal" in log and "shut down" in log


def start_serve(data: Path, *extra: str) -> ServeProcess:
    """`dsql serve` on the real engine over `data`, on a free loopback port."""
    env = {**os.environ, "DSQL_ADMIN_PASSWORD": "s3cret"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dsql.cli", "serve", "--port", "0", "--data", str(data),
         "--admin-user", "admin", "--shutdown-timeout", "5", *extra],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    lines: list[str] = []
    assert proc.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        m = re.search(r"ready: .*postgresql://[\d.]+:(\d+)/", line)
        if m:
            reader = threading.Thread(target=lambda: lines.extend(proc.stderr),  # type: ignore[arg-type]
                                      daemon=True)
            reader.start()
            return ServeProcess(proc, int(m.group(1)), lines)
    proc.kill()
    raise AssertionError("dsql serve did not become ready:\n" + "".join(lines))


def test_serve_the_engine_end_to_end(tmp_path: Path) -> None:
    """psql and psycopg against `dsql serve` on its own data directory: DDL, DML, queries,
    DSQL's first-committer-wins conflict (40001 OC000), and the data surviving a restart."""
    data = tmp_path / "data"
    srv = start_serve(data)
    try:
        out = psql("127.0.0.1", srv.port, "-At", "-v", "ON_ERROR_STOP=1", password="s3cret",
                   stdin="CREATE TABLE acct (id int PRIMARY KEY, owner text, balance int);\n"
                         "INSERT INTO acct VALUES (1, 'ann', 100), (2, 'bob', 50);\n"
                         "SELECT owner, balance FROM acct ORDER BY id;\n")
        assert out.returncode == 0, out.stderr
        assert out.stdout.splitlines()[-2:] == ["ann|100", "bob|50"]
        dsn = f"host=127.0.0.1 port={srv.port} user=admin password=s3cret dbname=dsql"
        with psycopg.connect(dsn) as c1, psycopg.connect(dsn) as c2:
            assert c1.execute("SELECT balance FROM acct WHERE id = %s", (1,)).fetchone() == (100,)
            c2.execute("SELECT balance FROM acct WHERE id = 1").fetchone()
            c1.execute("UPDATE acct SET balance = balance - 10 WHERE id = 1")
            c2.execute("UPDATE acct SET balance = balance + 10 WHERE id = 1")
            c1.commit()
            with pytest.raises(psycopg.errors.SerializationFailure) as e:
                c2.commit()
            assert "(OC000)" in str(e.value)
            c2.rollback()
            assert c2.execute("SELECT balance FROM acct WHERE id = 1").fetchone() == (90,)
            assert c1.execute("SELECT version()").fetchone()[0].startswith("PostgreSQL 16")
    finally:
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.proc.wait(15) == 0, "".join(srv.lines)
    srv = start_serve(data)
    try:
        out = psql("127.0.0.1", srv.port, "-At", "-c", "SELECT sum(balance) FROM acct",
                   password="s3cret")
        assert (out.returncode, out.stdout) == (0, "140\n"), out.stderr
    finally:
        srv.proc.send_signal(signal.SIGTERM)
        srv.proc.wait(15)
