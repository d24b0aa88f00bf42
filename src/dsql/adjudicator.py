"""Commit decisions: may a transaction commit, and at which timestamp.

A thin typed face over the C++ adjudicator (cpp/adjudicator/, docs/adjudicator.md). A
transaction sends its start timestamp and the keys it writes, each with a :class:`Kind`; the
adjudicator answers with a :class:`Result`: committed at ``commit_ts``, or a conflict (first
committer wins; no locks, no waiting), too old, refused, busy or expired.

    >>> from dsql import clock
    >>> from dsql.adjudicator import Adjudicator, Kind
    >>> adj = Adjudicator(clock.Clock.simulated(start_ns=1000))
    >>> adj.adjudicate(10, [(b"k", Kind.FULL)], txn_id=1).commit_ts
    1000
    >>> adj.adjudicate(10, [(b"k", Kind.NONKEY)], txn_id=2).outcome
    <Outcome.CONFLICT: 1>

Batches cross into C++ once: :meth:`Adjudicator.adjudicate_batch` takes
``[(txn_id, start_ts, [(key, kind), ...]), ...]``; :meth:`Adjudicator.adjudicate_flat` takes
flat columns and returns compact results, for callers that build batches in bulk.

Several key-range shards: :class:`ShardedAdjudicator` routes each transaction to the shard
owning its keys, or runs the vote (PrepareRequest -> Vote, Decision -> Ack) among the shards
it touches; the messages are exported here for callers that drive the vote themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from dsql import clock as dclock
from dsql._core import _kernels
from dsql.errors import DsqlError

__all__ = [
    "Ack",
    "Adjudicator",
    "AdjudicatorBusy",
    "AdjudicatorConfig",
    "CommitConflict",
    "CommitExpired",
    "CommitRefused",
    "Conflict",
    "Decision",
    "FlatResults",
    "Kind",
    "Outcome",
    "PrepareRequest",
    "Result",
    "ShardedAdjudicator",
    "TransactionTooOld",
    "Vote",
    "decide_votes",
    "kinds_conflict",
]

log = logging.getLogger("dsql.adjudicator")

_core = _kernels.adjudicator
PrepareRequest = _core.PrepareRequest
Vote = _core.Vote
Decision = _core.Decision
Ack = _core.Ack
decide_votes = _core.decide_votes

_warned_unsynchronized = False  # said once per process


class Kind(IntEnum):
    """How strongly a write claims its key (Aurora DSQL's conflict classes)."""

    KEYSHARE = 0  # SELECT ... FOR KEY SHARE
    NONKEY = 1  # UPDATE of non-key columns
    FULL = 2  # INSERT, DELETE, key-column UPDATE, SELECT ... FOR UPDATE

    @property
    def label(self) -> str:
        return self.name.lower()


def kinds_conflict(a: Kind | int, b: Kind | int) -> bool:
    """FULL conflicts with everything; NONKEY with NONKEY; KEYSHARE with nothing else."""
    return a == Kind.FULL or b == Kind.FULL or (a == Kind.NONKEY and b == Kind.NONKEY)


class Outcome(IntEnum):
    COMMITTED = 0
    CONFLICT = 1
    TOO_OLD = 2
    REFUSED = 3
    BUSY = 4
    EXPIRED = 5

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


class CommitConflict(DsqlError):
    sqlstate = "40001"  # serialization_failure


class TransactionTooOld(DsqlError):
    sqlstate = "54000"  # program_limit_exceeded


class CommitRefused(DsqlError):
    sqlstate = "58000"  # system_error: the clock cannot be trusted to order the commit


class AdjudicatorBusy(DsqlError):
    sqlstate = "53000"  # insufficient_resources


class CommitExpired(DsqlError):
    sqlstate = "40001"  # retryable: the vote did not finish in time


@dataclass(frozen=True, slots=True)
class Conflict:
    key: bytes
    mine: Kind
    theirs: Kind
    pending: bool = False  # the other side is prepared and undecided
    other_txn: int | None = None  # known when pending


@dataclass(frozen=True, slots=True)
class Result:
    txn_id: int
    outcome: Outcome
    commit_ts: int | None = None
    conflict: Conflict | None = None
    error: str = ""

    @property
    def committed(self) -> bool:
        return self.outcome is Outcome.COMMITTED

    def raise_if_failed(self) -> None:
        """Raises the SQLSTATE-carrying error a client should see, unless committed."""
        o = self.outcome
        if o is Outcome.COMMITTED:
            return
        if o is Outcome.CONFLICT:
            c = self.conflict
            detail = None if c is None else (
                f"{c.mine.label} write on key {c.key!r} conflicts with a "
                f"{'pending' if c.pending else 'committed'} {c.theirs.label} write")
            raise CommitConflict("change conflicts with another transaction (OC000)",
                                 detail=detail)
        if o is Outcome.TOO_OLD:
            raise TransactionTooOld(
                "transaction is older than the adjudicator's window and cannot be checked")
        if o is Outcome.REFUSED:
            raise CommitRefused(
                "commit refused: the clock is not synchronized and timestamps come from "
                "several clocks, so the commit cannot be ordered")
        if o is Outcome.BUSY:
            raise AdjudicatorBusy("too many transactions are waiting for a commit decision")
        raise CommitExpired("commit vote did not finish before its hold expired"
                            + (f": {self.error}" if self.error else ""))


@dataclass(frozen=True, slots=True)
class AdjudicatorConfig:
    window_ns: int = 300_000_000_000
    max_keys: int = 1_000_000
    single_timestamp_authority: bool = True  # embedded and single server: this process
    hold_ns: int = 10_000_000_000
    max_pending_txns: int = 10_000
    max_txn_keys: int = 100_000
    hash_seed: int = 0  # 0: random per process

    def kwargs(self) -> dict[str, int | bool]:
        return {
            "window_ns": self.window_ns,
            "max_keys": self.max_keys,
            "single_timestamp_authority": self.single_timestamp_authority,
            "hold_ns": self.hold_ns,
            "max_pending_txns": self.max_pending_txns,
            "max_txn_keys": self.max_txn_keys,
            "hash_seed": self.hash_seed,
        }


@dataclass(frozen=True, slots=True)
class FlatResults:
    """Compact batch results: one outcome code per transaction (bytes), commit timestamps
    (0 where not committed), and (txn index, key_index, mine, theirs, pending, other_txn)
    for each conflict."""

    outcomes: bytes
    commit_ts: list[int]
    conflicts: list[tuple[int, int, int, int, bool, int]]


Writes = Sequence[tuple[bytes, int]]


def _hybrid(clock: dclock.Clock | object | None) -> object:
    if clock is None:
        return dclock.default().hybrid
    if isinstance(clock, dclock.Clock):
        return clock.hybrid
    return clock


def _result(txn_id: int, raw: tuple, writes: Writes) -> Result:
    outcome = Outcome(raw[0])
    if outcome is Outcome.COMMITTED:
        return Result(txn_id, outcome, raw[1])
    if outcome is Outcome.CONFLICT:
        other = raw[6] if raw[5] else None
        c = Conflict(bytes(writes[raw[2]][0]), Kind(raw[3]), Kind(raw[4]), raw[5], other)
        return Result(txn_id, outcome, conflict=c)
    return Result(txn_id, outcome)


def _note_clock(core: object) -> None:
    global _warned_unsynchronized
    if not _warned_unsynchronized and core.clock_unsynchronized_seen:  # type: ignore[attr-defined]
        _warned_unsynchronized = True
        log.warning("the clock's status is unknown (no time daemon vouches for it); commits "
                    "are ordered by this process's hybrid-logical clock alone")


class Adjudicator:
    """One adjudicator over a clock (default: the process clock)."""

    def __init__(self, clock: dclock.Clock | object | None = None,
                 config: AdjudicatorConfig | None = None) -> None:
        self.config = config or AdjudicatorConfig()
        self.core = _core.Adjudicator(_hybrid(clock), **self.config.kwargs())

    def adjudicate(self, start_ts: int, writes: Writes, txn_id: int = 0) -> Result:
        raw = self.core.adjudicate(start_ts, writes, txn_id)
        if not _warned_unsynchronized:
            _note_clock(self.core)
        return _result(txn_id, raw, writes)

    def adjudicate_batch(self, txns: Sequence[tuple[int, int, Writes]]) -> list[Result]:
        raws = self.core.adjudicate_batch(txns)
        if not _warned_unsynchronized:
            _note_clock(self.core)
        return [_result(t[0], raw, t[2]) for t, raw in zip(txns, raws, strict=True)]

    def adjudicate_flat(self, txn_ids: Sequence[int], start_ts: Sequence[int],
                        key_counts: Sequence[int], keys: Sequence[bytes],
                        kinds: bytes) -> FlatResults:
        outcomes, commit_ts, conflicts = self.core.adjudicate_flat(
            txn_ids, start_ts, key_counts, keys, kinds)
        if not _warned_unsynchronized:
            _note_clock(self.core)
        return FlatResults(outcomes, commit_ts, conflicts)

    def prepare(self, request: PrepareRequest) -> Vote:
        return self.core.prepare(request)

    def decide(self, decision: Decision) -> Ack:
        return self.core.decide(decision)

    def heartbeat(self) -> int:
        """Promises nothing commits here at or below the returned timestamp."""
        return self.core.heartbeat()

    def promise_through(self, ts: int) -> int:
        """Promises through ts unless a prepared transaction holds a lower proposal; returns
        the promise in force."""
        return self.core.promise_through(ts)

    def expire_pending(self) -> int:
        return self.core.expire_pending()

    def stats(self) -> dict[str, int]:
        return self.core.stats()


class ShardedAdjudicator:
    """Key-range shards: shard i owns [splits[i-1], splits[i])."""

    def __init__(self, splits: Sequence[bytes], clock: dclock.Clock | object | None = None,
                 config: AdjudicatorConfig | None = None) -> None:
        self.config = config or AdjudicatorConfig()
        self.core = _core.AdjudicatorShardMap(_hybrid(clock), list(splits),
                                              **self.config.kwargs())

    @property
    def shard_count(self) -> int:
        return self.core.shard_count

    def shard_of(self, key: bytes) -> int:
        return self.core.shard_of(key)

    def shard(self, index: int) -> object:
        """The shard's core Adjudicator (prepare/decide/heartbeat/stats)."""
        return self.core.shard(index)

    def split(self, txn_id: int, start_ts: int, writes: Writes) -> list[PrepareRequest]:
        return self.core.split(txn_id, start_ts, writes)

    def commit(self, start_ts: int, writes: Writes, txn_id: int = 0) -> Result:
        outcome, commit_ts, conflict, _shards, error = self.core.commit(start_ts, writes, txn_id)
        if not _warned_unsynchronized:
            _note_clock(self.core)
        o = Outcome(outcome)
        if o is Outcome.COMMITTED:
            return Result(txn_id, o, commit_ts)
        c = None
        if conflict is not None:
            key, mine, theirs, pending, other = conflict
            c = Conflict(key, Kind(mine), Kind(theirs), pending, other if pending else None)
        return Result(txn_id, o, conflict=c, error=error)

    def heartbeat(self) -> int:
        return self.core.heartbeat()

    def promise_through(self, ts: int) -> int:
        return self.core.promise_through(ts)
