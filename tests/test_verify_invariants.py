"""Invariant workloads (ring, bank, counter, ledger): the checkers can fail, and dsql passes.

Goal: each checker rejects deliberately broken states (a split ring, money created, a lost or
invented increment, a lost acknowledged id) and accepts correct ones; and the workloads, run
by concurrent clients against the embedded engine and against `dsql serve` over psycopg,
keep their invariants at every snapshot read and at the end. Method: hand-made and randomly
broken states for the pure checkers; a "broken engine" (a PEP 249 wrapper that silently drops
every fifth COMMIT's writes by rolling back instead) to show the whole pipeline catches lost
commits; PostgreSQL at READ COMMITTED (real concurrency, a weaker level) must break the
counter and the bank; then small real runs (4 clients, ~150 operations each).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

import dsql
from dsql.verify.invariants import (
    Bank,
    Bounds,
    Counter,
    Ledger,
    LedgerLog,
    Ring,
    check_bank,
    check_counter,
    check_ledger,
    check_ring,
    run_invariant,
)
from dsql.verify.invariants.common import FAIL, OK, UNKNOWN, attempt

# -- the pure checkers --------------------------------------------------------------------------


def _ring_from_order(order: list[int]) -> dict[int, int]:
    return {a: order[(i + 1) % len(order)] for i, a in enumerate(order)}


def test_ring_checker_accepts_any_single_cycle() -> None:
    rng = random.Random(1)
    for n in (3, 4, 10, 50):
        order = list(range(n))
        rng.shuffle(order)
        assert check_ring(_ring_from_order(order), n) == []


def test_ring_checker_rejects_split_and_broken_rings() -> None:
    # two cycles of 3 instead of one of 6
    two = {0: 1, 1: 2, 2: 0, 3: 4, 4: 5, 5: 3}
    assert "split" in check_ring(two, 6)[0]
    # a node pointing back into the walk (a rho shape)
    rho = {0: 1, 1: 2, 2: 3, 3: 1}
    assert "twice" in check_ring(rho, 4)[0]
    # a missing row, an extra row, a self-loop
    assert check_ring({0: 1, 1: 0}, 3)
    assert check_ring({0: 1, 1: 2, 2: 0, 7: 0}, 3)
    assert check_ring({0: 0, 1: 2, 2: 1}, 3)
    # random corruption of one link in a ring is always caught (unless it is a no-op)
    rng = random.Random(2)
    for _ in range(200):
        n = rng.randint(3, 30)
        order = list(range(n))
        rng.shuffle(order)
        nexts = _ring_from_order(order)
        a = rng.randrange(n)
        new = rng.randrange(n)
        if new == nexts[a]:
            continue
        nexts[a] = new
        assert check_ring(nexts, n), nexts


def test_bank_checker() -> None:
    assert check_bank({0: 50, 1: 150, 2: 100}, 3, 300) == []
    assert "total 301" in check_bank({0: 51, 1: 150, 2: 100}, 3, 300)[0]
    assert "negative" in check_bank({0: -10, 1: 210, 2: 100}, 3, 300)[0]
    assert "accounts" in check_bank({0: 150, 1: 150}, 3, 300)[0]


def test_counter_checker() -> None:
    assert check_counter(5, Bounds(5, 5)) == []
    assert check_counter(6, Bounds(5, 7)) == []
    assert "lost" in check_counter(4, Bounds(5, 7))[0]
    assert "from nowhere" in check_counter(8, Bounds(5, 7))[0]
    assert "missing" in check_counter(None, Bounds(0, 0))[0]


def test_ledger_checker() -> None:
    log = LedgerLog(acked=[1, 2, 4], maybe={5}, failed={3}, issued=6)
    assert check_ledger({1, 2, 4}, log) == []
    assert check_ledger({1, 2, 4, 5}, log) == []
    assert "missing" in check_ledger({1, 4}, log)[0]
    assert "failed" in check_ledger({1, 2, 3, 4}, log)[0]
    assert "never inserted" in check_ledger({1, 2, 4, 9}, log)[0]
    assert "no outcome" in check_ledger({1, 2, 4, 6}, log)[0]  # 6 was still in flight
    # a snapshot only owes the ids acknowledged before it began
    assert check_ledger({1, 2}, log, acked_before=2, final=False) == []
    assert check_ledger({1}, log, acked_before=2, final=False)


def test_snapshot_bounds_are_real_time() -> None:
    """A snapshot read must see every increment / id acknowledged before it began (a stale
    snapshot fails), and nothing beyond what was acked, unknown or in flight when it ended."""
    c = Counter()
    c.acked, c.maybe, c.in_flight = 5, 1, 2
    assert c.check_state(5, final=False, before=5) == []
    assert c.check_state(8, final=False, before=5) == []
    assert "lost" in c.check_state(4, final=False, before=5)[0]  # stale: missed acked ones
    assert "from nowhere" in c.check_state(9, final=False, before=5)[0]
    assert "from nowhere" in c.check_state(7, final=True)[0]  # nothing in flight at the end
    led = Ledger()
    led.log = LedgerLog(acked=[1, 2, 3], issued=4)
    assert led.check_state({1, 2}, final=False, before=2) == []
    assert "missing" in led.check_state({1}, final=False, before=2)[0]


# -- the whole pipeline catches a broken engine ------------------------------------------------


class _DroppingConnection:
    """A PEP 249 connection whose commit() rolls back every `every`-th time and still returns:
    an engine that loses acknowledged commits."""

    calls = 0

    def __init__(self, inner: Any, every: int) -> None:
        self.inner, self.every = inner, every

    def cursor(self) -> Any:
        return self.inner.cursor()

    def commit(self) -> None:
        _DroppingConnection.calls += 1
        if _DroppingConnection.calls % self.every == 0:
            self.inner.rollback()
        else:
            self.inner.commit()

    def rollback(self) -> None:
        self.inner.rollback()

    def close(self) -> None:
        self.inner.close()


@pytest.mark.parametrize("workload", [Counter, Ledger], ids=["counter", "ledger"])
def test_lost_commits_are_caught(tmp_path: Path, workload: Any) -> None:
    path = tmp_path / "db"
    w = workload()
    w.setup(lambda: dsql.connect(path))
    run = run_invariant(w, lambda: _DroppingConnection(dsql.connect(path), 5), clients=2,
                        ops=60, seed=3, setup=False)
    assert not run.ok
    assert any("missing" in p or "lost" in p for p in run.problems), run.problems


def test_lost_transfers_break_the_bank(tmp_path: Path) -> None:
    """A bank whose engine keeps only one of a transfer's two writes."""
    path = tmp_path / "db"
    bank = Bank(accounts=4)
    bank.setup(lambda: dsql.connect(path))
    conn = dsql.connect(path)
    cur = conn.cursor()
    cur.execute("UPDATE inv_bank SET balance = balance + 7 WHERE id = 1")  # half a transfer
    conn.commit()
    assert any("total 407" in p for p in bank.snapshot_check(conn, final=True))
    conn.close()


