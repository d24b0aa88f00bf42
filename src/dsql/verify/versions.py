"""What committed reads reveal: each key's version order, and each read's external view.

In the list-append workload a read returns a key's whole list, so a read of ``[1, 2, 3]`` says
the appends of 1, 2 and 3 were installed in that order, and every read of the key must be a
prefix of one longest list. From the committed (`ok`) transactions this module derives:

- for every read, its *external* view: the list minus the reader's own earlier appends
  (checked: a transaction must see its own appends, in order, at the end of its reads);
- for every key, its *version order*: the longest read, minus elements written by failed
  transactions or by nobody (reported elsewhere), then the committed appends that no read
  shows (an `info` transaction counts as committed once any read shows one of its appends).
  Those come after every observed element: had one been installed earlier, the longest read
  would show it. Their order among themselves is unknown, so they form one "unread" tier;
- the anomalies visible here: ``internal`` (a read disagrees with the transaction's own
  appends, or a transaction's appends appear out of its program order), ``incompatible-order``
  (two reads of a key are not prefixes of one list), ``duplicate-elements`` and
  ``garbage-read`` (a value no operation appended).

Invariants of the result:
  1. every usable read's external view is a prefix of its key's `observed` list;
  2. `order` holds each value at most once; `position[v]` is v's index in `order`;
  3. `unread` holds only values appended by known-committed transactions (ok, or info with an
     append some read shows) and absent from `observed`.
Thread-safety: pure functions over immutable inputs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from dsql.verify.anomalies import (
    DUPLICATE_ELEMENTS,
    GARBAGE_READ,
    INCOMPATIBLE_ORDER,
    INTERNAL,
    Anomaly,
)
from dsql.verify.history import APPEND, FAIL, INFO, OK, READ, Key, Txn

REPORTS_PER_KEY_MAX = 8  # incompatible reads reported per key (all are counted)


@dataclass(frozen=True)
class ReadObs:
    """A committed read. `external` is None when the read is internally inconsistent."""

    txn: int
    key: Key
    full: tuple[int, ...]
    external: tuple[int, ...] | None
    mop_index: int
    usable: bool = True  # False if it contradicts the key's order or repeats an element


@dataclass
class KeyOrder:
    """A key's inferred version order."""

    key: Key
    observed: tuple[int, ...] = ()  # the longest usable read, as read
    order: tuple[int, ...] = ()  # observed minus failed/unwritten values: what edges use
    position: dict[int, int] = field(default_factory=dict)
    unread: dict[int, tuple[int, ...]] = field(default_factory=dict)  # ok txn -> its values


@dataclass
class Observations:
    """Everything inferred from the reads, before any graph is built."""

    txns: dict[int, Txn]
    writer: dict[tuple[Key, int], int]  # (key, value) -> id of the txn that appended it
    reads: list[ReadObs]
    orders: dict[Key, KeyOrder]
    anomalies: list[Anomaly]
    committed: list[int]  # ids of the txns known to have committed (see known_committed)

    def writer_of(self, key: Key, value: int) -> Txn | None:
        tid = self.writer.get((key, value))
        return None if tid is None else self.txns[tid]


def _read_value(value: object) -> tuple[int, ...]:
    # An ok op's read of null means the key did not exist: the empty list.
    if value is None:
        return ()
    assert isinstance(value, tuple)
    return value


def external_reads(txn: Txn) -> tuple[list[ReadObs], list[Anomaly]]:
    """The reads of one ok txn with their external views, and its internal anomalies."""
    assert txn.type == OK, "only committed reads are observations"
    own: dict[Key, list[int]] = {}  # own appends so far, per key
    last_read: dict[Key, tuple[int, ...]] = {}  # the previous read's list, per key
    since: dict[Key, list[int]] = {}  # own appends since the previous read
    reads: list[ReadObs] = []
    anomalies: list[Anomaly] = []
    mine = {(k, v) for k, v in txn.appends()}
    for i, m in enumerate(txn.mops):
        if m.f == APPEND:
            assert isinstance(m.value, int)
            own.setdefault(m.key, []).append(m.value)
            since.setdefault(m.key, []).append(m.value)
            continue
        assert m.f == READ
        full = _read_value(m.value)
        mine_before = own.get(m.key, [])
        problem = None
        if m.key in last_read:
            expected = last_read[m.key] + tuple(since.get(m.key, []))
            if full != expected:
                problem = f"expected {list(expected)} from its earlier read and appends"
        n_own = len(mine_before)
        if problem is None and (n_own > len(full) or list(full[len(full) - n_own:]) != mine_before):
            problem = f"its own appends {mine_before} are not at the end"
        external: tuple[int, ...] | None = None
        if problem is None:
            external = full[:len(full) - n_own]
            future = [v for v in external if (m.key, v) in mine]
            if future:
                problem = f"it shows its own later append(s) {future}"
                external = None
        if problem is not None:
            anomalies.append(Anomaly(INTERNAL, (txn.id,),
                                     f"T{txn.id} read key {m.key!r} = {list(full)}, but {problem}"))
        reads.append(ReadObs(txn.id, m.key, full, external, i, usable=external is not None))
        last_read[m.key] = full
        since[m.key] = []
    return reads, anomalies


def _is_prefix(short: Sequence[int], long: Sequence[int]) -> bool:
    return len(short) <= len(long) and tuple(long[:len(short)]) == tuple(short)


