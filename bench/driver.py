"""Drives client threads against a database and records what happened.

A `Client` is one connection with a uniform face over dsql's DB-API, sqlite3 and psycopg
(SQL written with `%s` placeholders; sqlite's `?` is substituted). `measure` runs one client
per thread for a time budget, each calling an operation repeatedly; an operation is one
transaction, retried on serialization failure (SQLSTATE 40001 / 40P01; sqlite's "database is
locked"), and its latency, retries included, goes into the thread's Histogram. `alternate`
runs several targets in rounds, switching the order every round, so drift of the machine
(other load, thermal state, page cache) hits every target alike.

Thread-safety: a Client belongs to one thread. `measure` starts and joins its own threads.
Invariants:
  1. Tally.ops counts committed operations only; failed attempts are counted in retries
     (retried) or gave_up (abandoned after MAX_ATTEMPTS).
  2. every thread stops at the deadline or after ops_max operations, whichever comes first.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dsql.bench import machine, progress
from dsql.bench.histogram import Histogram

MAX_ATTEMPTS = 1000  # per operation, then the operation is abandoned and counted
RETRYABLE = ("40001", "40P01")


class Retry(Exception):
    """Raised by an operation body to ask for a retry (e.g. a row it needed vanished)."""


def retry_kind(exc: BaseException) -> str | None:
    """'40001'/'40P01' for serialization failures and deadlocks, 'busy' for sqlite's lock
    timeouts, None for anything else (a real error)."""
    state = getattr(exc, "sqlstate", None)
    if state in RETRYABLE:
        return str(state)
    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
        return "busy"
    if isinstance(exc, Retry):
        return "retry"
    return None


class Client:
    """One connection. `kind` is 'dsql', 'sqlite' or 'psycopg'."""

    def __init__(self, kind: str, conn: Any) -> None:
        assert kind in ("dsql", "sqlite", "psycopg"), kind
        self.kind = kind
        self.conn = conn
        self.cur = conn.cursor()
        self.sqlite = kind == "sqlite"

    @staticmethod
    def dsql_embedded(path: str) -> Client:
        import dsql

        return Client("dsql", dsql.connect(path, autocommit=True))

    @staticmethod
    def sqlite_file(path: str) -> Client:
        """WAL, synchronous=FULL (every commit fsyncs: dsql's durability), 30 s busy wait."""
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        return Client("sqlite", conn)

    @staticmethod
    def psycopg(dsn: str) -> Client:
        import psycopg

        return Client("psycopg", psycopg.connect(dsn, autocommit=True))

    def _sql(self, sql: str) -> str:
        return sql.replace("%s", "?") if self.sqlite else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; the number of rows it affected."""
        self.cur.execute(self._sql(sql), tuple(params))
        return int(self.cur.rowcount)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.cur.execute(self._sql(sql), tuple(params))
        return list(self.cur.fetchall())

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.cur.executemany(self._sql(sql), rows)

    def begin(self, write: bool = False) -> None:
        # sqlite: BEGIN IMMEDIATE takes the write lock up front for read-modify-write (a
        # deferred BEGIN that later writes fails at once with "locked" instead of waiting).
        self.cur.execute("BEGIN IMMEDIATE" if self.sqlite and write else "BEGIN")

    def commit(self) -> None:
        self.cur.execute("COMMIT")

    def rollback(self) -> None:
        try:
            self.cur.execute("ROLLBACK")
        except Exception:  # noqa: BLE001 - no transaction open is fine here
            pass

    def close(self) -> None:
        try:
            self.conn.close()
        except Exception:  # noqa: BLE001
            pass


@dataclass
class Tally:
    """What one or more measurement segments did."""

    ops: int = 0
    seconds: float = 0.0  # wall time of the segments (threads run concurrently within one)
    retries: int = 0
    gave_up: int = 0
    retry_kinds: dict[str, int] = field(default_factory=dict)
    hist: Histogram = field(default_factory=Histogram)
    peak_rss_kb: int | None = None

    def merge(self, other: Tally) -> None:
        self.ops += other.ops
        self.seconds += other.seconds
        self.retries += other.retries
        self.gave_up += other.gave_up
        for k, v in other.retry_kinds.items():
            self.retry_kinds[k] = self.retry_kinds.get(k, 0) + v
        self.hist.merge(other.hist)
        if other.peak_rss_kb is not None:
            self.peak_rss_kb = max(self.peak_rss_kb or 0, other.peak_rss_kb)

    @property
    def throughput(self) -> float:
        return self.ops / self.seconds if self.seconds > 0 else 0.0

    @property
    def attempts(self) -> int:
        return self.ops + self.retries + self.gave_up

    @property
    def abort_rate(self) -> float:
        """Failed attempts / all attempts."""
        return (self.retries + self.gave_up) / self.attempts if self.attempts else 0.0

    @property
    def retries_per_commit(self) -> float:
        return self.retries / self.ops if self.ops else 0.0


Op = Callable[[Client, Any], None]  # (client, per-thread state) -> runs one transaction body


def transaction(client: Client, body: Callable[[], None], *, write: bool,
                explicit: bool, tally: Tally) -> bool:
    """Run `body` (inside BEGIN/COMMIT when `explicit`) until it commits; True if it did."""
    for attempt in range(MAX_ATTEMPTS):
        try:
            if explicit:
                client.begin(write)
            body()
            if explicit:
                client.commit()
            return True
        except Exception as e:  # noqa: BLE001 - classified below
            kind = retry_kind(e)
            if explicit:
                client.rollback()
            if kind is None:
                raise
            tally.retry_kinds[kind] = tally.retry_kinds.get(kind, 0) + 1
            if attempt + 1 < MAX_ATTEMPTS:
                tally.retries += 1
    tally.gave_up += 1
    return False


def measure(clients: Sequence[Client], op: Callable[[Client, Any, Tally], bool],
            states: Sequence[Any], *, seconds: float, label: str,
            ops_max: int = 10_000_000, rss_pid: int | None = None,
            rss_tree: bool = False) -> Tally:
    """Run `op(client, state, tally)` in one thread per client for `seconds` (or ops_max ops
    per thread). `op` returns True when its transaction committed. Peak RSS of `rss_pid`
    (this process by default; its process tree when rss_tree) is read at the end."""
    assert len(clients) == len(states) and clients, "one state per client"
    assert seconds > 0 and ops_max > 0
    tallies = [Tally() for _ in clients]
    errors: list[BaseException] = []
    pid = rss_pid
    if rss_tree and pid is not None:
        machine.reset_tree_peak_rss(pid)
    else:
        machine.reset_peak_rss(pid)
    barrier = threading.Barrier(len(clients) + 1)
    bar = progress.Bar(label, total_s=seconds)
    deadline = [0.0]

    def worker(i: int) -> None:
        t, client, state = tallies[i], clients[i], states[i]
        clock = time.perf_counter_ns
        barrier.wait()
        end = deadline[0]
        try:
            for _ in range(ops_max):
                start = clock()
                ok = op(client, state, t)
                now = clock()
                if ok:
                    t.ops += 1
                    t.hist.record(now - start)
                    bar.add(1)
                if now / 1e9 >= end:
                    break
        except BaseException as e:  # noqa: BLE001 - reported after join
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True)
               for i in range(len(clients))]
    for th in threads:
        th.start()
    start = time.perf_counter_ns()
    deadline[0] = start / 1e9 + seconds
    barrier.wait()
    for th in threads:
        th.join()
    elapsed = (time.perf_counter_ns() - start) / 1e9
    bar.close()
    if errors:
        raise errors[0]
    total = Tally()
    for t in tallies:
        total.merge(t)
    total.seconds = elapsed
    if rss_tree and pid is not None:
        tree = machine.tree_peak_rss_kb(pid)
        total.peak_rss_kb = None if tree is None else tree["sum_kb"]
    else:
        total.peak_rss_kb = machine.peak_rss_kb(pid)
    return total


@dataclass
class Target:
    """A system under test within a comparison: its clients and where its memory lives."""

    name: str
    clients: list[Client]
    rss_pid: int | None = None  # None: this process
    rss_tree: bool = False

    def close(self) -> None:
        for c in self.clients:
            c.close()


def alternate(targets: Sequence[Target], op: Callable[[Client, Any, Tally], bool],
              make_states: Callable[[str, int], list[Any]], *, rounds: int,
              seconds: float, label: str,
              collect: Callable[[str, list[Any]], None] | None = None) -> dict[str, Tally]:
    """Rounds of one segment per target, the order reversed every other round.
    make_states(target_name, round) gives one state per client (seeded choosers);
    collect(target_name, states), when given, sees the states after each segment."""
    assert rounds >= 1 and targets
    out = {t.name: Tally() for t in targets}
    for r in range(rounds):
        order = list(targets) if r % 2 == 0 else list(reversed(targets))
        for t in order:
            states = make_states(t.name, r)
            tally = measure(t.clients, op, states, seconds=seconds,
                            label=f"{label} {t.name} round {r + 1}/{rounds}",
                            rss_pid=t.rss_pid, rss_tree=t.rss_tree)
            out[t.name].merge(tally)
            if collect is not None:
                collect(t.name, states)
    return out


def tally_json(t: Tally) -> dict[str, Any]:
    """The counts of a tally for a result's `extra`."""
    out: dict[str, Any] = {"ops": t.ops, "seconds": round(t.seconds, 3), "retries": t.retries,
                           "abort_rate": round(t.abort_rate, 4),
                           "retries_per_commit": round(t.retries_per_commit, 4)}
    if t.gave_up:
        out["gave_up"] = t.gave_up
    if t.retry_kinds:
        out["retry_kinds"] = dict(sorted(t.retry_kinds.items()))
    return out


def throughput_result(name: str, tallies: dict[str, Tally], subject: str,
                      baseline: str | None, *, group: str, unit: str = "ops/s",
                      extra: dict[str, Any] | None = None) -> Any:
    """A Result for `subject`'s throughput against `baseline`'s (when measured), with both
    sides' latency summaries, peak RSS and retry counts."""
    from dsql.bench.harness import Result

    mine = tallies[subject]
    base = tallies.get(baseline) if baseline else None
    info: dict[str, Any] = {"subject": subject, **tally_json(mine)}
    if base is not None:
        info["baseline"] = tally_json(base)
    info.update(extra or {})
    return Result(name, round(mine.throughput, 2), unit, better="higher",
                  baseline=None if base is None else round(base.throughput, 2),
                  baseline_name=baseline if base is not None else None,
                  latency=mine.hist.summary_us() if mine.hist.count else None,
                  baseline_latency=base.hist.summary_us() if base and base.hist.count else None,
                  peak_rss_kb=mine.peak_rss_kb,
                  baseline_peak_rss_kb=None if base is None else base.peak_rss_kb,
                  group=group, extra=info)
