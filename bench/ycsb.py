"""YCSB core workloads A, B, C and F over N rows, uniform and zipfian keys.

Two comparisons, each measured in the same run with alternating rounds:

- embedded: `dsql.connect(DIR)` (durable: journal fdatasync per commit group) against sqlite3
  on a file database in WAL mode with synchronous=FULL (fsync per commit: the same durability),
  C client threads in this process, each with its own connection;
- server: psycopg over `dsql serve` against PostgreSQL 15 started by the harness (fsync=on,
  synchronous_commit=on, REPEATABLE READ), C client threads, one connection each.

The table is YCSB's: `usertable (id int PRIMARY KEY, field0 .. field9 text)` with 100-byte
fields, seeded. Operations (each one transaction, autocommit unless stated):

    read    SELECT * FROM usertable WHERE id = k
    update  UPDATE usertable SET fieldJ = v WHERE id = k            (one random field)
    rmw     BEGIN; SELECT * ... id = k; UPDATE ... id = k; COMMIT  (read-modify-write)

    A  50% read, 50% update     B  95% read, 5% update
    C  100% read                F  50% read, 50% read-modify-write

Keys: uniform, or zipfian with theta 0.99 scrambled over the key space (bench/keys.py).
A transaction failing with 40001 (or 40P01, or sqlite's busy timeout) is retried; retries are
counted and its latency includes them. Results: `ycsb.<pair>.<workload>.<distribution>`,
ops/s with the baseline's, p50/p95/p99 latency and peak RSS of both, and per operation type
(read, update, rmw) the latency summary in `extra.latency_by_op` (the baseline's in
`extra.baseline.latency_by_op`), as YCSB reports them.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dsql.bench import driver, progress
from dsql.bench.driver import Client, Tally, Target
from dsql.bench.harness import Result
from dsql.bench.histogram import Histogram
from dsql.bench.keys import KeyChooser
from dsql.bench.machine import bench_dir
from dsql.bench.servers import pair

DESCRIPTION = "YCSB A/B/C/F, uniform+zipfian: embedded vs sqlite3, server vs PostgreSQL 15"

FIELDS = 10
FIELD_BYTES = 100
LOAD_BATCH = 500  # rows per INSERT statement (dsql allows 3,000 modified rows per transaction)
MIXES: dict[str, dict[str, float]] = {
    "A": {"read": 0.5, "update": 0.5},
    "B": {"read": 0.95, "update": 0.05},
    "C": {"read": 1.0},
    "F": {"read": 0.5, "rmw": 0.5},
}
DISTRIBUTIONS = ("uniform", "zipfian")
NOTES: list[str] = []


class Sizes:
    def __init__(self, rows: int, threads: int, rounds: int, seconds: float,
                 workloads: tuple[str, ...] = tuple(MIXES), pairs: tuple[str, ...] =
                 ("embedded", "server")) -> None:
        assert rows >= 1 and threads >= 1 and rounds >= 1 and seconds > 0
        self.rows, self.threads, self.rounds, self.seconds = rows, threads, rounds, seconds
        self.workloads, self.pairs = workloads, pairs


QUICK = Sizes(rows=2000, threads=4, rounds=2, seconds=0.4)
FULL = Sizes(rows=100_000, threads=8, rounds=3, seconds=5.0)


def _row(i: int, rng: random.Random) -> tuple[Any, ...]:
    return (i, *(_value(rng) for _ in range(FIELDS)))


def _value(rng: random.Random) -> str:
    return "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=FIELD_BYTES))


def create_and_load(client: Client, rows: int, seed: int = 1) -> None:
    """The usertable with `rows` seeded rows, in autocommit INSERTs of LOAD_BATCH rows."""
    cols = ", ".join(f"field{j} text" for j in range(FIELDS))
    client.execute(f"CREATE TABLE usertable (id int PRIMARY KEY, {cols})")
    rng = random.Random(seed)
    one = "(" + ", ".join(["%s"] * (FIELDS + 1)) + ")"
    with progress.Bar(f"load usertable {client.kind}", total_ops=rows, unit="rows/s") as bar:
        for lo in range(0, rows, LOAD_BATCH):
            batch = [_row(i, rng) for i in range(lo, min(rows, lo + LOAD_BATCH))]
            sql = "INSERT INTO usertable VALUES " + ", ".join([one] * len(batch))
            client.execute(sql, [v for row in batch for v in row])
            bar.add(len(batch))
    got = client.query("SELECT count(*) FROM usertable")[0][0]
    assert got == rows, f"loaded {got} rows, expected {rows}"


class State:
    """One client thread's seeded choices: keys, operations, field values."""

    def __init__(self, chooser: KeyChooser, mix: dict[str, float], seed: int) -> None:
        self.keys = chooser
        self.rng = random.Random(seed)
        self.kinds = list(mix)
        self.weights = list(mix.values())
        self.values = [_value(self.rng) for _ in range(32)]
        self.by_op: dict[str, Histogram] = {k: Histogram() for k in mix}  # committed ops, ns


READ = "SELECT * FROM usertable WHERE id = %s"
UPDATES = [f"UPDATE usertable SET field{j} = %s WHERE id = %s" for j in range(FIELDS)]


