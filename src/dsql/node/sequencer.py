"""Which commits are decided but not yet visible, and how far storage may be read.

Between the adjudicator's decision and the crossbar's apply, a commit is *in flight*: its
timestamp is fixed but storage does not show it yet. The storage watermark W (every commit at or
below W is applied) may therefore only advance to just below the oldest in-flight commit, or,
with nothing in flight, to the highest timestamp decided or promised.

The sequencer also remembers, for every commit above W, the lowest journal lsn its record can
have, so that a checkpoint taken as of W knows from which lsn the journal must be replayed
(records below that lsn all commit at or below W and are inside the checkpoint image).

This is the reference model of the kernel the node runs, cpp/node/sequencer.h
(dsql._core._kernels.node.Sequencer, the same methods): tests/test_node_kernel.py drives both
with the same random operations and compares every answer. A change here is a change there.

Thread-safety: all methods may be called from any thread. ``decide()`` runs the caller's
adjudication under the sequencer's lock, so a decision and a promise never interleave: a
promise is made only when no commit at or below it is in flight, and every later decision
comes out above it (the adjudicator guarantees that).

Invariants (under the lock):
  1. watermark never decreases.
  2. Every key of _pending is > watermark; _pending holds every decided commit above it.
  3. _in_flight is a subset of _pending's keys.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class Sequencer:
    def __init__(self, *, watermark: int, next_lsn: Callable[[], int],
                 promise_through: Callable[[int], int]) -> None:
        """`watermark`: where storage stands now; `next_lsn()`: a lower bound on the lsn of the
        next journal record (the journal's durable lsn + 1); `promise_through(ts)`: asks the
        adjudicators to promise nothing commits at or below ts and returns the promise in force
        (lower while a prepared vote holds a lower proposal)."""
        self._lock = threading.Lock()
        self._watermark = watermark
        self._high = watermark  # highest timestamp decided or promised
        self._wanted = watermark  # highest timestamp a reader asked for
        self._pending: dict[int, int] = {}  # commit ts > watermark -> lowest possible lsn
        self._in_flight: set[int] = set()
        self._next_lsn = next_lsn
        self._promise_through = promise_through

    @property
    def watermark(self) -> int:
        return self._watermark

    def decide(self, adjudicate: Callable[[], tuple[T, int | None]]) -> T:
        """Runs `adjudicate()` under the lock. It returns (result, commit_ts or None); a commit
        ts is registered as in flight before the lock is released."""
        with self._lock:
            result, commit_ts = adjudicate()
            if commit_ts is not None:
                assert commit_ts > self._high, "the adjudicator decided below a promise"
                self._high = commit_ts
                self._pending[commit_ts] = self._next_lsn()
                self._in_flight.add(commit_ts)
            return result

    def journaled(self, commit_ts: int, lsn: int) -> None:
        """The commit's record has lsn `lsn` (tightens the replay bound)."""
        with self._lock:
            if commit_ts in self._pending:
                self._pending[commit_ts] = lsn

    def finish(self, commit_ts: int) -> int:
        """The commit is applied (or given up); returns the watermark it allows."""
        with self._lock:
            in_flight = self._in_flight
            in_flight.discard(commit_ts)
            if not in_flight and self._wanted <= self._high:
                # Nothing in flight and no reader waiting beyond the decisions: the watermark
                # reaches the highest decision (what _advance_locked computes, without min()).
                if self._high > self._watermark:
                    self._watermark = self._high
                    self._pending.clear()  # every pending commit is <= _high
                return self._watermark
            return self._advance_locked()

    def promise(self, ts: int) -> bool:
        """Makes `ts` readable: at once when no commit at or below it is in flight (the
        adjudicators promise through ts and the watermark advances), otherwise as soon as the
        in-flight commits at or below it finish (finish() makes the promise then). Returns
        whether the watermark reached ts now."""
        with self._lock:
            if ts <= self._watermark:
                return True
            self._wanted = max(self._wanted, ts)
            self._advance_locked()
            return self._watermark >= ts

    def replay_point(self) -> tuple[int, int]:
        """(W, L): the watermark now, and the lowest lsn a replay must start from to recover
        every commit above W. A checkpoint image as of W plus the journal from L, skipping
        records at or below W, is the whole database."""
        with self._lock:
            lsn = min(self._pending.values()) if self._pending else self._next_lsn()
            return self._watermark, lsn

    def in_flight(self) -> int:
        with self._lock:
            return len(self._in_flight)

    def _advance_locked(self) -> int:
        oldest = min(self._in_flight) if self._in_flight else None
        if self._wanted > self._high and (oldest is None or oldest > self._wanted):
            # A reader waits for a timestamp nothing in flight precedes: promise it.
            promised = min(self._wanted, self._promise_through(self._wanted))
            self._high = max(self._high, promised)
        target = oldest - 1 if oldest is not None else self._high
        if target > self._watermark:
            self._watermark = target
            for ts in [t for t in self._pending if t <= target]:
                del self._pending[ts]
        return self._watermark
