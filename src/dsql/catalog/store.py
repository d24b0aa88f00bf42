"""The catalog in the store: one system key, versioned like data, cached per version.

    catalog key   := uint32be(0) "catalog"         value := Catalog JSON (objects.py)

Every DDL transaction writes the catalog key (with version + 1) and claims it FULL; every
transaction that writes data claims it KEYSHARE. FULL conflicts with KEYSHARE and with FULL, so
(rule) a data-writing transaction whose snapshot's catalog was replaced by a DDL that committed
after it began fails at COMMIT, and of two concurrent DDL transactions the second to commit
fails; both are reported as 40001 OC001. KEYSHARE claims do not conflict with each other, so
DML transactions never conflict through the catalog key.

Reads: `CatalogCache.at(ts)` gives the catalog a snapshot at ts sees. The newest catalog is
kept in memory with the commit ts that installed it; a snapshot at or above that ts with no
DDL commit in flight uses it without a storage read (this process is the data directory's only
writer), others read the key at ts and decode (cached by version).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from dsql.catalog.objects import Catalog

CATALOG_KEY = b"\x00\x00\x00\x00catalog"


class CatalogCache:
    """Thread-safe: a lock guards the newest catalog and the in-flight DDL count."""

    def __init__(self, read: Callable[[bytes, int], bytes | None], ts: int) -> None:
        self._read = read
        self._lock = threading.Lock()
        self._by_version: dict[int, Catalog] = {}
        self._in_flight = 0
        self._listeners: list[Callable[[], None]] = []
        self.latest = self._load(ts)
        self.latest_ts = ts

    def _load(self, ts: int) -> Catalog:
        raw = self._read(CATALOG_KEY, ts)
        if raw is None:
            return self._by_version.setdefault(0, Catalog())
        version = int.from_bytes(raw[:8], "big")
        cat = self._by_version.get(version)
        if cat is None:
            cat = Catalog.from_bytes(raw[8:])
            assert cat.version == version
            self._by_version[version] = cat
        return cat

    def at(self, ts: int) -> Catalog:
        latest = self.latest
        if ts >= self.latest_ts and self._in_flight == 0:
            return latest
        return self._load(ts)

    @staticmethod
    def encode(cat: Catalog) -> bytes:
        return cat.version.to_bytes(8, "big") + cat.to_bytes()

    @property
    def ddl_in_flight(self) -> bool:
        return self._in_flight > 0

    def on_ddl(self, fn: Callable[[], None]) -> None:
        """Calls fn at the start of every DDL commit, after it counts as in flight, and again
        when it ended (the server's fast path forgets its plans, and its transaction lane knows
        that the catalog did not change while its epoch did not: dsql.sql.fastplan)."""
        with self._lock:
            self._listeners.append(fn)

    def ddl_started(self) -> None:
        with self._lock:
            self._in_flight += 1
            listeners = list(self._listeners)
        for fn in listeners:
            fn()

    def ddl_finished(self, cat: Catalog | None, commit_ts: int | None) -> None:
        """After a DDL commit (cat, commit_ts) or its failure (None, None)."""
        with self._lock:
            assert self._in_flight > 0
            self._in_flight -= 1
            if cat is not None and commit_ts is not None and cat.version > self.latest.version:
                self._by_version[cat.version] = cat
                self.latest = cat
                self.latest_ts = commit_ts
            listeners = list(self._listeners)
        for fn in listeners:
            fn()
