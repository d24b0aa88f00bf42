"""The ledger workload: append-only inserts of unique ids; every acknowledged id must be there.

Table ``inv_ledger (id int PRIMARY KEY)``. Each attempt inserts a fresh id (never reused, even
on retry), so each id has exactly one outcome: acknowledged, failed (must be absent) or
unknown (may be present). This is the durability probe of the crash loop: after a crash and
restart every acknowledged id is read back.

Check (`check_ledger`): at the end, acked <= present <= acked + maybe, and no failed id is
present. At a snapshot read taken while inserts run: every id acknowledged before the read
began is present, and nothing present was never handed out.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from dsql.verify.invariants.base import Workload
from dsql.verify.invariants.common import FAIL, OK, UNKNOWN, Client, fetch_all

TABLE = "inv_ledger"


@dataclass
class LedgerLog:
    """Every id handed out, by outcome (an id in flight is in none of the three)."""

    acked: list[int] = field(default_factory=list)  # in acknowledgement order
    maybe: set[int] = field(default_factory=set)
    failed: set[int] = field(default_factory=set)
    issued: int = 0  # ids 1..issued were handed out


def check_ledger(present: set[int], log: LedgerLog, *, acked_before: int | None = None,
                 final: bool = True) -> list[str]:
    """Problems with the ids `present`, given the `log`. `acked_before`: only the first that
    many acknowledged ids must be present (a snapshot taken while inserts ran)."""
    assert acked_before is None or 0 <= acked_before <= len(log.acked)
    problems: list[str] = []
    must = log.acked if acked_before is None else log.acked[:acked_before]
    lost = [i for i in must if i not in present]
    if lost:
        problems.append(f"ledger: {len(lost)} acknowledged ids missing, e.g. {sorted(lost)[:5]}")
    phantom = sorted(i for i in present if not 1 <= i <= log.issued)
    if phantom:
        problems.append(f"ledger: ids never inserted are present: {phantom[:5]}")
    revived = sorted(present & log.failed)
    if revived:
        problems.append(f"ledger: ids whose insert failed are present: {revived[:5]}")
    if final:
        unexplained = sorted(present - set(log.acked) - log.maybe - log.failed)
        if unexplained and not phantom:
            problems.append(f"ledger: ids present with no outcome: {unexplained[:5]}")
    return problems


class Ledger(Workload):
    """See the module docstring."""

    name = "ledger"

    def __init__(self) -> None:
        super().__init__()
        self.log = LedgerLog()

    def create(self, cur: Any) -> None:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (id int PRIMARY KEY)")

    def populate(self, cur: Any) -> None:
        cur.execute(f"DELETE FROM {TABLE}")

    def step(self, client: Client, rng: random.Random) -> None:
        for _ in range(100):  # a fresh id per attempt; give up after 100 conflicts
            with self.lock:
                self.log.issued += 1
                new_id = self.log.issued
            result = client.run(lambda cur, i=new_id: cur.execute(
                f"INSERT INTO {TABLE} (id) VALUES ({i})"))
            with self.lock:
                if result.outcome == OK:
                    self.log.acked.append(new_id)
                elif result.outcome == UNKNOWN:
                    self.log.maybe.add(new_id)
                else:
                    self.log.failed.add(new_id)
            if result.outcome == FAIL and result.retryable:
                client.conflicts += 1
                with self.lock:
                    self.tally.conflicts += 1
                continue
            self.count(result.outcome)
            return

    def mark(self) -> Any:
        with self.lock:
            return len(self.log.acked)

    def read_state(self, cur: Any) -> set[int]:
        return {int(r[0]) for r in fetch_all(cur, f"SELECT id FROM {TABLE}")}

    def check_state(self, state: Any, *, final: bool, before: Any = None) -> list[str]:
        with self.lock:
            return check_ledger(state, self.log, acked_before=None if final else before,
                                final=final)

    def summary(self) -> dict[str, object]:
        with self.lock:
            return {**super().summary(), "acked": len(self.log.acked),
                    "maybe": len(self.log.maybe), "failed_ids": len(self.log.failed)}
