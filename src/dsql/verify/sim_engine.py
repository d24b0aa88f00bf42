"""A simulated multi-version list store with switchable bugs, and a list-append driver for it.

It exists to prove the checker can fail: histories from the correct engine must pass (strong
SI, write skew allowed), histories from each broken engine must be caught when they show the
bug. Everything is deterministic given the seed; time is a step counter (1 step = 1000 "ns").

The correct engine is SI as dsql does it: the snapshot is taken at BEGIN (the newest commit),
reads see the snapshot plus the transaction's own appends, an append buffers the post-image
(snapshot list + own appends), and COMMIT aborts if another transaction committed a key of the
write set after the snapshot (first committer wins), else installs the post-images at a new
commit timestamp. Read-only transactions always commit.

Flaws (`Flaw`):
  LOST_UPDATE      the write-write conflict check is skipped: post-images overwrite each other
  SKIP_KEY_CHECK   the conflict check ignores key 0 only (an adjudicator that skips one key)
  DIRTY_READ       reads see the newest uncommitted post-image of any running transaction
  STALE_SNAPSHOT   the snapshot lags the newest commit by up to 2 commits (SI, but not strong)
  WRITES_IN_PLACE  appends go straight into the committed store; an abort undoes nothing

Invariants (correct engine): 1. committed versions of a key only grow by appends;
2. a commit's timestamp exceeds every earlier one. Thread-safety: single-threaded by design.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass, field

from dsql.verify.history import APPEND, FAIL, INFO, INVOKE, OK, READ, MicroOp, Op

STEP_NS = 1000
STALE_LAG_MAX = 2
SIM_TXNS_MAX = 100_000


class Flaw(enum.Enum):
    NONE = "none"
    LOST_UPDATE = "lost-update"
    SKIP_KEY_CHECK = "skip-key-check"
    DIRTY_READ = "dirty-read"
    STALE_SNAPSHOT = "stale-snapshot"
    WRITES_IN_PLACE = "writes-in-place"


@dataclass
class SimTxn:
    start_ts: int
    writes: dict[int, tuple[int, ...]] = field(default_factory=dict)
    active: bool = True


class SimEngine:
    """Committed versions per key: a list of (commit_ts, list) in commit order."""

    def __init__(self, flaw: Flaw = Flaw.NONE, rng: random.Random | None = None) -> None:
        self.flaw = flaw
        self.rng = rng or random.Random(0)
        self.ts = 0
        self.versions: dict[int, list[tuple[int, tuple[int, ...]]]] = {}
        self.dirty: dict[int, tuple[SimTxn, tuple[int, ...]]] = {}

    def _committed(self, key: int, ts: int) -> tuple[int, ...]:
        value: tuple[int, ...] = ()
        for commit_ts, v in self.versions.get(key, []):
            if commit_ts > ts:
                break
            value = v
        return value

    def begin(self) -> SimTxn:
        start = self.ts
        if self.flaw is Flaw.STALE_SNAPSHOT:
            start = max(0, self.ts - self.rng.randint(0, STALE_LAG_MAX))
        return SimTxn(start_ts=start)

    def read(self, t: SimTxn, key: int) -> tuple[int, ...]:
        assert t.active, "REQUIRES: an active transaction"
        if self.flaw is Flaw.WRITES_IN_PLACE:
            return self._committed(key, self.ts)
        if key in t.writes:
            return t.writes[key]
        if self.flaw is Flaw.DIRTY_READ and key in self.dirty:
            return self.dirty[key][1]
        return self._committed(key, t.start_ts)

    def append(self, t: SimTxn, key: int, value: int) -> None:
        assert t.active, "REQUIRES: an active transaction"
        if self.flaw is Flaw.WRITES_IN_PLACE:
            self.ts += 1
            self.versions.setdefault(key, []).append((self.ts, self._committed(key, self.ts) +
                                                      (value,)))
            return
        t.writes[key] = self.read(t, key) + (value,)
        if self.flaw is Flaw.DIRTY_READ:
            self.dirty[key] = (t, t.writes[key])

    def _conflicts(self, t: SimTxn) -> bool:
        if self.flaw is Flaw.LOST_UPDATE:
            return False
        for key in t.writes:
            if self.flaw is Flaw.SKIP_KEY_CHECK and key == 0:
                continue
            versions = self.versions.get(key, [])
            if versions and versions[-1][0] > t.start_ts:
                return True
        return False

    def commit(self, t: SimTxn) -> bool:
        """True if committed; False if aborted by the conflict check."""
        assert t.active, "REQUIRES: an active transaction"
        t.active = False
        self._forget_dirty(t)
        if not t.writes or self.flaw is Flaw.WRITES_IN_PLACE:
            return True
        if self._conflicts(t):
            return False
        self.ts += 1
        for key, value in sorted(t.writes.items()):
            self.versions.setdefault(key, []).append((self.ts, value))
        return True

    def abort(self, t: SimTxn) -> None:
        assert t.active, "REQUIRES: an active transaction"
        t.active = False
        self._forget_dirty(t)

    def _forget_dirty(self, t: SimTxn) -> None:
        for key in [k for k, (owner, _) in self.dirty.items() if owner is t]:
            del self.dirty[key]


@dataclass
class _Client:
    process: int
    txn: SimTxn | None = None
    mops: list[MicroOp] = field(default_factory=list)
    done: list[MicroOp] = field(default_factory=list)


def simulate(flaw: Flaw = Flaw.NONE, *, seed: int = 0, clients: int = 3, txns: int = 6,
             keys: int = 2, mops_max: int = 3, abort_probability: float = 0.1,
             info_probability: float = 0.0, final_read: bool = True) -> list[Op]:
    """Runs `txns` random list-append transactions from `clients` interleaved clients.

    A transaction is 1..mops_max micro-ops over keys 0..keys-1 (append values unique). At the
    end a client may roll back on purpose (`fail`), or its commit's outcome may be "lost"
    (`info`; that client then continues as a new process, as Jepsen does). With `final_read`,
    one last transaction reads every key after all others finished.
    """
    if not (1 <= clients and 0 <= txns <= SIM_TXNS_MAX and keys >= 1 and mops_max >= 1):
        raise ValueError("clients >= 1, 0 <= txns, keys >= 1, mops_max >= 1")
    rng = random.Random(seed)
    engine = SimEngine(flaw, random.Random(seed + 1))
    ops: list[Op] = []
    pool = [_Client(p) for p in range(clients)]
    counter = iter(range(1, 10**9))
    left = txns
    clock = 0

    def emit(kind: str, c: _Client, mops: list[MicroOp]) -> None:
        nonlocal clock
        clock += 1
        ops.append(Op(index=len(ops), type=kind, value=tuple(mops), process=c.process,
                      time_ns=clock * STEP_NS))

    for _ in range(SIM_TXNS_MAX * (mops_max + 2) + 1):
        ready = [c for c in pool if c.txn is not None or left > 0]
        if not ready:
            break
        c = rng.choice(ready)
        if c.txn is None:
            left -= 1
            c.mops = [MicroOp(APPEND, rng.randrange(keys), next(counter)) if rng.random() < 0.5
                      else MicroOp(READ, rng.randrange(keys), None)
                      for _ in range(rng.randint(1, mops_max))]
            c.done = []
            emit(INVOKE, c, c.mops)
            c.txn = engine.begin()
        elif len(c.done) < len(c.mops):
            m = c.mops[len(c.done)]
            if m.f == APPEND:
                assert isinstance(m.value, int)
                engine.append(c.txn, m.key, m.value)
                c.done.append(m)
            else:
                c.done.append(MicroOp(READ, m.key, engine.read(c.txn, m.key)))
        else:
            if rng.random() < abort_probability:
                engine.abort(c.txn)
                emit(FAIL, c, c.mops)
            elif not engine.commit(c.txn):
                emit(FAIL, c, c.mops)
            elif rng.random() < info_probability:
                emit(INFO, c, c.mops)
                c.process += clients
            else:
                emit(OK, c, c.done)
            c.txn = None
    else:
        raise AssertionError("the simulation did not finish")  # pragma: no cover
    if final_read:
        c = _Client(process=max(p.process for p in pool) + 1)
        reads = [MicroOp(READ, k, None) for k in range(keys)]
        emit(INVOKE, c, reads)
        t = engine.begin()
        done = [MicroOp(READ, k, engine.read(t, k)) for k in range(keys)]
        assert engine.commit(t)
        emit(OK, c, done)
    return ops
