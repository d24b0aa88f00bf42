"""The sequencer: which commits are in flight, how far storage may be read, where replay starts.

Goal: the watermark never passes a commit that is decided but not applied, never goes back,
and reaches every timestamp a reader asked for as soon as nothing older is in flight (no reader
waits for a timer). Method: a fake adjudicator (a monotonic timestamp source with promises) and
random interleavings of decisions, journal acks, applies and reader promises, checked against
those rules after every step.
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from dsql.node.sequencer import Sequencer


class FakeAdjudicator:
    def __init__(self) -> None:
        self.last = 100
        self.promise = 100

    def decide(self) -> int:
        self.last = max(self.last, self.promise) + 1
        return self.last

    def promise_through(self, ts: int) -> int:
        self.promise = max(self.promise, ts)
        return self.promise


def make(adj: FakeAdjudicator, lsn: list[int]) -> Sequencer:
    return Sequencer(watermark=100, next_lsn=lambda: lsn[0], promise_through=adj.promise_through)


def test_reader_behind_an_in_flight_commit_is_served_when_it_finishes() -> None:
    adj, lsn = FakeAdjudicator(), [1]
    seq = make(adj, lsn)
    ts = seq.decide(lambda: (adj.decide(), adj.last))
    reader = adj.last + 5  # a snapshot taken after the decision
    assert not seq.promise(reader) or seq.watermark >= reader
    assert seq.watermark < ts
    seq.finish(ts)
    assert seq.watermark >= reader  # promised by finish(), no timer involved


def test_idle_promise_is_immediate() -> None:
    adj, lsn = FakeAdjudicator(), [1]
    seq = make(adj, lsn)
    assert seq.promise(500)
    assert seq.watermark == 500 and adj.promise == 500
    assert seq.decide(lambda: (adj.decide(), adj.last)) > 500


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["decide", "journal", "finish", "promise"]),
                          st.integers(0, 1000)), max_size=120))
def test_random_interleavings(ops: list[tuple[str, int]]) -> None:
    adj, lsn = FakeAdjudicator(), [1]
    seq = make(adj, lsn)
    rng = random.Random(7)
    decided: dict[int, int | None] = {}  # ts -> lsn once journaled
    in_flight: set[int] = set()
    wanted = 100
    last_watermark = seq.watermark
    for op, arg in ops:
        if op == "decide":
            ts = seq.decide(lambda: (adj.decide(), adj.last))
            decided[ts] = None
            in_flight.add(ts)
        elif op == "journal" and in_flight:
            ts = rng.choice(sorted(in_flight))
            if decided[ts] is None:
                decided[ts] = lsn[0]
                seq.journaled(ts, lsn[0])
                lsn[0] += 1
        elif op == "finish" and in_flight:
            ts = rng.choice(sorted(in_flight))
            in_flight.discard(ts)
            seq.finish(ts)
        elif op == "promise":
            want = adj.last + arg
            wanted = max(wanted, want)
            seq.promise(want)
        w = seq.watermark
        assert w >= last_watermark
        last_watermark = w
        assert all(w < ts for ts in in_flight), "the watermark passed an unapplied commit"
        if not in_flight or min(in_flight) > wanted:
            assert w >= wanted, "a reader was left waiting with nothing in flight before it"
        # Every journaled commit above the watermark lies at or after the replay point.
        wm, replay = seq.replay_point()
        for ts, at in decided.items():
            if ts > wm and at is not None:
                assert at >= replay
