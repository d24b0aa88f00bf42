"""The multi-version store: an ordered byte-string key-value store read as of a timestamp.

    >>> from dsql.storage.store import MvccStore
    >>> s = MvccStore()
    >>> s.apply(10, [(b"a", b"1"), (b"b", b"2")])      # one transaction, commit_ts 10
    >>> s.apply(20, [(b"a", None)])                    # delete a at 20
    >>> s.advance_watermark(20)                        # everything <= 20 is applied
    >>> s.get(b"a", 15), s.get(b"a", 20)
    (b'1', None)
    >>> s.scan(b"", b"", 20, 100)                      # ([(key, value), ...], resume)
    ([(b'b', b'2')], None)

Keys order bytewise. ``apply(commit_ts, writes)`` requires commit_ts above the watermark; commits
may arrive in any order above it. A read at ts waits (GIL released) until the watermark reaches
ts, up to ``read_wait_timeout_ns``, then raises WatermarkTimeout; a read below the GC horizon
raises SnapshotTooOld. Batch methods take and return lists and cross into C++ once per batch.
``ShardMap`` is the same interface over range shards, plus ``split``. The C++ side is
cpp/storage/mvcc_store.h; the checkpoint format is docs/checkpoint-format.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from dsql._core import _kernels, storeread

__all__ = [
    "CheckpointError",
    "CheckpointInfo",
    "GcResult",
    "MvccStore",
    "Row",
    "ShardMap",
    "SnapshotTooOld",
    "StorageError",
    "StoreStats",
    "WatermarkTimeout",
    "Write",
]

_storage = _kernels.storage

StorageError = _storage.StorageError  # base class; a dsql.errors.DsqlError
WatermarkTimeout = _storage.WatermarkTimeout  # SQLSTATE 57014
SnapshotTooOld = _storage.SnapshotTooOld  # SQLSTATE 72000
CheckpointError = _storage.CheckpointError  # SQLSTATE XX001

MAX_KEY_BYTES: int = _storage.MAX_KEY_BYTES
MAX_VALUE_BYTES: int = _storage.MAX_VALUE_BYTES
DEFAULT_READ_WAIT_TIMEOUT_NS = 10_000_000_000

Write = tuple[bytes, bytes | None]  # (key, value); None is a tombstone (delete)
Row = tuple[bytes, bytes]
ScanBatch = tuple[list[Row], bytes | None]


@dataclass(frozen=True)
class StoreStats:
    """Sizes of a store. live_bytes counts key bytes once per key and value bytes per version;
    allocated_bytes is what the store holds from the allocator (arena blocks and index)."""

    keys: int
    versions: int
    live_bytes: int
    allocated_bytes: int
    arena_used_bytes: int
    index_bytes: int
    watermark: int
    horizon: int
    generation: int

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StoreStats:
        return cls(**d)


@dataclass(frozen=True)
class GcResult:
    rebuilt: bool
    keys_dropped: int
    versions_dropped: int
    allocated_bytes_before: int
    allocated_bytes_after: int


@dataclass(frozen=True)
class CheckpointInfo:
    ts: int
    records: int
    blocks: int
    file_bytes: int


def _scan_all(scan: Callable[..., ScanBatch], lo: bytes, hi: bytes, ts: int, batch: int,
              reverse: bool) -> Iterator[Row]:
    while True:
        rows, resume = scan(lo, hi, ts, batch, reverse)
        yield from rows
        if resume is None:
            return
        if reverse:
            hi = resume
        else:
            lo = resume


class MvccStore:
    """One multi-version store (see the module docstring).

    The hot methods are the C++ ones, bound directly (no Python frame per call):
    get(key, ts), get_many(keys, ts), scan(lo, hi, ts, limit, reverse=False),
    apply(commit_ts, writes), advance_watermark(ts).
    """

    get: Callable[[bytes, int], bytes | None]
    get_many: Callable[[list[bytes], int], list[bytes | None]]
    scan: Callable[..., ScanBatch]
    apply: Callable[[int, list[Write]], None]
    advance_watermark: Callable[[int], None]

    def __init__(self, *, initial_watermark: int = 0,
                 read_wait_timeout_ns: int = DEFAULT_READ_WAIT_TIMEOUT_NS) -> None:
        if read_wait_timeout_ns < 0:
            raise ValueError("read_wait_timeout_ns must be >= 0")
        self._impl = _storage.MvccStore(initial_watermark, read_wait_timeout_ns)
        self.get = storeread.StoreGetter(self._impl).get
        self.get_many = self._impl.get_many
        self.scan = self._impl.scan
        self.apply = self._impl.apply
        self.advance_watermark = self._impl.advance_watermark

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike[str], *,
                        read_wait_timeout_ns: int = DEFAULT_READ_WAIT_TIMEOUT_NS) -> MvccStore:
        """A new store loaded from a checkpoint; its watermark and horizon are the image's ts."""
        store = cls(initial_watermark=-(2**63), read_wait_timeout_ns=read_wait_timeout_ns)
        store.load(path)
        return store

    @property
    def watermark(self) -> int:
        """Every commit at or before this timestamp has been applied."""
        return int(self._impl.watermark)

    @property
    def horizon(self) -> int:
        """Reads below this timestamp are refused (SnapshotTooOld)."""
        return int(self._impl.horizon)

    @property
    def read_wait_timeout_ns(self) -> int:
        return int(self._impl.read_wait_timeout_ns)

    @read_wait_timeout_ns.setter
    def read_wait_timeout_ns(self, value: int) -> None:
        self._impl.read_wait_timeout_ns = value

    def scan_all(self, lo: bytes, hi: bytes, ts: int, *, batch: int = 1024,
                 reverse: bool = False) -> Iterator[Row]:
        """Every row of [lo, hi) as of ts, fetched `batch` rows per C++ call."""
        return _scan_all(self._impl.scan, lo, hi, ts, batch, reverse)

    def gc(self, horizon: int) -> GcResult:
        """Drop versions no read at or after `horizon` (<= watermark) can see; reclaim memory."""
        return GcResult(**self._impl.gc(horizon))

    def stats(self) -> StoreStats:
        return StoreStats.from_dict(self._impl.stats())

    def checkpoint(self, path: str | os.PathLike[str], ts: int) -> CheckpointInfo:
        """Write the image as of ts to `path` atomically (temp file, fsync, rename)."""
        return CheckpointInfo(**self._impl.checkpoint(path, ts))

    def load(self, path: str | os.PathLike[str]) -> CheckpointInfo:
        """Load a checkpoint into this empty store; a bad file raises CheckpointError and leaves
        the store untouched."""
        return CheckpointInfo(**self._impl.load(path))


