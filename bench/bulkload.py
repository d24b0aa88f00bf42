"""Bulk load: COPY FROM STDIN and multi-row INSERT of 1M rows (quick: 20k), rows/s.

psycopg over `dsql serve` against PostgreSQL 15 (durable settings, bench/servers.py), one
connection each, into

    bulk (id bigint PRIMARY KEY, k int NOT NULL, name text, score double precision)

with seeded rows. dsql allows 3,000 modified rows per transaction, so both systems load in
transactions of BATCH rows (the same batching on both sides for parity):

    copy    one `COPY bulk FROM STDIN` of BATCH rows per autocommit transaction
            (psycopg's cursor.copy + write_row)
    insert  BEGIN; BATCH/STATEMENT_ROWS x `INSERT INTO bulk VALUES (...), (...), ...`; COMMIT

The load is split in rounds that alternate which server goes first. Throughput counts only the
time inside the database calls (row generation is outside the timing); latency is per
transaction (BATCH rows). Results: `bulkload.copy` and `bulkload.insert`, rows/s.
"""

from __future__ import annotations

import random
import time
from typing import Any

from dsql.bench import progress
from dsql.bench.driver import Tally
from dsql.bench.harness import Result
from dsql.bench.machine import peak_rss_kb, reset_peak_rss, reset_tree_peak_rss, tree_peak_rss_kb
from dsql.bench.servers import pair

DESCRIPTION = "bulk load by COPY and multi-row INSERT (batched to 2,000-row transactions), rows/s"

BATCH = 2000  # rows per transaction, under dsql's 3,000-row limit
STATEMENT_ROWS = 500
NOTES: list[str] = []


def rows_for(lo: int, hi: int) -> list[tuple[Any, ...]]:
    """Seeded rows lo..hi-1: the same values on every system and every run."""
    rng = random.Random(lo)
    return [(i, rng.randrange(1_000_000), f"name-{rng.getrandbits(40):010x}",
             round(rng.random() * 1000, 3)) for i in range(lo, hi)]


def create(conn: Any, table: str) -> None:
    conn.execute(f"CREATE TABLE {table} (id bigint PRIMARY KEY, k int NOT NULL, name text, "
                 "score double precision)")


def load_copy(conn: Any, table: str, rows: list[tuple[Any, ...]]) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {table} (id, k, name, score) FROM STDIN") as cp:
        for row in rows:
            cp.write_row(row)


def load_insert(conn: Any, table: str, rows: list[tuple[Any, ...]]) -> None:
    with conn.cursor() as cur:
        cur.execute("BEGIN")
        try:
            for lo in range(0, len(rows), STATEMENT_ROWS):
                part = rows[lo:lo + STATEMENT_ROWS]
                sql = f"INSERT INTO {table} VALUES " + ", ".join(["(%s, %s, %s, %s)"] * len(part))
                cur.execute(sql, [v for row in part for v in row])
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise


METHODS = {"copy": load_copy, "insert": load_insert}


def supported(conn: Any, method: str) -> bool:
    """False when the server rejects the method as not supported (SQLSTATE 0A000)."""
    import psycopg

    try:
        METHODS[method](conn, f"bulk_{method}", [])  # an empty load: nothing is written
    except psycopg.errors.FeatureNotSupported:
        return False
    return True


def _load(conn: Any, method: str, lo: int, hi: int, tally: Tally, label: str) -> None:
    fn = METHODS[method]
    with progress.Bar(label, total_ops=hi - lo, unit="rows/s") as bar:
        for start in range(lo, hi, BATCH):
            batch = rows_for(start, min(hi, start + BATCH))
            t0 = time.perf_counter_ns()
            fn(conn, f"bulk_{method}", batch)
            ns = time.perf_counter_ns() - t0
            tally.ops += len(batch)
            tally.seconds += ns / 1e9
            tally.hist.record(ns)
            bar.add(len(batch))


def run_rows(rows: int, rounds: int = 2) -> list[Result]:
    import psycopg
    from dsql.bench import driver

    assert rows >= 1 and rounds >= 1
    NOTES.clear()
    out: list[Result] = []
    conns: dict[str, Any] = {}
    with pair(NOTES) as (srv, pg):
        try:
            targets = [("dsql serve", srv.dsn, srv.pid, False)]
            if pg is not None:
                targets.append(("PostgreSQL 15", pg.dsn, pg.pid, True))
            for name, dsn, _, _ in targets:
                conns[name] = psycopg.connect(dsn, autocommit=True)
                for method in METHODS:
                    create(conns[name], f"bulk_{method}")
            per_round = -(-rows // rounds)
            for method in METHODS:
                if not supported(conns["dsql serve"], method):
                    NOTES.append(f"dsql serve does not support {method.upper()} yet "
                                 f"(0A000): bulkload.{method} skipped")
                    continue
                tallies = {name: Tally() for name, *_ in targets}
                for r in range(rounds):
                    lo, hi = r * per_round, min(rows, (r + 1) * per_round)
                    order = targets if r % 2 == 0 else list(reversed(targets))
                    for name, _, pid, tree in order:
                        if tree:
                            reset_tree_peak_rss(pid)
                        else:
                            reset_peak_rss(pid)
                        _load(conns[name], method, lo, hi, tallies[name],
                              f"bulkload {method} {name}")
                        tree_rss = tree_peak_rss_kb(pid) if tree else None
                        rss = tree_rss["sum_kb"] if tree_rss else peak_rss_kb(pid)
                        if rss is not None:
                            tallies[name].peak_rss_kb = max(tallies[name].peak_rss_kb or 0, rss)
                for name, *_ in targets:
                    with conns[name].cursor() as cur:
                        got = cur.execute(f"SELECT count(*) FROM bulk_{method}").fetchone()[0]
                    assert got == rows, f"{name} {method}: {got} rows, expected {rows}"
                out.append(driver.throughput_result(
                    f"bulkload.{method}", tallies, "dsql serve",
                    "PostgreSQL 15" if pg is not None else None, group="bulkload",
                    unit="rows/s", extra={"rows": rows, "batch_rows": BATCH, "rounds": rounds,
                                          "method": method}))
        finally:
            for c in conns.values():
                c.close()
    return out


QUICK_ROWS = 20_000
FULL_ROWS = 1_000_000


def run(quick: bool) -> list[Result]:
    return run_rows(QUICK_ROWS if quick else FULL_ROWS)
