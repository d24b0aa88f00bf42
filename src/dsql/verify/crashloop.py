"""Crash loop: `dsql serve` under load, killed with SIGKILL at seeded random moments, restarted.

Each round starts client threads (over psycopg on 127.0.0.1) for the bank, counter, ledger
(unique-id inserts) and ring workloads; after a random delay (seeded) the server is killed
with SIGKILL, the clients stop (their in-flight operations end as failed or unknown), the
server is restarted on the same data directory, and with no load running every workload's
state is checked against everything acknowledged since the start:

- ledger: every acknowledged id is present, no failed or never-issued id is;
- counter: acked <= value <= acked + maybe (maybe = COMMITs whose outcome was lost);
- bank: the total is unchanged and no balance is negative;
- ring: still one cycle of N.

While clients run, they also check snapshots (read-only transactions) as in base.py.

    result = run_crash_loop(Path("/tmp/crash"), kills=5, seed=1)
    assert result.ok, result.problems

Thread-safety: run_crash_loop owns its server process and threads.
Invariants: 1. checks run only while no client runs; 2. every acknowledged operation of every
earlier round is checked after every later restart (the bookkeeping is cumulative).
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsql.server.child import ServeProcess
from dsql.verify.invariants.bank import Bank
from dsql.verify.invariants.base import Workload
from dsql.verify.invariants.common import Client, close_quietly
from dsql.verify.invariants.counter import Counter
from dsql.verify.invariants.ledger import Ledger
from dsql.verify.invariants.ring import Ring
from dsql.verify.serveproc import psycopg_connector

KILLS_MAX = 10_000
STEPS_PER_ROUND_MAX = 1_000_000
SNAPSHOT_EVERY = 8
PROBLEMS_KEPT_MAX = 50


@dataclass
class Round:
    """One kill and restart: how long the load ran, and what was checked after the restart."""

    index: int
    load_s: float
    restart_s: float
    startup_kill: bool  # the server was also killed once during startup / recovery
    ledger_ids_checked: int
    counter_acked: int
    counter_maybe: int
    counter_value: int | None
    problems: list[str]


@dataclass
class CrashLoopResult:
    seed: int
    kills: int  # SIGKILLs delivered and survived (restart + checks ran)
    rounds: list[Round]
    summaries: list[dict[str, object]]
    problems: list[str]
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems and self.kills == len(self.rounds)

    @property
    def startup_kills(self) -> int:
        return sum(r.startup_kill for r in self.rounds)

    @property
    def acked_commits(self) -> int:
        """Acknowledged commits checked after the last restart (all workloads)."""
        return sum(int(s.get("ok", 0)) for s in self.summaries)  # type: ignore[call-overload]

    def to_json(self) -> dict[str, object]:
        return {"seed": self.seed, "kills": self.kills, "startup_kills": self.startup_kills,
                "ok": self.ok,
                "acked_commits": self.acked_commits, "seconds": round(self.seconds, 1),
                "workloads": self.summaries, "problems": self.problems,
                "rounds": [r.__dict__ for r in self.rounds], "errors": self.errors[:20]}


def _client_loop(workload: Workload, connect: Any, stop: threading.Event, seed: int,
                 errors: list[str]) -> None:
    rng = random.Random(seed)
    client = Client(connect, stop, reconnect_s_max=30.0)
    try:
        for n in range(STEPS_PER_ROUND_MAX):
            if stop.is_set():
                break
            if n % SNAPSHOT_EVERY == SNAPSHOT_EVERY - 1:
                if not client.ensure():
                    break
                try:
                    workload.snapshot_check(client.conn)
                except Exception:  # the server died under the read: nothing to check
                    client.close()
            else:
                workload.step(client, rng)
    finally:
        client.close()
        errors.extend(client.errors[-3:])


def _check_all(workloads: list[Workload], connect: Any) -> list[str]:
    conn = connect()
    try:
        problems: list[str] = []
        for w in workloads:
            problems += w.snapshot_check(conn, final=True)
        return problems
    finally:
        close_quietly(conn)


def run_crash_loop(data_dir: Path, kills: int = 5, seed: int = 0, *,
                   clients_per_workload: int = 2, load_s_min: float = 0.3,
                   load_s_max: float = 1.5, ring_n: int = 16, accounts: int = 8,
                   early_kill_fraction: float = 0.2, log: Any = None) -> CrashLoopResult:
    """Runs `kills` rounds of load, SIGKILL, restart and checks (see the module docstring).

    REQUIRES: 1 <= kills <= KILLS_MAX, 1 <= clients_per_workload <= 8,
    0 < load_s_min <= load_s_max, 0 <= early_kill_fraction <= 1. `data_dir` should be new or
    empty. `early_kill_fraction` of the rounds also kill the restarted server during startup
    (0.05-1 s after it was launched, ready or not) before the restart that is checked.
    """
    if not (1 <= kills <= KILLS_MAX and 1 <= clients_per_workload <= 8
            and 0 < load_s_min <= load_s_max and 0.0 <= early_kill_fraction <= 1.0):
        raise ValueError("need 1 <= kills, 1 <= clients_per_workload <= 8, "
                         "0 < load_s_min <= load_s_max")
    t0 = time.monotonic()
    rng = random.Random(seed)
    srv = ServeProcess(data_dir)
    connect = psycopg_connector(srv)
    workloads: list[Workload] = [Ledger(), Counter(), Bank(accounts=accounts), Ring(ring_n)]
    ledger = workloads[0]
    counter = workloads[1]
    assert isinstance(ledger, Ledger) and isinstance(counter, Counter)
    rounds: list[Round] = []
    problems: list[str] = []
    errors: list[str] = []
    srv.start()
    try:
        for w in workloads:
            w.setup(connect)
        for index in range(kills):
            stop = threading.Event()
            threads = [threading.Thread(target=_client_loop,
                                        args=(w, connect, stop, rng.randrange(2**31), errors),
                                        name=f"crash-{w.name}-{i}")
                       for w in workloads for i in range(clients_per_workload)]
            for t in threads:
                t.start()
            load_s = rng.uniform(load_s_min, load_s_max)
            time.sleep(load_s)
            srv.kill()
            stop.set()
            for t in threads:
                t.join(60)
                assert not t.is_alive(), f"{t.name} did not stop"
            early = rng.random() < early_kill_fraction
            if early:  # a second crash, during startup and recovery
                srv.start_and_kill(rng.uniform(0.05, 1.0))
            t1 = time.monotonic()
            srv.start()
            restart_s = time.monotonic() - t1
            found = _check_all(workloads, connect)
            value = counter.read_value(connect)
            rounds.append(Round(index=index, load_s=round(load_s, 3),
                                restart_s=round(restart_s, 3), startup_kill=early,
                                ledger_ids_checked=len(ledger.log.acked),
                                counter_acked=counter.acked, counter_maybe=counter.maybe,
                                counter_value=value, problems=found))
            problems.extend(f"after kill {index + 1}: {p}" for p in found)
            if log is not None:
                log(f"kill {index + 1}/{kills}: load {load_s:.2f}s, "
                    f"{'+ a kill during startup, ' if early else ''}restart {restart_s:.2f}s, "
                    f"ids {len(ledger.log.acked)} acked, counter {value} in "
                    f"[{counter.acked}, {counter.acked + counter.maybe}], "
                    f"{'ok' if not found else 'PROBLEMS: ' + '; '.join(found)}")
            if len(problems) > PROBLEMS_KEPT_MAX:
                break
        after_restarts = {p for r in rounds for p in r.problems}
        for w in workloads:  # problems seen by the clients' snapshot reads during the load
            problems.extend(p for p in w.problems if p not in after_restarts)
    finally:
        srv.stop()
    return CrashLoopResult(seed=seed, kills=len(rounds), rounds=rounds,
                           summaries=[w.summary() for w in workloads],
                           problems=problems[:PROBLEMS_KEPT_MAX], errors=errors,
                           seconds=time.monotonic() - t0)
