"""Real pgbench and psql against `dsql serve`: pgbench -i (every step it sends), COPY, the
per-transaction limits, and pgbench runs in all three protocols with 40001 retries.

Goal: pgbench works unchanged against dsql, and its TPC-B transactions keep the balances
consistent. Method: `dsql serve` subprocesses on temporary data directories (the helper from
test_server_psql), the system's pgbench 15 and psql; scale 1 (100,000 accounts) with raised
limits, short runs (-t 20, 4 clients); after TPC-B runs the four balance sums must agree.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from test_server_psql import ServeProcess, start_serve

PGBENCH = shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"
PSQL = shutil.which("psql") or "/usr/lib/postgresql/15/bin/psql"
RAISED = ("--max-transaction-rows", "2000000", "--max-transaction-bytes", "1G")

pytestmark = pytest.mark.skipif(not Path(PGBENCH).exists(), reason="pgbench is not installed")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    return {**env, "PGPASSWORD": "s3cret", **extra}


def pgbench(srv: ServeProcess, *args: str, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PGBENCH, "-h", "127.0.0.1", "-p", str(srv.port), "-U", "admin",
                           *args, "dsql"], env=env or _env(), capture_output=True, text=True,
                          timeout=300, check=False)


def psql(srv: ServeProcess, sql: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PSQL, "-h", "127.0.0.1", "-p", str(srv.port), "-U", "admin", "-d",
                           "dsql", "-At", "-v", "ON_ERROR_STOP=1", *args], input=sql,
                          env=_env(), capture_output=True, text=True, timeout=300, check=False)


def scalars(srv: ServeProcess, sql: str) -> list[str]:
    out = psql(srv, sql)
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def balance_sums(srv: ServeProcess) -> list[int]:
    return [int(v) for v in scalars(
        srv, "SELECT coalesce(sum(abalance), 0) FROM pgbench_accounts;\n"
             "SELECT coalesce(sum(bbalance), 0) FROM pgbench_branches;\n"
             "SELECT coalesce(sum(tbalance), 0) FROM pgbench_tellers;\n"
             "SELECT coalesce(sum(delta), 0) FROM pgbench_history;\n")]


def _stop(srv: ServeProcess) -> None:
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(30) == 0, "".join(srv.lines)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """A server with raised limits and pgbench's tables loaded at scale 1 (default steps)."""
    srv = start_serve(tmp_path_factory.mktemp("pgbench") / "data", *RAISED)
    try:
        out = pgbench(srv, "-i", "-s", "1")
        assert out.returncode == 0, out.stderr
        assert "done in" in out.stderr
        yield srv
    finally:
        _stop(srv)


def test_init_loads_scale_1(loaded: ServeProcess) -> None:
    """The default steps (dtgvp: COPY FROM STDIN, VACUUM, ADD PRIMARY KEY) gave the data."""
    assert scalars(loaded, "SELECT count(*), sum(aid), min(bid), max(bid) "
                           "FROM pgbench_accounts;\n"
                           "SELECT count(*) FROM pgbench_tellers;\n"
                           "SELECT count(*) FROM pgbench_branches;\n"
                           "SELECT abalance, length(filler) FROM pgbench_accounts "
                           "WHERE aid = 77777;\n") == [
        "100000|5000050000|1|1", "10", "1", "0|0"]
    dup = psql(loaded, "INSERT INTO pgbench_accounts VALUES (5, 1, 0, '');\n")
    assert dup.returncode != 0 and "pgbench_accounts_pkey" in dup.stderr


@pytest.mark.parametrize("mode", ["simple", "extended", "prepared"])
def test_runs_select_only_and_tpcb(loaded: ServeProcess, mode: str) -> None:
    """-S and the TPC-B-like script with 4 clients and --max-tries=100 in each protocol; the
    balance sums agree afterwards (-n: history is not truncated between runs)."""
    out = pgbench(loaded, "-n", "-S", "-M", mode, "-c", "4", "-j", "2", "-t", "20")
    assert out.returncode == 0, out.stderr + out.stdout
    assert "number of transactions actually processed: 80/80" in out.stdout
    out = pgbench(loaded, "-n", "-M", mode, "-c", "4", "-j", "2", "-t", "20",
                  "--max-tries=100")
    assert out.returncode == 0, out.stderr + out.stdout
    assert "number of transactions actually processed: 80/80" in out.stdout
    sums = balance_sums(loaded)
    assert len(set(sums)) == 1, sums


