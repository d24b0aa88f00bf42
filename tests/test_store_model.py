"""The C++ store and shard map against a plain Python reference model.

Goal: MvccStore and ShardMap answer every read exactly like RefStore (tests/store_reference.py)
under any sequence of operations, and report the same key and version counts. Method: a
hypothesis state machine that builds transactions with unique commit timestamps, applies them
in random order above the watermark, advances the watermark (also with stale values), reads
with get / get_many / scans (forward and reverse, small limits, following resume keys, checking
every batch), deletes, collects garbage, splits shards, reads below the horizon, and replaces
the store by a checkpoint of itself plus a replay of the later commits (as recovery would).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from dsql.storage.store import MvccStore, ShardMap, SnapshotTooOld
from store_reference import RefStore

KEYS = st.lists(st.sampled_from([0x00, 0x01, 0x61, 0x7F, 0x80, 0xFF]), max_size=3).map(bytes)
VALUES = st.one_of(st.none(), st.binary(max_size=6))


def scan_batches(store: MvccStore | ShardMap, lo: bytes, hi: bytes, ts: int, limit: int,
                 reverse: bool, expect: list[tuple[bytes, bytes]]) -> None:
    """Follows resume keys to the end; every batch must be the next `limit` expected rows, and
    resume must be None exactly when nothing is left."""
    got: list[tuple[bytes, bytes]] = []
    for _ in range(len(expect) + 2):
        rows, resume = store.scan(lo, hi, ts, limit, reverse)
        want = expect[len(got):len(got) + limit]
        assert rows == want, (lo, hi, ts, limit, reverse)
        got += rows
        if resume is None:
            break
        if reverse:
            hi = resume
        else:
            lo = resume
    assert got == expect
    assert resume is None


class StoreMachine(RuleBasedStateMachine):
    @initialize(first=st.lists(st.dictionaries(KEYS, VALUES, min_size=1, max_size=5),
                               min_size=1, max_size=8),
                data=st.data())
    def setup(self, first: list[dict[bytes, bytes | None]], data: st.DataObject) -> None:
        self.store = MvccStore(read_wait_timeout_ns=0)
        self.shards = ShardMap(read_wait_timeout_ns=0)
        self.m_store = RefStore()  # the model of self.store
        self.m_map = RefStore()  # the model of self.shards (no checkpoint replacement)
        self.pending: dict[int, list[tuple[bytes, bytes | None]]] = {}
        self.applied: list[tuple[int, list[tuple[bytes, bytes | None]]]] = []
        self.next_ts = 1
        self.tmp = Path(tempfile.mkdtemp(prefix="dsql-store-model-"))
        for writes in first:  # start from a populated store, applied in a random order
            self.new_transaction(writes, 1)
        self.catch_up(data)

    def teardown(self) -> None:
        shutil.rmtree(getattr(self, "tmp", "/nonexistent"), ignore_errors=True)

    # ---- writes ------------------------------------------------------------------------------
    @rule(writes=st.dictionaries(KEYS, VALUES, min_size=1, max_size=4), gap=st.integers(1, 3))
    def new_transaction(self, writes: dict[bytes, bytes | None], gap: int) -> None:
        self.pending[self.next_ts] = list(writes.items())
        self.next_ts += gap

    @precondition(lambda self: self.pending)
    @rule(data=st.data())
    def apply_one(self, data: st.DataObject) -> None:
        self._apply(data.draw(st.sampled_from(sorted(self.pending))))

    def _apply(self, ts: int) -> None:
        writes = self.pending.pop(ts)
        self.store.apply(ts, writes)
        self.shards.apply(ts, writes)
        self.m_store.apply(ts, writes)
        self.m_map.apply(ts, writes)
        self.applied.append((ts, writes))

    def _advance(self, target: int) -> None:
        for s in (self.store, self.shards):
            s.advance_watermark(target)  # a stale target is ignored
        self.m_store.advance_watermark(target)
        self.m_map.advance_watermark(target)

    @rule(data=st.data())
    def advance_watermark(self, data: st.DataObject) -> None:
        limit = min(self.pending) - 1 if self.pending else self.next_ts - 1
        wm = self.m_store.watermark
        if limit < wm:
            return
        self._advance(data.draw(st.one_of(st.just(limit), st.integers(wm - 2, limit))))

    @rule(data=st.data())
    def catch_up(self, data: st.DataObject) -> None:
        """Applies everything pending, in a random order, and advances past it."""
        order = data.draw(st.permutations(sorted(self.pending)))
        for ts in order:
            self._apply(ts)
        self._advance(self.next_ts - 1)

    @rule(data=st.data())
    def gc(self, data: st.DataObject) -> None:
        h = data.draw(st.integers(0, self.m_store.watermark))
        self.store.gc(h)
        self.shards.gc(h)
        self.m_store.gc(h)
        self.m_map.gc(h)

    @rule(at=KEYS.filter(bool))
    def split(self, at: bytes) -> None:
        if at in self.shards.lower_bounds():
            with pytest.raises(ValueError):
                self.shards.split(at)
            return
        index = self.shards.split(at)
        assert self.shards.lower_bounds()[index] == at
        assert self.shards.route(at) == index

    @rule(data=st.data())
    def checkpoint_and_recover(self, data: st.DataObject) -> None:
        ts = data.draw(self._readable_ts(self.m_store))
        path = self.tmp / "store.ckpt"
        info = self.store.checkpoint(path, ts)
        fresh = MvccStore.from_checkpoint(path, read_wait_timeout_ns=0)
        assert fresh.watermark == ts == info.ts
        model = self.m_store.image(ts)
        assert info.records == len(model.versions)
        for commit_ts, writes in self.applied:  # the journal replay of later commits
            if commit_ts > ts:
                fresh.apply(commit_ts, writes)
                model.apply(commit_ts, writes)
        fresh.advance_watermark(self.m_store.watermark)
        model.advance_watermark(self.m_store.watermark)
        self.store, self.m_store = fresh, model

    # ---- reads -------------------------------------------------------------------------------
    @staticmethod
    def _readable_ts(model: RefStore) -> st.SearchStrategy[int]:
        low = model.horizon if model.horizon is not None else 0
        return st.one_of(st.just(model.watermark), st.integers(low, model.watermark))

    def _has_rows(self) -> bool:
        return bool(self.m_map.versions)

    @precondition(_has_rows)
    @rule(keys=st.lists(KEYS, max_size=6), data=st.data())
    def point_reads(self, keys: list[bytes], data: st.DataObject) -> None:
        for store, model in ((self.store, self.m_store), (self.shards, self.m_map)):
            ts = data.draw(self._readable_ts(model))
            expect = [model.get(k, ts) for k in keys]
            assert store.get_many(keys, ts) == expect
            assert [store.get(k, ts) for k in keys] == expect

    def _bound(self, data: st.DataObject) -> bytes:
        """A scan bound: often a key the stores hold, so that bound edges are exercised."""
        known = sorted(self.m_map.versions)
        choice = data.draw(st.integers(0, 3))
        if known and choice <= 1:
            return data.draw(st.sampled_from(known))
        return b"" if choice == 2 else data.draw(KEYS)

    @precondition(_has_rows)
    @rule(limit=st.integers(1, 4), reverse=st.booleans(), data=st.data())
    def scans(self, limit: int, reverse: bool, data: st.DataObject) -> None:
        lo = self._bound(data)
        hi = self._bound(data)
        for store, model in ((self.store, self.m_store), (self.shards, self.m_map)):
            ts = data.draw(self._readable_ts(model))
            expect = model.rows(lo, hi, ts)
            if reverse:
                expect.reverse()
            scan_batches(store, lo, hi, ts, limit, reverse, expect)

    @rule()
    def read_below_horizon(self) -> None:
        for store, model in ((self.store, self.m_store), (self.shards, self.m_map)):
            if model.horizon is None or model.horizon <= 0:
                continue
            with pytest.raises(SnapshotTooOld):
                store.get(b"a", model.horizon - 1)
            with pytest.raises(SnapshotTooOld):
                store.scan(b"", b"", model.horizon - 1, 5)

    # ---- invariants --------------------------------------------------------------------------
    @invariant()
    def counts_and_watermarks(self) -> None:
        if not hasattr(self, "store"):
            return
        for store, model in ((self.store, self.m_store), (self.shards, self.m_map)):
            stats = store.stats()
            assert (stats.keys, stats.versions) == model.counts()
            assert store.watermark == model.watermark
            assert stats.allocated_bytes >= stats.arena_used_bytes
        bounds = self.shards.lower_bounds()
        assert bounds[0] == b"" and bounds == sorted(set(bounds))


StoreMachine.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestStoreMachine = StoreMachine.TestCase
