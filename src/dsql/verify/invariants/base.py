"""The shape of an invariant workload, and the runner that drives one from many clients.

A workload owns its table, its bookkeeping (what was acknowledged, what may have committed)
and two checks: one on a state read by a read-only transaction while clients run
(`check_snapshot`), and one on the state once every client has stopped (`check_final`). The
checks are pure functions of the state and the bookkeeping, so tests can hand them broken
states and see them fail.

`run_invariant(workload, connect, clients, ops, seed)` runs `ops` operations spread over
`clients` threads; every `snapshot_every`-th operation of a thread is a snapshot read instead,
checked at once. Then one final read is checked.

Thread-safety: a workload's `step` and `snapshot` are called from many threads; workloads
guard their bookkeeping with their own lock. Invariant: `ops` steps are started in total.
"""

from __future__ import annotations

import random
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from dsql.verify.invariants.common import Client, Connect, close_quietly, read_only

CLIENTS_MAX = 64
OPS_MAX = 10_000_000
PROBLEMS_KEPT_MAX = 50


@dataclass
class Tally:
    """Per-workload counts of operation outcomes (updated under the workload's lock)."""

    ok: int = 0
    fail: int = 0
    unknown: int = 0
    conflicts: int = 0
    snapshots: int = 0


class Workload(ABC):
    """Base class: subclasses set `name` and implement the five methods below."""

    name = "?"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tally = Tally()
        self.problems: list[str] = []

    # -- to implement ---------------------------------------------------------------------------
    @abstractmethod
    def create(self, cur: Any) -> None:
        """The DDL (one statement per transaction; called in its own transaction)."""

    @abstractmethod
    def populate(self, cur: Any) -> None:
        """The initial rows (one transaction)."""

    @abstractmethod
    def step(self, client: Client, rng: random.Random) -> None:
        """One logical operation, retried on conflicts; records its outcome."""

    @abstractmethod
    def read_state(self, cur: Any) -> Any:
        """The state, read inside a (read-only) transaction."""

    @abstractmethod
    def check_state(self, state: Any, *, final: bool, before: Any = None) -> list[str]:
        """Problems with `state`; `before` is what `mark()` returned just before it was read."""

    # -- provided -------------------------------------------------------------------------------
    def mark(self) -> Any:
        """Bookkeeping taken just before a snapshot read (for real-time bounds); none here."""
        return None

    def setup(self, connect: Connect) -> None:
        conn = connect()
        try:
            cur = conn.cursor()
            self.create(cur)
            conn.commit()
            self.populate(cur)
            conn.commit()
            cur.close()
        finally:
            close_quietly(conn)

    def snapshot_check(self, conn: Any, *, final: bool = False) -> list[str]:
        """Reads the state in a read-only transaction and checks it; records any problems."""
        before = self.mark()
        state = read_only(conn, self.read_state)
        problems = self.check_state(state, final=final, before=before)
        with self.lock:
            self.tally.snapshots += 1
            self.problems.extend(problems[:PROBLEMS_KEPT_MAX - len(self.problems)])
        return problems

    def count(self, outcome: str, conflicts: int = 0) -> None:
        with self.lock:
            setattr(self.tally, outcome, getattr(self.tally, outcome) + 1)
            self.tally.conflicts += conflicts

    def summary(self) -> dict[str, object]:
        t = self.tally
        return {"workload": self.name, "ok": t.ok, "fail": t.fail, "unknown": t.unknown,
                "conflicts": t.conflicts, "snapshots_checked": t.snapshots,
                "problems": list(self.problems)}


@dataclass
class InvariantRun:
    """The result of run_invariant: counts, problems (empty = the invariant held), errors."""

    workload: str
    summary: dict[str, object]
    problems: list[str]
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems


def run_invariant(workload: Workload, connect: Connect, clients: int = 4, ops: int = 200,
                  seed: int = 0, *, snapshot_every: int = 10, setup: bool = True
                  ) -> InvariantRun:
    """Runs `workload` (see the module docstring) and checks it.

    REQUIRES: 1 <= clients <= CLIENTS_MAX, 0 <= ops <= OPS_MAX, snapshot_every >= 1.
    """
    if not (1 <= clients <= CLIENTS_MAX and 0 <= ops <= OPS_MAX and snapshot_every >= 1):
        raise ValueError("need 1 <= clients <= 64, 0 <= ops, snapshot_every >= 1")
    t0 = time.monotonic()
    if setup:
        workload.setup(connect)
    left = [ops]
    left_lock = threading.Lock()
    errors: list[str] = []

    def take() -> bool:
        with left_lock:
            if left[0] <= 0:
                return False
            left[0] -= 1
            return True

    def client_main(i: int) -> None:
        rng = random.Random(seed * 1000 + i)
        client = Client(connect)
        try:
            for n in range(OPS_MAX):
                if not take():
                    break
                if n % snapshot_every == snapshot_every - 1 and client.ensure():
                    try:
                        workload.snapshot_check(client.conn)
                    except Exception as exc:
                        client.errors.append(f"snapshot read: {type(exc).__name__}: {exc}")
                        client.close()
                else:
                    workload.step(client, rng)
        finally:
            client.close()
            with left_lock:
                errors.extend(client.errors)

    threads = [threading.Thread(target=client_main, args=(i,), name=f"{workload.name}-{i}")
               for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    conn = connect()
    try:
        workload.snapshot_check(conn, final=True)
    finally:
        close_quietly(conn)
    return InvariantRun(workload=workload.name, summary=workload.summary(),
                        problems=list(workload.problems), errors=errors[:PROBLEMS_KEPT_MAX],
                        seconds=time.monotonic() - t0)