def test_init_server_side_generate_and_other_steps(tmp_path: Path) -> None:
    """-I dtGp (INSERT ... SELECT generate_series), --fillfactor, -I f refused with 0A000,
    --partitions refused with 0A000; a run's startup (VACUUM, TRUNCATE history) works."""
    srv = start_serve(tmp_path / "data", *RAISED)
    try:
        out = pgbench(srv, "-i", "-I", "dtGp", "--fillfactor=90", "-s", "1")
        assert out.returncode == 0, out.stderr
        assert scalars(srv, "SELECT count(*), sum(bid) FROM pgbench_accounts")[0] == \
            "100000|100000"
        out = pgbench(srv, "-S", "-t", "5")  # vacuums, truncates pgbench_history
        assert out.returncode == 0, out.stderr
        out = pgbench(srv, "-i", "-I", "f")
        assert out.returncode != 0 and "foreign key constraints are not supported" \
            in out.stderr
        out = pgbench(srv, "-i", "-I", "dt", "--partitions=2")
        assert out.returncode != 0 and "partitioned tables are not supported" in out.stderr
    finally:
        _stop(srv)


def test_default_limits_fail_cleanly(tmp_path: Path) -> None:
    """With the default limits (3,000 rows) pgbench -i -s 1 fails with 54000 at its COPY, and
    nothing is half-loaded: the load transaction (TRUNCATE, INSERTs, COPY) rolled back."""
    srv = start_serve(tmp_path / "data")
    try:
        out = pgbench(srv, "-i", "-s", "1")
        assert out.returncode != 0
        assert "transaction modifies too many rows" in out.stderr, out.stderr
        assert scalars(srv, "SELECT count(*) FROM pgbench_accounts;\n"
                            "SELECT count(*) FROM pgbench_branches;\n"
                            "SELECT count(*) FROM pgbench_tellers;\n") == ["0", "0", "0"]
        assert scalars(srv, "SHOW dsql.max_transaction_rows") == ["3000"]
        # a session may raise its own limits (SET, or startup options: PGOPTIONS='-c ...')
        assert scalars(srv, "SET dsql.max_transaction_rows = 5000;\n"
                            "INSERT INTO pgbench_accounts SELECT g, 1, 0, '' "
                            "FROM generate_series(1, 4000) AS g;\n"
                            "SELECT count(*) FROM pgbench_accounts;\n")[-1] == "4000"
    finally:
        _stop(srv)


def test_copy_text_csv_and_errors(tmp_path: Path) -> None:
    """COPY FROM STDIN (text with escapes and NULLs, csv with a header and quotes) and COPY TO
    STDOUT through psql; a bad field names its line; TRUNCATE + INSERT + COPY in one block."""
    srv = start_serve(tmp_path / "data", "--max-transaction-rows", "50")
    try:
        out = psql(srv, "CREATE TABLE c (id int PRIMARY KEY, name text, score numeric);\n"
                        "COPY c FROM STDIN;\n1\tann\t1.5\n2\tb\\tob\t\\N\n\\.\n"
                        "COPY c (id, name) FROM STDIN WITH (FORMAT csv, HEADER true);\n"
                        'id,name\n3,"x, ""y"""\n4,\n\\.\n'
                        "COPY c TO STDOUT WITH (FORMAT csv);\n"
                        "COPY (SELECT id * 10, name FROM c WHERE id < 3 ORDER BY id) TO STDOUT;\n")
        assert out.returncode == 0, out.stderr
        assert out.stdout.splitlines()[1:] == [
            "COPY 2", "COPY 2", "1,ann,1.5", "2,b\tob,", '3,"x, ""y""",', "4,,",
            "10\tann", "20\tb\\tob"]
        bad = psql(srv, "COPY c FROM STDIN;\n5\tok\t1\n6\tbad\tnot-a-number\n\\.\n")
        assert bad.returncode != 0 and "invalid input syntax for type numeric" in bad.stderr
        assert "line 2, column score" in bad.stderr
        dup = psql(srv, "COPY c FROM STDIN;\n1\tagain\t0\n\\.\n")
        assert dup.returncode != 0 and "c_pkey" in dup.stderr
        out = psql(srv, "BEGIN;\nTRUNCATE c;\nINSERT INTO c VALUES (1, 'one', 1);\n"
                        "COPY c FROM STDIN WITH (FREEZE on);\n2\ttwo\t2\n\\.\nCOMMIT;\n"
                        "SELECT count(*), sum(id) FROM c;\n")
        assert out.returncode == 0, out.stderr
        assert out.stdout.splitlines()[-1] == "2|3"
        rows = "".join(f"{i}\tr\t0\n" for i in range(100, 160))
        over = psql(srv, f"COPY c FROM STDIN;\n{rows}\\.\n")
        assert over.returncode != 0 and "too many rows" in over.stderr
        assert scalars(srv, "SELECT count(*) FROM c") == ["2"]
        assert scalars(srv, "SHOW dsql.max_transaction_rows") == ["50"]
    finally:
        _stop(srv)