def test_attempt_outcomes(tmp_path: Path) -> None:
    conn = dsql.connect(tmp_path / "db")
    assert attempt(conn, lambda cur: cur.execute("SELECT 1")).outcome == OK
    bad = attempt(conn, lambda cur: cur.execute("SELECT * FROM no_such_table"))
    assert bad.outcome == FAIL and not bad.retryable

    class LostOnCommit:
        def cursor(self) -> Any:
            return conn.cursor()

        def commit(self) -> None:
            raise ConnectionError("server closed the connection unexpectedly")

        def rollback(self) -> None:
            conn.rollback()

    assert attempt(LostOnCommit(), lambda cur: None).outcome == UNKNOWN
    conn.close()


# -- the workloads on dsql ---------------------------------------------------------------------

WORKLOADS = {"ring": lambda: Ring(12), "bank": lambda: Bank(accounts=6), "counter": Counter,
             "ledger": Ledger}


@pytest.mark.parametrize("name", list(WORKLOADS))
def test_workloads_hold_on_embedded_dsql(tmp_path: Path, name: str) -> None:
    path = tmp_path / "db"
    w = WORKLOADS[name]()
    run = run_invariant(w, lambda: dsql.connect(path), clients=4, ops=160, seed=5,
                        snapshot_every=5)
    assert run.ok, run.problems
    s = run.summary
    assert s["ok"] >= 100 and s["snapshots_checked"] >= 20, s
    if name != "ledger":
        assert s["conflicts"] > 0, "concurrent clients should meet conflicts"
    if name == "counter":
        assert s["acked"] == s["ok"] and s["maybe"] == 0


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from dsql.server.child import ServeProcess

    with ServeProcess(tmp_path_factory.mktemp("serve") / "db") as srv:
        yield srv


@pytest.mark.parametrize("name", ["ring", "bank", "counter"])
def test_workloads_hold_through_dsql_serve(serve: Any, name: str) -> None:
    from dsql.verify.serveproc import psycopg_connector

    w = WORKLOADS[name]()
    run = run_invariant(w, psycopg_connector(serve), clients=4, ops=120, seed=6,
                        snapshot_every=5)
    assert run.ok, run.problems
    assert run.summary["ok"] >= 80, run.summary


# -- a real engine at a weaker isolation level is caught ---------------------------------------


def test_postgres_read_committed_breaks_the_invariants(postgres_server: Any) -> None:
    """PostgreSQL's READ COMMITTED re-reads rows after a concurrent UPDATE commits, so the
    counter's client-computed v + 1 loses increments and the bank's absolute balances lose or
    make money; REPEATABLE READ (snapshot isolation, as dsql) keeps both."""
    import psycopg

    def connector(level: Any) -> Any:
        def connect() -> Any:
            conn = psycopg.connect(postgres_server.dsn, options="-c deadlock_timeout=10ms")
            conn.isolation_level = level
            return conn
        return connect

    rc = connector(psycopg.IsolationLevel.READ_COMMITTED)
    rr = connector(psycopg.IsolationLevel.REPEATABLE_READ)
    broken = [run_invariant(Counter(), rc, clients=4, ops=150, seed=7),
              run_invariant(Bank(accounts=3), rc, clients=4, ops=150, seed=7)]
    assert not broken[0].ok and "lost" in broken[0].problems[-1], broken[0].problems
    assert not broken[1].ok and "total" in broken[1].problems[-1], broken[1].problems
    for workload in (Counter(), Bank(accounts=3), Ring(8)):
        run = run_invariant(workload, rr, clients=4, ops=150, seed=7)
        assert run.ok, run.problems
