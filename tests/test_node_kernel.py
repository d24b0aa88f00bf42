"""The node's commit kernels: the C++ sequencer against its Python reference, and the one-call
commit path (Node.commit / Node.commit_one with one in-process adjudicator).

Goal: the kernel sequencer answers exactly as dsql.node.sequencer does under any interleaving of
decisions, journal acks, finishes and promises; a kernel commit is durable, applied and visible
when it returns, conflicts are first-committer-wins with 40001 OC000, a commit_one and the
general commit claim the same keys, and a durable commit that storage refuses stops the node.
Method: hypothesis drives both sequencers with the same random operations and compares every
answer; commits through a real node on a temporary data directory, one thread and several.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsql._core import _kernels
from dsql.adjudicator import CommitConflict, Kind
from dsql.node.node import Node, NodeFailed
from dsql.node.sequencer import Sequencer
from test_sequencer import FakeAdjudicator  # the reference model's test adjudicator

KernelSequencer = _kernels.node.Sequencer
CATALOG = b"\x00catalog"


@settings(max_examples=120, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["decide", "abort", "journal", "finish", "promise",
                                           "replay"]),
                          st.integers(-5, 40)), max_size=120))
def test_kernel_sequencer_matches_the_reference(ops: list[tuple[str, int]]) -> None:
    adj_ref, adj_k = FakeAdjudicator(), FakeAdjudicator()
    lsn = [1]
    ref = Sequencer(watermark=100, next_lsn=lambda: lsn[0],
                    promise_through=adj_ref.promise_through)
    ker = KernelSequencer(100, lambda: lsn[0], adj_k.promise_through)
    in_flight: list[int] = []
    for op, arg in ops:
        if op == "decide":
            a = ref.decide(lambda: (adj_ref.decide(), adj_ref.last))
            b = ker.decide(lambda: (adj_k.decide(), adj_k.last))
            assert a == b
            in_flight.append(a)
        elif op == "abort":
            assert ref.decide(lambda: ("no", None)) == ker.decide(lambda: ("no", None)) == "no"
        elif op == "journal" and in_flight:
            ts = in_flight[arg % len(in_flight)]
            lsn[0] += 1
            ref.journaled(ts, lsn[0])
            ker.journaled(ts, lsn[0])
        elif op == "finish" and in_flight:
            ts = in_flight.pop(arg % len(in_flight))
            assert ref.finish(ts) == ker.finish(ts)
        elif op == "promise":
            want = adj_ref.last + arg
            assert ref.promise(want) == ker.promise(want)
        elif op == "replay":
            lsn[0] += 1
            assert ref.replay_point() == ker.replay_point()
        assert ref.watermark == ker.watermark
        assert ref.in_flight() == ker.in_flight() == len(in_flight)
        assert adj_ref.promise == adj_k.promise


def test_kernel_sequencer_passes_callback_errors_through() -> None:
    calls = []

    def broken_once(ts: int) -> int:
        calls.append(ts)
        if len(calls) == 1:
            raise KeyError("promise")
        return ts

    seq = KernelSequencer(100, lambda: 1, broken_once)
    with pytest.raises(KeyError):
        seq.promise(200)
    assert seq.watermark == 100
    with pytest.raises(ZeroDivisionError):
        seq.decide(lambda: (1 // 0, None))
    assert seq.decide(lambda: ("r", 150)) == "r"
    assert seq.in_flight() == 1
    assert seq.finish(150) == 200  # the reader's wish of 200 is promised once 150 is applied
    assert calls == [200, 200]


def test_commit_one_is_the_general_commit(tmp_path: Path) -> None:
    with Node.open(tmp_path / "db") as node:
        ts0 = node.commit(node.begin(), [(b"k", b"0")], [(b"k", Kind.FULL)])
        ts1 = node.commit_one(ts0, b"k", b"1", Kind.NONKEY, CATALOG)
        assert ts1 > ts0 and node.watermark >= ts1
        assert node.get(b"k", ts1) == b"1"
        # a concurrent writer of the same row, started before ts1, loses (first committer wins)
        with pytest.raises(CommitConflict) as e:
            node.commit_one(ts0, b"k", b"2", Kind.NONKEY, CATALOG)
        assert e.value.sqlstate == "40001" and "OC000" in str(e.value)
        with pytest.raises(CommitConflict):
            node.commit(ts0, [(b"k", b"2")], [(b"k", Kind.FULL)])
        # the KEYSHARE claim on the catalog key conflicts with a FULL write of it (DDL)
        ts2 = node.commit(node.begin(), [(CATALOG, b"v2")], [(CATALOG, Kind.FULL)])
        with pytest.raises(CommitConflict):
            node.commit_one(ts1, b"other", b"x", Kind.NONKEY, CATALOG)
        ts3 = node.commit_one(ts2, b"other", b"x", Kind.NONKEY, CATALOG)
        assert node.get(b"other", ts3) == b"x"
        with pytest.raises(TypeError):
            node.commit_one(ts3, "not bytes", b"x", Kind.NONKEY, CATALOG)  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            node.commit_one(ts3, b"k", b"x", 7, CATALOG)
        assert node._sequencer.in_flight() == 0
    with Node.open(tmp_path / "db") as again:  # durable
        ts = again.begin()
        assert again.get(b"k", ts) == b"1" and again.get(b"other", ts) == b"x"


def test_a_durable_commit_storage_refuses_stops_the_node(tmp_path: Path) -> None:
    """A key the adjudicator and journal take but storage does not (over storage's key limit):
    durable, not applied, so the node refuses further work and the watermark never passes it."""
    with Node.open(tmp_path / "db") as node:
        big = b"x" * (_kernels.storage.MAX_KEY_BYTES + 1)
        ts = node.begin()
        with pytest.raises(NodeFailed, match="durable but could not be applied"):
            node.commit_one(ts, big, b"v", Kind.NONKEY, CATALOG)
        assert node._sequencer.in_flight() == 1
        with pytest.raises(NodeFailed):
            node.begin()
        with pytest.raises(NodeFailed):
            node.commit(ts, [(b"a", b"1")], [(b"a", Kind.FULL)])


def test_concurrent_commit_one_share_the_journal(tmp_path: Path) -> None:
    with Node.open(tmp_path / "db") as node:
        errors: list[BaseException] = []

        def worker(i: int) -> None:
            try:
                for n in range(40):
                    key = f"k{i}".encode()
                    node.commit_one(node.begin(), key, str(n).encode(), Kind.NONKEY, CATALOG)
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        ts = node.begin()
        assert [node.get(f"k{i}".encode(), ts) for i in range(4)] == [b"39"] * 4
        assert node._sequencer.in_flight() == 0
        assert node.journal.stats().appends == 160


def test_a_failed_journal_append_is_not_acknowledged(tmp_path: Path) -> None:
    """The journal fails (here: closed under the node): commit_one raises JournalError, the
    commit leaves the in-flight set and is never visible; the node stays usable for reads."""
    from dsql.journal import JournalError

    with Node.open(tmp_path / "db") as node:
        ts0 = node.commit_one(node.begin(), b"k", b"1", Kind.NONKEY, CATALOG)
        node.journal.close()
        with pytest.raises(JournalError):
            node.commit_one(ts0, b"k", b"2", Kind.NONKEY, CATALOG)
        with pytest.raises(JournalError):
            node.commit(ts0, [(b"j", b"2")], [(b"j", Kind.FULL)])
        assert node._sequencer.in_flight() == 0
        ts = node.begin()
        assert node.get(b"k", ts) == b"1" and node.get(b"j", ts) is None
