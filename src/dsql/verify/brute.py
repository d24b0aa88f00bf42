"""Brute-force references for tiny histories, to cross-check the fast checker.

1. `si_possible`: does *some* snapshot-isolation execution explain the history? It searches
   commit orders and snapshots directly, with no graph and no inference (Cerone & Gotsman's
   axioms): choose which indeterminate (`info`) transactions committed, a total commit order
   of the committed ones, and for each a snapshot that is a prefix of the commit order before
   it, such that
     - every read of an `ok` transaction returns the appends of its snapshot's transactions to
       that key, in commit order, followed by its own earlier appends to the key;
     - two transactions that append to a common key are not concurrent: the earlier one is in
       the later one's snapshot (first committer wins);
     - with `realtime`, a transaction acknowledged before another was invoked is in its
       snapshot (strong SI).
   The search places transactions one by one; every constraint involves a transaction and
   ones placed before it, so a placement is checked when made and bad prefixes are pruned.

2. `cycle_classes`: every simple cycle of a dependency graph, every choice of kind on its
   multi-kind edges, classified; the set of classes that occur.

Both are exponential; they refuse inputs above small bounds.
Invariant: neither consults the fast checker's inference or searches.
Thread-safety: pure functions.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from dsql.verify.anomalies import classify
from dsql.verify.graph import DepGraph, kinds_of
from dsql.verify.history import APPEND, FAIL, INFO, OK, Key, Txn

COMMITTED_MAX = 9  # transactions a brute-force search accepts
INFO_MAX = 3
CYCLE_NODES_MAX = 12


def _expected_reads_ok(t: Txn, snapshot: Sequence[Txn]) -> bool:
    """True if every read of `t` matches `snapshot` (in commit order) plus its own appends."""
    own: dict[Key, list[int]] = {}
    for m in t.mops:
        if m.f == APPEND:
            assert isinstance(m.value, int)
            own.setdefault(m.key, []).append(m.value)
            continue
        got = () if m.value is None else m.value
        want = [v for x in snapshot for k, v in x.appends() if k == m.key]
        want += own.get(m.key, [])
        if tuple(want) != tuple(got):
            return False
    return True


def _placement_ok(t: Txn, placed: Sequence[Txn], remaining: Sequence[Txn],
                  realtime: bool) -> bool:
    keys = {k for k, _ in t.appends()}
    lower = 0  # the snapshot must hold placed[:lower] at least
    for i, x in enumerate(placed):
        if keys & {k for k, _ in x.appends()}:
            lower = i + 1
        if realtime and _acked_before(x, t):
            lower = i + 1
    if realtime and any(_acked_before(y, t) for y in remaining):
        return False  # y must be in t's snapshot, hence committed earlier
    if t.type != OK:
        return True  # an info txn's reads are unknown; only its position matters
    return any(_expected_reads_ok(t, placed[:p]) for p in range(lower, len(placed) + 1))


def _acked_before(x: Txn, t: Txn) -> bool:
    return (x.type == OK and x.complete_ns is not None and t.invoke_ns is not None
            and x.complete_ns < t.invoke_ns)


def si_possible(txns: Sequence[Txn], *, realtime: bool = False) -> bool:
    """True if some SI (strong SI with `realtime`) execution explains the history.

    REQUIRES: at most COMMITTED_MAX ok+info transactions, at most INFO_MAX info ones.
    """
    ok = [t for t in txns if t.type == OK]
    info = [t for t in txns if t.type == INFO]
    if len(ok) + len(info) > COMMITTED_MAX or len(info) > INFO_MAX:
        raise ValueError(f"brute force takes at most {COMMITTED_MAX} transactions "
                         f"({INFO_MAX} info), not {len(ok)} ok + {len(info)} info")
    assert all(t.type in (OK, INFO, FAIL) for t in txns)
    for chosen in itertools.product((False, True), repeat=len(info)):
        committed = ok + [t for t, c in zip(info, chosen, strict=True) if c]
        if _order_exists([], committed, realtime):
            return True
    return False


def _order_exists(placed: list[Txn], remaining: list[Txn], realtime: bool) -> bool:
    if not remaining:
        return True
    assert len(placed) + len(remaining) <= COMMITTED_MAX
    for i, t in enumerate(remaining):
        rest = remaining[:i] + remaining[i + 1:]
        if _placement_ok(t, placed, rest, realtime):
            placed.append(t)
            found = _order_exists(placed, rest, realtime)
            placed.pop()
            if found:
                return True
    return False


def simple_cycles(g: DepGraph) -> list[list[int]]:
    """Every simple cycle, once, as the node list starting from its smallest node."""
    nodes = g.nodes()
    if len(nodes) > CYCLE_NODES_MAX:
        raise ValueError(f"cycle enumeration takes at most {CYCLE_NODES_MAX} nodes")
    out: list[list[int]] = []
    for start in nodes:
        stack: list[tuple[int, list[int]]] = [(start, [start])]
        while stack:
            u, path = stack.pop()
            for v in sorted(g.succ[u]):
                if v == start:
                    out.append(path)
                elif v > start and v not in path:
                    stack.append((v, [*path, v]))
    assert all(c[0] == min(c) for c in out)
    return out


def cycle_classes(g: DepGraph) -> set[str]:
    """The classes of all simple cycles under all kind choices on multi-kind edges."""
    found: set[str] = set()
    for cycle in simple_cycles(g):
        options = [kinds_of(g.succ[u][cycle[(i + 1) % len(cycle)]])
                   for i, u in enumerate(cycle)]
        for choice in itertools.product(*options):
            found.add(classify(choice))
    return found
