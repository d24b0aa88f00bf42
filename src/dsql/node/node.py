"""A node: every kernel of the commit path over one data directory.

    node = Node.open("/var/lib/dsql")           # or ":memory:" for a throwaway one
    ts = node.begin()                           # a snapshot: every acknowledged commit is in it
    node.get(b"k", ts)
    commit_ts = node.commit(ts, writes=[(b"k", b"v")], claims=[(b"k", Kind.FULL)])

The path of a commit: the adjudicator decides (conflict -> 40001 OC000, else a commit ts), the
journal makes the record durable (group commit with concurrent committers), the crossbar applies
it to the storage shards, and the storage watermark advances past it once nothing older is in
flight. A commit is acknowledged (commit() returns) only after its record is durable.

Opening a data directory recovers it: the newest checkpoint that loads is read into storage,
the journal is recovered (torn or corrupt tail cut) and replayed from the checkpoint's replay
point, skipping what the checkpoint already holds; the clock then observes the newest commit and
the promise horizon so that later timestamps order after everything recovered and after every
snapshot that may have been served.

The promise horizon: making a snapshot τ readable promises that nothing will ever commit at or
below τ. That promise must outlive a crash even when the clock steps back across the restart,
so before the node promises past its horizon H it durably writes a new H = τ + HORIZON_LEASE_NS
(one small fsync per lease of progress, not per transaction), and opening observes H.

With one in-process adjudicator (the embedded default) a commit crosses into C++ once: the
kernel commit path (cpp/node/commit_path.h) decides under the kernel sequencer
(cpp/node/sequencer.h, whose reference model is dsql.node.sequencer), appends, applies and
advances the watermark with the GIL released. With sharded adjudicators the same steps run
from Python (the vote is the sharded adjudicator's), over the same kernel sequencer.

Thread-safety: begin, commit, the reads and checkpoint may be called from any number of
threads; the adjudicator and sequencer serialise decisions, the journal batches fsyncs.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dsql import adjudicator as _adj
from dsql import clock as dclock
from dsql._core import _kernels
from dsql.adjudicator import Adjudicator, AdjudicatorConfig, Kind, Result, ShardedAdjudicator
from dsql.adjudicator import _result as adjudicator_result
from dsql.errors import DsqlError
from dsql.journal import Journal, RecoveryReport
from dsql.node.crossbar import Crossbar, ReplayReport, Write
from dsql.node.datadir import (
    DataDirectory,
    DataDirectoryError,
    Manifest,
    ShardFile,
    fsync_dir,
    write_durably,
)
from dsql.storage.store import CheckpointError, ShardMap

log = logging.getLogger("dsql.node")

Claim = tuple[bytes, Kind]
MEMORY = ":memory:"
HORIZON_LEASE_NS = 1_000_000_000  # how far past a promised snapshot the durable horizon is set
VISIBLE_WAIT_NS = 10_000_000_000  # a commit waits this long at most for earlier ones to apply
_KEYSHARE = Kind.KEYSHARE
_ApplyFailed = _kernels.node.ApplyFailed


class NodeClosed(DsqlError):
    sqlstate = "57P01"  # admin_shutdown


class NodeFailed(DsqlError):
    """A durable commit could not be applied to storage: storage no longer matches the journal,
    so the node refuses further work; reopening the data directory recovers it."""

    sqlstate = "XX000"  # internal_error


@dataclass(frozen=True)
class NodeOptions:
    """How a node runs. The defaults are the embedded database's."""

    durability: str = "fdatasync"  # or "unsafe-no-sync" (tests, benchmarks: loses commits)
    storage_splits: tuple[bytes, ...] = ()  # first keys of storage shards 2..n
    adjudicator_splits: tuple[bytes, ...] = ()  # first keys of adjudicator shards 2..n
    adjudicator: AdjudicatorConfig = field(default_factory=AdjudicatorConfig)
    # Segments are zero-filled ahead of use (a commit's fdatasync then flushes data only); the
    # active segment and one spare are on disk at full size, so keep them moderate.
    journal_segment_bytes: int = 16 << 20
    journal_record_bytes_max: int = 32 << 20  # the largest transaction's journal record
    read_wait_timeout_ns: int = 10_000_000_000
    checkpoints_kept: int = 2


@dataclass(frozen=True)
class OpenReport:
    """What opening the data directory found."""

    checkpoint_ts: int | None
    checkpoints_refused: tuple[str, ...]
    journal: RecoveryReport
    replay: ReplayReport