# -- units: the statement grammars and the limit options (no server) ------------------------------

def test_copy_and_truncate_grammar() -> None:
    """COPY's option spellings map to the right format; what dsql refuses is 0A000 / 42601."""
    from dsql.errors import DsqlError
    from dsql.sql import bulk
    from dsql.sql.copy import Copy
    from dsql.sql.truncate import Truncate

    c = bulk.recognise("copy pgbench_accounts from stdin with (freeze on)")
    assert isinstance(c, Copy) and c.from_client and not c.fmt.csv and c.fmt.null == "\\N"
    c = bulk.recognise('COPY s."T" (a, "B") FROM STDIN (FORMAT csv, HEADER, DELIMITER \';\', '
                       "NULL 'x', QUOTE '''')")
    assert isinstance(c, Copy) and c.target == ("s", "T") and c.columns == ["a", "B"]
    assert (c.fmt.csv, c.fmt.header, c.fmt.delimiter, c.fmt.null, c.fmt.quote) == \
        (True, True, ";", "x", "'")
    c = bulk.recognise("copy t to stdout with csv header delimiter as '|'")
    assert isinstance(c, Copy) and not c.from_client and c.fmt.csv and c.fmt.header
    c = bulk.recognise("/* hi */ COPY (SELECT ')' FROM t WHERE a < 3) TO STDOUT")
    assert isinstance(c, Copy) and c.query_sql == "SELECT ')' FROM t WHERE a < 3"
    t = bulk.recognise("truncate table a, s.b restart identity cascade;")
    assert isinstance(t, Truncate) and t.names == [(None, "a"), ("s", "b")]
    assert bulk.recognise("SELECT 1") is None and bulk.recognise("copyx") is None
    for sql, state in [("copy t from stdin (format binary)", "0A000"),
                       ("copy t from '/etc/passwd'", "0A000"),
                       ("copy t to program 'ls'", "0A000"),
                       ("copy t from stdin (bogus 1)", "42601"),
                       ("copy t from stdin (format csv, format text)", "42601"),
                       ("copy t from stdin (delimiter 'ab')", "0A000"),
                       ("copy (select 1) from stdin", "42601"),
                       ("truncate", "42601"),
                       ("truncate t now", "42601")]:
        with pytest.raises(DsqlError) as e:
            bulk.recognise(sql)
        assert e.value.sqlstate == state, sql


def test_limit_options() -> None:
    """`dsql serve --max-transaction-*` values: suffixes, defaults, refusals; the node capacity
    grows with the rows limit and never falls below its floor."""
    from dsql.errors import DsqlError
    from dsql.txn.limits import TXN_KEYS_FLOOR, Limits, NodeCapacity

    assert Limits.parse_server() == Limits()
    lim = Limits.parse_server("2000000", "1G", "600s")
    assert (lim.max_rows, lim.max_bytes, lim.max_age_s) == (2_000_000, 1 << 30, 600.0)
    assert Limits.parse_server(None, "512k").max_bytes == 512 << 10
    for bad in [("0", None, None), ("x", None, None), (None, "-1", None), (None, None, "0")]:
        with pytest.raises(ValueError):
            Limits.parse_server(*bad)
    assert lim.for_session({"dsql.max_transaction_rows": "5"}).max_rows == 5
    assert lim.for_session({}).max_bytes == 1 << 30
    assert lim.show("dsql.max_transaction_age_s") == "600"
    assert NodeCapacity.for_limits(Limits()).txn_keys_max == TXN_KEYS_FLOOR
    cap = NodeCapacity.for_limits(Limits(10_000_000))
    assert cap.txn_keys_max == 40_001_024
    with pytest.raises(DsqlError) as e:
        NodeCapacity(10, 1 << 20).check_commit(5, 10, 100)
    assert e.value.sqlstate == "54000"
    NodeCapacity(10, 1 << 20).check_commit(5, 9, 100)


