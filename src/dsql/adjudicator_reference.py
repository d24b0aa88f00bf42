"""A reference model of the adjudicator in plain Python dicts.

It states the rule the C++ adjudicator (cpp/adjudicator/) implements, step for step, so that
tests can run random histories against both and demand the same decisions, timestamps, window
floors and promises; the benchmark measures it as the baseline.

The rule: a transaction with start ``s`` and write set ``W`` (keys with kinds, duplicates
merged to the strongest kind) conflicts when, for a key of W, another transaction committed a
conflicting kind at a timestamp ``> s``, or a prepared, undecided transaction holds a
conflicting kind on it. Otherwise it commits at ``clock.next_above(max(s, promise))``.

Memory mirrors the kernel: ``recent`` maps key -> newest commit ts per kind, in touch order
(an OrderedDict: a plain dict's front is slow to pop repeatedly); the window floor rises to
``clock.last - window_ns`` before each decision and to the newest ts of any key evicted when
more than ``max_keys`` are held; a start below the floor is too old.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

KEYSHARE, NONKEY, FULL = 0, 1, 2
REPORT_ORDER = (FULL, NONKEY, KEYSHARE)  # the strongest conflicting kind is reported

COMMITTED, CONFLICT, TOO_OLD, REFUSED, BUSY, EXPIRED = range(6)


def conflicts(a: int, b: int) -> bool:
    return a == FULL or b == FULL or (a == NONKEY and b == NONKEY)


class ModelClock:
    """A hybrid-logical clock over a physical time that is set by hand (like a manual
    SimulatedSource under a HybridClock) or follows time.time_ns()."""

    def __init__(self, physical_ns: int = 0, *, follow_real_time: bool = False,
                 status: str = "synchronized") -> None:
        self._physical = physical_ns
        self.follow_real_time = follow_real_time
        self.status = status
        self.last = INT64_MIN

    def physical(self) -> int:
        return time.time_ns() if self.follow_real_time else self._physical

    def advance(self, delta_ns: int) -> None:
        assert delta_ns >= 0
        self._physical += delta_ns

    def read(self) -> tuple[int, int, str]:
        """(earliest, latest, status); the bound is zero."""
        p = self.physical()
        return p, p, self.status

    def next_above(self, floor: int) -> int:
        candidate = max(self.last + 1, self.physical())
        if floor != INT64_MIN and candidate <= floor:
            candidate = floor + 1
        self.last = candidate
        return candidate

    def next(self) -> int:
        return self.next_above(INT64_MIN)

    def observe(self, ts: int) -> None:
        self.last = max(self.last, ts)


@dataclass
class _Pending:
    start_ts: int
    proposed_ts: int
    hold_until_ns: int
    writes: list[tuple[bytes, int]]


@dataclass
class _Hold:
    count: list[int] = field(default_factory=lambda: [0, 0, 0])
    holder: list[int] = field(default_factory=lambda: [0, 0, 0])


# (outcome, commit_ts, key_index, mine, theirs, pending, other_txn), as the kernel returns.
ResultTuple = tuple[int, int, int, int, int, bool, int]


def merge(writes: Sequence[tuple[bytes, int]]) -> list[tuple[int, bytes, int]]:
    """(first index, key, strongest kind) per distinct key, in first-occurrence order."""
    first: dict[bytes, list[int]] = {}
    for i, (key, kind) in enumerate(writes):
        entry = first.get(key)
        if entry is None:
            first[key] = [i, kind]
        elif kind > entry[1]:
            entry[1] = kind
    return [(i, key, kind) for key, (i, kind) in first.items()]


class ReferenceAdjudicator:
    """The adjudicator's rule and bookkeeping in dicts; same API shapes as the kernel."""

    def __init__(self, clock: ModelClock, *, window_ns: int = 300_000_000_000,
                 max_keys: int = 1_000_000, single_timestamp_authority: bool = True,
                 hold_ns: int = 10_000_000_000, max_pending_txns: int = 10_000) -> None:
        self.clock = clock
        self.window_ns = window_ns
        self.max_keys = max_keys
        self.single_timestamp_authority = single_timestamp_authority
        self.hold_ns = hold_ns
        self.max_pending_txns = max_pending_txns
        self.recent: OrderedDict[bytes, list[int]] = OrderedDict()
        self.holds: dict[bytes, _Hold] = {}
        self.pending: dict[int, _Pending] = {}
        self.floor = INT64_MIN
        self.promise = INT64_MIN
        self.unsync_seen = False

    # ---- bookkeeping --------------------------------------------------------------------

    def _refuses(self) -> bool:
        if self.clock.read()[2] != "unknown":
            return False
        self.unsync_seen = True
        return not self.single_timestamp_authority

    def _advance_window(self) -> None:
        last = self.clock.last
        if last >= INT64_MIN + self.window_ns:
            self.floor = max(self.floor, last - self.window_ns)
        while self.recent:
            head = next(iter(self.recent))
            if max(self.recent[head]) > self.floor:
                break
            self.recent.popitem(last=False)

    def _find_conflict(self, start: int, merged: list[tuple[int, bytes, int]]
                       ) -> ResultTuple | None:
        for index, key, kind in merged:
            ts = self.recent.get(key)
            if ts is not None:
                for theirs in REPORT_ORDER:
                    if conflicts(kind, theirs) and ts[theirs] > start:
                        return (CONFLICT, 0, index, kind, theirs, False, 0)
            hold = self.holds.get(key)
            if hold is not None:
                for theirs in REPORT_ORDER:
                    if hold.count[theirs] > 0 and conflicts(kind, theirs):
                        return (CONFLICT, 0, index, kind, theirs, True, hold.holder[theirs])
        return None

    def _record(self, merged: list[tuple[int, bytes, int]], commit_ts: int) -> None:
        recent = self.recent
        for _, key, kind in merged:
            ts = recent.get(key)
            if ts is None:
                recent[key] = ts = [INT64_MIN] * 3
            else:
                recent.move_to_end(key)  # to the back of the touch order
            if commit_ts > ts[kind]:
                ts[kind] = commit_ts
        while len(recent) > self.max_keys:
            _, evicted = recent.popitem(last=False)
            self.floor = max(self.floor, max(evicted))

    def _decide_one(self, start: int, writes: Sequence[tuple[bytes, int]]) -> ResultTuple:
        self._advance_window()
        if start < self.floor:
            return (TOO_OLD, 0, 0, FULL, FULL, False, 0)
        merged = merge(writes)
        found = self._find_conflict(start, merged)
        if found is not None:
            return found
        ts = self.clock.next_above(max(start, self.promise))
        assert ts > start and ts > self.promise
        self._record(merged, ts)
        return (COMMITTED, ts, 0, FULL, FULL, False, 0)

    def _release(self, txn_id: int, p: _Pending) -> None:
        for key, kind in p.writes:
            hold = self.holds[key]
            hold.count[kind] -= 1
            if hold.count[kind] > 0 and hold.holder[kind] == txn_id:
                hold.holder[kind] = min(
                    other_id for other_id, other in self.pending.items()
                    if other_id != txn_id and (key, kind) in other.writes)
            if sum(hold.count) == 0:
                del self.holds[key]

    def _lowest_proposal(self) -> int:
        return min((p.proposed_ts for p in self.pending.values()), default=INT64_MAX)

    def _expire(self, earliest: int) -> int:
        overdue = sorted(i for i, p in self.pending.items() if earliest > p.hold_until_ns)
        for txn_id in overdue:
            self._release(txn_id, self.pending[txn_id])
            del self.pending[txn_id]
        return len(overdue)

    # ---- the kernel's API -----------------------------------------------------------------

    def adjudicate(self, start: int, writes: Sequence[tuple[bytes, int]],
                   txn_id: int = 0) -> ResultTuple:
        if self._refuses():
            return (REFUSED, 0, 0, FULL, FULL, False, 0)
        return self._decide_one(start, writes)

    def adjudicate_batch(self, txns: Sequence[tuple[int, int, Sequence[tuple[bytes, int]]]]
                         ) -> list[ResultTuple]:
        if self._refuses():
            return [(REFUSED, 0, 0, FULL, FULL, False, 0)] * len(txns)
        return [self._decide_one(start, writes) for _, start, writes in txns]

    def prepare(self, txn_id: int, start: int, writes: Sequence[tuple[bytes, int]]
                ) -> tuple[bool, int, int, int, ResultTuple | None]:
        """(yes, reason, proposed_ts, hold_until_ns, conflict result tuple or None)."""
        if txn_id in self.pending:
            raise ValueError(f"transaction {txn_id} is already prepared")
        if self._refuses():
            return (False, REFUSED, 0, 0, None)
        self._advance_window()
        if start < self.floor:
            return (False, TOO_OLD, 0, 0, None)
        if len(self.pending) >= self.max_pending_txns:
            return (False, BUSY, 0, 0, None)
        merged = merge(writes)
        found = self._find_conflict(start, merged)
        if found is not None:
            return (False, CONFLICT, 0, 0, found)
        proposed = self.clock.next_above(max(start, self.promise))
        earliest, latest, _ = self.clock.read()
        hold_until = latest + self.hold_ns
        p = _Pending(start, proposed, hold_until, [(key, kind) for _, key, kind in merged])
        for key, kind in p.writes:
            hold = self.holds.setdefault(key, _Hold())
            hold.count[kind] += 1
            if hold.count[kind] == 1:
                hold.holder[kind] = txn_id
        self.pending[txn_id] = p
        return (True, COMMITTED, proposed, hold_until, None)

    def decide(self, txn_id: int, commit: bool, commit_ts: int = 0) -> bool:
        p = self.pending.get(txn_id)
        if p is None:
            return not commit
        if commit and commit_ts < p.proposed_ts:
            return False
        self._release(txn_id, p)
        del self.pending[txn_id]
        if commit:
            assert commit_ts > self.promise
            self.clock.observe(commit_ts)
            self._record([(0, key, kind) for key, kind in p.writes], commit_ts)
        return True

    def expire_pending(self) -> int:
        return self._expire(self.clock.read()[0])

    def heartbeat(self) -> int:
        earliest, _, status = self.clock.read()
        if status == "unknown":
            self.unsync_seen = True
        self._expire(earliest)
        h = self.clock.next()
        self._advance_window()
        if self.pending:
            h = min(h, self._lowest_proposal() - 1)
        self.promise = max(self.promise, h)
        return self.promise

    def promise_through(self, ts: int) -> int:
        if self.pending:
            ts = min(ts, self._lowest_proposal() - 1)
        self.promise = max(self.promise, ts)
        return self.promise
