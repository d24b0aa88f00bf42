"""The typed Python face of the adjudicator (dsql.adjudicator) and its bindings.

Goal: results come back as typed values with the SQLSTATE errors a client should see; the
flat, structured and single-transaction entry points agree; malformed input raises
TypeError/ValueError, never crashes; an unknown clock status is logged once in
single-authority mode and refused in multi-authority mode; the sharded face drives the vote.
Method: a simulated clock per test; hypothesis for the batch-shape equivalence.
"""

from __future__ import annotations

import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dsql.adjudicator as adj_mod
from dsql import clock as dclock
from dsql.adjudicator import (
    Adjudicator,
    AdjudicatorConfig,
    CommitConflict,
    CommitRefused,
    Conflict,
    Decision,
    Kind,
    Outcome,
    PrepareRequest,
    ShardedAdjudicator,
    TransactionTooOld,
    decide_votes,
    kinds_conflict,
)


def fresh(**config: object) -> tuple[dclock.Clock, Adjudicator]:
    clk = dclock.Clock.simulated(start_ns=1000)
    cfg = AdjudicatorConfig(hash_seed=3, **config)  # type: ignore[arg-type]
    return clk, Adjudicator(clk, cfg)


def test_every_kind_pair_matches_the_python_rule() -> None:
    for first in Kind:
        for second in Kind:
            _, adj = fresh()
            a = adj.adjudicate(10, [(b"k", first)], txn_id=1)
            assert a.committed and a.commit_ts is not None
            b = adj.adjudicate(a.commit_ts - 1, [(b"k", second)], txn_id=2)
            if kinds_conflict(first, second):
                assert b.outcome is Outcome.CONFLICT
                assert b.conflict == Conflict(b"k", second, first)
            else:
                assert b.committed


def test_conflict_raises_the_dsql_error() -> None:
    _, adj = fresh()
    assert adj.adjudicate(10, [(b"k", Kind.FULL)], txn_id=1).committed
    r = adj.adjudicate(10, [(b"j", Kind.KEYSHARE), (b"k", Kind.NONKEY)], txn_id=2)
    assert r.txn_id == 2 and r.commit_ts is None
    assert r.conflict is not None and r.conflict.key == b"k"
    with pytest.raises(CommitConflict) as e:
        r.raise_if_failed()
    assert e.value.sqlstate == "40001"
    assert str(e.value) == "change conflicts with another transaction (OC000)"
    assert "nonkey" in (e.value.detail or "")
    adj.adjudicate(5000, [(b"k", Kind.FULL)]).raise_if_failed()  # committed: no error


def test_too_old_raises_54000() -> None:
    clk, adj = fresh(window_ns=10)
    clk.source.advance(1000)
    assert adj.adjudicate(1990, [(b"a", Kind.FULL)]).committed
    r = adj.adjudicate(5, [(b"b", Kind.FULL)])
    assert r.outcome is Outcome.TOO_OLD and r.outcome.label == "too-old"
    with pytest.raises(TransactionTooOld) as e:
        r.raise_if_failed()
    assert e.value.sqlstate == "54000"


txn_st = st.tuples(
    st.integers(1, 50), st.integers(990, 1030),
    st.lists(st.tuples(st.sampled_from([b"a", b"b", b"c", b"x" * 40]), st.integers(0, 2)),
             max_size=4))


@settings(max_examples=60, deadline=None)
@given(batch=st.lists(txn_st, max_size=12))
def test_flat_structured_and_single_calls_agree(batch: list) -> None:
    _, structured = fresh()
    _, flat = fresh()
    _, single = fresh()
    want = structured.adjudicate_batch(batch)
    got = flat.adjudicate_flat([t[0] for t in batch], [t[1] for t in batch],
                               [len(t[2]) for t in batch],
                               [k for t in batch for k, _ in t[2]],
                               bytes(kind for t in batch for _, kind in t[2]))
    one_by_one = [single.adjudicate(start, writes, txn) for txn, start, writes in batch]
    assert want == one_by_one
    assert [Outcome(c) for c in got.outcomes] == [r.outcome for r in want]
    assert [ts if r.committed else None for ts, r in zip(got.commit_ts, want, strict=True)] == \
        [r.commit_ts for r in want]
    conflicts = {c[0]: c for c in got.conflicts}
    for i, r in enumerate(want):
        if r.conflict is not None:
            _, key_index, mine, theirs, pending, _ = conflicts[i]
            assert batch[i][2][key_index][0] == r.conflict.key
            assert (mine, theirs, pending) == (r.conflict.mine, r.conflict.theirs, False)


