"""Read anomalies that need no cycle: aborted reads, intermediate reads, lost updates.

- ``G1a`` (aborted read): a committed read shows a value appended by a transaction that
  failed. A failed transaction never committed, so nobody may see its writes.
- ``G1b`` (intermediate read): a committed read's external view ends with a value that is not
  its writer's last append to that key: the reader saw the writer half-way through.
- ``lost-update``: two committed transactions read the same version of a key (same external
  view) and both appended to it. Under SI one of them must see the other (both write the key),
  and whichever saw the other would have read a longer list.

Invariant: every anomaly returned names the reader(s) first in `txns`.
Thread-safety: pure functions.
"""

from __future__ import annotations

from dsql.verify.anomalies import G1A, G1B, LOST_UPDATE, Anomaly
from dsql.verify.history import FAIL, Key
from dsql.verify.versions import Observations

LOST_UPDATES_PER_KEY_MAX = 8


def aborted_reads(obs: Observations) -> list[Anomaly]:
    """G1a: committed reads of values whose writers failed."""
    first_failed: dict[Key, int] = {}  # per key, where the longest read first shows one
    for key, ko in obs.orders.items():
        first_failed[key] = next((i for i, v in enumerate(ko.observed)
                                  if (w := obs.writer_of(key, v)) is not None
                                  and w.type == FAIL), len(ko.observed))
    out = []
    for r in obs.reads:
        if r.usable and len(r.full) <= first_failed[r.key]:
            continue  # a prefix of the longest read that stops before any failed value
        failed = [v for v in r.full
                  if (w := obs.writer_of(r.key, v)) is not None and w.type == FAIL]
        if failed:
            writers = sorted({obs.writer[(r.key, v)] for v in failed})
            out.append(Anomaly(G1A, (r.txn, *writers),
                               f"T{r.txn} read key {r.key!r} = {list(r.full)}, which includes "
                               f"{failed} appended by failed "
                               + ", ".join(f"T{w}" for w in writers)))
    return out


def intermediate_reads(obs: Observations) -> list[Anomaly]:
    """G1b: a read whose last external element is not its writer's final append to the key."""
    out = []
    for r in obs.reads:
        if not r.usable or not r.external:
            continue
        last = r.external[-1]
        w = obs.writer_of(r.key, last)
        if w is None or w.type == FAIL or w.id == r.txn:
            continue  # garbage / G1a are reported on their own
        mine = [v for k, v in w.appends() if k == r.key]
        assert last in mine
        if mine[-1] != last:
            later = mine[mine.index(last) + 1:]
            out.append(Anomaly(G1B, (r.txn, w.id),
                               f"T{r.txn} read key {r.key!r} = {list(r.full)}, ending at {last}, "
                               f"but T{w.id} appended {later} after {last} in the same "
                               f"transaction: an intermediate state"))
    return out


def lost_updates(obs: Observations) -> list[Anomaly]:
    """Committed transactions that read the same version of a key and both appended to it."""
    groups: dict[tuple[Key, int], set[int]] = {}
    for r in obs.reads:
        if not r.usable:
            continue
        assert r.external is not None
        t = obs.txns[r.txn]
        if any(k == r.key for k, _ in t.appends()):
            groups.setdefault((r.key, len(r.external)), set()).add(r.txn)
    out = []
    per_key: dict[Key, int] = {}
    for (key, n), members in sorted(groups.items(), key=lambda kv: (repr(kv[0][0]), kv[0][1])):
        if len(members) < 2 or per_key.get(key, 0) >= LOST_UPDATES_PER_KEY_MAX:
            continue
        per_key[key] = per_key.get(key, 0) + 1
        ids = tuple(sorted(members))
        version = list(obs.orders[key].observed[:n])
        out.append(Anomaly(LOST_UPDATE, ids,
                           f"key {key!r}: " + ", ".join(f"T{i}" for i in ids)
                           + f" all read version {version} and all appended to it; under SI "
                           "one of them must have seen the others' appends"))
    return out
