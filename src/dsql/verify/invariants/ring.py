"""The ring ("cycle") workload: N rows whose links transactions rotate; it must stay one ring.

After FoundationDB's Cycle workload. Table ``inv_ring (id int PRIMARY KEY, nxt int)`` starts as
the ring 0 -> 1 -> ... -> N-1 -> 0. A transaction picks a node a, reads b = nxt(a),
c = nxt(b), d = nxt(c), and relinks a -> c -> b -> d: the order of b and c is swapped, so the
links stay one cycle of N only if the transaction saw a consistent snapshot and no concurrent
transaction changed a, b or c under it. Every row it reads it also writes, so snapshot
isolation's first-committer-wins is enough (write skew cannot break it).

Check (`check_ring`), at every snapshot read and at the end: N rows with ids 0..N-1, and the
walk from node 0 along `nxt` visits every node once and is back at 0 after exactly N steps.
"""

from __future__ import annotations

import random
from typing import Any

from dsql.verify.invariants.base import Workload
from dsql.verify.invariants.common import Client, fetch_all

TABLE = "inv_ring"
N_MAX = 2000  # the initial rows go in one transaction (dsql's limit is 3,000 rows)


def check_ring(nexts: dict[int, int], n: int) -> list[str]:
    """Problems with the links `nexts` (id -> nxt) as a ring of `n`; [] when it is one."""
    assert n >= 1
    problems: list[str] = []
    if set(nexts) != set(range(n)):
        missing = sorted(set(range(n)) - set(nexts))[:5]
        extra = sorted(set(nexts) - set(range(n)))[:5]
        problems.append(f"ring: {len(nexts)} rows, want ids 0..{n - 1} "
                        f"(missing {missing}, unexpected {extra})")
        return problems
    seen = {0}
    node = 0
    for step in range(1, n + 1):
        node = nexts[node]
        if node == 0:
            if step != n:
                problems.append(f"ring: back at node 0 after {step} steps, not {n}: "
                                f"the ring split")
            return problems
        if node in seen or node not in nexts:
            problems.append(f"ring: node {node} reached twice (after {step} steps) "
                            f"without passing node 0")
            return problems
        seen.add(node)
    problems.append(f"ring: not back at node 0 after {n} steps")
    assert problems
    return problems


class Ring(Workload):
    """See the module docstring."""

    name = "ring"

    def __init__(self, n: int = 24) -> None:
        super().__init__()
        if not 3 <= n <= N_MAX:
            raise ValueError(f"a ring needs 3..{N_MAX} nodes, not {n}")
        self.n = n

    def create(self, cur: Any) -> None:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (id int PRIMARY KEY, nxt int)")

    def populate(self, cur: Any) -> None:
        cur.execute(f"DELETE FROM {TABLE}")
        values = ", ".join(f"({i}, {(i + 1) % self.n})" for i in range(self.n))
        cur.execute(f"INSERT INTO {TABLE} (id, nxt) VALUES {values}")

    def step(self, client: Client, rng: random.Random) -> None:
        a = rng.randrange(self.n)

        def body(cur: Any) -> None:
            links = {}
            node = a
            for _ in range(3):
                rows = fetch_all(cur, f"SELECT nxt FROM {TABLE} WHERE id = {node}")
                if len(rows) != 1:
                    raise LookupError(f"ring node {node} has {len(rows)} rows")
                links[node] = int(rows[0][0])
                node = links[node]
            b = links[a]
            c = links[b]
            d = links[c]
            for src, dst in ((a, c), (c, b), (b, d)):
                cur.execute(f"UPDATE {TABLE} SET nxt = {dst} WHERE id = {src}")

        before = client.conflicts
        result = client.run_until_done(body)
        self.count(result.outcome, client.conflicts - before)

    def read_state(self, cur: Any) -> dict[int, int]:
        return {int(i): int(x) for i, x in fetch_all(cur, f"SELECT id, nxt FROM {TABLE}")}

    def check_state(self, state: Any, *, final: bool, before: Any = None) -> list[str]:
        return check_ring(state, self.n)