def test_malformed_input_raises() -> None:
    _, adj = fresh(max_txn_keys=2)
    core = adj.core
    with pytest.raises(TypeError):
        adj.adjudicate(10, [("text-key", 2)])
    with pytest.raises(TypeError):
        adj.adjudicate(10, [(b"k",)])
    with pytest.raises(ValueError):
        adj.adjudicate(10, [(b"k", 3)])
    with pytest.raises(ValueError):
        adj.adjudicate(-1, [(b"k", 2)])
    with pytest.raises(ValueError):
        adj.adjudicate(10, [(b"a", 2), (b"b", 2), (b"c", 2)])
    with pytest.raises(TypeError):
        adj.adjudicate_batch([(1, 10)])
    with pytest.raises(ValueError):
        core.adjudicate_flat([1], [10], [2], [b"a"], b"\x02")
    with pytest.raises(ValueError):
        core.adjudicate_flat([1], [10], [1], [b"a"], b"")
    with pytest.raises(ValueError):
        core.adjudicate_flat([1, 2], [10], [1], [b"a"], b"\x02")
    with pytest.raises(ValueError):
        Adjudicator(dclock.Clock.simulated(), AdjudicatorConfig(window_ns=0))
    assert core.stats()["keys"] == 0  # nothing half-applied
    assert core.check_invariants()


def test_unknown_clock_single_authority_logs_once(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(adj_mod, "_warned_unsynchronized", False)
    clk, adj = fresh()
    clk.source.set_status("unknown")
    with caplog.at_level(logging.WARNING, logger="dsql.adjudicator"):
        assert adj.adjudicate(10, [(b"a", Kind.FULL)]).committed
        assert adj.adjudicate_batch([(2, 10, [(b"b", Kind.FULL)])])[0].committed
    warnings = [r for r in caplog.records if "status is unknown" in r.getMessage()]
    assert len(warnings) == 1
    assert adj.core.clock_unsynchronized_seen


def test_unknown_clock_multi_authority_refuses() -> None:
    clk, adj = fresh(single_timestamp_authority=False)
    clk.source.set_status("unknown")
    r = adj.adjudicate(10, [(b"a", Kind.FULL)])
    assert r.outcome is Outcome.REFUSED
    with pytest.raises(CommitRefused):
        r.raise_if_failed()
    assert adj.stats()["refused"] == 1
    clk.source.set_status("synchronized")
    assert adj.adjudicate(10, [(b"a", Kind.FULL)]).committed


def test_heartbeat_and_promises() -> None:
    _, adj = fresh()
    h = adj.heartbeat()
    assert adj.adjudicate(10, [(b"a", Kind.FULL)]).commit_ts > h
    assert adj.promise_through(h + 500) == h + 500
    assert adj.adjudicate(10, [(b"b", Kind.FULL)]).commit_ts == h + 501


def test_sharded_face_runs_the_vote() -> None:
    clk = dclock.Clock.simulated(start_ns=1000)
    sharded = ShardedAdjudicator([b"m"], clk, AdjudicatorConfig(hold_ns=100))
    assert sharded.shard_count == 2 and sharded.shard_of(b"z") == 1
    r = sharded.commit(10, [(b"a", Kind.FULL), (b"x", Kind.NONKEY)], txn_id=1)
    assert r.committed and r.commit_ts == 1001
    c = sharded.commit(10, [(b"b", Kind.FULL), (b"x", Kind.NONKEY)], txn_id=2)
    assert c.outcome is Outcome.CONFLICT
    assert c.conflict == Conflict(b"x", Kind.NONKEY, Kind.NONKEY)
    # Step by step: the messages, the coordinator's rule, the decision.
    requests = sharded.split(3, 2000, [(b"c", Kind.FULL), (b"y", Kind.FULL)])
    assert [(q.shard, q.writes) for q in requests] == [(0, [(b"c", 2)]), (1, [(b"y", 2)])]
    votes = [sharded.shard(q.shard).prepare(q) for q in requests]
    assert all(v.yes for v in votes)
    held = sharded.commit(3000, [(b"y", Kind.KEYSHARE)], txn_id=4)
    assert held.conflict is not None and held.conflict.pending and held.conflict.other_txn == 3
    d = decide_votes(3, votes, clk.now().latest)
    assert d.commit and d.commit_ts == max(v.proposed_ts for v in votes)
    assert all(sharded.shard(v.shard).decide(d).ok for v in votes)
    assert sharded.heartbeat() > d.commit_ts


def test_messages_are_plain_values() -> None:
    q = PrepareRequest(7, 100, 1, [(b"k", 2)])
    assert (q.txn_id, q.start_ts, q.shard, q.writes) == (7, 100, 1, [(b"k", 2)])
    d = Decision(7, True, 123)
    assert (d.txn_id, d.commit, d.commit_ts) == (7, True, 123)
    with pytest.raises(ValueError):
        decide_votes(7, [], 0)
    with pytest.raises(ValueError):
        PrepareRequest(7, 100, 0, [(b"k", 9)])
