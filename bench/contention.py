"""Contention sweep: C clients updating K hot rows, K = 1000, 100, 10, 1.

How optimistic concurrency behaves as conflicts grow: dsql (psycopg over `dsql serve`, first
committer wins at COMMIT, 40001 OC000 for the loser) against PostgreSQL 15 at REPEATABLE READ
(row locks: the second writer waits, then gets 40001 "could not serialize access due to
concurrent update" when the first commits). Both are counted the same way. The same sweep runs
embedded too: `dsql.connect` sessions on one data directory (durable) against sqlite3 in WAL
mode with synchronous=FULL (BEGIN IMMEDIATE: a writer waits for the database lock, so sqlite
serialises writers instead of aborting them; a busy timeout would count as an abort).

Each transaction, from C client threads with one connection each:

    BEGIN; SELECT v FROM hot WHERE id = k; UPDATE hot SET v = <v+1> WHERE id = k; COMMIT

with k uniform over the K hot rows (ids 0..K-1 of a 1,000-row table), retried at once on
40001/40P01 until it commits. Reported per K: committed transactions/s, the abort rate
(failed attempts / all attempts) and retries per committed transaction, for both systems.
The lost-update invariant is checked at the end: sum(v) equals the number of commits.
"""

from __future__ import annotations

import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

from dsql.bench import driver
from dsql.bench.driver import Client, Tally, Target
from dsql.bench.harness import Result
from dsql.bench.machine import bench_dir
from dsql.bench.servers import pair

DESCRIPTION = "K hot rows (1000..1) updated by C clients: throughput, 40001 aborts vs PostgreSQL"

TABLE_ROWS = 1000
HOT = (1000, 100, 10, 1)
LITE = "sqlite3 WAL synchronous=FULL"
NOTES: list[str] = []


class Sizes:
    def __init__(self, threads: int, rounds: int, seconds: float,
                 hot: tuple[int, ...] = HOT) -> None:
        assert threads >= 1 and rounds >= 1 and seconds > 0
        assert all(1 <= k <= TABLE_ROWS for k in hot)
        self.threads, self.rounds, self.seconds, self.hot = threads, rounds, seconds, hot


QUICK = Sizes(threads=8, rounds=2, seconds=0.5)
FULL = Sizes(threads=16, rounds=3, seconds=5.0)


class State:
    def __init__(self, hot: int, seed: int) -> None:
        self.hot = hot
        self.rng = random.Random(seed)


def increment(client: Client, st: State, tally: Tally) -> bool:
    key = st.rng.randrange(st.hot)

    def body() -> None:
        (v,) = client.query("SELECT v FROM hot WHERE id = %s", (key,))[0]
        client.execute("UPDATE hot SET v = %s WHERE id = %s", (v + 1, key))
    return driver.transaction(client, body, write=True, explicit=True, tally=tally)


def setup(client: Client) -> None:
    client.execute("CREATE TABLE hot (id int PRIMARY KEY, v int NOT NULL)")
    values = ", ".join(f"({i}, 0)" for i in range(TABLE_ROWS))
    client.execute(f"INSERT INTO hot VALUES {values}")


def _sweep(targets: list[Target], sizes: Sizes, prefix: str, subject: str,
           baseline: str | None) -> list[Result]:
    """The K sweep over `targets` (already set up), alternating them; the lost-update check
    at the end lands in every result's extra (and NOTES when it fails)."""
    out: list[Result] = []
    commits = {t.name: 0 for t in targets}
    for k in sizes.hot:
        def states(target: str, rnd: int, k: int = k) -> list[Any]:
            return [State(k, seed=k * 100_000 + rnd * 1000 + i) for i in range(sizes.threads)]
        tallies = driver.alternate(targets, increment, states, rounds=sizes.rounds,
                                   seconds=sizes.seconds, label=f"{prefix} K={k}")
        for name, t in tallies.items():
            commits[name] += t.ops
        out.append(driver.throughput_result(
            f"{prefix}.K{k}", tallies, subject, baseline, group=prefix, unit="txn/s",
            extra={"hot_rows": k, "threads": sizes.threads, "rounds": sizes.rounds}))
    for t in targets:  # the lost-update check: every commit added exactly one
        total = t.clients[0].query("SELECT sum(v) FROM hot")[0][0]
        ok = int(total or 0) == commits[t.name]
        for r in out:
            r.extra["invariant_ok" if t.name == subject else "baseline_invariant_ok"] = ok
        if not ok:
            NOTES.append(f"{t.name}: sum(v) = {total} but {commits[t.name]} commits")
    return out


def run_server(sizes: Sizes) -> list[Result]:
    targets: list[Target] = []
    with pair(NOTES) as (srv, pg):
        try:
            specs: list[tuple[str, str, int, bool]] = [("dsql serve", srv.dsn, srv.pid, False)]
            if pg is not None:
                specs.append(("PostgreSQL 15 RR", pg.dsn, pg.pid, True))
            for name, dsn, pid, tree in specs:
                clients = [Client.psycopg(dsn) for _ in range(sizes.threads)]
                setup(clients[0])
                targets.append(Target(name, clients, rss_pid=pid, rss_tree=tree))
            return _sweep(targets, sizes, "contention", "dsql serve",
                          "PostgreSQL 15 RR" if pg is not None else None)
        finally:
            for t in targets:
                t.close()


def run_embedded(sizes: Sizes) -> list[Result]:
    base = Path(tempfile.mkdtemp(prefix="dsql-bench-contention-", dir=bench_dir()))
    targets: list[Target] = []
    try:
        dsql_dir, lite_path = str(base / "dsql"), str(base / "sqlite.db")
        dsql_clients = [Client.dsql_embedded(dsql_dir)]
        setup(dsql_clients[0])
        dsql_clients += [Client.dsql_embedded(dsql_dir) for _ in range(sizes.threads - 1)]
        targets.append(Target("dsql embedded", dsql_clients))
        lite_clients = [Client.sqlite_file(lite_path)]
        setup(lite_clients[0])
        lite_clients += [Client.sqlite_file(lite_path) for _ in range(sizes.threads - 1)]
        targets.append(Target(LITE, lite_clients))
        return _sweep(targets, sizes, "contention.embedded", "dsql embedded", LITE)
    finally:
        for t in targets:
            t.close()
        shutil.rmtree(base, ignore_errors=True)


def run_sizes(sizes: Sizes, embedded: bool = True) -> list[Result]:
    NOTES.clear()
    out = run_server(sizes)
    if embedded:
        out += run_embedded(sizes)
    return out


def run(quick: bool) -> list[Result]:
    return run_sizes(QUICK if quick else FULL)