class Node:
    def __init__(self, *, datadir: DataDirectory, clock: dclock.Clock, options: NodeOptions,
                 storage: ShardMap, journal: Journal, report: OpenReport,
                 temporary: bool) -> None:
        self.datadir = datadir
        self.clock = clock
        self.options = options
        self.storage = storage
        self.journal = journal
        self.open_report = report
        self._temporary = temporary
        self._crossbar = Crossbar(storage)
        watermark = storage.watermark
        kernel_journal = journal._j  # the C++ journal (no wrapper call on the commit path)
        self._append = kernel_journal.append
        if options.adjudicator_splits:
            sharded = ShardedAdjudicator(list(options.adjudicator_splits), clock,
                                         options.adjudicator)
            self._adjudicator: Adjudicator | ShardedAdjudicator = sharded
            self._adjudicate = sharded.commit
        else:
            single = Adjudicator(clock, options.adjudicator)
            self._adjudicator = single
            self._adjudicate = single.adjudicate
        self._adjudicator.promise_through(watermark)
        core = self._adjudicator.core
        self._core = core
        self._sequencer = _kernels.node.Sequencer.for_kernels(watermark, kernel_journal, core)
        # One crossing per commit when the adjudicator is in process and single.
        self._commit_path = None if options.adjudicator_splits else _kernels.node.CommitPath(
            core, self._sequencer, kernel_journal, storage._impl)
        self._commit_one = None if self._commit_path is None else \
            self._commit_path.bound_commit_one()
        self._checkpoint_lock = threading.Lock()
        self._horizon_lock = threading.Lock()
        self._horizon = datadir.read_horizon()
        self._lane: Any = None  # the server's transaction lane kernels (lane_kernels())
        self._closed = False
        self._failed: NodeFailed | None = None
        # Reads: straight to storage (they wait for the watermark themselves).
        self.get = storage.get
        self.get_many = storage.get_many
        self.scan = storage.scan
        self.scan_all = storage.scan_all

    # -- opening -------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike[str], options: NodeOptions | None = None, *,
             clock: dclock.Clock | None = None) -> Node:
        """Opens (creating when new) and recovers the data directory at `path`; ":memory:"
        makes a throwaway one in a temporary directory, removed on close."""
        opts = options or NodeOptions()
        temporary = str(path) == MEMORY
        if temporary:
            path = tempfile.mkdtemp(prefix="dsql-memory-")
            if opts.durability == "fdatasync":
                opts = NodeOptions(**{**opts.__dict__, "durability": "unsafe-no-sync"})
        datadir = DataDirectory.open(path)
        the_clock = clock or dclock.default()

        storage, manifest, refused = cls._load_newest_checkpoint(datadir, opts)
        journal = Journal(datadir.journal, durability=opts.durability,
                          segment_bytes=opts.journal_segment_bytes,
                          record_bytes_max=opts.journal_record_bytes_max)
        try:
            floor_ts = manifest.ts if manifest else 0
            replay_lsn = manifest.replay_lsn if manifest else journal.first_lsn
            if replay_lsn < journal.first_lsn:
                raise DataDirectoryError(
                    f"the journal in {datadir.journal} starts at lsn {journal.first_lsn}, but "
                    f"recovery needs it from lsn {replay_lsn} (no loadable checkpoint covers "
                    "the deleted segments)")
            replay = Crossbar(storage).replay(journal, replay_lsn, floor_ts)
            watermark = max(replay.max_commit_ts, storage.watermark)
            storage.advance_watermark(watermark)
            # Every later timestamp orders above what was recovered and above every snapshot
            # that may have been served before (the promise horizon).
            the_clock.observe(max(watermark, datadir.read_horizon()))
        except BaseException:
            journal.close()
            raise
        report = OpenReport(manifest.ts if manifest else None, tuple(refused),
                            journal.recovery, replay)
        if not journal.recovery.clean:
            log.warning("journal recovery cut a damaged tail: %s", journal.recovery)
        log.info("opened %s: checkpoint ts %s, %d journal records replayed, watermark %d",
                 datadir.root, report.checkpoint_ts, replay.records_applied, watermark)
        node = cls(datadir=datadir, clock=the_clock, options=opts, storage=storage,
                   journal=journal, report=report, temporary=temporary)
        if manifest and journal.durable_lsn + 1 < manifest.replay_lsn:
            # Recovery cut records the checkpoint already holds: new records would reuse their
            # lsns below the replay point, so move the replay point down now.
            node.checkpoint()
        return node

    @staticmethod
    def _new_storage(opts: NodeOptions, watermark: int) -> ShardMap:
        storage = ShardMap(initial_watermark=watermark,
                           read_wait_timeout_ns=opts.read_wait_timeout_ns)
        for split in opts.storage_splits:
            storage.split(split)
        return storage

    @classmethod
    def _load_newest_checkpoint(
        cls, datadir: DataDirectory, opts: NodeOptions
    ) -> tuple[ShardMap, Manifest | None, list[str]]:
        refused: list[str] = []
        for manifest in datadir.manifests():
            try:
                storage = ShardMap.from_checkpoints(
                    [(s.lower, str(manifest.path / s.file)) for s in manifest.shards],
                    read_wait_timeout_ns=opts.read_wait_timeout_ns)
            except (CheckpointError, ValueError, OSError) as e:
                log.warning("checkpoint %s refused: %s", manifest.path, e)
                refused.append(f"{manifest.path}: {e}")
                continue
            return storage, manifest, refused
        return cls._new_storage(opts, 0), None, refused

    def _check_open(self) -> None:
        if self._failed is not None:
            raise self._failed
        if self._closed:
            raise NodeClosed("the database is closed")

    # -- transactions --------------------------------------------------------------------------
    def begin(self) -> int:
        """A snapshot timestamp: above every commit acknowledged so far, made readable at once
        unless a commit at or below it is still in flight (reads then wait for it)."""
        self._check_open()
        ts = self.clock.timestamp()
        if ts > self._horizon:
            self._extend_horizon(ts)
        if self._sequencer.promise(ts):
            self.storage.advance_watermark(self._sequencer.watermark)
        return ts

    def heartbeat(self) -> int:
        """Advances the storage watermark while nobody writes: the adjudicators promise that
        nothing will commit at or below a fresh timestamp (unless a commit at or below it is in
        flight, which advances the watermark itself when applied). Returns the watermark. For
        components in other processes this runs on a timer; in-process, begin() does the same
        on demand, so no read ever waits for a tick."""
        self._check_open()
        ts = self.clock.timestamp()
        if ts > self._horizon:
            self._extend_horizon(ts)
        self._sequencer.promise(ts)
        self.storage.advance_watermark(self._sequencer.watermark)
        return self.storage.watermark

    def _extend_horizon(self, ts: int) -> None:
        """Durably moves the promise horizon past `ts` before anything promises `ts`."""
        with self._horizon_lock:
            if ts <= self._horizon:
                return
            horizon = ts + HORIZON_LEASE_NS
            self.datadir.write_horizon(horizon,
                                       durable=self.options.durability != "unsafe-no-sync")
            self._horizon = horizon
            if self._lane is not None:
                self._lane.set_horizon(horizon)

    def lane_kernels(self, first_rowid: int, share_key: bytes) -> Any:
        """The node's parts for the server's transaction lane (cpp/wire/txn_lane.h): BEGIN's
        snapshot under the same horizon rule as begin(), COMMIT through the same CommitPath.
        None when commits do not go through the one-call path (sharded adjudicators). Made
        once; hidden row ids then come from it, starting at `first_rowid`. `share_key` is the
        catalog key, which every lane commit claims KEYSHARE (as Transaction.commit does)."""
        with self._horizon_lock:
            if self._lane is None and self._commit_path is not None:
                lane = _kernels.wire.TxnKernels(self.clock.hybrid, self._sequencer,
                                                self._commit_path, self.storage._impl,
                                                share_key, first_rowid)
                lane.set_horizon(self._horizon)
                if self._failed is not None or self._closed:
                    lane.stop()
                self._lane = lane
            return self._lane

    def commit(self, start_ts: int, writes: Sequence[Write], claims: Sequence[Claim]) -> int:
        """Decides, journals and applies one transaction; returns its commit ts once durable.
        Raises CommitConflict (40001, OC000) and the adjudicator's other errors."""
        if self._failed is not None or self._closed:
            self._check_open()
        path = self._commit_path
        if path is not None:
            if type(writes) is not list and type(writes) is not tuple:
                writes = list(writes)
            try:
                r = path.commit(start_ts, writes, claims)
            except _ApplyFailed as e:
                raise self._apply_failed(e) from e
            return self._outcome(r, claims)
        def decide() -> tuple[Result, int | None]:
            result = self._adjudicate(start_ts, claims)
            return result, result.commit_ts if result.committed else None

        result = self._sequencer.decide(decide)
        result.raise_if_failed()
        commit_ts = result.commit_ts
        assert commit_ts is not None
        try:
            lsn = self._append(commit_ts, writes)
        except BaseException:
            # Never durable, so never acknowledged: it leaves the in-flight set so that readers
            # are not held back by it.
            self.storage.advance_watermark(self._sequencer.finish(commit_ts))
            raise
        # (The sequencer keeps durable_lsn + 1 at decision time as this commit's replay bound:
        # a valid lower bound on its lsn, so no second lock round-trip to tighten it.)
        del lsn
        try:
            self._crossbar.deliver(commit_ts, writes)
        except BaseException as e:
            # Durable but not in storage: the watermark must never pass it. Stop the node;
            # reopening replays the journal.
            raise self._apply_failed(
                f"commit at ts {commit_ts} is durable but could not be applied to storage: "
                f"{e}") from e
        self.storage.advance_watermark(self._sequencer.finish(commit_ts))
        # Acknowledged once visible at the watermark, as the kernel CommitPath does (an earlier
        # commit still being applied holds it below this one for a moment).
        if self.storage.watermark < commit_ts:
            self.storage.wait_for_watermark(commit_ts, VISIBLE_WAIT_NS)
        return commit_ts

    def commit_one(self, start_ts: int, key: bytes, value: bytes, kind: int,
                   share_key: bytes) -> int:
        """commit(start_ts, [(key, value)], [(key, kind), (share_key, KEYSHARE)]): one row's
        post-image, claimed with `kind`, under a KEYSHARE claim on `share_key` (the catalog
        key), without building the lists (the autocommit single-row UPDATE's commit)."""
        if self._failed is not None or self._closed:
            self._check_open()
        kernel_commit_one = self._commit_one
        if kernel_commit_one is None:
            return self.commit(start_ts, [(key, value)], [(key, kind), (share_key, _KEYSHARE)])
        try:
            r = kernel_commit_one(start_ts, key, value, kind, share_key)
        except _ApplyFailed as e:
            raise self._apply_failed(e) from e
        if type(r) is int and _adj._warned_unsynchronized:
            return r
        return self._outcome(r, [(key, kind), (share_key, _KEYSHARE)])

    def _outcome(self, r: int | tuple, claims: Sequence[Claim]) -> int:
        """The commit ts of a kernel commit, or the error of an adjudicator result tuple."""
        if not _adj._warned_unsynchronized:
            _adj._note_clock(self._core)
        if type(r) is int:
            return r
        adjudicator_result(0, r, claims).raise_if_failed()  # type: ignore[arg-type]
        raise AssertionError("an outcome other than committed raised nothing")

    def _apply_failed(self, e: BaseException | str) -> NodeFailed:
        """Stops the node: a durable commit is not in storage (reopening replays it)."""
        self._failed = NodeFailed(f"{e}; reopen the database to recover it")
        if self._lane is not None:
            self._lane.stop()
        return self._failed

    @property
    def watermark(self) -> int:
        return self.storage.watermark

    # -- maintenance ---------------------------------------------------------------------------
    def checkpoint(self) -> Manifest:
        """Writes storage as of the watermark, then drops journal segments no kept checkpoint
        needs. Returns the new checkpoint's manifest."""
        with self._checkpoint_lock:
            ts, replay_lsn = self._sequencer.replay_point()
            self.storage.advance_watermark(ts)
            target = self.datadir.checkpoint_dir(ts)
            existing = [m for m in self.datadir.manifests() if m.ts == ts]
            if existing and existing[0].replay_lsn <= replay_lsn:
                return existing[0]
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            shards = []
            for i, lower in enumerate(self.storage.lower_bounds()):
                name = f"shard-{i}.ckpt"
                self.storage.checkpoint_shard(i, str(target / name), ts)
                shards.append(ShardFile(lower, name))
            fsync_dir(target)
            manifest = Manifest(ts, replay_lsn, tuple(shards), target)
            write_durably(target / "manifest.json", manifest.to_json())
            kept = self.datadir.manifests()[: self.options.checkpoints_kept]
            self.datadir.remove_checkpoints(kept)
            oldest_needed = min(m.replay_lsn for m in kept)
            if oldest_needed - 1 >= self.journal.first_lsn:
                self.journal.drop_through(min(oldest_needed - 1, self.journal.durable_lsn))
            log.info("checkpoint at ts %d (replay from lsn %d)", ts, replay_lsn)
            return manifest

    def gc(self, horizon: int) -> None:
        """Drops versions no snapshot at or after `horizon` can see."""
        self.storage.gc(min(horizon, self.storage.watermark))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._lane is not None:
            self._lane.stop()
        self.journal.close()
        if self._temporary:
            shutil.rmtree(self.datadir.root, ignore_errors=True)

    def __enter__(self) -> Node:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["Claim", "Kind", "Node", "NodeClosed", "NodeFailed", "NodeOptions", "OpenReport"]
