"""The store's Python API: argument checking, error classes, statistics and GC memory.

Goal: misuse gets a clear TypeError/ValueError and leaves the store unchanged; data and timing
problems raise dsql.errors.DsqlError subclasses with a SQLSTATE; stats() counts what is stored;
gc() really returns memory and a 100-byte row costs at most twice its raw size. Method: direct
calls with bad arguments, then a store loaded with many versions of 100-byte rows, collected.
"""

from __future__ import annotations

import pytest

from dsql.errors import DsqlError
from dsql.storage.store import (
    MAX_KEY_BYTES,
    MvccStore,
    ShardMap,
    SnapshotTooOld,
    StorageError,
    WatermarkTimeout,
)


@pytest.mark.parametrize("kind", [MvccStore, ShardMap])
def test_misuse_is_refused_without_effect(kind: type[MvccStore] | type[ShardMap]) -> None:
    store = kind()
    store.apply(5, [(b"a", b"1")])
    store.advance_watermark(5)
    with pytest.raises(ValueError, match="not above the watermark"):
        store.apply(5, [(b"b", b"2")])
    with pytest.raises(TypeError, match=r"write key\[1\] must be bytes"):
        store.apply(6, [(b"b", b"2"), ("c", b"3")])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"writes\[0\] must be a \(key, value\) tuple"):
        store.apply(6, [[b"b", b"2"]])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="writes must be a list"):
        store.apply(6, {b"b": b"2"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="key of"):
        store.apply(6, [(b"ok", b"1"), (b"k" * (MAX_KEY_BYTES + 1), b"v")])
    store.advance_watermark(6)
    assert store.get_many([b"b", b"ok"], 6) == [None, None]  # nothing of the refused writes
    with pytest.raises(TypeError, match=r"keys\[1\] must be bytes"):
        store.get_many([b"a", "b"], 5)  # type: ignore[list-item]
    with pytest.raises(TypeError):
        store.get("a", 5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="limit must be >= 1"):
        store.scan(b"", b"", 5, 0)
    with pytest.raises(ValueError, match="above the watermark"):
        store.gc(7)
    with pytest.raises(ValueError):
        kind(read_wait_timeout_ns=-1)
    assert store.get(b"a", 6) == b"1"


def test_error_classes_carry_sqlstates() -> None:
    for cls, state in ((StorageError, "XX000"), (WatermarkTimeout, "57014"),
                       (SnapshotTooOld, "72000")):
        assert issubclass(cls, DsqlError) and cls.sqlstate == state
    assert issubclass(WatermarkTimeout, StorageError) and issubclass(SnapshotTooOld, StorageError)
    store = MvccStore()
    store.apply(1, [(b"k", b"v")])
    store.advance_watermark(10)
    store.gc(10)
    with pytest.raises(SnapshotTooOld, match="ts 9 is below the GC horizon 10") as raised:
        store.get(b"k", 9)
    assert raised.value.sqlstate == "72000"


def test_empty_values_keys_and_bounds() -> None:
    store = MvccStore()
    store.apply(1, [(b"", b"empty key"), (b"e", b""), (b"\xff\xff", b"high")])
    store.advance_watermark(1)
    assert store.get(b"", 1) == b"empty key"
    assert store.get(b"e", 1) == b""  # an empty value is present, not absent
    assert store.scan(b"", b"", 1, 10) == ([(b"", b"empty key"), (b"e", b""),
                                            (b"\xff\xff", b"high")], None)
    assert store.scan(b"e", b"e", 1, 10) == ([], None)
    assert store.scan(b"f", b"a", 1, 10) == ([], None)
    assert store.scan(b"", b"", 1, 2, True) == ([(b"\xff\xff", b"high"), (b"e", b"")], b"e")
    assert store.scan(b"", b"e", 1, 2, True) == ([(b"", b"empty key")], None)


def test_stats_gc_reclaims_and_memory_per_row() -> None:
    store = MvccStore()
    rows = 20_000
    value = b"v" * 84
    for version in range(5):
        for base in range(0, rows, 2000):
            ts = version * 100 + base // 2000 + 1
            store.apply(ts, [(b"%016d" % k, value) for k in range(base, base + 2000)])
    store.apply(1000, [(b"%016d" % k, None) for k in range(0, rows, 10)])  # delete 10%
    store.advance_watermark(1000)
    before = store.stats()
    assert before.keys == rows and before.versions == 5 * rows + rows // 10
    assert before.live_bytes == rows * 16 + 5 * rows * 84
    result = store.gc(1000)
    after = store.stats()
    assert result.rebuilt and result.versions_dropped == before.versions - after.versions
    assert after.keys == after.versions == rows - rows // 10
    assert after.allocated_bytes < before.allocated_bytes / 4
    assert after.allocated_bytes <= 2 * 100 * after.keys  # the <= 2x raw bytes target
    assert after.generation == before.generation + 1
    assert store.get(b"%016d" % 1, 1000) == value and store.get(b"%016d" % 10, 1000) is None


def test_shard_map_routing() -> None:
    shards = ShardMap()
    assert shards.shard_count == 1 and shards.lower_bounds() == [b""]
    assert shards.split(b"m") == 1
    assert shards.route(b"a") == 0 and shards.route(b"m") == 1 and shards.route(b"z") == 1
    with pytest.raises(ValueError, match="already a shard boundary"):
        shards.split(b"m")
    with pytest.raises(ValueError, match="must not be empty"):
        shards.split(b"")
    shards.apply(3, [(b"a", b"1"), (b"q", b"2")])
    shards.advance_watermark(3)
    assert [s.keys for s in shards.shard_stats()] == [1, 1]
    assert shards.scan(b"", b"", 3, 1) == ([(b"a", b"1")], b"q")
