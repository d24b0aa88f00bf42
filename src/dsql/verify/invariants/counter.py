"""The counter workload: one row incremented with retries; its value counts the acknowledgements.

Table ``inv_counter (id int PRIMARY KEY, v int)``, one row (0, 0). An increment reads v and
writes v + 1 (computed by the client, so a lost update shows as a missing increment); 40001 is
retried. Each increment ends acknowledged (COMMIT returned), failed (it did not commit) or
unknown (COMMIT raised something else, e.g. the connection was lost: a "maybe").

Check (`check_counter`): at the end, acked <= v <= acked + maybe. At a snapshot read taken
while increments run, v >= the increments acknowledged before the read began (real time: a
transaction sees every commit acknowledged before it started), and v <= the increments
acknowledged, unknown or still in flight when the read ended.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from dsql.verify.invariants.base import Workload
from dsql.verify.invariants.common import (
    OK,
    UNKNOWN,
    Attempt,
    Client,
    close_quietly,
    fetch_all,
    read_only,
)

TABLE = "inv_counter"


@dataclass(frozen=True)
class Bounds:
    """What the counter's value must lie within."""

    low: int  # acknowledged increments
    high: int  # acknowledged + maybe (+ in flight, during a run)


def check_counter(value: int | None, bounds: Bounds) -> list[str]:
    """Problems with the counter's `value` (None: the row is missing); [] when it is in bounds."""
    assert 0 <= bounds.low <= bounds.high
    if value is None:
        return ["counter: the row is missing"]
    if value < bounds.low:
        return [f"counter: {value} < {bounds.low} acknowledged increments "
                f"({bounds.low - value} lost)"]
    if value > bounds.high:
        return [f"counter: {value} > {bounds.high} increments that may have committed "
                f"({value - bounds.high} from nowhere)"]
    return []


class Counter(Workload):
    """See the module docstring."""

    name = "counter"

    def __init__(self) -> None:
        super().__init__()
        self.acked = 0
        self.maybe = 0
        self.in_flight = 0

    def create(self, cur: Any) -> None:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (id int PRIMARY KEY, v int)")

    def populate(self, cur: Any) -> None:
        cur.execute(f"DELETE FROM {TABLE}")
        cur.execute(f"INSERT INTO {TABLE} (id, v) VALUES (0, 0)")

    def step(self, client: Client, rng: random.Random) -> None:
        def body(cur: Any) -> None:
            rows = fetch_all(cur, f"SELECT v FROM {TABLE} WHERE id = 0")
            if len(rows) != 1:
                raise LookupError(f"the counter has {len(rows)} rows")
            cur.execute(f"UPDATE {TABLE} SET v = {int(rows[0][0]) + 1} WHERE id = 0")

        with self.lock:
            self.in_flight += 1
        before = client.conflicts
        result: Attempt[None] = Attempt(UNKNOWN, None, None)  # if run_until_done raises
        try:
            result = client.run_until_done(body)
        finally:
            with self.lock:  # one step: the in-flight increment becomes acked / maybe / gone
                self.in_flight -= 1
                self.acked += result.outcome == OK
                self.maybe += result.outcome == UNKNOWN
        self.count(result.outcome, client.conflicts - before)

    def bounds(self) -> Bounds:
        with self.lock:
            return Bounds(self.acked, self.acked + self.maybe)

    def mark(self) -> Any:
        return self.bounds().low

    def read_value(self, connect: Any) -> int | None:
        """The counter's value, read in a transaction of its own on a new connection."""
        conn = connect()
        try:
            value: int | None = read_only(conn, self.read_state)
            return value
        finally:
            close_quietly(conn)

    def read_state(self, cur: Any) -> int | None:
        rows = fetch_all(cur, f"SELECT v FROM {TABLE} WHERE id = 0")
        return None if not rows else int(rows[0][0])

    def check_state(self, state: Any, *, final: bool, before: Any = None) -> list[str]:
        with self.lock:
            high = self.acked + self.maybe + (0 if final else self.in_flight)
            low = self.acked if final else int(before or 0)
        return check_counter(state, Bounds(low, high))

    def summary(self) -> dict[str, object]:
        return {**super().summary(), "acked": self.acked, "maybe": self.maybe}
