"""Crash loop: `dsql serve` SIGKILLed under load keeps every acknowledged commit.

Goal: after each SIGKILL at a random moment and a restart on the same data directory, every
id whose insert was acknowledged is present, the counter lies between its acknowledged and
its acknowledged-plus-unknown increments, the bank still balances and the ring is one cycle.
Method: run_crash_loop with 3 kills under load (seeded; half the rounds also kill the server
once during startup and recovery), then also check that the loop itself notices a
lost acknowledged commit: the ledger's log gets an id that was never inserted as "acked", and
the post-restart check must report it missing.
"""

from __future__ import annotations

from pathlib import Path

from dsql.server.child import ServeProcess
from dsql.verify.crashloop import run_crash_loop
from dsql.verify.invariants import Ledger
from dsql.verify.serveproc import psycopg_connector


def test_three_kills_lose_nothing(tmp_path: Path) -> None:
    lines: list[str] = []
    res = run_crash_loop(tmp_path / "db", kills=3, seed=20261127, load_s_min=0.4,
                         load_s_max=1.0, early_kill_fraction=0.5, log=lines.append)
    assert res.ok, (res.problems, lines)
    assert res.kills == 3 and len(lines) == 3
    ledger = next(s for s in res.summaries if s["workload"] == "ledger")
    counter = next(s for s in res.summaries if s["workload"] == "counter")
    assert ledger["acked"] > 0 and counter["acked"] > 0, res.summaries
    for r in res.rounds:
        assert r.problems == []
        assert r.counter_value is not None
        assert r.counter_acked <= r.counter_value <= r.counter_acked + r.counter_maybe
    assert res.acked_commits > 0


def test_a_lost_acknowledged_id_is_reported(tmp_path: Path) -> None:
    with ServeProcess(tmp_path / "db") as srv:
        connect = psycopg_connector(srv)
        ledger = Ledger()
        ledger.setup(connect)
        conn = connect()
        conn.execute("INSERT INTO inv_ledger (id) VALUES (1)")
        conn.commit()
        ledger.log.issued = 2
        ledger.log.acked = [1, 2]  # 2 claims an acknowledgement the store never saw
        srv.kill()
        srv.start()
        conn = connect()
        problems = ledger.snapshot_check(conn, final=True)
        conn.close()
    assert problems and "1 acknowledged ids missing, e.g. [2]" in problems[0]
