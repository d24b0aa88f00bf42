"""Real-time order: what "strong" snapshot isolation adds (a transaction sees every transaction
acknowledged before it began), as Aurora DSQL and dsql promise.

Two checks, both reported as ``realtime``:

- stale reads (direct): T2 was invoked after T1's `ok` completed, T1 appended v to k, and T2's
  committed read of k does not include v;
- rt edges (general): T1 -rt-> T2 whenever T1 completed `ok` strictly before T2 was invoked.
  An rt edge is a dependency like ww/wr, so any cycle through one that SI would forbid means
  the transactions cannot be ordered consistently with real time (cycles.realtime_cycles).

All pairs (T1 acknowledged before T2 began) are O(n^2); the edges added are a transitive
reduction that keeps every such pair reachable by an rt path: a sweep over invoke and
complete events in time order keeps a *frontier* of acknowledged transactions not yet implied
by a later one. An invoke takes an edge from each frontier member; a completion replaces, in
the frontier, the members its invoke took edges from. (If T1 is no longer in the frontier
when T2 is invoked, some T3 that completed after T1 and before T2's invoke removed it, and by
induction T3 reaches T2, so T1 -rt-> T3 ~> T2.)

Invariants: 1. every rt edge T1 -> T2 has complete_ns(T1) < invoke_ns(T2);
2. for every such pair of graph nodes there is an rt path T1 ~> T2.
Thread-safety: pure functions.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from dsql.verify.anomalies import REALTIME, RT, Anomaly
from dsql.verify.graph import DepGraph
from dsql.verify.history import OK, Key, Txn
from dsql.verify.versions import Observations

STALE_READS_REPORTED_MAX = 16
EVENTS_MAX = 20_000_000


def add_realtime_edges(g: DepGraph, txns: Sequence[Txn]) -> int:
    """Adds rt edges between graph nodes to `g`; returns how many (see the module docstring)."""
    nodes = set(g.succ)
    events: list[tuple[int, int, int]] = []  # (time, 0 invoke | 1 complete, txn id)
    by_id = {t.id: t for t in txns}
    for t in txns:
        if t.id not in nodes:
            continue
        if t.invoke_ns is not None:
            events.append((t.invoke_ns, 0, t.id))
        if t.type == OK and t.complete_ns is not None:
            events.append((t.complete_ns, 1, t.id))
    assert len(events) <= EVENTS_MAX, "history too large for the real-time sweep"
    events.sort()  # at equal times invokes come first: "before" is strict
    frontier: set[int] = set()
    preds: dict[int, frozenset[int]] = {}
    added = 0
    for time_ns, kind, tid in events:
        if kind == 0:
            preds[tid] = frozenset(frontier)
            for p in preds[tid]:
                tp = by_id[p]
                assert tp.complete_ns is not None and tp.complete_ns < time_ns
                g.add(p, tid, RT, f"T{p} was acknowledged at {tp.complete_ns} ns, before T{tid} "
                                  f"was invoked at {time_ns} ns")
                added += 1
        else:
            frontier -= preds.get(tid, frozenset())
            frontier.add(tid)
    return added


def stale_reads(obs: Observations) -> list[Anomaly]:
    """Committed reads that miss an append acknowledged before the reader was invoked."""
    out: list[Anomaly] = []
    by_key: dict[Key, list[int]] = {}
    for i, r in enumerate(obs.reads):
        by_key.setdefault(r.key, []).append(i)
    appends: dict[Key, list[tuple[int, int]]] = {}  # key -> (value, writer) of acked writers
    for (k, v), w in obs.writer.items():
        t = obs.txns[w]
        if t.type == OK and t.complete_ns is not None:
            appends.setdefault(k, []).append((v, w))
    for key in sorted(by_key, key=repr):
        ko = obs.orders[key]
        unseen = len(ko.order) + 1  # the position of an append no read shows
        need: dict[int, int] = {}  # writer -> the position its last append to key reaches
        for v, w in appends.get(key, []):
            need[w] = max(need.get(w, -1), ko.position.get(v, unseen))
        writers = sorted(need, key=lambda w: obs.txns[w].complete_ns or 0)
        times = [obs.txns[w].complete_ns or 0 for w in writers]
        prefix_max: list[int] = []
        for w in writers:
            prefix_max.append(max(need[w], prefix_max[-1] if prefix_max else -1))
        for i in by_key[key]:
            r = obs.reads[i]
            reader = obs.txns[r.txn]
            if not r.usable or reader.invoke_ns is None:
                continue
            assert r.external is not None
            n = ko.seen(r.external)
            upto = bisect.bisect_left(times, reader.invoke_ns)
            if upto == 0 or prefix_max[upto - 1] < n:
                continue
            w = next(w for w in writers[:upto] if need[w] >= n)
            if len(out) < STALE_READS_REPORTED_MAX:
                missing = [v for k, v in obs.txns[w].appends() if k == key and v not in r.full]
                out.append(Anomaly(
                    REALTIME, (r.txn, w),
                    f"stale read: T{r.txn} was invoked at {reader.invoke_ns} ns, after T{w} was "
                    f"acknowledged at {obs.txns[w].complete_ns} ns, yet its read of key {key!r} "
                    f"= {list(r.full)} misses T{w}'s append of {missing}"))
    return out
