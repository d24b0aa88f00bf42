"""The dependency graph between committed transactions, built from the inferred version orders.

For each key with version order ``order`` (observed elements, then an unordered tier of unread
committed appends; see versions.py) and each usable committed read whose external view covers
the first ``n`` elements of ``order``:

- ww: writer(order[i]) -> writer(order[i+1]); writer(order[-1]) -> each unread appender;
- wr: writer(order[n-1]) -> reader                              (when n > 0);
- rw: reader -> writer(order[n])                                (when n < len(order)),
      reader -> each unread appender                            (when n == len(order)).

Edges to oneself are dropped. Only adjacent versions get ww/rw edges: the longer-range ones
Adya's graph also has are implied by paths of the same character (rw then ww ... ww), which
keeps every cycle class unchanged. `rt` edges (real time) are added by realtime.py.

Invariants:
  1. no self-edges; `succ[u][v]` is a non-zero mask of the kinds of every edge u -> v;
  2. every (u, v, kind) present has a human-readable reason in `why`;
  3. failed transactions are never nodes.
Thread-safety: a DepGraph is built by one thread, then only read.
"""

from __future__ import annotations

from collections.abc import Iterator

from dsql.verify.anomalies import EDGE_KINDS, RT, RW, WR, WW
from dsql.verify.history import FAIL, Key
from dsql.verify.versions import Observations

BIT = {WW: 1, WR: 2, RT: 4, RW: 8}
D_MASK = BIT[WW] | BIT[WR] | BIT[RT]
ALL_MASK = D_MASK | BIT[RW]
ORDER_SHOWN_MAX = 6  # elements of a list shown in an edge's reason


def kinds_of(mask: int) -> list[str]:
    """Kinds in `mask`, in EDGE_KINDS preference order."""
    return [k for k in EDGE_KINDS if mask & BIT[k]]


def _show(values: tuple[int, ...]) -> str:
    if len(values) <= ORDER_SHOWN_MAX:
        return str(list(values))
    return "[..., " + ", ".join(str(v) for v in values[-ORDER_SHOWN_MAX:]) + "]"


class DepGraph:
    """Directed graph over transaction ids with kind-labelled edges."""

    def __init__(self) -> None:
        self.succ: dict[int, dict[int, int]] = {}
        self.why: dict[tuple[int, int, str], str] = {}

    def add_node(self, u: int) -> None:
        self.succ.setdefault(u, {})

    def add(self, u: int, v: int, kind: str, why: str) -> None:
        """Adds u -kind-> v (ignored when u == v); the first reason given is kept."""
        assert kind in BIT, kind
        if u == v:
            return
        self.add_node(u)
        self.add_node(v)
        self.succ[u][v] = self.succ[u].get(v, 0) | BIT[kind]
        self.why.setdefault((u, v, kind), why)
        assert self.succ[u][v] != 0

    def nodes(self) -> list[int]:
        return sorted(self.succ)

    def edges(self) -> Iterator[tuple[int, int, int]]:
        for u, out in self.succ.items():
            for v, mask in out.items():
                yield u, v, mask

    def edge_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(EDGE_KINDS, 0)
        for _, _, mask in self.edges():
            for k in kinds_of(mask):
                counts[k] += 1
        return counts

    def copy(self) -> DepGraph:
        g = DepGraph()
        g.succ = {u: dict(out) for u, out in self.succ.items()}
        g.why = dict(self.why)
        return g


def build_graph(obs: Observations) -> DepGraph:
    """ww, wr and rw edges from the observations (see the module docstring)."""
    g = DepGraph()
    for tid in obs.committed:
        g.add_node(tid)
    for key in obs.orders:
        _add_write_edges(g, obs, key)
    for r in obs.reads:
        if not r.usable:
            continue
        assert r.external is not None
        ko = obs.orders[r.key]
        n = ko.seen(r.external)
        assert n == 0 or ko.position.get(r.external[-1], n - 1) == n - 1
        if n > 0:
            w = obs.writer[(r.key, ko.order[n - 1])]
            g.add(w, r.txn, WR, f"T{r.txn} read key {r.key!r} = {_show(r.full)}, whose last "
                                f"element {ko.order[n - 1]} T{w} appended")
        if n < len(ko.order):
            nxt = ko.order[n]
            w = obs.writer[(r.key, nxt)]
            last = f"ending at {ko.order[n - 1]}" if n else "(no element)"
            g.add(r.txn, w, RW, f"T{r.txn} read key {r.key!r} {last}; T{w} appended the next "
                                f"element {nxt}")
        else:
            for u, values in ko.unread.items():
                g.add(r.txn, u, RW, f"T{r.txn} read all of key {r.key!r} that anyone saw "
                                    f"({_show(r.full)}), but not {list(values)}, which T{u} "
                                    f"appended and committed")
    assert all(u != v for u, v, _ in g.edges())
    assert all(obs.txns[u].type != FAIL for u in g.succ)
    return g


def _add_write_edges(g: DepGraph, obs: Observations, key: Key) -> None:
    ko = obs.orders[key]
    for a, b in zip(ko.order, ko.order[1:], strict=False):
        wa, wb = obs.writer[(key, a)], obs.writer[(key, b)]
        g.add(wa, wb, WW, f"on key {key!r}, T{wb} appended {b} right after T{wa}'s {a}")
    if ko.order:
        last = ko.order[-1]
        wl = obs.writer[(key, last)]
        for u, values in ko.unread.items():
            g.add(wl, u, WW, f"on key {key!r}, T{u} appended {list(values)}, which no read "
                             f"shows, so after the last element seen ({last}, by T{wl})")