def infer(txns: Sequence[Txn]) -> Observations:
    """Builds version orders and read views from a paired history (see the module docstring)."""
    by_id = {t.id: t for t in txns}
    assert len(by_id) == len(txns), "txn ids are unique"
    writer: dict[tuple[Key, int], int] = {}
    for t in txns:
        for key, value in t.appends():
            writer[(key, value)] = t.id
    reads: list[ReadObs] = []
    anomalies: list[Anomaly] = []
    for t in txns:
        if t.type == OK:
            r, a = external_reads(t)
            reads.extend(r)
            anomalies.extend(a)
    reads, dup = _mark_duplicates(reads)
    anomalies.extend(dup)
    orders: dict[Key, KeyOrder] = {}
    by_key: dict[Key, list[int]] = {}
    for i, r in enumerate(reads):
        by_key.setdefault(r.key, []).append(i)
    keys = {k for k, _ in writer} | set(by_key)
    committed = known_committed(txns, reads, writer)
    for key in sorted(keys, key=repr):
        order, found = _order_of_key(key, [reads[i] for i in by_key.get(key, [])], writer, by_id,
                                     committed)
        orders[key] = order
        anomalies.extend(found)
        for i in by_key.get(key, []):
            if reads[i].usable and not _is_prefix(reads[i].full, order.observed):
                reads[i] = _unusable(reads[i])
    anomalies.extend(_garbage(reads, writer))
    anomalies.extend(_misordered_appends(txns, orders, writer))
    return Observations(by_id, writer, reads, orders, anomalies, committed)


def known_committed(txns: Sequence[Txn], reads: Sequence[ReadObs],
                    writer: Mapping[tuple[Key, int], int]) -> list[int]:
    """Ids of txns known to have committed: every ok txn, and every info txn one of whose
    appends some committed read shows (then all of its appends committed, read or not)."""
    shown = {writer[(r.key, v)] for r in reads for v in r.full if (r.key, v) in writer}
    out = [t.id for t in txns if t.type == OK or (t.type == INFO and t.id in shown)]
    assert all(t.type != FAIL or t.id not in out for t in txns)
    return out


def _unusable(r: ReadObs) -> ReadObs:
    return ReadObs(r.txn, r.key, r.full, r.external, r.mop_index, usable=False)


def _mark_duplicates(reads: list[ReadObs]) -> tuple[list[ReadObs], list[Anomaly]]:
    out: list[ReadObs] = []
    anomalies: list[Anomaly] = []
    for r in reads:
        if len(set(r.full)) != len(r.full):
            dups = sorted(v for v, n in Counter(r.full).items() if n > 1)
            anomalies.append(Anomaly(DUPLICATE_ELEMENTS, (r.txn,),
                                     f"T{r.txn} read key {r.key!r} = {list(r.full)}, "
                                     f"which repeats {dups}"))
            r = _unusable(r)
        out.append(r)
    return out, anomalies


def _order_of_key(key: Key, reads: Sequence[ReadObs], writer: Mapping[tuple[Key, int], int],
                  txns: Mapping[int, Txn], committed: Sequence[int]
                  ) -> tuple[KeyOrder, list[Anomaly]]:
    usable = [r for r in reads if r.usable]
    longest: tuple[int, ...] = max((r.full for r in usable), key=len, default=())
    anomalies: list[Anomaly] = []
    bad = [r for r in usable if not _is_prefix(r.full, longest)]
    for r in bad[:REPORTS_PER_KEY_MAX]:
        holder = next(x for x in usable if x.full == longest)
        anomalies.append(Anomaly(
            INCOMPATIBLE_ORDER, (r.txn, holder.txn),
            f"key {key!r}: T{r.txn} read {list(r.full)} and T{holder.txn} read {list(longest)}; "
            f"neither is a prefix of the other, so they disagree on the order of appends"
            + (f" ({len(bad)} such reads on this key)" if len(bad) > 1 else "")))
    order = tuple(v for v in longest
                  if (key, v) in writer and txns[writer[(key, v)]].type != FAIL)
    position = {v: i for i, v in enumerate(order)}
    assert len(position) == len(order), "usable reads have no duplicates"
    unread: dict[int, list[int]] = {}
    seen = set(longest)
    for tid in committed:
        for k, v in txns[tid].appends():
            if k == key and v not in seen:
                unread.setdefault(tid, []).append(v)
    ko = KeyOrder(key, longest, order, position, {t: tuple(vs) for t, vs in unread.items()})
    return ko, anomalies


def _garbage(reads: Sequence[ReadObs], writer: Mapping[tuple[Key, int], int]) -> list[Anomaly]:
    out = []
    for r in reads:
        unknown = [v for v in r.full if (r.key, v) not in writer]
        if unknown:
            out.append(Anomaly(GARBAGE_READ, (r.txn,),
                               f"T{r.txn} read key {r.key!r} = {list(r.full)}, but no operation "
                               f"appended {unknown}"))
    return out


def _misordered_appends(txns: Sequence[Txn], orders: Mapping[Key, KeyOrder],
                        writer: Mapping[tuple[Key, int], int]) -> list[Anomaly]:
    """A transaction's appends to a key must be installed in its program order."""
    out = []
    for t in txns:
        per_key: dict[Key, list[int]] = {}
        for k, v in t.appends():
            per_key.setdefault(k, []).append(v)
        for k, values in per_key.items():
            observed = orders[k].observed
            index = {v: i for i, v in enumerate(observed)}
            seen = [index[v] for v in values if v in index]
            if seen != sorted(seen):
                shown = [observed[i] for i in sorted(seen)]
                out.append(Anomaly(INTERNAL, (t.id,),
                                   f"T{t.id} appended {values} to key {k!r} in that order, but "
                                   f"reads show them as {shown}"))
    assert all(a.type == INTERNAL for a in out)
    return out
