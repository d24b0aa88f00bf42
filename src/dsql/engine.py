"""A Database: one data directory's node, catalog cache and shared plan cache.

Opened once per data directory per process: `Database.open(path)` twice gives the same object
(refcounted; `close()` closes the node when the last user closes). ":memory:" is a new
throwaway database every time. Sessions (dsql.session.Session) are its clients.

Thread-safety: open/close take a module lock; the node and the catalog cache are thread-safe;
the plan cache is a dict whose entries are immutable (races only recompute a plan).
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from dsql.adjudicator import AdjudicatorConfig
from dsql.catalog.store import CATALOG_KEY, CatalogCache
from dsql.node.node import MEMORY, Node, NodeOptions
from dsql.txn.limits import Limits, NodeCapacity

_open_lock = threading.Lock()
_open: dict[str, Database] = {}
PLAN_CACHE_MAX = 2048
ROWID_HANDOVER_GAP = 1 << 16  # ids a racing thread may still take from the old counter


@dataclass(frozen=True)
class DatabaseOptions:
    durability: str = "fdatasync"  # or "unsafe-no-sync" (tests, benchmarks)
    limits: Limits = field(default_factory=Limits)


def node_options(opts: DatabaseOptions, durability: str | None = None) -> NodeOptions:
    """The node sized for the transaction limits (adjudicator keys, journal record bytes)."""
    cap = NodeCapacity.for_limits(opts.limits)
    adj = AdjudicatorConfig()
    if cap.txn_keys_max > adj.max_txn_keys:
        # (max_keys stays: a larger commit only evicts older entries, raising the window)
        adj = replace(adj, max_txn_keys=cap.txn_keys_max)
    return NodeOptions(durability=durability or opts.durability, adjudicator=adj,
                       journal_record_bytes_max=cap.record_bytes_max)


class Database:
    def __init__(self, path: str, node: Node, options: DatabaseOptions) -> None:
        self.path = path
        self.node = node
        self.options = options
        self.limits = options.limits
        self.capacity = NodeCapacity(node.options.adjudicator.max_txn_keys,
                                     node.options.journal_record_bytes_max)
        ts = node.begin()
        self.catalogs = CatalogCache(node.get, ts)
        # the newest acknowledged commit: a snapshot at it sees every acknowledged commit, and
        # costs no call into the node (read-only autocommit statements read at it)
        self._last_commit_ts = ts
        self._lane: Any = None  # the server's transaction lane (fast_path()), which commits too
        self._commit_lock = threading.Lock()
        # hidden row ids: unique within this process, and above any earlier process's
        self.next_rowid: Callable[[], int] = itertools.count(time.time_ns() >> 4).__next__
        self.plans: dict[Any, Any] = {}
        self._fast: Any = None
        self._refs = 1

    @classmethod
    def open(cls, path: str | os.PathLike[str], options: DatabaseOptions | None = None
             ) -> Database:
        opts = options or DatabaseOptions()
        p = str(path)
        if p == MEMORY:
            return cls(p, Node.open(MEMORY, node_options(opts, "unsafe-no-sync")), opts)
        key = os.path.realpath(p)
        with _open_lock:
            db = _open.get(key)
            if db is not None:
                db._refs += 1
                return db
            node = Node.open(p, node_options(opts))
            db = cls(key, node, opts)
            _open[key] = db
            return db

    @property
    def last_commit_ts(self) -> int:
        """The newest acknowledged commit: Python's and the server's transaction lane's."""
        ts = self._last_commit_ts
        lane = self._lane
        if lane is not None:
            other = lane.last_commit
            if other > ts:
                return int(other)
        return ts

    def note_commit(self, commit_ts: int) -> None:
        lock = self._commit_lock  # (acquire/release: half the cost of `with` on this hot path)
        lock.acquire()
        try:
            if commit_ts > self._last_commit_ts:
                self._last_commit_ts = commit_ts
        finally:
            lock.release()

    def fast_path(self) -> Any:
        """The server's C++ fast path over this database's storage (one per database; its
        catalog epoch moves at every DDL commit). See dsql.sql.fastplan."""
        with self._commit_lock:
            if self._fast is None:
                from dsql._core._kernels import wire
                fast = wire.FastPath(self.node.storage._impl)
                self.catalogs.on_ddl(fast.bump_epoch)
                # Hidden row ids move to the lane's counter, past a gap that covers any id a
                # racing thread still takes from the old one.
                lane = self.node.lane_kernels(self.next_rowid() + ROWID_HANDOVER_GAP,
                                              CATALOG_KEY)
                if lane is not None:
                    fast.attach_txn(lane)
                    self.next_rowid = lane.next_rowid
                    self._lane = lane
                self._fast = fast
            return self._fast

    def cache_plan(self, key: Any, plan: Any) -> None:
        if len(self.plans) >= PLAN_CACHE_MAX:
            self.plans.clear()
        self.plans[key] = plan

    @property
    def closed(self) -> bool:
        return self._refs <= 0

    def close(self) -> None:
        with _open_lock:
            if self._refs <= 0:
                return
            self._refs -= 1
            if self._refs > 0:
                return
            if _open.get(self.path) is self:
                del _open[self.path]
        self.node.close()