def test_truncate_and_copy_through_psycopg(tmp_path: Path) -> None:
    """psycopg 3 sends every statement through the extended protocol (Parse/Bind/Execute):
    TRUNCATE and VACUUM work there too, and its COPY API loads and dumps rows."""
    psycopg = pytest.importorskip("psycopg")
    srv = start_serve(tmp_path / "data")
    try:
        dsn = f"host=127.0.0.1 port={srv.port} user=admin password=s3cret dbname=dsql"
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute("CREATE TABLE p (id int PRIMARY KEY, v text)")
            with c.cursor().copy("COPY p (id, v) FROM STDIN") as cp:
                for i in range(5):
                    cp.write_row((i, f"v{i}" if i else None))
            assert c.execute("SELECT count(*), count(v) FROM p").fetchone() == (5, 4)
            with c.cursor().copy("COPY p TO STDOUT WITH (FORMAT csv)") as cp:
                text = b"".join(bytes(b) for b in cp).decode()
            assert text.splitlines()[:2] == ["0,", "1,v1"]
            c.execute("VACUUM p")
            c.execute("TRUNCATE p")
            assert c.execute("SELECT count(*) FROM p").fetchone() == (0,)
    finally:
        _stop(srv)


class _FakeChannel:
    """A ClientChannel that hands COPY data over in the given chunks (no server)."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.out: list[bytes] = []

    def copy_in(self, *, column_count: int, binary: bool = False) -> Iterator[bytes]:
        yield from self.chunks

    def copy_out(self, *, column_count: int, binary: bool = False) -> _FakeChannel:
        return self

    def write(self, data: bytes) -> None:
        self.out.append(data)

    def close(self) -> None:
        pass


def test_copy_fast_path_switches_to_the_exact_decoder_in_order() -> None:
    """Plain lines go the column-wise path in 256 KiB chunks; a NULL, an escape or a line
    longer than a chunk in the middle of the stream hands the rest to RowDecoder without
    losing or reordering a row (rows split across chunks anywhere)."""
    from dsql.engine import Database, DatabaseOptions
    from dsql.session import Session
    from dsql.sql.copy import CHUNK_BYTES
    from dsql.txn.limits import Limits

    db = Database.open(":memory:", DatabaseOptions(limits=Limits(10**6, 1 << 30)))
    s = Session(db)
    try:
        s.execute("CREATE TABLE f (id int PRIMARY KEY, v text, c char(3))")
        n = 2 * CHUNK_BYTES // 20
        lines = [f"{i}\tvalue-{i}\tab\n" for i in range(n)]
        lines[n // 2 + 7] = f"{n // 2 + 7}\t\\N\ta\\tb\n"  # NULL and an escape mid-stream
        lines.append(f"{n}\t{'x' * (CHUNK_BYTES + 10)}\tz\n")  # longer than a chunk
        lines.append(f"{n + 1}\tlast\t\n")
        data = "".join(lines).encode()
        s.client = _FakeChannel([data[i:i + 997] for i in range(0, len(data), 997)])
        assert s.execute("COPY f FROM STDIN").command_tag == f"COPY {n + 2}"
        assert s.execute("SELECT count(*), count(v), sum(id) FROM f").rows == \
            [(n + 2, n + 1, (n + 1) * (n + 2) // 2)]
        assert s.execute(f"SELECT v, c FROM f WHERE id = {n // 2 + 7}").rows == [(None, "a\tb")]
        assert s.execute(f"SELECT length(v), c FROM f WHERE id = {n}").rows == \
            [(CHUNK_BYTES + 10, "z  ")]
        assert s.execute("SELECT v, c FROM f WHERE id = 3").rows == [("value-3", "ab ")]
        s.client = _FakeChannel([b"1\tdup\tx\n"])
        with pytest.raises(Exception) as e:
            s.execute("COPY f FROM STDIN")
        assert getattr(e.value, "sqlstate", "") == "23505"
    finally:
        s.close()
        db.close()


def test_bench_runner_for_the_client_sweep(tmp_path: Path) -> None:
    """bench.pgbench.run_pgbench (what `dsql bench pgbench_sweep` calls): loads through a
    libpq connection string with the limits raised per session (the server keeps its
    defaults), then runs both modes and reports tps / failures; the sums still agree."""
    from dsql.bench.pgbench import run_pgbench

    srv = start_serve(tmp_path / "data")
    try:
        dsn = f"host=127.0.0.1 port={srv.port} user=admin password=s3cret dbname=dsql"
        got = run_pgbench(dsn, mode="select-only", clients=2, seconds=1, scale=1,
                          initialize=True)
        assert got["tps"] > 0 and got["failed"] == 0, got
        assert got["latency_avg_ms"] > 0
        got = run_pgbench(dsn, mode="tpcb-like", clients=2, seconds=1, scale=1,
                          initialize=False)
        assert got["tps"] > 0, got
        sums = balance_sums(srv)
        assert len(set(sums)) == 1, sums
    finally:
        _stop(srv)
