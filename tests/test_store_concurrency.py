"""Concurrent readers against one applier, from Python, and the watermark wait.

Goal: Python threads reading at fixed snapshots see exactly the reference answer at their
snapshot while another thread applies commits out of order, advances the watermark and collects
garbage; a read above the watermark waits (with the GIL released) until the watermark catches up,
and otherwise fails with WatermarkTimeout. Method: a precomputed history and its RefStore; one
applier thread, three reader threads (some reading just above the watermark, so they wait); each
snapshot is checked with get, get_many and a resumed scan, then re-checked after more applies.
"""

from __future__ import annotations

import random
import threading
import time

import pytest

from dsql.errors import DsqlError
from dsql.storage.store import MvccStore, ShardMap, SnapshotTooOld, WatermarkTimeout
from store_reference import RefStore

Txn = tuple[int, list[tuple[bytes, bytes | None]]]


def _history(n: int, key_space: int, seed: int) -> list[Txn]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        ts = 10 * (i + 1)
        writes = {}
        for _ in range(rng.randint(1, 5)):
            key = b"k%05d" % rng.randrange(key_space)
            writes[key] = None if rng.random() < 0.2 else b"v%d" % ts
        out.append((ts, list(writes.items())))
    return out


@pytest.mark.parametrize("kind", [MvccStore, ShardMap])
def test_readers_at_fixed_snapshots_while_applying(kind: type[MvccStore] | type[ShardMap]) -> None:
    key_space = 2000
    history = _history(1500, key_space, seed=11)
    model = RefStore()
    for ts, writes in history:
        model.apply(ts, writes)
    store = kind(read_wait_timeout_ns=5_000_000_000)
    done = threading.Event()
    failures: list[str] = []
    checks = [0]

    def applier() -> None:
        rng = random.Random(1)
        try:
            for base in range(0, len(history), 8):
                window = history[base:base + 8]
                for ts, writes in rng.sample(window, len(window)):
                    store.apply(ts, writes)
                store.advance_watermark(window[-1][0])
                if base % 400 == 392:
                    store.gc(store.watermark - 500)
                if isinstance(store, ShardMap) and base % 240 == 0:
                    at = b"k%05d" % rng.randrange(key_space)
                    if at not in store.lower_bounds():
                        store.split(at)
                time.sleep(0)
        finally:
            done.set()

    def reader(seed: int) -> None:
        rng = random.Random(seed)
        while not done.is_set():
            wm = store.watermark
            ts = wm - rng.randrange(300)
            if rng.random() < 0.1:
                ts = min(history[-1][0], wm + 1 + rng.randrange(40))  # waits for the applier
            keys = [b"k%05d" % rng.randrange(key_space) for _ in range(20)]
            lo = b"k%05d" % rng.randrange(key_space)
            hi = b"k%05d" % (int(lo[1:]) + 1 + rng.randrange(50))
            try:
                first = store.get(keys[0], ts)
                got = store.get_many(keys, ts)
                rows: list[tuple[bytes, bytes]] = []
                cur = lo
                while True:
                    batch, resume = store.scan(cur, hi, ts, 7)
                    rows += batch
                    if resume is None:
                        break
                    cur = resume
                again = store.get(keys[0], ts)
            except SnapshotTooOld:
                continue  # a GC passed this snapshot before it was read: allowed
            if got != [model.get(k, ts) for k in keys] or first != model.get(keys[0], ts):
                failures.append(f"point reads at {ts}")
            if rows != model.rows(lo, hi, ts):
                failures.append(f"scan [{lo!r}, {hi!r}) at {ts}")
            if again != first:
                failures.append(f"snapshot {ts} changed")
            checks[0] += 1

    threads = [threading.Thread(target=applier)] + [
        threading.Thread(target=reader, args=(s,)) for s in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not failures, failures[:5]
    assert checks[0] > 50
    final = history[-1][0]
    assert store.get_many([b"k%05d" % k for k in range(key_space)], final) == [
        model.get(b"k%05d" % k, final) for k in range(key_space)
    ]


@pytest.mark.parametrize("kind", [MvccStore, ShardMap])
def test_read_waits_for_watermark_with_gil_released(kind: type[MvccStore] | type[ShardMap]) -> None:
    store = kind(read_wait_timeout_ns=5_000_000_000)
    store.apply(100, [(b"k", b"v")])
    ticks = [0]
    stop = threading.Event()

    def ticker() -> None:  # makes progress only if the waiting reader released the GIL
        while not stop.is_set():
            ticks[0] += 1
            time.sleep(0.001)

    def advance_later() -> None:
        time.sleep(0.2)
        store.advance_watermark(100)

    threads = [threading.Thread(target=ticker), threading.Thread(target=advance_later)]
    for t in threads:
        t.start()
    start = time.monotonic()
    assert store.get(b"k", 100) == b"v"
    waited = time.monotonic() - start
    stop.set()
    for t in threads:
        t.join()
    assert waited >= 0.15
    assert ticks[0] >= 20


@pytest.mark.parametrize("kind", [MvccStore, ShardMap])
def test_read_wait_times_out(kind: type[MvccStore] | type[ShardMap]) -> None:
    store = kind(read_wait_timeout_ns=50_000_000)
    store.apply(5, [(b"k", b"v")])
    store.advance_watermark(4)
    for read in (lambda: store.get(b"k", 5), lambda: store.get_many([b"k"], 5),
                 lambda: store.scan(b"", b"", 5, 10)):
        start = time.monotonic()
        with pytest.raises(WatermarkTimeout, match="ts 5 timed out .* watermark, which is still 4"):
            read()
        assert time.monotonic() - start >= 0.04
    err = pytest.raises(WatermarkTimeout, store.get, b"k", 5).value
    assert isinstance(err, DsqlError) and err.sqlstate == "57014"
    store.advance_watermark(5)
    assert store.get(b"k", 5) == b"v"
