"""The embedded engine through DB-API, against sqlite3 in the same run.

Point SELECT: `cursor.execute("SELECT ... WHERE id = %s", (k,))` + fetchone on an in-memory
table of N rows (id int primary key, name text, balance int), against sqlite3 in memory with
the same rows and shape, in alternating repeats (best of each). Durable UPDATE: single-row
autocommit UPDATE on a data directory
(fdatasync per commit), against sqlite3 in WAL mode with synchronous=FULL on the same disk,
timed once the new journal's first spare segment is zero-filled (steady state),
in rounds alternating between the two engines (best round of each; the median round's
ratio in extra).
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from dsql.bench.harness import Result

import dsql

DESCRIPTION = "DB-API point SELECT and durable autocommit UPDATE against sqlite3"


def _rate(fn: Callable[[int], object], keys: list[int], repeats: int) -> float:
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        for k in keys:
            fn(k)
        best = max(best, len(keys) / (time.perf_counter() - start))
    return best


def _load_dsql(conn: dsql.dbapi.Connection, n: int) -> None:
    cur = conn.cursor()
    cur.execute("CREATE TABLE acct (id int PRIMARY KEY, name text, balance int)")
    for start in range(0, n, 2000):
        cur.execute("BEGIN")
        for i in range(start, min(n, start + 2000)):
            cur.execute("INSERT INTO acct VALUES (%s, %s, %s)", (i, f"name{i}", i % 1000))
        cur.execute("COMMIT")


def _load_sqlite(db: sqlite3.Connection, n: int) -> None:
    db.execute("CREATE TABLE acct (id integer PRIMARY KEY, name text, balance integer)")
    db.executemany("INSERT INTO acct VALUES (?, ?, ?)",
                   ((i, f"name{i}", i % 1000) for i in range(n)))
    db.commit()


def run(quick: bool) -> list[Result]:
    n = 10_000 if quick else 100_000
    lookups = 20_000 if quick else 200_000
    updates = 500 if quick else 2000
    repeats = 3
    rnd = random.Random(7)
    keys = [rnd.randrange(n) for _ in range(lookups)]

    # -- point SELECT, in memory (alternating repeats, best of each) ------------------------------
    conn = dsql.connect(":memory:", autocommit=True)
    _load_dsql(conn, n)
    cur = conn.cursor()
    q = "SELECT name, balance FROM acct WHERE id = %s"

    def dsql_get(k: int) -> object:
        cur.execute(q, (k,))
        return cur.fetchone()
    assert dsql_get(5) == ("name5", 5)

    lite = sqlite3.connect(":memory:")
    _load_sqlite(lite, n)
    lcur = lite.cursor()
    lq = "SELECT name, balance FROM acct WHERE id = ?"

    def lite_get(k: int) -> object:
        lcur.execute(lq, (k,))
        return lcur.fetchone()
    assert lite_get(5) == ("name5", 5)
    dsql_sel = lite_sel = 0.0
    for _ in range(repeats):
        dsql_sel = max(dsql_sel, _rate(dsql_get, keys, 1))
        lite_sel = max(lite_sel, _rate(lite_get, keys, 1))
    conn.close()
    lite.close()

    # -- durable single-row autocommit UPDATE ----------------------------------------------------
    # Both engines are set up first, then timed in alternating rounds (dsql, sqlite3, dsql, ...)
    # so that both see the same disk and machine load; each side's best round counts.
    base = Path(tempfile.mkdtemp(prefix="dsql-bench-", dir=str(Path.cwd())))
    try:
        uconn = dsql.connect(base / "dsql", autocommit=True)
        _load_dsql(uconn, 1000)
        # Steady state: a new journal zero-fills its next segment in the background once
        # (then once per segment, amortised over ~100k commits); time after that, as sqlite's
        # WAL file is likewise measured after it exists.
        uconn._db.node.journal.wait_spare_ready(30.0)
        ucur = uconn.cursor()
        ldb = sqlite3.connect(str(base / "lite.db"), isolation_level=None)
        ldb.execute("PRAGMA journal_mode=WAL")
        ldb.execute("PRAGMA synchronous=FULL")
        _load_sqlite(ldb, 1000)

        def dsql_upd(k: int) -> None:
            ucur.execute("UPDATE acct SET balance = balance + 1 WHERE id = %s", (k,))

        def lite_upd(k: int) -> None:
            ldb.execute("UPDATE acct SET balance = balance + 1 WHERE id = ?", (k,))
        rounds = 10 if quick else 20
        per_round = max(1, updates // rounds)
        up_d: list[float] = []
        up_l: list[float] = []
        for _ in range(rounds):
            ukeys = [rnd.randrange(1000) for _ in range(per_round)]
            up_d.append(_rate(dsql_upd, ukeys, 1))
            up_l.append(_rate(lite_upd, ukeys, 1))
        dsql_up, lite_up = max(up_d), max(up_l)
        syncs = uconn._db.node.journal.stats()
        uconn.close()
        ldb.close()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    up_d.sort()
    up_l.sort()
    median_ratio = up_d[len(up_d) // 2] / up_l[len(up_l) // 2]

    return [
        Result("embedded.point_select", dsql_sel, "ops/s", better="higher", baseline=lite_sel,
               baseline_name="sqlite3 :memory:", target=">= 0.5x sqlite3",
               meets_target=dsql_sel >= 0.5 * lite_sel, extra={"rows": n}),
        Result("embedded.durable_update", dsql_up, "ops/s", better="higher", baseline=lite_up,
               baseline_name="sqlite3 WAL synchronous=FULL", target=">= 1.0x sqlite3",
               meets_target=dsql_up >= lite_up,
               extra={"rows": 1000, "rounds": rounds, "median_round_ratio": round(median_ratio, 3),
                      "syncs_per_commit": round(syncs.syncs / max(1, syncs.appends), 3)}),
    ]
