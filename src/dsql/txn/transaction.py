"""One transaction of the query processor (QP): reads at τ_start, buffered writes, COMMIT.

    txn = Transaction(db, db.node.begin())
    txn.get(key) / txn.scan(lo, hi)        # storage as of start_ts, merged with own writes
    txn.put(key, value, Kind.FULL)         # buffered; nothing reaches storage before COMMIT
    txn.commit()                           # read-only: local; else node.commit -> 40001 or ts

Thread-safety: a Transaction belongs to one session and is used by one thread at a time.

Invariants:
  1. `writes` holds at most one entry per key: the newest value written (None = delete).
  2. `claims` holds, per key, the strongest Kind claimed (FULL > NONKEY > KEYSHARE).
  3. A transaction with no writes and no claims commits without contacting the adjudicator,
     so read-only transactions never abort.
  4. The counted rows and bytes never exceed the limits (54000 is raised before buffering
     beyond them).
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from dsql.adjudicator import CommitConflict, Kind
from dsql.catalog.objects import Catalog
from dsql.catalog.store import CATALOG_KEY, CatalogCache
from dsql.sql.errors import SchemaConflict
from dsql.txn.interrupt import checked
from dsql.txn.limits import Limits

if TYPE_CHECKING:
    from dsql.engine import Database

MAX_SCAN_BATCH = 1024


class Transaction:
    __slots__ = ("db", "start_ts", "catalog", "writes", "claims", "rows", "bytes", "limits",
                 "started_s", "read_only", "ddl", "dml", "new_catalog", "_sorted", "node",
                 "base_version", "started_wall_ns", "interrupt", "commit_error")

    def __init__(self, db: Database, start_ts: int, limits: Limits, read_only: bool = False,
                 catalog: Catalog | None = None) -> None:
        self.db = db
        self.node = db.node
        self.start_ts = start_ts
        self.catalog = catalog if catalog is not None else db.catalogs.at(start_ts)
        self.base_version = self.catalog.version  # the snapshot's catalog (before own DDL)
        self.writes: dict[bytes, bytes | None] = {}
        self.claims: dict[bytes, Kind] = {}
        self.rows: set[bytes] = set()  # row keys modified (index entries are not counted)
        self.bytes = 0
        self.limits = limits
        self.started_s = time.monotonic()
        self.started_wall_ns = time.time_ns()
        self.read_only = read_only
        self.ddl = False
        self.dml = False
        self.new_catalog: Catalog | None = None
        self._sorted: list[bytes] | None = None
        # the running statement's cancel/timeout check (Session sets it), called per batch
        self.interrupt: Callable[[], None] | None = None
        # set when the commit was already tried and failed (dsql.txn.lane): commit() raises it
        self.commit_error: BaseException | None = None

    # -- reads ----------------------------------------------------------------------------------
    def get(self, key: bytes) -> bytes | None:
        if self.writes:
            w = self.writes
            if key in w:
                return w[key]
        return self.node.get(key, self.start_ts)

    def get_many(self, keys: list[bytes]) -> list[bytes | None]:
        got = self.node.get_many(keys, self.start_ts)
        if self.writes:
            w = self.writes
            got = [w[k] if k in w else v for k, v in zip(keys, got, strict=True)]
        return got

    def scan(self, lo: bytes, hi: bytes, reverse: bool = False) -> Iterator[tuple[bytes, bytes]]:
        """Live (key, value) pairs with lo <= key < hi, storage merged with own writes."""
        stored = self.node.scan_all(lo, hi, self.start_ts, batch=MAX_SCAN_BATCH, reverse=reverse)
        if self.interrupt is not None:
            stored = checked(stored, self.interrupt)
        if not self.writes:
            yield from stored
            return
        if self._sorted is None:
            self._sorted = sorted(self.writes)
        keys = self._sorted
        a, b = bisect.bisect_left(keys, lo), bisect.bisect_left(keys, hi)
        mine = keys[a:b]
        if reverse:
            mine.reverse()
        w = self.writes
        i = 0
        for k, v in stored:
            while i < len(mine) and (mine[i] > k if reverse else mine[i] < k):
                mk = mine[i]
                i += 1
                mv = w[mk]
                if mv is not None:
                    yield mk, mv
            if i < len(mine) and mine[i] == k:
                i += 1
                mv = w[k]
                if mv is not None:
                    yield k, mv
                continue
            yield k, v
        while i < len(mine):
            mk = mine[i]
            i += 1
            mv = w[mk]
            if mv is not None:
                yield mk, mv

    # -- writes ---------------------------------------------------------------------------------
    def claim(self, key: bytes, kind: Kind) -> None:
        old = self.claims.get(key)
        if old is None or kind > old:
            self.claims[key] = kind

    def put(self, key: bytes, value: bytes | None, kind: Kind | None, row: bool = True) -> None:
        """Buffers a write; `kind` None writes without claiming (index entries, whose row key
        carries the claim). `row` counts the key against the modified-rows limit."""
        w = self.writes
        old = w.get(key)
        if key not in w:
            self.bytes += len(key)
            self._sorted = None
        self.bytes += (0 if value is None else len(value)) - (0 if old is None else len(old))
        w[key] = value
        if kind is not None:
            self.claim(key, kind)
        if row and key not in self.rows:
            self.rows.add(key)
            self.limits.check_rows(len(self.rows))
        self.limits.check_bytes(self.bytes)

    def put_many(self, pairs: list[tuple[bytes, bytes | None]], kind: Kind | None,
                 row: bool = True) -> None:
        """put() for a batch (COPY, rebuilds): one pass when the keys are new to the buffer and
        the batch stays within the limits; otherwise key by key (same outcome, same 54000)."""
        w = self.writes
        keys = [k for k, _ in pairs]
        nbytes = sum(map(len, keys)) + sum(len(v) for _, v in pairs if v is not None)
        lim = self.limits
        if (not w.keys().isdisjoint(keys) or len(set(keys)) != len(keys)
                or row and len(self.rows) + len(keys) > lim.max_rows
                or self.bytes + nbytes > lim.max_bytes
                or kind is not None and not self.claims.keys().isdisjoint(keys)):
            for k, v in pairs:
                self.put(k, v, kind, row)
            return
        w.update(pairs)
        self.bytes += nbytes
        self._sorted = None
        if kind is not None:
            self.claims.update(dict.fromkeys(keys, kind))
        if row:
            self.rows.update(keys)
        assert len(self.rows) <= lim.max_rows and self.bytes <= lim.max_bytes

    def check_age(self) -> None:
        self.limits.check_age(time.monotonic() - self.started_s)

    # -- the end --------------------------------------------------------------------------------
    def commit(self, check_age: bool = True) -> int | None:
        """Commits; returns the commit ts, or None for a transaction that wrote nothing.
        `check_age` False: the caller knows the transaction just began (autocommit)."""
        if self.commit_error is not None:
            raise self.commit_error
        if not self.writes and not self.claims and self.new_catalog is None:
            return None
        if check_age:
            self.check_age()
        self.db.capacity.check_commit(len(self.writes), len(self.claims), self.bytes)
        cache: CatalogCache = self.db.catalogs
        if self.new_catalog is not None:
            self.writes[CATALOG_KEY] = CatalogCache.encode(self.new_catalog)
            self.claims[CATALOG_KEY] = Kind.FULL
            cache.ddl_started()
            commit_ts = None
            try:
                commit_ts = self._commit()
            finally:
                cache.ddl_finished(self.new_catalog if commit_ts is not None else None,
                                   commit_ts)
            return commit_ts
        self.claims.setdefault(CATALOG_KEY, Kind.KEYSHARE)
        return self._commit()

    def _commit(self) -> int:
        try:
            ts = self.node.commit(self.start_ts, list(self.writes.items()),
                                  list(self.claims.items()))
            self.db.note_commit(ts)
            return ts
        except CommitConflict:
            if self.db.catalogs.latest.version != self.base_version:
                raise SchemaConflict() from None
            raise
