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
    kept: list[int] = field(default_factory=lambda: [0])  # kept[m]: order items in observed[:m]

    def seen(self, external: Sequence[int]) -> int:
        """How many elements of `order` a usable read's external view covers.

        REQUIRES: `external` is a prefix of `observed`.
        """
        assert len(external) < len(self.kept), "a usable read is a prefix of the longest"
        return self.kept[len(external)]


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
    mine = list(txn.appends())
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
            future = [v for k, v in mine if k == m.key and v in external]
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
    """Builds version orders and read views from a paired history (see the module docstring).

    Cost: reads are compared with their key's longest read (a C-speed prefix test); only
    reads that are not prefixes of it are scanned element by element.
    """
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
    by_key: dict[Key, list[int]] = {}
    for i, r in enumerate(reads):
        by_key.setdefault(r.key, []).append(i)
    keys = sorted({k for k, _ in writer} | set(by_key), key=repr)
    longest: dict[Key, tuple[int, ...]] = {}
    for key in keys:
        longest[key] = _choose_longest(key, reads, by_key.get(key, []), anomalies)
    committed = known_committed(txns, reads, longest, writer)
    committed_appends: dict[Key, list[tuple[int, int]]] = {}
    for tid in committed:
        for k, v in by_id[tid].appends():
            committed_appends.setdefault(k, []).append((tid, v))
    orders = {key: _order_of_key(key, longest[key], writer, by_id, committed_appends.get(key, []))
              for key in keys}
    anomalies.extend(_garbage(reads, orders, writer))
    anomalies.extend(_misordered_appends(txns, orders))
    assert all(not r.usable or _is_prefix(r.full, orders[r.key].observed) for r in reads)
    return Observations(by_id, writer, reads, orders, anomalies, committed)


def known_committed(txns: Sequence[Txn], reads: Sequence[ReadObs],
                    longest: Mapping[Key, tuple[int, ...]],
                    writer: Mapping[tuple[Key, int], int]) -> list[int]:
    """Ids of txns known to have committed: every ok txn, and every info txn one of whose
    appends some committed read shows (then all of its appends committed, read or not)."""
    shown = {writer[(k, v)] for k, values in longest.items() for v in values if (k, v) in writer}
    shown |= {writer[(r.key, v)] for r in reads if not r.usable for v in r.full
              if (r.key, v) in writer}  # usable reads are prefixes of the longest
    out = [t.id for t in txns if t.type == OK or (t.type == INFO and t.id in shown)]
    assert len(out) == len(set(out)) <= len(txns)
    return out


def _unusable(r: ReadObs) -> ReadObs:
    return ReadObs(r.txn, r.key, r.full, r.external, r.mop_index, usable=False)


def _duplicates(values: Sequence[int]) -> list[int]:
    if len(set(values)) == len(values):
        return []
    return sorted(v for v, n in Counter(values).items() if n > 1)


def _choose_longest(key: Key, reads: list[ReadObs], indices: Sequence[int],
                    anomalies: list[Anomaly]) -> tuple[int, ...]:
    """The longest usable read of `key` without repeats; marks the reads that contradict it
    (or repeat an element) unusable and reports them. Mutates `reads` and `anomalies`."""
    candidates = sorted((i for i in indices if reads[i].usable),
                        key=lambda i: -len(reads[i].full))
    best: int | None = None
    for i in candidates:
        r = reads[i]
        if best is not None and _is_prefix(r.full, reads[best].full):
            continue  # the common case: one C-speed comparison
        dups = _duplicates(r.full)
        if dups:
            anomalies.append(Anomaly(DUPLICATE_ELEMENTS, (r.txn,),
                                     f"T{r.txn} read key {key!r} = {list(r.full)}, "
                                     f"which repeats {dups}"))
            reads[i] = _unusable(r)
        elif best is None:
            best = i
        else:
            reads[i] = _unusable(r)
            bad = sum(1 for j in candidates if not reads[j].usable)
            if bad <= REPORTS_PER_KEY_MAX:
                holder = reads[best]
                anomalies.append(Anomaly(
                    INCOMPATIBLE_ORDER, (r.txn, holder.txn),
                    f"key {key!r}: T{r.txn} read {list(r.full)} and T{holder.txn} read "
                    f"{list(holder.full)}; neither is a prefix of the other, so they disagree "
                    f"on the order of appends"))
    # Reads never considered (internally inconsistent) may still repeat elements.
    for i in indices:
        r = reads[i]
        if r.external is None and _duplicates(r.full):
            anomalies.append(Anomaly(DUPLICATE_ELEMENTS, (r.txn,),
                                     f"T{r.txn} read key {key!r} = {list(r.full)}, "
                                     f"which repeats {_duplicates(r.full)}"))
    return () if best is None else reads[best].full


def _order_of_key(key: Key, longest: tuple[int, ...], writer: Mapping[tuple[Key, int], int],
                  txns: Mapping[int, Txn], appends: Sequence[tuple[int, int]]) -> KeyOrder:
    """`appends`: (txn, value) of the known-committed appends to `key`, in history order."""
    kept = [0]
    order = []
    for v in longest:
        if (key, v) in writer and txns[writer[(key, v)]].type != FAIL:
            order.append(v)
        kept.append(len(order))
    position = {v: i for i, v in enumerate(order)}
    assert len(position) == len(order), "the longest read has no repeats"
    unread: dict[int, list[int]] = {}
    seen = set(longest)
    for tid, v in appends:
        if v not in seen:
            unread.setdefault(tid, []).append(v)
    return KeyOrder(key, longest, tuple(order), position,
                    {t: tuple(vs) for t, vs in unread.items()}, kept)


def _garbage(reads: Sequence[ReadObs], orders: Mapping[Key, KeyOrder],
             writer: Mapping[tuple[Key, int], int]) -> list[Anomaly]:
    """Reads that show a value no operation appended (scans only reads that can hold one)."""
    first_bad: dict[Key, int] = {}
    for key, ko in orders.items():
        first_bad[key] = next((i for i, v in enumerate(ko.observed) if (key, v) not in writer),
                              len(ko.observed))
    out = []
    for r in reads:
        if r.usable and len(r.full) <= first_bad[r.key]:
            continue
        unknown = [v for v in r.full if (r.key, v) not in writer]
        if unknown:
            out.append(Anomaly(GARBAGE_READ, (r.txn,),
                               f"T{r.txn} read key {r.key!r} = {list(r.full)}, but no operation "
                               f"appended {unknown}"))
    return out


def _misordered_appends(txns: Sequence[Txn], orders: Mapping[Key, KeyOrder]) -> list[Anomaly]:
    """A transaction's appends to a key must be installed in its program order."""
    out = []
    index: dict[Key, dict[int, int]] = {}
    for t in txns:
        per_key: dict[Key, list[int]] = {}
        for k, v in t.appends():
            per_key.setdefault(k, []).append(v)
        for k, values in per_key.items():
            if len(values) < 2:
                continue
            if k not in index:
                index[k] = {v: i for i, v in enumerate(orders[k].observed)}
            seen = [index[k][v] for v in values if v in index[k]]
            if seen != sorted(seen):
                shown = [orders[k].observed[i] for i in sorted(seen)]
                out.append(Anomaly(INTERNAL, (t.id,),
                                   f"T{t.id} appended {values} to key {k!r} in that order, but "
                                   f"reads show them as {shown}"))
    assert all(a.type == INTERNAL for a in out)
    return out
