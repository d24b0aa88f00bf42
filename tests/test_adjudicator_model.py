"""The C++ adjudicator against the plain-dict reference model, on random histories.

Goal: for any history of commits, batches, prepares and decisions, heartbeats, promises,
clock movements and clock-status changes, the kernel makes the same decision as the model,
at the same timestamp, and keeps the same window floor, promise and holds. Method: hypothesis
draws a history over a small key pool (so conflicts, duplicates, evictions and holds are
common) and a narrow window and key bound (so too-old and eviction happen); both run it on
clocks with the same physical time (a manual SimulatedSource under the C++ HybridClock; the
model's ModelClock); after every step the outputs, stats and clock must match and the
kernel's invariant walk must pass.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsql import clock as dclock
from dsql._core import _kernels
from dsql.adjudicator_reference import ModelClock, ReferenceAdjudicator

KEYS = [b"a", b"b", b"c", b"d", b"e", b"", b"k" * 30, b"k" * 31]  # two spill past 24 bytes
START_NS = 1000

# Two hot keys make stacked claims (several kinds on one key, several holders) common.
key_st = st.one_of(st.sampled_from(KEYS[:2]), st.sampled_from(KEYS))
writes_st = st.lists(st.tuples(key_st, st.integers(0, 2)), max_size=5)
start_st = st.integers(START_NS - 5, START_NS + 80)
txn_id_st = st.integers(1, 6)

op_st = st.one_of(
    st.tuples(st.just("commit"), txn_id_st, start_st, writes_st),
    st.tuples(st.just("commit"), txn_id_st, start_st, writes_st),
    st.tuples(st.just("batch"),
              st.lists(st.tuples(txn_id_st, start_st, writes_st), min_size=1, max_size=4)),
    st.tuples(st.just("prepare"), txn_id_st, start_st, writes_st),
    st.tuples(st.just("prepare"), txn_id_st, start_st, writes_st),
    # Several key-share holders of one key, then claims that collide with them.
    st.tuples(st.just("prepare"), txn_id_st, start_st, st.just([(b"a", 0)])),
    st.tuples(st.just("commit"), txn_id_st, start_st, st.just([(b"a", 2)])),
    # Mostly a transaction that is prepared now (index into them), sometimes any id.
    st.tuples(st.just("decide"), st.integers(0, 7), st.booleans(), st.integers(-1, 3)),
    st.tuples(st.just("heartbeat")),
    st.tuples(st.just("promise"), st.integers(START_NS - 10, START_NS + 90)),
    st.tuples(st.just("advance"), st.integers(0, 30)),
    st.tuples(st.just("status"), st.sampled_from(["unknown", "synchronized"])),
    st.tuples(st.just("expire")),
)


def _vote_tuple(v: object) -> tuple:
    c = v.conflict  # type: ignore[attr-defined]
    conflict = None if c is None else (c.key, c.mine, c.theirs, c.pending, c.other_txn)
    return (v.yes, v.reason if not v.yes else 0,  # type: ignore[attr-defined]
            v.proposed_ts, v.hold_until_ns, conflict)  # type: ignore[attr-defined]


def _model_vote_tuple(m: tuple, writes: list) -> tuple:
    yes, reason, proposed, hold_until, found = m
    conflict = None
    if found is not None:
        _, _, index, mine, theirs, pending, other = found
        conflict = (writes[index][0], mine, theirs, pending, other)
    return (yes, reason, proposed, hold_until, conflict)


def run_history(ops: list, single: bool, window_ns: int, max_keys: int) -> None:
    clk = dclock.Clock.simulated(start_ns=START_NS)
    kernel = _kernels.adjudicator.Adjudicator(
        clk.hybrid, window_ns=window_ns, max_keys=max_keys, single_timestamp_authority=single,
        hold_ns=60, max_pending_txns=3, hash_seed=7)
    mclock = ModelClock(START_NS)
    model = ReferenceAdjudicator(mclock, window_ns=window_ns, max_keys=max_keys,
                                 single_timestamp_authority=single, hold_ns=60,
                                 max_pending_txns=3)
    proposals: dict[int, int] = {}
    for step, op in enumerate(ops):
        what = op[0]
        where = f"step {step}: {op}"
        if what == "commit":
            _, txn, start, writes = op
            assert kernel.adjudicate(start, writes, txn) == model.adjudicate(start, writes, txn), \
                where
        elif what == "batch":
            assert kernel.adjudicate_batch(op[1]) == model.adjudicate_batch(op[1]), where
        elif what == "prepare":
            _, txn, start, writes = op
            if txn in model.pending:
                with pytest.raises(ValueError):
                    kernel.prepare(_kernels.adjudicator.PrepareRequest(txn, start, 0, writes))
                continue
            vote = kernel.prepare(_kernels.adjudicator.PrepareRequest(txn, start, 0, writes))
            expected = model.prepare(txn, start, writes)
            assert _vote_tuple(vote) == _model_vote_tuple(expected, writes), where
            if vote.yes:
                proposals[txn] = vote.proposed_ts
        elif what == "decide":
            _, pick, commit, delta = op
            prepared = sorted(model.pending)
            txn = prepared[pick % len(prepared)] if prepared and pick < 6 else pick
            ts = proposals.get(txn, START_NS) + delta
            ack = kernel.decide(_kernels.adjudicator.Decision(txn, commit, ts))
            assert ack.ok == model.decide(txn, commit, ts), where
            assert ack.ok or ack.error, where
        elif what == "heartbeat":
            assert kernel.heartbeat() == model.heartbeat(), where
        elif what == "promise":
            assert kernel.promise_through(op[1]) == model.promise_through(op[1]), where
        elif what == "advance":
            clk.source.advance(op[1])
            mclock.advance(op[1])
        elif what == "status":
            clk.source.set_status(op[1])
            mclock.status = op[1]
        elif what == "expire":
            assert kernel.expire_pending() == model.expire_pending(), where
        stats = kernel.stats()
        observed = (stats["keys"], stats["window_floor_ts"], stats["promised_ts"],
                    stats["pending_txns"], stats["held_keys"], clk.hybrid.last,
                    kernel.clock_unsynchronized_seen)
        expected_state = (len(model.recent), model.floor, model.promise, len(model.pending),
                          len(model.holds), mclock.last, model.unsync_seen)
        assert observed == expected_state, where
        assert kernel.check_invariants(), where


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(op_st, min_size=8, max_size=60), single=st.booleans(),
       window_ns=st.sampled_from([15, 40, 300_000_000_000]), max_keys=st.sampled_from([3, 6, 100]))
def test_kernel_matches_reference_model(ops: list, single: bool, window_ns: int,
                                        max_keys: int) -> None:
    run_history(ops, single, window_ns, max_keys)


def test_a_known_history_with_every_kind_of_step() -> None:
    """A fixed history touching each operation, so a regression shows without hypothesis."""
    ops = [
        ("commit", 1, 1000, [(b"a", 2), (b"b", 1)]),
        ("commit", 2, 1000, [(b"b", 1)]),
        ("batch", [(3, 1000, [(b"b", 0), (b"a", 0)]), (4, 1001, [(b"a", 2)])]),
        ("prepare", 5, 1005, [(b"c", 2), (b"d", 0)]),
        ("commit", 6, 1100, [(b"c", 0)]),
        ("heartbeat",),
        ("decide", 5, True, 2),
        ("promise", 1500),
        ("advance", 30),
        ("expire",),
        ("status", "unknown"),
        ("commit", 7, 1010, [(b"e", 1)]),
    ]
    for single in (True, False):
        run_history(ops, single, 40, 3)