class ShardMap:
    """Range shards of MvccStores behind the same read and write interface, plus split()."""

    get: Callable[[bytes, int], bytes | None]
    get_many: Callable[[list[bytes], int], list[bytes | None]]
    scan: Callable[..., ScanBatch]
    apply: Callable[[int, list[Write]], None]
    advance_watermark: Callable[[int], None]

    def __init__(self, *, initial_watermark: int = 0,
                 read_wait_timeout_ns: int = DEFAULT_READ_WAIT_TIMEOUT_NS) -> None:
        if read_wait_timeout_ns < 0:
            raise ValueError("read_wait_timeout_ns must be >= 0")
        self._impl = _storage.ShardMap(initial_watermark, read_wait_timeout_ns)
        self.get = storeread.MapGetter(self._impl).get
        self.get_many = self._impl.get_many
        self.scan = self._impl.scan
        self.apply = self._impl.apply
        self.advance_watermark = self._impl.advance_watermark

    @property
    def watermark(self) -> int:
        return int(self._impl.watermark)

    def wait_for_watermark(self, ts: int, timeout_ns: int) -> bool:
        """Waits (GIL released) until the watermark reaches ts; False after timeout_ns."""
        return bool(self._impl.wait_for_watermark(ts, timeout_ns))

    @property
    def horizon(self) -> int:
        return int(self._impl.horizon)

    @property
    def shard_count(self) -> int:
        return int(self._impl.shard_count)

    def lower_bounds(self) -> list[bytes]:
        """The first key of each shard, in order; the first is b''."""
        return list(self._impl.lower_bounds())

    def route(self, key: bytes) -> int:
        """The index of the shard that owns `key`."""
        return int(self._impl.route(key))

    def split(self, at_key: bytes) -> int:
        """Move everything >= at_key out of its shard into a new one; returns its index."""
        return int(self._impl.split(at_key))

    def checkpoint_shard(self, index: int, path: str | os.PathLike[str], ts: int
                         ) -> CheckpointInfo:
        """Write shard `index` as of ts to `path` atomically (see MvccStore.checkpoint)."""
        return CheckpointInfo(**self._impl.checkpoint_shard(index, path, ts))

    @classmethod
    def from_checkpoints(cls, shards: Sequence[tuple[bytes, str | os.PathLike[str]]], *,
                         read_wait_timeout_ns: int = DEFAULT_READ_WAIT_TIMEOUT_NS) -> ShardMap:
        """A map whose shards are loaded from [(lower bound, checkpoint file)], in key order;
        all files must hold the same ts, which becomes the watermark. A bad file raises
        CheckpointError."""
        m = cls(initial_watermark=-(2**63), read_wait_timeout_ns=read_wait_timeout_ns)
        m._impl.load_shards([(lower, os.fspath(path)) for lower, path in shards])
        return m

    def scan_all(self, lo: bytes, hi: bytes, ts: int, *, batch: int = 1024,
                 reverse: bool = False) -> Iterator[Row]:
        return _scan_all(self._impl.scan, lo, hi, ts, batch, reverse)

    def gc(self, horizon: int) -> GcResult:
        return GcResult(**self._impl.gc(horizon))

    def stats(self) -> StoreStats:
        return StoreStats.from_dict(self._impl.stats())

    def shard_stats(self) -> list[StoreStats]:
        return [StoreStats.from_dict(d) for d in self._impl.shard_stats()]
