"""Cycle search and classification over a dependency graph.

Method. Strongly connected components first (Tarjan, iterative): a cycle lives inside one.
Whether SI forbids some cycle in a component is decided in linear time on the *rw-parity
graph*, which has two copies of each transaction -- ``x`` (reached by a dependency edge) and
``x'`` (reached by an rw edge) -- and the edges ``x -D-> y``, ``x' -D-> y``, ``x -rw-> y'``. Its
cycles are exactly the closed walks with no two adjacent rw edges (cyclically), i.e. the walks
SI forbids. Then, per component, explicit witnesses are searched for each class:

- G0: a cycle among ww edges (Tarjan on the ww subgraph, then BFS);
- G1c: for a wr edge u -> v, a shortest ww/wr path v ~> u;
- G-single: for an rw edge u -> v with u reachable from v by dependencies (reachability
  bitsets over the condensation of the dependency subgraph), a shortest dependency path;
- G-nonadjacent: for an rw edge, a BFS over (node, last edge was rw, rw count) states for a
  closed walk with two or more rw edges, none adjacent;
- G2-item: for adjacent rw edges u -> v -> w, a shortest path w ~> u avoiding v.

Shortest paths give simple cycles, except the G-nonadjacent and realtime walks, which may
revisit a transaction; `simplify()` splits such a walk at a repeated transaction and keeps a
half that is still forbidden (one always is: the two new junctions cannot both join rw to rw),
so every reported cycle is simple. If a component has a forbidden walk but the budget ran out
before a witness was found, a cycle is read straight off the parity graph and simplified, so
the verdict never depends on the budget; only the number of classes reported does.

Invariants:
  1. every reported cycle is simple, closed, and made of edges present in the graph with the
     kinds it names;
  2. a cycle reported under class C has classify(kinds) == C;
  3. forbidden-ness (as decided on the parity graph) is exact, whatever the budget.
Thread-safety: pure functions over a DepGraph that nobody mutates meanwhile.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from dsql.verify.anomalies import (
    G0,
    G1C,
    G2_ITEM,
    G_NONADJACENT,
    G_SINGLE,
    REALTIME,
    RT,
    RW,
    WR,
    WW,
    Anomaly,
    Step,
    classify,
    si_forbidden_cycle,
)
from dsql.verify.graph import ALL_MASK, BIT, D_MASK, DepGraph, kinds_of

S = TypeVar("S", bound=Hashable)
Move = tuple[int, int, str]  # (src, dst, kind): an edge taken by a search
SEARCH_STEPS_MAX = 5_000_000  # default budget of BFS expansions for one check
CYCLES_PER_CLASS_MAX = 8  # witnesses reported per class (one per component at most)

SUMMARY = {
    G0: "write cycle (dirty write): these transactions' appends interleave",
    G1C: "circular information flow: each transaction wrote or was read by the next",
    G_SINGLE: "one anti-dependency closes a chain of dependencies (read skew / lost update)",
    G_NONADJACENT: "anti-dependencies that are never adjacent (impossible under SI)",
    G2_ITEM: "adjacent anti-dependencies (write skew; allowed under snapshot isolation)",
    REALTIME: "the order contradicts real time: a transaction that began after another was "
              "acknowledged is ordered before it, or did not see it",
}


@dataclass
class Budget:
    """A bound on search work (BFS state expansions) shared by one check."""

    steps_left: int = SEARCH_STEPS_MAX
    exhausted: bool = False

    def spend(self, n: int = 1) -> bool:
        assert n >= 0
        self.steps_left -= n
        if self.steps_left < 0:
            self.exhausted = True
        return not self.exhausted


# -- graph algorithms -------------------------------------------------------------------------

def tarjan(n: int, adj: Sequence[Sequence[int]]) -> list[list[int]]:
    """Strongly connected components of nodes 0..n-1, sinks first (reverse topological order).

    Iterative, so deep graphs do not hit Python's recursion limit.
    """
    assert len(adj) == n
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    stack: list[int] = []
    comps: list[list[int]] = []
    counter = 0
    for root in range(n):
        if index[root] != -1:
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        work = [(root, 0)]
        while work:
            v, i = work[-1]
            if i < len(adj[v]):
                work[-1] = (v, i + 1)
                w = adj[v][i]
                if index[w] == -1:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack[w] = True
                    work.append((w, 0))
                elif on_stack[w]:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack[w] = False
                    comp.append(w)
                    if w == v:
                        break
                comps.append(comp)
    assert sum(len(c) for c in comps) == n
    return comps


def bfs(starts: Iterable[S], is_goal: Callable[[S], bool],
        moves: Callable[[S], Iterable[tuple[S, Move]]], budget: Budget) -> list[Move] | None:
    """Shortest sequence of moves from a start state to a goal state (None if none/budget)."""
    parent: dict[S, tuple[S, Move] | None] = {}
    queue: deque[S] = deque()
    for s in starts:
        if s not in parent:
            parent[s] = None
            queue.append(s)
    while queue:
        s = queue.popleft()
        if is_goal(s):
            path: list[Move] = []
            cur = s
            while (link := parent[cur]) is not None:
                cur, step = link
                path.append(step)
            path.reverse()
            return path
        if not budget.spend():
            return None
        for nxt, step in moves(s):
            if nxt not in parent:
                parent[nxt] = (s, step)
                queue.append(nxt)
    return None


class Sub:
    """The part of a DepGraph induced by `members`, with edges limited to kinds in `mask`."""

    def __init__(self, g: DepGraph, members: Iterable[int], mask: int = ALL_MASK) -> None:
        self.g = g
        self.ids = sorted(members)
        self.member = set(self.ids)
        self.out: dict[int, list[tuple[int, int]]] = {
            u: sorted((v, m & mask) for v, m in g.succ[u].items()
                      if v in self.member and m & mask) for u in self.ids}

    def step(self, u: int, v: int, kind: str) -> Step:
        return Step(u, kind, v, self.g.why[(u, v, kind)])

    def steps(self, moves: Iterable[Move]) -> list[Step]:
        return [self.step(u, v, kind) for u, v, kind in moves]

    def components(self, mask: int) -> list[list[int]]:
        """SCCs (as txn ids) of this subgraph restricted to `mask`, sinks first."""
        pos = {u: i for i, u in enumerate(self.ids)}
        adj = [[pos[v] for v, m in self.out[u] if m & mask] for u in self.ids]
        return [[self.ids[i] for i in comp] for comp in tarjan(len(self.ids), adj)]

    def path(self, src: int, dst: int, mask: int, budget: Budget,
             avoid: frozenset[int] = frozenset()) -> list[Step] | None:
        """Shortest path src ~> dst using kinds in `mask` (preferring D kinds per edge)."""
        def moves(u: int) -> Iterable[tuple[int, Move]]:
            for v, m in self.out[u]:
                if m & mask and v not in avoid:
                    yield v, (u, v, kinds_of(m & mask)[0])
        found = bfs([src], lambda u: u == dst, moves, budget)
        return None if found is None else self.steps(found)

    def rw_edges(self) -> list[tuple[int, int]]:
        return [(u, v) for u in self.ids for v, m in self.out[u] if m & BIT[RW]]


# -- the rw-parity graph ----------------------------------------------------------------------

def parity_components(sub: Sub) -> list[list[tuple[int, bool]]]:
    """Non-trivial SCCs of the rw-parity graph of `sub`: nodes (txn, arrived_by_rw)."""
    pos = {u: i for i, u in enumerate(sub.ids)}
    n = len(sub.ids)
    adj: list[list[int]] = [[] for _ in range(2 * n)]
    for u in sub.ids:
        i = pos[u]
        for v, m in sub.out[u]:
            j = pos[v]
            if m & D_MASK:
                adj[2 * i].append(2 * j)
                adj[2 * i + 1].append(2 * j)
            if m & BIT[RW]:
                adj[2 * i].append(2 * j + 1)
    comps = tarjan(2 * n, adj)
    return [[(sub.ids[x // 2], bool(x % 2)) for x in c] for c in comps if len(c) > 1]


def _parity_moves(sub: Sub, state: tuple[int, bool],
                  allowed: frozenset[tuple[int, bool]] | None = None
                  ) -> Iterable[tuple[tuple[int, bool], Move]]:
    u, last_rw = state
    for v, m in sub.out[u]:
        if m & D_MASK and (allowed is None or (v, False) in allowed):
            yield (v, False), (u, v, kinds_of(m & D_MASK)[0])
        if m & BIT[RW] and not last_rw and (allowed is None or (v, True) in allowed):
            yield (v, True), (u, v, RW)


def parity_cycle(sub: Sub, comp: Sequence[tuple[int, bool]]) -> list[Step]:
    """A forbidden closed walk read off one non-trivial parity SCC (linear; no budget)."""
    allowed = frozenset(comp)
    start = min(comp)
    unlimited = Budget(steps_left=4 * len(comp) * (len(comp) + 1) + 16)
    first = [(nxt, st) for nxt, st in _parity_moves(sub, start, allowed)]
    assert first, "a node of a non-trivial SCC has an edge inside it"
    # Walk one edge out, then find the shortest way back to `start` inside the component.
    for nxt, mv in first:
        rest = bfs([nxt], lambda s: s == start,
                   lambda s: _parity_moves(sub, s, allowed), unlimited)
        if rest is not None:
            return sub.steps([mv, *rest])
    raise AssertionError("a strongly connected component has a cycle")  # pragma: no cover


# -- walks to simple cycles -------------------------------------------------------------------

def kinds(steps: Sequence[Step]) -> list[str]:
    return [s.kind for s in steps]


def is_closed_walk(steps: Sequence[Step]) -> bool:
    n = len(steps)
    return n > 0 and all(steps[i].dst == steps[(i + 1) % n].src for i in range(n))


def simplify(steps: Sequence[Step], prefer: Callable[[Sequence[Step]], int] = len
             ) -> list[Step]:
    """A simple forbidden cycle made of steps of the forbidden closed walk `steps`.

    At a repeated transaction the walk splits into two closed walks; at least one is still
    forbidden (see the module docstring). Among forbidden halves, the larger `prefer` wins.
    REQUIRES: `steps` is a closed walk that SI forbids.
    """
    assert is_closed_walk(steps) and si_forbidden_cycle(kinds(steps))
    walk = list(steps)
    for _ in range(len(steps)):  # every split removes at least one step
        first: dict[int, int] = {}
        split = None
        for j, s in enumerate(walk):
            if s.src in first:
                split = first[s.src], j
                break
            first[s.src] = j
        if split is None:
            break
        i, j = split
        halves = [walk[i:j], walk[j:] + walk[:i]]
        ok = [h for h in halves if si_forbidden_cycle(kinds(h))]
        assert ok, "one half of a forbidden walk is forbidden"
        walk = max(ok, key=prefer)
    assert is_closed_walk(walk) and len({s.src for s in walk}) == len(walk)
    return walk


def rotate(steps: Sequence[Step]) -> tuple[Step, ...]:
    """The cycle starting at its smallest transaction id (a canonical form for reports)."""
    k = min(range(len(steps)), key=lambda i: steps[i].src)
    return tuple(steps[k:]) + tuple(steps[:k])


def cycle_anomaly(steps: Sequence[Step], cls: str | None = None) -> Anomaly:
    c = classify(kinds(steps))
    assert cls is None or c == cls, (c, cls)
    rot = rotate(steps)
    return Anomaly(c, tuple(s.src for s in rot), SUMMARY[c], rot)


# -- per-class witness searches inside one SCC ------------------------------------------------

WWR = BIT[WW] | BIT[WR]


def _g0(sub: Sub, budget: Budget) -> list[Step] | None:
    for comp in sub.components(BIT[WW]):
        if len(comp) < 2:
            continue
        members = set(comp)
        u = min(comp)
        v = next(v for v, m in sub.out[u] if m & BIT[WW] and v in members)
        back = sub.path(v, u, BIT[WW], budget)
        if back is not None:
            return [sub.step(u, v, WW), *back]
    return None


def _g1c(sub: Sub, budget: Budget) -> list[Step] | None:
    for comp in sub.components(WWR):
        members = set(comp)
        for u in sorted(comp):
            for v, m in sub.out[u]:
                if m & BIT[WR] and v in members:
                    back = sub.path(v, u, WWR, budget)
                    if back is not None:
                        return [sub.step(u, v, WR), *back]
                    if budget.exhausted:
                        return None
    return None


def _g_single(sub: Sub, budget: Budget, mask: int = WWR) -> list[Step] | None:
    """An rw edge u -> v whose tail u is reachable from v by dependency edges in `mask`."""
    comps = sub.components(mask)  # sinks first: successors' reach is ready in time
    comp_of = {u: ci for ci, comp in enumerate(comps) for u in comp}
    bit = {u: 1 << i for i, u in enumerate(sub.ids)}
    reach = [0] * len(comps)
    for ci, comp in enumerate(comps):
        r = 0
        for u in comp:
            r |= bit[u]
            for v, m in sub.out[u]:
                if m & mask and comp_of[v] != ci:
                    r |= reach[comp_of[v]]
        reach[ci] = r
    for u, v in sub.rw_edges():
        if reach[comp_of[v]] & bit[u]:
            back = sub.path(v, u, mask, budget)
            if back is not None:
                return [sub.step(u, v, RW), *back]
            if budget.exhausted:
                return None
    return None


def _rw_count(steps: Sequence[Step]) -> int:
    return sum(1 for s in steps if s.kind == RW)


def _g_nonadjacent(sub: Sub, parity: Sequence[Sequence[tuple[int, bool]]],
                   budget: Budget) -> list[Step] | None:
    candidates: list[tuple[int, int]] = []
    for comp in parity:
        members = set(comp)
        inside = [(u, v) for u, v in sub.rw_edges() if (u, False) in members
                  and (v, True) in members]
        if len(inside) >= 2:
            candidates.extend(inside)

    def moves(s: tuple[int, bool, int]) -> Iterable[tuple[tuple[int, bool, int], Move]]:
        u, last_rw, count = s
        for (v, arrived_rw), mv in _parity_moves(sub, (u, last_rw)):
            yield (v, arrived_rw, min(2, count + arrived_rw)), mv

    for u, v in candidates:
        back = bfs([(v, True, 1)], lambda s, u=u: s == (u, False, 2), moves, budget)
        if back is None:
            if budget.exhausted:
                return None
            continue
        cycle = simplify(sub.steps([(u, v, RW), *back]),
                         prefer=lambda w: min(2, _rw_count(w)))
        if classify(kinds(cycle)) == G_NONADJACENT:
            return cycle
    return None


def _g2_item(sub: Sub, budget: Budget) -> list[Step] | None:
    rw_out: dict[int, list[int]] = {}
    for u, v in sub.rw_edges():
        rw_out.setdefault(u, []).append(v)
    for u in sorted(rw_out):
        for v in rw_out[u]:
            for w in rw_out.get(v, []):
                first = [sub.step(u, v, RW), sub.step(v, w, RW)]
                if w == u:
                    return first
                back = sub.path(w, u, ALL_MASK, budget, avoid=frozenset((v,)))
                if back is not None:
                    return [*first, *back]
                if budget.exhausted:
                    return None
    return None


@dataclass
class CycleReport:
    anomalies: list[Anomaly] = field(default_factory=list)
    forbidden: bool = False  # some closed walk SI forbids exists (exact)
    components: int = 0  # non-trivial SCCs examined


def _add(report: CycleReport, counts: dict[str, int], steps: Sequence[Step] | None,
         cls: str | None = None) -> bool:
    if steps is None:
        return False
    a = cycle_anomaly(steps, cls)
    if counts.get(a.type, 0) < CYCLES_PER_CLASS_MAX:
        counts[a.type] = counts.get(a.type, 0) + 1
        report.anomalies.append(a)
    return True


def si_cycles(g: DepGraph, budget: Budget) -> CycleReport:
    """Witnesses of every cycle class in `g` (which must hold no rt edges)."""
    mask = ALL_MASK & ~BIT[RT]
    report = CycleReport()
    counts: dict[str, int] = {}
    whole = Sub(g, g.nodes(), mask)
    for comp in whole.components(mask):
        if len(comp) < 2:
            continue
        report.components += 1
        sub = Sub(g, comp, mask)
        parity = parity_components(sub)
        if parity:
            report.forbidden = True
            found = _add(report, counts, _g0(sub, budget), G0)
            found |= _add(report, counts, _g1c(sub, budget), G1C)
            found |= _add(report, counts, _g_single(sub, budget), G_SINGLE)
            found |= _add(report, counts, _g_nonadjacent(sub, parity, budget), G_NONADJACENT)
            if not found:  # only when the budget ran out: classify one cycle anyway
                _add(report, counts, simplify(parity_cycle(sub, parity[0])))
        _add(report, counts, _g2_item(sub, budget), G2_ITEM)
    return report


def realtime_cycles(g_rt: DepGraph, budget: Budget) -> CycleReport:
    """Forbidden cycles through at least one rt edge. `g_rt` is the graph plus rt edges.

    Cycles without an rt edge are si_cycles' business and are not reported again here.
    """
    report = CycleReport()
    counts: dict[str, int] = {}
    whole = Sub(g_rt, g_rt.nodes())
    rt_prefer: Callable[[Sequence[Step]], int] = lambda w: any(s.kind == RT for s in w)  # noqa: E731
    for comp in whole.components(ALL_MASK):
        if len(comp) < 2:
            continue
        sub = Sub(g_rt, comp)
        rt_edges = [(u, v) for u in sub.ids for v, m in sub.out[u] if m & BIT[RT]]
        if not rt_edges:
            continue
        report.components += 1
        parity = parity_components(sub)
        if not parity:
            continue
        report.forbidden = True
        members = set().union(*parity)
        witness = None
        for u, v in rt_edges:
            if (v, False) not in members:
                continue
            back = bfs([(v, False)], lambda s, u=u: s[0] == u,
                       lambda s, sub=sub: _parity_moves(sub, s), budget)
            if back is None:
                if budget.exhausted:
                    break
                continue
            cycle = simplify(sub.steps([(u, v, RT), *back]), prefer=rt_prefer)
            if any(s.kind == RT for s in cycle):
                witness = cycle
                break
        if witness is None:
            for pcomp in parity:
                cycle = simplify(parity_cycle(sub, pcomp), prefer=rt_prefer)
                if any(s.kind == RT for s in cycle):
                    witness = cycle
                    break
        _add(report, counts, witness, REALTIME)
    return report