def operation(client: Client, st: State, tally: Tally) -> bool:
    """One YCSB operation as its own transaction; its latency also goes to st.by_op[kind]."""
    kind = st.rng.choices(st.kinds, st.weights)[0] if len(st.kinds) > 1 else st.kinds[0]
    key = st.keys.next()
    start = time.perf_counter_ns()
    if kind == "read":
        def body() -> None:
            rows = client.query(READ, (key,))
            assert len(rows) == 1, f"row {key} missing"
        ok = driver.transaction(client, body, write=False, explicit=False, tally=tally)
    else:
        field = st.rng.randrange(FIELDS)
        value = st.values[st.rng.randrange(len(st.values))]
        if kind == "update":
            def update() -> None:
                client.execute(UPDATES[field], (value, key))
            ok = driver.transaction(client, update, write=True, explicit=False, tally=tally)
        else:
            assert kind == "rmw", kind

            def rmw() -> None:
                rows = client.query(READ, (key,))
                assert len(rows) == 1, f"row {key} missing"
                old = rows[0][1 + (field + 1) % FIELDS]
                client.execute(UPDATES[field], (old[:50] + value[:50], key))
            ok = driver.transaction(client, rmw, write=True, explicit=True, tally=tally)
    if ok:
        st.by_op[kind].record(time.perf_counter_ns() - start)
    return ok


def _states(rows: int, threads: int, workload: str, dist: str) -> Callable[[str, int],
                                                                          list[State]]:
    base = KeyChooser(rows, dist, seed=zlib.crc32(f"{workload}.{dist}".encode()))

    def make(target: str, rnd: int) -> list[State]:
        # The same seeds for every target in a round: both see the same key sequences.
        return [State(base.fork(rnd * 1000 + i), MIXES[workload], seed=rnd * 1000 + i)
                for i in range(threads)]
    return make


def _compare(pair: str, targets: list[Target], subject: str, baseline: str | None,
             sizes: Sizes) -> list[Result]:
    out = []
    for workload in sizes.workloads:
        for dist in DISTRIBUTIONS:
            by_op: dict[str, dict[str, Histogram]] = {}

            def collect(target: str, states: list[State],
                        by_op: dict[str, dict[str, Histogram]] = by_op) -> None:
                mine = by_op.setdefault(target, {})
                for st in states:
                    for kind, h in st.by_op.items():
                        mine.setdefault(kind, Histogram()).merge(h)
            tallies = driver.alternate(targets, operation,
                                       _states(sizes.rows, sizes.threads, workload, dist),
                                       rounds=sizes.rounds, seconds=sizes.seconds,
                                       label=f"ycsb {workload} {dist}", collect=collect)
            result = driver.throughput_result(
                f"ycsb.{pair}.{workload}.{dist}", tallies, subject, baseline,
                group=f"ycsb.{pair}",
                extra={"workload": workload, "distribution": dist, "rows": sizes.rows,
                       "threads": sizes.threads, "rounds": sizes.rounds})
            for target, hists in by_op.items():
                summary = {k: h.summary_us() for k, h in hists.items() if h.count}
                if target == subject:
                    result.extra["latency_by_op"] = summary
                elif "baseline" in result.extra:
                    result.extra["baseline"]["latency_by_op"] = summary
            out.append(result)
    return out


def run_embedded(sizes: Sizes) -> list[Result]:
    base = Path(tempfile.mkdtemp(prefix="dsql-bench-ycsb-", dir=bench_dir()))
    targets: list[Target] = []
    try:
        dsql_dir = str(base / "dsql")
        first = Client.dsql_embedded(dsql_dir)
        create_and_load(first, sizes.rows)
        dsql_clients = [first] + [Client.dsql_embedded(dsql_dir)
                                  for _ in range(sizes.threads - 1)]
        targets.append(Target("dsql embedded", dsql_clients))
        lite_path = str(base / "sqlite.db")
        lite = Client.sqlite_file(lite_path)
        lite.execute("BEGIN")
        create_and_load(lite, sizes.rows)
        lite.execute("COMMIT")
        targets.append(Target("sqlite3 WAL synchronous=FULL",
                              [lite] + [Client.sqlite_file(lite_path)
                                        for _ in range(sizes.threads - 1)]))
        return _compare("embedded", targets, "dsql embedded", "sqlite3 WAL synchronous=FULL",
                        sizes)
    finally:
        for t in targets:
            t.close()
        shutil.rmtree(base, ignore_errors=True)


def run_server(sizes: Sizes) -> list[Result]:
    targets: list[Target] = []
    with pair(NOTES) as (srv, pg):
        try:
            first = Client.psycopg(srv.dsn)
            create_and_load(first, sizes.rows)
            targets.append(Target("dsql serve", [first] + [Client.psycopg(srv.dsn)
                                                           for _ in range(sizes.threads - 1)],
                                  rss_pid=srv.pid))
            if pg is not None:
                c = Client.psycopg(pg.dsn)
                create_and_load(c, sizes.rows)
                targets.append(Target("PostgreSQL 15", [c] + [Client.psycopg(pg.dsn) for _ in
                                                              range(sizes.threads - 1)],
                                      rss_pid=pg.pid, rss_tree=True))
            return _compare("server", targets, "dsql serve",
                            "PostgreSQL 15" if pg is not None else None, sizes)
        finally:
            for t in targets:
                t.close()


def run_sizes(sizes: Sizes) -> list[Result]:
    NOTES.clear()
    out: list[Result] = []
    if "embedded" in sizes.pairs:
        out += run_embedded(sizes)
    if "server" in sizes.pairs:
        out += run_server(sizes)
    return out


def run(quick: bool) -> list[Result]:
    return run_sizes(QUICK if quick else FULL)
